"""The app in a real terminal: tmux runs `tui-trainer`, we send keys and read the screen."""

import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(600)  # the slow run below takes minutes on a machine kept busy

if shutil.which("tmux") is None:
    if os.environ.get("CI"):
        raise RuntimeError("tmux is required for the real-terminal tests (.ci/run installs it)")
    pytest.skip("tmux is not installed (apt-get install tmux)", allow_module_level=True)


class Terminal:
    """A tmux session on its own server, so nothing else on the machine is touched."""

    def __init__(self, command: str, width: int = 120, height: int = 40) -> None:
        self.socket = f"tui-trainer-test-{uuid.uuid4().hex[:8]}"
        env = {**os.environ, "TERM": "xterm-256color"}
        self.tmux("new-session", "-d", "-s", "main", "-x", str(width), "-y", str(height), command, env=env)

    def tmux(self, *args: str, env=None) -> str:
        result = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, env=env)
        return result.stdout

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "main")

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", "main", *keys)

    def wait_for(self, pattern: str, timeout: float = 30) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.search(pattern, self.screen())
            if found:
                return found
            time.sleep(0.1)
        raise AssertionError(f"{pattern!r} never appeared; the screen was:\n{self.screen()}")

    def wait_until(self, condition, what: str, timeout: float = 30) -> str:
        """Poll the screen until `condition(screen)` holds; returns that screen."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if condition(screen):
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{what} never happened; the screen was:\n{self.screen()}")

    def pane_pid(self) -> int:
        return int(self.tmux("display-message", "-p", "-t", "main", "#{pane_pid}").strip())

    def close(self) -> None:
        self.tmux("kill-server")


def descendants(pid: int) -> set[int]:
    """Every process below `pid`, read from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def number_after(label: str, screen: str) -> float:
    return float(re.search(rf"{re.escape(label)} (-?[0-9.e+-]+)", screen).group(1))


@pytest.fixture
def terminal():
    # a slow full-batch run: big enough to watch the loss fall while it runs
    flags = "--algorithm bgd --lr 0.02 --epochs 400 --samples 300000 --val-fraction 0"
    command = f"{sys.executable} -m tui_trainer {flags}; echo TUI-EXIT=$?; sleep 60"
    term = Terminal(command)
    yield term
    term.close()


def test_train_watch_and_quit_in_a_real_terminal(terminal):
    terminal.wait_for(r"tui-trainer │ cpu │ IDLE")
    terminal.wait_for(r"s Start .* q Quit")
    app_processes = descendants(terminal.pane_pid())
    assert app_processes, "the app and its trainer process should be running"

    terminal.keys("s")
    terminal.wait_for(r"RUNNING │ step [0-9,]+/400")
    terminal.wait_for(r"batch loss [0-9]")
    first = number_after("batch loss", terminal.screen())
    terminal.wait_until(lambda screen: "batch loss" in screen and number_after("batch loss", screen) < first, "the loss to fall")
    assert re.search(r"RUNNING|DONE", terminal.screen())

    terminal.keys("space")
    paused = terminal.wait_for(r"PAUSED │ step ([0-9,]+)/400")
    terminal.keys("n")
    step = int(paused.group(1).replace(",", ""))
    terminal.wait_for(rf"PAUSED │ step {step + 1:,}/400")
    terminal.keys("space")

    # a limit, not a wait: on a busy 2-core machine this ran at 4 steps/s (100 s for 400 steps)
    done = terminal.wait_for(r"DONE │ step 400/400 │ epoch 400/400", timeout=450).string
    weight = float(re.search(r"w\[x1\]\s+(-?[0-9.e+-]+)", done).group(1))
    bias = float(re.search(r"\n.*▕?\s*b\s+(-?[0-9.e+-]+)", done).group(1))
    assert abs(weight - 3.0) < 0.05 and abs(bias - 0.8) < 0.05  # near y = 3x + 0.8
    assert number_after("batch loss", done) == pytest.approx(number_after("optimal", done), rel=0.01)
    terminal.wait_for(r"loss\.grad_fn MseLossBackward0", timeout=15)  # once the "Done" toast is gone

    terminal.keys("q")
    ended = terminal.wait_for(r"TUI-EXIT=(\d+)").group(1)
    assert ended == "0"
    after = terminal.screen()
    assert "tui-trainer │" not in after  # the app's screen is gone: the terminal is restored
    deadline = time.monotonic() + 10
    while {pid for pid in app_processes if _running(pid)} and time.monotonic() < deadline:
        time.sleep(0.1)  # poll: a process takes a moment to exit after the app has
    alive = {pid for pid in app_processes if _running(pid)}
    assert not alive, "the app, its trainer process or a helper outlived the app"


