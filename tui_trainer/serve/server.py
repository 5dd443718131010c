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
import os
import signal
import socket
import sys

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


class SessionServer(Server):
    def __init__(self, command: str, host: str, port: int, max_sessions: int) -> None:
        super().__init__(command, host=host, port=port, title="tui-trainer")
        self.max_sessions = max_sessions
        self.sessions = 0
        self._session_tasks: set[asyncio.Task] = set()

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

    async def handle_websocket(self, request: web.Request) -> web.StreamResponse:
        if self.sessions >= self.max_sessions:
            websocket = web.WebSocketResponse()
            await websocket.prepare(request)
            await websocket.close(code=WSCloseCode.TRY_AGAIN_LATER, message=b"all sessions are in use")
            return websocket
        self.sessions += 1
        task = asyncio.current_task()
        self._session_tasks.add(task)
        try:
            # textual-serve's handler starts the app, relays until the tab closes, then tells the
            # app to quit and waits for it; the app ends its own trainer process on the way out.
            return await super().handle_websocket(request)
        finally:
            self._session_tasks.discard(task)
            self.sessions -= 1

    async def on_startup(self, app: web.Application) -> None:
        pass  # `run` prints the address once it is known (port 0 picks one)

    async def on_shutdown(self, app: web.Application) -> None:
        # aiohttp would wait up to a minute for open websockets; cancelling their handlers makes
        # textual-serve close each tab and quit its app now.
        for task in list(self._session_tasks):
            task.cancel()
        await asyncio.gather(*self._session_tasks, return_exceptions=True)


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
        reason = (error.strerror or str(error)) if gai else os.strerror(error.errno)
        raise BindError(f"cannot listen on {server.host} port {server.port}: {reason}") from None
    port = site._server.sockets[0].getsockname()[1]  # the real one when --port 0
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
