"""Training data as numpy arrays: seeded synthetic data or a CSV file, split and standardized.

numpy only (no torch), so the app can check a CSV path in place before any run starts.
"""

from __future__ import annotations

import codecs
import csv
import importlib
import io
import math
import mmap
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import numpy as np

from ..names import SYNTHETIC
from .config import DataConfig
from .errors import DataError
from .files import readable_file
from .synthetic import FLOAT32_MAX, FeatureMoments, shuffled_places, synthetic_arrays


@dataclass(frozen=True)
class Dataset:
    """Rows ready to train on. Features are already standardized when `feature_stds` is set."""

    x_train: np.ndarray  # (n_train, d) float32
    y_train: np.ndarray  # (n_train, 1) float32; classification: (n_train,) int64 class indices
    x_val: np.ndarray  # (n_val, d) float32, n_val may be 0
    y_val: np.ndarray  # (n_val, 1) float32; classification: (n_val,) int64
    feature_names: tuple[str, ...]
    target_name: str
    description: str
    true_weights: tuple[float, ...] | None = None  # synthetic only
    true_bias: float | None = None
    feature_means: tuple[float, ...] | None = None  # set when standardized
    feature_stds: tuple[float, ...] | None = None
    classes: tuple[str, ...] | None = None  # classification: the labels, in the order of the model's outputs

    @property
    def outputs(self) -> int:
        """The model's outputs: one per class, or the one prediction of a regression."""
        return 1 if self.classes is None else len(self.classes)

    @property
    def n_train(self) -> int:
        return len(self.x_train)

    @property
    def n_val(self) -> int:
        return len(self.x_val)

    @property
    def dims(self) -> int:
        return int(self.x_train.shape[1])


def load_dataset(config: DataConfig, progress: Progress | None = None, classify: bool = False) -> Dataset:
    """Build the dataset a run trains on, or raise DataError with a message for a person.

    `progress` is called with (bytes read, bytes in the file) while a CSV file loads. With
    `classify` the target holds class labels (cross-entropy): synthetic data is drawn in clusters,
    and a CSV target's distinct values, numbers or text, become the classes."""
    feature_means: tuple[float, ...] | None = None
    feature_stds: tuple[float, ...] | None = None
    classes: tuple[str, ...] | None = None
    if config.is_synthetic:
        try:
            drawn = synthetic_arrays(config, classify)
        except MemoryError:
            raise DataError(
                f"synthetic data of {config.samples:,} rows × {config.dims:,} features does not fit in memory: "
                "choose fewer samples or features"
            ) from None
        names, target = tuple(f"x{i + 1}" for i in range(config.dims)), "y"
        description = f"synthetic: {config.samples} rows, {config.dims} feature(s), noise {config.noise:g}"
        if classify:
            description += f", {config.class_count} classes {config.class_separation:g} apart"
        true_weights: tuple[float, ...] | None = tuple(drawn.true_weights) if drawn.true_weights is not None else None
        true_bias = None if classify else config.true_bias
        x_train, y_train, x_val, y_val, classes = drawn.x_train, drawn.y_train, drawn.x_val, drawn.y_val, drawn.classes
        if drawn.stats is not None:
            feature_means, feature_stds = tuple(drawn.stats[0].tolist()), tuple(drawn.stats[1].tolist())
        _check_scale(config, 0.0 if classify else _largest(y_train)[0], _largest(x_train), names, target)
    else:
        shifted = config.standardized  # the features keep their precision in float32 (see _Chunks)
        read = _read_rows(Path(config.source), config.target, config.features, progress, classify,
                          lambda width: _Chunks(width, width - 1 if shifted else 0))
        names, target, classes = read.feature_names, read.target_name, read.classes
        assert isinstance(read.store, _Chunks)
        description = f"{config.source}: {read.store.rows} rows, {len(names)} feature(s), target {target!r}"
        true_weights, true_bias = None, None
        if classes is not None:
            description += f", {len(classes)} classes"
        x_train, y_train, x_val, y_val, stats = _csv_arrays(read.store, config, names, target, classify)
        del read  # its chunks are given back already
        if stats is not None:
            feature_means, feature_stds = tuple(stats[0].tolist()), tuple(stats[1].tolist())
    if classes is not None:
        y_train, y_val = _class_indices(y_train, y_val, classes, config.source, target)
    target_type = np.int64 if classes is not None else np.float32
    return Dataset(
        x_train=np.ascontiguousarray(x_train, dtype=np.float32),
        y_train=np.ascontiguousarray(y_train, dtype=target_type),
        x_val=np.ascontiguousarray(x_val, dtype=np.float32),
        y_val=np.ascontiguousarray(y_val, dtype=target_type),
        feature_names=names,
        target_name=target,
        description=description,
        true_weights=true_weights,
        true_bias=true_bias,
        feature_means=feature_means,
        feature_stds=feature_stds,
        classes=classes,
    )


def _class_indices(
    y_train: np.ndarray, y_val: np.ndarray, classes: tuple[str, ...], source: str, target: str
) -> tuple[np.ndarray, np.ndarray]:
    """The class columns as flat int64 indices, checked: every class must be trained on."""
    train, val = y_train.reshape(-1).astype(np.int64), y_val.reshape(-1).astype(np.int64)
    seen = np.bincount(train, minlength=len(classes))
    missing = [classes[i] for i in range(len(classes)) if seen[i] == 0]
    if missing:
        where = "synthetic data" if source == SYNTHETIC else source
        raise DataError(
            f"{where}: class {missing[0]!r} of the target {target!r} appears only in the validation rows, so the model "
            "could never learn it: add rows of that class, or choose another --val-fraction or --data-seed"
        )
    return train, val


