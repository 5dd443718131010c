"""The parameter inspector: each weight and the bias beside its gradient, the optimizer's state
for it, the true value and the closed-form optimum; and the autograd facts of the last step.

A classifier has a weight matrix: one row per class, a column per feature and one for the bias,
and the cells show one thing at a time (value, gradient, each optimizer state, the optimum), which
`c` (cycle_cells) changes, so k classes fit in 80x24."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.coordinate import Coordinate
from textual.widgets import DataTable, Static

from ...core.rules import STATE_LABELS
from ..run_view import RunView
from .text import same_cell, show_text

NUMBER_WIDTH = 9  # what compact() needs: "-0.001385", "-6.68e-04"


def number(value: float | None, digits: int = 6) -> str:
    return "—" if value is None else f"{value:.{digits}g}"


def compact(value: float | None) -> str:
    """At most 9 characters: small and large magnitudes in scientific notation."""
    if value is None:
        return "—"
    if value != 0 and not 1e-3 <= abs(value) < 1e5:
        return f"{value:.2e}"
    return f"{value:.4g}"


class Inspector(Vertical):
    DEFAULT_CSS = """
    Inspector { height: auto; max-height: 50%; }
    Inspector DataTable { height: auto; max-height: 12; }
    Inspector .facts { color: $text-muted; padding: 0 1; }
    """

    def __init__(self, view: RunView, **kwargs) -> None:
        super().__init__(**kwargs)
        self.view = view
        self._columns: tuple[str, ...] = ()
        self.cells = "value"  # what a classifier's matrix shows: value, grad, a state's name, optimum
        self._shown: dict[str, list] = {}  # the cells on screen, by row

    def compose(self) -> ComposeResult:
        yield DataTable(id="parameters", cursor_type="row", zebra_stripes=True)
        yield Static("Press s to start training, n to take one step.", id="distance", classes="facts")
        yield Static("", id="autograd", classes="facts")

    def cell_modes(self) -> list[str]:
        """What a classifier's cells can show, in the order `c` steps through them."""
        snapshot = self.view.snapshot
        states = list(snapshot.state) if snapshot is not None else []
        return ["value", "grad", *states, "optimum"]

    def cycle_cells(self) -> str:
        modes = self.cell_modes()
        self.cells = modes[(modes.index(self.cells) + 1) % len(modes)] if self.cells in modes else modes[0]
        self.update_view()
        return self.cells

    def update_view(self) -> None:
        rows = self.view.parameter_rows()
        table = self.query_one(DataTable)
        if rows and self.view.classifies:
            self._show_matrix(rows, table)
            self._show_facts()
            return
        if not rows:
            table.clear(columns=True)
            self._columns = ()
            show_text(self.query_one("#distance", Static), "Press s to start training, n to take one step.")
            show_text(self.query_one("#autograd", Static), "")
            return
        state_names = tuple(rows[0].state)
        columns = ("param", "value", "grad", *(STATE_LABELS.get(n, n) for n in state_names), "true", "optimum")
        cells = {row.name: self._cells(row, state_names) for row in rows}
        if columns != self._columns or table.row_count != len(rows):
            table.clear(columns=True)
            # fixed widths: columns sized by whichever values came first would clip later ones
            table.add_column(columns[0], width=max(5, *(len(row.name) for row in rows)))
            for label in columns[1:]:
                table.add_column(label, width=NUMBER_WIDTH)
            for name, row_cells in cells.items():
                table.add_row(*row_cells, key=name)
            self._columns = columns
        else:
            # only cells whose text changed: any update repaints the whole table, so a paused run,
            # or a run whose shown digits hold still, costs nothing
            for name, row_cells in cells.items():
                for index, (cell, shown) in enumerate(zip(row_cells, self._shown[name], strict=True)):
                    if not same_cell(cell, shown):
                        table.update_cell_at(Coordinate(table.get_row_index(name), index), cell)
        self._shown = cells
        self._show_facts()

    def _show_matrix(self, rows, table: DataTable) -> None:
        """One row per class: its weight for each feature, then its bias, showing `self.cells`."""
        started = self.view.started
        assert started is not None and started.classes is not None  # a classifier's rows exist
        classes, features = started.classes, started.feature_names
        if self.cells not in self.cell_modes():
            self.cells = "value"
        label = STATE_LABELS.get(self.cells, self.cells)
        heading = f"{label} (c)"  # the key that shows the next kind of cell
        columns = (heading, *features, "b")
        d, k = len(features), len(classes)
        values = [self._cell(row) for row in rows]
        cells = [[Text(name), *values[c * d : (c + 1) * d], values[k * d + c]] for c, name in enumerate(classes)]
        if columns != self._columns or table.row_count != k:
            table.clear(columns=True)
            table.add_column(Text(heading), width=max(len(heading), *(len(name) for name in classes)))
            for name in (*features, "b"):
                table.add_column(Text(name), width=max(NUMBER_WIDTH, min(len(name), 14)))
            for index, line in enumerate(cells):
                table.add_row(*line, key=f"class-{index}")
            self._columns = columns
        else:
            for index, line in enumerate(cells):
                for column, cell in enumerate(line):
                    table.update_cell_at(Coordinate(index, column), cell)

    def _cell(self, row) -> str:
        if self.cells == "value":
            return compact(row.value)
        if self.cells == "grad":
            return compact(row.grad)
        if self.cells == "optimum":
            return compact(row.optimum)
        return compact(row.state.get(self.cells))

    @staticmethod
    def _cells(row, state_names) -> list:
        return [
            Text(row.name),  # a Text, so `w[x1]` is not read as markup
            compact(row.value),
            compact(row.grad),
            *(compact(row.state[name]) for name in state_names),
            compact(row.true),
            compact(row.optimum),
        ]

    def _show_facts(self) -> None:
        view, snapshot = self.view, self.view.snapshot
        if view.separable:
            distance = "separable: no finite optimum"
        else:
            distance = f"‖θ − θ*‖ {number(view.distance_to_optimum(), 4)}"
        lines = [
            f"{distance} · lr {number(view.lr, 4)}",
            f"batch loss {number(view.last_loss, 5)} · optimal {number(view.optimal_loss, 5)}"
            + (f" · validation {number(view.last_val_loss, 5)}" if view.last_val_loss is not None else ""),
        ]
        if view.classifies:  # on the first line: 24 rows leave the inspector few
            lines[0] += f" · accuracy {number(view.last_accuracy, 4)}"
            if view.last_val_accuracy is not None:
                lines[0] += f" (val {number(view.last_val_accuracy, 4)})"
        stability = view.started.stability if view.started else None
        if stability is not None and view.classifies:
            lines.append(f"Hessian at the optimum λmax {stability.largest:.4g} · λmin {stability.smallest:.4g}")
        elif stability is not None:
            kappa = "∞" if stability.condition_number is None else f"{stability.condition_number:.3g}"
            lines.append(
                f"Hessian λmax {stability.largest:.4g} · λmin {stability.smallest:.4g} · κ {kappa} · "
                f"stable lr < {stability.max_stable_lr:.4g} (plain GD)"
            )
        show_text(self.query_one("#distance", Static), "\n".join(lines))
        if snapshot is not None:
            show_text(self.query_one("#autograd", Static), autograd_facts(snapshot, view.config))


def autograd_facts(snapshot, config) -> str:
    """What autograd recorded: the training loss's graph, and whether evaluation kept one (the
    Learn view's "evaluate without torch.no_grad()" shows here). `config`: what the run was
    started with, for what the snapshot cannot say (the engine, the experiments)."""
    fused = config is not None and config.engine.value == "fused"
    flags = " ".join(f"{name}{'✓' if on else '✗'}" for name, on in snapshot.requires_grad.items())
    if snapshot.grad_fn:
        grad_fn = snapshot.grad_fn
    elif fused:
        grad_fn = "None (the fused engine builds no autograd graph)"
    else:
        grad_fn = "None (no step yet)"
    if snapshot.eval_grad_fn:
        eval_grad_fn = f"{snapshot.eval_grad_fn} (graph kept)"
    elif fused:
        eval_grad_fn = "None (fused engine: no graph)"
    elif config is not None and config.experiments.eval_without_no_grad:
        eval_grad_fn = "None (no evaluation yet)"
    else:
        eval_grad_fn = "None (torch.no_grad)"
    return (f"loss.grad_fn {grad_fn} · requires_grad {flags}\n"
            f"eval loss.grad_fn {eval_grad_fn} · model.training {snapshot.training}")
