"""Run folders: `train --save DIR`, `--resume DIR`, checkpoints that survive signals and kill -9."""

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from tui_trainer.cli import main
from tui_trainer.core import checkpoint
from tui_trainer.core.checkpoint import CheckpointError
from tui_trainer.core.rules import ALGORITHMS

from .helpers import run_cli


def train(capsys, *flags):
    return run_cli(capsys, "train", *flags)


def metrics(path):
    return [json.loads(line) for line in Path(path).read_text().splitlines()]


def same_run(a, b):
    """Two summaries of the same run: every number the training produced is equal, bit for bit."""
    for key in ("steps", "epochs", "weights", "bias", "final_loss", "val_loss", "lr", "state"):
        assert a[key] == b[key], key


ENGINES = {"torch": ["--implementation", "torch"], "scratch": ["--implementation", "scratch"], "fused": ["--engine", "fused"]}
SCHEDULES = {"constant": [], "exponential": ["--schedule", "exponential", "--gamma", "0.7"]}
SMALL = ["--samples", "30", "--batch-size", "4", "--epochs", "3", "--dims", "2", "--json"]  # 24 rows: 6 steps an epoch, 18 in all


@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_a_resumed_run_ends_bit_for_bit_where_the_whole_run_ends(capsys, tmp_path, algorithm, engine, schedule):
    flags = ["--algorithm", algorithm, *ENGINES[engine], *SCHEDULES[schedule], *SMALL]
    code, whole, _ = train(capsys, *flags, "--save", str(tmp_path / "whole"))
    assert code == 0
    code, _, _ = train(capsys, *flags, "--max-steps", "7", "--save", str(tmp_path / "part"), "--checkpoint-every", "3")  # mid-epoch
    assert code == 0
    code, resumed, err = train(capsys, "--resume", str(tmp_path / "part"), "--max-steps", "18", "--json")
    assert code == 0, err
    same_run(json.loads(whole), json.loads(resumed))
    a, b = metrics(tmp_path / "whole" / "metrics.jsonl"), metrics(tmp_path / "part" / "metrics.jsonl")
    assert [line["step"] for line in b] == list(range(1, 19))  # every step once
    assert [(x["loss"], x["lr"]) for x in a] == [(x["loss"], x["lr"]) for x in b]
    for x, y in zip(a, b, strict=True):  # an epoch's mean is summed in other chunks: equal to rounding
        assert ("train_loss" in x) == ("train_loss" in y) and x.get("train_loss") == pytest.approx(y.get("train_loss"), rel=1e-6)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_resumed_classifier_ends_bit_for_bit_with_the_same_accuracies(capsys, tmp_path, engine):
    flags = ["--loss", "cross-entropy", "--algorithm", "adam", *ENGINES[engine], *SMALL]
    code, whole, _ = train(capsys, *flags, "--save", str(tmp_path / "whole"))
    assert code == 0
    code, _, _ = train(capsys, *flags, "--max-steps", "8", "--save", str(tmp_path / "part"), "--checkpoint-every", "4")  # mid-epoch
    assert code == 0
    code, resumed, err = train(capsys, "--resume", str(tmp_path / "part"), "--max-steps", "18", "--json")
    assert code == 0, err
    whole, resumed = json.loads(whole), json.loads(resumed)
    same_run(whole, resumed)
    assert resumed["accuracy"] == whole["accuracy"] and resumed["classes"] == whole["classes"]
    a, b = metrics(tmp_path / "whole" / "metrics.jsonl"), metrics(tmp_path / "part" / "metrics.jsonl")
    assert [x.get("accuracy") for x in a] == [x.get("accuracy") for x in b]  # the epoch begun before the stop too


def test_the_folder_holds_config_metrics_summary_and_checkpoint(capsys, tmp_path):
    folder = tmp_path / "run"
    code, _, _ = train(capsys, "--algorithm", "adam", "--epochs", "2", "--save", str(folder))
    assert code == 0
    assert sorted(p.name for p in folder.iterdir()) == ["checkpoint.pt", "config.toml", "metrics.jsonl", "summary.json"]
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["state"] == "DONE" and summary["steps"] == 50 and len(metrics(folder / "metrics.jsonl")) == 50
    # the folder's config.toml reproduces the run bit for bit
    code, again, _ = train(capsys, "--config", str(folder / "config.toml"), "--json")
    assert code == 0 and json.loads(again)["weights"] == summary["weights"]
    state = checkpoint.load(folder / "checkpoint.pt")
    assert state["step"] == 50 and state["state"] == "DONE"


