"""Benchmark: the MBL time-evolution kernel against scipy's expm_multiply and QuSpin's expm_multiply_parallel;
the error budget of the kernel's precisions; the measured time of MBL traces jobs against the cost model.

    python -m phasetrace.bench                 # L = 16, 18; 1 thread and all threads
    python -m phasetrace.bench --L 20          # add L = 20 (minutes per peer)
    python -m phasetrace.bench --batch 16      # realizations per batched kernel call
    python -m phasetrace.bench --budget --L 12 16 20        # mixed vs float64 (and dense ED at L <= 12)
    python -m phasetrace.bench --jobs --L 14 16 18          # MBL bounds and traces jobs vs phasetrace.resources
    python -m phasetrace.bench --jobs --model floquet --L 14 --realizations 50             # Floquet traces jobs

Every row evolves realization(s) of the random-field chain at W = 3 from the ε = 0.5 product state to t = 0 … 500
at 50 points, after E₀/E_max are known (their Lanczos cost is reported separately). All tools get the same
Hamiltonian (scipy/QuSpin as a CSR matrix built from the same neighbour table) and the same initial state;
"max dev" is max |Δ⟨σᶻᵢ⟩(t)| against the phasetrace single-realization float64 result of the same run.
Each (L, threads) cell runs in a child process pinned with ``taskset`` to that many cores, so every tool sees
the same thread count. Kernel rows are timed on a second, identical call: the first call's extra time (the
compilation) is the "compile s" column. Memory bandwidth: the same process first times a numpy copy of a
512 MB array (bytes read + written per second) and a streaming read (``sum``), best of 5. A kernel row's
"streamed GB/s" counts the bytes one Clenshaw term must move if no vector stays in cache,
dim · (8 + C · 4·v + C/2 · d) for C real columns ([Re | Im]), vectors of v bytes (read b_{k+1} gathered, read
b_{k+2} and ψ, write b_k), the diagonal of d bytes (per realization, shared by Re and Im; mixed: its hi and lo
parts), and the int32 state and wrap tables; "of copy" is that figure over the copy bandwidth.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

from .config import DEFAULT_CONFIG  # the default config.yaml (package data)

W_BENCH, EPS_BENCH, SEED = 3.0, 0.5, 2024
BUDGET_W = (0.5, 3.0, 8.0)
BUDGET_EPS = (0.2, 0.5, 0.8)
ED_MAX_L = 12  # dense ED in the error budget up to this length


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


def memory_bandwidth(nbytes: int = 2**29, repeats: int = 5) -> dict[str, float]:
    """GB/s of a numpy copy (bytes read + written) and of a streaming read (``sum``) of an ``nbytes`` array."""
    a = np.ones(nbytes // 8)
    b = np.empty_like(a)
    copy, read = np.inf, np.inf
    for _ in range(repeats):
        t = time.perf_counter()
        np.copyto(b, a)
        copy = min(copy, time.perf_counter() - t)
        t = time.perf_counter()
        a.sum()
        read = min(read, time.perf_counter() - t)
    return {"copy_GBps": 2 * a.nbytes / copy / 1e9, "read_GBps": a.nbytes / read / 1e9}


def streamed_bytes(chain, columns: int, precision: str) -> float:
    """Bytes one Clenshaw term of ``columns`` real columns moves if no vector stays in cache (module doc)."""
    from .kernels.precision import PRECISIONS

    v = np.dtype(PRECISIONS[precision].vectors).itemsize
    d = 8 if v == 8 else 2 * v  # float64, or the (hi, lo) pair of the narrower dtype
    return chain.dim * (8 + columns * 4 * v + columns / 2 * d)


def _problem(L: int, n: int, W: float = W_BENCH, eps=(EPS_BENCH,)):
    from .kernels import heisenberg
    from .models import MBL

    chain = heisenberg.heisenberg_chain(L)
    fields, _ = MBL.disorder(SEED, L, W, range(n))
    t0 = time.perf_counter()
    bounds = MBL.bounds(SEED, L, W, range(n))
    lanczos = (time.perf_counter() - t0) / n
    idx, _ = heisenberg.initial_states(chain, fields, list(eps), bounds.E0, bounds.Emax)
    return chain, fields, bounds, idx, lanczos


def worker(L: int, batch: int, peers: list[str], precisions: list[str]) -> dict:
    """Run every tool once for one L on the cores this process may use; return figures as a dict."""
    from .kernels import heisenberg
    from .models.base import default_times

    times = default_times()
    bandwidth = memory_bandwidth()
    chain, fields, bounds, idx, t_lanczos = _problem(L, batch)
    out = {
        "L": L,
        "dim": chain.dim,
        "threads": len(os.sched_getaffinity(0)),
        "lanczos_s": t_lanczos,
        "lanczos_matvecs": int(bounds.iterations.max()),
        "rows": [],
    } | bandwidth

    def run_kernel(cols, precision):
        args = (chain, fields[cols], idx[cols], times, bounds.E0[cols], bounds.Emax[cols])
        t = time.perf_counter()
        heisenberg.evolve(*args, precision=precision)  # compiles, then runs
        first = time.perf_counter() - t
        t = time.perf_counter()
        evo = heisenberg.evolve(*args, precision=precision)
        sec = time.perf_counter() - t
        return sec, first - sec, evo

    ref = None
    kernels = [("phasetrace", [0], "float64"), (f"phasetrace batch {batch}", list(range(batch)), "float64")]
    kernels += [(f"phasetrace batch {batch} {p}", list(range(batch)), p) for p in precisions if p != "float64"]
    for label, cols, precision in kernels:
        sec, compile_s, evo = run_kernel(cols, precision)
        if ref is None:
            ref = evo.magnetization[0, 0]
        gbps = streamed_bytes(chain, 2 * len(cols), precision) * evo.matvecs / sec / 1e9
        out["rows"].append(
            {
                "tool": label,
                "s_per_real": sec / len(cols),
                "compile_s": compile_s,
                "matvecs": evo.matvecs,
                "GBps": gbps,
                "max_dev": float(np.abs(evo.magnetization[0, 0] - ref).max()),
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
            {"tool": "scipy expm_multiply", "s_per_real": sec, "max_dev": float(np.abs(_mag(chain, psis) - ref).max())}
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
                    "max_dev": float(np.abs(_mag(chain, np.array(psis)) - ref).max()),
                }
            )
    return out


def _table(results: list[dict]) -> str:
    lines = []
    for res in results:
        lines.append(
            f"L = {res['L']}, {res['threads']} thread(s): numpy copy {res['copy_GBps']:.1f} GB/s (read + write), "
            f"streaming read {res['read_GBps']:.1f} GB/s"
        )
    lines += [
        "",
        "| L | dim | threads | tool | s / realization | compile s (excluded) | vs QuSpin | matvecs | streamed GB/s "
        "| of copy | max dev |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for res in results:
        q = next((r["s_per_real"] for r in res["rows"] if r["tool"].startswith("QuSpin")), None)
        for r in res["rows"]:
            cell = f"| {res['L']} | {res['dim']} | {res['threads']} | {r['tool']} |"
            if "s_per_real" not in r:
                lines.append(cell + " | | | | | | |")
                continue
            speed = f"{q / r['s_per_real']:.1f}x" if q else ""
            kernel = (
                [
                    f"{r['compile_s']:.2f}",
                    speed,
                    str(r["matvecs"]),
                    f"{r['GBps']:.1f}",
                    f"{r['GBps'] / res['copy_GBps']:.0%}",
                ]
                if "matvecs" in r
                else ["", speed, "", "", ""]
            )
            lines.append(f"{cell} {r['s_per_real']:.3f} | {' | '.join(kernel)} | {r['max_dev']:.1e} |")
        lines.append(
            f"| {res['L']} | {res['dim']} | {res['threads']} | (Lanczos E0/Emax, per realization) | "
            f"{res['lanczos_s']:.3f} | | | {res['lanczos_matvecs']} | | | |"
        )
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------ error budget
def _dense_traces(chain, fields, index, times) -> np.ndarray:
    """⟨σᶻᵢ⟩(t) (E, T, L) of one realization by dense diagonalization of its sector matrix (L ≤ ED_MAX_L)."""
    H = _csr(chain, fields[None]).toarray()
    vals, vecs = np.linalg.eigh(H)
    spins = chain.sector.spins.astype(float)
    out = []
    for i in index:
        c = vecs[i].conj()  # ⟨n|s_i⟩
        psis = (vecs[None] * (np.exp(-1j * np.outer(times, vals)) * c[None])[:, None, :]).sum(axis=-1)
        out.append((np.abs(psis) ** 2) @ spins)
    return np.array(out)


def budget_worker(L: int, realizations: int, precision: str) -> list[dict]:
    """``precision`` against float64 (and dense ED at L ≤ ED_MAX_L) at every W of BUDGET_W, ε of BUDGET_EPS."""
    from .kernels import heisenberg
    from .models.base import default_times

    times = default_times()
    rows = []
    for W in BUDGET_W:
        chain, fields, bounds, idx, _ = _problem(L, realizations, W, BUDGET_EPS)
        args = (chain, fields, idx, times, bounds.E0, bounds.Emax)
        ref, evo = (heisenberg.evolve(*args, precision=p) for p in ("float64", precision))
        row = {
            "L": L,
            "W": W,
            "realizations": realizations,
            "vs_f64": float(np.abs(evo.magnetization - ref.magnetization).max()),
            "norm_drift": float(evo.norm_drift.max()),
            "energy_drift": float((evo.energy_drift / (bounds.Emax - bounds.E0)[:, None]).max()),
            "f64_norm_drift": float(ref.norm_drift.max()),
            "f64_energy_drift": float((ref.energy_drift / (bounds.Emax - bounds.E0)[:, None]).max()),
        }
        if L <= ED_MAX_L:
            ed = np.stack([_dense_traces(chain, fields[r], idx[r], times) for r in range(realizations)])
            row["vs_ed"] = float(np.abs(evo.magnetization - ed).max())
            row["f64_vs_ed"] = float(np.abs(ref.magnetization - ed).max())
        rows.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
    return rows


def _budget_table(rows: list[dict], precision: str) -> str:
    lines = [
        f"| L | W | realizations × ε | max abs Δσz, {precision} vs float64 | {precision} vs ED | float64 vs ED | "
        f"norm drift {precision} (float64) | energy drift / width {precision} (float64) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        ed = (f"{r['vs_ed']:.1e}", f"{r['f64_vs_ed']:.1e}") if "vs_ed" in r else ("", "")
        lines.append(
            f"| {r['L']} | {r['W']:g} | {r['realizations']} × {len(BUDGET_EPS)} | {r['vs_f64']:.1e} | {ed[0]} | "
            f"{ed[1]} | {r['norm_drift']:.1e} ({r['f64_norm_drift']:.1e}) | "
            f"{r['energy_drift']:.1e} ({r['f64_energy_drift']:.1e}) |"
        )
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------- job times vs cost
def job_worker(
    stage: str, model: str, L: int, W: float, realizations: int, precision: str, config_path: str, bounds_path: str
) -> dict:
    """One ``stage`` job of ``model`` (the workflow's code path: :meth:`run_stage`) of ``realizations``, timed in
    this fresh process as a cluster job runs it (its kernel compilation included), with the process's peak RSS and
    what :mod:`phasetrace.resources` predicts and requests for it. MBL: bounds at W, written to ``bounds_path``;
    traces at (ε = 0.5, W) from those bounds. Floquet: traces at ε = 0.1 (W and precision unused)."""
    from . import config as config_mod
    from . import resources
    from .models import get
    from .runner import configure

    configure()
    config = config_mod.load(config_path)
    m = get(model)
    cfg = config[model] | {"L": L, "realizations": realizations, "realizations_per_job": realizations}
    config[model] = cfg | ({"precision": precision} if model == "mbl" else {})
    block, point, inputs = (0, realizations - 1), {"W": W} if model == "mbl" else {"eps": 0.1}, []
    if stage == "traces" and model == "mbl":
        with np.load(bounds_path) as f:
            inputs = [(dict(f), {})]
        point = point | {"eps": EPS_BENCH}
    t = time.perf_counter()
    out = m.run_stage(config, stage, point, block, inputs)
    sec = time.perf_counter() - t
    if stage == "bounds":
        np.savez(bounds_path, **out)
    request = resources.simulation(config, get(model), stage, **point)
    return {
        "model": model,
        "stage": stage,
        "L": L,
        "W": W if model == "mbl" else None,
        "realizations": realizations,
        "precision": precision if stage == "traces" and model == "mbl" else "float64",
        "seconds": sec,
        "predicted_s": resources.stage_seconds(config, get(model), stage, point),
        "requested_min": request["runtime"],
        "peak_rss_mb": _peak_rss_mb(),
        "requested_mb": request["mem_mb"],
    }


def _peak_rss_mb() -> float:
    """This process's own peak RSS (VmHWM): ``ru_maxrss`` would also count the parent it was forked from, which
    Linux carries across exec."""
    with open("/proc/self/status") as f:
        return int(f.read().split("VmHWM:")[1].split()[0]) / 1024


def _jobs_table(rows: list[dict]) -> str:
    lines = [
        "| model | stage | L | W | precision | realizations | measured s | predicted s | predicted / measured "
        "| requested / measured | peak RSS MB | requested MB | requested / peak |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        W = "" if r["W"] is None else f"{r['W']:g}"
        lines.append(
            f"| {r['model']} | {r['stage']} | {r['L']} | {W} | "
            f"{r['precision']} | {r['realizations']} | {r['seconds']:.1f} | {r['predicted_s']:.1f} | "
            f"{r['predicted_s'] / r['seconds']:.2f} | {60 * r['requested_min'] / r['seconds']:.1f} | "
            f"{r['peak_rss_mb']:.0f} | {r['requested_mb']} | {r['requested_mb'] / r['peak_rss_mb']:.1f} |"
        )
    return "\n".join(lines)


def _child(n: int, args: list[str]) -> list:
    """Run ``python -m phasetrace.bench --worker ARGS`` pinned to the first ``n`` cores; its last stdout line."""
    cores = ",".join(str(c) for c in sorted(os.sched_getaffinity(0))[:n])
    env = os.environ | {"OMP_NUM_THREADS": str(n), "OPENBLAS_NUM_THREADS": str(n), "MKL_NUM_THREADS": str(n)}
    cmd = ["taskset", "-c", cores, sys.executable, "-m", "phasetrace.bench", "--worker", *args]
    proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None) -> None:
    from .kernels.precision import PRECISIONS

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--L", type=int, nargs="+", default=[16, 18], help="chain lengths (default: 16 18)")
    p.add_argument("--threads", type=int, nargs="+", default=None, help="thread counts (default: 1 and all)")
    p.add_argument("--batch", type=int, default=8, help="realizations per batched kernel call (default 8)")
    p.add_argument("--peers", nargs="*", default=["scipy", "quspin"], help="peers to time (scipy, quspin)")
    p.add_argument(
        "--precision", nargs="+", default=list(PRECISIONS), choices=list(PRECISIONS), help="kernel precisions"
    )
    p.add_argument("--budget", action="store_true", help="error budget of --precision (the first not float64)")
    p.add_argument("--realizations", type=int, default=2, help="--budget: realizations per (L, W); --jobs: per job")
    p.add_argument("--jobs", action="store_true", help="time MBL traces jobs (1 thread) against the cost model")
    p.add_argument("--W", type=float, nargs="+", default=list(BUDGET_W), help="--jobs: disorder strengths")
    p.add_argument(
        "--config",
        default=str(DEFAULT_CONFIG),
        help="--jobs: the config whose mbl section the jobs use (default: %(default)s)",
    )
    p.add_argument("--model", default="mbl", choices=["mbl", "floquet"], help="--jobs: the model (default: mbl)")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--stage", default="traces", help=argparse.SUPPRESS)
    p.add_argument("--bounds-file", default="", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    from .runner import configure

    configure()
    if args.worker:
        if args.budget:
            res = budget_worker(args.L[0], args.realizations, args.precision[0])
        elif args.jobs:
            res = job_worker(
                args.stage,
                args.model,
                args.L[0],
                args.W[0],
                args.realizations,
                args.precision[0],
                args.config,
                args.bounds_file,
            )
        else:
            res = worker(args.L[0], args.batch, args.peers, args.precision)
        print(json.dumps(res))
        return
    ncpu = len(os.sched_getaffinity(0))
    threads = args.threads or sorted({1, ncpu})
    if args.budget:
        precision = next((q for q in args.precision if q != "float64"), None)
        if precision is None:
            p.error("--budget measures a precision against float64: pass one besides float64, e.g. --precision mixed")
        rows = []
        for L in args.L:
            print(f"error budget L={L} ...", file=sys.stderr, flush=True)
            rows += _child(
                threads[0],
                ["--budget", "--L", str(L), "--realizations", str(args.realizations), "--precision", precision],
            )
        print(_budget_table(rows, precision))
        return
    if args.jobs:
        rows = []
        with tempfile.TemporaryDirectory() as tmp:
            for L in args.L:
                for W in args.W if args.model == "mbl" else [0.0]:
                    common = ["--jobs", "--model", args.model, "--L", str(L), "--W", str(W)]
                    common += ["--realizations", str(args.realizations), "--config", args.config]
                    common += ["--bounds-file", os.path.join(tmp, f"bounds-L{L}-W{W}.npz")]
                    stages = [("bounds", "float64")] if args.model == "mbl" else []
                    precisions = args.precision if args.model == "mbl" else ["float64"]
                    for stage, q in stages + [("traces", q) for q in precisions]:
                        print(f"{args.model} {stage} job L={L} W={W} {q} ...", file=sys.stderr, flush=True)
                        rows.append(_child(1, [*common, "--stage", stage, "--precision", q]))
                        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
        print(_jobs_table(rows))
        return
    results = []
    for n in threads:
        for L in args.L:
            print(f"running L={L} on {n} thread(s) ...", file=sys.stderr, flush=True)
            results.append(
                _child(
                    n,
                    ["--L", str(L), "--batch", str(args.batch), "--peers", *args.peers, "--precision", *args.precision],
                )
            )
    print(_table(results))


if __name__ == "__main__":
    main()
