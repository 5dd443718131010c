"""A classifier's decision regions: over two features the person picks (the others at their
training mean), the class the current W and b pick at each cell, the boundaries between them, and
the training points by class (a sample when there are many). Redrawn with the chart, as the
landscape is, from the run's latest snapshot; the points are read once per run, off the UI thread.

With one feature there is no second axis: the feature runs along x and each point sits at the
height of its class, over the intervals each class wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Label, Select, Static

from ..run_view import RunView
from .landscape import level_color
from .loss_chart import ThemedPlot, plot_color

if TYPE_CHECKING:
    import numpy as np

    from ...core.config import DataConfig

CLASS_MARKERS = "●▲■◆★✚✖♦"  # each class's points: told apart without colour too
REGION_MARKER = "·"
OVERSAMPLE = 1.5  # grid points per character cell, across and down
TALL_ENOUGH = 16  # rows below which the note gives its room to the plot
BOUNDARY_MARKER = "•"
NOTE = "class regions of the current W, b · other features at their mean · points by class"
ONE_FEATURE_NOTE = "one feature: the intervals each class wins · points at their class's height"
WAITING_NOTE = "decision regions: start a classification run (loss cross-entropy)"


@dataclass(frozen=True)
class Points:
    """The training rows drawn (a sample), as the model sees them (standardized when it is)."""

    data: DataConfig
    x: np.ndarray
    y: np.ndarray
    means: np.ndarray  # where the features not drawn are held


class RegionsPlot(ThemedPlot):
    def __init__(self, view: RunView, **kwargs) -> None:
        super().__init__(**kwargs)
        self.view = view
        self.axes: tuple[int, int | None] = (0, 1)
        self.points: Points | None = None

    def replot(self) -> None:
        import numpy as np

        from ...core.regions import padded_box, region_grid

        self.start("")
        view, snapshot = self.view, self.view.snapshot
        started = view.started
        if started is None or started.classes is None or snapshot is None:
            self.refresh()
            return
        features, classes = started.feature_names, started.classes
        d, k = len(features), len(classes)
        i, j = self.axes
        i = min(i, d - 1)
        j = None if d == 1 or j is None else min(j, d - 1)
        weights = np.asarray(snapshot.weights, dtype=np.float64).reshape(k, d)
        bias = np.asarray(snapshot.biases or [snapshot.bias] * k, dtype=np.float64)
        points = self.points
        xs = points.x[:, i] if points is not None else np.zeros(0)
        box = padded_box(xs, points.x[:, j] if points is not None and j is not None else None)
        if points is None:
            box = ((-3.0, 3.0), (-3.0, 3.0) if j is not None else box[1])
        if j is None:
            box = (box[0], (-0.5, k - 0.5))
        base = points.means if points is not None else np.zeros(d)
        # more grid points than character cells (plotext's canvas is a little narrower than the
        # widget, by the tick labels): every cell gets one, so no column of the regions is left blank
        columns, rows = max(4, int(self.size.width * OVERSAMPLE)), max(3, int(self.size.height * OVERSAMPLE))
        grid = region_grid(weights, bias, base, i, j, box, columns, rows)
        gx, gy = np.meshgrid(grid.xs, grid.ys)
        edge = grid.boundary()
        for c in range(k):
            cell = (grid.classes == c) & ~edge
            if cell.any():
                self.plt.scatter(gx[cell].tolist(), gy[cell].tolist(), marker=REGION_MARKER, color=plot_color(self.series_text(c)))
        if edge.any():
            muted = plot_color(level_color(self.app.current_theme))
            self.plt.scatter(gx[edge].tolist(), gy[edge].tolist(), marker=BOUNDARY_MARKER, color=muted)
        if points is not None:
            for c in range(k):
                mine = points.y == c
                if mine.any():
                    ys = points.x[mine, j] if j is not None else np.full(int(mine.sum()), float(c))
                    marker = CLASS_MARKERS[c % len(CLASS_MARKERS)]
                    self.plt.scatter(points.x[mine, i].tolist(), ys.tolist(), marker=marker, color=plot_color(self.series_text(c)))
        self.plt.xlabel(features[i])
        self.plt.ylabel(features[j] if j is not None else "class")
        self.plt.xlim(*box[0])
        self.plt.ylim(*box[1])
        self.ranges = {"x": box[0], "left": box[1]}
        self.set_ticks()
        if j is None:  # the y axis is the class: its labels, not numbers
            self.plt.yticks(list(range(k)), list(classes))
        self.refresh()


class DecisionRegions(Vertical):
    """The plot, with a choice of the two features when there are more than two."""

    DEFAULT_CSS = """
    DecisionRegions { height: 1fr; }
    DecisionRegions .axes { height: 1; }
    DecisionRegions .axes Label { padding: 0 1; color: $text-muted; }
    DecisionRegions .axes Select { width: 1fr; }
    DecisionRegions .note { color: $text-muted; padding: 0 1; height: auto; }
    DecisionRegions.-short .note { display: none; }
    DecisionRegions .legend { padding: 0 1; height: auto; max-height: 2; }
    DecisionRegions.-short .legend { height: 1; }
    """

    def __init__(self, view: RunView, **kwargs) -> None:
        super().__init__(**kwargs)
        self.view = view
        self._features: list[str] = []
        self._asked: DataConfig | None = None  # the data whose points were last asked for

    def compose(self) -> ComposeResult:
        with Horizontal(classes="axes"):
            yield Label("x")
            yield Select([], allow_blank=True, compact=True, classes="x-axis")
            yield Label("y")
            yield Select([], allow_blank=True, compact=True, classes="y-axis")
        yield Static(WAITING_NOTE, classes="note")
        yield Static("", classes="legend")
        yield RegionsPlot(self.view, classes="plot")

    @property
    def plot(self) -> RegionsPlot:
        return self.query_one(RegionsPlot)

    def on_resize(self) -> None:
        self.set_class(self.size.height < TALL_ENOUGH, "-short")  # 24 rows: the plot needs them all

    def replot(self) -> None:
        started, config = self.view.started, self.view.config
        if started is not None and started.classes is not None:
            self._offer(list(started.feature_names))
            self._legend(list(started.classes))
            if config is not None and config.data != self._asked:
                self._asked = config.data
                self.plot.points = None
                self._load_points(config.data)
        self.plot.replot()

    def _legend(self, classes: list[str]) -> None:
        plot = self.plot
        items = [f"[{plot.series_text(c)}]{CLASS_MARKERS[c % len(CLASS_MARKERS)]}[/] {label}" for c, label in enumerate(classes)]
        text = f"{BOUNDARY_MARKER} boundary  " + "  ".join(items)  # the boundary first: the classes may be cut
        self.query_one(".legend", Static).update(text)

    def _offer(self, features: list[str]) -> None:
        """Fill the feature choices when the features change (a new run)."""
        if features == self._features:
            return
        self._features = features
        options = [(Text(name), index) for index, name in enumerate(features)]
        one = len(features) == 1
        x, y = self.query_one(".x-axis", Select), self.query_one(".y-axis", Select)
        with self.prevent(Select.Changed):
            x.set_options(options)
            y.set_options([] if one else options)
            x.value = 0
            if not one:
                y.value = 1
        y.disabled = one
        self.plot.axes = (0, None if one else 1)
        self.query_one(".note", Static).update(ONE_FEATURE_NOTE if one else NOTE)

    @work(thread=True, exclusive=True, group="regions", exit_on_error=False)
    def _load_points(self, data: DataConfig) -> None:
        """The training rows, read as the run reads them (same seed, same split), then sampled."""
        from ...core.data import load_dataset
        from ...core.errors import DataError
        from ...core.regions import sample

        try:
            dataset = load_dataset(data, classify=True)
        except DataError:
            return  # the run itself says what is wrong with the data
        keep = sample(dataset.y_train.reshape(-1))
        x = dataset.x_train[keep].astype("float64")
        points = Points(data, x, dataset.y_train.reshape(-1)[keep].astype("int64"), dataset.x_train.mean(axis=0, dtype="float64"))
        self.app.call_from_thread(self._points_loaded, points)

    def _points_loaded(self, points: Points) -> None:
        if points.data == self._asked and self.is_attached:
            self.plot.points = points
            self.plot.replot()

    @on(Select.Changed)
    def _axes_changed(self, event: Select.Changed) -> None:
        x, y = self.query_one(".x-axis", Select).value, self.query_one(".y-axis", Select).value
        if isinstance(x, int):
            self.plot.axes = (x, y if isinstance(y, int) else None)
            self.plot.replot()
