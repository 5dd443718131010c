"""The Learn view: the chosen algorithm's rule and story, the last step written out with its own
numbers, the curvature of the data, the seed's lessons as experiments to switch on, and the
autograd lab (the graph of the last step, and the seed's autograd lessons run in the trainer)."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.markup import escape
from textual.message import Message
from textual.widgets import Button, Label, Select, Static, Switch

from ...core.events import LedgerEntry
from ...core.lab_events import StepGraph
from ...core.lab_text import graph_lines, lesson_lines
from ...core.lesson_texts import LESSON_NAMES
from ...core.lesson_texts import label as lab_label
from ...engine.protocol import LessonShown
from ..lessons import EXPERIMENTS, LANGUAGES, RULES, STORIES, text
from .text import show_text

FOLLOW_EVERY = 0.2  # seconds between looks at the form's algorithm
SHOWN_FEATURES = 4  # columns of x shown in the batch table, at most (fewer where the panel is narrow)
SHOWN_GRADIENTS = 16  # parameters whose gradient is listed (one line each)
SHOWN_PARAMETERS = 6  # parameters whose update is written out (several lines each)


def _n(value: float) -> str:
    return f"{value:.4g}"


class LearnPanel(VerticalScroll):
    DEFAULT_CSS = """
    LearnPanel { height: 1fr; padding: 0 1; }
    LearnPanel .heading { text-style: bold; color: $accent; margin-top: 1; }
    LearnPanel #lesson-rule { color: $primary; }
    LearnPanel .row { height: auto; }
    LearnPanel .row Switch { border: none; height: 1; padding: 0; }
    LearnPanel .row Label { padding-left: 1; width: 1fr; }
    LearnPanel #lang-row { height: 1; }
    LearnPanel #lang-row .heading { margin-top: 0; width: auto; padding-right: 2; }  /* a margin here pushed it out of its one-line row */
    LearnPanel #lang-row Select { width: 12; }
    LearnPanel #learn-buttons { height: 1; margin-top: 1; }
    LearnPanel #learn-buttons Button { margin-right: 2; }
    LearnPanel .lab-part { display: none; }
    LearnPanel.-lab .lab-part { display: block; }
    LearnPanel.-lab .step-part { display: none; }
    LearnPanel #lab-row { height: 1; margin-top: 1; }
    LearnPanel #lab-row Label { width: auto; padding-right: 1; }
    LearnPanel #lab-row Select { width: 22; margin-right: 2; }
    LearnPanel #lab-lesson { margin: 1 0; }
    """

    @dataclass
    class ExperimentToggled(Message):
        """An experiment was switched on or off; `name` as in core.config.Experiments."""

        name: str
        enabled: bool

    @dataclass
    class LessonChosen(Message):
        """Run the autograd lesson `name` (core.lesson_texts.LESSON_NAMES)."""

        name: str

    def __init__(self, lang: str = "en", experiments: dict[str, bool] | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.lang = lang
        self.initial_experiments = experiments or {}
        self.algorithm = "bgd"
        self.entry: LedgerEntry | None = None
        self.steps_taken = 0
        self.stability = None
        self.graph: StepGraph | None = None
        self.lesson: LessonShown | str | None = None  # the lesson's answer, or the name of the lesson running
        self.stability_of_classifier = False  # then the curvature is that at the optimum
        self.separable = False  # a classifier with no finite optimum: no curvature at all

    def compose(self) -> ComposeResult:
        with Horizontal(id="lang-row"):
            yield Label("", id="lesson-heading", classes="heading")
            yield Select([("English", "en"), ("中文", "zh")], value=self.lang, allow_blank=False, compact=True, id="select-lang")
        # the step page (the rule, the step written out, curvature, experiments) and the autograd
        # lab's page share the view: one shows at a time (the class -lab), each readable at 80x24
        step = "step-part"
        yield Static("", id="lesson-rule", classes=step)
        yield Static("", id="lesson-story", classes=step)
        yield Static("", id="ledger", classes=f"ledger {step}")
        yield Static("", id="stability-heading", classes=f"heading {step}")
        yield Static("", id="stability", classes=step)
        yield Static("", id="experiments-heading", classes=f"heading {step}")
        for name in EXPERIMENTS["en"]:
            with Horizontal(classes=f"row {step}"):
                yield Switch(self.initial_experiments.get(name, False), id=f"experiment-{name.replace('_', '-')}")
                yield Label("", id=f"experiment-{name.replace('_', '-')}-label")
        with Horizontal(id="learn-buttons", classes=step):
            yield Button("", id="button-optimal", compact=True)
            yield Button("", id="button-above-limit", compact=True, variant="warning")
            yield Button("", id="button-lab", compact=True)
        # the lesson asked for on top, where it shows without scrolling; the graph of the last step below
        with Horizontal(id="lab-row", classes="lab-part"):
            yield Label("", id="lab-lesson-label")
            yield Select([(name, name) for name in LESSON_NAMES], prompt="…", compact=True, id="select-lesson")
            yield Button("", id="button-step-page", compact=True)
        yield Static("", id="lab-lesson", classes="lab-part")
        yield Static("", id="lab-graph", classes="lab-part")

    def on_mount(self) -> None:
        self.refresh_texts()
        self.set_interval(FOLLOW_EVERY, self._follow)

    def _follow(self) -> None:
        """While idle the rule shown is the form's (`x`, `o` or a choice may change it without a run
        event); once a run starts, the run's. The screen redraws this view only when the trainer
        sends something, so the view looks for itself."""
        screen = self.screen
        form, controller = getattr(screen, "form", None), getattr(screen, "controller", None)
        if form is None or controller is None or not self.display:
            return
        view = controller.view
        config = view.config if view.active else None
        self.show_algorithm(str(config.optimizer.algorithm) if config is not None else form.algorithm)

    @on(Switch.Changed)  # every switch here is an experiment
    def _experiment_switched(self, event: Switch.Changed) -> None:
        event.stop()
        name = (event.switch.id or "").removeprefix("experiment-").replace("-", "_")
        self.post_message(self.ExperimentToggled(name, event.value))

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "select-lang" and event.value in LANGUAGES:
            self.lang = str(event.value)
            self.refresh_texts()
        elif event.select.id == "select-lesson" and event.value in LESSON_NAMES:
            event.stop()
            self.post_message(self.LessonChosen(str(event.value)))

    @property
    def showing_lab(self) -> bool:
        return self.has_class("-lab")

    def show_lab(self, shown: bool) -> None:
        """The autograd lab's page, or the rule and the step's."""
        self.set_class(shown, "-lab")
        self.query_one("#lesson-heading", Label).update(lab_label(self.lang, "lab") if shown else text(self.lang, "lesson"))
        self.scroll_home(animate=False)
        if shown:  # hidden, they had no width to fit: fitted now
            self.call_after_refresh(self._show_graph)
            self.call_after_refresh(self._show_lab_lesson)

    def choose_next_lesson(self) -> None:
        """The lesson after the one chosen (the first at first); it runs, and shows above the graph."""
        select = self.query_one("#select-lesson", Select)
        now = LESSON_NAMES.index(str(select.value)) if select.value in LESSON_NAMES else -1
        select.value = LESSON_NAMES[(now + 1) % len(LESSON_NAMES)]  # Select.Changed runs it

    @on(Button.Pressed, "#button-lab")
    def _lab_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.show_lab(True)

    @on(Button.Pressed, "#button-step-page")
    def _step_page_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.show_lab(False)

    # --- what it shows ---

    def set_locked(self, locked: bool) -> None:
        """While a run goes its experiments are fixed."""
        for switch in self.query(Switch):
            switch.disabled = locked
        for button in self.query("#learn-buttons Button"):
            button.disabled = locked

    def experiments(self) -> dict[str, bool]:
        return {name: self.query_one(f"#experiment-{name.replace('_', '-')}", Switch).value for name in EXPERIMENTS["en"]}

    def show_algorithm(self, algorithm: str) -> None:
        if algorithm != self.algorithm:
            self.algorithm = algorithm
            self._show_lesson()

    def show_ledger(self, entry: LedgerEntry | None, steps_taken: int = 0) -> None:
        """The latest step written out; `steps_taken` tells a fresh run from one stepped in another view."""
        if entry is not self.entry or (entry is None and steps_taken != self.steps_taken):
            self.entry, self.steps_taken = entry, steps_taken
            self._show_ledger()
            self._show_graph()

    def show_stability(self, stability, classifies: bool = False, separable: bool = False) -> None:
        self.stability, self.stability_of_classifier, self.separable = stability, classifies, separable
        self._show_stability()

    def refresh_texts(self) -> None:
        lang = self.lang
        self.query_one("#lesson-heading", Label).update(lab_label(lang, "lab") if self.showing_lab else text(lang, "lesson"))
        self.query_one("#stability-heading", Static).update(text(lang, "stability"))
        self.query_one("#experiments-heading", Static).update(text(lang, "experiments"))
        for name, description in EXPERIMENTS[lang].items():
            self.query_one(f"#experiment-{name.replace('_', '-')}-label", Label).update(description)
        self.query_one("#button-optimal", Button).label = text(lang, "apply_optimal")
        self.query_one("#button-above-limit", Button).label = text(lang, "above_limit")
        self.query_one("#lab-lesson-label", Label).update(lab_label(lang, "lesson"))
        self.query_one("#button-lab", Button).label = lab_label(lang, "open_lab")
        self.query_one("#button-step-page", Button).label = lab_label(lang, "back")
        self._show_lesson()
        self._show_ledger()
        self._show_stability()
        self._show_graph()
        self._show_lab_lesson()

    def _show_lesson(self) -> None:
        self.query_one("#lesson-rule", Static).update(f"{self.algorithm}:  {escape(RULES[self.algorithm])}")
        self.query_one("#lesson-story", Static).update(STORIES[self.lang][self.algorithm])

    def _show_ledger(self) -> None:
        ledger = self.query_one("#ledger", Static)
        width = ledger.content_size.width or None  # 0 before the first layout: no limit yet
        show_text(ledger, ledger_markup(self.entry, self.lang, self.steps_taken, width))

    def on_resize(self) -> None:
        self.call_after_refresh(self._show_ledger)  # the tables fit the new width
        self.call_after_refresh(self._show_graph)
        self.call_after_refresh(self._show_lab_lesson)

    # --- the autograd lab ---

    def show_graph(self, graph: StepGraph | None) -> None:
        if graph is not self.graph:
            self.graph = graph
            self._show_graph()

    def lesson_running(self, name: str) -> None:
        self.lesson = name
        self._show_lab_lesson()

    def show_lab_lesson(self, shown: LessonShown) -> None:
        """An engine.protocol.LessonShown: the lesson's code and what torch said, or why it could not run;
        from its top, since it was asked for."""
        self.lesson = shown
        self._show_lab_lesson()
        if self.showing_lab:
            self.scroll_home(animate=False)

    def _show_graph(self) -> None:
        graph = self.query_one("#lab-graph", Static)
        lines = graph_lines(self.graph, self.lang, graph.content_size.width or None, self.steps_taken)
        show_text(graph, "\n".join(escape(line) for line in lines))

    def _show_lab_lesson(self) -> None:
        shown, lang = self.lesson, self.lang
        widget = self.query_one("#lab-lesson", Static)
        if shown is None:
            markup = escape(lab_label(lang, "choose"))
        elif isinstance(shown, str):
            markup = escape(f"{shown}: {lab_label(lang, 'running')}")
        elif shown.result is None:
            markup = f"[$error]{escape(shown.error or '')}[/]"
        else:
            markup = lesson_markup(shown.result, lang, widget.content_size.width or None)
        show_text(widget, markup)

    def _show_stability(self) -> None:
        found, lang = self.stability, self.lang
        if found is None:
            show_text(self.query_one("#stability", Static), escape(text(lang, "separable")) if self.separable else "…")
            return
        kappa = "∞" if found.condition_number is None else _n(found.condition_number)
        if self.stability_of_classifier:
            lines = [text(lang, "ce_hessian", largest=_n(found.largest), smallest=_n(found.smallest), kappa=kappa),
                     text(lang, "ce_limit", limit=_n(found.max_stable_lr))]
            show_text(self.query_one("#stability", Static), "\n".join(escape(line) for line in lines))
            return
        lines = [text(lang, "hessian", largest=_n(found.largest), smallest=_n(found.smallest), kappa=kappa),
                 text(lang, "limit", limit=_n(found.max_stable_lr), best=_n(found.best_gd_lr))]
        if found.momentum is None:
            lines.append(text(lang, "flat"))
        else:
            lines.append(text(lang, "momentum", lr=_n(found.momentum_lr), mu=_n(found.momentum)))
        show_text(self.query_one("#stability", Static), "\n".join(escape(line) for line in lines))


def table(header: list[str], rows: list[list[str]], names: bool = False, indent: str = "  ") -> list[str]:
    """Columns as wide as their widest cell, two spaces apart, so numbers never touch; numbers
    right-aligned, the first column left-aligned when it holds `names`."""
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]
    aligns = ["<" if names and i == 0 else ">" for i in range(len(widths))]
    return [
        indent + "  ".join(f"{cell:{a}{w}}" for cell, a, w in zip(line, aligns, widths, strict=True)).rstrip()
        for line in (header, *rows)
    ]


def batch_table(entry: LedgerEntry, width: int | None) -> list[str]:
    """The batch's rows: as many feature columns as fit in `width`, then "…" for the rest."""
    if entry.classes is not None:
        return class_batch_table(entry, width)
    total = len(entry.rows[0].x) if entry.rows else 0
    for features in range(min(SHOWN_FEATURES, total), -1, -1):
        cut = total > features
        header = [f"x{i + 1}" for i in range(features)] + (["…"] if cut else []) + ["y", "ŷ", "ŷ − y"]
        rows = [
            [_n(v) for v in row.x[:features]] + (["…"] if cut else []) + [_n(row.y), _n(row.prediction), _n(row.residual)]
            for row in entry.rows
        ]
        lines = table(header, rows)
        if width is None or features == 0 or max(map(len, lines)) <= width:
            return lines
    raise AssertionError("unreachable")  # the loop always returns at features == 0


