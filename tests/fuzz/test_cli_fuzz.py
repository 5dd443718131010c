"""Property-based tests of the command line's flags (issue 15's fuzz suite, its CLI part).

Any mix of the run's flags with valid, borderline and garbage values either gives settings or a
bad-input exit (2) with one line on stderr: never another exception, never a traceback. A handful
of the accepted mixes are then trained for a few steps in a child process, which must exit 0, 2
or 3 (a setting can be valid and still diverge, or name a device this machine lacks).

A long local run: TUI_TRAINER_FUZZ_EXAMPLES=5000 python -m pytest tests/fuzz.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tui_trainer.cli import build_parser, config_from_args
from tui_trainer.flags import RUN_FLAGS

EXAMPLES = int(os.environ.get("TUI_TRAINER_FUZZ_EXAMPLES", "0"))
PLAIN = [flag for flag in RUN_FLAGS if not flag.boolean and not flag.switch and flag.name != "--data"]
SWITCHES = [flag.name for flag in RUN_FLAGS if flag.switch] + ["--standardize", "--no-standardize"]

values = st.one_of(
    st.sampled_from(["0", "1", "-1", "0.5", "1e-300", "1e300", "1e39", "nan", "inf", "-inf", "full", "", " ", "3,4", "1,2,3"]),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(max_size=12),
)
flag_and_value = st.one_of(
    st.tuples(st.sampled_from(PLAIN), values).map(lambda pair: [pair[0].name, pair[1]]),
    st.sampled_from(SWITCHES).map(lambda name: [name]),
    st.sampled_from([choice for flag in PLAIN if flag.choices for choice in flag.choices]).map(lambda c: ["--algorithm", c]),
)
argvs = st.lists(flag_and_value, max_size=6).map(lambda parts: [word for part in parts for word in part])


def parse(argv: list[str]) -> tuple[object | None, int | None, str]:
    """(settings, None, "") when accepted; (None, exit code, stderr) when refused."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        try:
            args, leftovers = build_parser().parse_known_args(["train", *argv])
            assert not leftovers, leftovers
            return config_from_args(args), None, ""
        except SystemExit as exit:
            return None, exit.code, err.getvalue()


@settings(max_examples=EXAMPLES or 300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(argvs)
def test_any_flags_give_settings_or_one_clear_line(argv):
    config, code, err = parse(argv)
    if config is None:
        assert code == 2, err
        assert err.count("\n") == 1 and err.startswith("tui-trainer: error: ") and "Traceback" not in err


@settings(max_examples=max(EXAMPLES // 50, 4), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(argvs)
def test_accepted_flags_train_or_fail_cleanly(argv):
    config, _, _ = parse(argv)
    if config is None:
        return
    done = subprocess.run(
        [sys.executable, "-m", "tui_trainer", "train", *argv, "--max-steps", "3", "--samples", "50"],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode in (0, 2, 3), done.stderr
    assert "Traceback" not in done.stderr