def _running(pid: int) -> bool:
    """Alive and not a zombie (an exited orphan that a container's init may never reap)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_a_race_in_a_real_terminal():
    command = f"{sys.executable} -m tui_trainer --samples 400; echo TUI-EXIT=$?; sleep 60"
    terminal = Terminal(command)
    try:
        terminal.wait_for(r"tui-trainer │ cpu │ IDLE")
        terminal.keys("v")
        terminal.wait_for(r"entries\s+bgd,sgd,mbgd")
        terminal.keys("s")
        terminal.wait_for(r"RACE DONE │ 7 entries │ 7 finished", timeout=60)
        # the rows, once the "Race done" notification has left them
        names = ("bgd", "sgd", "mbgd", "momentum", "adagrad", "rmsprop", "adam")
        rows = "".join(rf"{name}\s+DONE\s+[0-9,]+\s+0\.2\d*\s+\d+ steps, .*\n.*" for name in names)
        terminal.wait_for(rows, timeout=15)  # every entry reached the optimum, with its time
        terminal.keys("w")
        terminal.wait_for(r"w\[x1\]")  # the landscape's axis
        terminal.keys("q")
        assert terminal.wait_for(r"TUI-EXIT=(\d+)").group(1) == "0"
    finally:
        terminal.close()


def test_80x24_over_ssh_shows_the_keys_the_views_and_the_form_behind_f():
    """The size an SSH session often has: the footer keeps `?`, the header fits, `f` shows the
    whole form with every button whole, `?` lists the keys and escape closes them."""
    command = f"{sys.executable} -m tui_trainer --samples 400; echo TUI-EXIT=$?; sleep 60"
    terminal = Terminal(command, width=80, height=24)
    try:
        terminal.wait_for(r"cpu │ IDLE")
        terminal.wait_for(r"\? Keys s Start .* f Form .* q Quit")
        terminal.keys("f")
        terminal.wait_for(r"Start\s+Pause\s+Step\s+Reset")
        terminal.keys("f", "?")
        terminal.wait_for(r"x\s+bgd with an lr 5% past its stability limit")
        terminal.keys("Escape")
        terminal.wait_until(lambda screen: "This list of keys" not in screen, "the help closed")
        terminal.keys("q")
        assert terminal.wait_for(r"TUI-EXIT=(\d+)").group(1) == "0"
    finally:
        terminal.close()


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_the_autograd_lab_in_a_real_terminal(lang, size):
    """g opens the lab in the Learn view: after a step, its graph; each g more, the next lesson,
    scrolled to, with torch's own error text on screen."""
    from tui_trainer.core.lesson_texts import LABELS, LESSON_NAMES, TITLES

    command = f"{sys.executable} -m tui_trainer --samples 400 --dims 2 --lang {lang}; echo TUI-EXIT=$?; sleep 60"
    terminal = Terminal(command, *size)
    try:
        terminal.wait_for(r"cpu │ IDLE")
        terminal.keys("g")
        terminal.wait_for(re.escape(LABELS[lang]["no_step"]))
        terminal.keys("n")  # one step, written out with its graph
        graph = terminal.wait_for(r"MseLossBackward0 +← \[1\]\n(.*\n){1,8}.*AccumulateGrad \(weight\) +← \[").string
        assert "AccumulateGrad (bias)" in graph and "weight.grad = [" in graph
        for name in ("graph", "requires-grad", "no-grad", "retain-graph"):
            terminal.keys("g")
            terminal.wait_for(re.escape(TITLES[lang][name]))
        screen = terminal.wait_for(r"RuntimeError: Trying to backward through the graph a second time").string
        assert ">>> loss.backward()" in screen
        for name in LESSON_NAMES[LESSON_NAMES.index("retain-graph") + 1 :]:  # and every other lesson, in turn
            terminal.keys("g")
            terminal.wait_for(re.escape(TITLES[lang][name]))
        terminal.keys("q")
        assert terminal.wait_for(r"TUI-EXIT=(\d+)").group(1) == "0"
    finally:
        terminal.close()


