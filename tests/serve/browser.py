"""A real headless Chromium on `tui-trainer serve`, and a way to read what its canvas shows.

textual-serve draws the terminal on a canvas, so the screen's words are not in the page's DOM.
Two readers: the websocket frames the page receives (the app's output as text, fast and exact,
used to wait), and OCR of a screenshot by tesseract (what a person would see, used to confirm).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from .helpers import wait_for

# Playwright cannot download its own browser here; Debian's chromium does the same job.
CHROMIUM = os.environ.get("TUI_TRAINER_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
TESSERACT = shutil.which("tesseract")
VIEWPORT = {"width": 1400, "height": 900}


def artifacts_dir(fallback: Path) -> Path:
    """Where screenshots are kept: $TUI_TRAINER_ARTIFACTS (CI sets it), else the test's tmp_path."""
    folder = Path(os.environ.get("TUI_TRAINER_ARTIFACTS") or fallback)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def ocr(image: Path) -> str:
    return subprocess.run([TESSERACT, str(image), "-"], capture_output=True, text=True, timeout=60, check=False).stdout


class Tab:
    """One browser tab on the server, recording the text of every frame the app sends it."""

    def __init__(self, context, url: str) -> None:
        self.page = context.new_page()
        self.frames: list[str] = []
        self.page.on("websocket", self._watch)
        self.response = self.page.goto(url)

    def _watch(self, websocket) -> None:
        def received(payload: str | bytes) -> None:
            self.frames.append(payload if isinstance(payload, str) else payload.decode("utf-8", "replace"))

        websocket.on("framereceived", received)

    def pause(self, seconds: float) -> None:
        # Playwright's sync API delivers events (our frames) only while it is called: wait in it.
        self.page.wait_for_timeout(seconds * 1000)

    def mark(self) -> int:
        return len(self.frames)

    def shows(self, word: str, since: int = 0) -> bool:
        # the app redraws only what changed, so a word may straddle two frames: join them
        return word in "".join(self.frames[since:])

    def wait_for_screen(self, word: str, timeout: float, since: int = 0) -> None:
        wait_for(lambda: self.shows(word, since), timeout, f"{word} on the page", sleep=self.pause)

    def press(self, key: str) -> None:
        # keys go to xterm's hidden textarea, which sends them down the websocket as stdin
        self.page.locator("textarea.xterm-helper-textarea").focus()
        self.page.keyboard.press(key)

    def screenshot_showing(self, word: str, path: Path, timeout: float) -> str:
        """Screenshot until OCR reads `word` (the canvas paints a moment after the frame lands)."""

        def read() -> str | None:
            self.page.screenshot(path=str(path))
            text = ocr(path)
            return text if re.search(rf"\b{word}\b", text) else None

        return wait_for(read, timeout, f"OCR to read {word} in {path}", sleep=self.pause)

    def close(self) -> None:
        self.page.close()
