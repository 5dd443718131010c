"""tui-trainer against the plainest PyTorch loop, measured in one run on one machine.

    python benchmarks/bench.py            # every case at full size (several minutes)
    python benchmarks/bench.py --quick    # small sizes: proves the script runs (CI uses this)

Contenders are alternated round by round and each ratio is the median of the per-round ratios,
so a machine that slows down mid-run slows both sides. The table is printed and written as JSON
(benchmarks/results/latest.json unless --json says otherwise). Nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path

import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tui_trainer.core.config import DataConfig, RunConfig  # noqa: E402
from tui_trainer.core.data import load_dataset  # noqa: E402
from tui_trainer.core.trainer import Trainer  # noqa: E402


@dataclass
class Result:
    case: str
    name: str
    ratio: float
    goal: str
    met: bool
    detail: dict = field(default_factory=dict)


# --- the anchor: the loop a user would write ---------------------------------------------


def bare_loop(
    x: torch.Tensor, y: torch.Tensor, algorithm: str, lr: float, batch: int | None, steps: int, classes: int | None = None
) -> float:
    """nn.Linear, nn.MSELoss (nn.CrossEntropyLoss with `classes`), loss.backward(), a torch.optim
    step; shuffled batches. Steps/s."""
    torch.manual_seed(0)
    model = nn.Linear(x.shape[1], classes or 1).to(x.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr) if algorithm == "adam" else torch.optim.SGD(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss() if classes else nn.MSELoss()
    n = len(x)
    start = time.perf_counter()
    step = 0
    while step < steps:
        order = torch.randperm(n, device=x.device) if batch else None
        for i in range(0, n, batch or n):
            if step == steps:
                break
            if order is None:
                xb, yb = x, y
            else:
                rows = order[i : i + batch]
                xb, yb = x[rows], y[rows]
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            step += 1
    if x.device.type == "cuda":
        torch.cuda.synchronize()
    return steps / (time.perf_counter() - start)


@dataclass(frozen=True)
class Workload:
    label: str
    algorithm: str
    batch: int | None  # None: full batch
    samples: int
    dims: int
    classes: int | None = None  # a classifier: cross-entropy over this many classes

    def config(self, steps: int, engine: str = "autograd", device: str = "cpu") -> RunConfig:
        optimizer = {"algorithm": self.algorithm, "batch_size": self.batch or "full", "epochs": 10**9}
        data = {"samples": self.samples, "dims": self.dims, "val_fraction": 0}
        loss = "cross-entropy" if self.classes else "mse"
        if self.classes:
            data["classes"] = self.classes
        return RunConfig.model_validate(
            {"optimizer": optimizer, "engine": engine, "max_steps": steps, "device": device, "loss": loss, "data": data}
        )

    def data(self, device: str = "cpu"):
        data = DataConfig(samples=self.samples, dims=self.dims, val_fraction=0, classes=self.classes)
        dataset = load_dataset(data, classify=self.classes is not None)
        x = torch.from_numpy(dataset.x_train).to(device)
        y = torch.from_numpy(dataset.y_train).to(device)
        return dataset, x, y


WORKLOADS = [
    Workload("full batch n=1000 d=1 (bgd)", "bgd", None, 1000, 1),
    Workload("adam batch 32 n=100000 d=8", "adam", 32, 100_000, 8),
    Workload("sgd batch 1 n=1000 d=8", "sgd", 1, 1000, 8),
    Workload("cross-entropy adam batch 32 n=100000 d=8 k=3", "adam", 32, 100_000, 8, classes=3),
]


def trainer_rate(workload: Workload, dataset, steps: int, engine: str = "autograd", device: str = "cpu") -> float:
    """Steps/s of the headless trainer, timed around run() like the bare loop's loop."""
    trainer = Trainer(workload.config(steps, engine, device), dataset=dataset, chunk_seconds=0.05)
    start = time.perf_counter()
    summary = trainer.run()
    elapsed = time.perf_counter() - start
    assert summary.steps == steps, summary
    return steps / elapsed


def alternate(contenders: dict, rounds: int) -> dict[str, list[float]]:
    rates: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, measure in contenders.items():
            rates[name].append(measure())
    return rates


def paired_ratio(top: list[float], bottom: list[float]) -> float:
    return statistics.median(a / b for a, b in zip(top, bottom, strict=True))


