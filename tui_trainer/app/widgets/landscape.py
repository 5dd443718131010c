"""The loss landscape: level curves of the loss over two parameters (the others held at their
optimum), the optimum marked, and the path each run has walked, drawn as it goes."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.color import Color
from textual.containers import Horizontal, Vertical
from textual.widgets import Label, Select, Static

from ..run_view import RunView
from .loss_chart import ThemedPlot, plot_color

# (view, colour text) of every run to draw; the first run's data gives the loss surface
Runs = Callable[[], list[tuple[RunView, str]]]
# the ● of a run that ends at the optimum hides its ✕: say what each mark is
SURFACE_NOTE = "the loss over two parameters, the others at their optimum · ✕ the optimum · ● where each run is"
SHORT_NOTE = "✕ optimum · ● each run"  # what a short map keeps: the marks must stay explained
NO_SURFACE_NOTE = "too many features for the exact surface (up to 64): the paths only"
NO_CLOSED_FORM_NOTE = "cross-entropy has no exact surface to draw: the paths only"
TALL_ENOUGH = 16  # rows below which the note is the short one


def level_color(theme) -> str:
    """The level curves: halfway from the background to the text, so they read in every theme yet
    stay quieter than the paths (the theme's panel colour was barely off the background)."""
    if getattr(theme, "ansi", False):
        return "ansi_bright_black"  # the terminal's own grey, on its own background
    background = Color.parse(theme.background or ("#000000" if theme.dark else "#ffffff"))
    foreground = Color.parse(theme.foreground or ("#ffffff" if theme.dark else "#000000"))
    return background.blend(foreground, 0.5).hex


class LandscapePlot(ThemedPlot):
    def __init__(self, runs: Runs, **kwargs) -> None:
        super().__init__(**kwargs)
        self.runs = runs
        self.axes = (0, -1)  # parameter indices: the first weight, and the bias

    def replot(self) -> None:
        self.start("")
        runs = [(view, color) for view, color in self.runs() if view.started is not None]
        if not runs:
            self.finish()
            return
        first = runs[0][0]
        names = first.parameter_names
        i, j = (self.axes[0] % len(names), self.axes[1] % len(names))
        surface = first.loss_slice(i, j)
        self.plt.xlabel(names[i])
        self.plt.ylabel(names[j])
        paths = []
        for view, color in runs:
            assert view.started is not None  # kept above: only started runs
            start = view.started.initial
            origin = [*start.weights, *(start.biases or [start.bias])]  # a classifier has a bias per class
            xs, ys = view.path.columns(i, j)
            paths.append(([origin[i], *xs], [origin[j], *ys], color))
        if surface is not None:
            self._draw_levels(surface, paths)
            self.plt.scatter([surface.center[0]], [surface.center[1]], marker="x", color=self.color("optimum", "success"))
        for xs, ys, color in paths:
            self.plt.plot(xs, ys, color=plot_color(color), marker="braille")
            self.plt.scatter([xs[-1]], [ys[-1]], marker="●", color=plot_color(color))
        if surface is None:
            for xs, ys, _ in paths:
                self.extend_range("x", min(xs), max(xs))
                self.extend_range("left", min(ys), max(ys))
        self.set_ticks()
        self.refresh()  # linear axes always: finish() would apply the loss chart's log switch

    def _draw_levels(self, surface, paths) -> None:
        xs = [x for path in paths for x in path[0]] + [surface.center[0]]
        ys = [y for path in paths for y in path[1]] + [surface.center[1]]
        pad_x = max((max(xs) - min(xs)) * 0.15, 1e-3)
        pad_y = max((max(ys) - min(ys)) * 0.15, 1e-3)
        box_x, box_y = (min(xs) - pad_x, max(xs) + pad_x), (min(ys) - pad_y, max(ys) + pad_y)
        muted = plot_color(level_color(self.app.current_theme))
        for level in surface.levels(box_x, box_y):
            cx, cy = surface.level_curve(level)
            if len(cx):
                self.plt.plot(cx.tolist(), cy.tolist(), color=muted, marker="braille")
        self.plt.xlim(*box_x)
        self.plt.ylim(*box_y)
        self.ranges = {"x": box_x, "left": box_y}


class Landscape(Vertical):
    """The plot, with a choice of the two parameters when there are more than two."""

    DEFAULT_CSS = """
    Landscape { height: 1fr; }
    Landscape .axes { height: 1; }
    Landscape .axes Label { padding: 0 1; color: $text-muted; }
    Landscape .axes Select { width: 1fr; }
    Landscape .note { color: $text-muted; padding: 0 1; height: auto; }
    """

    def __init__(self, runs: Runs, **kwargs) -> None:
        super().__init__(**kwargs)
        self.runs = runs
        self._names: list[str] = []
        self._no_surface = False
        self._classifier = False

    def compose(self) -> ComposeResult:
        with Horizontal(classes="axes"):
            yield Label("x")
            yield Select([], allow_blank=True, compact=True, classes="x-axis")
            yield Label("y")
            yield Select([], allow_blank=True, compact=True, classes="y-axis")
        yield Static(SURFACE_NOTE, classes="note")
        yield LandscapePlot(self.runs, classes="plot")

    @property
    def plot(self) -> LandscapePlot:
        return self.query_one(LandscapePlot)

    def on_resize(self) -> None:
        self._show_note()

    def _show_note(self) -> None:
        """A short map gets the short note, never none: ✕ and ● must stay explained."""
        if self._no_surface:
            note = NO_CLOSED_FORM_NOTE if self._classifier else NO_SURFACE_NOTE
        else:
            note = SURFACE_NOTE if self.size.height >= TALL_ENOUGH else SHORT_NOTE
        self.query_one(".note", Static).update(note)

    def replot(self) -> None:
        runs = self.runs()
        if runs and runs[0][0].started is not None:
            self._classifier = runs[0][0].classifies
            self._offer(runs[0][0].parameter_names, runs[0][0].started.gram is None)
        self.plot.replot()

    def _offer(self, names: list[str], no_surface: bool) -> None:
        """Fill the axis choices when the parameters change (a new run)."""
        if names != self._names:
            self._names = names
            options = [(Text(name), index) for index, name in enumerate(names)]  # Text: w[x1] is no markup
            x, y = self.query_one(".x-axis", Select), self.query_one(".y-axis", Select)
            with self.prevent(Select.Changed):
                x.set_options(options)
                y.set_options(options)
                x.value, y.value = 0, len(names) - 1
            self.plot.axes = (0, len(names) - 1)
        self._no_surface = no_surface
        self._show_note()

    @on(Select.Changed)
    def _axes_changed(self, event: Select.Changed) -> None:
        x, y = self.query_one(".x-axis", Select).value, self.query_one(".y-axis", Select).value
        if isinstance(x, int) and isinstance(y, int):
            self.plot.axes = (x, y)
            self.plot.replot()
