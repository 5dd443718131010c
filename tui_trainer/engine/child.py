"""The trainer process: runs one Trainer at a time and streams its events back in batches.

A reader thread turns commands into RunControl calls the moment they arrive, so pause, single
step, stop and a new learning rate reach the trainer within one chunk. A sender thread ships the
events collected so far at most ~30 times a second, so a fast run cannot flood the app.
"""

from __future__ import annotations

import os
import queue
import signal
import threading
import time
import traceback
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING

from . import protocol as p

if TYPE_CHECKING:
    from ..core.control import RunControl
    from ..core.race import Race
    from ..core.trainer import Trainer

SEND_PERIOD = 1 / 30  # seconds between batches of events
CHUNK_SECONDS = 1 / 30  # a run hears commands at least this often
DEVICE_INFO_SECONDS = 2.0  # how often a GPU's memory in use is reported


class Outbox:
    """Collects events from the trainer and sends them in batches from its own thread."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.pending: list[tuple[int, object]] = []
        self.lock = threading.Condition()
        self.closed = False
        self.gone = False  # the app stopped listening
        self.thread = threading.Thread(target=self._send_loop, name="outbox", daemon=True)
        self.thread.start()

    def put(self, run_id: int, event: object) -> None:
        with self.lock:
            self.pending.append((run_id, event))
            self.lock.notify()

    def close(self) -> None:
        with self.lock:
            self.closed = True
            self.lock.notify()
        self.thread.join()

    def _send_loop(self) -> None:
        while True:
            with self.lock:
                self.lock.wait_for(lambda: self.pending or self.closed)
                items, self.pending = self.pending, []
                closing = self.closed
            for run_id, events in _group_by_run(items):
                if self.gone:
                    break
                try:
                    self.connection.send(p.Batch(run_id, events))
                except (BrokenPipeError, OSError):
                    # the app is gone: drop what it would have shown, while the run is stopped
                    # and checkpointed (main() hears of it from the command pipe)
                    self.gone = True
            if closing:
                return
            time.sleep(SEND_PERIOD)


def _group_by_run(items: list[tuple[int, object]]) -> list[tuple[int, list]]:
    groups: list[tuple[int, list]] = []
    for run_id, event in items:
        if groups and groups[-1][0] == run_id:
            groups[-1][1].append(event)
        else:
            groups.append((run_id, [event]))
    return groups


def _report_memory_every(seconds: float, device, outbox: Outbox, describe) -> None:
    def loop() -> None:
        while True:
            time.sleep(seconds)
            outbox.put(0, p.DeviceInfo(describe(device)))

    threading.Thread(target=loop, name="device-info", daemon=True).start()


def _run_lessons(lessons: queue.Queue[p.Lesson | None], shown: dict[str, Trainer | Race | None], outbox: Outbox) -> None:
    """Answer each lesson asked for, on a copy of the run's model and batch (published by the
    trainer between its chunks, so never caught mid-step), or of the model a run would start with."""
    from ..core.autograd_lab import run_lesson
    from ..core.errors import TrainerError
    from ..core.trainer import Trainer

    while (lesson := lessons.get()) is not None:
        try:
            work = shown["work"]
            inputs = work.published_lab_inputs if lesson.from_run and isinstance(work, Trainer) else None
            if inputs is None:
                inputs = Trainer(lesson.config).lab_inputs()
            outbox.put(0, p.LessonShown(lesson.request_id, run_lesson(lesson.name, inputs)))
        except TrainerError as error:
            outbox.put(0, p.LessonShown(lesson.request_id, None, str(error)))
        except Exception as error:  # a lesson must not cost the app its engine
            outbox.put(0, p.LessonShown(lesson.request_id, None, f"{type(error).__name__}: {error}"))


def main(commands: Connection, events: Connection) -> None:
    """Entry point of the spawned process."""
    outbox = Outbox(events)
    starts: queue.Queue[tuple[p.Start | p.StartRace, RunControl] | None] = queue.Queue()
    current: dict[str, RunControl | None] = {"control": None, "single": None}  # what runs; the last single run
    lessons: queue.Queue[p.Lesson | None] = queue.Queue()  # run in their own thread: commands keep flowing
    shown: dict[str, Trainer | Race | None] = {"work": None}  # what the lessons copy the model and batch from
    ledger = {"on": False}

    from ..core.control import RunControl  # light: no torch

    def shut_down() -> None:
        """Stop the run (its folder gets its checkpoint as it ends) and end the process after it."""
        control = current["control"]
        if control is not None:
            control.stop()
        lessons.put(None)
        leaving.set()

    leaving = threading.Event()
    # The terminal hung up (SIGHUP: an SSH connection dropped) or we were told to stop (SIGTERM):
    # the run ends as a stop does, checkpointed, and then the process ends. The app sends Shutdown
    # for the same when it gets them; either arrives first.
    for sig in (signal.SIGHUP, signal.SIGTERM):
        signal.signal(sig, lambda signum, frame: shut_down())

    def read_commands() -> None:
        while True:
            try:
                command = commands.recv()
            except (EOFError, OSError):
                shut_down()  # the app went away without saying goodbye: save what runs, then go
                return
            try:
                if not obey(command):
                    return
            except Exception:  # one bad command must not cost the app its engine
                traceback.print_exc()

    def obey(command) -> bool:
        """Act on one command; False once told to shut down."""
        control = current["control"]
        match command:
            case p.Start() | p.StartRace():
                if control is not None:
                    control.stop()
                # made here, in command order, so a Step sent right after Start reaches it
                current["control"] = fresh = RunControl(paused=command.paused)
                if isinstance(command, p.Start):
                    current["single"] = fresh  # ctrl+s saves single runs (a race saves with race --save)
                fresh.ledger = ledger["on"]
                starts.put((command, fresh))
            case p.Ledger():
                ledger["on"] = command.on  # for this run and the ones after it
                if control is not None:
                    control.ledger = command.on
            case p.Lesson():
                lessons.put(command)
            case p.Shutdown():
                shut_down()
                return False
            case p.Save():
                single = current["single"]
                if single is not None:
                    single.request(command)  # its driver serves it between chunks, or once idle
                else:
                    outbox.put(0, p.SaveFailed("there is no run to save yet: start one first"))
            case p.Pause() if control:
                control.pause()
            case p.Resume() if control:
                control.resume()
            case p.Step() if control:
                control.step(command.count)
            case p.Stop() if control:
                control.stop()
            case p.SetLr() if control:
                control.set_lr(command.lr)
        return True

    threading.Thread(target=read_commands, name="commands", daemon=True).start()

    from ..core.device import describe_device, resolve_device  # imports torch
    from ..core.errors import TrainerError
    from ..core.race import Race
    from ..core.race_events import parse_entries
    from ..core.trainer import Trainer

    try:
        device = resolve_device("auto")
        outbox.put(0, p.DeviceInfo(describe_device(device)))
    except Exception as error:  # a broken CUDA install must not kill the engine
        device = None
        outbox.put(0, p.DeviceInfo(f"unknown ({error})"))
    if device is not None and device.type == "cuda":
        _report_memory_every(DEVICE_INFO_SECONDS, device, outbox, describe_device)
    threading.Thread(target=_run_lessons, args=(lessons, shown, outbox), name="lessons", daemon=True).start()
    from .folder_run import FolderRun

    previous: tuple[FolderRun, RunControl] | None = None  # the last single run: ctrl+s may save it after it ended
    while not leaving.is_set():
        try:
            queued = starts.get(timeout=0.2)
        except queue.Empty:
            if previous is not None:  # a single run that has ended: a save may still come for it
                for request in previous[1].take_requests():
                    previous[0].serve(request)
            continue
        if queued is None:
            break
        start, control = queued
        if control.stopped:
            continue  # replaced before it began
        sink = lambda event, run_id=start.run_id: outbox.put(run_id, event)  # noqa: E731
        try:
            if isinstance(start, p.StartRace):
                race = Race(start.config, parse_entries(start.spec), sink=sink, control=control, chunk_seconds=CHUNK_SECONDS)
                shown["work"] = race
                race.run()
            else:  # the app draws the path on the loss landscape: keep it, thinned on long runs
                trainer = Trainer(start.config, control=control, chunk_seconds=CHUNK_SECONDS, path="thinning")
                run = FolderRun(trainer, sink, start.checkpoint_every)
                if start.folder is not None and start.resume:
                    run.resume_from(start.folder)
                elif start.folder is not None:
                    run.start_new(start.folder)
                previous = run, control
                shown["work"] = trainer  # the lessons copy its model and batch
                run.run(replay=start.resume)
        except TrainerError as error:
            outbox.put(start.run_id, p.RunFailed(str(error)))
        except Exception as error:
            last = traceback.extract_tb(error.__traceback__)[-1]
            where = f"{os.path.basename(last.filename)}:{last.lineno}"
            outbox.put(start.run_id, p.RunFailed(f"{type(error).__name__}: {error} (at {where})"))
    outbox.close()
