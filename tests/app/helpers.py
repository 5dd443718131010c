"""Waiting in app tests: for a condition, never for a fixed time, so a busy machine only makes a
test slower, not wrong."""

from __future__ import annotations

import time


async def wait_for(pilot, condition, timeout: float = 30.0, what: str = "condition") -> None:
    """Let the app work until `condition()` holds; each pause lets it handle what is queued and
    returns once it is idle."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        await pilot.pause()


async def panels(pilot) -> None:
    """The settings, chart and inspector mount just after the first frame."""
    await wait_for(pilot, lambda: pilot.app.screen.panels_ready, what="the panels")


async def wait_for_state(pilot, app, *states, timeout: float = 30.0) -> None:
    await wait_for(pilot, lambda: app.controller.view.state in states, timeout, f"state {states} (now {app.controller.view.state})")


async def drawn(pilot) -> None:
    """Everything the trainer sent so far is on screen (the screen redraws 11 times a second),
    and what was queued meanwhile (a notification, say) is handled."""
    await pilot.pause()
    await wait_for(pilot, lambda: pilot.app.screen.up_to_date, what="the screen to draw what arrived")


async def engine_ready(pilot) -> None:
    """The trainer process has loaded torch and said which device it uses."""
    await wait_for(pilot, lambda: not pilot.app.screen.status_bar.device.startswith("starting"), what="the engine")


def notified(app, text: str) -> int:
    """How many notifications so far have `text` in their title or message (conftest keeps them
    all, even those whose toast has timed out)."""
    return sum(text in title or text in message for title, message in getattr(app, "notified", []))
