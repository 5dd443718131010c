"""The Textual app: settings on the left, the loss chart and the parameter inspector on the right.

Training runs in a child process (see engine/). A thread worker receives its event batches and
posts them as messages; the screen is redrawn from the RunView at most ~30 times a second, however
fast training goes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Footer, LoadingIndicator, TabbedContent, TabPane
from textual.worker import Worker, WorkerState, get_current_worker

from ..core.events import RunState
from ..engine import protocol as p
from ..engine.host import EngineDied, EngineHost, prepare
from ..names import LARGEST
from .messages import EngineBatch, EngineGone, LearningRateSubmitted, RaceSubmitted
from .race_view import RaceView
from .run_view import RunView
from .widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from ..core.config import RunConfig
    from .themes import LoadedTheme

REFRESH_SECONDS = 1 / 15  # the screen shows new numbers at most this often
CHART_SECONDS = 1 / 20  # the chart, the costliest widget, is redrawn at most this often
DEFAULT_THEME = "trainer-dark"


def needs_panels(action: Callable) -> Callable:
    """An action that works on the panels; pressed before they exist, it runs once they do."""

    @wraps(action)
    def run_when_ready(self: TrainerApp, *args):
        if self.panels_ready:
            return action(self, *args)
        self._waiting_actions.append(lambda: action(self, *args))

    return run_when_ready


class TrainerApp(App):
    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute: subclasses elsewhere still find it
    TITLE = "tui-trainer"
    AUTO_FOCUS = None  # keys work from the first frame; click or Tab into a field to type
    BINDINGS = [
        Binding("s", "start", "Start"),
        Binding("space", "toggle_pause", "Pause"),
        Binding("n", "step", "Step"),
        Binding("r", "reset", "Reset"),
        Binding("l", "toggle_log", "Log"),
        Binding("m", "toggle_smoothing", "Smooth"),
        Binding("w", "toggle_landscape", "Map"),
        Binding("v", "next_view", "Views"),
        Binding("o", "apply_optimal", "best lr", show=False),
        Binding("x", "above_limit", "lr past the limit", show=False),
        Binding("a", "toggle_lr", "lr curve", show=False),
        Binding("t", "next_theme", "Theme"),
        Binding("plus,equals_sign", "scale_lr(2)", "lr×2", show=False),
        Binding("minus", "scale_lr(0.5)", "lr÷2", show=False),
        Binding("escape", "leave_field", "Leave field", show=False),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(self, config: RunConfig | None = None, theme_folders: list[Path] | None = None, lang: str = "en") -> None:
        super().__init__()
        self.initial_config = config
        self.lang = lang
        self.stability = None  # of the form's data, for the lr field's warning (core.stability)
        self._stability_data = None
        self.panels_ready = False
        self._waiting_actions: list[Callable[[], None]] = []
        prepare()
        self.view = RunView()
        self.race_view = RaceView()
        self.engine: EngineHost | None = None
        self.run_id = -1  # the single run the Run tab shows (-1: none)
        self.race_id = -1  # the race the Race tab shows
        self._last_id = 0  # ids of both come from one counter, so a batch belongs to one of them
        self._dirty = self._chart_dirty = False
        self.theme_folders = theme_folders
        self.loaded_themes: list[LoadedTheme] = []
        self.theme_charts: dict[str, LoadedTheme] = {}

    # --- layout ---

    def compose(self) -> ComposeResult:
        # The first frame is this shell: it imports nothing heavy. The panels follow at once.
        yield StatusBar(self.view, id="status")
        with Horizontal(id="body"):
            yield Vertical(LoadingIndicator(), id="sidebar")
            yield Vertical(LoadingIndicator(), id="main")
        yield Footer(show_command_palette=False, compact=True)

    def on_resize(self) -> None:
        self.set_class(self.size.width >= 110, "-wide")

    def on_mount(self) -> None:
        self.status_bar = self.query_one(StatusBar)
        self._refresh_views(force=True)
        self.call_after_refresh(self._start_engine)
        self.call_after_refresh(self._mount_panels)

    def _load_themes(self) -> None:
        """Register the theme files (validated with pydantic) and switch to the default one."""
        from .themes import bundled_theme_dir, load_themes, user_theme_dir

        folders = self.theme_folders if self.theme_folders is not None else [bundled_theme_dir(), user_theme_dir()]
        self.loaded_themes, problems = load_themes(folders)
        for loaded in self.loaded_themes:
            self.register_theme(loaded.theme)
            self.theme_charts[loaded.theme.name] = loaded
        if DEFAULT_THEME in self.theme_charts:
            self.theme = DEFAULT_THEME
        for problem in problems:
            self.notify(problem, title="Theme skipped", severity="warning", timeout=10)

    async def _mount_panels(self) -> None:
        """The themes and the costly widgets (plotext, numpy, the settings models), right after
        the first frame is on screen."""
        from ..core.config import RunConfig
        from .form import values_from_config
        from .widgets.inspector import Inspector
        from .widgets.landscape import Landscape
        from .widgets.learn_panel import LearnPanel
        from .widgets.loss_chart import LossChart
        from .widgets.race_panel import RacePanel
        from .widgets.settings_form import SettingsForm

        self._load_themes()
        sidebar, main = self.query_one("#sidebar"), self.query_one("#main")
        self.form = SettingsForm(values_from_config(self.initial_config or RunConfig()))
        buttons = Horizontal(
            Button("Start", id="button-start", variant="success", compact=True),
            Button("Pause", id="button-pause", compact=True),
            Button("Step", id="button-step", compact=True),
            Button("Reset", id="button-reset", variant="warning", compact=True),
            id="buttons",
        )
        self.chart = LossChart(self.view, id="chart")
        self.landscape = Landscape(lambda: [(self.view, self.chart.plot.color_text("train", "primary"))], id="landscape")
        self.inspector = Inspector(self.view, id="inspector")
        self.race_panel = RacePanel(self.race_view, id="race")
        experiments = self.initial_config.experiments.model_dump() if self.initial_config else None
        self.learn_panel = LearnPanel(self.lang, experiments, id="learn")
        self.views = TabbedContent(id="views")
        await sidebar.remove_children()
        await main.remove_children()
        await sidebar.mount(self.form, buttons)
        await main.mount(self.views)
        await self.views.add_pane(TabPane("Run", Horizontal(self.chart, self.landscape, id="run-charts"), self.inspector, id="tab-run"))
        await self.views.add_pane(TabPane("Race", self.race_panel, id="tab-race"))
        await self.views.add_pane(TabPane("Learn", self.learn_panel, id="tab-learn"))
        if not self.is_running:
            return  # the app was closed while the panels were being built
        self.theme_changed_signal.subscribe(self, self._apply_chart_theme)
        self._apply_chart_theme()
        self.set_interval(REFRESH_SECONDS, self._refresh_views)
        self.set_interval(CHART_SECONDS, self._refresh_chart)
        self.panels_ready = True
        self._refresh_views(force=True)
        waiting, self._waiting_actions = self._waiting_actions, []
        for action in waiting:
            action()

    # --- the trainer process ---

    def _start_engine(self) -> None:
        self.engine = EngineHost()
        self._pump_events(self.engine)

    @work(thread=True, exclusive=True, group="engine", exit_on_error=False, name="engine events")
    def _pump_events(self, engine: EngineHost) -> None:
        """Start the trainer process (off the UI thread) and pass its batches on as messages."""
        worker = get_current_worker()
        try:
            engine.start()
            while not worker.is_cancelled:
                batch = engine.receive(timeout=0.1)
                if batch is not None:
                    self.post_message(EngineBatch(batch))
        except EngineDied as death:
            if not worker.is_cancelled:
                self.post_message(EngineGone(str(death)))

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.group == "engine":
            self._fail(f"{event.worker.name} failed: {event.worker.error}")

    def _send(self, command: p.Command) -> bool:
        if self.engine is None or (self.engine.process.pid is not None and not self.engine.alive):
            self._start_engine()
            if not isinstance(command, p.Ledger) and self.panels_ready:  # a new engine starts without it
                self.engine.send(p.Ledger(self.views.active == "tab-learn"))
        try:
            self.engine.send(command)
            return True
        except EngineDied as death:
            self._fail(str(death))
            return False

    @on(EngineBatch)
    def _engine_batch(self, message: EngineBatch) -> None:
        batch = message.batch
        if batch.run_id == 0:
            for event in batch.events:
                if isinstance(event, p.DeviceInfo):
                    self.status_bar.device = event.device
            self._dirty = True
            return
        view = self.view if batch.run_id == self.run_id else self.race_view if batch.run_id == self.race_id else None
        if view is None:
            return  # a run that was reset: its last words don't matter
        before = view.state
        for event in batch.events:
            view.apply(event)
        self._dirty = self._chart_dirty = True
        if view.state is not before:
            self._sync_controls()
            self._announce(view, before)

    @on(EngineGone)
    def _engine_gone(self, message: EngineGone) -> None:
        engine, self.engine = self.engine, None
        if engine is not None:
            engine.close()  # its pipes, and the process if anything is left of it
        for view in (self.view, self.race_view):
            if view.active:
                self._fail(message.reason, view)

    def _fail(self, reason: str, view=None) -> None:
        view = view or self._target()
        before = view.state
        view.state, view.message = RunState.ERROR, reason
        self._sync_controls()
        self._announce(view, before)
        self._dirty = True

    def _target(self):
        """What the keys act on: the race in the Race tab, else the single run."""
        return self.race_view if self.in_race_tab else self.view

    @property
    def in_race_tab(self) -> bool:
        return self.panels_ready and self.views.active == "tab-race"

    @property
    def running(self) -> bool:
        """A run or a race is going (the engine runs one thing at a time)."""
        return self.view.active or self.race_view.active

    def _sync_controls(self) -> None:
        """The form, the experiment switches and the Pause button follow the run state."""
        if not self.panels_ready:
            return
        self.form.set_locked(self.running)
        self.learn_panel.set_locked(self.running)
        self.query_one("#button-pause", Button).label = "Resume" if self._target().state is RunState.PAUSED else "Pause"

    def _announce(self, view, before: RunState | None) -> None:
        """Tell the person what just happened, once: only on a real change of state."""
        if not self.panels_ready or view.state is before:
            return
        if view is self.race_view:
            if view.state is RunState.ERROR:
                self.notify(view.message, title="Race error", severity="error", timeout=10)
            elif view.state is RunState.DONE and before is not None:
                self.notify("every entry has finished", title="Race done")
            return
        if view.state is RunState.DIVERGED:
            self.notify(view.message, title="Diverged", severity="error", timeout=10)
        elif view.state is RunState.ERROR:
            self.notify(view.message, title="Error", severity="error", timeout=10)
        elif view.state is RunState.DONE and before is not None:
            summary = view.summary
            if summary is not None and summary.final_loss is not None:
                self.notify(f"final loss {summary.final_loss:.6g} (optimal {summary.optimal_loss:.6g})", title="Done")

    # --- redrawing ---

    def _refresh_views(self, force: bool = False) -> None:
        if not (self._dirty or force) or not (self.is_running and self.status_bar.is_attached):
            return  # nothing new, or the app is closing (its widgets go one by one)
        self._dirty = False
        self.status_bar.race = self.race_view if self.in_race_tab else None
        self.status_bar.update_view()
        if self.panels_ready:
            self.inspector.update_view()
            self.race_panel.update_view()
            if self.views.active == "tab-learn":
                self.learn_panel.show_algorithm(self.form.algorithm)
                self.learn_panel.show_ledger(self.view.ledger, self.view.step)

    def _refresh_chart(self) -> None:
        if self._chart_dirty and self.is_running and self.chart.is_attached:  # not before the panels, nor while closing
            self._chart_dirty = False
            if self.in_race_tab:
                self.race_panel.replot()
            else:
                self.chart.replot()
                if self.landscape.display:
                    self.landscape.replot()

    def _apply_chart_theme(self, *_: object) -> None:
        from .themes import ChartColors

        loaded = self.theme_charts.get(self.theme)
        theme = self.current_theme
        colors = {name: getattr(theme, name) for name in ("primary", "warning", "success", "accent") if getattr(theme, name)}
        chart = loaded.chart if loaded else ChartColors()
        colors["panel"], colors["secondary"] = theme.panel or "grey", theme.secondary or colors.get("accent", "white")
        self.chart.use_theme(chart, colors, theme.ansi)
        for plot in (self.landscape.plot, self.race_panel.plot, self.race_panel.query_one("#race-landscape").plot):
            plot.use_theme(chart, colors, theme.ansi)

    # --- actions ---

    @needs_panels
    def action_start(self) -> None:
        if self._refuse_while_running():
            return
        self._begin(paused=False)

    def _refuse_while_running(self) -> bool:
        """The engine runs one thing at a time: say where the other one is instead of stopping it."""
        if not self.running:
            return False
        where = "this view" if self._target().active else "the Race view" if self.race_view.active else "the Run view"
        self.notify(f"A run is going in {where}: press r there to reset it first.", severity="warning")
        return True

    def _begin(self, paused: bool) -> bool:
        """Start a run (or, in the Race tab, a race) with the form's settings."""
        form = self.form
        config = form.validate()
        if config is None:
            self.notify(f"Fix the marked setting first — {form.first_problem()}", title="Cannot start", severity="error")
            return False
        race = self.in_race_tab
        experiments = self.learn_panel.experiments()
        if any(experiments.values()) and not race:  # a race trains by the book
            from pydantic import ValidationError

            from ..core.config import Experiments, replaced
            from ..core.validation import explain

            try:
                config = replaced(config, experiments=Experiments(**experiments))
            except ValidationError as error:
                self.notify("; ".join(explain(error)), title="Cannot start", severity="error")
                return False
        problem = self.race_panel.spec_problem or (self._entries_problem(config) if race else None)
        if race and problem:
            self.notify(problem, title="Cannot race", severity="error")
            return False
        self._last_id += 1
        view = self.race_view if race else self.view
        if race:
            self.race_id = self._last_id
            command = p.StartRace(self.race_id, config, self.race_panel.spec, paused=paused)
        else:
            self.run_id = self._last_id
            command = p.Start(self.run_id, config, paused=paused)
        view.reset()
        view.state = RunState.PAUSED if paused else RunState.RUNNING
        view.message = "starting…"
        if not self._send(command):
            return False
        self._sync_controls()
        self._dirty = self._chart_dirty = True
        return True

    def _entries_problem(self, config) -> str | None:
        """An entry at odds with the form's settings (say, scratch with the fused engine)."""
        from ..core.errors import ConfigError
        from ..core.race_events import entry_config, parse_entries

        try:
            for entry in parse_entries(self.race_panel.spec):
                entry_config(config, entry)
        except ConfigError as error:
            return str(error)
        return None

    @needs_panels
    def action_toggle_pause(self) -> None:
        target = self._target()
        if target.state is RunState.RUNNING:
            self._send(p.Pause())
        elif target.state is RunState.PAUSED:
            self._send(p.Resume())

    @needs_panels
    def action_step(self) -> None:
        if self._target().active or (not self._refuse_while_running() and self._begin(paused=True)):
            self._send(p.Step())

    @needs_panels
    def action_reset(self) -> None:
        target = self._target()
        if target.active:
            self._send(p.Stop())
        if target is self.race_view:
            self.race_id = -1
        else:
            self.run_id = -1  # whatever the old run still says is ignored
        target.reset()
        self._sync_controls()
        self._dirty = self._chart_dirty = True

    def _plots(self):
        return (self.chart.plot, self.race_panel.plot)

    @needs_panels
    def action_toggle_log(self) -> None:
        for plot in self._plots():
            plot.log_scale = not plot.log_scale
        self.chart.show_legend()

    @needs_panels
    def action_toggle_smoothing(self) -> None:
        for plot in self._plots():
            plot.smoothing = not plot.smoothing
        self.chart.show_legend()

    @needs_panels
    def action_toggle_landscape(self) -> None:
        shown = not self.landscape.display
        self.landscape.display = shown
        self.race_panel.show_landscape(shown)
        if shown:
            self.landscape.replot()

    @needs_panels
    def action_toggle_lr(self) -> None:
        self.chart.plot.show_lr = not self.chart.plot.show_lr
        self.chart.show_legend()

    @needs_panels
    def action_next_view(self) -> None:
        views = ["tab-run", "tab-race", "tab-learn"]
        self.views.active = views[(views.index(self.views.active) + 1) % len(views)]

    @on(RaceSubmitted)
    def _race_submitted(self) -> None:
        self.action_start()

    @on(TabbedContent.TabActivated, "#views")
    def _tab_changed(self) -> None:
        # the trainer writes steps out only while someone reads them
        self._send(p.Ledger(self.views.active == "tab-learn"))
        self._sync_controls()
        self._dirty = self._chart_dirty = True

    # --- learning ---

    def on_settings_form_changed(self, message) -> None:
        """The form changed: new data means new curvature; a new lr may pass the limit."""
        config = message.config
        if config is None or not self.is_running:  # a form emptied while the app closes says nothing
            return
        if config.data != self._stability_data:
            self._stability_data = config.data
            self._compute_stability(config.data)
        self._warn_lr(config)

    @work(thread=True, exclusive=True, group="stability", exit_on_error=False)
    def _compute_stability(self, data) -> None:
        """The data's curvature, off the UI thread (a CSV may be big). numpy only, no torch."""
        from ..core.data import load_dataset
        from ..core.errors import DataError
        from ..core.reference import gram
        from ..core.stability import stability

        try:
            dataset = load_dataset(data)
        except DataError:
            return  # the data panel already says what is wrong
        ata, _, _ = gram(dataset.x_train, dataset.y_train)
        self.call_from_thread(self._stability_known, stability(ata / dataset.n_train), data)

    def _stability_known(self, found, data) -> None:
        if data != self._stability_data or not self.is_running:
            return  # the data changed again while this was computed, or the app is closing
        self.stability = found
        self.learn_panel.show_stability(found)
        if self.form.config is not None:
            self._warn_lr(self.form.config)

    def _warn_lr(self, config) -> None:
        from .form import lr_warning

        self.form.warn("optimizer.lr", lr_warning(config, self.stability) if self.stability else None)

    @needs_panels
    def action_apply_optimal(self) -> None:
        """The best constant settings the curvature allows, for plain gradient descent or momentum."""
        if self._refuse_while_running():
            return
        found, config = self.stability, self.form.config
        if found is None or config is None:
            self.notify("Fix the settings first: the best values come from the data.", severity="warning")
            return
        rule = config.optimizer.rule.name
        if rule == "momentum" and found.momentum is not None:
            self.form.set_values({"optimizer.lr": f"{found.momentum_lr:.4g}", "optimizer.momentum": f"{found.momentum:.4g}", "optimizer.batch_size": "full"})
            self.notify(f"momentum's best on this bowl: lr {found.momentum_lr:.4g}, μ {found.momentum:.4g}, full batch (Goh, Distill 2017)")
        elif rule == "plain":
            self.form.set_values({"optimizer.lr": f"{found.best_gd_lr:.4g}", "optimizer.batch_size": "full"})
            self.notify(f"plain gradient descent's best: lr 2/(λmax+λmin) = {found.best_gd_lr:.4g}, full batch")
        else:
            self.notify("The best values are known for plain gradient descent and momentum: choose bgd or momentum.", severity="warning")

    @needs_panels
    def action_above_limit(self) -> None:
        """Plain full-batch gradient descent just past its stability limit: it will diverge."""
        if self._refuse_while_running():
            return
        found = self.stability
        if found is None:
            self.notify("Fix the settings first: the limit comes from the data.", severity="warning")
            return
        lr = found.max_stable_lr * 1.05
        # the error grows ×1.1 a step: enough epochs for it to overflow, not just to grow
        self.form.set_values({"optimizer.algorithm": "bgd", "optimizer.lr": f"{lr:.4g}", "optimizer.batch_size": "full", "optimizer.epochs": "2000"})
        self.notify(f"lr {lr:.4g} is 5% past the limit 2/λmax = {found.max_stable_lr:.4g}: start (s) and watch", severity="warning")

    def on_switch_changed(self, event) -> None:
        if event.switch.id == "experiment-no-bias-correction" and event.value:
            # an experiment on Adam's hand-written rule
            self.form.set_values({"optimizer.algorithm": "adam", "optimizer.implementation": "scratch"})

    def action_next_theme(self) -> None:
        names = [loaded.theme.name for loaded in self.loaded_themes] or list(self.available_themes)
        index = names.index(self.theme) if self.theme in names else -1
        self.theme = names[(index + 1) % len(names)]
        self.notify(f"theme: {self.theme}", timeout=2)

    @needs_panels
    def action_scale_lr(self, factor: float) -> None:
        lr = self.view.lr if self.view.active and self.view.lr else None
        form = self.form
        if lr is None:
            config = form.validate()
            if config is None:
                return
            lr = config.optimizer.lr
        self._set_lr(lr * factor)

    def _set_lr(self, lr: float) -> None:
        if not (math.isfinite(lr) and 0 < lr <= LARGEST):
            self.notify(f"the learning rate {lr:g} is out of range", severity="warning")
            return
        self.form.set_lr_text(lr)
        if self.view.active:
            self._send(p.SetLr(lr))
            self.notify(f"learning rate {lr:g} from the next step", timeout=2)

    @on(LearningRateSubmitted)
    def _lr_submitted(self, message: LearningRateSubmitted) -> None:
        if self.view.active:
            self._send(p.SetLr(message.lr))
            self.notify(f"learning rate {message.lr:g} from the next step", timeout=2)

    def action_leave_field(self) -> None:
        self.set_focus(None)

    @on(Button.Pressed)
    def _button(self, event: Button.Pressed) -> None:
        action = {"button-start": self.action_start, "button-pause": self.action_toggle_pause,
                  "button-step": self.action_step, "button-reset": self.action_reset,
                  "button-optimal": self.action_apply_optimal, "button-above-limit": self.action_above_limit}[event.button.id]
        action()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Start training", "Start a run with the settings in the form (s)", self.action_start)
        yield SystemCommand("Pause or resume", "Pause a running run, or resume a paused one (space)", self.action_toggle_pause)
        yield SystemCommand("Single step", "Take one optimisation step, then pause (n)", self.action_step)
        yield SystemCommand("Reset", "Stop the run and clear the chart (r)", self.action_reset)
        yield SystemCommand("Toggle log scale", "Loss axis linear or logarithmic (l)", self.action_toggle_log)
        yield SystemCommand("Toggle smoothing", "Smooth the training loss curve (m)", self.action_toggle_smoothing)
        yield SystemCommand("Next theme", "Cycle through the themes (t)", self.action_next_theme)
        yield SystemCommand("Toggle the loss landscape", "Level curves and the path walked (w)", self.action_toggle_landscape)
        yield SystemCommand("Toggle the learning-rate curve", "The lr of every step on the chart (a)", self.action_toggle_lr)
        yield SystemCommand("Race or run", "Switch between the race view and the single run (v)", self.action_next_view)
        yield SystemCommand("Double the learning rate", "Live, while a run goes (+)", lambda: self.action_scale_lr(2))
        yield SystemCommand("Halve the learning rate", "Live, while a run goes (-)", lambda: self.action_scale_lr(0.5))

    async def action_quit(self) -> None:
        self._close_engine()
        self.exit()

    def on_unmount(self) -> None:
        self._close_engine()

    def _close_engine(self) -> None:
        engine, self.engine = self.engine, None
        self.workers.cancel_group(self, "engine")
        if engine is not None:
            engine.close()
