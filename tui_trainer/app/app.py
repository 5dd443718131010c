"""The Textual app: what is app-wide. The themes, the trainer process and the thread that pumps its
events, and the main screen that shows them (main_screen.py).

Training runs in a child process (see engine/). A thread worker receives its event batches and
posts them as messages; the run controller (controller.py) routes them to the run or race they
belong to, and the main screen draws them.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import App, SystemCommand
from textual.screen import Screen
from textual.worker import Worker, WorkerState, get_current_worker

from ..engine.host import EngineDied, EngineHost, prepare
from .controller import RunController
from .main_screen import MainScreen
from .messages import EngineBatch, EngineGone

if TYPE_CHECKING:
    from ..core.config import RunConfig
    from .themes import LoadedTheme

DEFAULT_THEME = "trainer-dark"


class TrainerApp(App):
    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute: subclasses elsewhere still find it
    TITLE = "tui-trainer"
    AUTO_FOCUS = None  # keys work from the first frame; click or Tab into a field to type


    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Textual's own commands, less its Screenshot: it saves to ~/Downloads, which a server or
        an SSH session usually lacks (the palette's "Save a screenshot" saves here instead)."""
        for command in super().get_system_commands(screen):
            if command.title != "Screenshot":
                yield command

    def __init__(
        self, config: RunConfig | None = None, theme_folders: list[Path] | None = None, lang: str = "en", *,
        save: str | None = None, resume: str | None = None, checkpoint_every: int | None = None,
    ) -> None:
        super().__init__()
        prepare()
        self.controller = RunController(self._start_engine)
        self.main = MainScreen(self.controller, config, lang, save=save, resume=resume, checkpoint_every=checkpoint_every)
        self.hung_up = False  # ended by SIGHUP or SIGTERM (its run checkpointed first)
        self.theme_folders = theme_folders
        self.loaded_themes: list[LoadedTheme] = []
        self.theme_charts: dict[str, LoadedTheme] = {}

    def get_default_screen(self) -> MainScreen:
        return self.main

    def on_resize(self) -> None:
        self.set_class(self.size.width >= 110, "-wide")

    def on_mount(self) -> None:
        import asyncio
        import signal

        loop = asyncio.get_running_loop()
        for sig in (signal.SIGHUP, signal.SIGTERM):
            loop.add_signal_handler(sig, self._hang_up, sig)
        self.call_after_refresh(self._after_first_frame)

    def _hang_up(self, signum: int) -> None:
        """The terminal went away (SIGHUP: an SSH connection dropped) or we were told to stop
        (SIGTERM): the trainer process stops the run, checkpoints it into its run folder and
        ends (closing the engine waits for that), then the app ends with 130, as `train` does.
        After a hang-up there is no terminal to restore, and restoring it can block on the dead
        one: the process simply ends. After SIGTERM the app exits as usual, within seconds."""
        import os
        import signal
        import threading

        if self.hung_up:
            return
        self.hung_up = True
        self._close_engine()
        if signum == signal.SIGHUP:
            os._exit(130)

        def deadline() -> None:
            threading.Event().wait(5)
            os._exit(130)

        threading.Thread(target=deadline, name="exit deadline", daemon=True).start()
        self.exit(return_code=130)

    async def _after_first_frame(self) -> None:
        """The trainer process (torch loads there meanwhile), the themes and the costly panels."""
        self.controller.connect()
        worker = self._read_themes()
        await worker.wait()  # the files are read on a thread: the keys (q) work meanwhile
        if worker.state is WorkerState.SUCCESS and worker.result is not None:
            self._register_themes(*worker.result)
        elif worker.state is WorkerState.ERROR:
            self.notify(f"themes: {worker.error}", title="Theme skipped", severity="warning", timeout=10)
        if self.is_running:
            await self.main.mount_panels()

    @work(thread=True, exclusive=True, group="themes", exit_on_error=False, name="theme files")
    def _read_themes(self) -> tuple[list[LoadedTheme], list[str]]:
        """Read and validate the theme files (pydantic), off the UI thread: a file system may be slow."""
        from .themes import bundled_theme_dir, load_themes, user_theme_dir

        folders = self.theme_folders if self.theme_folders is not None else [bundled_theme_dir(), user_theme_dir()]
        return load_themes(folders)

    def _register_themes(self, loaded_themes: list[LoadedTheme], problems: list[str]) -> None:
        """Register the themes read and switch to the default one; say which files were skipped."""
        self.loaded_themes = loaded_themes
        for loaded in self.loaded_themes:
            self.register_theme(loaded.theme)
            self.theme_charts[loaded.theme.name] = loaded
        if DEFAULT_THEME in self.theme_charts:
            self.theme = DEFAULT_THEME
        for problem in problems:
            self.notify(problem, title="Theme skipped", severity="warning", timeout=10)

    def action_next_theme(self) -> None:
        names = [loaded.theme.name for loaded in self.loaded_themes] or list(self.available_themes)
        index = names.index(self.theme) if self.theme in names else -1
        self.theme = names[(index + 1) % len(names)]
        self.notify(f"theme: {self.theme}", timeout=2)

    # --- the trainer process ---

    def _start_engine(self) -> EngineHost:
        engine = EngineHost()
        self._pump_events(engine)
        return engine

    @work(thread=True, exclusive=True, group="engine", exit_on_error=False, name="engine events")
    def _pump_events(self, engine: EngineHost) -> None:
        """Start the trainer process (off the UI thread) and pass its batches on as messages."""
        worker = get_current_worker()
        try:
            engine.start()
            while not worker.is_cancelled:
                batch = engine.receive(timeout=0.1)
                if batch is not None:
                    self.post_message(EngineBatch(batch))
        except EngineDied as death:
            if not worker.is_cancelled:
                self.post_message(EngineGone(str(death)))

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.group == "engine":
            self.controller.fail(f"{event.worker.name} failed: {event.worker.error}")

    @on(EngineBatch)
    def _engine_batch(self, message: EngineBatch) -> None:
        self.controller.receive(message.batch)

    @on(EngineGone)
    def _engine_gone(self, message: EngineGone) -> None:
        self.controller.engine_gone(message.reason)

    async def action_quit(self) -> None:
        self._close_engine()
        self.exit()

    def on_unmount(self) -> None:
        self._close_engine()

    def _close_engine(self) -> None:
        self.workers.cancel_group(self, "engine")
        self.controller.close()
