"""Small helpers shared by the core tests."""

import math
from dataclasses import fields, is_dataclass

from tui_trainer.core.config import RunConfig


def config(algorithm="bgd", *, data=None, **optimizer) -> RunConfig:
    """A run on small synthetic data unless told otherwise."""
    settings = {"optimizer": {"algorithm": algorithm, **optimizer}}
    settings["data"] = data if data is not None else {"samples": 400, "dims": 3, "noise": 0.3}
    return RunConfig.model_validate(settings)


def floats_in(value):
    """Every float inside an event, however deeply nested."""
    if isinstance(value, float):
        yield value
    elif is_dataclass(value):
        for field in fields(value):
            yield from floats_in(getattr(value, field.name))
    elif isinstance(value, dict):
        for item in value.values():
            yield from floats_in(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from floats_in(item)


def all_finite(events) -> bool:
    return all(math.isfinite(x) for event in events for x in floats_in(event))
