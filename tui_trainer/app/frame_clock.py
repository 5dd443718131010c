"""When the main screen draws its next frame.

Textual's interval timer drops a tick that comes later than its whole interval, so on a busy
machine a 12 Hz timer drew the chart ~11 times a second, and a slower one would fall under 10.
This clock is asked at every tick of a timer twice as fast and keeps the frames' own schedule: a
late frame is drawn at the next tick, and the one after it is still due on time.

Imports no Textual (tests/app/test_frame_clock.py drives it with a fake time).
"""

from __future__ import annotations

import time
from collections.abc import Callable


class FrameClock:
    def __init__(self, period: float, now: Callable[[], float] = time.monotonic) -> None:
        self.period = period
        self._now = now
        self._due = now()

    @property
    def tick(self) -> float:
        """How often to ask: twice a frame, so a frame is at most half a period late."""
        return self.period / 2

    def due(self) -> bool:
        """Whether to draw a frame now. Frames up to a period late are made up, not a long stall's."""
        now = self._now()
        if now < self._due:
            return False
        self._due = max(self._due + self.period, now - self.period)
        return True
