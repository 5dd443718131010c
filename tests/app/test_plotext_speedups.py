"""The faster plotext helpers (widgets/plotext_speedups.py) return what plotext's own return."""

import random

import plotext._utility as utility
import pytest

from tui_trainer.app.widgets import plotext_speedups
from tui_trainer.app.widgets.plotext_speedups import get_lines, hd_group

plotext_speedups.install()
original = plotext_speedups._installed


def points(rng: random.Random, count: int, width: int, height: int) -> tuple[list[int], list[int]]:
    return [rng.randrange(-3, width) for _ in range(count)], [rng.randrange(-3, height) for _ in range(count)]


@pytest.mark.parametrize("seed", range(40))
def test_get_lines_draws_plotexts_lines(seed):
    rng = random.Random(seed)
    x, y = points(rng, rng.choice([1, 2, 3, 50, 200]), 160, 80)
    if seed % 5 == 0:  # a point repeated, and a vertical run (a column's low and high)
        x, y = x[:1] * 3 + x, y[:2] + y[:1] + y
    markers = [rng.choice(["braille", "·"]) for _ in x]
    colors = [rng.choice([(1, 2, 3), 4, "default"]) for _ in x]
    styles = ["default"] * len(x)
    assert get_lines(x, y, markers, colors, styles) == original["get_lines"](x, y, markers, colors, styles)


@pytest.mark.parametrize("seed", range(40))
def test_hd_group_makes_plotexts_characters(seed):
    rng = random.Random(seed)
    x, y = points(rng, rng.choice([1, 5, 500, 5000]), 160, 80)
    xf, yf = [2] * len(x), [4] * len(x)
    assert hd_group(x, y, xf, yf) == original["hd_group"](x, y, xf, yf)
    assert hd_group(x, y, [1] * len(x), [1] * len(x)) == original["hd_group"](x, y, [1] * len(x), [1] * len(x))


def test_what_they_were_not_written_for_goes_to_plotext():
    nan = float("nan")
    x, y, markers = [0, 1.5, nan, 4], [0, 2, 3, nan], ["braille"] * 4
    assert get_lines(x, y, markers) == original["get_lines"](x, y, markers)
    assert utility.get_lines is get_lines and utility.hd_group is hd_group
