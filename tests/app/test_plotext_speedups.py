"""The faster plotext helpers (widgets/plotext_speedups.py) draw what plotext's own draw."""

import random

import plotext as plt
import plotext._matrix as plotext_matrix
import plotext._utility as utility
import pytest

from tui_trainer.app.widgets import plotext_speedups
from tui_trainer.app.widgets.plotext_speedups import brush, get_lines, hd_group, set_matrices

plotext_speedups.install()
original = plotext_speedups._installed


def points(rng: random.Random, count: int, width: int, height: int) -> tuple[list[int], list[int]]:
    return [rng.randrange(-3, width) for _ in range(count)], [rng.randrange(-3, height) for _ in range(count)]


def rows(lists: list) -> set:
    return set(zip(*lists, strict=False))


@pytest.mark.parametrize("seed", range(40))
def test_get_lines_draws_plotexts_lines(seed):
    rng = random.Random(seed)
    x, y = points(rng, rng.choice([1, 2, 3, 50, 200]), 160, 80)
    if seed % 5 == 0:  # a point repeated, and a vertical run (a column's low and high)
        x, y = x[:1] * 3 + x, y[:2] + y[:1] + y
    markers = [rng.choice(["braille", "·"]) for _ in x]
    colors = [rng.choice([(1, 2, 3), 4, "default"]) for _ in x]
    styles = ["default"] * len(x)
    # markers and colours that vary along the line: every dot, as plotext gives them
    assert get_lines(x, y, markers, colors, styles) == original["get_lines"](x, y, markers, colors, styles)
    # one marker, colour and style (a chart's curve): the same dots, each once, in the order they first come
    same = [["braille"] * len(x), [(1, 2, 3)] * len(x), styles]
    ours, theirs = get_lines(x, y, *same), original["get_lines"](x, y, *same)
    assert rows(ours) == rows(theirs)
    assert list(zip(*ours, strict=True)) == list(dict.fromkeys(zip(*theirs, strict=True)))


@pytest.mark.parametrize("seed", range(20))
def test_brush_keeps_each_dot_once(seed):
    rng = random.Random(seed)
    x, y = points(rng, rng.choice([1, 5, 500]), 12, 9)  # a small grid: many repeats
    same = [["braille"] * len(x), ["red"] * len(x)]
    ours = brush(x, y, *same)
    assert rows(ours) == rows(original["brush"](x, y, *same))
    assert len(ours[0]) == len(rows(ours))
    if len(x) > 1:  # markers that vary: plotext's own
        mixed = [["ab"[i % 2] for i in range(len(x))], ["red"] * len(x)]
        assert brush(x, y, *mixed) == original["brush"](x, y, *mixed)


@pytest.mark.parametrize("seed", range(40))
def test_hd_group_makes_plotexts_characters(seed):
    rng = random.Random(seed)
    x, y = points(rng, rng.choice([1, 5, 500, 5000]), 160, 80)
    xf, yf = [2] * len(x), [4] * len(x)
    assert hd_group(x, y, xf, yf) == original["hd_group"](x, y, xf, yf)
    assert hd_group(x, y, [1] * len(x), [1] * len(x)) == original["hd_group"](x, y, [1] * len(x), [1] * len(x))


@pytest.mark.parametrize("seed", range(30))
def test_set_matrices_colours_the_canvas_as_plotext_does(seed):
    rng = random.Random(seed)
    matrix = plotext_matrix.matrix_class()
    matrix.set_size(rng.randrange(0, 30), rng.randrange(0, 12))
    matrix.set_axes_color("axes")
    matrix.set_canvas_color("canvas")
    columns, rows = [rng.randrange(-3, 35) for _ in range(2)], [rng.randrange(-3, 15) for _ in range(2)]
    if seed % 3:  # an area of no cells now and then (its end before its start)
        columns, rows = sorted(columns), sorted(rows)
    matrix.set_canvas_area(*columns, *rows)
    set_matrices(matrix)
    ours = (matrix.marker, matrix.fullground, matrix.background, matrix.style)
    plotext_speedups._installed_methods["set_matrices"](matrix)
    assert ours == (matrix.marker, matrix.fullground, matrix.background, matrix.style)
    assert len({id(row) for row in ours[2]}) == len(ours[2])  # each row its own list: cells are set one by one


def figure(x: list, ys: list[list], width: int, height: int) -> str:
    plt.clf()
    plt.plotsize(width, height)
    for index, y in enumerate(ys):
        plt.plot(x, y, marker="braille" if index == 0 else "hd", color=["red", "blue", "green"][index])
    return plt.build()


@pytest.mark.parametrize("seed", range(12))
def test_a_whole_figure_is_drawn_as_plotext_draws_it(seed, monkeypatch):
    rng = random.Random(seed)
    count = rng.choice([2, 30, 400])
    x = sorted(rng.uniform(0, 1000) for _ in range(count))
    if seed % 2:  # a noisy loss shown as each column's low and high: long vertical runs
        x = [value for value in x for _ in (0, 1)]
    ys = [[rng.uniform(0.01, 5) ** rng.choice([1, 3]) for _ in x] for _ in range(rng.choice([1, 2, 3]))]
    width, height = rng.choice([(40, 10), (120, 40), (83, 19)])
    ours = figure(x, ys, width, height)
    for name, function in original.items():
        monkeypatch.setattr(utility, name, function)
    for name, method in plotext_speedups._installed_methods.items():
        monkeypatch.setattr(plotext_matrix.matrix_class, name, method)
    assert ours == figure(x, ys, width, height)


def test_what_they_were_not_written_for_goes_to_plotext():
    nan = float("nan")
    x, y, markers = [0, 1.5, nan, 4], [0, 2, 3, nan], ["braille"] * 4
    assert get_lines(x, y, markers) == original["get_lines"](x, y, markers)
    assert brush(x, y, markers) == original["brush"](x, y, markers)
    assert utility.get_lines is get_lines and utility.hd_group is hd_group and utility.brush is brush
