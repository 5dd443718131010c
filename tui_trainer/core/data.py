"""Training data as numpy arrays: seeded synthetic data or a CSV file, split and standardized.

numpy only (no torch), so the app can check a CSV path in place before any run starts.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .config import DataConfig
from .errors import DataError
from .files import readable_file

FLOAT32_MAX = float(np.finfo(np.float32).max)  # training runs in float32


@dataclass(frozen=True)
class Dataset:
    """Rows ready to train on. Features are already standardized when `feature_stds` is set."""

    x_train: np.ndarray  # (n_train, d) float32
    y_train: np.ndarray  # (n_train, 1) float32
    x_val: np.ndarray  # (n_val, d) float32, n_val may be 0
    y_val: np.ndarray  # (n_val, 1) float32
    feature_names: tuple[str, ...]
    target_name: str
    description: str
    true_weights: tuple[float, ...] | None = None  # synthetic only
    true_bias: float | None = None
    feature_means: tuple[float, ...] | None = None  # set when standardized
    feature_stds: tuple[float, ...] | None = None

    @property
    def n_train(self) -> int:
        return len(self.x_train)

    @property
    def n_val(self) -> int:
        return len(self.x_val)

    @property
    def dims(self) -> int:
        return int(self.x_train.shape[1])


def load_dataset(config: DataConfig) -> Dataset:
    """Build the dataset a run trains on, or raise DataError with a message for a person."""
    if config.is_synthetic:
        try:
            x, y, weights = _synthetic(config)
        except MemoryError:
            raise DataError(
                f"synthetic data of {config.samples:,} rows × {config.dims:,} features does not fit in memory: "
                "choose fewer samples or features"
            ) from None
        names, target = tuple(f"x{i + 1}" for i in range(config.dims)), "y"
        description = f"synthetic: {config.samples} rows, {config.dims} feature(s), noise {config.noise:g}"
        true_weights: tuple[float, ...] | None = tuple(weights)
        true_bias: float | None = config.true_bias
    else:
        table = read_csv(Path(config.source), config.target, config.features)
        x, y, names, target = table.x, table.y, table.feature_names, table.target_name
        description = f"{config.source}: {len(x)} rows, {len(names)} feature(s), target {target!r}"
        true_weights, true_bias = None, None
    x_train, y_train, x_val, y_val = _split(x, y, config.val_fraction, config.seed, config.source)
    feature_means: tuple[float, ...] | None = None
    feature_stds: tuple[float, ...] | None = None
    if config.standardized:
        means, stds = _standardize_stats(x_train)
        x_train = (x_train - means) / stds
        x_val = (x_val - means) / stds
        feature_means, feature_stds = tuple(means.tolist()), tuple(stds.tolist())
    _check_scale(config, x_train, y_train, names, target)
    return Dataset(
        x_train=np.ascontiguousarray(x_train, dtype=np.float32),
        y_train=np.ascontiguousarray(y_train, dtype=np.float32),
        x_val=np.ascontiguousarray(x_val, dtype=np.float32),
        y_val=np.ascontiguousarray(y_val, dtype=np.float32),
        feature_names=names,
        target_name=target,
        description=description,
        true_weights=true_weights,
        true_bias=true_bias,
        feature_means=feature_means,
        feature_stds=feature_stds,
    )


# past this a squared error overflows float32, whatever the learning rate: the data must change
SQUARE_OVERFLOW = math.sqrt(FLOAT32_MAX)


def _check_scale(config: DataConfig, x: np.ndarray, y: np.ndarray, names: tuple[str, ...], target: str) -> None:
    """Values whose squares float32 cannot hold make every run diverge at once, and a smaller
    learning rate cannot help: say so before training, and what to do instead."""
    where = config.source if not config.is_synthetic else "synthetic data"
    largest = float(np.abs(y).max()) if y.size else 0.0
    if largest > SQUARE_OVERFLOW:
        power = math.floor(math.log10(largest)) - 3  # what brings it to the thousands
        raise DataError(
            f"{where}: the target {target!r} reaches {largest:.3g}; squared errors that size overflow float32 "
            f"(max {FLOAT32_MAX:.3g}) whatever the learning rate: rescale the column (e.g. divide it by 1e{power})"
        )
    if x.size:
        column = int(np.abs(x).max(axis=0).argmax())
        largest = float(np.abs(x[:, column]).max())
        if largest > SQUARE_OVERFLOW:
            raise DataError(
                f"{where}: the feature {names[column]!r} reaches {largest:.3g}; its square overflows float32 "
                f"(max {FLOAT32_MAX:.3g}) whatever the learning rate: standardize the features (--standardize)"
            )


def synthetic_true_weights(config: DataConfig) -> list[float]:
    """The weights synthetic data is drawn with: given ones, or 3.0 then seeded draws in [-3, 3]."""
    if config.true_weights is not None:
        return list(config.true_weights)
    rng = np.random.default_rng([config.seed, 1])
    rest = np.round(rng.uniform(-3, 3, size=config.dims - 1), 1)
    return [3.0, *rest.tolist()]


def _synthetic(config: DataConfig) -> tuple[np.ndarray, np.ndarray, list[float]]:
    weights = synthetic_true_weights(config)
    rng = np.random.default_rng([config.seed, 0])
    x = rng.standard_normal((config.samples, config.dims))
    noise = rng.standard_normal((config.samples, 1)) * config.noise
    y = x @ np.asarray(weights).reshape(-1, 1) + config.true_bias + noise
    if not np.all(np.abs(y) <= FLOAT32_MAX):
        raise DataError("the synthetic targets are too large to train on (float32 holds up to about 3.4e38): "
                        "choose a smaller noise, true bias or true weights")
    return x, y, weights


def _split(
    x: np.ndarray, y: np.ndarray, val_fraction: float, seed: int, source: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    n = len(x)
    n_val = math.floor(n * val_fraction)
    if n - n_val < 2:
        raise DataError(
            f"{source}: a validation fraction of {val_fraction:g} leaves {n - n_val} training row(s) "
            f"of {n}; at least 2 are needed"
        )
    order = np.random.default_rng([seed, 2]).permutation(n)
    val, train = order[:n_val], order[n_val:]
    return x[train], y[train], x[val], y[val]


def _standardize_stats(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Zero mean, population std. A constant column keeps its scale (std 1), as scikit-learn does."""
    means = x.mean(axis=0, dtype=np.float64)
    stds = x.std(axis=0, dtype=np.float64)
    stds[stds == 0] = 1.0
    return means, stds


