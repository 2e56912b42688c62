"""Argument validation shared by the kernels: every failure is a ValueError naming the parameter and its range."""

from __future__ import annotations

import math
import os


class HealthCheckError(RuntimeError):
    """An evolution whose norm or energy drifted beyond tolerance; no numbers are returned."""


# The largest chains the kernels accept; beyond these the memory check below decides too.
MAX_L_HEISENBERG = 24
MAX_L_FLOQUET = 24


def require(condition: bool, name: str, allowed: str, value) -> None:
    """Raise ``ValueError('<name> = <value> is outside the allowed range: <allowed>')`` unless ``condition``."""
    if not condition:
        raise ValueError(f"{name} = {value!r} is outside the allowed range: {allowed}")


def check_even_length(L, max_L: int, boundary: str) -> None:
    """Chain length for the Sᶻ=0 sector: an even integer, 4 ≤ L ≤ max_L."""
    require(isinstance(L, int | _np_integer()) and not isinstance(L, bool), "L", "an even integer", L)
    require(L % 2 == 0 and 4 <= L <= max_L, "L", f"an even integer with 4 <= L <= {max_L}", L)
    check_boundary(boundary)


def check_length(L, max_L: int, boundary: str) -> None:
    """Chain length for the full Hilbert space: an integer, 2 ≤ L ≤ max_L (3 ≤ L for a periodic chain)."""
    require(isinstance(L, int | _np_integer()) and not isinstance(L, bool), "L", "an integer", L)
    low = 3 if boundary == "periodic" else 2
    require(low <= L <= max_L, "L", f"an integer with {low} <= L <= {max_L}", L)
    check_boundary(boundary)


def check_boundary(boundary) -> None:
    require(boundary in ("periodic", "open"), "boundary", "'periodic' or 'open'", boundary)


def check_finite(name: str, value, low: float = -math.inf, high: float = math.inf, *, open_low=False) -> None:
    """A finite real number in [low, high] (or (low, high] with ``open_low``)."""
    ok = isinstance(value, int | float | _np_number()) and not isinstance(value, bool) and math.isfinite(value)
    if ok:
        ok = (value > low if open_low else value >= low) and value <= high
    bracket = "(" if open_low else "["
    require(ok, name, f"a finite number in {bracket}{low}, {high}]", value)


def check_times(times) -> None:
    """Output times: a non-empty, finite, non-negative, non-decreasing 1-D sequence."""
    import numpy as np

    t = np.asarray(times, dtype=float)
    ok = t.ndim == 1 and t.size > 0 and np.all(np.isfinite(t)) and np.all(t >= 0) and np.all(np.diff(t) >= 0)
    require(bool(ok), "times", "a non-empty 1-D array of finite, non-negative, non-decreasing times", times)


def check_memory(nbytes: float, what: str, name: str = "L") -> None:
    """Refuse work whose working set exceeds 80% of the machine's physical memory."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):  # pragma: no cover - non-POSIX
        return
    if nbytes > 0.8 * total:
        raise ValueError(
            f"{name}: {what} needs about {nbytes / 2**30:.1f} GiB, more than 80% of this machine's "
            f"{total / 2**30:.1f} GiB of memory; use a smaller {name} or fewer realizations per call"
        )


def _np_integer():
    import numpy as np

    return np.integer


def _np_number():
    import numpy as np

    return np.number
