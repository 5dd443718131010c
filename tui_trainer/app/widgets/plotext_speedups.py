"""Faster versions of the plotext helpers that dominate a noisy chart's redraw.

A loss curve's every column spans its lowest to its highest loss, so a redraw joins ~10,000 braille
dots: plotext draws each line with a list per segment (`get_lines`) and gives each dot a fresh
matrix before grouping them into characters (`hd_group`), a Python step per dot. These do it in
numpy. `hd_group` returns what plotext's returns; `get_lines` the same dots, each once when the
line has one marker, colour and style (tests/app/test_plotext_speedups.py compares them on random
lines, and whole figures drawn both ways); `brush` keeps each dot once and `set_matrices` builds
the blank figure a row at a time. Arguments they were not written for (anything but whole
numbers) go to plotext's own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_installed: dict[str, Callable[..., Any]] = {}  # plotext's originals, by name
_installed_methods: dict[str, Callable[..., Any]] = {}  # plotext's matrix_class methods replaced


def _whole(*lists: list) -> bool:
    return all(set(map(type, values)) <= {int} for values in lists)  # map and set: no Python per value


def _constant(values: list) -> bool:
    return not values or values.count(values[0]) == len(values)


def _first_of_each_place(xs: Any, ys: Any) -> Any:
    """Indices of the first dot at each (x, y), in the order they come (numpy arrays of ints)."""
    import numpy as np

    shifted_x, shifted_y = xs - xs.min(), ys - ys.min()
    _, first = np.unique(shifted_x * (int(shifted_y.max()) + 1) + shifted_y, return_index=True)
    first.sort()
    return first


def get_lines(x: list, y: list, *other: list) -> list:
    """The dots from each point to the next: plotext's `get_lines` (its `get_line` for each pair),
    computed in numpy with the same float64 arithmetic and truncation. When the markers, colours
    and styles are one for the whole line (a chart's curve) each dot is given once, where it first
    appears: plotext removes the repeats right after (`brush`), so the picture is the same, and the
    steps between do half the work (a noisy curve's columns overlap the diagonals joining them)."""
    import numpy as np  # here: the app's first frame draws no line and needs no numpy yet

    if len(x) < 2 or len(y) != len(x) or not _whole(x, y) or any(len(values) != len(x) for values in other):
        return _installed["get_lines"](x, y, *other)
    xs, ys = np.array(x, dtype=np.int64), np.array(y, dtype=np.int64)
    dx, dy = np.diff(xs), np.diff(ys)
    count = np.maximum(np.abs(dx), np.abs(dy))  # dots a segment gives: its length less its end
    segment = np.repeat(np.arange(len(dx)), count)  # which point each dot's line starts from
    step = np.arange(len(segment)) - np.repeat(np.cumsum(count) - count, count)
    along = np.maximum(count, 1).astype(np.float64)
    # plotext's linspace, lower + i * slope, then int(): truncated toward zero
    xl = np.append((xs[:-1][segment] + step * (dx / along)[segment]).astype(np.int64), xs[-1])
    yl = np.append((ys[:-1][segment] + step * (dy / along)[segment]).astype(np.int64), ys[-1])
    index = np.append(segment, len(x) - 1)
    if all(_constant(values) for values in other):
        first = _first_of_each_place(xl, yl)
        xl, yl, index = xl[first], yl[first], index[first]
        return [xl.tolist(), yl.tolist(), *([values[0]] * len(first) for values in other)]
    return [xl.tolist(), yl.tolist(), *([values[i] for i in index.tolist()] for values in other)]


def brush(*lists: list) -> list:
    """Each dot once (plotext's `brush`: the distinct rows of the lists read side by side, cut to
    the shortest). Dots of one marker, colour and style are told apart by their places alone, in
    numpy; plotext returns them in a set's order, this in the order they first appear."""
    import numpy as np

    length = min(map(len, lists))
    if len(lists) < 2 or not length or not _whole(lists[0], lists[1]) or not all(_constant(values[:length]) for values in lists[2:]):
        return _installed["brush"](*lists)
    xs, ys = np.array(lists[0][:length], dtype=np.int64), np.array(lists[1][:length], dtype=np.int64)
    first = _first_of_each_place(xs, ys)
    return [xs[first].tolist(), ys[first].tolist(), *([values[0]] * len(first) for values in lists[2:])]


_MARKERS: dict[int, list[tuple[int, ...]]] = {}  # dots per character -> the tuple of each bit pattern


def hd_group(x: list, y: list, xf: list, yf: list) -> tuple:
    """The characters the dots make (plotext's `hd_group`): each character cell's place, then its
    dots as a tuple of 0s and 1s, bottom row first, in the order the cells first appear. In numpy:
    each dot becomes a bit of its cell's pattern."""
    import numpy as np

    if not x or len(set(xf)) != 1 or len(set(yf)) != 1 or not _whole(x, y):
        return _installed["hd_group"](x, y, xf, yf)  # mixed marker sizes, or no dots
    columns, rows = xf[0], yf[0]  # a braille character: 2 by 4 dots
    xs, ys = np.array(x, dtype=np.int64), np.array(y, dtype=np.int64)
    cell_x, cell_y = xs // columns, ys // rows
    low_y = int(cell_y.min())
    key = (cell_x - int(cell_x.min())) * (int(cell_y.max()) - low_y + 1) + (cell_y - low_y)
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    bits = np.zeros(len(first), dtype=np.int64)
    # plotext's dot order: top row first... reversed, so bit k is dot k of the tuple
    np.bitwise_or.at(bits, inverse.reshape(-1), 1 << ((rows - 1 - ys % rows) * columns + xs % columns))
    order = np.argsort(first)
    size = rows * columns
    if size not in _MARKERS:
        _MARKERS[size] = [tuple((pattern >> k) & 1 for k in range(size)) for pattern in range(1 << size)]
    table = _MARKERS[size]
    chosen = first[order]
    return cell_x[chosen].tolist(), cell_y[chosen].tolist(), [table[pattern] for pattern in bits[order].tolist()]


def set_matrices(matrix: Any) -> None:
    """plotext's `matrix_class.set_matrices`: blank character, colour and style rows, and the
    background of each cell (the canvas colour inside the canvas area, the axes' outside), built a
    row at a time instead of asking for each cell whether it is inside."""
    import plotext._utility as utility  # type: ignore[import-untyped]  # plotext ships no types

    cols, canvas_rows, canvas_cols = matrix.cols, matrix.Rows_canvas, matrix.Cols_canvas
    start = min(max(canvas_cols.start, 0), cols)
    end = min(max(canvas_cols.stop, start), cols)
    axes, canvas = matrix.axes_color, matrix.canvas_color
    matrix.marker = [[utility.space] * cols for _ in matrix.Rows]
    matrix.fullground = [[utility.no_color] * cols for _ in matrix.Rows]
    matrix.background = [
        [axes] * start + [canvas] * (end - start) + [axes] * (cols - end) if row in canvas_rows else [axes] * cols
        for row in matrix.Rows
    ]
    matrix.style = [[utility.no_color] * cols for _ in matrix.Rows]


def install() -> None:
    """Put these in plotext's place (once; the charts call this before their first build)."""
    import plotext._utility as utility

    if not _installed:
        import plotext._matrix as matrix  # type: ignore[import-untyped]

        _installed.update(get_lines=utility.get_lines, hd_group=utility.hd_group, brush=utility.brush)
        utility.get_lines, utility.hd_group, utility.brush = get_lines, hd_group, brush
        _installed_methods["set_matrices"] = matrix.matrix_class.set_matrices
        matrix.matrix_class.set_matrices = set_matrices
