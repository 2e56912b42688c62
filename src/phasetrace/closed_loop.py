"""The loop of issue 25 closed on a synthetic experiment: an experiment's own sweep measured, its boundary learned,
the next settings suggested, measured, and the boundary learned again.

``python -m phasetrace closed-loop CONFIG --out DIR`` (the worked example: ``config/closed-loop.yaml``;
docs/experimental-data.md, "Closing the loop"). CONFIG is a config overlay (the keys it leaves out are the default
config's) with a ``closed_loop`` section (:data:`SCHEMA`). Each replicate is one synthetic experiment with its own
root seed (:func:`phasetrace.seeds.replicate_seed`):

1. **The experiment** is the chain ``quasiperiodic_fixed`` of the config (its initial state, L, times) recorded
   through the config's ``measurement`` section (the imbalance, N shots): round 0 measures ``closed_loop.points``
   with ``closed_loop.realizations`` each. A measurement of n realizations at W continues after the ones W holds:
   realization r at W is the trace the simulation pipeline computes for realization r at W (its own disorder and
   shot streams), whatever round measures it. Each round's traces are written to one long-form CSV
   (``data/round<k>.csv``: W, realization, time, imbalance; floats as their shortest round-tripping repr).
2. **The learning** reads only those CSVs: the measured model (:mod:`.models.measured`) with one file per round,
   run in-process through the workflow's own job functions (import, dataset, network, confusion) into the
   workflow's layout under the round's directory; the imports of earlier rounds are reused, as the workflow reuses
   them (in-process: a few seconds per round instead of a Snakemake start and a JAX start per job, which is what
   keeps the example within minutes).
3. **suggest** (:func:`phasetrace.adaptive.suggest`, written as ``python -m phasetrace suggest`` writes it:
   ``suggest.csv``) on the round's confusion dataset plans the next ``closed_loop.budget`` traces in blocks of
   ``closed_loop.block``; the next round measures them. After ``closed_loop.rounds`` rounds of this, the loop stops.

Beside each round: the **uniform sweep** of as many traces, spread as evenly as integers allow over
``closed_loop.uniform_points`` equally spaced W of the same range (the sweeps of the rounds nested), through the same
measured pipeline and seed; where its window points hold ``training.realizations`` or more, its networks train on
the very traces the adaptive rounds' do, and the two differ only by where their other traces are. Once: the
**exact-data reference**, the simulation pipeline's boundary for ``quasiperiodic_fixed`` (its W grid and
realizations, the config's root seed) with the exact imbalance.

Every round records whether its dataset holds exactly the values of the traces simulated in memory (``lossless``).
Outputs (DIR): ``closed_loop.csv`` (every estimate), ``closed_loop_summary.csv`` (means over replicates), and the
replicates' files.
"""

from __future__ import annotations

import csv
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

CHAIN = "quasiperiodic_fixed"  # the experiment's chain
MEASURED = "measured"  # the model that reads the experiment's files
SWEEP = {"name": "W", "units": "J"}  # how the experiment's files name the sweep
# Realizations simulated per kernel call, in blocks aligned on multiples of it: one compiled shape for every call, and
# realization r at W is simulated in the same block whichever round (or the uniform sweep) measures it
CHUNK = 8
SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["replicates", "points", "realizations", "rounds", "budget", "block", "uniform_points"],
    "properties": {
        "replicates": {"type": "integer", "minimum": 1, "maximum": 998},
        "points": {"type": "array", "minItems": 3, "items": {"type": "number", "minimum": 0}},
        "realizations": {"type": "integer", "minimum": 1},
        "rounds": {"type": "integer", "minimum": 0, "maximum": 99},
        "budget": {"type": "integer", "minimum": 1},
        "block": {"type": "integer", "minimum": 1},
        "uniform_points": {"type": "integer", "minimum": 3},
    },
}
COLUMNS = ["replicate", "design", "round", "traces", "points", "boundary", "se", "lo95", "hi95", "width95", "lossless"]
SUMMARY_COLUMNS = [
    "design",
    "round",
    "replicates",
    "traces_mean",
    "boundary_mean",
    "boundary_sd",
    "width95_mean",
    "lo95_mean",
    "hi95_mean",
    "covers_exact",
]


@dataclass(frozen=True)
class Measurement:
    """The imbalance traces ``values`` (n, T) of realizations ``first`` … ``first`` + n − 1 at ``W``, recorded at
    ``times`` (T,)."""

    W: float
    first: int
    values: np.ndarray
    times: np.ndarray


# --- the experiment ------------------------------------------------------------------------------------------------