def _largest(values: np.ndarray, fold: int = 256) -> np.ndarray:
    """The largest absolute value of each column (0 for a matrix without rows), without a copy.
    numpy reduces a narrow matrix down its rows slowly (0.4 s for 2M x 10): `fold` rows at a time
    are read as one wide row instead (0.05 s)."""
    width = values.shape[1]
    high, low = np.full(width, -np.inf), np.full(width, np.inf)
    head = len(values) - len(values) % fold if values.flags.c_contiguous else 0
    if head:
        wide = values[:head].reshape(-1, fold * width)
        high = wide.max(axis=0).reshape(fold, width).max(axis=0)
        low = wide.min(axis=0).reshape(fold, width).min(axis=0)
    if head < len(values):
        high = np.maximum(high, values[head:].max(axis=0))
        low = np.minimum(low, values[head:].min(axis=0))
    return np.asarray(np.maximum(np.maximum(high, -low), 0.0), dtype=np.float64)


BLOCK_ROWS = 1 << 16  # rows converted at a time: memory for them is the fixed overhead
BUCKET_ROWS = 1 << 16  # output rows per bucket of _csv_arrays' shuffle: a row's place in one fits uint16


def _csv_arrays(
    store: _Chunks, config: DataConfig, names: tuple[str, ...], target: str, classify: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
    """The float32 train and validation arrays from the reader's chunks (target last), split in
    the seeded order synthetic data uses (shuffled_places) and standardized over the training rows
    (zero mean, population std, a constant column's std 1), with
    peak memory about the rows once plus a little: no whole float64 table, no second whole copy.

    The shuffle goes in two steps so that no row is held twice for long. Each chunk, in file order,
    is standardized and scattered into buckets of up to BUCKET_ROWS consecutive output rows, then
    given back; each bucket, in output order, is put in order into the arrays, then given back."""
    n = store.rows
    n_val = math.floor(n * config.val_fraction)
    if n - n_val < 2:
        raise DataError(
            f"{config.source}: a validation fraction of {config.val_fraction:g} leaves {n - n_val} training row(s) "
            f"of {n}; at least 2 are needed"
        )
    where = _output_rows(n, n_val, config.seed)
    stats = _train_stats(store, where, n - n_val) if config.standardized else None
    buckets = _Buckets(store, where, n - n_val)
    del where
    buckets.fill(store, stats)
    x_train, y_train, x_val, y_val = buckets.empty()
    del buckets
    _check_scale(config, 0.0 if classify else _largest(y_train)[0], _largest(x_train), names, target)
    return x_train, y_train, x_val, y_val, stats


def _output_rows(n: int, n_val: int, seed: int) -> np.ndarray:
    """Where each file row goes among the training rows then the validation rows, in the seeded
    split order (int32 while that holds n: this array lives through the whole shuffle)."""
    where = shuffled_places(n, seed)  # the validation rows first: move them after the training rows
    where -= n_val
    where %= n
    return where


def _train_stats(store: _Chunks, where: np.ndarray, n_train: int) -> tuple[np.ndarray, np.ndarray]:
    """The features' means and population stds over the training rows (a constant column keeps
    its scale, std 1), in float64 chunk by chunk (see FeatureMoments)."""
    d = store.width - 1
    moments = FeatureMoments(d)
    for start, rows, shift in store.blocks():
        train = (where[start : start + len(rows)] < n_train).astype(np.float64)  # 1 for a training row
        chosen = int(train.sum())
        if not chosen:
            continue
        # the chunk's sums by matrix products (quick, no copies of its rows); its values sit near
        # 0 (less the shift), so its squared deviations can be its squares less the squared mean
        local = train @ rows[:, :d] / chosen
        squares = np.maximum(train @ np.square(rows[:, :d]) - chosen * np.square(local), 0.0)
        moments.merge(chosen, local + shift[:d], squares)
    return moments.result()


class _Buckets:
    """The rows on their way from file order to output order (training rows, then validation rows),
    staged in float32 memory of their own: bucket b holds the rows bound for output rows
    starts[b]:starts[b + 1], in file order, and `places` says where each goes within its bucket."""

    def __init__(self, store: _Chunks, where: np.ndarray, n_train: int) -> None:
        n, self.width, self.n_train = store.rows, store.width, n_train
        self.where = where
        self.starts = np.unique(np.concatenate([np.arange(0, n_train, BUCKET_ROWS), np.arange(n_train, n, BUCKET_ROWS), [n]]))
        self.staged, self.memory = _float32_rows(n, self.width)
        self.places = np.empty(n, dtype=np.uint16)

    def fill(self, store: _Chunks, stats: tuple[np.ndarray, np.ndarray] | None) -> None:
        """Standardize and stage every chunk, giving each back once staged."""
        d = self.width - 1
        filled = self.starts[:-1].copy()  # the next free staged row of each bucket
        first_val = -(-self.n_train // BUCKET_ROWS)  # the validation rows' first bucket
        key = np.uint16 if len(filled) <= 1 << 16 else np.int64  # numpy sorts 16-bit keys by radix
        scale = np.ones(self.width)
        if stats is not None:
            scale[:d] = 1 / stats[1]
        scales = np.zeros(0)  # scale repeated for every value of the largest chunk yet
        for index, (start, rows, shift) in enumerate(store.blocks()):
            if stats is not None:  # (rows + shift - mean) / std, as flat arrays: numpy is slow on rows of 11
                if len(scales) < rows.size:
                    scales = np.tile(scale, len(rows))
                offset = np.tile(np.append((shift[:d] - stats[0]) * scale[:d], 0.0), len(rows))
                flat = rows.reshape(-1)
                flat *= scales[: rows.size]
                flat += offset
            targets = self.where[start : start + len(rows)].astype(np.int64)
            bucket = np.where(targets < self.n_train, targets // BUCKET_ROWS, first_val + (targets - self.n_train) // BUCKET_ROWS)
            order = np.argsort(bucket.astype(key), kind="stable")  # by bucket, in file order within each
            bucket = bucket[order]
            counts = np.bincount(bucket, minlength=len(filled))
            staged = filled[bucket] + np.arange(len(order)) - (np.cumsum(counts) - counts)[bucket]
            self.staged[staged] = rows[order].astype(np.float32)
            self.places[staged] = targets[order] - self.starts[bucket]
            filled += counts
            store.chunks[index] = None  # staged: its memory goes back to the system

    def empty(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """x and y of the training then the validation rows, bucket by bucket in output order,
        each bucket's memory given back once its rows are in place."""
        n, d = len(self.staged), self.width - 1
        arrays = [np.empty((rows, width), dtype=np.float32) for rows in (self.n_train, n - self.n_train) for width in (d, 1)]
        given_back = 0
        for first, end in zip(self.starts[:-1].tolist(), self.starts[1:].tolist(), strict=True):
            x, y, base = (arrays[0], arrays[1], 0) if first < self.n_train else (arrays[2], arrays[3], self.n_train)
            rows = self.staged[first:end]
            places = self.places[first:end].astype(np.int64) + (first - base)
            x[places] = rows[:, :d]
            y[places] = rows[:, d:]
            given_back = _hand_back(self.memory, given_back, end * self.width * 4)
        return arrays[0], arrays[1], arrays[2], arrays[3]


# past this a squared error overflows float32, whatever the learning rate: the data must change
SQUARE_OVERFLOW = math.sqrt(FLOAT32_MAX)


def _check_scale(config: DataConfig, y_largest: float, x_largest: np.ndarray, names: tuple[str, ...], target: str) -> None:
    """Values whose squares float32 cannot hold make every run diverge at once, and a smaller
    learning rate cannot help: say so before training, and what to do instead. The arguments are
    the largest absolute target and the largest absolute value of each feature, training rows only."""
    where = config.source if not config.is_synthetic else "synthetic data"
    largest = y_largest
    if largest > SQUARE_OVERFLOW:
        power = math.floor(math.log10(largest)) - 3  # what brings it to the thousands
        raise DataError(
            f"{where}: the target {target!r} reaches {largest:.3g}; squared errors that size overflow float32 "
            f"(max {FLOAT32_MAX:.3g}) whatever the learning rate: rescale the column (e.g. divide it by 1e{power})"
        )
    if x_largest.size:
        column = int(x_largest.argmax())
        largest = float(x_largest[column])
        if largest > SQUARE_OVERFLOW:
            raise DataError(
                f"{where}: the feature {names[column]!r} reaches {largest:.3g}; its square overflows float32 "
                f"(max {FLOAT32_MAX:.3g}) whatever the learning rate: standardize the features (--standardize)"
            )


# --- CSV -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CsvTable:
    x: np.ndarray  # float64 (n, d)
    y: np.ndarray  # float64 (n, 1); classes: the class index of each row
    feature_names: tuple[str, ...]
    target_name: str
    values: np.ndarray  # float64 (n, d + 1): x and y are views of it, the target last
    classes: tuple[str, ...] | None = None  # the target's labels, when it holds classes


MAX_CLASSES = 100  # more distinct labels than this: the target is a measurement, not a class


class _Labels:
    """A class column's labels as they are read: each new text gets the next code."""

    def __init__(self) -> None:
        self.codes: dict[str, int] = {}

    def code(self, text: str) -> int:
        return self.codes.setdefault(text, len(self.codes))

    def finish(self, name: str, target: str) -> tuple[tuple[str, ...], np.ndarray]:
        """The classes in the model's output order, and the new code of each code read, to match
        it: numeric labels by value (so 2 comes before 10), others alphabetically."""
        texts = list(self.codes)
        if len(texts) < 2:
            found = f"one class ({texts[0]!r})" if texts else "no classes"
            raise DataError(f"{name}: the target {target!r} holds {found}; classification needs at least 2")
        if len(texts) > MAX_CLASSES:
            raise DataError(
                f"{name}: the target {target!r} has {len(texts)} distinct values, which looks continuous "
                f"(at most {MAX_CLASSES} classes): predict it with --loss mse"
            )
        numbers = [_number_or_none(text) for text in texts]
        if all(number is not None for number in numbers):
            order = sorted(range(len(texts)), key=lambda i: (numbers[i], texts[i]))
        else:
            order = sorted(range(len(texts)), key=lambda i: texts[i])
        renumber = np.empty(len(texts), dtype=np.float64)
        renumber[order] = np.arange(len(texts))
        return tuple(texts[i] for i in order), renumber


def _number_or_none(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


DELIMITERS = ",;\t|"  # comma first: what a tie or a one-column file falls back to
MAX_HEADER = 1 << 20  # characters of the header row looked at to find the delimiter
# Memory a read needs per byte of CSV, measured (VmHWM, benchmarks/bench.py case 8): on a 230 MB
# file of 2.2M rows x 11 six-decimal numbers load_dataset peaks about 170 MB above where it started,
# 0.75 per byte (float32 chunks, then buckets, then the arrays, each given back as the next fills,
# plus Arrow's buffers), read_csv's float64 table about 1.6. The narrowest files (one-digit cells)
# need up to 4 for read_csv: 8 bytes of float64 for every 2 bytes of text.
CSV_MEMORY_PER_BYTE = 2
FIELD_LIMIT = csv.field_size_limit()  # Python's csv refuses a longer cell: so does the fast path
ARROW_BLOCK = 1 << 19  # bytes of text the columnar reader parses at a time
ARROW_THREADS = False  # Arrow's read-ahead thread calls back into Python for every block: more CPU, no gain
EXACT_BLOCK = 4096  # rows the exact reader hands its store at a time

Progress = Callable[[int, int], None]  # (bytes read, bytes in the file)


def read_csv(
    path: Path, target: str | None = None, features: list[str] | None = None, progress: Progress | None = None,
    classes: bool = False,
) -> CsvTable:
    """Read a CSV with a header row. Every problem names the file, and the row and column.

    `~` means the home folder, as in a shell. The delimiter is the one of `DELIMITERS` that the
    header row uses most: exports from spreadsheets set to a European locale use `;`, some tools tab.
    `progress`, when given, is called from this thread with the bytes read so far and the file's size.

    Two readers, one behaviour. The fast one is Arrow's streaming CSV reader (pyarrow.csv): C++,
    one block of text at a time converted straight into numbers, so memory stays near the size of
    the numbers rather than of Python objects. It only ever *accepts*: any doubt (a cell it cannot
    convert, a ragged row, a blank-looking row, nan, inf, a value float32 cannot hold, bad UTF-8, a
    huge cell, a problem in the header) sends the whole file to the exact reader, Python's csv row by
    row as before, which finds the precise row, column and cell, or accepts what Arrow was too strict
    for. Errors are rare, so their second, slower look is cheap.

    With `classes` the target holds labels (numbers or text): the table's last column is then each
    row's class index, and `classes` the labels in that order.
    """
    read = _read_rows(path, target, features, progress, classes, _Rows)
    assert isinstance(read.store, _Rows)
    values = read.store.finish()
    return CsvTable(x=values[:, :-1], y=values[:, -1:], feature_names=read.feature_names,
                    target_name=read.target_name, values=values, classes=read.classes)


class _Store(Protocol):
    """Where a reader puts the numbers of the chosen columns, features then target, a block at a time."""

    rows: int

    def add(self, columns: Sequence[np.ndarray]) -> None:
        """Append rows given as one float64 array per column, all of the same length."""

    def recode(self, renumber: np.ndarray) -> None:
        """Replace the last column's class codes c by renumber[c]."""

    def extend(self, other: Any) -> None:
        """Append the rows of another store of the same kind, which is not used afterwards."""


@dataclass(frozen=True)
class _Read:
    store: _Store
    feature_names: tuple[str, ...]
    target_name: str
    classes: tuple[str, ...] | None = None


def _read_rows(
    path: Path, target: str | None, features: list[str] | None, progress: Progress | None, classes: bool,
    new_store: Callable[[int], _Store],
) -> _Read:
    """The chosen columns of a CSV file in a store made by `new_store(width)`, by the fast reader
    or else the exact one (read_csv says how they share the work)."""
    name = str(path)
    file = readable_file(name, memory_factor=CSV_MEMORY_PER_BYTE)
    total = file.stat().st_size
    labels = _Labels() if classes else None
    read = _read_csv_fast(file, target, features, progress, total, labels, new_store)
    if read is None:
        labels = _Labels() if classes else None  # the fast reader's half-read labels start again
        read = _read_csv_exact(name, file, target, features, progress, total, labels, new_store)
    if progress is not None:
        progress(total, total)
    if labels is not None:
        found, renumber = labels.finish(name, read.target_name)
        read.store.recode(renumber)
        read = _Read(read.store, read.feature_names, read.target_name, found)
    return read


class _Doubt(Exception):
    """The fast reader is not sure the exact reader would accept this file the same way."""


class _Quoted(_Doubt):
    """A quote in a file read as if it had none: read it again, quotes understood."""


class _CheckedStream:
    """`size` bytes of the file from where `raw` stands, as Arrow reads them, checked on the way as
    the exact reader would see them: valid UTF-8 (Python's own decoder, BOM included when `head`)
    and no line longer than a cell may be. A line of FIELD_LIMIT / 2 bytes or more is already
    doubted: checking whole windows keeps it cheap. Unless `quotes`, a quote raises _Quoted; once
    `stop` is set (the other half of the file gave up), reading does too."""

    WINDOW = FIELD_LIMIT // 2

    def __init__(
        self, raw: BinaryIO, size: int = -1, head: bool = True, quotes: bool = True, stop: threading.Event | None = None
    ) -> None:
        self.raw = raw
        self.left = size  # bytes still to give (-1: up to the end of the file)
        self.position = 0
        self.head = head
        self.decoder = codecs.getincrementaldecoder("utf-8-sig" if head else "utf-8")()
        self.run = 0  # bytes since the last line break
        self.quotes, self.stop = quotes, stop
        self.closed = False

    def read(self, size: int = -1) -> bytes:
        if self.stop is not None and self.stop.is_set():
            raise _Doubt("the other half stopped")
        if self.left >= 0:
            size = self.left if size < 0 else min(size, self.left)
        chunk = self.raw.read(size)
        if self.left >= 0:
            self.left -= len(chunk)
        self.position += len(chunk)
        # ASCII is UTF-8: only other bytes (or the first chunk, for its BOM) need the decoder
        if (self.head and self.position == len(chunk)) or not chunk.isascii() or self.decoder.getstate()[0]:
            try:
                self.decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError:
                raise _Doubt("not UTF-8") from None
        if not self.quotes and b'"' in chunk:
            raise _Quoted("a quote")
        if chunk:
            self._check_lines(chunk)
        return chunk

    def _check_lines(self, chunk: bytes) -> None:
        first = min((i for i in (chunk.find(b"\n"), chunk.find(b"\r")) if i >= 0), default=-1)
        if first < 0:
            self.run += len(chunk)
            if self.run >= self.WINDOW:
                raise _Doubt("a long line")
            return
        if self.run + first >= self.WINDOW:
            raise _Doubt("a long line")
        last = max(chunk.rfind(b"\n"), chunk.rfind(b"\r"))
        for start in range(first, last, self.WINDOW):  # any longer line holds a whole window
            end = min(start + self.WINDOW, last)
            if end - start == self.WINDOW and chunk.find(b"\n", start, end) < 0 and chunk.find(b"\r", start, end) < 0:
                raise _Doubt("a long line")
        self.run = len(chunk) - last - 1

    def close(self) -> None:
        self.closed = True


def _read_header(file: Path) -> tuple[str, list[str]]:
    """The delimiter and the header row's raw cells, read as the exact reader reads them."""
    with file.open(newline="", encoding="utf-8-sig") as handle:
        header_line = handle.readline(MAX_HEADER)
        while header_line and not header_line.strip():
            header_line = handle.readline(MAX_HEADER)
        delimiter = _delimiter(header_line)
        handle.seek(0)
        for row in csv.reader(handle, delimiter=delimiter):
            if any(cell.strip() for cell in row):
                return delimiter, row
    raise _Doubt("no header")


def _read_csv_fast(
    file: Path, target: str | None, features: list[str] | None, progress: Progress | None, total: int,
    labels: _Labels | None = None, new_store: Callable[[int], _Store] | None = None,
) -> _Read | None:
    """The chosen columns in a store (a float64 _Rows unless `new_store` says), or None when the
    exact reader must decide (_read_arrow says how Arrow reads)."""
    try:  # pyarrow ships no type information: its few calls here are checked by the tests instead
        pa: Any = importlib.import_module("pyarrow")
        pcsv: Any = importlib.import_module("pyarrow.csv")
    except ImportError:  # pragma: no cover - a dependency; the exact reader still works without it
        return None
    try:
        delimiter, raw_header = _read_header(file)
        header = [cell.strip() for cell in raw_header]
        columns = _choose_columns(str(file), header, target, features)
    except (_Doubt, DataError, UnicodeDecodeError, OSError, csv.Error):
        return None
    if len(set(raw_header)) != len(raw_header):
        return None
    new_store = new_store or _Rows
    try:
        store = _read_arrow(_ArrowReader(pa, pcsv, file, delimiter, raw_header, columns, labels, total), new_store, progress)
    except (_Doubt, pa.ArrowException, ValueError, OSError):
        return None
    if store.rows < 2:
        return None
    return _Read(store, tuple(header[c] for c in columns[:-1]), header[columns[-1]])


def _read_arrow(arrow: _ArrowReader, new_store: Callable[[int], _Store], progress: Progress | None) -> _Store:
    """The rows through Arrow: a file without quotes in its first block is read as if it had none
    (a quicker parse; a quote later on starts the read again, quotes understood), and a big one,
    given cores to spare, as two halves at once, one on a second thread (Arrow's streaming reader
    parses on one core)."""
    total = arrow.total
    with arrow.file.open("rb") as raw:
        unquoted = b'"' not in raw.read(ARROW_BLOCK)
    if unquoted:
        middle = _middle_line(arrow.file, total) if arrow.labels is None else None  # labels: coded in file order
        try:
            if middle is not None:
                return arrow.read_halves(middle, new_store, progress)
            store = new_store(len(arrow.chosen))
            arrow.read(0, total, store, progress, quotes=False)
            return store
        except _Quoted:
            arrow.streams.clear()
    store = new_store(len(arrow.chosen))
    arrow.read(0, total, store, progress, quotes=True)
    return store


SPLIT_BYTES = 1 << 23  # files this big or bigger are read as two halves at once...
# ...given this many cores: halves cost about a fifth more CPU (a second store, copied on; two
# readers), which pays when the second half gets a core of its own. A file is loaded before any
# training starts, so on 2 cores the second is usually free: a quiet 2-core machine read 230 MB in
# 1.37-1.39 s as halves, 1.6-2.2 s in one piece (on 2 cores busy with other work, halves lose).
SPLIT_CPUS = 2


def _middle_line(file: Path, total: int) -> int | None:
    """Where the line after the file's middle starts, when a big file has a line break soon after
    it and the machine has the cores to read both halves at once."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    if total < SPLIT_BYTES or cpus < SPLIT_CPUS:
        return None
    with file.open("rb") as raw:
        raw.seek(total // 2)
        after = raw.read(_CheckedStream.WINDOW).find(b"\n")
    return total // 2 + after + 1 if after >= 0 and total // 2 + after + 1 < total else None


class _ArrowReader:
    """Arrow's streaming reader over a byte range of the file, its blocks checked and handed to a store."""

    def __init__(
        self, pa: Any, pcsv: Any, file: Path, delimiter: str, raw_header: list[str], columns: list[int],
        labels: _Labels | None, total: int,
    ) -> None:
        self.pcsv, self.file, self.raw_header, self.labels, self.total = pcsv, file, raw_header, labels, total
        self.chosen = [raw_header[c] for c in columns]
        self.numeric = columns[:-1] if labels is not None else columns  # a class column is read as text
        types = {cell: (pa.float64() if index in self.numeric else pa.string()) for index, cell in enumerate(raw_header)}
        self.parse = {  # by whether the text may hold quotes: without, no cell can hold a line break either
            True: pcsv.ParseOptions(delimiter=delimiter, newlines_in_values=True, ignore_empty_lines=True),
            False: pcsv.ParseOptions(delimiter=delimiter, quote_char=False, ignore_empty_lines=True),
        }
        self.convert = pcsv.ConvertOptions(
            column_types=types, null_values=[], strings_can_be_null=False, quoted_strings_can_be_null=False,
            check_utf8=False,  # _CheckedStream decodes every byte already
        )
        self.streams: list[_CheckedStream] = []
        self.reported = 0  # bytes last reported: a second read (quotes understood) does not go back

    def read_halves(self, middle: int, new_store: Callable[[int], _Store], progress: Progress | None) -> _Store:
        """The rows of bytes [0, middle) read here and of [middle, total) on a second thread, in
        that order; raises _Quoted if either half holds a quote (a cell might span the middle)."""
        first, second = new_store(len(self.chosen)), new_store(len(self.chosen))
        stop = threading.Event()
        problems: list[BaseException] = []

        def read_second() -> None:
            try:
                self.read(middle, self.total, second, None, quotes=False, stop=stop)
            except BaseException as problem:  # handed to the reading thread
                problems.append(problem)
                stop.set()

        worker = threading.Thread(target=read_second, name="csv-second-half", daemon=True)
        worker.start()
        finished = False
        try:
            self.read(0, middle, first, progress, quotes=False, stop=stop)
            finished = True
        except Exception as problem:  # raised below, with the second half's
            problems.insert(0, problem)
        finally:
            if not finished:
                stop.set()
            while worker.is_alive():
                worker.join(0.1)
                self._report(progress)
        quoted = [problem for problem in problems if isinstance(problem, _Quoted)]
        if quoted or problems:
            raise (quoted or problems)[0]
        first.extend(second)
        return first

    def read(
        self, start: int, end: int, store: _Store, progress: Progress | None, quotes: bool,
        stop: threading.Event | None = None,
    ) -> None:
        """Add bytes [start, end) of the file to `store`, the header row with them when start is 0;
        raises _Doubt (or Arrow's and numpy's errors) where the exact reader must look, _Quoted
        at a quote unless `quotes`, and _Doubt once `stop` is set."""
        with self.file.open("rb") as raw:
            raw.seek(start)
            stream = _CheckedStream(raw, end - start, head=start == 0, quotes=quotes, stop=stop)
            self.streams.append(stream)
            names = {} if start == 0 else {"column_names": self.raw_header}
            reader = self.pcsv.open_csv(
                stream, read_options=self.pcsv.ReadOptions(block_size=ARROW_BLOCK, use_threads=ARROW_THREADS, **names),
                parse_options=self.parse[quotes], convert_options=self.convert,
            )
            if reader.schema.names != self.raw_header:
                raise _Doubt("a header Arrow reads otherwise")
            rest = self.total - start  # the first half's store makes room for the second's rows too
            for batch in reader:
                self._add(batch, store, rest / max(1, min(ARROW_BLOCK, rest)))
                self._report(progress)

    def _add(self, batch: Any, store: _Store, blocks: float) -> None:
        for index in range(len(self.raw_header)):
            if index not in self.numeric and _longest_text(batch.column(index)) > FIELD_LIMIT:
                raise _Doubt("a long cell")
        if isinstance(store, _Rows) and not store.rows:  # room for the rows the rest of the file seems to hold
            store.reserve(int(len(batch) * blocks * 1.1) + 16)
        numbers = []
        for slot, cell in enumerate(self.chosen):
            column = batch.column(self.raw_header.index(cell))
            if column.null_count:
                raise _Doubt("an empty cell")
            if self.labels is not None and slot == len(self.chosen) - 1:
                texts = [text.strip() for text in column.to_pylist()]
                if not all(texts):
                    raise _Doubt("an empty class")  # the exact reader names its row
                numbers.append(np.array([self.labels.code(text) for text in texts], dtype=np.float64))
            elif not _fits_float32(values := _numbers(column)):
                raise _Doubt("nan, inf or too large")  # said by the exact reader
            else:
                numbers.append(values)
        store.add(numbers)

    def _report(self, progress: Progress | None) -> None:
        if progress is not None:  # the bytes of both halves
            self.reported = max(self.reported, min(sum(stream.position for stream in self.streams), self.total))
            progress(self.reported, self.total)


def _fits_float32(values: np.ndarray) -> bool:
    """No nan, no infinity, nothing float32 cannot hold (two reductions, no temporary arrays)."""
    return not len(values) or bool(values.min() >= -FLOAT32_MAX and values.max() <= FLOAT32_MAX)


def _numbers(column: Any) -> np.ndarray:
    """An Arrow float64 column without nulls as numpy, sharing its memory (Array.to_numpy would
    import pandas, a second and a half, whenever it is installed)."""
    return np.frombuffer(column.buffers()[1], dtype=np.float64)[column.offset : column.offset + len(column)]


def _longest_text(column: Any) -> int:
    """Bytes in the longest cell of an Arrow string column (at least its characters), from its
    offsets: pyarrow.compute would do it too, but takes a second to import."""
    if not len(column):
        return 0
    offsets = np.frombuffer(column.buffers()[1], dtype=np.int32)[column.offset : column.offset + len(column) + 1]
    return int(np.diff(offsets).max())


class _Rows:
    """A float64 (rows, width) array filled a block at a time. It grows in place: numpy's resize
    reallocates, and the C library moves a large block by remapping its pages, not copying them
    (numpy does write zeros into the new part, so a good first guess of the capacity matters).
    The capacity beyond what was written is never touched, so it costs address space, not memory."""

    def __init__(self, width: int, capacity: int = 1 << 12) -> None:
        self.values = np.empty((max(capacity, 1), width), dtype=np.float64)
        self.rows = 0

    def append(self, count: int) -> np.ndarray:
        """Room for `count` more rows: the block to fill."""
        needed = self.rows + count
        if needed > len(self.values):
            capacity = max(needed, len(self.values) + len(self.values) // 4)
            self.values.resize((capacity, self.values.shape[1]), refcheck=False)
        block = self.values[self.rows : needed]
        self.rows = needed
        return block

    def reserve(self, capacity: int) -> None:
        """Room for `capacity` rows, a guess made before the first rows come: pages never written
        cost nothing (np.empty: resize would write zeros over them all)."""
        if not self.rows and capacity > len(self.values):
            self.values = np.empty((capacity, self.values.shape[1]), dtype=np.float64)

    def add(self, columns: Sequence[np.ndarray]) -> None:
        block = self.append(len(columns[0]))
        for slot, column in enumerate(columns):
            block[:, slot] = column

    def recode(self, renumber: np.ndarray) -> None:
        codes = self.values[: self.rows, -1]
        codes[:] = renumber[codes.astype(np.int64)]

    def extend(self, other: _Rows) -> None:
        for start in range(0, other.rows, BLOCK_ROWS):  # a block at a time: `other` shrinks as this grows
            block = other.values[start : min(start + BLOCK_ROWS, other.rows)]
            self.append(len(block))[:] = block

    def finish(self) -> np.ndarray:
        self.values.resize((self.rows, self.values.shape[1]), refcheck=False)
        return self.values


def _private_memory(size: int) -> mmap.mmap:
    """`size` zeroed bytes mapped for this process alone, outside the C library's heap: dropping the
    last reference unmaps them, so the system gets them back at once (what numpy frees may stay with
    the process), and `_hand_back` can return parts of them earlier."""
    flags = getattr(mmap, "MAP_PRIVATE", 0) | getattr(mmap, "MAP_ANONYMOUS", 0)
    if flags:
        return mmap.mmap(-1, max(size, 1), flags=flags)
    return mmap.mmap(-1, max(size, 1))  # pragma: no cover - Windows: private already


def _float32_rows(rows: int, width: int) -> tuple[np.ndarray, mmap.mmap]:
    memory = _private_memory(rows * width * 4)
    return np.frombuffer(memory, dtype=np.float32, count=rows * width).reshape(rows, width), memory


def _hand_back(memory: mmap.mmap, start: int, end: int) -> int:
    """Give the system back the whole pages of bytes [start, end) of `memory`, which is read as
    zeros afterwards; returns where the next call should start (the first byte not given back)."""
    first = -(-start // mmap.PAGESIZE) * mmap.PAGESIZE
    last = end // mmap.PAGESIZE * mmap.PAGESIZE
    if last > first and hasattr(memory, "madvise"):
        memory.madvise(mmap.MADV_DONTNEED, first, last - first)
    return max(start, last)


class _Chunks:
    """The rows as float32, a chunk per block read, each chunk in memory of its own so that it can
    be given back as soon as its rows are copied on (see _csv_arrays). The first `shifted` columns
    (features to be standardized) are kept less a shift per chunk, the middle of their range there:
    float32 then rounds each value's distance from its neighbours, not a large common offset (a year,
    a timestamp), and the standardized values keep the precision of float64 arithmetic."""

    def __init__(self, width: int, shifted: int = 0) -> None:
        self.width, self.shifted = width, shifted
        self.chunks: list[np.ndarray | None] = []
        self.shifts: list[np.ndarray] = []
        self.rows = 0

    def add(self, columns: Sequence[np.ndarray]) -> None:
        count = len(columns[0])
        if not count:
            return
        chunk, _ = _float32_rows(count, self.width)
        shift = np.zeros(self.width)
        for slot, column in enumerate(columns):
            if slot < self.shifted:  # |value - middle| <= half the range: float32 holds it
                shift[slot] = (float(column.min()) + float(column.max())) / 2
                np.subtract(column, shift[slot], out=chunk[:, slot], casting="same_kind")
            else:
                chunk[:, slot] = column
        self.chunks.append(chunk)
        self.shifts.append(shift)
        self.rows += count

    def extend(self, other: _Chunks) -> None:
        self.chunks += other.chunks
        self.shifts += other.shifts
        self.rows += other.rows

    def recode(self, renumber: np.ndarray) -> None:
        for chunk in self.chunks:
            assert chunk is not None
            chunk[:, -1] = renumber[chunk[:, -1].astype(np.int64)]

    def blocks(self) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        """(first row, the chunk's rows in float64, its shift: the values are rows + shift), chunk by chunk."""
        start = 0
        for index, shift in enumerate(self.shifts):
            chunk = self.chunks[index]
            assert chunk is not None, "a chunk already given back"
            rows = chunk.astype(np.float64)
            del chunk  # the caller may give it back
            yield start, rows, shift
            start += len(rows)


def _read_csv_exact(
    name: str, file: Path, target: str | None, features: list[str] | None, progress: Progress | None, total: int,
    labels: _Labels | None = None, new_store: Callable[[int], _Store] | None = None,
) -> _Read:
    """Python's csv, row by row, in one pass that keeps only the numbers: the reader that says
    exactly what is wrong. Problems are reported in the order a person fixes them: the file's
    encoding, the header, the number of rows, then the first bad row."""
    header: list[str] | None = None
    columns: list[int] = []
    header_problem: DataError | None = None
    row_problem: DataError | None = None
    body = 0
    store: _Store | None = None
    pending: list[list[float]] = []  # rows not yet in the store: it takes them a block at a time
    try:
        # the same layers as open(newline="", encoding="utf-8-sig"): the same "(byte N)" in messages
        with file.open("rb") as raw, io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as handle:
            header_line = handle.readline(MAX_HEADER)
            while header_line and not header_line.strip():  # blank lines before the header
                header_line = handle.readline(MAX_HEADER)
            delimiter = _delimiter(header_line)
            handle.seek(0)
            for row in csv.reader(handle, delimiter=delimiter):
                if not any(cell.strip() for cell in row):  # blank lines carry nothing
                    continue
                if header is None:
                    header = [cell.strip() for cell in row]
                    try:
                        columns = _choose_columns(name, header, target, features)
                    except DataError as problem:
                        header_problem = problem
                    store = (new_store or _Rows)(len(columns))
                    continue
                body += 1
                if progress is not None and body % 65536 == 0:
                    progress(min(raw.tell(), total), total)
                if header_problem is not None or row_problem is not None or store is None:
                    continue  # read on: a later encoding error is said first
                if len(row) != len(header):
                    row_problem = DataError(f"{name}: row {body} has {len(row)} cells but the header has {len(header)}")
                    continue
                try:
                    cells = [_cell(name, body, header[column], row[column]) for column in columns[: len(columns) - 1]]
                    last = columns[-1]
                    if labels is None:
                        cells.append(_cell(name, body, header[last], row[last]))
                    else:
                        cells.append(labels.code(_label(name, body, header[last], row[last])))
                except DataError as problem:
                    row_problem = problem
                    continue
                pending.append(cells)
                if len(pending) == EXACT_BLOCK:
                    store.add(list(np.array(pending, dtype=np.float64).T))
                    pending.clear()
    except UnicodeDecodeError as error:
        raise DataError(f"{name}: is not UTF-8 text (byte {error.start}); save it as UTF-8 CSV") from None
    except (OSError, csv.Error) as error:
        raise DataError(f"{name}: cannot be read ({error})") from None
    if header is None:
        raise DataError(f"{name}: is empty; it needs a header row and at least 2 data rows")
    if header_problem is not None:
        raise header_problem
    if body < 2:
        raise DataError(f"{name}: has {body} data row(s); at least 2 are needed")
    if row_problem is not None:
        raise row_problem
    assert store is not None
    if pending:
        store.add(list(np.array(pending, dtype=np.float64).T))
    return _Read(store, tuple(header[c] for c in columns[:-1]), header[columns[-1]])


def _delimiter(header_line: str) -> str:
    """The delimiter the header row uses most (outside quotes), comma when it uses none."""
    outside_quotes = header_line.split('"')[::2]
    counts = {d: sum(part.count(d) for part in outside_quotes) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])  # the first of the most used: comma wins a tie
    return best if counts[best] else ","


def _choose_columns(name: str, header: list[str], target: str | None, features: list[str] | None) -> list[int]:
    """Column indices of the features, then the target last."""
    if any(not column for column in header):
        raise DataError(f"{name}: the header row has an empty column name (column {header.index('') + 1})")
    repeated = sorted({column for column in header if header.count(column) > 1})
    if repeated:
        raise DataError(f"{name}: the header names column {repeated[0]!r} more than once")
    if len(header) < 2:
        raise DataError(
            f"{name}: has one column; it needs a target and at least one feature, "
            "in columns separated by commas (or ; tab |, found from the header row)"
        )
    known = ", ".join(header)

    def index(column: str, role: str) -> int:
        if column not in header:
            raise DataError(f"{name}: no column {column!r} (the {role}); the columns are: {known}")
        return header.index(column)

    target = target if target is not None else header[-1]
    target_index = index(target, "target")
    if features is None:
        feature_indices = [i for i in range(len(header)) if i != target_index]
    else:
        feature_indices = [index(column, "feature") for column in features]
        if target_index in feature_indices:
            raise DataError(f"{name}: the target column {target!r} cannot also be a feature")
    return [*feature_indices, target_index]


def _label(name: str, row: int, column: str, text: str) -> str:
    """A class label: any text but an empty one."""
    text = text.strip()
    if not text:
        raise DataError(f"{name}: row {row}, column {column!r} (the class) is empty; fill it in or drop the row")
    return text


def _cell(name: str, row: int, column: str, text: str) -> float:
    text = text.strip()
    where = f"{name}: row {row}, column {column!r}"
    if not text:
        raise DataError(f"{where} is empty; fill it in or drop the row")
    try:
        value = float(text)
    except ValueError:
        raise DataError(
            f"{where}: {text!r} is not a number; fix the cell or leave the column out of the features"
        ) from None
    if not math.isfinite(value):
        raise DataError(f"{where}: {text!r} is not a finite number")
    if abs(value) > FLOAT32_MAX:
        raise DataError(f"{where}: {text!r} is too large to train on (float32 holds up to about 3.4e38)")
    return value
