"""`tui-trainer learn`: every lesson headless (exit 0, text and JSON, both languages), the list,
and bad input as one line with exit 2."""

import subprocess
import sys

import pytest

from tui_trainer.cli import main
from tui_trainer.core.lesson_texts import LESSON_NAMES, TITLES

from .test_train import strict_json

SMALL = ("--samples", "40", "--dims", "2")


def learn(capsys, *flags):
    try:
        code = main(["learn", *flags])
    except SystemExit as exit:
        code = exit.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("name", LESSON_NAMES)
def test_every_lesson_runs_headless_and_says_what_torch_did(capsys, name):
    code, out, err = learn(capsys, "--lesson", name, *SMALL)
    assert code == 0 and err == ""
    assert out.splitlines()[0] == TITLES["en"][name] and ">>> " in out
    code, out, _ = learn(capsys, "--lesson", name, "--json", *SMALL)
    result = strict_json(out)
    assert code == 0 and result["name"] == name and result["steps"] and result["rows"] == 32  # 40 rows, 0.2 held out


def test_retain_graph_as_json_shows_the_error_and_the_doubled_gradient(capsys):
    code, out, _ = learn(capsys, "--lesson", "retain-graph", "--json", *SMALL)
    result = strict_json(out)
    assert code == 0 and result["steps"][1]["error"].startswith("RuntimeError: Trying to backward through the graph a second time")
    assert result["facts"]["twice"] == [2 * g for g in result["facts"]["once"]]


def test_the_lesson_runs_on_the_runs_own_model(capsys):
    _, out, _ = learn(capsys, "--lesson", "graph", "--json", "--dims", "4", "--init", "normal", "--seed", "5")
    result = strict_json(out)
    assert result["model"] == "Linear(in_features=4, out_features=1, bias=True)"
    assert len(result["graph"]["grads"]["weight"]) == 4


def test_chinese_from_either_side_of_the_command(capsys):
    for flags in (["--lang", "zh", "learn"], ["learn", "--lang", "zh"]):
        try:
            code = main([*flags, "--lesson", "numpy", *SMALL])
        except SystemExit as exit:
            code = exit.code
        out, _ = capsys.readouterr()
        assert code == 0 and out.splitlines()[0] == TITLES["zh"]["numpy"]


def test_without_a_lesson_it_lists_them(capsys):
    code, out, err = learn(capsys)
    assert code == 0 and err == ""
    assert [line.split()[0] for line in out.splitlines()[: len(LESSON_NAMES)]] == list(LESSON_NAMES)
    code, out, _ = learn(capsys, "--json")
    assert [lesson["name"] for lesson in strict_json(out)["lessons"]] == list(LESSON_NAMES)


def test_an_unknown_lesson_is_one_line_naming_every_lesson_and_exit_2():
    done = subprocess.run([sys.executable, "-m", "tui_trainer.cli", "learn", "--lesson", "backprop"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and "backprop" in lines[0] and all(name in lines[0] for name in LESSON_NAMES)
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("flags", [("--samples", "-1"), ("--data", "/nonexistent.csv"), ("--algorithm", "nope")])
def test_a_bad_run_flag_is_one_line_and_exit_2(capsys, flags):
    code, out, err = learn(capsys, "--lesson", "graph", *flags)
    assert code == 2 and out == "" and len(err.splitlines()) == 1 and err.startswith("tui-trainer: error:")
