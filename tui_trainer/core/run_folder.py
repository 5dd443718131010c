"""A run folder: a run kept on disk, to continue, compare or predict with later.

    DIR/config.toml      every setting of the run (`--config` reads it)
    DIR/metrics.jsonl    one JSON line per logged step, as `--metrics` writes them
    DIR/summary.json     the `--json` summary (rewritten at each checkpoint, final at the end)
    DIR/checkpoint.pt    the trainer's state (core/checkpoint)

Every file but the metrics is replaced atomically. The metrics file is appended to, and synced
before each checkpoint is written, so it always holds at least the steps its checkpoint counts;
lines past the checkpoint (a run killed between the two) are cut off when the run is resumed, so
every step is in it exactly once. (A file whose end is torn and cut again by a second kill during
that cut is still right: the cut is one truncate, and only complete lines are kept.)
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from .config import RunConfig
from .config_file import dump_config, flatten, read_config_file, run_config
from .errors import ConfigError
from .events import RunState
from .files import FileProblem, OutputFile, open_output, remove_leftover_temporaries, write_atomically

if TYPE_CHECKING:
    from .race import Race
    from .trainer import Trainer

CONFIG, METRICS, SUMMARY, CHECKPOINT = "config.toml", "metrics.jsonl", "summary.json", "checkpoint.pt"

# Without --checkpoint-every, a run folder is checkpointed this often (seconds of the run, pauses
# included). By time, not steps: a checkpoint costs ~10-40 ms here (two fsyncs and the summary's
# evaluation), which a fast run would pay every fraction of a second at any fixed step count, and
# a slow one (a big full batch at 4 steps/s) would wait hours for.
CHECKPOINT_SECONDS = 30.0

# what may differ when a run is resumed: how long it goes, how densely it logs, where it runs
RESUMABLE_CHANGES = ("optimizer.epochs", "max_steps", "log_every", "device")


class RunFolder:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.metrics: OutputFile | None = None

    def file(self, name: str) -> Path:
        return self.path / name

    @property
    def has_run(self) -> bool:
        return self.file(CONFIG).exists() or self.file(CHECKPOINT).exists()

    # --- a new run ---

    @classmethod
    def check_new(cls, name: str) -> RunFolder:
        """A folder that can take a new run, or ConfigError saying why not (nothing is written)."""
        folder = cls(Path(name).expanduser())
        if folder.path.exists() and not folder.path.is_dir():
            raise ConfigError(f"--save {name}: is a file, not a folder")
        if folder.has_run:
            raise ConfigError(f"--save {name}: already holds a run; continue it with --resume {name}, or choose another folder")
        return folder

    @classmethod
    def create(cls, name: str, config: RunConfig, title: str | None = None) -> RunFolder:
        """A folder for a new run (made if missing), its config.toml written; a folder that
        already holds a run is refused (resume it, or choose another)."""
        folder = cls.check_new(name)
        try:
            folder.path.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ConfigError(f"--save {name}: cannot make the folder ({error.strerror or error})") from None
        folder.write_config(config, title)
        return folder

    def write_config(self, config: RunConfig, title: str | None = None) -> None:
        if not config.data.is_synthetic:  # the folder may be used from elsewhere: keep the data findable
            absolute = str(Path(config.data.source).expanduser().resolve())
            config = config.model_copy(update={"data": config.data.model_copy(update={"source": absolute})})
        self._write(CONFIG, dump_config(config, title or f"tui-trainer run: {self.path.name}").encode())

    # --- an existing run ---

    @classmethod
    def existing(cls, name: str, flag: str = "--resume") -> RunFolder:
        folder = cls(Path(name).expanduser())
        if not folder.path.is_dir():
            raise ConfigError(f"{flag} {name}: no such folder" if not folder.path.exists() else f"{flag} {name}: is not a folder")
        if not folder.file(CONFIG).exists():
            raise ConfigError(f"{flag} {name}: holds no run (no {CONFIG})")
        return folder

    def saved_settings(self) -> dict[str, Any]:
        values, _ = read_config_file(str(self.file(CONFIG)))
        return values

    def resumed_config(self, flags: dict[str, Any], flag_names: dict[str, str]) -> RunConfig:
        """The run's own settings with the changes a resume allows (the flags given); a flag that
        would change anything else is refused, naming it."""
        saved = run_config(str(self.file(CONFIG)), {}, {})
        wanted = run_config(str(self.file(CONFIG)), flags, flag_names)
        changed = different_settings(saved, wanted)
        fixed = [path for path in changed if path not in RESUMABLE_CHANGES]
        if fixed:
            path = fixed[0]
            value = flatten(saved.model_dump(mode="json"))[path]
            raise ConfigError(
                f"{flag_names.get(path, path)} cannot change when a run is resumed (the run has {value!r}); "
                f"start a new run from its settings with --config {self.file(CONFIG)}"
            )
        if "optimizer.epochs" in changed and saved.optimizer.schedule.value == "cosine":
            raise ConfigError(
                f"{flag_names.get('optimizer.epochs', 'epochs')} cannot change when a run with the cosine schedule is resumed "
                "(the schedule's length is the run's epochs)"
            )
        return wanted

    def restore_into(self, trainer: Trainer) -> RunState | None:
        """Put a freshly built trainer where the folder's checkpoint left the run, and say in
        what state the run was then (None: stopped before its first checkpoint, so it starts
        again from step 0). A checkpoint whose settings differ from the run's config.toml in
        anything a resume may not change (the file was edited) is refused."""
        from . import checkpoint

        state = self.load_checkpoint(trainer.device)
        if state is None:
            return None
        try:
            saved = RunConfig.model_validate(state["config"])
        except (KeyError, TypeError, ValueError):
            raise ConfigError(f"{self.file(CHECKPOINT)}: its settings are not readable by this tui-trainer") from None
        moved = [path for path in different_settings(saved, trainer.config) if path not in RESUMABLE_CHANGES]
        if moved:
            raise ConfigError(f"{self.file(CONFIG)} does not match the run's checkpoint ({moved[0]} differs): it was edited after the run")
        checkpoint.restore(trainer, state)
        return checkpoint.saved_state(state)

    def load_checkpoint(self, device: Any) -> dict[str, Any] | None:
        """The checkpoint's state, or None when the run was stopped before its first one."""
        from . import checkpoint

        if not self.file(CHECKPOINT).exists():
            return None
        return checkpoint.load(self.file(CHECKPOINT), device)

    # --- as the run goes ---

    def open_metrics(self, inputs: list[str], on_failure: Callable[[], None], resumed_step: int | None) -> OutputFile:
        """metrics.jsonl for appending: fresh for a new run; for a resumed one, cut back to the
        complete lines of the steps its checkpoint counts."""
        remove_leftover_temporaries(self.path)
        path = self.file(METRICS)
        if resumed_step is not None:
            try:
                trim_metrics(path, resumed_step)
            except OSError as error:
                raise ConfigError(f"cannot cut back {path} ({error.strerror or error})") from None
        try:
            handle = open_output(str(path), inputs, on_failure, append=resumed_step is not None)
        except FileProblem as problem:
            raise ConfigError(f"--save: {problem}") from None
        self.metrics = handle
        return handle

    def checkpoint(self, trainer: Trainer, before: Callable[[], None] | None = None) -> None:
        """The metrics so far on the disk, then the checkpoint, then the summary. `before`
        flushes whatever writes the metrics (its lines waiting for an epoch's end)."""
        from . import checkpoint

        if before is not None:
            before()
        if self.metrics is not None:
            self.metrics.sync()
        checkpoint.save(self.file(CHECKPOINT), checkpoint.capture(trainer))
        self.write_summary(trainer.summary().to_dict())

    def save_race(self, race: Race, entries: str, result: dict[str, Any]) -> None:
        """A race's folder at its end: its metrics synced, then every entry's trainer state (the
        entries as given, to know them again), then the race's summary."""
        from . import checkpoint

        if self.metrics is not None:
            self.metrics.sync()
        state = {"entries": entries, "trainers": [checkpoint.capture(trainer) for trainer in race.trainers]}
        checkpoint.save(self.file(CHECKPOINT), state)
        self.write_summary(result)

    def write_summary(self, summary: dict[str, Any]) -> None:
        self._write(SUMMARY, (json.dumps(summary, allow_nan=False, indent=1) + "\n").encode())

    def _write(self, name: str, data: bytes) -> None:
        try:
            write_atomically(self.file(name), data)
        except OSError as error:
            raise ConfigError(f"cannot write {self.file(name)} ({error.strerror or error})") from None