def class_batch_table(entry: LedgerEntry, width: int | None) -> list[str]:
    """A classifier's rows: features, the class y, each class's logit z, then p(y) and −log p(y).
    What does not fit in `width` goes first the features, then the logits, each cut to "…"."""
    classes = entry.classes or []
    total = len(entry.rows[0].x) if entry.rows else 0
    for logits in range(len(classes), -1, -1):
        for features in range(min(SHOWN_FEATURES, total), -1, -1):
            cut, cut_z = total > features, len(classes) > logits
            header = [f"x{i + 1}" for i in range(features)] + (["…"] if cut else []) + ["y"]
            header += [f"z[{label}]" for label in classes[:logits]] + (["z…"] if cut_z else []) + ["p(y)", "−log p(y)"]
            rows = []
            for row in entry.rows:
                own = row.probabilities[int(row.y)] if row.probabilities else float("nan")
                cells = [_n(v) for v in row.x[:features]] + (["…"] if cut else []) + [classes[int(row.y)]]
                cells += [_n(z) for z in (row.logits or [])[:logits]] + (["…"] if cut_z else [])
                rows.append([*cells, _n(own), _n(row.nll if row.nll is not None else float("nan"))])
            lines = table(header, rows)
            if width is None or max(map(len, lines)) <= width:
                return lines
    return lines  # nothing left to cut: as narrow as it gets


