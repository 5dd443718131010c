"""The parameter inspector: each weight and the bias beside its gradient, the optimizer's state
for it, the true value and the closed-form optimum; and the autograd facts of the last step."""

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
        self._shown: dict[str, list] = {}  # the cells on screen, by row

    def compose(self) -> ComposeResult:
        yield DataTable(id="parameters", cursor_type="row", zebra_stripes=True)
        yield Static("Press s to start training, n to take one step.", id="distance", classes="facts")
        yield Static("", id="autograd", classes="facts")

    def update_view(self) -> None:
        rows = self.view.parameter_rows()
        table = self.query_one(DataTable)
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
        lines = [
            f"‖θ − θ*‖ {number(view.distance_to_optimum(), 4)} · lr {number(view.lr, 4)}",
            f"batch loss {number(view.last_loss, 5)} · optimal {number(view.optimal_loss, 5)}"
            + (f" · validation {number(view.last_val_loss, 5)}" if view.last_val_loss is not None else ""),
        ]
        stability = view.started.stability if view.started else None
        if stability is not None:
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