def calibrate(measure, seconds: float) -> int:
    """Steps that take about `seconds`."""
    rate = measure(200)
    return max(200, int(rate * seconds))


# --- the cases -----------------------------------------------------------------------------


def case_engine_vs_bare(engine: str, case: str, goal: float, seconds: float, rounds: int) -> list[Result]:
    results = []
    for workload in WORKLOADS:
        dataset, x, y = workload.data()
        lr = workload.config(1).optimizer.lr
        bare = partial(bare_loop, x, y, workload.algorithm, lr, workload.batch, classes=workload.classes)
        steps = calibrate(bare, seconds)
        trainer_rate(workload, dataset, 200, engine)  # warm-up
        rates = alternate(
            {
                "bare": partial(bare, steps=steps),
                engine: partial(trainer_rate, workload, dataset, steps, engine),
            },
            rounds,
        )
        ratio = paired_ratio(rates[engine], rates["bare"])
        results.append(
            Result(case, f"{engine} ÷ bare, {workload.label}", ratio, f">= {goal}", ratio >= goal,
                   {"steps": steps, "bare_steps_per_s": statistics.median(rates["bare"]),
                    f"{engine}_steps_per_s": statistics.median(rates[engine])})
        )
    return results


def case_app_vs_headless(seconds: float, rounds: int) -> Result:
    """The same run driven by the live app (chart redrawn >= 10 Hz) and headless."""
    from tui_trainer.app.app import TrainerApp
    from tui_trainer.core.events import RunState

    workload = WORKLOADS[2]
    dataset, _, _ = workload.data()
    steps = calibrate(lambda s: trainer_rate(workload, dataset, s), seconds)
    config = workload.config(steps)

    def in_app() -> float:
        redraws = []

        async def drive() -> float:
            app = TrainerApp(config)
            async with app.run_test(headless=True, size=(120, 40)) as pilot:
                while not getattr(app.screen, "panels_ready", False):  # MainScreen, once its panels are up
                    await asyncio.sleep(0.02)
                chart = app.screen.query_one("#chart")
                original = chart.replot
                view = app.controller.view

                def counting_replot() -> None:
                    # while steps come: not the wait for the trainer's process to start, import
                    # torch and load the data, when the chart has nothing new to show
                    if view.step:
                        redraws.append(time.perf_counter())
                    original()

                chart.replot = counting_replot
                await pilot.press("s")
                while view.state is not RunState.DONE:
                    if view.state in (RunState.ERROR, RunState.DIVERGED):
                        raise RuntimeError(view.message)
                    await asyncio.sleep(0.05)
                return view.summary.steps_per_s

        rate = asyncio.run(drive())
        span = redraws[-1] - redraws[0] if len(redraws) > 1 else 0
        app_hz.append((len(redraws) - 1) / span if span else 0.0)
        return rate

    def headless() -> float:
        trainer = Trainer(config, dataset=dataset)
        return trainer.run().steps_per_s  # measured the same way as in the app's trainer process

    app_hz: list[float] = []
    rates = alternate({"app": in_app, "headless": headless}, rounds)
    ratio = paired_ratio(rates["app"], rates["headless"])
    each = [a / b for a, b in zip(rates["app"], rates["headless"], strict=True)]
    return Result("2", f"in app ÷ headless, {workload.label}, chart at {statistics.median(app_hz):.0f} Hz", ratio,
                  ">= 0.95", min(each) >= 0.95 and min(app_hz) >= 10,  # in every round, not just the median
                  {"steps": steps, "app_steps_per_s": statistics.median(rates["app"]),
                   "headless_steps_per_s": statistics.median(rates["headless"]), "chart_redraws_per_s": app_hz,
                   "round_ratios": [a / b for a, b in zip(rates["app"], rates["headless"], strict=True)]})


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process (not its children), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _app_pid(pane: int) -> int:
    """The process running the app: the pane's own (the shell exec'd it) or the pane's child."""
    def command(pid: int) -> str:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()

    if "tui_trainer" in command(pane):
        return pane
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                if parent == pane and "tui_trainer" in command(int(entry.name)):
                    return int(entry.name)
            except (OSError, IndexError, ValueError):
                continue
    raise RuntimeError("the app's process was not found under the tmux pane")


