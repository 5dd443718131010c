"""The charts are painted from plotext's cells (widgets/plot_cells.py), not from its ANSI text:
every line must come out exactly as textual-plotext's ANSI round trip paints it, in a theme with
its own background and in an ANSI theme that keeps the terminal's, with every kind of series."""

import numpy as np
import pytest
from rich.text import Text
from textual.app import App, ComposeResult
from textual.visual import Visual, visualize
from textual_plotext import PlotextPlot

from tui_trainer.app.themes import ChartColors
from tui_trainer.app.widgets.loss_chart import LossChart
from tui_trainer.app.widgets.plot_cells import PlotCells

from .helpers import wait_for
from .test_chart_ticks import a_view

pytestmark = pytest.mark.timeout(60)

COLORS = {"primary": "#0178d4", "accent": "#ffa62b", "warning": "#ffa62b", "success": "#4ebf71",
          "secondary": "ansi_bright_magenta", "panel": "grey"}


class ThemedChartApp(App):
    def __init__(self, view, ansi: bool) -> None:
        super().__init__()
        self.view, self.ansi = view, ansi

    def compose(self) -> ComposeResult:
        yield LossChart(self.view)

    def on_mount(self) -> None:
        self.query_one(LossChart).use_theme(ChartColors(validation="ansi_red"), COLORS, self.ansi)


def ansi_path(plot) -> list:
    """How textual-plotext paints the figure: plotext's ANSI string, parsed back by Rich."""
    plot.replot()
    text = PlotextPlot.render(plot)
    assert isinstance(text, Text)
    return Visual.to_strips(plot, visualize(plot, text), plot.size.width, plot.size.height, plot.visual_style)


def cells_path(plot) -> tuple[list, str]:
    """The strips, and the text tests read from a chart."""
    plot.replot()
    visual = plot.render()
    assert isinstance(visual, PlotCells)
    return Visual.to_strips(plot, visual, plot.size.width, plot.size.height, plot.visual_style), str(visual)


def painted(strips) -> list[list[tuple[str, object]]]:
    """Each cell's character and style: runs may be cut differently and look the same."""
    return [[(char, segment.style) for segment in strip for char in segment.text] for strip in strips]


@pytest.mark.parametrize("ansi", [False, True], ids=["own background", "terminal's background"])
@pytest.mark.parametrize("switches", [{}, {"log_scale": True}, {"show_lr": True}, {"smoothing": True}])
async def test_the_cells_paint_what_plotexts_ansi_paints(ansi, switches):
    rng = np.random.default_rng(5)
    losses = np.abs(rng.normal(1.0, 0.5, 3000)) * np.linspace(2, 0.1, 3000)
    view = a_view(losses, lrs=np.linspace(0.1, 0.01, 3000))
    view.whole.extend(range(1, 3001, 100), losses[::100] * 0.9)
    view.validation.extend(range(1, 3001, 100), losses[::100] * 1.1)
    app = ThemedChartApp(view, ansi)
    async with app.run_test(size=(120, 40)) as pilot:
        plot = app.query_one(LossChart).plot
        await wait_for(pilot, lambda: plot.drawn and plot.size.width > 20, what="the chart")
        for name, value in switches.items():
            setattr(plot, name, value)
        old, (new, text) = ansi_path(plot), cells_path(plot)
        assert len(new) == plot.size.height
        assert painted(new) == painted(old)
        assert [strip.cell_length for strip in new] == [strip.cell_length for strip in old]
        assert text == "\n".join(strip.text for strip in old)
