"""Property-based tests of CSV reading (issue 15's fuzz suite, its CSV part).

Generated numeric tables, written every way a CSV can be (delimiters, quoting, blank lines, CRLF,
a BOM), read back equal; generated garbage never crashes the reader, and the reader says exactly
what the old row-by-row reader (kept below, word for word, as the oracle) said about it; the CLI on
garbage exits 0, 2 or 3 with no traceback and leaves the file as it was.

Bounded for CI: a few seconds each, the CLI test (a subprocess importing torch per example) longest.
A long local run: TUI_TRAINER_FUZZ_EXAMPLES=5000 python -m pytest tests/fuzz (the CLI test runs a
fiftieth of that count).
"""

from __future__ import annotations

import csv
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tui_trainer.core import data
from tui_trainer.core.config import DataConfig
from tui_trainer.core.data import _choose_columns, _delimiter, load_dataset, read_csv
from tui_trainer.core.errors import DataError

EXAMPLES = int(os.environ.get("TUI_TRAINER_FUZZ_EXAMPLES", "0"))


def examples(default: int) -> settings:
    return settings(
        max_examples=EXAMPLES or default,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# --- the oracle: read_csv as it was before the columnar reader, row by row ------------------


def old_read_csv(path: Path) -> tuple[np.ndarray, tuple[str, ...], str]:
    """The reader of commit dd6ba52, reduced to its decisions: (values, feature names, target)."""
    name = str(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            header_line = handle.readline(data.MAX_HEADER)
            while header_line and not header_line.strip():
                header_line = handle.readline(data.MAX_HEADER)
            delimiter = _delimiter(header_line)
            handle.seek(0)
            rows = list(csv.reader(handle, delimiter=delimiter))
    except UnicodeDecodeError as error:
        raise DataError(f"{name}: is not UTF-8 text (byte {error.start}); save it as UTF-8 CSV") from None
    except (OSError, csv.Error) as error:
        raise DataError(f"{name}: cannot be read ({error})") from None
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if not rows:
        raise DataError(f"{name}: is empty; it needs a header row and at least 2 data rows")
    header = [cell.strip() for cell in rows[0]]
    columns = _choose_columns(name, header, None, None)
    body = rows[1:]
    if len(body) < 2:
        raise DataError(f"{name}: has {len(body)} data row(s); at least 2 are needed")
    values = np.empty((len(body), len(columns)), dtype=np.float64)
    for row_number, row in enumerate(body, start=1):
        if len(row) != len(header):
            raise DataError(f"{name}: row {row_number} has {len(row)} cells but the header has {len(header)}")
        for slot, column in enumerate(columns):
            values[row_number - 1, slot] = data._cell(name, row_number, header[column], row[column])
    return values, tuple(header[c] for c in columns[:-1]), header[columns[-1]]


def outcome(reader, path: Path) -> tuple:
    """What a reader made of a file: its numbers and names, or its message. Nothing else may escape."""
    try:
        result = reader(path)
    except DataError as error:
        return ("error", str(error))
    if isinstance(result, tuple):
        values, features, target = result
    else:
        values, features, target = result.values, result.feature_names, result.target_name
    return ("table", values.tobytes(), values.shape, features, target)


def same_as_the_old_reader(path: Path) -> tuple:
    new = outcome(read_csv, path)
    old = outcome(old_read_csv, path)
    assert new == old
    if new[0] == "error":
        message = new[1]
        assert message.startswith(f"{path}: ") and "\n" not in message and "Traceback" not in message
    return new


# --- (a) tables read back as written --------------------------------------------------------

names = st.lists(st.text("abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=6), min_size=2, max_size=5, unique=True)
numbers = st.floats(min_value=-1e30, max_value=1e30, allow_nan=False, allow_infinity=False) | st.integers(-10**6, 10**6).map(float)


@st.composite
def tables(draw):
    header = draw(names)
    rows = draw(st.integers(2, 25))
    values = np.array(draw(st.lists(st.lists(numbers, min_size=len(header), max_size=len(header)), min_size=rows, max_size=rows)))
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    quote_all = draw(st.booleans())
    quoted = draw(st.lists(st.booleans(), min_size=rows * len(header), max_size=rows * len(header)))
    blank = draw(st.lists(st.sampled_from(["", "", "", newline, newline * 2]), min_size=rows + 1, max_size=rows + 1))
    text_cells = draw(st.sampled_from([repr, lambda v: f"{v:.17g}", lambda v: f" {v!r} "]))

    def cell(text: str, quote: bool) -> str:
        return f'"{text}"' if quote or quote_all else text

    lines = [delimiter.join(cell(name, False) for name in header)]
    for r, row in enumerate(values):
        lines.append(blank[r] + delimiter.join(cell(text_cells(float(v)), quoted[r * len(header) + c]) for c, v in enumerate(row)))
    text = newline.join(lines) + draw(st.sampled_from(["", newline])) + blank[-1]
    bom = draw(st.booleans())
    return header, values, ("\ufeff" if bom else "") + text


@examples(60)
@given(table=tables())
def test_generated_tables_read_back_as_written(tmp_path, table):
    header, values, text = table
    path = tmp_path / "t.csv"
    path.write_bytes(text.encode())
    result = read_csv(path)
    assert result.feature_names == tuple(header[:-1]) and result.target_name == header[-1]
    assert np.array_equal(result.values, values)
    if np.abs(values).max() > data.SQUARE_OVERFLOW:
        return  # refused on purpose before training: its squares overflow float32
    dataset = load_dataset(DataConfig(source=str(path), val_fraction=0, standardize=False))
    assert np.allclose(np.sort(dataset.y_train.ravel()), np.sort(values[:, -1].astype(np.float32)), rtol=1e-7, atol=0)


@examples(30)
@given(table=tables())
def test_clean_tables_take_the_columnar_path(tmp_path, table):
    """Plain numbers must not fall back to the row-by-row reader (what would make it slow again)."""
    _, _, text = table
    path = tmp_path / "fast.csv"
    path.write_bytes(text.encode())
    size = path.stat().st_size
    assert data._read_csv_fast(path, None, None, None, size) is not None


# --- (b) garbage: a table or one line naming the file, and the old reader's very words -------

csv_alphabet = st.sampled_from([*'0123456789.,;|\t\n\r "\'eE+-nNaAiIfxy_ ', "\x00", "\ufeff", "é", "\u00a0", "１", "٣"])
csv_like = st.text(csv_alphabet, max_size=120).map(str.encode)


@st.composite
def damaged_tables(draw):
    """A good table with a few bytes changed, inserted or deleted: the likeliest real damage."""
    _, _, text = draw(tables())
    raw = bytearray(text.encode())
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(raw)))
        what = draw(st.sampled_from(["insert", "delete", "replace"]))
        byte = draw(st.sampled_from([*b'",;|\t\n\r x-e.', 0, 0xFF, 0xC3, 0xA9, 0xED, 0xEF]))
        if what == "insert":
            raw.insert(at, byte)
        elif at < len(raw):
            if what == "delete":
                del raw[at]
            else:
                raw[at] = byte
    return bytes(raw)


@examples(150)
@given(content=st.binary(max_size=200) | csv_like | damaged_tables())
def test_garbage_gives_a_table_or_one_line_and_the_old_readers_verdict(tmp_path, content):
    path = tmp_path / "g.csv"
    path.write_bytes(content)
    same_as_the_old_reader(path)


@examples(100)
@given(
    cells=st.lists(st.text(csv_alphabet, max_size=8), min_size=4, max_size=12),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
)
def test_odd_cells_in_a_well_formed_grid(tmp_path, cells, delimiter):
    """Every cell a little text: the fast and the exact reader must agree cell by cell."""
    width = 2
    rows = [cells[i : i + width] for i in range(0, len(cells) - len(cells) % width, width)]
    text = "a" + delimiter + "b\n" + "\n".join(delimiter.join(row) for row in rows) + "\n"
    path = tmp_path / "cells.csv"
    path.write_bytes(text.encode())
    same_as_the_old_reader(path)


def test_huge_values_and_long_cells_agree_with_the_old_reader(tmp_path):
    for i, text in enumerate([
        "x,y\n1,2\n3.5e38,4\n",  # float32 overflow
        "x,y\n1,2\n1e400,4\n",  # float64 overflow: inf
        "x,y\n1,2\n" + "0" * 140_000 + "1,4\n",  # past csv's field limit in a number
        'x,y\n1,2\n"3\n",4\n',  # a newline inside a quoted number
        "x,y\n1,2\n , \n3,4\n",  # a row of blanks is a blank line
        "x,y\n1,2\n3,4\n\xff".encode("latin-1").decode("latin-1"),
    ]):
        path = tmp_path / f"edge{i}.csv"
        path.write_bytes(text.encode("latin-1") if i == 5 else text.encode())
        same_as_the_old_reader(path)


# --- (c) the CLI on garbage: exit 0, 2 or 3, never a traceback, never a changed input ---------

CLI = [sys.executable, "-m", "tui_trainer", "train", "--epochs", "1", "--quiet"]


@settings(max_examples=EXAMPLES // 50 or 3, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(content=damaged_tables() | csv_like | tables().map(lambda table: table[2].encode()))
def test_the_cli_on_generated_files_exits_cleanly_and_leaves_them_alone(content):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "data.csv"
        path.write_bytes(content)
        done = subprocess.run([*CLI, "--data", str(path)], capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode in (0, 2, 3), done.stderr
        assert "Traceback" not in done.stderr and "Traceback" not in done.stdout
        if done.returncode == 2:
            assert done.stderr.startswith("tui-trainer: error: ") and done.stderr.count("\n") == 1, done.stderr
        assert path.read_bytes() == content


@pytest.mark.parametrize("value", [math.pi, -1e-300, 3.4e38, 123456789.123456789])
def test_numbers_keep_every_digit(tmp_path, value):
    path = tmp_path / "digits.csv"
    path.write_text(f"x,y\n{value!r},1\n2,{value!r}\n")
    table = read_csv(path)
    assert table.x[0, 0] == value and table.y[1, 0] == value
