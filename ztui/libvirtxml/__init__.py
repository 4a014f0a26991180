"""libvirt XML as a pure object model: domain, device and node-device XML (no libvirt, no textual)."""
