"""How a tui-trainer command ends: its exit codes, and `fail` for input it cannot use.

Its own module so that `cli` (which parses) and `headless` (which runs) share them without
importing each other.
"""

from __future__ import annotations

import sys
from typing import NoReturn

EXIT_OK, EXIT_BAD_INPUT, EXIT_DIVERGED, EXIT_INTERRUPTED = 0, 2, 3, 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: what a shell reports for a writer whose reader went away


def fail(message: str) -> NoReturn:
    print(f"tui-trainer: error: {message}", file=sys.stderr)
    raise SystemExit(EXIT_BAD_INPUT)