# --- CSV -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CsvTable:
    x: np.ndarray  # float64 (n, d)
    y: np.ndarray  # float64 (n, 1)
    feature_names: tuple[str, ...]
    target_name: str


DELIMITERS = ",;\t|"  # comma first: what a tie or a one-column file falls back to
MAX_HEADER = 1 << 20  # characters of the header row looked at to find the delimiter
CSV_MEMORY_PER_BYTE = 10


def read_csv(path: Path, target: str | None = None, features: list[str] | None = None) -> CsvTable:
    """Read a CSV with a header row. Every problem names the file, and the row and column.

    `~` means the home folder, as in a shell. The delimiter is the one of `DELIMITERS` that the
    header row uses most: exports from spreadsheets set to a European locale use `;`, some tools tab.
    """
    name = str(path)
    # Python's csv rows take about ten times the file's size while they are parsed
    path = readable_file(name, memory_factor=CSV_MEMORY_PER_BYTE)
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            header_line = handle.readline(MAX_HEADER)
            while header_line and not header_line.strip():  # blank lines before the header
                header_line = handle.readline(MAX_HEADER)
            delimiter = _delimiter(header_line)
            handle.seek(0)
            rows = list(csv.reader(handle, delimiter=delimiter))
    except UnicodeDecodeError as error:
        raise DataError(f"{name}: is not UTF-8 text (byte {error.start}); save it as UTF-8 CSV") from None
    except (OSError, csv.Error) as error:
        raise DataError(f"{name}: cannot be read ({error})") from None
    rows = [row for row in rows if any(cell.strip() for cell in row)]  # blank lines carry nothing
    if not rows:
        raise DataError(f"{name}: is empty; it needs a header row and at least 2 data rows")
    header = [cell.strip() for cell in rows[0]]
    columns = _choose_columns(name, header, target, features)
    body = rows[1:]
    if len(body) < 2:
        raise DataError(f"{name}: has {len(body)} data row(s); at least 2 are needed")
    values = np.empty((len(body), len(columns)), dtype=np.float64)
    for row_number, row in enumerate(body, start=1):
        if len(row) != len(header):
            raise DataError(
                f"{name}: row {row_number} has {len(row)} cells but the header has {len(header)}"
            )
        for slot, column in enumerate(columns):
            values[row_number - 1, slot] = _cell(name, row_number, header[column], row[column])
    target_name = header[columns[-1]]
    return CsvTable(
        x=values[:, :-1],
        y=values[:, -1:],
        feature_names=tuple(header[c] for c in columns[:-1]),
        target_name=target_name,
    )


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
