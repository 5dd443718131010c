"""The frame clock (app/frame_clock.py) keeps the chart's rate when ticks come late: driven by a
fake time, so nothing here waits."""

import random

import pytest

from tui_trainer.app.frame_clock import FrameClock


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def frames_in(seconds: float, lateness, dropped: float = 0.0, seed: int = 0) -> tuple[int, int]:
    """Frames drawn and ticks asked in `seconds`, each tick `lateness(rng)` after its time (the
    interval timer keeps its schedule: a late tick does not delay the next), a share `dropped`
    of them never coming (the timer drops ticks later than its interval)."""
    time = FakeTime()
    start = time.now
    clock = FrameClock(1 / 11, now=time)
    rng = random.Random(seed)
    frames = ticks = 0
    for k in range(1, int(seconds / clock.tick) + 1):
        if rng.random() < dropped:
            continue
        time.now = max(time.now, start + k * clock.tick + lateness(rng))
        frames += clock.due()
        ticks += 1
    return frames, ticks


def test_on_time_ticks_draw_eleven_frames_a_second():
    frames, ticks = frames_in(10, lambda rng: 0.0)
    assert 109 <= frames <= 111 and ticks >= 2 * frames - 2


@pytest.mark.parametrize("seed", range(5))
def test_late_and_dropped_ticks_keep_the_rate(seed):
    # a busy machine: ticks up to a tick late, and a third of them dropped
    frames, _ = frames_in(10, lambda rng: rng.uniform(0, 1 / 22), dropped=1 / 3, seed=seed)
    assert frames >= 105  # a 1/11 s interval timer would lose a third of them


def test_a_long_stall_makes_up_a_few_frames_not_all():
    time = FakeTime()
    clock = FrameClock(0.1, now=time)
    assert clock.due()
    time.now += 5.0  # the app was stopped for five seconds: 50 frames missed
    drawn = []
    for _ in range(20):
        drawn.append(clock.due())
        time.now += clock.tick
    assert sum(drawn) <= 10 + 3 and drawn[-6:] == [True, False] * 3  # then back to a frame every other tick
