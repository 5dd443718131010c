"""Messages between the app and its trainer process. Torch-free: the app imports this."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the app must not build the settings models before its first frame
    from ..core.config import RunConfig
    from ..core.lab_events import LessonResult


@dataclass(frozen=True)
class Start:
    """Start run `run_id` (stopping any run still going); paused runs wait for Step or Resume."""

    run_id: int
    config: RunConfig
    paused: bool = False
    folder: str | None = None  # keep this run folder up to date (a new one, or with `resume` the run's own)
    resume: bool = False  # continue the run saved in `folder`, its chart rebuilt from its metrics
    checkpoint_every: int | None = None  # steps between checkpoints (None: the default)


@dataclass(frozen=True)
class StartRace:
    """Race the entries of `spec` (as `tui-trainer race --entries` takes them) on `config`'s data."""

    run_id: int
    config: RunConfig
    spec: str
    paused: bool = False


@dataclass(frozen=True)
class Pause:
    pass


@dataclass(frozen=True)
class Resume:
    pass


@dataclass(frozen=True)
class Step:
    count: int = 1


@dataclass(frozen=True)
class Stop:
    pass


@dataclass(frozen=True)
class SetLr:
    lr: float


@dataclass(frozen=True)
class Ledger:
    """Write out (or stop writing out) the last step of every chunk."""

    on: bool


@dataclass(frozen=True)
class Lesson:
    """Run an autograd lesson (core.lesson_texts.LESSON_NAMES) on a copy of the current run's model
    and batch when `from_run` and there is one, else on the model and first batch `config` starts with."""

    request_id: int
    name: str
    config: RunConfig
    from_run: bool


@dataclass(frozen=True)
class Save:
    """Checkpoint the single run now into `folder` (made if new), and keep it up to date after."""

    folder: str


@dataclass(frozen=True)
class Shutdown:
    pass


Command = Start | StartRace | Pause | Resume | Step | Stop | SetLr | Ledger | Lesson | Save | Shutdown


@dataclass(frozen=True)
class Saved:
    """The run was checkpointed into `folder` at `step` (answer to Save; not sent for the
    periodic checkpoints)."""

    folder: str
    step: int


@dataclass(frozen=True)
class SaveFailed:
    message: str


@dataclass(frozen=True)
class DeviceInfo:
    """The device runs use by default: sent once torch is loaded, then every few seconds on CUDA
    (where the label includes the memory in use)."""

    device: str


@dataclass(frozen=True)
class RunFailed:
    """The run could not start or stopped on an error; `message` is for the person."""

    message: str


@dataclass(frozen=True)
class LessonShown:
    """The lesson asked for with `request_id`: its result, or why it could not run."""

    request_id: int
    result: LessonResult | None
    error: str | None = None


@dataclass(frozen=True)
class Batch:
    """Events of one run, in order. run_id 0 is the engine itself (DeviceInfo)."""

    run_id: int
    events: list
