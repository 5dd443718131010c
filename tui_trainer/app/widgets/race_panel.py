"""The race view: entries typed as `tui-trainer race --entries` takes them, their loss curves
overlaid, a live table of who reached the optimum when, and every path on the landscape."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.coordinate import Coordinate
from textual.markup import escape
from textual.widgets import DataTable, Input, Label, Static
from textual.widgets.data_table import ColumnKey

from ...core.errors import ConfigError
from ...core.race_events import NEAR_OPTIMAL_GOAL, parse_entries
from ..messages import RaceSubmitted
from ..race_view import RaceView
from .landscape import Landscape
from .loss_chart import ThemedPlot, plot_color
from .text import same_cell, show_text

DEFAULT_ENTRIES = "bgd,sgd,mbgd,momentum,adagrad,rmsprop,adam"
READY = (
    "Press s to race these entries on the form's data, seed, initialisation, device and engine; "
    "each entry takes its algorithm's own lr, batch size and epochs unless it sets them (adam:epochs=5)."
)


class RacePlot(ThemedPlot):
    """Each entry's loss on the whole training set, by epoch, in its own colour."""

    def __init__(self, race: RaceView, **kwargs) -> None:
        super().__init__(**kwargs)
        self.race = race

    def replot(self) -> None:
        # epochs on a log axis: entries run for 5 to 100 epochs and most of a race is its start
        self.start("epoch (log)")
        for index, run in enumerate(self.race.runs):
            if run.started is None or not len(run.whole):
                continue
            x, y = self.curve(run.whole)
            self.line(x / run.started.steps_per_epoch, y, plot_color(self.series_text(index)))
        self.optimum_line(self.race.optimal_loss)
        self.finish(log_x=True)


class RacePanel(Vertical):
    DEFAULT_CSS = """
    RacePanel { height: 1fr; }
    RacePanel .spec { height: 1; }
    RacePanel .spec Label { width: 9; color: $text-muted; padding-left: 1; }
    RacePanel .spec Input { width: 1fr; }
    RacePanel #race-problem { color: $error; padding: 0 1; display: none; height: auto; }
    RacePanel.-invalid #race-problem { display: block; }
    RacePanel #race-legend { height: auto; padding: 0 1; }
    RacePanel #race-views { height: 1fr; }
    RacePanel RacePlot { width: 1fr; }
    RacePanel Landscape { width: 1fr; display: none; }
    RacePanel.-landscape Landscape { display: block; }
    RacePanel DataTable { height: auto; max-height: 10; }
    """

    def __init__(self, race: RaceView, **kwargs) -> None:
        super().__init__(**kwargs)
        self.race = race
        self.spec_problem: str | None = None
        self.entry_names: list[str] = []  # the entries typed, shown in the table before a race
        self._listed: list[str] = []
        self._cells: list[list] = []  # the rows on screen

    def compose(self) -> ComposeResult:
        with Horizontal(classes="spec"):
            yield Label("entries")
            yield Input(
                DEFAULT_ENTRIES,
                id="race-entries",
                compact=True,
                tooltip="algorithm:setting=value,... as `tui-trainer race --entries` takes them",
            )
        yield Static("", id="race-problem")
        yield Static(READY, id="race-legend")
        with Horizontal(id="race-views"):
            yield RacePlot(self.race, id="race-plot")
            yield Landscape(self._runs, id="race-landscape")
        yield DataTable(id="race-table", cursor_type="row", zebra_stripes=True)

    def _runs(self):
        plot = self.query_one(RacePlot)
        return [(run, plot.series_text(index)) for index, run in enumerate(self.race.runs)]

    @property
    def plot(self) -> RacePlot:
        return self.query_one(RacePlot)

    @property
    def spec(self) -> str:
        return self.query_one("#race-entries", Input).value

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        # the widths add up to what an 80-column terminal leaves the race (cell padding included)
        for label, width in (("", 1), ("entry", 14), ("state", 8), ("steps", 7), ("loss", 8), ("to 1% of optimal", 17)):
            table.add_column(label, width=width, key=label or "mark")
        self._spec_changed()

    @on(Input.Changed, "#race-entries")
    def _spec_changed(self) -> None:
        try:
            self.entry_names = [entry.name for entry in parse_entries(self.spec)]
            self.spec_problem = None
        except ConfigError as error:
            self.spec_problem = str(error)
        self.query_one("#race-problem", Static).update(self.spec_problem or "")
        self.set_class(self.spec_problem is not None, "-invalid")
        self.update_view()

    @on(Input.Submitted, "#race-entries")
    def _submitted(self) -> None:
        self.post_message(RaceSubmitted())

    def show_landscape(self, shown: bool) -> None:
        self.set_class(shown, "-landscape")
        if shown:
            self.query_one(Landscape).replot()

    def update_view(self) -> None:
        """The legend and the table, from the race view."""
        race, plot = self.race, self.plot
        if not race.names:
            show_text(self.query_one("#race-legend", Static), READY)
        else:
            legend = "  ".join(f"[{plot.series_text(i)}]━━[/] {escape(name)}" for i, name in enumerate(race.names))
            if race.optimal_loss is not None:
                legend += f"  [{plot.color_text('optimum', 'success')}]──[/] optimum {race.optimal_loss:.5g}"
            if race.goal != NEAR_OPTIMAL_GOAL:  # separable classes: the loss only nears 0, never reaches it
                legend += f"  (separable: the goal is {escape(race.goal)})"
            show_text(self.query_one("#race-legend", Static), legend)
        table = self.query_one(DataTable)
        goal = table.columns[ColumnKey("to 1% of optimal")]
        heading = f"to {race.short_goal.removeprefix('within ')}"  # "to 1% of optimal" or "to all rows right"
        if goal.label.plain != heading:
            goal.label = Text(heading)
            table.refresh()
        rows: list[list] = []
        if not race.names:  # before a race: the entries it will run, so the table is not empty
            rows = [
                [Text("●", style=plot.series_text(i)), Text(name), "ready", "—", "—", "—"]
                for i, name in enumerate(self.entry_names)
            ]
        for index, (name, run, reach) in enumerate(zip(race.names, race.runs, race.reach, strict=True)):
            loss = run.whole.latest
            rows.append([
                Text("●", style=plot.series_text(index)),
                Text(name),
                run.state.value,
                f"{run.step:,}",
                "—" if loss is None else f"{loss:.5g}",
                reach.describe(),
            ])
        shown = [str(row[1]) for row in rows]  # which entries the table lists, by name
        if table.row_count != len(rows) or shown != self._listed:
            self._listed = shown
            table.clear()
            for index, row in enumerate(rows):
                table.add_row(*row, key=str(index))
        else:  # only the cells that changed: one update repaints the whole table
            for index, (row, before) in enumerate(zip(rows, self._cells, strict=True)):
                for column, (cell, old) in enumerate(zip(row, before, strict=True)):
                    if not same_cell(cell, old):
                        table.update_cell_at(Coordinate(index, column), cell)
        self._cells = rows

    def replot(self) -> None:
        self.plot.replot()
        if self.has_class("-landscape"):
            self.query_one(Landscape).replot()
