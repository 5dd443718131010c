"""A single run in the trainer process, kept in a run folder when it has one.

The folder comes from the app's `--save DIR` or `--resume DIR` (with the Start command) or from
ctrl+s (a Save command, served between chunks, even while paused or after the run ended). Once a
run has a folder it is checkpointed every `checkpoint_every` steps and when it ends, however it
ends: done, stopped, or the app told to go by SIGHUP or SIGTERM. A resumed run first replays its
metrics file as events, so the app's chart is rebuilt from it.

Runs in the trainer process only (it imports torch through the core).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..core.events import EpochsEnded, Event, StepLosses
from ..core.run_folder import METRICS, CheckpointClock, RunFolder
from ..core.trainer import Trainer, single_thread_when
from ..metrics import MetricsWriter
from . import protocol as p

REPLAY_LINES = 20_000  # metrics lines per event when a resumed run's chart is rebuilt


class FolderRun:
    """One Trainer and, once it has one, its run folder."""

    def __init__(self, trainer: Trainer, send: Callable[[object], None], checkpoint_every: int | None = None) -> None:
        self.trainer = trainer
        self.send = send  # to the app, under this run's id
        self.clock = CheckpointClock(checkpoint_every)
        self.folder: RunFolder | None = None
        self.writer: MetricsWriter | None = None
        trainer.sink = self._sink

    def _sink(self, event: Event) -> None:
        self.send(event)
        if self.writer is not None:
            self.writer(event)

    # --- the folder ---

    def attach(self, folder: RunFolder, resumed: bool) -> None:
        config = self.trainer.config
        inputs = [] if config.data.is_synthetic else [config.data.source]
        handle = folder.open_metrics(inputs, self.trainer.control.stop, self.trainer.step if resumed else None)
        self.writer = MetricsWriter(handle, config.log_every)
        self.writer.steps_per_epoch = self.trainer.steps_per_epoch
        self.folder = folder

    def resume_from(self, name: str) -> None:
        """Put the trainer where the folder's checkpoint left the run, before `run`."""
        folder = RunFolder.existing(name)
        folder.restore_into(self.trainer)
        self.attach(folder, resumed=True)
        folder.write_config(self.trainer.config)

    def start_new(self, name: str) -> None:
        self.attach(RunFolder.create(name, self.trainer.config), resumed=False)

    def save(self, answer: bool = False) -> None:
        """Checkpoint into the folder; with `answer`, tell the app how it went."""
        from ..core.errors import TrainerError

        if self.folder is None:
            return
        try:
            self.folder.checkpoint(self.trainer, self.writer.flush if self.writer else None)
        except (TrainerError, OSError) as error:
            self.send(p.SaveFailed(f"cannot save into {self.folder.path}: {error}"))
            return
        self.clock.saved(self.trainer.step)
        if answer:
            self.send(p.Saved(str(self.folder.path), self.trainer.step))

    def serve(self, request: object) -> None:
        """A Save from the app: into this run's folder, or a new one (which the run then keeps)."""
        from ..core.errors import TrainerError

        if not isinstance(request, p.Save):
            return
        wanted = Path(request.folder).expanduser()
        if self.folder is None or wanted.resolve() != self.folder.path.resolve():
            self.save()  # the folder kept so far, up to this step, before the run moves on to the new one
            before = self.writer
            try:
                self.start_new(request.folder)
            except TrainerError as error:
                self.send(p.SaveFailed(str(error)))  # the run keeps the folder it had
                return
            if before is not None:
                before.close()
        self.save(answer=True)

    # --- the run ---

    def run(self, replay: bool = False) -> None:
        trainer = self.trainer
        with single_thread_when(trainer.small_steps):
            trainer.begin()
            if replay and self.folder is not None:
                for event in replayed_events(self.folder.file(METRICS)):
                    self.send(event)
                self.send(trainer.snapshot())
            while trainer.advance(self.clock.limit(trainer.step) if self.folder else None):
                for request in trainer.control.take_requests():
                    self.serve(request)
                if self.folder is not None and self.clock.due(trainer.step):
                    self.save()
            for request in trainer.control.take_requests():
                self.serve(request)
            self.save()
            trainer.finish()
        if self.writer is not None:
            self.writer.close()


def replayed_events(path: Path) -> list[Event]:
    """A metrics file as the events that wrote it: StepLosses for each stretch of consecutive
    steps, EpochsEnded for each epoch's last step (what the chart draws)."""
    events: list[Event] = []
    stretch: list[dict[str, Any]] = []

    def close() -> None:
        if stretch:
            events.append(
                StepLosses(
                    stretch[0]["step"], stretch[-1]["epoch"], [line["loss"] for line in stretch],
                    [line["lr"] for line in stretch], [line["elapsed"] for line in stretch],
                )
            )
            stretch.clear()

    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return []
    for text in lines:
        try:
            line = json.loads(text)
            step, loss = int(line["step"]), float(line["loss"])
        except (ValueError, KeyError, TypeError):
            continue
        if stretch and (step != stretch[-1]["step"] + 1 or len(stretch) >= REPLAY_LINES):
            close()
        stretch.append({"step": step, "epoch": line.get("epoch", 1), "loss": loss, "lr": line.get("lr", 0.0),
                        "elapsed": line.get("elapsed", 0.0)})
        if "train_loss" in line:
            close()
            val = line.get("val_loss")
            events.append(EpochsEnded([line.get("epoch", 1)], [step], [line["train_loss"]], None if val is None else [val]))
    close()
    return events
