"""The main screen: settings on the left, the Run, Race and Learn views on the right, and the keys.

It draws what the run controller knows and passes the person's keys and clicks to it; what may
start when, and what to refuse, is the controller's call (controller.py). The screen is redrawn
from the views 11 times a second at most (the numbers less often), however fast training goes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.command import Provider
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, LoadingIndicator, TabbedContent, TabPane

from ..core.events import RunState
from ..names import LARGEST
from .commands import TrainerCommands
from .controller import Notice, RunController, View
from .frame_clock import FrameClock
from .messages import LearningRateSubmitted, RaceSubmitted
from .widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from textual.timer import Timer

    from ..core.config import RunConfig
    from .app import TrainerApp

# The chart is redrawn this often, and only when something changed: 11 a second keeps it at 10 or
# more (the frame clock makes up for late ticks on a busy machine).
FRAME_SECONDS = 1 / 11
# The numbers, slower (faster is not read anyway), and likewise only when something changed: the
# status bar every STATUS_FRAMES (about twice a second; it costs a compositor pass of its own, see
# _redraw), and the tables (inspector, race and Learn views) every PANEL_FRAMES (about once a
# second): a table repaints all its cells when one changes, 15-20 ms for the inspector's at 120x40,
# twice a chart's frame. At 4 and 2 a second they were a fifth of the app's CPU during a fast run
# (benchmarks/bench.py case 10: 0.26 of a core with them so, 0.19-0.22 now).
STATUS_FRAMES = 6
PANEL_FRAMES = 12  # a multiple of STATUS_FRAMES: a frame that updates the tables updates the status bar too
VIEWS = ["tab-run", "tab-race", "tab-learn"]


OPTIMAL_SHRINK = 1e-6  # `o` gives the steps for the error to shrink this much at the optimal rate
OPTIMAL_MAX_EPOCHS = 1_000_000
CLASSIFIER_CURVATURE = ("cross-entropy's curvature changes with θ: the best lr and the limit are known for MSE's bowl "
                        "(the Learn view shows the curvature at the optimum)")


def epochs_to_converge(condition_number: float | None, momentum: bool) -> int:
    """Full-batch steps for the error to shrink by OPTIMAL_SHRINK at the best constant settings:
    rate (κ-1)/(κ+1) for gradient descent, (√κ-1)/(√κ+1) for momentum (Goh, Distill 2017).
    Momentum's rate has a factor k in front at its optimum (a double root): 50% more covers it."""
    if condition_number is None or not math.isfinite(condition_number):
        return OPTIMAL_MAX_EPOCHS  # λmin is 0: no rate reaches the optimum's every direction
    root = math.sqrt(condition_number) if momentum else condition_number
    rate = (root - 1) / (root + 1)
    if rate <= 0:
        return 10
    steps = math.log(OPTIMAL_SHRINK) / math.log(rate) * (1.5 if momentum else 1.0)
    return int(min(OPTIMAL_MAX_EPOCHS, max(10, math.ceil(steps) + 10)))


def needs_panels(action: Callable) -> Callable:
    """An action that works on the panels; pressed before they exist, it runs once they do.
    It acts on the view open now, even if the tab's own message is still queued."""

    @wraps(action)
    def run_when_ready(self: MainScreen, *args):
        if not self.panels_ready:
            self._waiting_actions.append(lambda: run_when_ready(self, *args))
            return None
        self.controller.race_selected = self.in_race_tab
        return action(self, *args)

    return run_when_ready


LR = Binding.Group("lr ×2 ÷2", compact=True)  # + and - share one footer entry
# shown in the footer only where the screen is wide enough (the keys work at any width)
WIDE_ONLY = {"l", "m", "w", "a", "o", "x"}
NARROW_WIDTH = 110  # below this the form is behind `f` and the footer lists the main keys


