"""`tui-trainer race`: the table, the JSON object, metrics with entry names, exit codes."""

import json
import signal
import subprocess
import sys
import time

import pytest

from tui_trainer.cli import main

from .test_train import strict_json


def race(capsys, *flags):
    try:
        code = main(["race", *flags])
    except SystemExit as exit:
        code = exit.code
    out, err = capsys.readouterr()
    return code, out, err


def test_a_race_of_the_seven_defaults_prints_a_table(capsys):
    code, out, err = race(capsys, "--entries", "bgd,sgd,mbgd,momentum,adagrad,rmsprop,adam")
    lines = out.splitlines()
    assert code == 0 and err == ""
    assert lines[0].startswith("race on synthetic: 1000 rows") and "optimal loss 0.256257" in lines[0]
    assert [line.split()[0] for line in lines[2:]] == ["bgd", "sgd", "mbgd", "momentum", "adagrad", "rmsprop", "adam"]
    assert all(" DONE " in line and " steps, " in line for line in lines[2:])


def test_json_has_the_promised_fields_and_shared_flags_apply(capsys):
    code, out, _ = race(capsys, "--entries", "adam:lr=0.1,adam:lr=0.01,momentum:lr=0.05:momentum=0.9",
                        "--epochs", "3", "--samples", "400", "--seed", "2", "--json")
    result = strict_json(out)
    assert code == 0 and result["optimal_loss"] > 0
    names = [entry["name"] for entry in result["entries"]]
    assert names == ["adam:lr=0.1", "adam:lr=0.01", "momentum:lr=0.05:momentum=0.9"]
    for entry in result["entries"]:
        assert {"name", "algorithm", "final_loss", "steps_to_optimal", "seconds_to_optimal", "diverged", "weights", "bias"} <= entry.keys()
        assert entry["epochs"] == 3
    # the same settings through `train` end at the same place
    assert main(["train", "--algorithm", "adam", "--lr", "0.1", "--epochs", "3", "--samples", "400", "--seed", "2", "--json"]) == 0
    alone = strict_json(capsys.readouterr().out)
    assert (alone["weights"], alone["bias"], alone["final_loss"]) == (
        result["entries"][0]["weights"], result["entries"][0]["bias"], result["entries"][0]["final_loss"])


def test_metrics_name_the_entry_on_every_line(capsys, tmp_path):
    metrics = tmp_path / "race.jsonl"
    code, out, _ = race(capsys, "--entries", "bgd:epochs=5,sgd:epochs=1", "--samples", "100", "--metrics", str(metrics), "--json")
    lines = [strict_json(line) for line in metrics.read_text().splitlines()]
    assert code == 0
    by_entry = {name: [line for line in lines if line["entry"] == name] for name in ("bgd:epochs=5", "sgd:epochs=1")}
    assert [line["step"] for line in by_entry["bgd:epochs=5"]] == [1, 2, 3, 4, 5]
    assert [line["step"] for line in by_entry["sgd:epochs=1"]] == list(range(1, 81))
    assert len(lines) == 85
    # every epoch's end carries the epoch's losses, in a race as in train
    assert [line["step"] for line in by_entry["bgd:epochs=5"] if "train_loss" in line] == [1, 2, 3, 4, 5]
    assert [line["step"] for line in by_entry["sgd:epochs=1"] if "val_loss" in line] == [80]


def test_an_entry_that_diverges_is_reported_and_the_race_still_succeeds(capsys):
    code, out, _ = race(capsys, "--entries", "sgd:lr=3,adam", "--json")
    result = strict_json(out)
    assert code == 0
    assert [e["diverged"] for e in result["entries"]] == [True, False]
    assert result["entries"][0]["steps_to_optimal"] is None


def test_exit_3_when_every_entry_diverges(capsys):
    code, _, err = race(capsys, "--entries", "bgd:lr=5,sgd:lr=4")
    assert code == 3 and "every entry diverged" in err


@pytest.mark.parametrize(
    "flags, expected",
    [
        (["--entries", "adam:lr=x"], "entry 'adam:lr=x': lr: must be a number, got 'x'"),
        (["--entries", "bgd", "--lr", "0.1"], "unrecognized arguments: --lr 0.1; an entry takes its own settings"),
        (["--entries", "adam:implementation=scratch", "--engine", "fused"], "entry 'adam:implementation=scratch': implementation scratch needs engine autograd"),
        (["--entries", "adam:algorithm=sgd"], "the algorithm comes first"),
        (["--entries", "bgd", "--forget-zero-grad"], "unrecognized arguments: --forget-zero-grad"),
        (["--entries", "bgd", "--epochs", "0"], "--epochs: must be a whole number >= 1"),
        (["--entries", "bgd", "--data", "nope.csv"], "nope.csv: no such file"),
        ([], "the following arguments are required: --entries"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(capsys, flags, expected):
    code, out, err = race(capsys, *flags)
    assert code == 2 and out == "" and err.count("\n") == 1 and expected in err


def entries_logged(metrics) -> set[str]:
    """The entries with a step in the metrics file so far (its last line may be half written)."""
    if not metrics.exists():
        return set()
    names = set()
    for line in metrics.read_text().splitlines():
        try:
            names.add(json.loads(line)["entry"])
        except (json.JSONDecodeError, KeyError):
            pass
    return names


def test_ctrl_c_stops_the_race_prints_the_result_and_exits_130(tmp_path):
    metrics = tmp_path / "m.jsonl"
    process = subprocess.Popen(
        [sys.executable, "-m", "tui_trainer", "race", "--entries", "sgd,adam", "--epochs", "100000", "--json", "--metrics", str(metrics)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 60
    while entries_logged(metrics) != {"sgd", "adam"} and time.monotonic() < deadline:
        time.sleep(0.1)  # poll until both entries have trained (the file is written in 64 KiB blocks)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 130, err
    result = json.loads(out)
    assert result["interrupted"] and all(e["state"] == "STOPPED" and e["steps"] > 0 for e in result["entries"])