def test_a_dropped_terminal_checkpoints_the_run_and_resume_opens_it_paused(tmp_path):
    """The SSH connection drops (tmux kills the session: SIGHUP) mid-run with --save: the run is
    checkpointed and no process is left; --resume then shows it paused, at a step no earlier
    than the last checkpoint seen before the drop."""
    from tui_trainer.core import checkpoint

    folder = tmp_path / "run"
    saved = folder / "checkpoint.pt"
    flags = f"--algorithm sgd --epochs 1000 --samples 400 --save {folder} --checkpoint-every 100"
    terminal = Terminal(f"{sys.executable} -m tui_trainer {flags}; echo TUI-EXIT=$?; sleep 60")
    try:
        terminal.wait_for(r"tui-trainer │ cpu │ IDLE")
        terminal.wait_for(r"s Start .* q Quit")
        app_processes = descendants(terminal.pane_pid())
        terminal.keys("s")
        terminal.wait_for(r"RUNNING │ step")

        def checkpointed_step() -> int:
            try:
                return checkpoint.load(saved)["step"]
            except Exception:  # not written yet
                return 0

        deadline = time.monotonic() + 120
        while checkpointed_step() < 300 and time.monotonic() < deadline:
            time.sleep(0.1)
        seen = checkpointed_step()
        assert seen >= 300, "the run was never checkpointed"
        terminal.tmux("kill-session", "-t", "main")  # the terminal goes away: SIGHUP
    finally:
        terminal.close()
    deadline = time.monotonic() + 30
    while {pid for pid in app_processes if _running(pid)} and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not {pid for pid in app_processes if _running(pid)}, "the app or its trainer process outlived the terminal"
    last = checkpoint.load(saved)
    assert last["step"] >= seen and last["state"] == "STOPPED"  # checkpointed as it stopped

    terminal = Terminal(f"{sys.executable} -m tui_trainer --resume {folder}; echo TUI-EXIT=$?; sleep 60")
    try:
        # the header says PAUSED at once, then the checkpoint's step once the trainer has loaded it
        terminal.wait_for(rf"PAUSED │ step {last['step']:,}/", timeout=60)
        assert last["step"] >= seen
        terminal.keys("q")
        assert terminal.wait_for(r"TUI-EXIT=(\d+)").group(1) == "0"
    finally:
        terminal.close()


def test_sigterm_checkpoints_the_run_restores_the_terminal_and_exits_130(tmp_path):
    from tui_trainer.core import checkpoint

    folder = tmp_path / "run"
    flags = f"--algorithm sgd --epochs 1000 --samples 400 --save {folder}"
    terminal = Terminal(f"{sys.executable} -m tui_trainer {flags}; echo TUI-EXIT=$?; sleep 60")
    try:
        terminal.wait_for(r"s Start .* q Quit")
        app_processes = descendants(terminal.pane_pid())
        terminal.keys("s")
        terminal.wait_for(r"RUNNING │ step [0-9,]{3,}")
        shell = terminal.pane_pid()
        app = next(pid for pid in app_processes if pid in descendants(shell) - set().union(*(descendants(p) for p in app_processes)))
        os.kill(app, 15)  # SIGTERM to the app itself (its trainer process is its child)
        assert terminal.wait_for(r"TUI-EXIT=(\d+)").group(1) == "130"
        assert "tui-trainer │" not in terminal.screen()  # the terminal is restored
    finally:
        terminal.close()
    deadline = time.monotonic() + 10
    while {pid for pid in app_processes if _running(pid)} and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not {pid for pid in app_processes if _running(pid)}
    state = checkpoint.load(folder / "checkpoint.pt")
    assert state["state"] == "STOPPED" and state["step"] > 0


def test_q_quits_when_the_data_is_a_fifo(tmp_path):
    """`--data` naming a FIFO, which blocks whoever opens it until a writer comes (none will):
    the app refuses it as data and `q` still ends the app, leaving no process behind."""
    fifo = tmp_path / "rows.csv"
    os.mkfifo(fifo)
    command = f"{sys.executable} -m tui_trainer --data {fifo}; echo TUI-EXIT=$?; sleep 60"
    terminal = Terminal(command)
    try:
        terminal.wait_for(r"s Start .* q Quit", timeout=60)  # the panels are up
        app_processes = descendants(terminal.pane_pid())
        terminal.keys("s")  # refused: the data is not a file
        terminal.wait_until(lambda screen: "FIFO" in screen and "Cannot start" in screen, "the refusal naming the FIFO")
        terminal.keys("q")
        assert terminal.wait_for(r"TUI-EXIT=(\d+)").group(1) == "0"
        deadline = time.monotonic() + 10
        while {pid for pid in app_processes if _running(pid)} and time.monotonic() < deadline:
            time.sleep(0.1)  # poll: a process takes a moment to exit after the app has
        assert not {pid for pid in app_processes if _running(pid)}, "a process outlived the app"
    finally:
        terminal.close()
