"""Messages the app handles, kept apart from the widgets that post them so the app can import
them before its first frame without importing those widgets."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from ..engine.protocol import Batch


@dataclass
class EngineBatch(Message):
    """Events from the trainer process."""

    batch: Batch


@dataclass
class EngineGone(Message):
    """The trainer process died; `reason` says how."""

    reason: str


@dataclass
class LearningRateSubmitted(Message):
    """Enter was pressed on a valid learning rate."""

    lr: float


@dataclass
class RaceSubmitted(Message):
    """Enter was pressed on the race's entries."""