def ledger_markup(entry: LedgerEntry | None, lang: str, steps_taken: int = 0, width: int | None = None) -> str:
    """The step written out, as Textual markup; tables fit in `width` columns when it is given."""
    if entry is None:
        return escape(text(lang, "unrecorded" if steps_taken else "waiting"))
    lines = [f"[b]{escape(text(lang, 'step', step=entry.step, epoch=entry.epoch, rows=entry.batch_size))}[/b]"]
    if entry.experiments:
        lines.append(f"[$warning]{escape(text(lang, 'active', names=', '.join(entry.experiments)))}[/]")
    lines += [escape(line) for line in batch_table(entry, width)]
    if entry.batch_size > len(entry.rows):
        lines.append("  " + escape(text(lang, "more_rows", count=entry.batch_size - len(entry.rows))))
    classifier = entry.classes is not None
    lines.append(escape(text(lang, "ce_columns" if classifier else "columns")))
    first = entry.rows[0] if entry.rows else None
    if classifier and first is not None and first.probabilities is not None and entry.classes is not None:
        label = int(first.y)
        shown = ", ".join(_n(p) for p in first.probabilities)
        own = _n(first.probabilities[label])
        lines.append(escape(text(lang, "ce_softmax", probabilities=shown, label=entry.classes[label], own=own)))
    lines.append(escape(text(lang, "ce_loss" if classifier else "loss", loss=_n(entry.loss), reported=_n(entry.loss_reported))))
    lines.append(escape(text(lang, "ce_gradient" if classifier else "gradient", source=entry.gradient_source)))
    gradients = [[u.name, _n(u.hand_gradient), _n(u.gradient)] for u in entry.updates[:SHOWN_GRADIENTS]]
    if gradients:
        lines += [escape(line) for line in table(["", text(lang, "by_hand"), text(lang, "optimizer")], gradients, names=True)]
    if len(entry.updates) > SHOWN_GRADIENTS:
        lines.append("  " + escape(text(lang, "more_gradients", count=len(entry.updates) - SHOWN_GRADIENTS)))
    lines.append(f"[b]{escape(text(lang, 'update', algorithm=entry.algorithm, lr=_n(entry.lr)))}[/b]")
    for update in entry.updates[:SHOWN_PARAMETERS]:
        lines.append(f"  [b]{escape(update.name)}[/b]")
        for line in update.lines:
            lines.append(f"    {escape(line.symbol)} = {escape(line.formula)} = {_n(line.value)}")
        lines.append(f"    → {escape(text(lang, 'optimizer_made', value=_n(update.after)))}")
    if len(entry.updates) > SHOWN_PARAMETERS:
        lines.append("  " + escape(text(lang, "more_updates", count=len(entry.updates) - SHOWN_PARAMETERS)))
    return "\n".join(lines)


def lesson_markup(result, lang: str, width: int | None = None) -> str:
    """A lesson's lines (core.lab_text) with the code, torch's errors and the title set apart."""
    errors = {step.error for step in result.steps if step.error}
    lines = lesson_lines(result, lang, width)
    styled = [f"[b]{escape(lines[0])}[/b]"]
    for line in lines[1:]:
        if line.startswith((">>> ", "... ")):
            styled.append(f"[$accent]{escape(line)}[/]")
        elif line in errors:
            styled.append(f"[$error]{escape(line)}[/]")
        else:
            styled.append(escape(line))
    return "\n".join(styled)
