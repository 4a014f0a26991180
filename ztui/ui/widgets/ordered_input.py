"""An `Input` whose own keys act in the order they were typed.

Textual's `Input` inserts a printable key in its own message queue, but its other keys (backspace, delete,
the arrows, home, end) find their binding only after the key has bubbled up to the screen and the app,
through their queues. Keys that arrive together — pasted, or typed while the screen handles the previous
change — are then applied out of order: `lnx02 vdb`, four backspaces and `mapper` became `lnx02 vdbma`.
Here the input's own bindings run at once, in its queue, in the order the keys came.
"""

from __future__ import annotations

from textual import events
from textual.widgets import Input


class OrderedInput(Input):
    async def _on_key(self, event: events.Key) -> None:
        if not event.is_printable:
            for binding in self._bindings.key_to_bindings.get(event.key, ()):
                if not binding.priority and await self.app.run_action(binding.action, self):
                    event.stop()
                    event.prevent_default()
                    return
        await super()._on_key(event)
