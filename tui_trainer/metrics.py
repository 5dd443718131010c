"""JSON Lines metrics: one object per logged step, written as the run goes."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from .core.events import EpochEnded, Event, RunFinished, RunStarted, StepLosses


class MetricsWriter:
    """Writes `{"step", "epoch", "loss", "lr", "elapsed"}` for every `log_every`-th step.

    The last step of each epoch is always written, with the epoch's `train_loss` and `val_loss`
    added, so logging sparsely never loses the per-epoch curve. Extra `fields` (e.g. a race entry's
    name) go on every line. Losses reach us already checked finite, so no line holds NaN.
    """

    def __init__(self, handle: TextIO, log_every: int = 1, fields: dict[str, str] | None = None) -> None:
        self.handle = handle
        self.log_every = log_every
        self.prefix = "".join(f'"{key}": "{value}", ' for key, value in (fields or {}).items())
        self.steps_per_epoch = 1
        self.epoch_end_line: str | None = None  # held until its EpochEnded arrives

    @classmethod
    def open(cls, path: str | Path, log_every: int = 1, fields: dict[str, str] | None = None) -> MetricsWriter:
        return cls(Path(path).open("w", encoding="utf-8", buffering=1 << 16), log_every, fields)

    def __call__(self, event: Event) -> None:
        if isinstance(event, StepLosses):
            self._steps(event)
        elif isinstance(event, EpochEnded) and self.epoch_end_line is not None:
            val = "null" if event.val_loss is None else repr(event.val_loss)
            self.handle.write(f'{self.epoch_end_line}, "train_loss": {event.train_loss!r}, "val_loss": {val}}}\n')
            self.epoch_end_line = None
        elif isinstance(event, RunStarted):
            self.steps_per_epoch = event.steps_per_epoch
        elif isinstance(event, RunFinished):
            self.close()

    def _steps(self, event: StepLosses) -> None:
        write, every, per_epoch = self.handle.write, self.log_every, self.steps_per_epoch
        for offset, loss in enumerate(event.losses):
            step = event.first_step + offset
            epoch_end = step % per_epoch == 0
            if step % every and not epoch_end:
                continue
            line = (
                f'{{{self.prefix}"step": {step}, "epoch": {event.epoch}, "loss": {loss!r}, '
                f'"lr": {event.lr!r}, "elapsed": {event.elapsed[offset]:.6f}'
            )
            if epoch_end:
                self.epoch_end_line = line
            else:
                write(line + "}\n")

    def close(self) -> None:
        if self.handle.closed:
            return
        if self.epoch_end_line is not None:
            self.handle.write(self.epoch_end_line + "}\n")
            self.epoch_end_line = None
        self.handle.close()
