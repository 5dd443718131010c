"""`tui-trainer serve` without a browser: its flags, its refusals, and one process per session."""

from __future__ import annotations

import asyncio
import importlib.util
import socket
import subprocess
import sys

import pytest

from tui_trainer.cli import build_parser, main
from tui_trainer.serve import app_argv, app_command

from .helpers import REPO, alive, descendants, is_trainer, serve

needs_textual_serve = pytest.mark.skipif(
    importlib.util.find_spec("textual_serve") is None, reason="textual-serve is not installed: pip install -e '.[web]'"
)


def one_error_line(capsys: pytest.CaptureFixture, argv: list[str]) -> str:
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    err = capsys.readouterr().err
    assert exit_.value.code == 2
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


def test_without_textual_serve_it_says_how_to_install(monkeypatch, capsys):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "textual_serve" else real(name, *a))
    assert "pip install 'tui-trainer[web]'" in one_error_line(capsys, ["serve"])


@pytest.mark.parametrize(
    "argv, words",
    [
        (["serve", "--port", "http"], "--port must be a whole number"),
        (["serve", "--port", "70000"], "--port must be from 0 to 65535"),
        (["serve", "--max-sessions", "0"], "--max-sessions must be from 1"),
        (["serve", "--lr", "fast"], "--lr"),
    ],
)
def test_bad_input_is_one_line(capsys, argv, words):
    assert words in one_error_line(capsys, argv)


def test_app_flags_become_each_tabs_command_line():
    args = build_parser().parse_args(
        ["serve", "--port", "9000", "--epochs", "5", "--no-standardize", "--forget-zero-grad", "--lang", "zh"]
    )
    assert app_argv(args) == ["--epochs", "5", "--no-standardize", "--forget-zero-grad", "--lang", "zh"]
    command = app_command(app_argv(args))
    assert command.startswith("exec ") and "-m tui_trainer --epochs 5" in command and "9000" not in command


def run_serve(*flags: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tui_trainer", "serve", *flags], cwd=REPO, capture_output=True, text=True, timeout=60, check=False
    )


@needs_textual_serve
def test_a_port_in_use_is_one_line_and_exit_2():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = run_serve("--port", str(taken.getsockname()[1]))
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "Address already in use" in result.stderr, result.stderr


@needs_textual_serve
def test_a_bad_host_is_one_line_and_exit_2():
    result = run_serve("--host", "no-such-host.invalid")  # .invalid never resolves (RFC 2606)
    assert result.returncode == 2
    assert result.stderr.startswith("tui-trainer: error: cannot listen on no-such-host.invalid")
    assert result.stderr.strip().count("\n") == 0, result.stderr


@needs_textual_serve
def test_another_host_than_loopback_prints_the_warning():
    served = serve("--host", "0.0.0.0")
    try:
        assert served.url.startswith("http://0.0.0.0:")
    finally:
        served.stop()
    assert served.process.returncode == 0
    assert "anyone who can reach this port can run training on this machine" in "".join(served.stderr_lines)


async def until(condition, timeout: float, what: str):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not (value := condition()):
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(0.1)
    return value


@needs_textual_serve
async def test_sessions_are_limited_and_each_ends_with_its_websocket():
    """What a browser tab does, spoken by aiohttp: a websocket per tab, one app process per websocket."""
    import aiohttp

    served = serve("--max-sessions", "1")
    ws_url = served.url.replace("http://", "ws://") + "/ws?width=100&height=30"
    try:
        async with aiohttp.ClientSession() as client:
            first = await client.ws_connect(ws_url)
            (app,) = await until(served.apps, 60, "the first session's app process")

            async with client.get(served.url) as page:  # a second tab's page: the readable refusal
                assert page.status == 503
                assert "tui-trainer is busy" in await page.text()
            second = await client.ws_connect(ws_url)  # a tab that loaded the page before the first
            assert (await second.receive()).type == aiohttp.WSMsgType.CLOSE
            assert second.close_code == 1013 and served.apps() == {app}  # refused before any process started

            await first.close()  # the tab closes: its app goes, and the server takes a new one
            await until(lambda: not alive(descendants(served.process.pid)), 60, "the app to end with its websocket")
            async with client.get(served.url) as page:
                assert page.status == 200

            third = await client.ws_connect(ws_url)  # left open: stopping the server must end it too
            (app,) = await until(served.apps, 60, "a new session's app process")
            await until(lambda: any(map(is_trainer, descendants(app))), 120, "its trainer (started on mount)")
            tree = {app} | descendants(app)
            assert not third.closed
            served.stop()
            assert served.process.returncode == 0
            assert not alive({app})  # the server waited for its app: no orphan
            # the app's own helpers (trainer, resource tracker) end with it, a moment later at most
            await until(lambda: not alive(tree), 30, "the app's trainer and resource tracker to end")
    finally:
        served.stop()
