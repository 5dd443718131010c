"""The app's run bookkeeping, without any UI: which run and race the views show, what may start
when, what to refuse and what to tell the person. The screen asks; this decides.

The trainer process runs one thing at a time, so a single run (Run and Learn views) and a race
(Race view) cannot go together. Ids of runs and races come from one counter, so a batch of events
belongs to at most one of them; a batch for an id no longer shown is a run that was reset, and is
dropped.

Imports no Textual and no Rich (a test checks), so it is tested with a fake engine and listener.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from ..core.events import RunState
from ..engine import protocol as p
from ..engine.host import EngineDied
from .race_view import RaceView
from .run_view import RunView

if TYPE_CHECKING:
    from ..core.config import RunConfig

View = RunView | RaceView


@dataclass(frozen=True)
class Notice:
    """Something to tell the person (the screen shows it as a notification)."""

    message: str
    title: str = ""
    severity: str = "information"  # information, warning or error
    timeout: float | None = None  # seconds; None: the screen's default


class Engine(Protocol):
    """What the controller needs of the trainer process (engine.host.EngineHost)."""

    process: Any  # a multiprocessing.Process: its pid is None until it starts

    @property
    def alive(self) -> bool: ...

    def send(self, command: p.Command) -> None: ...

    def close(self) -> None: ...


class Listener(Protocol):
    """Who shows what the controller decides (the main screen)."""

    def run_state_changed(self, view: View) -> None:
        """Started, stopped, paused, ended: the controls follow."""

    def tell(self, notice: Notice) -> None: ...

    def device_known(self, device: str) -> None: ...

    def views_changed(self) -> None:
        """New events for the run or race shown: redraw soon."""

    def lesson_shown(self, shown: p.LessonShown) -> None:
        """The autograd lesson last asked for has run (or could not)."""


class _Nobody:
    """The listener until a screen subscribes: decisions are kept, nothing is shown."""

    def run_state_changed(self, view: View) -> None:
        pass

    def tell(self, notice: Notice) -> None:
        pass

    def device_known(self, device: str) -> None:
        pass

    def views_changed(self) -> None:
        pass

    def lesson_shown(self, shown: p.LessonShown) -> None:
        pass


def announcement(view: View, before: RunState | None) -> Notice | None:
    """What to say when a run or race changes state: only real ends, and only once."""
    if view.state is before:
        return None
    if isinstance(view, RaceView):
        if view.state is RunState.ERROR:
            return Notice(view.message, "Race error", "error", 10)
        if view.state is RunState.DONE and before is not None:
            return Notice("every entry has finished", "Race done")
        return None
    if view.state is RunState.DIVERGED:
        return Notice(view.message, "Diverged", "error", 10)
    if view.state is RunState.ERROR:
        return Notice(view.message, "Error", "error", 10)
    summary = view.summary
    if view.state is RunState.DONE and before is not None and summary is not None and summary.final_loss is not None:
        return Notice(f"final loss {summary.final_loss:.6g} (optimal {summary.optimal_loss:.6g})", "Done")
    return None


def entries_problem(config: RunConfig, spec: str) -> str | None:
    """A race entry at odds with the form's settings (say, scratch with the fused engine)."""
    from ..core.errors import ConfigError
    from ..core.race_events import entry_config, parse_entries

    try:
        for entry in parse_entries(spec):
            entry_config(config, entry)
    except ConfigError as error:
        return str(error)
    return None


