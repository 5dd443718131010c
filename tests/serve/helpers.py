"""Start `tui-trainer serve` as a real process and watch the processes it starts, by process id."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def wait_for(
    condition: Callable[[], object], timeout: float, what: str, every: float = 0.1, sleep: Callable[[float], None] = time.sleep
) -> object:
    """Poll until `condition()` is truthy; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        sleep(every)


def _parent_of(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rpartition(")")[2].split()[1])  # after the command name, which may hold spaces


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def children(pid: int) -> set[int]:
    return {int(entry) for entry in os.listdir("/proc") if entry.isdigit() and _parent_of(int(entry)) == pid}


def descendants(pid: int) -> set[int]:
    found, todo = set(), [pid]
    while todo:
        for child in children(todo.pop()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def alive(pids: set[int]) -> set[int]:
    """Those of `pids` still running (a zombie has finished: it only waits to be reaped)."""
    running = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
        except OSError:
            continue
        if state != "Z":
            running.add(pid)
    return running


def is_trainer(pid: int) -> bool:
    """The app's trainer is a multiprocessing 'spawn' child (its resource tracker is not)."""
    return "spawn_main" in _cmdline(pid)


@dataclass
class Served:
    """A running `tui-trainer serve`; `url` is where it listens."""

    process: subprocess.Popen
    url: str
    stderr_lines: list[str] = field(default_factory=list)

    def apps(self) -> set[int]:
        """One app process per open tab: textual-serve's shell execs the app, so they are children."""
        return alive(children(self.process.pid))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def serve(*flags: str, timeout: float = 60) -> Served:
    """Start `tui-trainer serve --port 0 FLAGS` and wait for the address it prints."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tui_trainer", "serve", "--port", "0", *flags],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))},
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()
    stderr_lines: list[str] = []
    threading.Thread(target=lambda: [stderr_lines.append(line) for line in process.stderr], daemon=True).start()
    try:
        first = lines.get(timeout=timeout)
    except queue.Empty:
        process.kill()
        raise AssertionError(f"serve printed no address within {timeout:.0f} s; stderr: {''.join(stderr_lines)}") from None
    url = next(word for word in first.split() if word.startswith("http://"))
    return Served(process, url, stderr_lines)
