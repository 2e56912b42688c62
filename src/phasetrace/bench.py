"""Benchmark: the MBL time-evolution kernel against scipy's expm_multiply and QuSpin's expm_multiply_parallel.

    python -m phasetrace.bench                 # L = 16, 18; 1 thread and all threads
    python -m phasetrace.bench --L 20          # add L = 20 (minutes per peer)
    python -m phasetrace.bench --batch 16      # realizations per batched kernel call

Every row evolves realization(s) of the random-field chain at W = 3 from the ε = 0.5 product state to t = 0 … 500
at 50 points, after E₀/E_max are known (their Lanczos cost is reported separately). All tools get the same
Hamiltonian (scipy/QuSpin as a CSR matrix built from the same neighbour table) and the same initial state;
"max dev" is max |Δ⟨σᶻᵢ⟩(t)| against the phasetrace single-realization result of the same run.
Each (L, threads) cell runs in a child process pinned with ``taskset`` to that many cores, so every tool sees
the same thread count. Effective bandwidth uses the bytes a matvec must move at least:
dim · (4 · n_bonds + 8 · C · (nnz_per_row + 6)) for C real columns, ×matvecs / seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

W_BENCH, EPS_BENCH, SEED = 3.0, 0.5, 2024


def _csr(chain, fields):
    import scipy.sparse as sp

    nbr = chain.neighbors
    rows = np.repeat(np.arange(chain.dim), nbr.shape[1])
    cols = nbr.ravel()
    keep = cols < chain.dim
    H = sp.csr_matrix((np.full(keep.sum(), 0.5 * chain.J), (rows[keep], cols[keep])), shape=(chain.dim,) * 2)
    return (H + sp.diags(chain.diagonal(fields)[0])).tocsr()


def _mag(chain, psis):
    return (np.abs(psis) ** 2) @ chain.sector.spins.astype(float)


def worker(L: int, batch: int, peers: list[str]) -> dict:
    """Run every tool once for one L on the cores this process may use; return figures as a dict."""
    from . import heisenberg
    from .models import MBL
    from .models.base import default_times

    times = default_times()
    chain = heisenberg.heisenberg_chain(L)
    fields, _ = MBL.disorder(SEED, L, W_BENCH, range(batch))
    t0 = time.perf_counter()
    bounds = MBL.bounds(SEED, L, W_BENCH, range(batch))
    t_lanczos = (time.perf_counter() - t0) / batch
    idx, _ = heisenberg.initial_states(chain, fields, [EPS_BENCH], bounds.E0, bounds.Emax)
    nnz = float((chain.neighbors < chain.dim).sum(axis=1).mean())
    out = {
        "L": L,
        "dim": chain.dim,
        "threads": len(os.sched_getaffinity(0)),
        "lanczos_s": t_lanczos,
        "lanczos_matvecs": int(bounds.iterations.max()),
        "rows": [],
    }

    def run_kernel(cols):
        args = (chain, fields[cols], idx[cols], times, bounds.E0[cols], bounds.Emax[cols])
        heisenberg.evolve(*args)  # compile
        t = time.perf_counter()
        evo = heisenberg.evolve(*args)
        return time.perf_counter() - t, evo

    for label, cols in (("phasetrace", [0]), (f"phasetrace batch {batch}", list(range(batch)))):
        sec, evo = run_kernel(cols)
        if label == "phasetrace":
            ref = evo.magnetization[0, 0]
        dev = float(np.abs(evo.magnetization[0, 0] - ref).max())
        bytes_per = chain.dim * (4 * len(chain.bonds) + 8 * 2 * len(cols) * (nnz + 6))
        out["rows"].append(
            {
                "tool": label,
                "s_per_real": sec / len(cols),
                "matvecs": evo.matvecs,
                "GBps": bytes_per * evo.matvecs / sec / 1e9,
                "max_dev": dev,
            }
        )

    H = _csr(chain, fields[:1])
    psi0 = np.zeros(chain.dim, complex)
    psi0[idx[0, 0]] = 1.0
    dt = float(times[1] - times[0])
    if "scipy" in peers:
        from scipy.sparse.linalg import expm_multiply

        t = time.perf_counter()
        psis = expm_multiply(-1j * H, psi0, start=0.0, stop=float(times[-1]), num=times.size, endpoint=True)
        sec = time.perf_counter() - t
        out["rows"].append(
            {
                "tool": "scipy expm_multiply",
                "s_per_real": sec,
                "matvecs": None,
                "GBps": None,
                "max_dev": float(np.abs(_mag(chain, psis) - ref).max()),
            }
        )
    if "quspin" in peers:
        try:
            from quspin.tools.evolution import expm_multiply_parallel
        except ImportError:
            out["rows"].append({"tool": "quspin (not installed: pip install -e '.[bench]')"})
        else:
            t = time.perf_counter()
            U = expm_multiply_parallel(H, a=-1j * dt)
            psi, work, psis = psi0.copy(), np.zeros(2 * chain.dim, complex), [psi0]
            for _ in range(times.size - 1):
                psi = U.dot(psi, work_array=work)
                psis.append(psi)
            sec = time.perf_counter() - t
            out["rows"].append(
                {
                    "tool": "QuSpin expm_multiply_parallel",
                    "s_per_real": sec,
                    "matvecs": None,
                    "GBps": None,
                    "max_dev": float(np.abs(_mag(chain, np.array(psis)) - ref).max()),
                }
            )
    return out


def _table(results: list[dict]) -> str:
    lines = [
        "| L | dim | threads | tool | s / realization | vs QuSpin | matvecs | eff. GB/s | max dev |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for res in results:
        q = next((r["s_per_real"] for r in res["rows"] if r["tool"].startswith("QuSpin")), None)
        for r in res["rows"]:
            if "s_per_real" not in r:
                lines.append(f"| {res['L']} | {res['dim']} | {res['threads']} | {r['tool']} | | | | | |")
                continue
            speed = f"{q / r['s_per_real']:.1f}x" if q else ""
            mv = r["matvecs"] if r["matvecs"] is not None else ""
            bw = f"{r['GBps']:.1f}" if r["GBps"] is not None else ""
            lines.append(
                f"| {res['L']} | {res['dim']} | {res['threads']} | {r['tool']} | {r['s_per_real']:.3f} | "
                f"{speed} | {mv} | {bw} | {r['max_dev']:.1e} |"
            )
        lines.append(
            f"| {res['L']} | {res['dim']} | {res['threads']} | (Lanczos E0/Emax, per realization) | "
            f"{res['lanczos_s']:.3f} | | {res['lanczos_matvecs']} | | |"
        )
    return "\n".join(lines)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--L", type=int, nargs="+", default=[16, 18], help="chain lengths (default: 16 18)")
    p.add_argument("--threads", type=int, nargs="+", default=None, help="thread counts (default: 1 and all)")
    p.add_argument("--batch", type=int, default=8, help="realizations per batched kernel call (default 8)")
    p.add_argument("--peers", nargs="*", default=["scipy", "quspin"], help="peers to time (scipy, quspin)")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    from .runner import configure

    configure()
    if args.worker:
        print(json.dumps(worker(args.L[0], args.batch, args.peers)))
        return
    ncpu = len(os.sched_getaffinity(0))
    threads = args.threads or sorted({1, ncpu})
    results = []
    for n in threads:
        for L in args.L:
            cores = ",".join(str(c) for c in sorted(os.sched_getaffinity(0))[:n])
            env = os.environ | {"OMP_NUM_THREADS": str(n), "OPENBLAS_NUM_THREADS": str(n), "MKL_NUM_THREADS": str(n)}
            cmd = [
                "taskset",
                "-c",
                cores,
                sys.executable,
                "-m",
                "phasetrace.bench",
                "--worker",
                "--L",
                str(L),
                "--batch",
                str(args.batch),
                "--peers",
                *args.peers,
            ]
            print(f"running L={L} on {n} thread(s) ...", file=sys.stderr, flush=True)
            proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
            results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    print(_table(results))


if __name__ == "__main__":
    main()