class RunController:
    """Engine lifecycle and the one-thing-at-a-time rule for the Run, Race and Learn views."""

    def __init__(self, new_engine: Callable[[], Engine]) -> None:
        self._new_engine = new_engine  # makes an engine and starts receiving its batches
        self.listener: Listener = _Nobody()
        self.view = RunView()  # the single run (Run and Learn views)
        self.race_view = RaceView()
        self.engine: Engine | None = None
        self.run_id = -1  # the single run shown (-1: none)
        self.race_id = -1  # the race shown
        self._last_id = 0
        self.race_selected = False  # the keys act on the race (the Race view is open)
        self.ledger_wanted = False  # steps are written out only while the Learn view is open
        self.lesson_id = 0  # the autograd lesson last asked for: an older answer is dropped

    # --- what the keys act on, and what may start ---

    @property
    def target(self) -> View:
        return self.race_view if self.race_selected else self.view

    @property
    def running(self) -> bool:
        """A run or a race is going (the engine runs one thing at a time)."""
        return self.view.active or self.race_view.active

    def busy(self) -> Notice | None:
        """Why nothing may start now, saying where the other thing goes (None: free)."""
        if not self.running:
            return None
        where = "this view" if self.target.active else "the Race view" if self.race_view.active else "the Run view"
        return Notice(f"A run is going in {where}: press r there to reset it first.", severity="warning")

    def refuse_while_running(self) -> bool:
        """Tell the person why not, if something goes: a run is never stopped to start another."""
        notice = self.busy()
        if notice is not None:
            self.listener.tell(notice)
        return notice is not None

    # --- commands ---

    def start(self, config: RunConfig, paused: bool = False, *, experiments: dict[str, bool] | None = None,
              race_spec: str | None = None, spec_problem: str | None = None,
              folder: str | None = None, resume: bool = False, checkpoint_every: int | None = None) -> bool:
        """Start a run with the Learn view's experiments, or (given `race_spec`) a race of its
        entries, on the form's `config`; refused, with the reason told, when they don't fit. A
        single run may keep a run `folder` up to date, or (`resume`) continue the run saved there."""
        if race_spec is None:
            with_experiments = self._with_experiments(config, experiments or {})
            if with_experiments is None:
                return False
            config = with_experiments
        else:
            problem = spec_problem or entries_problem(config, race_spec)
            if problem:
                self.listener.tell(Notice(problem, "Cannot race", "error"))
                return False
        self._last_id += 1
        if race_spec is not None:
            view: View = self.race_view
            self.race_id = self._last_id
            command: p.Command = p.StartRace(self.race_id, config, race_spec, paused=paused)
        else:
            view = self.view
            self.run_id = self._last_id
            command = p.Start(self.run_id, config, paused=paused, folder=folder, resume=resume, checkpoint_every=checkpoint_every)
        view.reset()
        if isinstance(view, RunView):
            view.config = config
        view.state = RunState.PAUSED if paused else RunState.RUNNING
        view.message = "starting…"
        if not self.send(command):
            return False
        self.listener.run_state_changed(view)
        return True

    def _with_experiments(self, config: RunConfig, experiments: dict[str, bool]) -> RunConfig | None:
        if not any(experiments.values()):
            return config
        from pydantic import ValidationError  # not before the first frame

        from ..core.config import Experiments, replaced
        from ..core.validation import explain

        try:
            return replaced(config, experiments=Experiments(**experiments))
        except ValidationError as error:
            self.listener.tell(Notice("; ".join(explain(error)), "Cannot start", "error"))
            return None

    def toggle_pause(self) -> None:
        state = self.target.state
        if state is RunState.RUNNING:
            self.send(p.Pause())
        elif state is RunState.PAUSED:
            self.send(p.Resume())

    def step(self) -> None:
        """One step of the run or race in hand (the screen starts one, paused, when none is)."""
        if self.target.active:
            self.send(p.Step())

    def reset(self) -> None:
        """Stop what the keys act on and forget it: whatever it still says is dropped."""
        target = self.target
        if target.active:
            self.send(p.Stop())
        if target is self.race_view:
            self.race_id = -1
        else:
            self.run_id = -1
        target.reset()
        self.listener.run_state_changed(target)

    def set_lr(self, lr: float) -> None:
        """A new learning rate for the running single run, from its next step."""
        if self.view.active and self.send(p.SetLr(lr)):
            self.listener.tell(Notice(f"learning rate {lr:g} from the next step", timeout=2))

    def save(self, folder: str) -> None:
        """Checkpoint the single run into `folder` (which it then keeps up to date)."""
        if self.view.state is RunState.IDLE:
            self.listener.tell(Notice("there is no run to save yet: start one first", "Nothing to save", "warning"))
            return
        self.send(p.Save(folder))

    def select(self, race: bool, ledger: bool) -> None:
        """A view was opened: the keys follow it, and the trainer writes steps out only for Learn."""
        self.race_selected, self.ledger_wanted = race, ledger
        self.send(p.Ledger(ledger))

    def run_lesson(self, name: str, form_config: RunConfig) -> None:
        """An autograd lesson, in the trainer process: on the single run's model and batch while
        there is one (running, paused or finished), else on those the form's settings start with."""
        self.lesson_id += 1
        has_run = self.run_id != -1 and self.view.started is not None
        config = self.view.config if has_run and self.view.config is not None else form_config
        self.send(p.Lesson(self.lesson_id, name, config, from_run=has_run))

    # --- the engine ---

    def send(self, command: p.Command) -> bool:
        """Send to the trainer process, starting a new one if the last has died."""
        engine = self.engine
        fresh = engine is None or (engine.process.pid is not None and not engine.alive)
        if engine is None or fresh:
            engine = self.engine = self._new_engine()
        try:
            if fresh and not isinstance(command, p.Ledger):  # a new engine starts without it
                engine.send(p.Ledger(self.ledger_wanted))
            engine.send(command)
            return True
        except EngineDied as death:
            self.fail(str(death))
            return False

    def receive(self, batch: p.Batch) -> None:
        """Events from the engine, for the run or race they belong to."""
        for event in batch.events:  # the answers to a save, whichever run they come under
            if isinstance(event, p.Saved):
                self.listener.tell(Notice(f"step {event.step:,} saved in {event.folder}", "Saved", timeout=4))
            elif isinstance(event, p.SaveFailed):
                self.listener.tell(Notice(event.message, "Not saved", "error", 10))
        if batch.run_id == 0:
            for event in batch.events:
                if isinstance(event, p.DeviceInfo):
                    self.listener.device_known(event.device)
                elif isinstance(event, p.LessonShown) and event.request_id == self.lesson_id:
                    self.listener.lesson_shown(event)
            return
        view = self.view if batch.run_id == self.run_id else self.race_view if batch.run_id == self.race_id else None
        if view is None:
            return  # a run that was reset: its last words don't matter
        before = view.state
        for event in batch.events:
            view.apply(event)
        self.listener.views_changed()
        if view.state is not before:
            self._changed(view, before)

    def engine_gone(self, reason: str) -> None:
        """The trainer process died: what it ran ends in error; the next command starts another."""
        engine, self.engine = self.engine, None
        if engine is not None:
            engine.close()  # its pipes, and the process if anything is left of it
        for view in (self.view, self.race_view):
            if view.active:
                self.fail(reason, view)

    def fail(self, reason: str, view: View | None = None) -> None:
        view = view or self.target
        before = view.state
        view.state, view.message = RunState.ERROR, reason
        self._changed(view, before)

    def connect(self) -> None:
        """Start the trainer process now, so torch loads while the person reads the form."""
        if self.engine is None:
            self.engine = self._new_engine()

    def close(self) -> None:
        engine, self.engine = self.engine, None
        if engine is not None:
            engine.close()

    def _changed(self, view: View, before: RunState | None) -> None:
        self.listener.run_state_changed(view)
        notice = announcement(view, before)
        if notice is not None:
            self.listener.tell(notice)
