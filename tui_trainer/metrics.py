"""JSON Lines metrics: one object per logged step, written as the run goes."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .core.events import EpochsEnded, Event, RunFinished, RunStarted, StepLosses

if TYPE_CHECKING:
    from .core.files import OutputFile


class MetricsWriter:
    """Writes `{"step", "epoch", "loss", "lr", "elapsed"}` for every `log_every`-th step.

    The last step of each epoch is always written, with the epoch's `train_loss` and `val_loss`
    added (and a classifier's `accuracy` and `val_accuracy`), so logging sparsely never loses the
    per-epoch curve. Extra `fields` (e.g. a race entry's name) go on every line. Losses reach us
    already checked finite, so no line holds NaN.
    """

    def __init__(self, handle: OutputFile, log_every: int = 1, fields: dict[str, str] | None = None, owns_handle: bool = True) -> None:
        self.handle = handle
        self.owns_handle = owns_handle  # a race's entries share one file: its owner closes it
        self.log_every = log_every
        self.prefix = "".join(f"{json.dumps(key)}: {json.dumps(value)}, " for key, value in (fields or {}).items())
        self.steps_per_epoch = 1
        self.pending: list[tuple[int, str]] = []  # lines of the last steps, until their epochs are known

    def __call__(self, event: Event) -> None:
        if isinstance(event, EpochsEnded):
            self._flush(event)
        elif isinstance(event, StepLosses):
            self._flush(None)  # the last steps had no epoch end
            self._queue(event)
        elif isinstance(event, RunStarted):
            self.steps_per_epoch = event.steps_per_epoch
        elif isinstance(event, RunFinished):
            self.close()

    def _queue(self, event: StepLosses) -> None:
        every, per_epoch, prefix = self.log_every, self.steps_per_epoch, self.prefix
        for offset, loss in enumerate(event.losses):
            step = event.first_step + offset
            if step % every and step % per_epoch:
                continue
            epoch = (step - 1) // per_epoch + 1
            line = (
                f'{{{prefix}"step": {step}, "epoch": {epoch}, "loss": {loss!r}, '
                f'"lr": {event.lrs[offset]!r}, "elapsed": {event.elapsed[offset]:.6f}'
            )
            self.pending.append((step, line))

    def _flush(self, epochs: EpochsEnded | None) -> None:
        if not self.pending:
            return
        extra: dict[int, str] = {}
        if epochs is not None:
            vals: Sequence[float | None] = epochs.val_losses or [None] * len(epochs.steps)
            for step, train, val in zip(epochs.steps, epochs.train_losses, vals, strict=True):
                extra[step] = f', "train_loss": {train!r}, "val_loss": {"null" if val is None else repr(val)}'
            if epochs.accuracies is not None:  # a classifier's
                val_accuracies: Sequence[float | None] = epochs.val_accuracies or [None] * len(epochs.steps)
                for step, accuracy, val in zip(epochs.steps, epochs.accuracies, val_accuracies, strict=True):
                    extra[step] += f', "accuracy": {accuracy!r}, "val_accuracy": {"null" if val is None else repr(val)}'
        self.handle.write("".join(f"{line}{extra.get(step, '')}}}\n" for step, line in self.pending))
        self.pending = []

    def flush(self) -> None:
        """Hand the lines waiting for an epoch's end to the file: called between chunks, when every
        epoch that ended in the chunk has been told, so no line waits for anything more."""
        self._flush(None)

    def close(self) -> None:
        if self.handle.closed:
            return
        self._flush(None)
        if self.owns_handle:
            self.handle.close()
