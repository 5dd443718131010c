"""Faster versions of the two plotext helpers that dominate a noisy chart's redraw.

A loss curve's every column spans its lowest to its highest loss, so a redraw joins ~10,000 braille
dots: plotext draws each line with a list per segment (`get_lines`) and gives each dot a fresh
matrix before grouping them into characters (`hd_group`). These return the same values for the
same arguments (tests/app/test_plotext_speedups.py compares them on random lines); arguments
they were not written for (anything but whole numbers) go to plotext's own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_installed: dict[str, Callable[..., Any]] = {}  # plotext's originals, by name


def _whole(*lists: list) -> bool:
    return all(type(value) is int for values in lists for value in values)


def get_lines(x: list, y: list, *other: list) -> list:
    """The dots from each point to the next (plotext's `get_lines`: its `get_line` for each pair)."""
    if len(x) < 2 or len(y) != len(x) or not _whole(x, y) or any(len(values) != len(x) for values in other):
        return _installed["get_lines"](x, y, *other)
    xl: list[int] = []
    yl: list[int] = []
    index: list[int] = []  # which point each dot's marker, colour and style come from
    for n in range(len(x) - 1):
        x0, x1, y0, y1 = x[n], x[n + 1], y[n], y[n + 1]
        length = max(abs(x1 - x0), abs(y1 - y0)) + 1
        if length == 1:
            continue  # the same point twice: plotext's line has only its end, dropped here too
        # plotext's linspace: lower + i * slope, truncated (int()) like its get_line
        x_slope, y_slope = (x1 - x0) / (length - 1), (y1 - y0) / (length - 1)
        xl += [int(x0 + i * x_slope) for i in range(length - 1)]
        yl += [int(y0 + i * y_slope) for i in range(length - 1)]
        index += [n] * (length - 1)
    xl.append(x[-1])
    yl.append(y[-1])
    index.append(len(x) - 1)
    return [xl, yl, *([values[i] for i in index] for values in other)]


def hd_group(x: list, y: list, xf: list, yf: list) -> tuple:
    """The characters the dots make (plotext's `hd_group`): each character cell's place, then its
    dots as a tuple of 0s and 1s, bottom row first, in the order the cells first appear."""
    if not x or len(set(xf)) != 1 or len(set(yf)) != 1 or not _whole(x, y):
        return _installed["hd_group"](x, y, xf, yf)  # mixed marker sizes, or no dots
    columns, rows = xf[0], yf[0]  # a braille character: 2 by 4 dots
    cells: dict[tuple[int, int], set[tuple[int, int]]] = {}
    for xi, yi in zip(x, y, strict=False):
        cells.setdefault((xi // columns, yi // rows), set()).add((yi % rows, xi % columns))
    dots = [(row, column) for row in range(rows - 1, -1, -1) for column in range(columns)]
    markers = [tuple(int(dot in lit) for dot in dots) for lit in cells.values()]
    return [key[0] for key in cells], [key[1] for key in cells], markers


def install() -> None:
    """Put these in plotext's place (once; the charts call this before their first build)."""
    import plotext._utility as utility  # type: ignore[import-untyped]  # plotext ships no types

    if not _installed:
        _installed.update(get_lines=utility.get_lines, hd_group=utility.hd_group)
        utility.get_lines, utility.hd_group = get_lines, hd_group
