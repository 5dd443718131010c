"""The model in the data's own units: what standardized weights mean for the raw columns.

A run on standardized features learns y = Σ w_j (x_j − μ_j)/σ_j + b. Read on the raw columns that
is y = Σ (w_j/σ_j) x_j + (b − Σ w_j μ_j/σ_j): the weights and bias a person can read as
"price = 120·area + …". Computed in float64 from the trained (float32) parameters.
"""

from __future__ import annotations

from typing import TypedDict

import numpy as np


class DataUnits(TypedDict):
    unscaled_weights: list[float] | list[list[float]] | None
    unscaled_bias: float | list[float] | None


def in_data_units(
    weight: np.ndarray, bias: np.ndarray, means: tuple[float, ...] | None, stds: tuple[float, ...] | None
) -> DataUnits:
    """`weight` (outputs, features) and `bias` (outputs,) on the raw columns; None for both when
    the features were not standardized. One output gives a flat list and a number, as the summary
    gives `weights` and `bias`."""
    if means is None or stds is None:
        return DataUnits(unscaled_weights=None, unscaled_bias=None)
    w = np.asarray(weight, dtype=np.float64).reshape(len(np.atleast_1d(bias)), -1) / np.asarray(stds, dtype=np.float64)
    b = np.atleast_1d(np.asarray(bias, dtype=np.float64)) - w @ np.asarray(means, dtype=np.float64)
    if len(b) == 1:
        return DataUnits(unscaled_weights=w[0].tolist(), unscaled_bias=float(b[0]))
    return DataUnits(unscaled_weights=w.tolist(), unscaled_bias=b.tolist())
