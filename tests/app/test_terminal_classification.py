"""A three-class CSV trained end to end in a real terminal (tmux): the inspector's weight matrix,
the decision regions, the Learn view's cross-entropy step and a race, read off the screen."""

import sys

import pytest

from .test_classification import three_class_csv
from .test_terminal import Terminal

pytestmark = pytest.mark.timeout(600)


def test_a_three_class_csv_in_a_real_terminal(tmp_path):
    csv = three_class_csv(tmp_path)
    flags = f"--loss cross-entropy --data {csv} --algorithm adam --epochs 60"
    terminal = Terminal(f"{sys.executable} -m tui_trainer {flags}; echo TUI-EXIT=$?; sleep 60")
    try:
        terminal.wait_for(r"tui-trainer │ cpu │ IDLE", timeout=60)
        terminal.keys("w", "s")
        terminal.wait_for(r"DONE │ step 300/300 │ epoch 60/60", timeout=300)
        # the inspector: one row per class, a column per feature and the bias
        terminal.wait_for(r"value \(c\)\s+petal\s+sepal\s+stem\s+b")
        for species in ("setosa", "versicolor", "virginica"):
            terminal.wait_for(rf"{species}\s+-?[0-9.]+\s+-?[0-9.]+\s+-?[0-9.]+\s+-?[0-9.]+")
        terminal.wait_for(r"‖θ − θ\*‖ [0-9.]+ · lr 0\.02 · accuracy 0\.[89]")
        terminal.keys("c")
        terminal.wait_for(r"grad \(c\)\s+petal")
        # the decision regions beside the chart: the features chosen, each class's points and marker
        terminal.wait_for(r"x petal\s+▼\s+y sepal")
        terminal.wait_for(r"● setosa\s+▲ versicolor\s+■")  # virginica may wrap to the next line
        screen = terminal.wait_until(lambda s: all(s.count(m) > 3 for m in "●▲■"), "the points by class")
        assert "batch" in screen and "acc" in screen  # the chart's legend has the accuracy
        # the Learn view: a cross-entropy step written out
        terminal.keys("v", "v")
        # the Learn view is open (it says what it writes out): the next step is written out
        terminal.wait_for(r"Start a run \(s\) or take one step|The steps so far were taken while this view was closed")
        terminal.keys("n")
        terminal.wait_for(r"PAUSED │ step 1/300", timeout=60)
        terminal.wait_for(r"z\[setosa\]\s+z\[versicolor\]", timeout=30)
        terminal.wait_for(r"p\(y\)\s+−log p\(y\)")
        terminal.wait_for(r"loss = mean\(−log p\(y\)\) = [0-9.]+")
        # a race of two entries on the same classes
        terminal.keys("r", "v", "v")
        terminal.wait_for(r"entries\s+bgd,sgd,mbgd")
        terminal.keys("s")
        terminal.wait_for(r"RACE DONE │ 7 entries │ 7 finished", timeout=300)
        terminal.wait_for(r"to 1% of optimal")
        terminal.wait_for(r"adam\s+DONE\s+[0-9,]+\s+0\.1\d*", timeout=15)
        terminal.keys("q")
        assert terminal.wait_for(r"TUI-EXIT=(\d+)").group(1) == "0"
    finally:
        terminal.close()
