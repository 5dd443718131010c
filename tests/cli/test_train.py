"""`tui-trainer train`: flags, JSON summary, metrics, exit codes, signals, progress bar."""

import json
import os
import pty
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tui_trainer.cli import main
from tui_trainer.core.config import PRESETS

from .helpers import run_cli

SUMMARY_FIELDS = {
    "algorithm", "implementation", "device", "steps", "epochs", "final_loss", "val_loss", "optimal_loss",
    "weights", "bias", "true_weights", "true_bias", "feature_means", "feature_stds", "diverged",
    "interrupted", "steps_per_s", "seconds", "hessian_eigenvalues", "condition_number", "max_stable_lr",
}


def strict_json(text):
    """json.loads that refuses NaN and Infinity, which are not JSON."""
    def refuse(constant):
        raise ValueError(f"non-finite number {constant} in JSON output")

    return json.loads(text, parse_constant=refuse)


def train(capsys, *flags):
    """Run `tui-trainer train` in this process: (exit code, stdout, stderr)."""
    return run_cli(capsys, "train", *flags)


@pytest.mark.parametrize("algorithm", [algorithm.value for algorithm in PRESETS])
def test_json_summary_for_every_algorithm(capsys, algorithm):
    code, out, err = train(capsys, "--algorithm", algorithm, "--json")
    assert code == 0 and err == ""
    summary = strict_json(out)
    assert summary.keys() >= SUMMARY_FIELDS
    assert summary["algorithm"] == algorithm and summary["device"] == "cpu"
    assert summary["true_weights"] == [3.0] and summary["true_bias"] == 0.8
    assert summary["feature_means"] is None and summary["val_loss"] > 0
    assert summary["final_loss"] <= summary["optimal_loss"] * 1.01
    assert not summary["diverged"] and not summary["interrupted"]
    assert summary["steps"] > 0 and summary["steps_per_s"] > 0


def test_default_run_prints_a_readable_summary(capsys):
    code, out, _ = train(capsys)
    assert code == 0
    assert out.startswith("bgd (torch) on cpu: DONE after 100 steps, 100 epochs")
    assert "optimal" in out and "true [3]" in out


def test_help_lists_each_algorithms_defaults_and_they_are_the_ones_used(capsys):
    code, out, _ = train(capsys, "--help")
    assert code == 0
    lines = {line.split()[0]: line for line in out.splitlines()[-len(PRESETS) :]}
    assert list(lines) == [algorithm.value for algorithm in PRESETS]
    seed_seven = ["bgd", "sgd", "mbgd", "momentum", "adagrad", "rmsprop", "adam"]
    assert [name for name in lines if name in seed_seven] == seed_seven and {"nesterov", "adamw"} <= set(lines)
    assert "lr 0.02, beta1 0.9, beta2 0.999" in lines["adam"] and "batch-size full, epochs 100" in lines["bgd"]
    assert "weight-decay 0.01" in lines["adamw"] and "weight-decay" not in lines["adam"]
    code, out, _ = train(capsys, "--algorithm", "bgd", "--json")  # full batch for 100 epochs: 100 steps
    summary = strict_json(out)
    assert code == 0 and (summary["epochs"], summary["steps"]) == (100, 100)


def test_flags_reach_the_run(capsys):
    code, out, _ = train(
        capsys, "--algorithm", "momentum", "--lr", "0.02", "--momentum", "0.5", "--batch-size", "10",
        "--epochs", "2", "--samples", "200", "--dims", "2", "--noise", "0", "--true-weights", "1,2",
        "--true-bias", "-1", "--val-fraction", "0", "--implementation", "scratch", "--init", "zeros", "--json",
    )
    fused_code, fused_out, _ = train(capsys, "--engine", "fused", "--algorithm", "adam", "--json")
    assert fused_code == 0 and strict_json(fused_out)["final_loss"] <= strict_json(fused_out)["optimal_loss"] * 1.01
    summary = strict_json(out)
    assert code == 0
    assert (summary["implementation"], summary["steps"], summary["epochs"]) == ("scratch", 40, 2)
    assert summary["true_weights"] == [1.0, 2.0] and summary["true_bias"] == -1.0 and summary["val_loss"] is None
    assert summary["optimal_loss"] == pytest.approx(0, abs=1e-10)  # no noise: the optimum fits exactly


