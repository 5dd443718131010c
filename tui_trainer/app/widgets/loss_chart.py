"""Charts: the run's loss chart, and the plotting shared by every chart of the app.

Every redraw first reduces the history to the chart's width, so it costs the same after a million
steps as after a thousand. Nothing non-finite is ever plotted (the histories drop it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.color import Color
from textual.containers import Vertical
from textual.reactive import reactive
from textual.widgets import Static
from textual_plotext import PlotextPlot

from ..history import History, smooth
from ..run_view import RunView
from ..themes import ChartColors
from . import plotext_speedups
from .plot_cells import PlotCells
from .text import show_text
from .ticks import flat, labels, limits, log_ticks, nice_ticks

if TYPE_CHECKING:
    import numpy as np

PlotColor = tuple[int, int, int] | int
VAL_ACCURACY_MARKER = "·"  # the validation accuracy: dotted, in the training accuracy's colour
SHORT_LEGEND_WIDTH = 70  # a chart narrower than this gets the legend's short words
# used for overlaid curves when a theme names no series of its own
FALLBACK_SERIES = ("primary", "accent", "warning", "secondary", "success", "error")


def plot_color(text: str) -> PlotColor:
    """A colour plotext understands: an ANSI index for ansi_* colours, else RGB."""
    color = Color.parse(text)
    return color.ansi if color.ansi is not None and color.ansi >= 0 else color.rgb


class ThemedPlot(PlotextPlot):
    """A plotext chart in the app's theme, with log scale and smoothing switches."""

    log_scale: reactive[bool] = reactive(False)
    smoothing: reactive[bool] = reactive(False)
    auto_links = False  # a chart has no links: Textual would otherwise copy every line to style them

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        plotext_speedups.install()
        self.chart_colors = ChartColors()
        self.theme_colors: dict[str, str] = {}

    def use_theme(self, chart: ChartColors, theme_colors: dict[str, str], ansi: bool) -> None:
        self.chart_colors, self.theme_colors = chart, theme_colors
        # ANSI themes keep the terminal's own background: plotext's "clear" theme does that
        self.theme = "clear" if ansi else "auto"
        self.replot()

    def color_text(self, role: str, fallback: str) -> str:
        return getattr(self.chart_colors, role) or self.theme_colors.get(fallback) or "white"

    def color(self, role: str, fallback: str) -> PlotColor:
        return plot_color(self.color_text(role, fallback))

    def series_text(self, index: int) -> str:
        """The colour of the index-th overlaid curve."""
        series = self.chart_colors.series or [self.theme_colors.get(n, "white") for n in FALLBACK_SERIES]
        return series[index % len(series)]

    def watch_log_scale(self) -> None:
        self.replot()

    def watch_smoothing(self) -> None:
        self.replot()

    def on_resize(self) -> None:
        self.replot()

    @property
    def columns(self) -> int:
        return max(8, self.size.width - 12)

    integer_x = False  # the x axis counts steps: whole-number ticks

    def start(self, xlabel: str) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.xlabel(xlabel)
        self.drawn = 0
        # what is plotted, per axis ("x", "left", "right"): (low, high), to choose the ticks from
        self.ranges: dict[str, tuple[float, float]] = {}

    def extend_range(self, axis: str, low: float, high: float) -> None:
        old = self.ranges.get(axis)
        self.ranges[axis] = (low, high) if old is None else (min(old[0], low), max(old[1], high))

    def finish(self, log_x: bool = False) -> None:
        """Set the axes' scales (plotext cannot build a log axis with nothing on it) and redraw."""
        if self.drawn:
            self.plt.yscale("log" if self.log_scale else "linear")
            if log_x:
                self.plt.xscale("log")
            self.set_ticks(log_y=self.log_scale, log_x=log_x)
        self.refresh()

    def set_ticks(self, log_y: bool = False, log_x: bool = False) -> None:
        """Short round tick labels on every axis that has data (plotext's own can run to 36 digits)."""
        rows, width = max(4, self.size.height), max(20, self.size.width)
        for axis, (low, high) in self.ranges.items():
            count = max(3, min(6, width // 14)) if axis == "x" else max(3, min(5, rows // 4))
            log = log_x if axis == "x" else log_y and axis == "left"
            if log and low > 0:
                ticks = log_ticks(low, high, count)
            else:
                ticks = nice_ticks(low, high, count, integer=axis == "x" and self.integer_x)
            if axis == "x":
                self.plt.xticks(ticks, labels(ticks))
            else:
                self.plt.yticks(ticks, labels(ticks), yside=axis)  # type: ignore[arg-type]  # plotext takes "left"/"right"

    def render(self):
        try:
            return self._build()
        except Exception as error:  # a plotting library's corner case must not take the app down
            return Text(f"(the chart could not be drawn: {type(error).__name__}: {error})")

    def _build(self) -> PlotCells:
        """textual-plotext's render up to plotext's cells, painted from there (plot_cells.py)."""
        plot, (width, height) = self.plt, self.size
        plot.plotsize(width, height)
        plot._set_size(width, height)  # textual-plotext sets the size twice too (its issue 5)
        plot.theme(self._get_plotext_theme_name(self.app.theme))
        # plotext's build() less its ANSI string (textual-plotext's stub leaves these internals out)
        plot._set_sizes()  # type: ignore[attr-defined]
        plot._build_matrix()  # type: ignore[attr-defined]
        return PlotCells(self, plot.monitor.matrix)  # type: ignore[attr-defined]

    def curve(self, history: History, spread: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """The history at the chart's width; smoothed when asked, or showing each column's spread
        (low, then high) when `spread` and many points share a column."""
        import numpy as np

        reduced = history.reduce(self.columns)
        if self.smoothing:
            return reduced.x, smooth(reduced.mean)
        if not spread or np.array_equal(reduced.low, reduced.high):
            return reduced.x, reduced.mean
        return np.repeat(reduced.x, 2), np.column_stack([reduced.low, reduced.high]).ravel()

    def line(self, x, y, color: PlotColor, yside: str | None = None, marker: str = "braille") -> None:
        if self.log_scale and yside is None:  # log axes cannot show zero or less
            keep = y > 0
            x, y = x[keep], y[keep]
        if len(x):
            xs, ys = list(map(float, x)), list(map(float, y))
            low, high = min(ys), max(ys)
            if flat(low, high) and low != high:  # a constant that differs in its last bits: a line, not noise
                ys = [sum(ys) / len(ys)] * len(ys)
                low = high = ys[0]
            self.plt.plot(xs, ys, color=color, marker=marker, yside=yside)
            self.drawn += 1
            self.extend_range("x", min(xs), max(xs))
            self.extend_range(yside or "left", *limits(low, high))

    def optimum_line(self, optimum: float | None) -> None:
        if optimum is not None and (optimum > 0 or not self.log_scale):
            self.plt.hline(optimum, self.color("optimum", "success"))
            if self.drawn:
                self.extend_range("left", optimum, optimum)

    def replot(self) -> None:
        raise NotImplementedError


class LossPlot(ThemedPlot):
    show_lr: reactive[bool] = reactive(False)
    integer_x = True

    def __init__(self, view: RunView, **kwargs) -> None:
        super().__init__(**kwargs)
        self.view = view

    def watch_show_lr(self) -> None:
        self.replot()

    def replot(self) -> None:
        view = self.view
        self.start("step")
        if len(view.train):
            self.line(*self.curve(view.train, spread=True), self.color("train", "primary"))
        if len(view.whole):
            self.line(*self.curve(view.whole), plot_color(self.theme_colors.get("accent", "white")))
        if len(view.validation):
            self.line(*self.curve(view.validation), self.color("validation", "warning"))
        self.optimum_line(view.optimal_loss)
        if self.show_lr and len(view.lrs):
            reduced = view.lrs.reduce(self.columns)
            self.line(reduced.x, reduced.mean, plot_color(self.theme_colors.get("secondary", "white")), yside="right")
        elif self.shows_accuracy:
            self._accuracy()
        self.finish()

    @property
    def shows_accuracy(self) -> bool:
        """A classifier's accuracy takes the right axis (unless the lr has it)."""
        return self.view.classifies and not self.show_lr

    def _accuracy(self) -> None:
        """Each epoch's share of rows right, training and validation, on a right axis from 0 to 1."""
        view, color = self.view, plot_color(self.theme_colors.get("secondary", "white"))
        if len(view.accuracy):
            self.line(*self.curve(view.accuracy), color, yside="right")
        if len(view.val_accuracy):
            self.line(*self.curve(view.val_accuracy), color, yside="right", marker=VAL_ACCURACY_MARKER)
        if "right" in self.ranges:
            self.ranges["right"] = (0.0, 1.0)
            self.plt.ylim(0.0, 1.0, yside="right")  # type: ignore[arg-type]  # plotext takes "right"


class LossChart(Vertical):
    """A one-line legend in the theme's colours above the plot (plotext's own legend costs rows)."""

    DEFAULT_CSS = """
    LossChart { height: 1fr; }
    LossChart #legend { height: 1; padding: 0 1; }
    """

    def __init__(self, view: RunView, **kwargs) -> None:
        super().__init__(**kwargs)
        self.view = view

    def compose(self) -> ComposeResult:
        yield Static("", id="legend")
        yield LossPlot(self.view, id="plot")

    @property
    def plot(self) -> LossPlot:
        return self.query_one(LossPlot)

    def use_theme(self, chart: ChartColors, theme_colors: dict[str, str], ansi: bool) -> None:
        self.plot.use_theme(chart, theme_colors, ansi)
        self.show_legend()

    def replot(self) -> None:
        self.plot.replot()
        self.show_legend()

    def show_legend(self) -> None:
        plot, view = self.plot, self.view
        # a classifier's legend has one more item: beside the map, or at 80 columns, in fewer words
        short = view.classifies and 0 < self.size.width < SHORT_LEGEND_WIDTH
        items = [f"[{plot.color_text('train', 'primary')}]━━[/] batch"]
        if len(view.whole):
            items.append(f"[{plot.theme_colors.get('accent', 'white')}]━━[/] {'whole' if short else 'whole set'}")
        items.append(f"[{plot.color_text('validation', 'warning')}]━━[/] val")
        if view.optimal_loss is not None:
            items.append(f"[{plot.color_text('optimum', 'success')}]──[/] {'opt' if short else 'optimum'} {view.optimal_loss:.5g}")
        if plot.show_lr:
            items.append(f"[{plot.theme_colors.get('secondary', 'white')}]━━[/] lr (right)")
        elif plot.shows_accuracy:
            accuracy = plot.theme_colors.get("secondary", "white")
            validation = f" [{accuracy}]{VAL_ACCURACY_MARKER * 2}[/] val" if len(view.val_accuracy) else ""
            # a short legend is cut at its end: the accuracy, which has no other key, goes second
            items.insert(1 if short else len(items), f"[{accuracy}]━━[/] {'acc' if short else 'accuracy'}{validation} (right)")
        modes = [mode for mode, on in (("log", plot.log_scale), ("smoothed", plot.smoothing)) if on]
        if modes:
            items.append("(" + ", ".join(modes) + ")")
        show_text(self.query_one("#legend", Static), ("  " if not short else " ").join(items))

    def on_resize(self) -> None:
        self.show_legend()
