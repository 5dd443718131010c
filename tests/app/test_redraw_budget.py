"""A light app (issue 14): what each frame draws, counted rather than timed. Nothing is drawn when
nothing changed; a burst of events costs one chart build; the numbers go at their slower rates;
and the status bar is repainted apart from the chart (together they would repaint the form too).

The screen's frame timer is paused and frames are called by hand, so the counts are exact."""

import pytest

from tui_trainer.app import main_screen
from tui_trainer.app.app import TrainerApp
from tui_trainer.app.widgets.inspector import Inspector
from tui_trainer.app.widgets.loss_chart import LossPlot
from tui_trainer.app.widgets.status_bar import StatusBar
from tui_trainer.core.events import RunState

from .helpers import engine_ready, panels, wait_for

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def counts(monkeypatch):
    """How often the chart is built (plotext, the costly part) and the numbers are updated."""
    counted = {"replot": 0, "chart": 0, "status": 0, "inspector": 0}

    def counting(name, method):
        def wrapper(self, *args, **kwargs):
            counted[name] += 1
            return method(self, *args, **kwargs)
        return wrapper

    monkeypatch.setattr(LossPlot, "replot", counting("replot", LossPlot.replot))
    monkeypatch.setattr(LossPlot, "_build", counting("chart", LossPlot._build))
    monkeypatch.setattr(StatusBar, "update_view", counting("status", StatusBar.update_view))
    monkeypatch.setattr(Inspector, "update_view", counting("inspector", Inspector.update_view))
    return counted


async def frames(pilot, screen, count: int, events: int = 0) -> None:
    """`count` frames, each after `events` batches of news from the trainer, each drawn."""
    for _ in range(count):
        for _ in range(events):
            screen.views_changed()
        screen._redraw()
        await wait_for(pilot, lambda: not screen._deferred, what="the frame's deferred part")
        await pilot.pause()  # and painted


async def still(pilot) -> main_screen.MainScreen:
    """The app with its panels up, its trainer process ready and all drawn, its frames left to the test."""
    await panels(pilot)
    await engine_ready(pilot)  # its device is news for the status bar
    screen = pilot.app.screen
    await wait_for(pilot, lambda: screen.up_to_date, what="all drawn")
    screen.frame_timer.pause()
    screen._frames = 0
    return screen


async def test_nothing_changed_nothing_is_drawn(counts):
    app = TrainerApp()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await still(pilot)
        for name in counts:
            counts[name] = 0
        await frames(pilot, screen, 3 * main_screen.PANEL_FRAMES)
        assert counts == {"replot": 0, "chart": 0, "status": 0, "inspector": 0}
        app.controller.view.state = RunState.RUNNING  # a run that sends nothing: still nothing to draw
        await frames(pilot, screen, 3 * main_screen.PANEL_FRAMES)
        assert counts == {"replot": 0, "chart": 0, "status": 0, "inspector": 0}


async def test_a_burst_of_events_costs_one_chart_build(counts):
    app = TrainerApp()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await still(pilot)
        app.controller.view.state = RunState.RUNNING
        counts["replot"] = counts["chart"] = 0
        await frames(pilot, screen, 1, events=50)
        assert counts["replot"] == counts["chart"] == 1
        await frames(pilot, screen, 4)  # no news since
        assert counts["replot"] == counts["chart"] == 1


async def test_while_running_the_numbers_go_slower_than_the_chart(counts):
    app = TrainerApp()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await still(pilot)
        app.controller.view.state = RunState.RUNNING
        for name in counts:
            counts[name] = 0
        shown = 4 * main_screen.PANEL_FRAMES
        await frames(pilot, screen, shown, events=1)
        assert counts["replot"] == counts["chart"] == shown
        assert counts["status"] == shown // main_screen.STATUS_FRAMES
        assert counts["inspector"] == shown // main_screen.PANEL_FRAMES
        app.controller.view.state = RunState.DONE  # at rest, what changes is shown at once
        await frames(pilot, screen, 1, events=1)
        assert counts["status"] == shown // main_screen.STATUS_FRAMES + 1
        assert counts["inspector"] == shown // main_screen.PANEL_FRAMES + 1


async def test_the_status_bar_is_repainted_apart_from_the_chart(counts):
    app = TrainerApp()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await still(pilot)
        app.controller.view.state = RunState.RUNNING
        screen._frames = main_screen.PANEL_FRAMES - 1  # the next frame updates everything
        for name in counts:
            counts[name] = 0
        screen.views_changed()
        screen._redraw()
        # the status bar now; the chart and the tables once it is on screen
        assert counts == {"replot": 0, "chart": 0, "status": 1, "inspector": 0} and not screen.up_to_date
        await wait_for(pilot, lambda: not screen._deferred, what="the rest of the frame")
        await pilot.pause()
        assert screen.up_to_date
        assert counts == {"replot": 1, "chart": 1, "status": 1, "inspector": 1}


async def test_the_status_bar_never_asks_for_a_layout_pass(monkeypatch):
    """Its height is fixed: a layout pass re-arranges the whole screen (its markup is longer than
    its width, which made the text helper think the height could change)."""
    layouts = []
    update = StatusBar.update

    def recording(self, content="", *, layout=True):
        layouts.append(layout)
        return update(self, content, layout=layout)

    monkeypatch.setattr(StatusBar, "update", recording)
    app = TrainerApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await panels(pilot)
        status = app.screen.status_bar
        for step in range(5):
            status.device = f"cuda:{step} (NVIDIA H100 80GB HBM3, a long name to fill the line {'x' * 40})"
            status.update_view()
        assert layouts and not any(layouts)
