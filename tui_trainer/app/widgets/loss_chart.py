"""The loss chart: training loss per step, validation loss per epoch, the optimum as a line.

Every redraw first reduces the history to the chart's width, so it costs the same after a million
steps as after a thousand.
"""

from __future__ import annotations

import numpy as np
from textual.app import ComposeResult
from textual.color import Color
from textual.containers import Vertical
from textual.reactive import reactive
from textual.widgets import Static
from textual_plotext import PlotextPlot

from ..history import Reduced, smooth
from ..run_view import RunView
from ..themes import ChartColors

PlotColor = tuple[int, int, int] | int


def plot_color(text: str) -> PlotColor:
    """A colour plotext understands: an ANSI index for ansi_* colours, else RGB."""
    color = Color.parse(text)
    return color.ansi if color.ansi is not None and color.ansi >= 0 else color.rgb


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
        plot = self.plot
        items = [f"[{plot.color_text('train', 'primary')}]━━[/] train/step"]
        items.append(f"[{plot.color_text('validation', 'warning')}]━━[/] val/epoch")
        optimum = self.view.optimal_loss
        if optimum is not None:
            items.append(f"[{plot.color_text('optimum', 'success')}]──[/] optimum {optimum:.5g}")
        modes = [mode for mode, on in (("log", plot.log_scale), ("smoothed", plot.smoothing)) if on]
        if modes:
            items.append("(" + ", ".join(modes) + ")")
        self.query_one("#legend", Static).update("  ".join(items))


class LossPlot(PlotextPlot):
    log_scale: reactive[bool] = reactive(False)
    smoothing: reactive[bool] = reactive(False)

    def __init__(self, view: RunView, **kwargs) -> None:
        super().__init__(**kwargs)
        self.view = view
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

    def watch_log_scale(self) -> None:
        self.replot()

    def watch_smoothing(self) -> None:
        self.replot()

    def on_resize(self) -> None:
        self.replot()

    def replot(self) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.xlabel("step")
        plt.yscale("log" if self.log_scale else "linear")
        columns = max(8, self.size.width - 12)
        train = self.view.train.reduce(columns)
        if len(train):
            x, y = self._train_line(train)
            self._draw_series(x, y, self.color("train", "primary"))
        validation = self.view.validation.reduce(columns)
        if len(validation):
            self._draw_series(validation.x, validation.mean, self.color("validation", "warning"))
        optimum = self.view.optimal_loss
        if optimum is not None and (optimum > 0 or not self.log_scale):
            plt.hline(optimum, self.color("optimum", "success"))
        self.refresh()

    def _train_line(self, reduced: Reduced) -> tuple[np.ndarray, np.ndarray]:
        if self.smoothing:
            return reduced.x, smooth(reduced.mean)
        if np.array_equal(reduced.low, reduced.high):  # one point per column: draw it as it is
            return reduced.x, reduced.mean
        # many points per column: draw each column's spread, low then high, so noise stays visible
        return np.repeat(reduced.x, 2), np.column_stack([reduced.low, reduced.high]).ravel()

    def _draw_series(self, x: np.ndarray, y: np.ndarray, color: PlotColor) -> None:
        if self.log_scale:  # log axes cannot show zero or less
            keep = y > 0
            x, y = x[keep], y[keep]
        if len(x):
            self.plt.plot(x.tolist(), y.tolist(), color=color, marker="braille")