def case_app_cpu(seconds: float, rounds: int) -> Result | None:
    """The app's own process (not its trainer) during a fast run in a real 120x40 terminal (tmux):
    its CPU time ÷ wall time, read from /proc outside it. Without tmux the row is left out."""
    import shutil
    import uuid

    if shutil.which("tmux") is None:
        print("case 10 skipped: tmux is not installed")
        return None
    workload = WORKLOADS[2]
    flags = (f"--algorithm {workload.algorithm} --batch-size {workload.batch} --samples {workload.samples} "
             f"--dims {workload.dims} --val-fraction 0 --epochs 100000")
    shares: list[float] = []
    for _ in range(rounds):
        socket = f"tui-trainer-bench-{uuid.uuid4().hex[:8]}"

        def tmux(*args: str, socket: str = socket) -> str:
            return subprocess.run(["tmux", "-L", socket, *args], capture_output=True, text=True,
                                  env={**os.environ, "TERM": "xterm-256color"}).stdout

        def wait_for(pattern: str, tmux=tmux) -> re.Match:
            deadline = time.monotonic() + 120
            while not (found := re.search(pattern, tmux("capture-pane", "-p", "-t", "main"))):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{pattern!r} never appeared in the app")
                time.sleep(0.1)
            return found

        tmux("new-session", "-d", "-s", "main", "-x", "120", "-y", "40", f"{sys.executable} -m tui_trainer {flags}")
        try:
            wait_for("IDLE")
            pid = _app_pid(int(tmux("display-message", "-p", "-t", "main", "#{pane_pid}").strip()))
            tmux("send-keys", "-t", "main", "s")
            # steps flowing (the trainer process starts, imports torch, loads the data first)
            while int(wait_for(r"RUNNING │ step ([0-9,]+)/").group(1).replace(",", "")) < 2000:
                time.sleep(0.1)
            cpu, wall = _cpu_seconds(pid), time.monotonic()
            time.sleep(seconds)
            cpu, wall = _cpu_seconds(pid) - cpu, time.monotonic() - wall
            wait_for("RUNNING")  # the run was still going at the end of the window
            shares.append(cpu / wall)
            tmux("send-keys", "-t", "main", "q")
        finally:
            tmux("kill-server")
    share = statistics.median(shares)
    return Result("10", f"app process CPU ÷ wall during a fast run at 120x40, {workload.label}", share, "<= 0.20",
                  share <= 0.20, {"round_shares": shares, "window_s": seconds})


