"""The lab's latency proxy: each round trip through it takes the configured time, bytes arrive in order."""

from __future__ import annotations

import socket
import threading
import time

from ztui.lab.delay import start_delay_proxy


def _echo_server() -> int:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()

    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            while data := conn.recv(65536):
                conn.sendall(data)

    threading.Thread(target=serve, daemon=True).start()
    return int(server.getsockname()[1])


def test_round_trips_take_the_rtt_and_keep_order() -> None:
    proxy = start_delay_proxy(_echo_server(), 40)
    assert proxy.uri() == f"qemu+tcp://127.0.0.1:{proxy.port}/system"
    with socket.create_connection(("127.0.0.1", proxy.port)) as client:
        times = []
        for i in range(3):
            started = time.monotonic()
            client.sendall(f"ping{i}".encode())
            assert client.recv(100) == f"ping{i}".encode()
            times.append(time.monotonic() - started)
        assert all(0.04 <= t < 0.4 for t in times), times
        # a burst is delayed as a whole, not chunk after chunk
        started = time.monotonic()
        for i in range(20):
            client.sendall(b"%02d" % i)
        got = b""
        while len(got) < 40:
            got += client.recv(100)
        assert got == b"".join(b"%02d" % i for i in range(20))
        assert time.monotonic() - started < 0.4
