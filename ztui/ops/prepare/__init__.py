"""Preparing host devices for pass-through (vfio-ccw, vfio-ap, PCI) as an action with proof and undo.

`plan` reads the host and writes the plan (or refuses), `run` carries it out step by step with proof and
rollback, `nodedevs` is libvirt's node-device API as the runner uses it; `ztui prepare|unprepare` and the
host devices view's `p` key are the callers.
"""
