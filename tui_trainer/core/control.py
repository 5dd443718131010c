"""Steering a run from another thread: pause, resume, single steps, stop, a new learning rate."""

from __future__ import annotations

import math
import threading


class RunControl:
    """Thread-safe requests from a person to a running Trainer.

    The trainer asks `permit()` how many steps it may take before each chunk of work, so a request
    takes effect within one chunk (tens of milliseconds).
    """

    def __init__(self, *, paused: bool = False) -> None:
        self._changed = threading.Condition()
        self._paused = paused
        self._credit = 0  # single steps granted while paused
        self._stopped = False
        self._lr: float | None = None
        self._requests: list[object] = []  # for whoever runs the trainer, served between chunks
        self.ledger = False  # write out the last step of every chunk (the app's Learn view)

    # --- the person's side ---

    def pause(self) -> None:
        with self._changed:
            self._paused = True
            self._changed.notify_all()

    def resume(self) -> None:
        with self._changed:
            self._paused, self._credit = False, 0
            self._changed.notify_all()

    def step(self, count: int = 1) -> None:
        """Pause (if running) and take `count` more steps."""
        with self._changed:
            self._paused = True
            self._credit += count
            self._changed.notify_all()

    def stop(self) -> None:
        with self._changed:
            self._stopped = True
            self._changed.notify_all()

    def set_lr(self, lr: float) -> None:
        if not (math.isfinite(lr) and lr > 0):
            raise ValueError(f"learning rate must be a finite number greater than 0, got {lr}")
        with self._changed:
            self._lr = lr
            self._changed.notify_all()

    def request(self, item: object) -> None:
        """Hand something to whoever drives the trainer (a save, say): a paused run wakes for it,
        and its driver finds it in `take_requests` between chunks."""
        with self._changed:
            self._requests.append(item)
            self._changed.notify_all()

    # --- the trainer's side ---

    def take_requests(self) -> list[object]:
        with self._changed:
            items, self._requests = self._requests, []
            return items

    @property
    def stopped(self) -> bool:
        return self._stopped

    @property
    def paused(self) -> bool:
        return self._paused

    def permit(self, wanted: int) -> int:
        """How many of `wanted` steps may run now: 0 when stopped or paused without credit."""
        with self._changed:
            if self._stopped:
                return 0
            if not self._paused:
                return wanted
            granted = min(wanted, self._credit)
            self._credit -= granted
            return granted

    def wait(self, timeout: float | None = None) -> None:
        """Block while paused with no steps granted and not stopped."""
        with self._changed:
            self._changed.wait_for(
                lambda: self._stopped or not self._paused or self._credit > 0 or bool(self._requests), timeout
            )

    def take_lr(self) -> float | None:
        """A newly requested learning rate, once."""
        with self._changed:
            lr, self._lr = self._lr, None
            return lr
