"""No child process outlives its test: a test that fails while a `tui-trainer train --epochs
100000` runs must not leave it training, taking the cores the next tests need."""

import subprocess

import pytest


@pytest.fixture(autouse=True)
def no_process_outlives_its_test(monkeypatch):
    started: list[subprocess.Popen] = []

    class Tracked(subprocess.Popen):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            started.append(self)

    monkeypatch.setattr(subprocess, "Popen", Tracked)  # subprocess.run goes through it too
    yield
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()
