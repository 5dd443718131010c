"""Axis ticks a person can read: round values 1, 2 or 5 × 10^k apart, labelled in a few characters
(scientific notation past five digits), whole numbers on a step axis, decades on a log axis.

plotext labels its own ticks with as many digits as it takes to tell them apart, which gives
`423845276825228384405261403461517312.0` for a diverged run and `0.0100000000000000019` for an lr
that only wobbles in its last bits; the charts hand it these ticks and labels instead.
"""

from __future__ import annotations

import itertools
import math

MAX_LABEL = 8  # no label is longer than this


def flat(low: float, high: float) -> bool:
    """A range too narrow to be anything but rounding noise around one value."""
    return high - low <= 1e-9 * max(abs(low), abs(high))


def limits(low: float, high: float) -> tuple[float, float]:
    """The range plotext draws for data from low to high (it widens a single value the same way)."""
    if low != high:
        return low, high
    return (0.5 * low, 1.5 * low) if low > 0 else (1.5 * low, 0.5 * low) if low < 0 else (-1.0, 1.0)


def nice_step(span: float, count: int, integer: bool = False) -> float:
    """1, 2 or 5 × 10^k, so that about `count` ticks cover `span`."""
    raw = span / max(1, count)
    if raw <= 0 or not math.isfinite(raw):
        return 1.0
    power = 10.0 ** math.floor(math.log10(raw))
    step = min((m * power for m in (1, 2, 5, 10)), key=lambda step: abs(math.log(step / raw)))  # the nearest
    return max(1.0, round(step)) if integer else step


def nice_ticks(low: float, high: float, count: int = 5, integer: bool = False) -> list[float]:
    """Round values inside [low, high], about `count` of them (always at least one)."""
    low, high = limits(low, high)
    step = nice_step(high - low, count, integer)
    first = math.ceil(low / step - 1e-9)
    ticks: list[float] = []
    k = first
    while k * step <= high * (1 + 1e-12) + 1e-300 and len(ticks) < 4 * count:
        ticks.append(k * step if not integer else float(round(k * step)))
        k += 1
    return ticks or [low]


def log_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Decades inside [low, high] (both > 0), every other one when there are many; round values
    when the range spans less than two decades."""
    low, high = limits(low, high)
    first, last = math.ceil(math.log10(low) - 1e-9), math.floor(math.log10(high) + 1e-9)
    if last - first + 1 < 2:
        return [t for t in nice_ticks(low, high, count) if t > 0] or [low]
    every = max(1, math.ceil((last - first + 1) / count))
    return [10.0**k for k in range(first, last + 1, every)]


def tick_label(value: float, step: float) -> str:
    """A short label for `value` on an axis whose ticks are `step` apart."""
    if value == 0 or abs(value) < abs(step) * 1e-6:
        return "0"
    size = abs(value)
    step = abs(step) or size
    if 1e-3 <= size < 1e5 or (size < 1e6 and float(value).is_integer() and step >= 1):
        decimals = 0 if step >= 1 else min(6, -math.floor(math.log10(step) + 1e-9))
        text = f"{value:.{decimals}f}"
        if len(text) <= MAX_LABEL:
            return text
    digits = max(1, min(3, math.floor(math.log10(size)) - math.floor(math.log10(step)) + 1))
    mantissa, exponent = f"{value:.{digits - 1}e}".split("e")
    if "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}e{int(exponent)}"


def labels(ticks: list[float]) -> list[str]:
    """Labels for ticks that all share one spacing (log ticks: each labelled on its own)."""
    if len(ticks) < 2:
        return [f"{t:.4g}".replace("e+", "e").replace("e0", "e").replace("e-0", "e-") for t in ticks]  # a lone tick
    steps = [b - a for a, b in itertools.pairwise(ticks)]
    even = max(steps) - min(steps) <= 1e-6 * max(steps)
    return [tick_label(t, steps[0] if even else abs(t)) for t in ticks]
