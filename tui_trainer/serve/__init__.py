"""`tui-trainer serve`: the app in web browsers, one app and one trainer process per browser tab.

This module is the command-line side and imports only the standard library, so `tui-trainer --help`
stays fast and a missing optional extra is reported in one line. The web server itself, built on
the Textualize team's `textual-serve`, lives in `server.py` and is imported only when serving.
"""

from __future__ import annotations

import argparse
import ipaddress
import shlex
import sys

DEFAULT_HOST = "127.0.0.1"  # only this machine; `ssh -L` brings it to a remote browser
DEFAULT_PORT = 8000
# Each tab costs an app process and a trainer process (torch alone is ~1.4 s of CPU to import), so
# a handful is enough for a small class and keeps a forgotten public port from forking without end.
DEFAULT_MAX_SESSIONS = 4

INSTALL_HINT = "serve needs the web extra: pip install 'tui-trainer[web]'"


def add_serve_parser(commands: argparse._SubParsersAction) -> None:
    """Register `serve` with the app's own flags, which preload the form of every tab's app."""
    from ..flags import add_run_flags

    serve = commands.add_parser(
        "serve",
        help="serve the app to web browsers, one app per tab (needs tui-trainer[web])",
        description="Serve the app to web browsers: each tab runs its own app and trainer process; "
        "closing the tab ends both. The settings flags preload every tab's form.",
    )
    server = serve.add_argument_group("server")
    server.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST}: this machine only)")
    server.add_argument(
        "--port", default=str(DEFAULT_PORT), metavar="PORT", help=f"port to listen on (default {DEFAULT_PORT}; 0 picks a free one)"
    )
    server.add_argument(
        "--max-sessions", default=str(DEFAULT_MAX_SESSIONS), metavar="N",
        help=f"most browser tabs served at once; more are refused with a page saying so (default {DEFAULT_MAX_SESSIONS})",
    )
    serve.add_argument("--lang", choices=("en", "zh"), default=argparse.SUPPRESS, help="language of the Learn view's explanations")
    add_run_flags(serve)


def _whole_number(text: str, flag: str, low: int, high: int) -> int:
    from ..exits import fail

    try:
        value = int(text)
    except ValueError:
        fail(f"{flag} must be a whole number, got {text!r}")
    if not low <= value <= high:
        fail(f"{flag} must be from {low} to {high}, got {value}")
    return value


def is_loopback(host: str) -> bool:
    """True only for names that cannot be reached from another machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: it may well resolve to a public address


def app_argv(args: argparse.Namespace) -> list[str]:
    """The app flags given to `serve`, rebuilt as the app's own command line."""
    from ..flags import RUN_FLAGS

    argv: list[str] = []
    for flag in RUN_FLAGS:
        if not hasattr(args, flag.dest):  # absent flags are absent (argparse.SUPPRESS)
            continue
        value = getattr(args, flag.dest)
        if flag.boolean:
            argv.append(flag.name if value else "--no-" + flag.name.removeprefix("--"))
        elif flag.switch:
            argv.extend([flag.name] if value else [])
        else:
            argv.extend([flag.name, value])
    if getattr(args, "lang", "en") != "en":
        argv.extend(["--lang", args.lang])
    return argv


def app_command(argv: list[str]) -> str:
    """The shell command textual-serve runs for each tab.

    `exec` makes the shell become the app, so the process textual-serve tells to quit when a tab
    closes is the app itself, not a shell that would leave it behind. The interpreter serving is
    the one that runs the app, so a virtual environment need not be activated.
    """
    return "exec " + shlex.join([sys.executable, "-m", "tui_trainer", *argv])


def serve(args: argparse.Namespace) -> int:
    """Check the flags, warn about a public address, then serve until Ctrl+C or SIGTERM."""
    from importlib.util import find_spec

    from ..exits import EXIT_OK, fail

    port = _whole_number(args.port, "--port", 0, 65535)
    max_sessions = _whole_number(args.max_sessions, "--max-sessions", 1, 1000)
    if find_spec("textual_serve") is None:
        fail(INSTALL_HINT)
    from .server import BindError, run

    warning = None
    if not is_loopback(args.host):
        warning = (
            f"tui-trainer: warning: listening on {args.host}: anyone who can reach this port can run "
            "training on this machine (the default 127.0.0.1 with `ssh -L` keeps it private)"
        )
    try:
        run(app_command(app_argv(args)), args.host, port, max_sessions, warning)
    except BindError as error:
        fail(str(error))
    return EXIT_OK
