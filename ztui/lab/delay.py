"""A host far away, on loopback: a TCP proxy that delays each direction by half a round trip.

Administrators reach Z hosts in another data centre; what costs time there is round trips, not bandwidth.
This kernel has no netem, so the lab puts a lab host's `qemu+tcp` port behind this proxy instead: every
chunk read from one side is written to the other `rtt/2` later, in order, without holding up the chunks
behind it (a pipe with latency, not a slow pipe).

    python -m ztui.lab.delay --listen 0 --to 127.0.0.1:PORT --rtt-ms 20     # prints the port it listens on

`start_delay_proxy` runs the same in a thread of the calling process (the benchmark's way).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import threading
import time
from dataclasses import dataclass

CHUNK = 256 * 1024


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def deliver() -> None:
        while True:
            due, data = await queue.get()
            if not data:
                break
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(data)
            await writer.drain()
        with contextlib.suppress(OSError):
            writer.write_eof()

    sender = asyncio.create_task(deliver())
    try:
        while True:
            data = await reader.read(CHUNK)
            queue.put_nowait((time.monotonic() + delay, data))
            if not data:
                break
        await sender
    except (ConnectionError, OSError):
        sender.cancel()
    finally:
        writer.close()


async def _serve(listen_port: int, host: str, port: int, rtt: float, ready: threading.Event | None,
                 bound: list[int]) -> None:
    async def handle(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            server_r, server_w = await asyncio.open_connection(host, port)
        except OSError:
            client_w.close()
            return
        await asyncio.gather(_pipe(client_r, server_w, rtt / 2), _pipe(server_r, client_w, rtt / 2),
                             return_exceptions=True)

    server = await asyncio.start_server(handle, "127.0.0.1", listen_port)
    bound.append(int(server.sockets[0].getsockname()[1]))
    if ready is not None:
        ready.set()
    async with server:
        await server.serve_forever()


@dataclass(frozen=True)
class DelayProxy:
    port: int
    rtt_ms: float

    def uri(self, path: str = "/system") -> str:
        return f"qemu+tcp://127.0.0.1:{self.port}{path}"


def start_delay_proxy(target_port: int, rtt_ms: float, *, target_host: str = "127.0.0.1") -> DelayProxy:
    """A proxy to `target_host:target_port` with `rtt_ms` round trip, served by a daemon thread."""
    ready = threading.Event()
    bound: list[int] = []
    thread = threading.Thread(target=lambda: asyncio.run(_serve(0, target_host, target_port, rtt_ms / 1000,
                                                                ready, bound)),
                              name="ztui-delay-proxy", daemon=True)
    thread.start()
    if not ready.wait(5) or not bound:
        raise RuntimeError("the delay proxy did not start")
    return DelayProxy(bound[0], rtt_ms)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ztui.lab.delay", description=__doc__.splitlines()[0])
    parser.add_argument("--listen", type=int, default=0, help="port on 127.0.0.1 (0: any free one)")
    parser.add_argument("--to", required=True, metavar="HOST:PORT")
    parser.add_argument("--rtt-ms", type=float, default=20.0)
    args = parser.parse_args(argv)
    host, _, port = args.to.rpartition(":")
    bound: list[int] = []

    async def run() -> None:
        task = asyncio.create_task(_serve(args.listen, host or "127.0.0.1", int(port), args.rtt_ms / 1000, None,
                                          bound))
        while not bound:
            await asyncio.sleep(0.01)
        print(bound[0], flush=True)
        await task

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