@pytest.mark.parametrize(
    "flags, expected",
    [
        (["--lr", "-1"], "--lr: must be a finite number greater than 0, got -1.0"),
        (["--lr", "nan"], "--lr: must be a finite number greater than 0, got nan"),
        (["--algorithm", "adam", "--momentum", "0.9"], "--momentum: does not apply to adam"),
        (["--algorithm", "adam", "--beta2", "1"], "--beta2: must be in [0, 1)"),
        (["--batch-size", "0"], "--batch-size: must be a whole number >= 1 or 'full'"),
        (["--epochs", "0"], "--epochs: must be a whole number >= 1"),
        (["--val-fraction", "1"], "--val-fraction: must be in [0, 1)"),
        (["--dims", "2", "--true-weights", "1"], "--true-weights has 1 values but --dims is 2"),
        (["--target", "y"], "--target only applies to CSV data"),
        (["--device", "tpu"], "--device: must be auto, cpu, cuda, cuda:N or mps"),
        (["--device", "cuda"], "device 'cuda' was asked for, but"),
        (["--algorithm", "newton"], "argument --algorithm: invalid choice: 'newton'"),
        (["--speed", "3"], "unrecognized arguments: --speed 3"),
        (["--data", "missing.csv"], "missing.csv: no such file"),
        (["--log-every", "0"], "--log-every: must be a whole number >= 1"),
        (["--engine", "fused", "--implementation", "scratch"],
         "implementation scratch needs --engine autograd (fused writes its own updates)"),
        (["--engine", "jit"], "argument --engine: invalid choice: 'jit'"),
        (["--lr", "1e39"], "--lr: must be at most 1e+30, got 1e+39"),
        (["--weight-decay", "1e300"], "--weight-decay: must be at most 1e+30"),
        (["--seed", "99999999999999999999"], "--seed: must be a whole number from 0 to 2^63 - 1"),
        (["--samples", "1000000000000"], "does not fit in memory: choose fewer samples or features"),
        # targets whose squares overflow float32: no learning rate helps, so the data is named
        (["--noise", "1e29", "--true-bias", "1e29", "--samples", "10"], "squared errors that size overflow float32"),
        (["--noise", "1e15", "--true-bias", "1e15", "--samples", "10"], None),
        (["--data", "a" * 300 + ".csv"], "cannot be read (File name too long)"),
        (["--metrics", "/no/such/folder/m.jsonl"], "--metrics: cannot write /no/such/folder/m.jsonl"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(capsys, flags, expected):
    code, out, err = train(capsys, *flags)
    if expected is None:  # extreme but valid: it runs, and whatever happens is reported cleanly
        assert code in (0, 3) and "Traceback" not in err
        return
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("tui-trainer: error: ") and expected in err


@pytest.mark.parametrize("flag", ["--json", "--metrics=x.jsonl", "--quiet"])
def test_an_output_flag_without_a_command_is_named(capsys, flag):
    try:
        main([flag])
    except SystemExit as exit:
        assert exit.code == 2
    assert f"{flag.split('=')[0]} goes with a command" in capsys.readouterr().err


def test_csv_problems_are_one_line_naming_row_and_column(capsys, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("x,y\n1,2\n3,oops\n")
    code, _, err = train(capsys, "--data", str(path))
    assert code == 2 and err == (
        f"tui-trainer: error: {path}: row 2, column 'y': 'oops' is not a number; fix the cell or leave the column out of the features\n"
    )


def test_csv_run_reports_standardization(capsys, tmp_path):
    path = tmp_path / "houses.csv"
    rows = [f"{a},{r},{3 * a + 10 * r + 5}" for a, r in zip(range(50, 90), [1, 2, 3, 4] * 10, strict=True)]
    path.write_text("area,rooms,price\n" + "\n".join(rows) + "\n")
    code, out, _ = train(capsys, "--data", str(path), "--target", "price", "--features", "area,rooms", "--json", "--epochs", "300")
    summary = strict_json(out)
    assert code == 0 and summary["true_weights"] is None and summary["true_bias"] is None
    assert len(summary["feature_means"]) == 2 and len(summary["feature_stds"]) == 2
    assert summary["final_loss"] == pytest.approx(summary["optimal_loss"], abs=1e-3)


def test_divergence_exits_3_and_writes_no_nan(capsys, tmp_path):
    metrics = tmp_path / "m.jsonl"
    code, out, err = train(capsys, "--lr", "5", "--json", "--metrics", str(metrics))
    summary = strict_json(out)
    assert code == 3 and summary["diverged"] and summary["state"] == "DIVERGED"
    assert err.startswith("tui-trainer: diverged: ")
    lines = [strict_json(line) for line in metrics.read_text().splitlines()]
    assert len(lines) == summary["steps"]


def test_metrics_lines_have_the_promised_fields_and_epoch_losses(capsys, tmp_path):
    metrics = tmp_path / "m.jsonl"
    code, _, _ = train(capsys, "--algorithm", "mbgd", "--epochs", "3", "--batch-size", "100", "--metrics", str(metrics), "--json")
    lines = [strict_json(line) for line in metrics.read_text().splitlines()]
    assert code == 0 and len(lines) == 24  # 800 rows / 100 = 8 steps an epoch
    assert [line["step"] for line in lines] == list(range(1, 25))
    for line in lines:
        assert {"step", "epoch", "loss", "lr", "elapsed"} <= line.keys()
    ends = [line for line in lines if "train_loss" in line]
    assert [line["step"] for line in ends] == [8, 16, 24] and all(line["val_loss"] > 0 for line in ends)
    assert [line["epoch"] for line in ends] == [1, 2, 3]
    elapsed = [line["elapsed"] for line in lines]
    assert elapsed == sorted(elapsed) and elapsed[0] > 0


def test_log_every_thins_steps_but_keeps_epoch_ends(capsys, tmp_path):
    metrics = tmp_path / "m.jsonl"
    train(capsys, "--algorithm", "mbgd", "--epochs", "2", "--batch-size", "100", "--metrics", str(metrics), "--log-every", "5")
    steps = [strict_json(line)["step"] for line in metrics.read_text().splitlines()]
    assert steps == [5, 8, 10, 15, 16]


# --- in a real process ---------------------------------------------------------------------

LONG_RUN = [sys.executable, "-m", "tui_trainer", "train", "--algorithm", "sgd", "--epochs", "100000"]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_flushes_metrics_prints_summary_and_exits_130(tmp_path, signum):
    metrics = tmp_path / "m.jsonl"
    process = subprocess.Popen([*LONG_RUN, "--json", "--metrics", str(metrics)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while (not metrics.exists() or metrics.stat().st_size < 100_000) and time.monotonic() < deadline:
        time.sleep(0.1)  # wait until training is well under way
    process.send_signal(signum)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 130, err
    summary = strict_json(out)
    assert summary["interrupted"] and summary["state"] == "STOPPED" and not summary["diverged"]
    lines = metrics.read_text().splitlines()
    assert strict_json(lines[-1])["step"] == summary["steps"] == len(lines)
    assert "Traceback" not in err


def loading_torch(pid: int) -> bool:
    """torch's libraries are mapped: the process is inside `import torch`, before training."""
    try:
        return "torch/lib" in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


def test_interrupt_before_training_starts_is_quiet_and_130():
    process = subprocess.Popen(LONG_RUN, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not loading_torch(process.pid) and time.monotonic() < deadline:
        time.sleep(0.01)  # poll until it is importing torch, however slow the machine
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)  # importing torch takes a while on a busy machine
    assert process.returncode == 130 and "Traceback" not in err
    assert "interrupted before training started" in err


def test_progress_bar_only_on_a_terminal(tmp_path):
    quiet = subprocess.run([sys.executable, "-m", "tui_trainer", "train"], capture_output=True, text=True)
    assert quiet.returncode == 0 and quiet.stderr == ""
    # stderr on a pseudo-terminal: the bar is drawn there
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "tui_trainer", "train", "--algorithm", "sgd", "--epochs", "20"],
        stdout=subprocess.PIPE, stderr=follower, env={**os.environ, "COLUMNS": "100", "TERM": "xterm"},
    )
    os.close(follower)
    drawn = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        drawn += chunk
    process.wait(60)
    os.close(leader)
    assert process.returncode == 0
    assert b"sgd" in drawn and b"/16000" in drawn and b"loss" in drawn


def test_metrics_of_gigabytes_are_announced_with_the_fix(capsys):
    from tui_trainer.headless import _warn_if_metrics_are_huge

    _warn_if_metrics_are_huge(1_000_000, 1)  # 80 MB: fine, nothing said
    assert capsys.readouterr().err == ""
    _warn_if_metrics_are_huge(80_000_000, 1)
    err = capsys.readouterr().err
    assert err.startswith("tui-trainer: warning: --metrics will write about 6.0 GB (80,000,000 lines); --log-every ")
    every = int(err.split("--log-every ")[1].split()[0].replace(",", ""))
    assert 80_000_000 * 80 / every < 200 << 20  # the suggested --log-every brings it near 100 MB


def test_unstandardized_longley_reports_nists_minimum_and_says_ill_conditioned(capsys):
    """NIST's Longley table (κ(A) ≈ 5e9): the optimum was 2.7x too high and κ null."""
    longley = str(Path(__file__).parent.parent / "data" / "longley.csv")
    flags = ("--data", longley, "--target", "employment", "--no-standardize", "--val-fraction", "0", "--epochs", "1")
    code, out, _ = train(capsys, *flags, "--json")
    summary = strict_json(out)
    assert code == 0
    assert summary["optimal_loss"] == pytest.approx(836424.055505915 / 16, rel=1e-6)  # NIST's certified RSS / n
    assert summary["condition_number"] == pytest.approx(2.36e19, rel=0.01)
    _, out, _ = train(capsys, *flags)
    assert "curvature ill-conditioned (κ = 2.36e+19): gradient descent crawls; standardize the features" in out
