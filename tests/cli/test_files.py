"""Every file the CLI touches: special files refused, outputs that would destroy inputs refused,
a failed metrics write ending the run cleanly, SIGHUP, and limits said in words, not tracebacks."""

import json
import os
import resource
import signal
import subprocess
import sys
import time

import pytest

from tui_trainer.core import files
from tui_trainer.core.errors import DataError
from tui_trainer.core.reference import least_squares

from .test_train import strict_json, train

CLI = [sys.executable, "-m", "tui_trainer", "train"]


def run(*flags, timeout=120, **options):
    """The CLI in a child: a hang fails the test instead of hanging the suite."""
    return subprocess.run([*CLI, *flags], capture_output=True, text=True, timeout=timeout, check=False, **options)


def one_clear_line(done, expected):
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("tui-trainer: error: ") and expected in done.stderr


def test_data_from_a_fifo_is_refused_not_waited_on(tmp_path):
    fifo = tmp_path / "rows.csv"
    os.mkfifo(fifo)
    one_clear_line(run("--data", str(fifo)), "is a FIFO (named pipe), not a regular file")


def test_data_from_an_endless_device_is_refused():
    one_clear_line(run("--data", "/dev/zero"), "/dev/zero: is a device, not a regular file")


def test_a_file_bigger_than_memory_is_refused_before_it_is_read(tmp_path, monkeypatch, capsys):
    big = tmp_path / "big.csv"
    with big.open("wb") as handle:  # sparse: 8 GB that take no disk
        handle.truncate(8 << 30)
    monkeypatch.setattr(files, "available_memory", lambda: 1 << 30)
    code, _, err = train(capsys, "--data", str(big))
    assert code == 2 and "8.0 GB" in err and "more than the 1.0 GB of memory available" in err


def test_metrics_into_a_fifo_are_refused(tmp_path):
    fifo = tmp_path / "m.jsonl"
    os.mkfifo(fifo)
    one_clear_line(run("--metrics", str(fifo)), "is a FIFO (named pipe), not a regular file")


def test_an_empty_metrics_name_is_refused(capsys):
    code, _, err = train(capsys, "--metrics", "")
    assert code == 2 and "--metrics: needs a file name" in err


def test_metrics_never_overwrite_the_data(tmp_path, capsys):
    data = tmp_path / "rows.csv"
    data.write_text("x,y\n1,2\n2,4\n3,6\n4,8\n5,10\n")
    before = data.read_bytes()
    code, _, err = train(capsys, "--data", str(data), "--metrics", str(data))
    assert code == 2 and "is the file the run reads" in err
    (tmp_path / "link.csv").symlink_to(data)  # the same file by another name
    code, _, err = train(capsys, "--data", str(tmp_path / "link.csv"), "--metrics", str(data))
    assert code == 2 and "is the file the run reads" in err
    assert data.read_bytes() == before


def test_metrics_are_not_written_through_a_symlink(tmp_path, capsys):
    victim = tmp_path / "someone-elses.txt"
    victim.write_text("precious\n")
    (tmp_path / "m.jsonl").symlink_to(victim)
    code, _, err = train(capsys, "--metrics", str(tmp_path / "m.jsonl"))
    assert code == 2 and "is a symbolic link" in err
    assert victim.read_text() == "precious\n"


def test_a_metrics_device_that_is_full_ends_the_run_with_its_summary():
    done = run("--metrics", "/dev/full", "--json")
    assert done.returncode == 2, done.stderr
    summary = strict_json(done.stdout)  # the summary is printed whole, before the error
    assert summary["steps"] >= 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("tui-trainer: error: --metrics: cannot write /dev/full (No space left on device)")
    assert "Traceback" not in done.stderr


def test_a_full_disk_keeps_every_complete_line(tmp_path):
    """A file size limit stands in for a full disk: the write fails part-way through a buffer."""
    metrics = tmp_path / "m.jsonl"

    def limit_file_size():
        resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, resource.RLIM_INFINITY))

    done = run("--algorithm", "sgd", "--metrics", str(metrics), "--json", preexec_fn=limit_file_size)
    assert done.returncode == 2, done.stderr
    assert "--metrics: cannot write" in done.stderr and "Traceback" not in done.stderr
    summary = strict_json(done.stdout)
    text = metrics.read_text()
    assert 0 < len(text) <= 100_000 and text.endswith("\n")  # cut back to the last whole line
    steps = [json.loads(line)["step"] for line in text.splitlines()]
    assert steps == list(range(1, len(steps) + 1))
    assert summary["steps"] < 4000  # the run stopped when the file could take no more


def test_sighup_stops_the_run_like_sigterm(tmp_path):
    metrics = tmp_path / "m.jsonl"
    process = subprocess.Popen(
        [*CLI, "--algorithm", "sgd", "--epochs", "100000", "--json", "--metrics", str(metrics)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 60
    while (not metrics.exists() or metrics.stat().st_size < 100_000) and time.monotonic() < deadline:
        time.sleep(0.05)  # until it is well under way
    process.send_signal(signal.SIGHUP)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    summary = strict_json(out)
    assert summary["interrupted"] and "Traceback" not in err
    lines = metrics.read_text().splitlines()
    assert json.loads(lines[-1])["step"] == summary["steps"] == len(lines)


def test_signals_after_the_run_are_ignored_so_no_traceback_follows_the_summary():
    from tui_trainer.core.control import RunControl
    from tui_trainer.headless import STOP_SIGNALS, _interrupts_stop

    saved = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}
    try:
        with _interrupts_stop(RunControl()):
            pass
        assert all(signal.getsignal(sig) is signal.SIG_IGN for sig in STOP_SIGNALS)
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def test_an_optimum_too_big_for_memory_is_refused_in_words(monkeypatch):
    """50,000 features want an 18.6 GiB matrix; here the limit is made small instead."""
    import numpy as np

    monkeypatch.setattr(files, "available_memory", lambda: 100 << 20)
    x = np.zeros((10, 3000), dtype=np.float32)
    with pytest.raises(DataError, match=r"the exact optimum of 3,000 features needs about .* more than the 100.0 MB"):
        least_squares(x, np.zeros((10, 1), dtype=np.float32))