def measure(config: dict, W: float, first: int, n: int) -> Measurement:
    """Realizations first … first + n − 1 of the chain at W as the config's measurement records them: the traces
    the simulation pipeline makes of those realizations (the same disorder and shot streams), simulated in the
    aligned blocks of :data:`CHUNK` that hold them."""
    import xarray as xr

    from .measurement import measured, observed
    from .simulation import run_sweep

    parts = []
    for a in range(first // CHUNK * CHUNK, first + n, CHUNK):
        cfg = config | {CHAIN: config[CHAIN] | {"W": [float(W)], "realizations": a + CHUNK}}
        ds = run_sweep(cfg, CHAIN, (a, a + CHUNK - 1)).isel(realization=slice(a, a + CHUNK))
        parts.append(observed(measured(cfg, CHAIN, ds)).isel(W=0))
    traces = xr.concat(parts, "realization").sel(realization=slice(first, first + n - 1)).transpose("realization", ...)
    return Measurement(float(W), first, np.asarray(traces.values, dtype=np.float64), traces["time"].values)


def write_round(path: Path, measurements: list[Measurement]) -> None:
    """One round's traces as the long-form CSV the measured model reads (W, realization, time, imbalance)."""
    import pandas as pd

    from .store import atomic_path

    rows = [
        pd.DataFrame(
            {
                SWEEP["name"]: m.W,
                "realization": np.repeat(np.arange(m.first, m.first + len(m.values)), m.times.size),
                "time": np.tile(m.times, len(m.values)),
                "imbalance": m.values.reshape(-1),
            }
        )
        for m in measurements
    ]
    with atomic_path(path) as tmp:
        pd.concat(rows).to_csv(tmp, index=False)


def held_traces(measurements: list[Measurement], points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The traces held at each of ``points`` (padded with NaN to the most, as the measured dataset holds them) and
    each point's count, in realization order."""
    per = {float(w): [] for w in points}
    for m in sorted(measurements, key=lambda m: m.first):
        per[m.W].append(m.values)
    stacked = [np.concatenate(per[float(w)]) for w in points]
    counts = np.array([len(s) for s in stacked])
    out = np.full((points.size, counts.max(), stacked[0].shape[1]), np.nan)
    for i, s in enumerate(stacked):
        out[i, : len(s)] = s
    return out, counts


def even_counts(traces: int, points: int) -> np.ndarray:
    """``traces`` spread over ``points`` as evenly as integers allow (counts differ by at most one)."""
    return np.diff(np.round(np.linspace(0, traces, points + 1)).astype(int))


# --- learning from the files ---------------------------------------------------------------------------------------


def measured_config(config: dict, seed: int, files: list[str], points: np.ndarray, least: int) -> dict:
    """The config of the measured model reading ``files`` (its windows the chain's, its sweep ``points``)."""
    from .config import validate

    w = config[CHAIN]["windows"]
    section = {
        "files": files,
        "sweep": SWEEP,
        "points": [float(v) for v in points],
        "L": config[CHAIN]["L"],
        "realizations": least,
        "time_unit": "1/J",
        "observable": config["measurement"]["observable"],
        "shots": config["measurement"]["shots"],
        "windows": {
            "low": {"name": "ergodic", "max": w["ergodic_W_max"]},
            "high": {"name": "localized", "min": w["localized_W_min"]},
        },
    }
    return validate(config | {"seed": seed, "models": [MEASURED], MEASURED: section})


def learn(config: dict, root: Path, imports: Path) -> dict:
    """The measured model's dataset, networks, confusion and boundary table under ``root`` (the workflow's layout),
    in-process through the workflow's job functions; each file's import under ``imports``, made once."""
    from .measured_data import dataset_job, import_job
    from .models import get
    from .sweep import ALL_SETS, path
    from .training import confusion_job, network_job

    m, L, kind = get(MEASURED), config[MEASURED]["L"], config["training"]["classifier"]
    stores = []
    for name, source in m.files(config[MEASURED]).items():
        store = path("import", root=str(imports), model=MEASURED, L=L, file=name)
        if not Path(store).exists():
            import_job(config, MEASURED, name, source, store)
        stores.append(store)
    at = {"root": str(root), "model": MEASURED, "L": L}
    traces, network = path("dataset", **at), path("network", **at, classifier=kind, set=ALL_SETS)
    dataset_job(config, MEASURED, stores, traces)
    network_job(config, MEASURED, kind, ALL_SETS, traces, network)
    out = {"traces": traces, "confusion": path("confusion", **at, classifier=kind)}
    confusion_job(config, MEASURED, kind, traces, [network], out["confusion"], path("boundary", **at, classifier=kind))
    return out


def estimate(found) -> list[float]:
    """[boundary, se, lo95, hi95, width95] of the first transition of a dataset with the boundaries' variables (a
    confusion dataset, or :func:`phasetrace.training.locate`'s)."""
    lo, hi = (float(v) for v in found["boundary_interval"].isel(transition=0).sel(bound=["lo95", "hi95"]).values)
    b, se = float(found["boundary"].isel(transition=0)), float(found["boundary_se"].isel(transition=0))
    return [b, se, lo, hi, hi - lo]


def plan(confusion: str, out: Path, budget: int, block: int) -> list[tuple[float, int]]:
    """``python -m phasetrace suggest``'s plan for the confusion dataset, written to ``out`` as it writes it, and
    read back as a user reads it: (W, realizations to add) rows."""
    from .adaptive import suggest, write_suggestions
    from .store import open_dataset

    write_suggestions(suggest(open_dataset(confusion), budget, block), out)
    with open(out, newline="") as f:
        return [(float(r["value"]), int(r["realizations"])) for r in csv.DictReader(f) if r["value"]]


# --- a replicate, the reference, the study -------------------------------------------------------------------------


def replicate_rows(config: dict, loop: dict, replicate: int, out: Path) -> list[list]:
    """The adaptive rounds and the uniform sweeps of one synthetic experiment (rows of :data:`COLUMNS`); a round
    after a plan with nothing left to add (suggest found no trace that helps) repeats the estimate."""
    from .seeds import replicate_seed
    from .store import open_dataset

    seed = replicate_seed(config["seed"], replicate)
    experiment, least = config | {"seed": seed}, min(loop["realizations"], loop["block"])
    here = out / f"rep{replicate:03d}"
    rows, measurements, files = [], [], []
    todo = [(float(w), loop["realizations"]) for w in loop["points"]]
    for k in range(loop["rounds"] + 1):
        if k and not todo:
            rows.append([*rows[-1][:2], k, *rows[-1][3:]])
            continue
        held = {}
        for m in measurements:
            held[m.W] = held.get(m.W, 0) + len(m.values)
        new = [measure(experiment, w, held.get(w, 0), n) for w, n in todo]
        measurements += new
        files.append((here / "adaptive" / "data" / f"round{k}.csv").as_posix())
        write_round(Path(files[-1]), new)
        points = np.array(sorted({m.W for m in measurements}))
        cfg = measured_config(config, seed, files, points, least)
        found = learn(cfg, here / "adaptive" / f"round{k}", here / "adaptive")
        values, counts = held_traces(measurements, points)
        ds = open_dataset(found["traces"])
        same = np.array_equal(ds["imbalance"].values, values, equal_nan=True)
        same &= np.array_equal(ds["realizations"].values, counts)
        conf = open_dataset(found["confusion"])
        rows.append([replicate, "adaptive", k, int(counts.sum()), points.size, *estimate(conf), bool(same)])
        if k < loop["rounds"]:
            todo = plan(
                found["confusion"], here / "adaptive" / f"round{k}" / "suggest.csv", loop["budget"], loop["block"]
            )
    return rows + uniform_rows(config, loop, replicate, [r[3] for r in rows], here / "uniform")


def uniform_rows(config: dict, loop: dict, replicate: int, totals: list[int], here: Path) -> list[list]:
    """The uniform sweeps of one synthetic experiment: for each round's total traces, as many spread evenly over
    ``uniform_points`` equally spaced W of the coarse sweep's range (realizations 0 … n − 1 at each W: the sweeps are
    nested), through the same measured pipeline (rows of :data:`COLUMNS`, design ``uniform``)."""
    from .seeds import replicate_seed
    from .store import open_dataset

    seed = replicate_seed(config["seed"], replicate)
    grid = np.linspace(min(loop["points"]), max(loop["points"]), loop["uniform_points"])
    spread = [even_counts(total, grid.size) for total in totals]
    most = [measure(config | {"seed": seed}, w, 0, int(n)) for w, n in zip(grid, np.max(spread, axis=0), strict=True)]
    rows = []
    for k, (total, counts) in enumerate(zip(totals, spread, strict=True)):
        sweep = [Measurement(m.W, 0, m.values[:n], m.times) for m, n in zip(most, counts, strict=True)]
        source = (here / "data" / f"uniform{k}.csv").as_posix()
        write_round(Path(source), sweep)
        found = learn(measured_config(config, seed, [source], grid, int(counts.min())), here / f"round{k}", here)
        same = np.array_equal(open_dataset(found["traces"])["imbalance"].values, held_traces(sweep, grid)[0])
        conf = open_dataset(found["confusion"])
        rows.append([replicate, "uniform", k, total, grid.size, *estimate(conf), bool(same)])
    return rows


def reference_row(config: dict) -> list:
    """The exact-data reference: the simulation pipeline for the chain's section with the exact imbalance."""
    from .config import validate
    from .measurement import measured
    from .simulation import run_sweep
    from .training import locate

    exact = validate(config | {"models": [CHAIN], "measurement": config["measurement"] | {"shots": None}})
    ds = measured(exact, CHAIN, run_sweep(exact, CHAIN))
    W, R = ds.sizes["W"], ds.sizes["realization"]
    return ["", "exact", "", W * R, W, *estimate(locate(exact, CHAIN, ds, {})), ""]


def summarize(rows: list[list], exact: float) -> list[list]:
    """Per design and round, over replicates: mean traces, mean and SD of the boundary, mean 95% width and ends,
    and how many replicates' 95% intervals hold the exact-data boundary (rows of :data:`SUMMARY_COLUMNS`)."""
    out = []
    keys = sorted({(r[1], r[2]) for r in rows if r[1] != "exact"}, key=lambda d: (d[0] != "adaptive", d[1]))
    for design, k in keys:
        mine = np.array([[r[3], r[5], r[7], r[8], r[9]] for r in rows if (r[1], r[2]) == (design, k)], dtype=float)
        covers = int(np.sum((mine[:, 2] <= exact) & (exact <= mine[:, 3])))
        sd = float(np.std(mine[:, 1], ddof=1)) if len(mine) > 1 else float("nan")
        means = mine.mean(axis=0)
        out.append(
            [design, k, len(mine), means[0], means[1], sd, means[4], means[2], means[3], f"{covers}/{len(mine)}"]
        )
    return out


def run(config: dict, loop: dict, out: Path) -> tuple[list[list], list[list], float]:
    """Every replicate, the reference, the tables in ``out``; returns (rows, summary, seconds)."""
    from .store import write_csv

    start = time.monotonic()
    rows = [reference_row(config)]
    for i in range(loop["replicates"]):
        rows += replicate_rows(config, loop, i, out)
    summary = summarize(rows, rows[0][5])
    fmt = lambda v: f"{v:.6g}" if isinstance(v, float) else str(v)  # noqa: E731
    write_csv(out / "closed_loop.csv", COLUMNS, [[fmt(v) for v in r] for r in rows])
    write_csv(out / "closed_loop_summary.csv", SUMMARY_COLUMNS, [[fmt(v) for v in r] for r in summary])
    return rows, summary, time.monotonic() - start


def load(path: str | Path) -> tuple[dict, dict]:
    """(config, closed_loop section) of a closed-loop config file: its keys over the default config's, validated
    (the section by :data:`SCHEMA`, the rest as every config; the measured model's config of each round again)."""
    from snakemake.utils import update_config

    from .config import DEFAULT_CONFIG, _describe, _Validator, read_yaml, validate

    given = read_yaml(path)
    if not isinstance(given, dict) or "closed_loop" not in given:
        raise ValueError(f"{path}: a closed-loop config needs a closed_loop section (config/closed-loop.yaml)")
    loop = given.pop("closed_loop")
    errors = list(_Validator({"properties": {"closed_loop": SCHEMA}}).iter_errors({"closed_loop": loop}))
    if errors:
        raise ValueError(f"invalid config: {_describe(max(errors, key=lambda e: len(e.absolute_path)))}")
    config = read_yaml(DEFAULT_CONFIG)
    update_config(config, given)
    config = validate(config | {"models": [CHAIN]})  # the experiment simulates the chain alone
    check(config, loop)
    return config, loop


def check(config: dict, loop: dict) -> None:
    """What the schema cannot say: the experiment records the imbalance, its points increase and hold both
    windows, and suggest's block fits its budget."""
    from .models import get

    if config["measurement"]["observable"] != "imbalance":
        raise ValueError(
            f"invalid config: measurement.observable = {config['measurement']['observable']!r} is not allowed: the "
            "closed loop's experiment records the imbalance"
        )
    points = np.asarray(loop["points"], dtype=float)
    if np.any(np.diff(points) <= 0):
        raise ValueError(f"invalid config: closed_loop.points = {loop['points']} is not allowed: strictly increasing")
    for window in get(CHAIN).windows(config[CHAIN]):
        if not np.any((points >= window.low) & (points <= window.high)):
            raise ValueError(
                f"invalid config: closed_loop.points = {loop['points']} is not allowed: no point lies in the "
                f"{window.name} window [{window.low}, {window.high}] of {CHAIN}.windows"
            )
    if loop["block"] > loop["budget"]:
        raise ValueError(
            f"invalid config: closed_loop.block = {loop['block']} is not allowed: at most closed_loop.budget = "
            f"{loop['budget']}"
        )