def case_chart_redraw(big: int, repeats: int) -> Result:
    """Redraw time (replot + plotext build) with `big` points of history ÷ with 1,000."""
    import numpy as np
    from textual.app import App

    from tui_trainer.app.run_view import RunView
    from tui_trainer.app.widgets.loss_chart import LossChart

    def view_with(points: int) -> RunView:
        view = RunView()
        rng = np.random.default_rng(0)
        for start in range(0, points, 100_000):
            count = min(100_000, points - start)
            steps = np.arange(start + 1, start + count + 1)
            view.train.extend(steps, 1 / np.sqrt(steps) + rng.random(count) * 0.1)
        view.validation.extend(np.arange(1, points // 100 + 1) * 100, np.linspace(2, 0.3, points // 100))
        return view

    views = {"small": view_with(1000), "big": view_with(big)}

    class ChartApp(App):
        def __init__(self, view: RunView) -> None:
            super().__init__()
            self.view = view

        def compose(self):
            yield LossChart(self.view, id="chart")

    async def time_redraws(view: RunView) -> list[float]:
        app = ChartApp(view)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            plot = app.query_one("#chart").plot
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                plot.replot()
                plot.render()
                times.append(time.perf_counter() - start)
            return times

    small, big_times = [], []
    for _ in range(3):
        small += asyncio.run(time_redraws(views["small"]))
        big_times += asyncio.run(time_redraws(views["big"]))
    ratio = statistics.median(big_times) / statistics.median(small)
    return Result("3", f"chart redraw, {big:,} points ÷ 1,000 points (120x40)", ratio, "<= 1.5", ratio <= 1.5,
                  {"small_ms": statistics.median(small) * 1e3, "big_ms": statistics.median(big_times) * 1e3})


FIRST_FRAME_CHILD = """
import sys, time
from textual.app import App
from textual.widgets import Static
which, out = sys.argv[1], sys.argv[2]
def on_ready(self):
    with open(out, "w") as handle:
        handle.write(repr(time.time()))
    self.exit()
if which == "app":  # the way a person opens it: `tui-trainer`, flags parsed and checked first
    from tui_trainer.app import app
    from tui_trainer import cli
    app.TrainerApp.on_ready = on_ready
    app.TrainerApp.run = lambda self: App.run(self, headless=True, size=(120, 40))
    cli.main([])
else:
    class Minimal(App):
        def compose(self):
            yield Static("hello")
    Minimal.on_ready = on_ready
    Minimal().run(headless=True, size=(120, 40))
"""


def case_first_frame(rounds: int) -> Result:
    def first_frame(which: str) -> float:
        with tempfile.NamedTemporaryFile("r", suffix=".txt") as out:
            start = time.time()
            subprocess.run([sys.executable, "-c", FIRST_FRAME_CHILD, which, out.name], check=True, cwd=ROOT,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
            return float(Path(out.name).read_text()) - start

    times = alternate({"app": lambda: first_frame("app"), "minimal": lambda: first_frame("minimal")}, rounds)
    ratio = paired_ratio(times["app"], times["minimal"])
    return Result("4", "first frame: tui-trainer ÷ a minimal Textual app", ratio, "<= 1.5", ratio <= 1.5,
                  {"app_s": statistics.median(times["app"]), "minimal_s": statistics.median(times["minimal"])})


MEMORY_CHILD = """
import json, os, sys
from tui_trainer.app.run_view import RunView
from tui_trainer.core.config import RunConfig
from tui_trainer.core.events import StepLosses
from tui_trainer.core.trainer import Trainer
from tui_trainer.metrics import MetricsWriter
steps = int(sys.argv[1])
page = os.sysconf("SC_PAGE_SIZE")
def resident() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * page
config = RunConfig.model_validate({"optimizer": {"algorithm": "bgd", "epochs": steps}, "engine": "fused",
                                   "data": {"samples": 100, "val_fraction": 0}})
view, writer = RunView(), MetricsWriter(open("/dev/null", "w"))
memory = {"baseline": None, "peak": 0}
def sink(event):
    writer(event)
    view.apply(event)
    if isinstance(event, StepLosses):  # once a chunk: every ~50 ms
        now = resident()
        if memory["baseline"] is None and event.first_step > 20_000:
            memory["baseline"] = now  # after warm-up: every buffer and cache exists
        memory["peak"] = max(memory["peak"], now)
summary = Trainer(config, sink=sink, chunk_seconds=0.05).run()
assert summary.steps == steps and len(view.train) == steps
print(json.dumps(memory))
"""


def case_memory(steps: int) -> Result:
    """Resident memory of a run logging `steps` steps (metrics lines and the app's history), sampled
    every chunk: its peak minus its level after the first 20,000 steps."""
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", MEMORY_CHILD, str(steps)], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    memory = json.loads(out.splitlines()[-1])
    growth_mb = (memory["peak"] - memory["baseline"]) / 1e6
    return Result("5", f"memory growth, a fused run logging {steps:,} steps", growth_mb, "<= 50 MB", growth_mb <= 50,
                  {"baseline_mb": memory["baseline"] / 1e6, "peak_mb": memory["peak"] / 1e6,
                   "seconds": time.perf_counter() - start})


def case_big_data(samples: int, dims: int, steps: int, rounds: int) -> list[Result]:
    """Full batch on big data: bytes of X read per second ÷ a memory copy's bytes per second.

    Every step must read all of X at least once, so X bytes read per second = size of X × steps/s
    (what the step does inside, how often it touches a byte, is its own business). The copy
    reads the same bytes and writes them to a second buffer: its rate is bytes copied per second.
    """
    workload = Workload(f"full batch n={samples:,} d={dims}", "bgd", None, samples, dims)
    dataset = load_dataset(DataConfig(samples=samples, dims=dims, val_fraction=0))
    source = torch.from_numpy(dataset.x_train)
    target = torch.empty_like(source)

    def copy_rate() -> float:
        start = time.perf_counter()
        target.copy_(source)
        return source.nbytes / (time.perf_counter() - start)

    results = []
    read_per_step = source.nbytes

    def read_rate(engine: str) -> float:
        # the trainer's own rate: training time, without setup or the final whole-set evaluation
        summary = Trainer(workload.config(steps, engine), dataset=dataset).run()
        return summary.steps_per_s * read_per_step

    for engine in ("autograd", "fused"):
        rates = alternate({"read": partial(read_rate, engine), "copy": copy_rate}, rounds)
        ratio = paired_ratio(rates["read"], rates["copy"])
        results.append(Result("7", f"{engine}: X bytes read/s ÷ copy bytes/s, {workload.label}", ratio, ">= 0.6", ratio >= 0.6,
                              {"read_gb_per_s": statistics.median(rates["read"]) / 1e9,
                               "copy_gb_per_s": statistics.median(rates["copy"]) / 1e9, "steps": steps}))
    return results


def case_sufficient(samples: int, dims: int, rounds: int) -> Result:
    """Full-batch fused steps from sufficient statistics: a run of 1,000 steps ÷ a run of 10.

    Each run is timed around run() (what a person waits for once the run starts): the one float64
    pass over X in its first step, the steps, the final loss. If every step read X, 1,000 steps
    would take ~100x as long as 10; from the statistics they are nearly free after the pass.
    """
    workload = Workload(f"full batch n={samples:,} d={dims}", "bgd", None, samples, dims)
    dataset = load_dataset(DataConfig(samples=samples, dims=dims, val_fraction=0))

    def run_seconds(steps: int) -> float:
        trainer = Trainer(workload.config(steps, "fused"), dataset=dataset)
        start = time.perf_counter()
        summary = trainer.run()
        elapsed = time.perf_counter() - start
        assert summary.steps == steps, summary
        return elapsed

    run_seconds(10)  # warm-up: the first run in a process paid ~2 s more here (allocator, thread pool)
    times = alternate({"1000": partial(run_seconds, 1000), "10": partial(run_seconds, 10)}, rounds)
    ratio = paired_ratio(times["1000"], times["10"])
    return Result("9", f"fused full batch: 1,000 steps ÷ 10 steps, {workload.label}", ratio, "<= 2.0", ratio <= 2.0,
                  {"seconds_1000": statistics.median(times["1000"]), "seconds_10": statistics.median(times["10"]),
                   "round_ratios": [a / b for a, b in zip(times["1000"], times["10"], strict=True)]})


CSV_CHILD = r"""
import json, resource, sys, time
which, path = sys.argv[1], sys.argv[2]
if which == "pandas":
    import pandas as pd
else:
    import pyarrow.csv  # imported before the baseline, as pandas is
    from tui_trainer.core.config import DataConfig
    from tui_trainer.core.data import load_dataset, read_csv
def resident():
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * resource.getpagesize()
def peak_resident():  # VmHWM: ru_maxrss would start at the parent's size (Linux keeps it across exec)
    with open("/proc/self/status") as handle:
        return next(int(line.split()[1]) * 1024 for line in handle if line.startswith("VmHWM:"))
baseline = resident()
start = time.perf_counter()
if which == "pandas":
    frame = pd.read_csv(path, engine="c")
    rows, final = len(frame), int(frame.memory_usage(index=False).sum())
elif which == "arrow":  # the columnar reader ours streams through, alone, whole file, its own threads
    table = pyarrow.csv.read_csv(path)
    rows, final = table.num_rows, table.nbytes
elif which == "read_csv":
    table = read_csv(path)
    rows, final = len(table.values), table.values.nbytes
else:
    data = load_dataset(DataConfig(source=path))
    rows = data.n_train + data.n_val
    final = sum(a.nbytes for a in (data.x_train, data.y_train, data.x_val, data.y_val))
seconds = time.perf_counter() - start
peak = peak_resident()
print(json.dumps({"seconds": seconds, "rows": rows, "final": final, "baseline": baseline, "peak": peak}))
"""


def write_csv(path: Path, rows: int, columns: int = 11) -> None:
    """Seeded numbers with six decimals, as an export of a real table: 2.2M rows x 11 is ~230 MB."""
    import numpy as np

    rng = np.random.default_rng(0)
    with path.open("w") as handle:
        handle.write(",".join([f"x{i + 1}" for i in range(columns - 1)] + ["y"]) + "\n")
        for start in range(0, rows, 100_000):
            np.savetxt(handle, rng.standard_normal((min(100_000, rows - start), columns)), fmt="%.6f", delimiter=",")


def case_csv(rows: int, rounds: int) -> list[Result]:
    """CSV loading, each reader in a fresh child process (its own peak resident memory), alternated
    round by round: our reader's rows/s ÷ pandas' C engine's on the same file, and load_dataset's
    memory (peak resident minus resident before loading) ÷ its final float32 train + validation arrays."""
    with tempfile.TemporaryDirectory() as folder:
        path, small = Path(folder) / "bench.csv", Path(folder) / "small.csv"
        write_csv(path, rows)
        write_csv(small, max(1000, rows // 100))  # the same work on 1% of the rows: the fixed overhead
        size = path.stat().st_size

        def child(which: str, file: Path = path) -> dict:
            out = subprocess.run([sys.executable, "-c", CSV_CHILD, which, str(file)], cwd=ROOT, check=True,
                                 capture_output=True, text=True).stdout
            return json.loads(out.splitlines()[-1])

        runs: dict[str, list[dict]] = {"read_csv": [], "pandas": [], "arrow": [], "load_dataset": []}
        fixed: list[dict] = []
        for _ in range(rounds):
            for which in runs:
                runs[which].append(child(which))
            fixed.append(child("load_dataset", small))
    rate = {which: [run["rows"] / run["seconds"] for run in done] for which, done in runs.items()}
    speed = paired_ratio(rate["read_csv"], rate["pandas"])
    # "at most about twice the final arrays plus a fixed overhead": what the big file adds over the
    # small one (interpreter, libraries, Arrow's read-ahead buffers) ÷ what its arrays add
    memory = [(run["peak"] - base["peak"]) / (run["final"] - base["final"]) for run, base in zip(runs["load_dataset"], fixed, strict=True)]
    ratio = statistics.median(memory)
    index = memory.index(ratio) if ratio in memory else 0
    load, base = runs["load_dataset"][index], fixed[index]
    label = f"{rows:,} rows x 11, {size / 1e6:.0f} MB"
    return [
        Result("8", f"CSV read rows/s ÷ pandas C engine, {label}", speed, ">= 1.0", speed >= 1.0,
               {"read_csv_s": statistics.median(run["seconds"] for run in runs["read_csv"]),
                "pandas_s": statistics.median(run["seconds"] for run in runs["pandas"]),
                # pandas 3 parses byte ranges of the file on every core (readers.py, _can_parallelize_csv);
                # Arrow alone, beside it, says what the streaming around it costs
                "arrow_read_csv_s": statistics.median(run["seconds"] for run in runs["arrow"]),
                "load_dataset_s": statistics.median(run["seconds"] for run in runs["load_dataset"]),
                "read_csv_peak_mb": statistics.median(run["peak"] for run in runs["read_csv"]) / 1e6,
                "pandas_peak_mb": statistics.median(run["peak"] for run in runs["pandas"]) / 1e6}),
        Result("8", f"CSV load_dataset: peak memory ÷ final float32 arrays, less fixed overhead, {label}", ratio, "<= 2.0",
               ratio <= 2.0,
               {"peak_mb": load["peak"] / 1e6, "before_loading_mb": load["baseline"] / 1e6, "final_mb": load["final"] / 1e6,
                "fixed_overhead_peak_mb": base["peak"] / 1e6, "peak_over_final": load["peak"] / load["final"],
                "added_over_final": (load["peak"] - load["baseline"]) / load["final"]}),
    ]


SYNTHETIC_CHILD = r"""
import json, sys
import torch  # noqa: F401  (in memory before the baseline, as in a run)
from tui_trainer.core.config import DataConfig
from tui_trainer.core.data import load_dataset
def status(field):
    with open("/proc/self/status") as handle:
        return next(int(line.split()[1]) * 1024 for line in handle if line.startswith(field))
baseline = status("VmRSS:")
data = load_dataset(DataConfig(samples=int(sys.argv[1]), dims=int(sys.argv[2])))
final = sum(a.nbytes for a in (data.x_train, data.y_train, data.x_val, data.y_val))
print(json.dumps({"final": final, "baseline": baseline, "peak": status("VmHWM:")}))
"""


def case_synthetic_memory(samples: int, dims: int, rounds: int) -> Result:
    """Generating synthetic data, in a fresh child process each time: what the big draw adds to
    peak resident memory over a draw of 1% of the rows (the fixed overhead) ÷ what it adds to
    the final float32 arrays."""
    def child(rows: int) -> dict:
        out = subprocess.run([sys.executable, "-c", SYNTHETIC_CHILD, str(rows), str(dims)], cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout
        return json.loads(out.splitlines()[-1])

    runs = [(child(samples), child(max(1000, samples // 100))) for _ in range(rounds)]
    ratios = [(big["peak"] - small["peak"]) / (big["final"] - small["final"]) for big, small in runs]
    ratio = statistics.median(ratios)
    big = runs[ratios.index(ratio)][0]
    return Result("11", f"synthetic data: peak memory ÷ final float32 arrays, less fixed overhead, {samples:,} x {dims}",
                  ratio, "<= 2.0", ratio <= 2.0,
                  {"final_mb": big["final"] / 1e6, "peak_mb": big["peak"] / 1e6, "before_mb": big["baseline"] / 1e6,
                   "round_ratios_memory": ratios})


def gpu_rows(seconds: float) -> list[dict]:
    """Eager loop, autograd trainer and fused trainer (CUDA graphs) on the GPU, steps/s."""
    rows = []
    for workload in WORKLOADS:
        dataset, x, y = workload.data("cuda")
        lr = workload.config(1).optimizer.lr
        steps = calibrate(partial(bare_loop, x, y, workload.algorithm, lr, workload.batch), seconds)
        row = {"workload": workload.label, "steps": steps,
               "eager_loop": bare_loop(x, y, workload.algorithm, lr, workload.batch, steps)}
        for engine in ("autograd", "fused"):
            row[engine] = trainer_rate(workload, dataset, steps, engine, "cuda")
        rows.append(row)
    return rows


# --- the run -------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes and few rounds (CI)")
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "latest.json")
    parser.add_argument("--cases", default="1,2,3,4,5,6,7,8,9,10,11", help="which cases to run, e.g. 1,6")
    args = parser.parse_args()
    chosen = set(args.cases.split(","))
    quick = args.quick
    seconds, rounds = (0.05, 1) if quick else (1.0, 5)

    results: list[Result] = []
    started = time.perf_counter()
    if "1" in chosen:
        results += case_engine_vs_bare("autograd", "1", 0.97, seconds, rounds)
    if "6" in chosen:
        results += case_engine_vs_bare("fused", "6", 5.0, seconds, rounds)
    if "2" in chosen:
        results.append(case_app_vs_headless(0.5 if quick else 4.0, 1 if quick else rounds))
    if "3" in chosen:
        results.append(case_chart_redraw(10_000 if quick else 1_000_000, 5 if quick else 30))
    if "4" in chosen:
        results.append(case_first_frame(1 if quick else 7))
    if "5" in chosen:
        results.append(case_memory(40_000 if quick else 10_000_000))
    if "7" in chosen:
        samples, dims = (100_000, 10) if quick else (10_000_000, 10)
        results += case_big_data(samples, dims, 2 if quick else 20, 1 if quick else 3)
    if "8" in chosen:
        results += case_csv(20_000 if quick else 2_200_000, 1 if quick else 3)
    if "10" in chosen:
        row = case_app_cpu(2.0 if quick else 10.0, 1 if quick else 3)
        results += [row] if row else []
    if "9" in chosen:
        results.append(case_sufficient(100_000 if quick else 10_000_000, 10, 1 if quick else 3))
    if "11" in chosen:
        results.append(case_synthetic_memory(100_000 if quick else 5_000_000, 50, 1 if quick else 3))
    gpu = gpu_rows(seconds) if torch.cuda.is_available() else []

    width = max(len(r.name) for r in results) if results else 20
    print(f"\n{'case':<5} {'what':<{width}} {'ratio':>9}  goal       met")
    for r in results:
        unit = " MB" if r.case == "5" else ""
        print(f"{r.case:<5} {r.name:<{width}} {r.ratio:>9.3f}{unit:3} {r.goal:<10} {'yes' if r.met else 'NO'}")
    for r in results:
        if "round_ratios" in r.detail or "round_shares" in r.detail:
            each = r.detail.get("round_ratios") or r.detail["round_shares"]
            print(f"      case {r.case} per round: {', '.join(f'{v:.3f}' for v in each)}")
    for row in gpu:
        print(f"gpu   {row['workload']}: eager loop {row['eager_loop']:,.0f} steps/s, "
              f"autograd {row['autograd']:,.0f}, fused {row['fused']:,.0f}")
    report = {
        "quick": quick,
        "machine": {"python": platform.python_version(), "torch": torch.__version__, "cpus": os.cpu_count(),
                    "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None},
        "seconds": time.perf_counter() - started,
        "results": [asdict(r) for r in results],
        "gpu": gpu,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2))
    print(f"\nwritten to {args.json} in {report['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
