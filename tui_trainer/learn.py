"""`tui-trainer learn`: one of the autograd lab's lessons, run headless on the run's own model and
first batch (the settings flags choose them, as for `train`), printed as text or JSON."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING

from .core.lab_text import lesson_lines
from .core.lesson_texts import LESSON_NAMES, TITLES
from .exits import EXIT_INTERRUPTED, EXIT_OK

if TYPE_CHECKING:
    from .core.config import RunConfig
    from .core.trainer import Trainer


def list_lessons(lang: str, as_json: bool) -> int:
    """`learn` without --lesson: each lesson's name and title."""
    if as_json:
        print(json.dumps({"lessons": [{"name": name, "title": TITLES[lang][name]} for name in LESSON_NAMES]}, ensure_ascii=False))
    else:
        width = max(map(len, LESSON_NAMES))
        print("\n".join(f"{name:<{width}}  {TITLES[lang][name]}" for name in LESSON_NAMES))
        print("\nrun one with: tui-trainer learn --lesson NAME")
    return EXIT_OK


def learn(config: RunConfig, lesson: str, lang: str, as_json: bool) -> int:
    from .headless import build  # loads the data and imports torch; a bad input exits 2

    trainer = build(lambda: _trainer(config))
    if trainer is None:
        return EXIT_INTERRUPTED
    from .core.autograd_lab import run_lesson

    result = run_lesson(lesson, trainer.lab_inputs())
    if as_json:
        print(json.dumps({**asdict(result), "title": TITLES[lang][lesson]}, ensure_ascii=False))
    else:
        print("\n".join(lesson_lines(result, lang)))
    return EXIT_OK


def _trainer(config: RunConfig) -> Trainer:
    from .core.trainer import Trainer

    return Trainer(config)
