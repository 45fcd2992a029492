"""The marker a model writes when the customer needs a person.

The marker must never reach the customer, even when the model's stream cuts
it into pieces ("[[HAND", "OFF]]"), so text that could be its beginning is
held back until the next piece shows whether it is.
"""

from __future__ import annotations

HANDOFF_MARKER = "[[HANDOFF]]"


class HandoffMarkerFilter:
    def __init__(self) -> None:
        self.needs_human = False
        self._held = ""

    def feed(self, text: str) -> str:
        """Take the next piece; return the text that is safe to show now."""
        buffer = self._held + text
        shown: list[str] = []
        while (start := buffer.find(HANDOFF_MARKER)) >= 0:
            self.needs_human = True
            shown.append(buffer[:start])
            buffer = buffer[start + len(HANDOFF_MARKER) :]

        held = _marker_prefix_length(buffer)
        shown.append(buffer[: len(buffer) - held])
        self._held = buffer[len(buffer) - held :]
        return "".join(shown)

    def flush(self) -> str:
        """The stream ended: a held-back partial marker was ordinary text."""
        held, self._held = self._held, ""
        return held


def _marker_prefix_length(text: str) -> int:
    """Length of the longest end of `text` that begins the marker."""
    for length in range(min(len(text), len(HANDOFF_MARKER) - 1), 0, -1):
        if HANDOFF_MARKER.startswith(text[-length:]):
            return length
    return 0
