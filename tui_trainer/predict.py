"""`tui-trainer predict --run DIR --data FILE.csv [--out FILE.csv]`: a saved model on new rows.

The rows are read from a CSV with a header row; the run's features are found by column name (other
columns are kept and passed through, in order), standardized with the run's own means and
standard deviations exactly as training standardized them (float64, then float32), and fed to the
saved parameters. Every row is written back with a `prediction` column added; for a model with
several outputs (classes), the predicted class and each class's probability.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from typing import Any

from .exits import EXIT_OK, fail


def predict(run: str, data: str, out: str | None) -> int:
    from .core.errors import TrainerError
    from .core.files import FileProblem, open_output, readable_file
    from .core.run_folder import CHECKPOINT, SUMMARY, RunFolder

    try:
        folder = RunFolder.existing(run, flag="--run")
        summary = _summary(folder.file(SUMMARY))
        names: list[str] = summary["feature_names"]
        header, rows, delimiter = _read_rows(str(readable_file(data)), data, names)
        import numpy as np
        import torch

        from .core import checkpoint

        state = checkpoint.load(folder.file(CHECKPOINT))
        if "stepper" not in state:
            raise TrainerError(f"--run {run}: holds a race; predict with one of its entries' runs")
        weight, bias = (p.detach().to(torch.float32).cpu() for p in state["stepper"][0])
        if weight.shape[-1] != len(names):
            raise TrainerError(f"--run {run}: its checkpoint has {weight.shape[-1]} weights for {len(names)} features")
        x = _cells(data, header, names, rows)
        if summary.get("feature_stds") is not None:
            x = (x - np.asarray(summary["feature_means"])) / np.asarray(summary["feature_stds"])
        with torch.no_grad():
            outputs = torch.nn.functional.linear(torch.from_numpy(x.astype(np.float32)), weight.reshape(-1, len(names)), bias.reshape(-1))
    except FileProblem as problem:
        fail(f"--data {problem}")
    except TrainerError as error:
        fail(str(error))
    added, values = _columns(outputs.numpy(), summary.get("classes"))
    text = io.StringIO()
    writer = csv.writer(text, delimiter=delimiter, lineterminator="\n")
    writer.writerow([*header, *added])
    for row, extra in zip(rows, values, strict=True):
        writer.writerow([*row, *extra])
    if out is None:
        sys.stdout.write(text.getvalue())
        return EXIT_OK
    try:
        handle = open_output(out, [data])
    except FileProblem as problem:
        fail(f"--out: {problem}")
    handle.write(text.getvalue())
    handle.close()
    if handle.error is not None:
        fail(f"--out: {handle.error}")
    return EXIT_OK


def _summary(path: Any) -> dict[str, Any]:
    from .core.errors import TrainerError

    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(summary, dict) and "entries" in summary:
            raise TrainerError(f"{path.parent}: holds a race; predict with a single run's folder (train --save)")
        if not isinstance(summary.get("feature_names"), list):
            raise ValueError
        return summary
    except FileNotFoundError:
        raise TrainerError(f"{path}: missing; the run has no model to predict with yet") from None
    except (OSError, ValueError, AttributeError, UnicodeDecodeError):
        raise TrainerError(f"{path}: is not a run summary (damaged, or from something else)") from None


def _read_rows(path: str, name: str, features: list[str]) -> tuple[list[str], list[list[str]], str]:
    """The header, the data rows as text, and the delimiter (found as training finds it)."""
    from .core.data import _delimiter
    from .core.errors import DataError

    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            first = handle.readline()
            delimiter = _delimiter(first)
            handle.seek(0)
            table = list(csv.reader(handle, delimiter=delimiter))
    except UnicodeDecodeError:
        raise DataError(f"--data {name}: is not UTF-8 text") from None
    except csv.Error as error:
        raise DataError(f"--data {name}: not a readable CSV file ({error})") from None
    if not table:
        raise DataError(f"--data {name}: is empty; it needs a header row naming the columns")
    header = [column.strip() for column in table[0]]
    missing = [feature for feature in features if feature not in header]
    if missing:
        raise DataError(f"--data {name}: no column {missing[0]!r}, a feature of the run; the columns are: {', '.join(header)}")
    rows = [row for row in table[1:] if any(cell.strip() for cell in row)]
    for number, row in enumerate(rows, start=1):
        if len(row) != len(header):
            raise DataError(f"--data {name}: row {number} has {len(row)} cells, the header {len(header)}")
    return header, rows, delimiter


def _cells(name: str, header: list[str], features: list[str], rows: list[list[str]]) -> Any:
    import numpy as np

    from .core.data import _cell

    indices = [header.index(feature) for feature in features]
    return np.array(
        [[_cell(f"--data {name}", number, header[i], row[i]) for i in indices] for number, row in enumerate(rows, start=1)],
        dtype=np.float64,
    ).reshape(len(rows), len(features))


def _columns(outputs: Any, classes: list[str] | None = None) -> tuple[list[str], list[list[str]]]:
    """The columns added to every row: `prediction`, or for several outputs (a classifier) the
    predicted class and each class's probability (softmax), named by the run's class labels
    (the summary's `classes`) when it has them, else by their index."""
    import numpy as np

    if outputs.shape[1] == 1:
        return ["prediction"], [[repr(float(v))] for v in outputs[:, 0]]
    count = outputs.shape[1]
    labels = [str(c) for c in classes] if classes is not None and len(classes) == count else [str(k) for k in range(count)]
    shifted = outputs - outputs.max(axis=1, keepdims=True)
    probabilities = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    names = ["prediction", *(f"probability_{label}" for label in labels)]
    return names, [[labels[int(np.argmax(p))], *(repr(float(v)) for v in p)] for p in probabilities]
