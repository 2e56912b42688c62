"""Benchmark: k vmapped trainings vs a sequential loop of k, for one MBL ε network set at the default config's size.

    python -m phasetrace.bench_train [--seeds 10]

Data have the default config's shapes (32 W × 20 realizations = 640 traces of 50 times × 12 sites, the 5 labeled
W points = 100 samples, 80 of them for training), drawn at random: the cost of training does not depend on the
values. Both variants use the same jitted training function and the same keys; times include compilation
(first call) and exclude it (second call).
"""

from __future__ import annotations

import argparse
import time

import jax
import numpy as np

from .classifiers import Hyper, member_keys
from .kinds.network import _train_networks, train_single
from .training import fit_set


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, default=10)
    args = p.parse_args(argv)
    from .runner import configure

    configure()
    k = args.seeds
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (80, 50, 12)).astype(np.float32)
    y = rng.integers(0, 2, 80).astype(np.int32)
    xu = rng.uniform(-1, 1, (540, 50, 12)).astype(np.float32)
    hp = Hyper(n_classes=2, learning_rate=0.01)
    keys = member_keys(0, k, 1, 0)
    idx = np.tile(np.arange(80), (k, 1))

    def timed(f):
        t = time.perf_counter()
        jax.block_until_ready(f())
        return time.perf_counter() - t

    vm_cold = timed(lambda: _train_networks(keys, x, y, idx, xu, hp))
    vm_warm = timed(lambda: _train_networks(keys, x, y, idx, xu, hp))
    loop_cold = timed(lambda: [train_single(keys[s], x, y, idx[s], xu, hp) for s in range(k)])
    loop_warm = timed(lambda: [train_single(keys[s], x, y, idx[s], xu, hp) for s in range(k)])
    labels = np.concatenate([np.full(80, 0), np.full(540, -1)])
    labels[:40] = 1
    full = timed(lambda: fit_set(np.concatenate([x, xu]), labels, hp, k, 0, 0.2, 1, 0)["p"])
    print(f"| k = {k} trainings | with compilation | without |")
    print("|---|---|---|")
    print(f"| vmapped (one computation) | {vm_cold:.2f} s | {vm_warm:.2f} s |")
    print(f"| sequential loop | {loop_cold:.2f} s | {loop_warm:.2f} s |")
    print(f"| speed-up | {loop_cold / vm_cold:.1f}x | {loop_warm / vm_warm:.1f}x |")
    print(f"| whole ε set (train + predict 640 traces), warm | {full:.2f} s | |")


if __name__ == "__main__":
    main()
