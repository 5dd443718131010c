"""A seeded random-key monkey test of the app through Pilot (issue 15's fuzz suite, its app part).

Random keys (the app's own, Tab and Escape, which move focus in and out of the fields, where the
letters are typed as text), random resizes between 60x20 and 160x50 and random focus changes, with
the real trainer process behind the app. After each seed: no exception, the app still answers a
known key, and no trainer process is left once it quits.

Bounded for CI: 2 seeds × 120 keys. A long local run: TUI_TRAINER_MONKEY_KEYS=3000 (keys per seed)
and TUI_TRAINER_MONKEY_SEEDS=10.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import time
from pathlib import Path

import pytest

from tests.app.helpers import panels, wait_for
from tui_trainer.app.app import TrainerApp
from tui_trainer.core.config import RunConfig

KEYS_PER_SEED = int(os.environ.get("TUI_TRAINER_MONKEY_KEYS", "120"))
SEEDS = int(os.environ.get("TUI_TRAINER_MONKEY_SEEDS", "2"))
KEYS = ["s", "n", "space", "r", "v", "o", "x", "plus", "minus", "a", "w", "l", "m", "t", "question_mark", "escape", "tab", "shift+tab"]
pressed: dict[int, int] = {}

pytestmark = pytest.mark.timeout(120 + KEYS_PER_SEED)


def trainer_processes() -> list[int]:
    """This process's live children that run the trainer (multiprocessing's spawned children;
    the resource tracker, shared and long-lived, is not one)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (entry / "cmdline").read_bytes()
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile
        if ppid == os.getpid() and b"spawn_main" in cmdline and b"resource_tracker" not in cmdline:
            found.append(int(entry.name))
    return found


@pytest.mark.parametrize("seed", range(SEEDS))
async def test_random_keys_resizes_and_focus_changes_never_break_the_app(seed):
    chance = random.Random(seed)
    app = TrainerApp(RunConfig.model_validate({"optimizer": {"algorithm": chance.choice(["sgd", "bgd", "momentum", "adam"])}}))
    async with app.run_test(size=(120, 40)) as pilot:
        await panels(pilot)
        for count in range(KEYS_PER_SEED):
            roll = chance.random()
            if roll < 0.05:
                await pilot.resize_terminal(chance.randint(60, 160), chance.randint(20, 50))
            elif roll < 0.10:
                focusable = [w for w in app.screen.focus_chain if w.is_attached]
                app.screen.set_focus(chance.choice(focusable) if focusable and chance.random() < 0.7 else None)
            else:
                await pilot.press(chance.choice(KEYS))
            pressed[seed] = count + 1
            if count % 10 == 0:
                await pilot.pause()
        # it still answers: back on the main screen with nothing focused, `v` moves to the next view
        await pilot.pause()
        while len(app.screen_stack) > 1:
            app.pop_screen()
            await pilot.pause()
        app.screen.set_focus(None)
        await pilot.pause()
        before = app.screen.views.active
        await pilot.press("v")
        await wait_for(pilot, lambda: app.screen.views.active != before, what="the app to answer v")
        assert app.is_running
        await pilot.press("q")
        await wait_for(pilot, lambda: not app.is_running, what="q to quit")
    assert app.return_code in (0, None)
    deadline = time.monotonic() + 30
    while trainer_processes() or multiprocessing.active_children():
        assert time.monotonic() < deadline, f"trainer processes left after quit: {trainer_processes()}"
        time.sleep(0.1)
    print(f"seed {seed}: {pressed[seed]} keys, resizes and focus changes")
