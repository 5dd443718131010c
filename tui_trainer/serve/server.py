"""The web server behind `tui-trainer serve`: textual-serve's Server, with a limit on sessions.

textual-serve starts one app process per websocket, without a limit, and builds the page's links
from the host it was told to listen on. Two small overrides change that:
- `handle_index` answers a readable "busy" page once `max_sessions` tabs are open, and builds the
  websocket address from the address the browser used (so `--host 0.0.0.0` or an `ssh -L` to
  another local port still work);
- `handle_websocket` counts the sessions and refuses one over the limit before any process starts
  (the page check alone can be raced by tabs that load the page at the same moment).
`run` binds the port itself, so a port in use or a bad host is one line and exit 2, not a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
from pathlib import Path

import aiohttp_jinja2
from aiohttp import WSCloseCode, web
from textual_serve.server import Server, to_int


class BindError(Exception):
    """The address cannot be listened on; the message says why, for the person."""


BUSY_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>tui-trainer is busy</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto; line-height: 1.5">
<h1>tui-trainer is busy</h1>
<p>This server runs at most {limit} browser {tabs} at once (each has its own app and training
process), and none is free now. Close a tui-trainer tab, or wait for one to close, then reload
this page.</p>
</body></html>
"""


SHUTDOWN_WAIT = 15  # seconds for every tab's app to quit once the server is told to stop


class SessionServer(Server):
    def __init__(self, command: str, host: str, port: int, max_sessions: int) -> None:
        super().__init__(command, host=host, port=port, title="tui-trainer")
        self.max_sessions = max_sessions
        self.sessions = 0
        self._open: dict[asyncio.Task, web.Request] = {}  # each session's handler, and its request

    def busy_page(self) -> web.Response:
        text = BUSY_PAGE.format(limit=self.max_sessions, tabs="tab" if self.max_sessions == 1 else "tabs")
        return web.Response(status=503, text=text, content_type="text/html")

    async def handle_index(self, request: web.Request) -> web.StreamResponse:
        if self.sessions >= self.max_sessions:
            return self.busy_page()
        scheme = "wss" if request.secure else "ws"
        context = {
            "font_size": to_int(request.query.get("fontsize", "16"), 16),
            "app_websocket_url": f"{scheme}://{request.host}/ws",
            "config": {"static": {"url": "/static/"}},
            "application": {"name": self.title},
        }
        return aiohttp_jinja2.render_template("app_index.html", request, context)

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        if self.sessions >= self.max_sessions:
            websocket = web.WebSocketResponse()
            await websocket.prepare(request)
            await websocket.close(code=WSCloseCode.TRY_AGAIN_LATER, message=b"all sessions are in use")
            return websocket
        self.sessions += 1
        task = asyncio.current_task()
        assert task is not None  # aiohttp runs every handler in a task of its own
        self._open[task] = request
        try:
            # textual-serve's handler starts the app, relays until the tab closes, then tells the
            # app to quit and waits for it; the app ends its own trainer process on the way out.
            return await super().handle_websocket(request)
        finally:
            del self._open[task]
            self.sessions -= 1

    async def on_startup(self, app: web.Application) -> None:
        pass  # `run` prints the address once it is known (port 0 picks one)

    async def on_shutdown(self, app: web.Application) -> None:
        # Dropping each tab's connection ends textual-serve's relay as a closed tab does: it tells
        # the app to quit and waits for its output to end. Cancelling the handlers instead would
        # cancel that wait too.
        for request in self._open.values():
            if request.transport is not None:
                request.transport.close()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SHUTDOWN_WAIT
        if self._open:
            _, stuck = await asyncio.wait(list(self._open), timeout=SHUTDOWN_WAIT)
            for task in stuck:
                task.cancel()
        # An app's output ends before the app does (it still stops its trainer): wait for the
        # processes themselves, so none outlives the server as an orphan.
        while _children() and loop.time() < deadline:
            await asyncio.sleep(0.1)
        for pid in _children():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)


def _children() -> set[int]:
    """This server's running child processes (the tabs' apps); empty where there is no /proc."""
    try:
        threads = list(Path("/proc/self/task").iterdir())
    except OSError:  # not Linux: the apps were told to quit, and that has to do
        return set()
    pids: set[int] = set()
    for thread in threads:
        with contextlib.suppress(OSError):  # a thread may end while we look
            pids.update(int(pid) for pid in (thread / "children").read_text().split())
    return {pid for pid in pids if _running(pid)}


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited and waits for asyncio to reap it


async def _serve(server: SessionServer, warning: str | None) -> None:
    runner = web.AppRunner(await server._make_app(), handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, server.host, server.port)
    try:
        await site.start()
    except OSError as error:  # socket.gaierror (bad host) is an OSError too
        await runner.cleanup()
        # aiohttp wraps the bind error in its own long sentence; the system's words are enough
        gai = isinstance(error, socket.gaierror) or not error.errno
        reason = (error.strerror or str(error)) if gai or error.errno is None else os.strerror(error.errno)
        raise BindError(f"cannot listen on {server.host} port {server.port}: {reason}") from None
    listening = site._server
    assert isinstance(listening, asyncio.Server)  # started above: a TCP site's server
    port = listening.sockets[0].getsockname()[1]  # the real one when --port 0
    host = f"[{server.host}]" if ":" in server.host else server.host
    # handlers first: whoever reads the address below may signal at once
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    if warning:  # after binding, so a bad host is only its error
        print(warning, file=sys.stderr, flush=True)
    print(
        f"tui-trainer: serving on http://{host}:{port} (at most {server.max_sessions} tabs at once; Ctrl+C stops)",
        flush=True,
    )
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def run(command: str, host: str, port: int, max_sessions: int, warning: str | None = None) -> None:
    """Serve `command` (one process per tab) until SIGINT or SIGTERM; `warning` once listening."""
    asyncio.run(_serve(SessionServer(command, host, port, max_sessions), warning))
    print("tui-trainer: stopped serving", file=sys.stderr)
