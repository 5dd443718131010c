"""`tui-trainer serve` in a real headless Chromium: two tabs, two apps, two trainers, nothing left.

Slow by nature (each tab starts an app, each run a trainer that imports torch), so every wait has
a generous timeout for a busy 2-core machine, and waits on a condition, never on the clock.
"""

from __future__ import annotations

import re

import pytest

from .browser import CHROMIUM, CHROMIUM_ARGS, TESSERACT, VIEWPORT, Tab, artifacts_dir
from .helpers import alive, descendants, is_trainer, serve, wait_for

playwright_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed: pip install -e '.[test]'")
pytest.importorskip("textual_serve", reason="textual-serve is not installed: pip install -e '.[web]'")
pytestmark = [
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="no Chromium installed, so no browser to test in (Debian: apt-get install chromium; "
        "or point TUI_TRAINER_CHROMIUM at one); .ci/run installs it",
    ),
    pytest.mark.timeout(600),
]

START = 120  # an app starting in a fresh process, on a busy machine
RUN = 240  # a trainer process importing torch, then a 5-epoch run


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def context(browser):
    context = browser.new_context(viewport=VIEWPORT)
    # the page asks Google for a font; offline (CI) that only costs time, so nothing leaves the machine
    context.route(re.compile(r"^https?://(?!127\.0\.0\.1[:/])"), lambda route: route.abort())
    yield context
    context.close()


@pytest.fixture
def artifacts(tmp_path):
    return artifacts_dir(tmp_path)


def test_each_tab_runs_its_own_app_and_trainer_and_closing_it_ends_both(context, artifacts):
    served = serve("--max-sessions", "2", "--epochs", "5")
    try:
        first = Tab(context, served.url)
        first.wait_for_screen("IDLE", START)
        (first_app,) = served.apps()
        if TESSERACT:
            first.screenshot_showing("IDLE", artifacts / "serve-idle.png", 60)

        second = Tab(context, served.url)  # opened while the first is still open
        second.wait_for_screen("IDLE", START)
        (second_app,) = served.apps() - {first_app}

        marks = first.mark(), second.mark()
        first.press("s")
        second.press("s")
        first.wait_for_screen("DONE", RUN, since=marks[0])
        second.wait_for_screen("DONE", RUN, since=marks[1])

        # each app has its own trainer process, and the two are distinct
        trees = {app: {app} | descendants(app) for app in (first_app, second_app)}
        trainers = {app: {pid for pid in tree if is_trainer(pid)} for app, tree in trees.items()}
        assert all(len(found) == 1 for found in trainers.values()), trainers
        assert trainers[first_app] != trainers[second_app]

        if TESSERACT:  # what a person sees: the finished run, kept as an artifact
            text = first.screenshot_showing("DONE", artifacts / "serve-done.png", 60)
            assert "step 5/5" in text or "epoch 5/5" in text, text
        else:
            first.page.screenshot(path=str(artifacts / "serve-done.png"))

        first.close()  # its app and trainer end; the other tab's live on
        wait_for(lambda: not alive(trees[first_app]), 60, f"the first tab's processes {trees[first_app]} to end")
        assert alive(trees[second_app]) == trees[second_app]

        second.close()
        # by process id, not by parent: the app's resource tracker ends just after the app, when
        # it is no longer the server's descendant
        everything = trees[first_app] | trees[second_app]
        wait_for(lambda: not alive(everything), 60, "both tabs' processes to end")
        assert not alive(descendants(served.process.pid))
    finally:
        served.stop()
    assert served.process.returncode == 0


def test_max_sessions_1_refuses_a_second_tab_with_a_readable_page(context, artifacts):
    served = serve("--max-sessions", "1")
    try:
        first = Tab(context, served.url)
        first.wait_for_screen("IDLE", START)
        (app,) = served.apps()

        refused = Tab(context, served.url)
        assert refused.response.status == 503
        assert refused.page.get_by_role("heading").inner_text() == "tui-trainer is busy"
        assert "at most 1 browser tab at once" in refused.page.inner_text("body")
        refused.page.screenshot(path=str(artifacts / "serve-busy.png"))
        assert served.apps() == {app}  # no process started for it

        first.close()  # a place frees up: the refused tab gets its app on reload
        wait_for(lambda: not alive(descendants(served.process.pid)), 60, "the first tab's app to end")
        mark = refused.mark()
        refused.page.reload()
        refused.wait_for_screen("IDLE", START, since=mark)
        refused.close()
    finally:
        served.stop()
    assert served.process.returncode == 0
