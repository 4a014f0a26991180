"""The UI's one door to hosts: a typed interface (`HostBackend`) and its libvirt implementation.

The TUI lists, reads, acts and subscribes through `HostBackend` and receives typed records and updates; it
never holds a libvirt connection. `LibvirtBackend` keeps one live session per host (`ztui.libvirt.session`)
and runs the actions of `ztui.ops` on their connections. Every method that talks to a host blocks: the UI
calls it from a worker thread and posts what it returns to itself as a message. The capability modules
(`attach`, `migrate`, `placement`, `prepare`, `lifecycle`, `journal`, `iostats`) hold the actions and the
value types the UI plans with, so that a screen imports exactly the part of the backend it shows.
"""