def test_a_diverged_run_keeps_its_last_finite_checkpoint_and_is_not_resumed(capsys, tmp_path):
    folder = tmp_path / "run"
    code, _, _ = train(capsys, "--lr", "5", "--save", str(folder))
    assert code == 3
    state = checkpoint.load(folder / "checkpoint.pt")
    assert state["state"] == "DIVERGED" and all(torch.isfinite(t).all() for t in state["stepper"][0])
    code, _, err = train(capsys, "--resume", str(folder), "--epochs", "500")
    assert code == 2 and "diverged at step" in err


def damage(path: Path, how: str) -> None:
    data = bytearray(path.read_bytes())
    if how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "flipped":
        data[len(data) // 2] ^= 0x10
        path.write_bytes(data)
    elif how == "foreign":
        torch.save({"weight": torch.zeros(3)}, path)
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "text":
        path.write_text("not a checkpoint\n")


@pytest.mark.parametrize("how", ["truncated", "flipped", "foreign", "empty", "text"])
def test_a_damaged_checkpoint_is_one_line_and_exit_2_and_nothing_is_lost(capsys, tmp_path, how):
    folder = tmp_path / "run"
    train(capsys, "--max-steps", "5", "--save", str(folder))
    before = (folder / "metrics.jsonl").read_bytes()
    damage(folder / "checkpoint.pt", how)
    code, out, err = train(capsys, "--resume", str(folder), "--max-steps", "9")
    assert code == 2 and out == "" and err.count("\n") == 1 and "Traceback" not in err
    assert "checkpoint.pt" in err
    assert (folder / "metrics.jsonl").read_bytes() == before


def test_loading_never_unpickles_code(tmp_path):
    """A checkpoint whose payload holds an arbitrary object is refused by weights_only loading."""
    import hashlib
    import io

    class Sneaky:
        def __reduce__(self):
            return (os.system, ("echo owned > " + str(tmp_path / "owned"),))

    inner = io.BytesIO()
    torch.save({"stepper": Sneaky()}, inner)
    payload = inner.getvalue()
    outer = {"format": checkpoint.FORMAT, "version": checkpoint.VERSION, "sha256": hashlib.sha256(payload).hexdigest(),
             "payload": torch.frombuffer(bytearray(payload), dtype=torch.uint8)}
    torch.save(outer, tmp_path / "checkpoint.pt")
    with pytest.raises(CheckpointError, match="not a tui-trainer checkpoint, or is damaged"):
        checkpoint.load(tmp_path / "checkpoint.pt")
    assert not (tmp_path / "owned").exists()


@pytest.mark.parametrize(
    "flags, expected",
    [
        (["--lr", "0.5"], "--lr cannot change when a run is resumed (the run has 0.1)"),
        (["--algorithm", "adam"], "--algorithm cannot change when a run is resumed"),
        (["--seed", "4"], "--seed cannot change when a run is resumed"),
        (["--samples", "99"], "--samples cannot change when a run is resumed"),
        (["--config", "x.toml"], "leave out --config"),
        (["--save", "elsewhere"], "leave out --save"),
        (["--max-steps", "3"], "has already taken 5 of its 3 steps"),
    ],
)
def test_what_cannot_change_on_resume_is_refused_by_name(capsys, tmp_path, flags, expected):
    folder = tmp_path / "run"
    train(capsys, "--max-steps", "5", "--save", str(folder))
    code, out, err = train(capsys, "--resume", str(folder), *flags)
    assert code == 2 and out == "" and err.count("\n") == 1 and expected in err, err


@pytest.mark.parametrize(
    "flags, expected",
    [
        (["--checkpoint-every", "5"], "--checkpoint-every needs a run folder"),
        (["--save", "d", "--checkpoint-every", "0"], "--checkpoint-every: must be a whole number >= 1"),
        (["--resume", "nowhere"], "--resume nowhere: no such folder"),
    ],
)
def test_run_folder_flags_are_checked(capsys, tmp_path, monkeypatch, flags, expected):
    monkeypatch.chdir(tmp_path)
    code, _, err = train(capsys, *flags)
    assert code == 2 and err.count("\n") == 1 and expected in err


def test_save_refuses_a_folder_that_holds_a_run_and_a_cosine_run_keeps_its_epochs(capsys, tmp_path):
    folder = tmp_path / "run"
    train(capsys, "--schedule", "cosine", "--max-steps", "5", "--save", str(folder))
    code, _, err = train(capsys, "--save", str(folder))
    assert code == 2 and "already holds a run; continue it with --resume" in err
    code, _, err = train(capsys, "--resume", str(folder), "--epochs", "300")
    assert code == 2 and "--epochs cannot change when a run with the cosine schedule is resumed" in err


# --- in a real process ---------------------------------------------------------------------

LONG = ["--algorithm", "sgd", "--samples", "400", "--epochs", "1000", "--checkpoint-every", "50"]


def command(*flags):
    return [sys.executable, "-m", "tui_trainer", "train", *flags]


def wait_for(condition, timeout=90.0):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.02)