class CheckpointClock:
    """When a run folder's next checkpoint is due: every `every` steps (a chunk then ends exactly
    there), or, without `every`, every CHECKPOINT_SECONDS."""

    def __init__(self, every: int | None, seconds: float = CHECKPOINT_SECONDS) -> None:
        self.every, self.seconds = every, seconds
        self.saved_step = -1
        self.saved_at = time.monotonic()

    def limit(self, step: int) -> int | None:
        """The most steps the next chunk may take."""
        return self.every - step % self.every if self.every else None

    def due(self, step: int) -> bool:
        if step == self.saved_step:
            return False
        if self.every:
            return step % self.every == 0
        return time.monotonic() - self.saved_at >= self.seconds

    def saved(self, step: int) -> None:
        self.saved_step, self.saved_at = step, time.monotonic()


TRIM_BLOCK = 1 << 16  # bytes read at a time, from the end, when a metrics file is cut back


def trim_metrics(path: Path, last_step: int) -> None:
    """Cut `path` back to its complete lines of steps up to `last_step`: what a kill left past the
    checkpoint (lines, and a line cut short) goes. Steps only grow down a run's file, so only its
    end is read, however long the run was; the cut is one truncate, then synced."""
    if not path.exists():
        return
    with open(path, "rb+") as handle:
        size = handle.seek(0, os.SEEK_END)
        cut = 0
        lines = _lines_from_the_end(handle, size)
        next(lines)  # what follows the last newline: nothing, or a line a kill cut short
        for offset, line in lines:
            try:
                record = json.loads(line)
                step = record["step"] if isinstance(record, dict) else None
            except (ValueError, KeyError):
                continue
            if isinstance(step, int) and step <= last_step:
                cut = offset + len(line) + 1
                break
        if cut != size:
            handle.truncate(cut)
            handle.flush()
            os.fsync(handle.fileno())


def _lines_from_the_end(handle: BinaryIO, size: int) -> Iterator[tuple[int, bytes]]:
    """(where it starts, its bytes) of each newline-separated part of a file, last part first."""
    position, rest = size, b""
    while position > 0:
        start = max(0, position - TRIM_BLOCK)
        handle.seek(start)
        rest = handle.read(position - start) + rest
        position = start
        parts = rest.split(b"\n")
        rest = parts[0]  # may begin before `start`: kept for the next block
        offset = start + len(rest) + 1
        found = []
        for part in parts[1:]:
            found.append((offset, part))
            offset += len(part) + 1
        yield from reversed(found)
    yield 0, rest


def different_settings(a: RunConfig, b: RunConfig) -> list[str]:
    """The dotted paths of the settings whose values differ between two runs."""
    left, right = flatten(a.model_dump(mode="json")), flatten(b.model_dump(mode="json"))
    return [path for path in {**left, **right} if left.get(path) != right.get(path)]
