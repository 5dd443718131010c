"""The registry of algorithms: every update rule's module, in the seed's order (each fixes something
in the one before it), then the two users asked for next. Adding an algorithm is a new module here
and one name in `_MODULES`; the CLI, the form, the inspector, the ledger and the tests follow.
"""

from __future__ import annotations

from . import adagrad, adam, adamw, momentum, nesterov, plain, rmsprop
from .base import HYPERPARAMETERS, AlgorithmSpec, FlatState, Hyperparameter, StateSlot, UpdateRule

_MODULES = (plain, momentum, nesterov, adagrad, rmsprop, adam, adamw)

ALGORITHMS: dict[str, AlgorithmSpec] = {spec.name: spec for module in _MODULES for spec in module.ALGORITHMS}

# what the inspector calls each state tensor, whichever rule keeps it
STATE_LABELS: dict[str, str] = {slot.name: slot.label for spec in ALGORITHMS.values() for slot in spec.rule.state}

__all__ = ["ALGORITHMS", "HYPERPARAMETERS", "STATE_LABELS", "AlgorithmSpec", "FlatState", "Hyperparameter", "StateSlot", "UpdateRule"]
