"""The app's side of the trainer process: spawn it, send it commands, receive its batches."""

from __future__ import annotations

import contextlib
import multiprocessing
from multiprocessing.connection import Connection

from . import protocol as p


class EngineDied(Exception):
    """The trainer process is gone; the message says how, for the person."""


def prepare() -> None:
    """Call before the app takes over the terminal.

    Spawning starts multiprocessing's resource tracker, which hands it `sys.stderr.fileno()`;
    under a running Textual app stderr is a capture object without a real descriptor, and the
    spawn fails. Started here, the tracker is already running when the engine spawns.
    """
    from multiprocessing import resource_tracker

    resource_tracker.ensure_running()


class EngineHost:
    """Owns one trainer process. Not thread-safe: one thread sends, one receives."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")  # fork would copy the app's threads
        command_reader, self._commands = context.Pipe(duplex=False)
        self._events, event_writer = context.Pipe(duplex=False)
        from .child import main

        self.process = context.Process(
            target=main, args=(command_reader, event_writer), name="tui-trainer-engine", daemon=True
        )
        self._child_ends: tuple[Connection, ...] = (command_reader, event_writer)

    def start(self) -> None:
        self.process.start()
        for end in self._child_ends:  # so a dead child shows up as EOF here
            end.close()

    @property
    def alive(self) -> bool:
        return self.process.is_alive()

    def send(self, command: p.Command) -> None:
        try:
            self._commands.send(command)
        except (BrokenPipeError, OSError) as error:
            raise EngineDied(self._death_notice()) from error

    def receive(self, timeout: float) -> p.Batch | None:
        """The next batch, or None if none came within `timeout` seconds."""
        try:
            if not self._events.poll(timeout):
                return None
            return self._events.recv()
        except (EOFError, OSError) as error:
            raise EngineDied(self._death_notice()) from error

    def close(self, timeout: float = 3.0) -> None:
        """Ask the process to finish; make sure it is gone either way."""
        if self.process.pid is None:
            return
        with contextlib.suppress(BrokenPipeError, OSError):
            self._commands.send(p.Shutdown())
        self.process.join(timeout)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(1)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(1)
        self._commands.close()
        self._events.close()

    def _death_notice(self) -> str:
        self.process.join(0.5)
        code = self.process.exitcode
        how = "is still starting" if code is None else f"exited with code {code}"
        return f"the training process stopped unexpectedly ({how}); press s to start again"
