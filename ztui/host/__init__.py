"""The host side: inventory, backing chains, usage, and the edges that gather facts (udev, files, libvirt)."""