def lines_in(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_checkpoints_and_the_resumed_run_matches_the_uninterrupted_one(capsys, tmp_path, signum):
    folder = tmp_path / "run"
    process = subprocess.Popen(command(*LONG, "--save", str(folder), "--json"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    target = random.randint(200, 1500)  # an arbitrary moment, mid-chunk and mid-epoch as it falls
    wait_for(lambda: lines_in(folder / "metrics.jsonl") >= target or process.poll() is not None)
    process.send_signal(signum)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    stopped = json.loads(out)
    assert stopped["state"] == "STOPPED" and checkpoint.load(folder / "checkpoint.pt")["step"] == stopped["steps"]
    total = stopped["steps"] + 333
    code, resumed, err = train(capsys, "--resume", str(folder), "--max-steps", str(total), "--json")
    assert code == 0, err
    code, whole, _ = train(capsys, *LONG[:-2], "--max-steps", str(total), "--json")
    same_run(json.loads(whole), json.loads(resumed))
    assert [line["step"] for line in metrics(folder / "metrics.jsonl")] == list(range(1, total + 1))


def test_a_run_killed_after_its_last_step_but_before_it_finished_resumes_and_finishes(capsys, tmp_path):
    """Killed between the last step's checkpoint and the end of the run (kill -9 can land there):
    --resume takes no step, finishes the run as it would have, and says so with exit code 0."""
    folder = tmp_path / "run"
    flags = ["--algorithm", "momentum", "--samples", "200", "--batch-size", "8", "--max-steps", "40", "--dims", "3"]
    code, whole, err = train(capsys, *flags, "--save", str(folder), "--checkpoint-every", "1", "--json")
    assert code == 0, err
    state = checkpoint.load(folder / "checkpoint.pt")
    assert state["step"] == 40 and state["state"] == "DONE"
    state["state"] = "RUNNING"  # as the checkpoint of step 40 was, before the run's last save
    checkpoint.save(folder / "checkpoint.pt", state)
    (folder / "summary.json").unlink()
    code, _, err = train(capsys, "--resume", str(folder), "--max-steps", "20", "--json")  # fewer than taken: refused
    assert code != 0 and "already taken 40 of its 20 steps" in err
    code, resumed, err = train(capsys, "--resume", str(folder), "--json")
    assert code == 0, err
    same_run(json.loads(whole), json.loads(resumed))
    assert json.loads(resumed)["state"] == "DONE" and checkpoint.load(folder / "checkpoint.pt")["state"] == "DONE"
    assert [line["step"] for line in metrics(folder / "metrics.jsonl")] == list(range(1, 41))
    code, _, err = train(capsys, "--resume", str(folder), "--json")  # finished now: nothing left to do
    assert code != 0 and "already taken 40 of its 40 steps" in err


def test_kill_9_while_checkpointing_never_leaves_an_unreadable_folder(capsys, tmp_path):
    """Checkpoints every step, killed with SIGKILL at random moments again and again (resuming each
    time); the folder always loads, and the run resumed at the end matches one never killed."""
    folder = tmp_path / "run"
    flags = ["--algorithm", "momentum", "--samples", "200", "--batch-size", "8", "--epochs", "8", "--dims", "3"]
    rng = random.Random(13)
    for attempt in range(5):
        if attempt and checkpoint.load(folder / "checkpoint.pt")["state"] == "DONE":
            break  # a fast machine finished the run between two kills: nothing left to resume
        start = ["--save", str(folder)] if attempt == 0 else ["--resume", str(folder)]
        process = subprocess.Popen(
            command(*(flags if attempt == 0 else []), *start, "--checkpoint-every", "1", "--quiet"),
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        seen = lines_in(folder / "metrics.jsonl")
        wait_for(lambda seen=seen, process=process: lines_in(folder / "metrics.jsonl") > seen + 3 or process.poll() is not None)
        time.sleep(rng.uniform(0, 0.25))
        process.kill()
        process.wait()
        if (folder / "checkpoint.pt").exists():
            checkpoint.load(folder / "checkpoint.pt")  # whole: the old one or the new one
    if checkpoint.load(folder / "checkpoint.pt")["state"] == "DONE":
        resumed = (folder / "summary.json").read_text()
    else:
        code, resumed, err = train(capsys, "--resume", str(folder), "--json")
        assert code == 0, err
    code, whole, _ = train(capsys, *flags, "--json")
    same_run(json.loads(whole), json.loads(resumed))
    steps = [line["step"] for line in metrics(folder / "metrics.jsonl")]
    assert steps == list(range(1, json.loads(whole)["steps"] + 1))
    assert not [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]


def test_a_race_saves_its_folder(capsys, tmp_path):
    folder = tmp_path / "race"
    try:
        code = main(["race", "--entries", "adam,sgd:lr=0.01", "--epochs", "2", "--samples", "50", "--save", str(folder), "--json"])
    except SystemExit as exit:
        code = exit.code
    out = capsys.readouterr().out
    assert code == 0
    assert json.loads((folder / "summary.json").read_text())["entries"] == json.loads(out)["entries"]
    lines = metrics(folder / "metrics.jsonl")
    assert {line["entry"] for line in lines} == {"adam", "sgd:lr=0.01"} and len(lines) == 4 + 80
    state = checkpoint.load(folder / "checkpoint.pt")
    assert state["entries"] == "adam,sgd:lr=0.01" and [t["step"] for t in state["trainers"]] == [4, 80]
    code, _, err = train(capsys, "--config", str(folder / "config.toml"), "--json")
    assert code == 0, err
    rows = tmp_path / "rows.csv"
    rows.write_text("x1\n1\n")
    try:
        code = main(["predict", "--run", str(folder), "--data", str(rows)])
    except SystemExit as exit:
        code = exit.code
    assert code == 2 and "holds a race; predict with a single run's folder" in capsys.readouterr().err


def test_a_config_edited_after_the_run_is_refused_on_resume(capsys, tmp_path):
    folder = tmp_path / "run"
    train(capsys, "--max-steps", "5", "--save", str(folder))
    config = folder / "config.toml"
    config.write_text(config.read_text().replace("lr = 0.1", "lr = 0.3"))
    code, _, err = train(capsys, "--resume", str(folder), "--max-steps", "9")
    assert code == 2 and err.count("\n") == 1 and "does not match the run's checkpoint (optimizer.lr differs)" in err


def test_a_run_killed_before_its_first_checkpoint_starts_again_from_step_0(capsys, tmp_path):
    folder = tmp_path / "run"
    train(capsys, "--max-steps", "5", "--save", str(folder))
    (folder / "checkpoint.pt").unlink()  # as if killed before it was written
    code, out, err = train(capsys, "--resume", str(folder), "--json")
    assert code == 0, err
    assert json.loads(out)["steps"] == 5 and [line["step"] for line in metrics(folder / "metrics.jsonl")] == list(range(1, 6))


@pytest.mark.parametrize("block", [7, 64, 1 << 16])
def test_metrics_are_cut_back_to_the_checkpoint_from_the_end(tmp_path, monkeypatch, block):
    from tui_trainer.core import run_folder

    monkeypatch.setattr(run_folder, "TRIM_BLOCK", block)
    path = tmp_path / "metrics.jsonl"
    lines = [json.dumps({"step": s, "loss": 0.5}) + "\n" for s in range(1, 41)]
    for last, tail, kept in [(25, '{"step": 41, "lo', 25), (40, "", 40), (40, '{"st', 40), (0, "", 0), (99, "", 40)]:
        path.write_text("".join(lines) + tail)
        run_folder.trim_metrics(path, last)
        assert path.read_text() == "".join(lines[:kept])
    path.write_text('{"step": 3, "lo')  # nothing complete
    run_folder.trim_metrics(path, 5)
    assert path.read_text() == ""


def test_checkpoints_come_every_n_steps_or_by_the_clock():
    from tui_trainer.core.run_folder import CheckpointClock

    steps = CheckpointClock(every=50)
    assert steps.limit(0) == 50 and steps.limit(120) == 30
    assert not steps.due(49) and steps.due(50)
    steps.saved(50)
    assert not steps.due(50)  # a paused run at the same step: not again
    clock = CheckpointClock(every=None, seconds=3600)
    assert clock.limit(7) is None and not clock.due(10_000)
    assert CheckpointClock(every=None, seconds=0).due(1)