class MainScreen(Screen):
    COMMANDS: ClassVar[set[type[Provider] | Callable[[], type[Provider]]]] = {TrainerCommands}
    # The footer, the `?` help screen and the command palette all come from these: the description
    # is the footer's word, the tooltip the help screen's line.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "help", "Keys", key_display="?", tooltip="This list of keys"),
        Binding("s", "start", "Start", tooltip="Start a run (in the Race view, a race) with the form's settings"),
        Binding("space", "toggle_pause", "Pause", tooltip="Pause the run, or resume it"),
        Binding("n", "step", "Step", tooltip="Take one step, then pause (starts a paused run if none is going)"),
        Binding("r", "reset", "Reset", tooltip="Stop the run and clear the chart"),
        Binding("v", "next_view", "Views", tooltip="Next view: Run → Race → Learn"),
        Binding("f", "toggle_form", "Form", tooltip="Show or hide the settings form (on a narrow screen: all of it)"),
        Binding("l", "toggle_log", "Log", tooltip="Loss axis linear or logarithmic"),
        Binding("m", "toggle_smoothing", "Smooth", tooltip="Smooth the training loss curve"),
        Binding("w", "toggle_landscape", "Map", tooltip="The loss landscape (a classifier's: its decision regions)"),
        # not in the footer (120 columns have no room): the inspector's matrix names it, `?` lists it
        Binding("c", "cycle_cells", "Cells", show=False,
                tooltip="A classifier's matrix cells: value, grad, optimizer state, optimum"),
        Binding("a", "toggle_lr", "lr", tooltip="The learning rate of every step on the chart"),
        Binding("plus,equals_sign", "scale_lr(2)", "lr×2", key_display="+", group=LR, tooltip="Double the learning rate, live"),
        Binding("minus", "scale_lr(0.5)", "lr÷2", key_display="-", group=LR, tooltip="Halve the learning rate, live"),
        Binding("o", "apply_optimal", "best", tooltip="Best constant lr for bgd or momentum, from the data's curvature"),
        Binding("x", "above_limit", "diverge", tooltip="bgd with an lr 5% past its stability limit: watch it diverge"),
        Binding("t", "app.next_theme", "Theme", show=False, tooltip="Next colour theme"),  # 120 columns have no room
        Binding("g", "next_autograd_lesson", "Lab", show=False,
                tooltip="The autograd lab (Learn view): the graph of the last step; pressed again, the next lesson, run live"),
        Binding("ctrl+s", "save_run", "Save", show=False, tooltip="Save the run in a folder (asks where) and keep it up to date"),
        # while a field has the keys the footer shows only this: it says how out, and how to quit
        Binding("escape", "leave_field", "Leave the field (^q quits)", tooltip="Leave a text field, so the keys above work again"),
        Binding("q", "app.quit", "Quit", tooltip="Quit the app"),
    ]

    def __init__(
        self, controller: RunController, config: RunConfig | None = None, lang: str = "en", *,
        save: str | None = None, resume: str | None = None, checkpoint_every: int | None = None,
    ) -> None:
        super().__init__()
        self.save_into = save  # the first run started keeps this folder up to date (--save)
        self.resume_from = resume  # open the run saved here, paused (--resume)
        self.checkpoint_every = checkpoint_every
        self.run_folder: str | None = None  # where the run shown is saved, once it is
        self.controller = controller
        controller.listener = self
        self.view, self.race_view = controller.view, controller.race_view
        self.initial_config = config
        self.lang = lang
        self.stability = None  # of the form's data, for the lr field's warning (core.stability)
        self.stability_of_classifier = False  # then it is the curvature at the optimum only
        self._stability_data: tuple | None = None  # (data, loss, weight decay) whose curvature is shown
        self.panels_ready = False
        self._waiting_actions: list[Callable[[], None]] = []
        # what changed since it was last drawn
        self._status_dirty = self._panels_dirty = self._chart_dirty = False
        self._deferred = False  # a frame's panels and chart wait for the status bar's repaint
        self._frames = 0
        self._first_numbers_shown = True  # of the run under way (see run_state_changed)
        self._clock = FrameClock(FRAME_SECONDS)
        self.frame_timer: Timer | None = None  # asks the clock for frames once the panels are up
        self._footer_fitted = False
        self.map_shown = False  # `w`: the landscape, or a classifier's decision regions

    # --- layout ---

    def compose(self) -> ComposeResult:
        # The first frame is this shell: it imports nothing heavy. The panels follow at once.
        yield StatusBar(self.view, id="status")
        with Horizontal(id="body"):
            yield Vertical(LoadingIndicator(), id="sidebar")
            yield Vertical(LoadingIndicator(), id="main")
        yield Footer(show_command_palette=False, compact=True)

    def on_mount(self) -> None:
        self.status_bar = self.query_one(StatusBar)
        self._refresh_views(force=True)

    def on_resize(self) -> None:
        """Under NARROW_WIDTH columns (80x24 over SSH) the form hides behind `f` and the footer
        lists the keys that matter most; `?` lists them all at any width."""
        narrow = self.size.width < NARROW_WIDTH
        if narrow == self.has_class("-narrow") and self._footer_fitted:
            return
        self._footer_fitted = True
        self.set_class(narrow, "-narrow")
        for key in WIDE_ONLY:
            self._bindings.key_to_bindings[key] = [replace(b, show=not narrow) for b in self._bindings.key_to_bindings[key]]
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Escape is in the footer only while something has the focus; + and - not while a text
        field takes them as characters (the footer hides the letter keys then for the same reason)."""
        if action == "leave_field":
            return self.focused is not None
        if action == "scale_lr":
            return not isinstance(self.focused, Input)
        return True

    def action_toggle_form(self) -> None:
        self.toggle_class("-form-toggled")

    def action_save_screenshot(self) -> None:
        """An SVG of the screen in the current folder. (Textual's own "Screenshot" command saves to
        ~/Downloads, which a server or an SSH session often lacks, and then only says it failed.)"""

        def save() -> None:
            try:
                path = self.app.save_screenshot(path=str(Path.cwd()))
            except OSError as error:
                self.notify(f"Could not save the screenshot: {error}", title="Screenshot", severity="error")
            else:
                self.notify(f"Saved {path}", title="Screenshot")

        self.call_after_refresh(save)  # after the palette has closed, so the picture shows the screen

    def action_help(self) -> None:
        from .help_screen import HelpScreen, help_lines

        self.app.push_screen(HelpScreen(help_lines(self.app, self.BINDINGS)))

    async def mount_panels(self) -> None:
        """The costly widgets (plotext, numpy, the settings models), right after the first frame."""
        from ..core.config import RunConfig
        from .form import values_from_config
        from .widgets.decision_regions import DecisionRegions
        from .widgets.inspector import Inspector
        from .widgets.landscape import Landscape
        from .widgets.learn_panel import LearnPanel
        from .widgets.loss_chart import LossChart
        from .widgets.race_panel import RacePanel
        from .widgets.settings_form import SettingsForm

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
        self.regions = DecisionRegions(self.view, id="regions")
        self.inspector = Inspector(self.view, id="inspector")
        self.race_panel = RacePanel(self.race_view, id="race")
        experiments = self.initial_config.experiments.model_dump() if self.initial_config else None
        self.learn_panel = LearnPanel(self.lang, experiments, id="learn")
        self.views = TabbedContent(id="views")
        await sidebar.remove_children()
        await main.remove_children()
        await sidebar.mount(self.form, buttons)
        await main.mount(self.views)
        charts = Horizontal(self.chart, self.landscape, self.regions, id="run-charts")
        await self.views.add_pane(TabPane("Run", charts, self.inspector, id="tab-run"))
        await self.views.add_pane(TabPane("Race", self.race_panel, id="tab-race"))
        await self.views.add_pane(TabPane("Learn", self.learn_panel, id="tab-learn"))
        if not self.app.is_running:
            return  # the app was closed while the panels were being built
        self.app.theme_changed_signal.subscribe(self, self._apply_chart_theme)
        self._apply_chart_theme()
        self.frame_timer = self.set_interval(self._clock.tick, self._tick)
        self.panels_ready = True
        self._refresh_views(force=True)
        self.resume_saved_run()
        waiting, self._waiting_actions = self._waiting_actions, []
        for action in waiting:
            action()

    @property
    def in_race_tab(self) -> bool:
        return self.panels_ready and self.views.active == "tab-race"

    @property
    def up_to_date(self) -> bool:
        """Everything the trainer sent is drawn (tests wait for this rather than for a time)."""
        return self.panels_ready and not (self._status_dirty or self._panels_dirty or self._chart_dirty or self._deferred)

    # --- what the controller tells (controller.Listener) ---

    def run_state_changed(self, view: View) -> None:
        """The form, the experiment switches and the Pause button follow the run state."""
        self._status_dirty = self._panels_dirty = self._chart_dirty = True
        if view is self.view and view.state is RunState.RUNNING and not self.view.step:  # a run starts: its first steps' numbers at once
            self._first_numbers_shown = False
        if not self.panels_ready:
            return
        running = self.controller.running
        self.form.set_locked(running)
        self.learn_panel.set_locked(running)
        paused = self.controller.target.state is RunState.PAUSED
        self.query_one("#button-pause", Button).label = "Resume" if paused else "Pause"

    def tell(self, notice: Notice) -> None:
        if self.panels_ready:  # nothing is said about the time before there is anything to see
            self.notify(notice.message, title=notice.title, severity=notice.severity, timeout=notice.timeout)  # type: ignore[arg-type]

    def device_known(self, device: str) -> None:
        self.status_bar.device = device
        self._status_dirty = True

    def views_changed(self) -> None:
        self._status_dirty = self._panels_dirty = self._chart_dirty = True

    def lesson_shown(self, shown) -> None:
        if self.panels_ready:
            self.learn_panel.show_lab_lesson(shown)

    # --- redrawing ---

    def _tick(self) -> None:
        if self._clock.due():
            self._redraw()

    def _redraw(self) -> None:
        """A frame: what changed, the numbers at their slower rates while something runs."""
        if self._deferred:
            return  # the last frame is not on screen yet
        self._frames += 1
        running = self.controller.running
        slow_frame = self._frames % PANEL_FRAMES == 0 or not self._first_numbers_shown
        panels = self._panels_dirty and (not running or slow_frame)
        if self._status_dirty and (not running or self._frames % STATUS_FRAMES == 0) and self._drawable:
            self._refresh_status()
            # the rest in a repaint of its own: Textual repaints every widget inside the box around
            # all changed regions, and the status bar (top line) with the chart or a table (right)
            # spans the whole form too, ~10 ms more a frame at 120x40
            self._deferred = True
            self.call_after_refresh(self._redraw_rest, panels)
        else:
            self._redraw_rest(panels)

    def _redraw_rest(self, panels: bool) -> None:
        self._deferred = False
        if panels:
            self._refresh_panels()
        self._refresh_chart()

    @property
    def _drawable(self) -> bool:
        return self.app.is_running and self.status_bar.is_attached  # not while closing (its widgets go one by one)

    def _refresh_views(self, force: bool = False) -> None:
        """The status bar and the panels' numbers now, if anything changed (or `force`)."""
        if self._drawable and (self._status_dirty or force):
            self._refresh_status()
        if self._panels_dirty or force:
            self._refresh_panels()

    def _refresh_status(self) -> None:
        self._status_dirty = False
        self.status_bar.race = self.race_view if self.in_race_tab else None
        self.status_bar.update_view()

    def _refresh_panels(self) -> None:
        if self.panels_ready and self._drawable:
            self._panels_dirty = False
            self._first_numbers_shown = self._first_numbers_shown or self.view.step > 0
            self.inspector.update_view()
            self.race_panel.update_view()
            if self.views.active == "tab-learn":
                self.learn_panel.show_algorithm(self.form.algorithm)
                self.learn_panel.show_ledger(self.view.ledger, self.view.step)
                self.learn_panel.show_graph(self.view.graph)

    def _refresh_chart(self) -> None:
        if self._chart_dirty and self.app.is_running and self.chart.is_attached:  # not while closing
            self._chart_dirty = False
            if self.in_race_tab:
                self.race_panel.replot()
            else:
                self.chart.replot()
                self._show_map()
                if self.landscape.display:
                    self.landscape.replot()
                if self.regions.display:
                    self.regions.replot()

    def _apply_chart_theme(self, *_: object) -> None:
        from .themes import ChartColors
        from .widgets.landscape import Landscape

        loaded = cast("TrainerApp", self.app).theme_charts.get(self.app.theme)
        theme = self.app.current_theme
        colors = {name: getattr(theme, name) for name in ("primary", "warning", "success", "accent") if getattr(theme, name)}
        chart = loaded.chart if loaded else ChartColors()
        colors["panel"], colors["secondary"] = theme.panel or "grey", theme.secondary or colors.get("accent", "white")
        self.chart.use_theme(chart, colors, theme.ansi)
        race_landscape = self.race_panel.query_one("#race-landscape", Landscape).plot
        for plot in (self.landscape.plot, self.regions.plot, self.race_panel.plot, race_landscape):
            plot.use_theme(chart, colors, theme.ansi)

    # --- run actions ---

    @needs_panels
    def action_start(self) -> None:
        if not self.controller.refuse_while_running():
            self._begin(paused=False)

    def _begin(self, paused: bool) -> bool:
        """Start a run (or, in the Race tab, a race) with the form's settings."""
        config = self.form.validate()
        if config is None:
            if self.has_class("-narrow") and not self.has_class("-form-toggled"):
                self.add_class("-form-toggled")  # the form is hidden on a narrow screen: show what to fix
            self.notify(f"Fix the marked setting first — {self.form.first_problem()}", title="Cannot start", severity="error")
            return False
        if self.in_race_tab:  # a race trains by the book: no experiments
            return self.controller.start(config, paused, race_spec=self.race_panel.spec, spec_problem=self.race_panel.spec_problem)
        folder, self.save_into = self.save_into, None  # --save is for the first run
        started = self.controller.start(
            config, paused, experiments=self.learn_panel.experiments(), folder=folder, checkpoint_every=self.checkpoint_every
        )
        self.run_folder = folder if started else None
        return started

    def resume_saved_run(self) -> None:
        """--resume DIR: the run saved there, paused at its step, its chart rebuilt from its metrics."""
        if self.resume_from is None or self.initial_config is None:
            return
        folder, self.resume_from = self.resume_from, None
        if self.controller.start(self.initial_config, paused=True, folder=folder, resume=True, checkpoint_every=self.checkpoint_every):
            self.run_folder = folder

    def action_save_run(self) -> None:
        """ctrl+s: ask where (the run's own folder, or runs/<time>-<algorithm>), then save there."""
        from .save_screen import SaveScreen, default_folder

        if self.view.state is RunState.IDLE:
            self.notify("there is no run to save yet: start one first", title="Nothing to save", severity="warning")
            return
        config = self.view.config
        algorithm = config.optimizer.algorithm.value if config is not None else "run"

        def chosen(folder: str | None) -> None:
            if folder:
                self.run_folder = folder
                self.controller.save(folder)

        self.app.push_screen(SaveScreen(self.run_folder or default_folder(algorithm)), chosen)

    @needs_panels
    def action_toggle_pause(self) -> None:
        self.controller.toggle_pause()

    @needs_panels
    def action_step(self) -> None:
        controller = self.controller
        if controller.target.active:
            controller.step()
        elif not controller.refuse_while_running() and self._begin(paused=True):
            controller.step()  # the run just started, paused, takes its first step

    @needs_panels
    def action_reset(self) -> None:
        self.controller.reset()

    @on(RaceSubmitted)
    def _race_submitted(self) -> None:
        self.action_start()

    # --- what the charts show ---

    @needs_panels
    def action_toggle_log(self) -> None:
        for plot in (self.chart.plot, self.race_panel.plot):
            plot.log_scale = not plot.log_scale
        self.chart.show_legend()

    @needs_panels
    def action_toggle_smoothing(self) -> None:
        for plot in (self.chart.plot, self.race_panel.plot):
            plot.smoothing = not plot.smoothing
        self.chart.show_legend()

    @needs_panels
    def action_toggle_landscape(self) -> None:
        """The map beside the chart: the loss landscape, or for a classifier its decision regions."""
        self.map_shown = shown = not self.map_shown
        self.race_panel.show_landscape(shown)
        self._show_map()
        if self.landscape.display:
            self.landscape.replot()
        if self.regions.display:
            self.regions.replot()

    @property
    def shows_classifier(self) -> bool:
        """The Run view's run classifies; before any run, the form's settings do."""
        if self.view.started is not None:
            return self.view.classifies
        config = self.form.config
        return config is not None and config.classifies

    def _show_map(self) -> None:
        classifier = self.shows_classifier
        self.landscape.display = self.map_shown and not classifier
        self.regions.display = self.map_shown and classifier

    @needs_panels
    def action_cycle_cells(self) -> None:
        """What a classifier's weight matrix shows in the inspector: value, gradient, state, optimum."""
        if not self.view.classifies:
            self.notify("c changes a classifier's weight matrix cells: start a cross-entropy run", severity="warning", timeout=3)
            return
        shown = self.inspector.cycle_cells()
        self.notify(f"the inspector's cells show: {shown}", timeout=2)

    @needs_panels
    def action_toggle_lr(self) -> None:
        self.chart.plot.show_lr = not self.chart.plot.show_lr
        self.chart.show_legend()

    @needs_panels
    def action_next_view(self) -> None:
        self.views.active = VIEWS[(VIEWS.index(self.views.active) + 1) % len(VIEWS)]

    @needs_panels
    def action_next_autograd_lesson(self) -> None:
        """Open the autograd lab (in the Learn view); once it is open, run the next lesson."""
        if self.views.active == "tab-learn" and self.learn_panel.showing_lab:
            self.learn_panel.choose_next_lesson()
        else:
            self.views.active = "tab-learn"
            self.learn_panel.show_lab(True)

    @on(TabbedContent.TabActivated, "#views")
    def _tab_changed(self) -> None:
        # the keys follow the view; the trainer writes steps out only while someone reads them
        self.controller.select(race=self.in_race_tab, ledger=self.views.active == "tab-learn")
        self.run_state_changed(self.controller.target)

    def action_leave_field(self) -> None:
        self.set_focus(None)

    # --- the learning rate ---

    def on_settings_form_changed(self, message) -> None:
        """The form changed: new data means new curvature; a new lr may pass the limit."""
        config = message.config
        if config is None or not self.app.is_running:  # a form emptied while the app closes says nothing
            return
        # a classifier's curvature is that at its optimum, which weight decay moves
        key = (config.data, config.loss, config.optimizer.weight_decay if config.classifies else None)
        if key != self._stability_data:
            self._stability_data = key
            if config.data.is_synthetic or key[2]:  # (a classifier with weight decay: its own optimum)
                self._compute_stability(key)
            else:  # the data panel reads a CSV once, and its curvature comes with it
                from .widgets.data_panel import DataPanel

                self._csv_read(self.form.query_one(DataPanel).loaded)
        self._warn_lr(config)

    def on_data_panel_csv_checked(self, message) -> None:
        if message.asked is not None:
            self._csv_read((message.asked, message.curvature))

    def _csv_read(self, loaded) -> None:
        """The curvature the data panel found with the file, if it is that of the settings shown."""
        if loaded is None or loaded[1] is None or self._stability_data is None:
            return
        (data, loss), (found, separable) = loaded
        from ..core.objective import objective_for

        classifies = objective_for(loss).classifies
        key = (data, loss, 0.0 if classifies else None)
        if key == self._stability_data:
            self._stability_known(found, key, classifies, separable)

    @work(thread=True, exclusive=True, group="stability", exit_on_error=False)
    def _compute_stability(self, key) -> None:
        """The data's curvature, off the UI thread: synthetic data's, or a CSV classifier's with
        weight decay (its optimum moves with it; the data panel's read found the one without).
        numpy only, no torch (core.objective.curvature_of)."""
        from ..core.data import load_dataset
        from ..core.errors import DataError
        from ..core.objective import curvature_of, objective_for

        data, loss, weight_decay = key
        classifies = objective_for(loss).classifies
        try:
            dataset = load_dataset(data, classify=classifies)
            found, separable = curvature_of(dataset.x_train, dataset.y_train, dataset.outputs, loss, weight_decay or 0.0)
        except (DataError, ArithmeticError):
            return  # the data panel already says what is wrong (or what memory the optimum needs)
        self.app.call_from_thread(self._stability_known, found, key, classifies, separable)

    def _stability_known(self, found, key, classifies: bool = False, separable: bool = False) -> None:
        if key != self._stability_data or not self.app.is_running:
            return  # the data changed again while this was computed, or the app is closing
        self.stability = found
        self.stability_of_classifier = classifies
        self.learn_panel.show_stability(found, classifies, separable)
        if self.form.config is not None:
            self._warn_lr(self.form.config)

    def _warn_lr(self, config) -> None:
        from .form import lr_warning

        found = self.stability if self.stability_of_classifier == config.classifies else None
        self.form.warn("optimizer.lr", lr_warning(config, found) if found else None)

    @needs_panels
    def action_apply_optimal(self) -> None:
        """The best constant settings the curvature allows, for plain gradient descent or momentum."""
        if self.controller.refuse_while_running():
            return
        found, config = self.stability, self.form.config
        if config is not None and config.classifies:
            self.notify(CLASSIFIER_CURVATURE, severity="warning")
            return
        if found is None or config is None:
            self.notify("Fix the settings first: the best values come from the data.", severity="warning")
            return
        rule = config.optimizer.rule.name
        if rule == "momentum" and found.momentum is not None:
            epochs = epochs_to_converge(found.condition_number, momentum=True)
            self.form.set_values({"optimizer.lr": f"{found.momentum_lr:.4g}", "optimizer.momentum": f"{found.momentum:.4g}",
                                  "optimizer.batch_size": "full", "optimizer.epochs": str(epochs)})
            self.notify(f"momentum's best on this bowl: lr {found.momentum_lr:.4g}, μ {found.momentum:.4g}, full batch, "
                        f"{epochs} steps (Goh, Distill 2017)")
        elif rule == "plain":
            epochs = epochs_to_converge(found.condition_number, momentum=False)
            self.form.set_values({"optimizer.lr": f"{found.best_gd_lr:.4g}", "optimizer.batch_size": "full",
                                  "optimizer.epochs": str(epochs)})
            self.notify(f"plain gradient descent's best: lr 2/(λmax+λmin) = {found.best_gd_lr:.4g}, full batch, {epochs} steps")
        else:
            self.notify("The best values are known for plain gradient descent and momentum: choose bgd or momentum.", severity="warning")

    @needs_panels
    def action_above_limit(self) -> None:
        """Plain full-batch gradient descent just past its stability limit: it will diverge."""
        if self.controller.refuse_while_running():
            return
        found = self.stability
        if self.form.config is not None and self.form.config.classifies:
            self.notify(CLASSIFIER_CURVATURE, severity="warning")
            return
        if found is None:
            self.notify("Fix the settings first: the limit comes from the data.", severity="warning")
            return
        lr = found.max_stable_lr * 1.05
        # the error grows ×1.1 a step: enough epochs for it to overflow, not just to grow
        self.form.set_values({"optimizer.algorithm": "bgd", "optimizer.lr": f"{lr:.4g}", "optimizer.batch_size": "full",
                              "optimizer.epochs": "2000"})
        self.notify(f"lr {lr:.4g} is 5% past the limit 2/λmax = {found.max_stable_lr:.4g}: start (s) and watch", severity="warning")

    @needs_panels
    def action_scale_lr(self, factor: float) -> None:
        """×2 or ÷2 on the pending learning rate: the form's, which every press updates at once, so
        quick presses compound even before the trainer reports the last one."""
        lr = self._pending_lr()
        if lr is None:
            self.notify("Fix the learning rate first", severity="warning")
            return
        lr *= factor
        if not (math.isfinite(lr) and 0 < lr <= LARGEST):
            self.notify(f"the learning rate {lr:g} is out of range", severity="warning")
            return
        self.form.set_lr_text(lr)
        if self.controller.view.active:
            self.controller.set_lr(lr)  # it says "learning rate … from the next step"
        else:
            self.notify(f"learning rate {lr:g} for the next run", timeout=2)

    def _pending_lr(self) -> float | None:
        """The learning rate last asked for: the form's lr field (the trainer's report lags)."""
        row = self.form.fields().get("optimizer.lr")
        try:
            lr = float(row.value) if row is not None else math.nan
        except ValueError:
            lr = math.nan
        if math.isfinite(lr) and lr > 0:
            return lr
        return self.view.lr if self.view.active and self.view.lr else None

    @on(LearningRateSubmitted)
    def _lr_submitted(self, message: LearningRateSubmitted) -> None:
        self.controller.set_lr(message.lr)

    # --- buttons and switches ---

    @on(Button.Pressed, "#button-start")
    def _start_pressed(self) -> None:
        self.action_start()

    @on(Button.Pressed, "#button-pause")
    def _pause_pressed(self) -> None:
        self.action_toggle_pause()

    @on(Button.Pressed, "#button-step")
    def _step_pressed(self) -> None:
        self.action_step()

    @on(Button.Pressed, "#button-reset")
    def _reset_pressed(self) -> None:
        self.action_reset()

    @on(Button.Pressed, "#button-optimal")
    def _optimal_pressed(self) -> None:
        self.action_apply_optimal()

    @on(Button.Pressed, "#button-above-limit")
    def _above_limit_pressed(self) -> None:
        self.action_above_limit()

    # LearnPanel.LessonChosen, by name: the panel loads after the first frame
    def on_learn_panel_lesson_chosen(self, message) -> None:
        """Run the lesson in the trainer process, on the run's model and batch (or the form's)."""
        config = self.form.validate() or (self.view.config if self.view.started else None)
        if config is None:
            self.notify(f"Fix the marked setting first — {self.form.first_problem()}", title="Cannot run the lesson", severity="error")
            return
        self.learn_panel.lesson_running(message.name)
        self.controller.run_lesson(message.name, config)

    # LearnPanel.ExperimentToggled, by name: the panel loads after the first frame
    def on_learn_panel_experiment_toggled(self, message) -> None:
        if message.name == "no_bias_correction" and message.enabled:
            # an experiment on Adam's hand-written rule
            self.form.set_values({"optimizer.algorithm": "adam", "optimizer.implementation": "scratch"})
