"""The chart's axes (issue 11, point 2): short round tick labels, whole-number steps, and a constant
series drawn as one line, for a diverged run, a log-scale run and a long constant-lr run."""

import re
from types import SimpleNamespace

import numpy as np
import pytest
from textual.app import App, ComposeResult

from tui_trainer.app.run_view import RunView
from tui_trainer.app.widgets.loss_chart import LossChart
from tui_trainer.app.widgets.ticks import MAX_LABEL, labels, log_ticks, nice_ticks, tick_label

from .helpers import wait_for

pytestmark = pytest.mark.timeout(60)


@pytest.mark.parametrize(
    "low, high, integer",
    [
        (0, 1231, True),
        (3e17, 4.2e35, False),
        (1e-8, 13.36, False),
        (0.01, 0.01, False),
        (-3, 7, False),
        (0, 1e7, True),
        (2.5e-6, 2.7e-6, False),
    ],
)
def test_ticks_are_round_short_and_inside_the_range(low, high, integer):
    ticks = nice_ticks(low, high, 5, integer)
    assert 1 <= len(ticks) <= 20
    assert all(len(label) <= MAX_LABEL for label in labels(ticks))
    assert len(set(labels(ticks))) == len(ticks)  # each tick says which it is
    if integer:
        assert all(t == int(t) for t in ticks)


def test_labels_read_as_people_write_numbers():
    assert labels(nice_ticks(0, 4.2e35)) == ["0", "1e35", "2e35", "3e35", "4e35"]
    assert labels(log_ticks(1e-8, 13.36)) == ["1e-8", "1e-6", "1e-4", "0.01", "1"]
    assert labels(nice_ticks(0.25, 0.9)) == ["0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9"]
    assert tick_label(0.0100000000000000019, 0.001) == "0.010"
    assert labels(nice_ticks(0, 1231, integer=True)) == ["0", "200", "400", "600", "800", "1000", "1200"]
    assert labels([1.0]) == ["1"] and labels([4.2e35]) == ["4.2e35"]  # a lone tick: a flat series


class ChartApp(App):
    def __init__(self, view: RunView, log: bool = False, lr: bool = False) -> None:
        super().__init__()
        self.view, self.log_scale, self.lr = view, log, lr

    def compose(self) -> ComposeResult:
        yield LossChart(self.view)

    def on_mount(self) -> None:
        plot = self.query_one(LossChart).plot
        plot.log_scale, plot.show_lr = self.log_scale, self.lr
        self.query_one(LossChart).replot()


def a_view(losses, lrs=None, optimum: float | None = 0.25) -> RunView:
    view = RunView()
    steps = range(1, len(losses) + 1)
    view.train.extend(steps, np.asarray(losses, dtype=float))
    view.lrs.extend(steps, np.asarray(lrs if lrs is not None else [0.01] * len(losses), dtype=float))
    view.started = SimpleNamespace(optimal_loss=optimum, classes=None)  # all the chart reads of the start: a regression
    return view


async def chart_text(view: RunView, **switches) -> str:
    app = ChartApp(view, **switches)
    async with app.run_test(size=(120, 40)) as pilot:
        plot = app.query_one(LossChart).plot
        await wait_for(pilot, lambda: plot.drawn and plot.size.width > 20, what="the chart")
        plot.replot()
        return plot.plt.build()


def tick_labels(chart: str) -> list[str]:
    """Every number printed on the chart's axes."""
    plain = re.sub(r"\x1b\[[0-9;]*m", "", chart)
    return re.findall(r"-?\d[\d.]*(?:e-?\d+)?", plain)


def longest(chart: str) -> int:
    return max(map(len, tick_labels(chart)))


async def test_a_diverged_run_has_short_labels():
    losses = 2.0 ** np.arange(1, 121)  # up to 1.3e36
    chart = await chart_text(a_view(losses))
    assert longest(chart) <= MAX_LABEL, tick_labels(chart)
    assert "e36" in chart or "e35" in chart


async def test_a_log_scale_run_has_short_labels_in_decades():
    losses = 13.36 * np.exp(-np.arange(1, 2001) / 100.0)
    chart = await chart_text(a_view(losses, optimum=1e-8), log=True)
    assert longest(chart) <= MAX_LABEL, tick_labels(chart)
    assert "1e-8" in chart and "0.00000000" not in chart


async def test_a_long_constant_lr_is_a_line_with_whole_step_ticks():
    steps = 24_317
    lrs = 0.01 + np.random.default_rng(0).normal(0, 1e-18, steps)  # float32 → float64 noise in the last bits
    losses = 0.25 + np.exp(-np.arange(steps) / 3000.0)
    chart = await chart_text(a_view(losses, lrs=lrs), lr=True)
    numbers = tick_labels(chart)
    assert longest(chart) <= MAX_LABEL, numbers
    assert "0.0100000000000000019" not in chart and "0.010" in chart
    assert not any("." in n and float(n) > 100 for n in numbers)  # no 1231.1 step ticks
    # the lr is one row of braille, not a box filling the chart
    plain = re.sub(r"\x1b\[[0-9;]*m", "", chart).splitlines()
    rows = [line for line in plain if "⣀" in line or "⠉" in line or "⠒" in line or "⠤" in line]
    assert len(rows) < 8
