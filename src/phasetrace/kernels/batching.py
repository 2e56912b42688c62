"""How the CPU kernel splits a job's realizations (columns) into calls; the cost model (:mod:`phasetrace.resources`)
sizes memory requests by the widest call."""

from __future__ import annotations

import numpy as np

# Width of a kernel call on the CPU (heisenberg.evolve's default): CPU_COLUMNS_PER_CALL columns for chains of more
# than CPU_SPLIT_DIM basis states (L ≥ 18), every column at once below. Per (basis state × column) and matvec,
# L = 20, one thread: 4.7 / 5.4 / 5.8 ns (mixed) at 8 / 16 / 25 columns, 7.9 / 9.4 ns (float64) at 8 / 16 (a wider
# call's vectors leave the cache between the gathers that reuse them); at L = 16, 18 within 7% from 8 to 16 columns
# and 4 columns 4-25% slower than 8. At L = 12 a job's 20 columns in one call run 1.5-1.6x faster than in three
# (each call pays every step's fixed cost).
CPU_SPLIT_DIM = 20_000
CPU_COLUMNS_PER_CALL = 8


def cpu_columns_per_call(dim: int, columns: int) -> int:
    """The most columns one CPU kernel call of a ``dim``-state chain holds (before the calls are evened out)."""
    return CPU_COLUMNS_PER_CALL if dim > CPU_SPLIT_DIM else columns


def call_edges(columns: int, per_call: int) -> np.ndarray:
    """Column boundaries of the fewest calls of at most ``per_call`` columns, of near-equal width."""
    return np.linspace(0, columns, -(-columns // per_call) + 1).round().astype(int)


def widest_call(columns: int, per_call: int) -> int:
    """The columns of the widest of those calls (near-equal widths can differ by one)."""
    return int(np.diff(call_edges(columns, per_call)).max())
