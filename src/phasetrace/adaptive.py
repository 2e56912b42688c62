"""Where to simulate or measure next: the sweep points, new or existing, and the realizations at each, that narrow a
boundary's interval most per trace (the paper's closing proposal: "measurements performed on the experiment are
chosen to improve the phase boundary").

The boundary is the crossing x* of a logistic fitted to the realization-averaged share q̄ᵢ = p̄_b/(p̄_a + p̄_b) at the
sweep points xᵢ between the training windows (:func:`phasetrace.boundaries.fitted_crossing`). To first order its
variance from the disorder average is

    Var(x*) ≈ Σᵢ gᵢ² sᵢ² / Rᵢ,   gᵢ = ∂x*/∂q̄ᵢ,

with sᵢ² the variance of a single realization's share at xᵢ and Rᵢ its realizations. gᵢ is computed by
differentiating the fit itself (central differences), so it is large only near the crossing, where the fit is
sensitive to q̄ᵢ, and it accounts for the points' weights p̄_a + p̄_b. The chooser (:func:`plan`) is greedy: it adds
``block`` realizations at a time where the predicted variance falls most per trace, among the existing points and
candidate new points (midpoints between neighbouring points inside the current 95% interval, whose q̄ and s² are
taken from the fitted curve and the neighbours); each choice updates the design before the next. It spends the
budget of traces, or stops early where the predicted 95% half-width reaches ``target``.

The chooser ranks by a first-order prediction; the interval the workflow reports is the calibrated one
(:mod:`phasetrace.boundaries`), which a new round's data re-estimates.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import xarray as xr

STEP = 1e-3  # the central-difference step in q̄ of the influence gᵢ


@dataclass
class Design:
    """The points of one labeled sweep between two windows: values ``x``, realization counts ``R``, the
    realization-averaged share ``q``, its per-realization variance ``s2`` and the weight ``total`` = p̄_a + p̄_b."""

    x: np.ndarray
    R: np.ndarray
    q: np.ndarray
    s2: np.ndarray
    total: np.ndarray

    def crossing(self, lo: float, hi: float, q: np.ndarray | None = None) -> float:
        from .boundaries import fitted_crossing  # scipy: not at the workflow's parse time (phasetrace.pipeline)

        q = self.q if q is None else q
        return fitted_crossing(self.x, (1 - q) * self.total, q * self.total, lo, hi, counts=self.R)

    def influence(self, lo: float, hi: float) -> np.ndarray:
        """gᵢ = ∂x*/∂q̄ᵢ of every point (0 outside [lo, hi])."""
        g = np.zeros(self.x.size)
        for i in range(self.x.size):
            up, down = self.q.copy(), self.q.copy()
            up[i], down[i] = min(self.q[i] + STEP, 1.0), max(self.q[i] - STEP, 0.0)
            if up[i] > down[i]:
                g[i] = (self.crossing(lo, hi, up) - self.crossing(lo, hi, down)) / (up[i] - down[i])
        return g

    def variance(self, lo: float, hi: float) -> float:
        """The predicted Var(x*) from the disorder average."""
        g = self.influence(lo, hi)
        return float(np.sum(g**2 * self.s2 / np.maximum(self.R, 1)))

    def with_point(self, x: float, q: float, s2: float, total: float, R: int) -> Design:
        order = np.argsort(np.append(self.x, x), kind="stable")
        pick = lambda a, v: np.append(a, v)[order]  # noqa: E731
        return Design(pick(self.x, x), pick(self.R, R), pick(self.q, q), pick(self.s2, s2), pick(self.total, total))

    def with_more(self, i: int, r: int) -> Design:
        R = self.R.copy()
        R[i] += r
        return Design(self.x, R, self.q, self.s2, self.total)


def design(x: np.ndarray, pa: np.ndarray, pb: np.ndarray) -> Design:
    """The design of a sweep from per-realization probabilities pa, pb (points, realizations), NaN where a point
    has fewer realizations than the most."""
    pa, pb = np.asarray(pa, dtype=np.float64), np.asarray(pb, dtype=np.float64)
    total = pa + pb
    share = pb / np.maximum(total, 1e-12)
    R = np.sum(np.isfinite(share), axis=1)
    q = np.nanmean(share, axis=1)
    s2 = np.nanvar(share, axis=1, ddof=1) if share.shape[1] > 1 else np.zeros(len(x))
    return Design(np.asarray(x, dtype=np.float64), R, q, np.nan_to_num(s2), np.nanmean(total, axis=1))


def _candidates(d: Design, within: tuple[float, float]) -> list[tuple[float, float, float]]:
    """New points: the midpoints between neighbouring points that lie in ``within`` (the current interval), with q
    and s² the neighbours' means; the cell holding the interval if no midpoint does."""
    mids = 0.5 * (d.x[1:] + d.x[:-1])
    cells = [i for i, m in enumerate(mids) if within[0] <= m <= within[1]]
    if not cells:
        cells = [i for i in range(mids.size) if d.x[i] <= within[1] and d.x[i + 1] >= within[0]][:1]
    return [(float(mids[i]), 0.5 * (d.q[i] + d.q[i + 1]), 0.5 * (d.s2[i] + d.s2[i + 1])) for i in cells]


def plan(
    d: Design,
    lo: float,
    hi: float,
    budget: int,
    block: int,
    target: float | None = None,
    within: tuple[float, float] | None = None,
) -> list[dict]:
    """The next realizations to simulate or measure: rows {value, realizations, new, influence} (``realizations``
    to add at ``value``; ``new``: a sweep point not yet measured), greedy by the predicted variance drop per trace,
    in blocks of ``block``, within ``budget`` traces or until the predicted 95% half-width is ``target``; new points
    are proposed inside ``within`` (the boundary's current 95% interval; default: the whole search range [lo, hi]),
    and then between the points they make. The last row: {predicted_half95, traces}."""
    within = (lo, hi) if within is None else (max(lo, within[0]), min(hi, within[1]))
    if budget < block or block < 1:
        raise ValueError(f"budget = {budget} must hold at least one block of {block} realizations (block >= 1)")
    added: dict[float, list] = {}
    spent, var = 0, d.variance(lo, hi)
    while spent + block <= budget:
        if target is not None and 1.96 * np.sqrt(var) <= target:
            break
        options = [(d.with_more(i, block), float(d.x[i]), False) for i in range(d.x.size) if lo <= d.x[i] <= hi]
        total = float(np.mean(d.total))
        for x, q, s2 in _candidates(d, within):
            options.append((d.with_point(x, q, s2, total, block), x, True))
        scored = [(o.variance(lo, hi), o, x, new) for o, x, new in options]
        best_var, best, x, new = min(scored, key=lambda t: t[0])
        if best_var >= var:  # nothing left that helps
            break
        row = added.setdefault(x, [0, new])
        row[0] += block
        d, var, spent = best, best_var, spent + block
    g = dict(zip(d.x.tolist(), d.influence(lo, hi).tolist(), strict=True))
    return [{"value": x, "realizations": r, "new": new, "influence": g[x]} for x, (r, new) in sorted(added.items())] + [
        {"predicted_half95": float(1.96 * np.sqrt(var)), "traces": spent}
    ]


def suggest(confusion: xr.Dataset, budget: int, block: int, target: float | None = None) -> list[dict]:
    """The plan of every training set and transition of a workflow confusion dataset (``p`` (member, [set
    dimension,] labeled dimension, realization, class), its model's windows in its ``settings``): one row per
    sweep value to add realizations at, and per (set, transition) a summary row with the predicted 95% half-width
    after the plan and the reported one before it."""
    from .boundaries import gap
    from .models import get
    from .sweep import labels

    m = get(confusion.attrs["model"])
    windows = m.windows(json.loads(confusion.attrs["settings"])[m.name])
    lab, sd = confusion.attrs["label_dim"], list(confusion.attrs.get("set_dims", []))
    x = confusion[lab].values
    classes = [str(c) for c in confusion["class"].values]
    set_labels = labels(x, windows)
    p = confusion["p"].mean("member")  # the reported value's average over members
    rows = []
    for point in [{}] if not sd else [{sd[0]: float(v)} for v in confusion[sd[0]].values]:
        for t, name in enumerate(str(n) for n in confusion["transition"].values):
            a, b = (classes.index(c) for c in name.split("|"))
            lo, hi = gap(x, set_labels, a, b)
            pp = p.sel(point).transpose(lab, "realization", "class").values
            d = design(x, pp[..., a], pp[..., b])
            here = {**point, "transition": name}
            iv = confusion["boundary_interval"].sel(point).isel(transition=t).values
            out = plan(d, lo, hi, budget, block, target, within=(iv[0], iv[-1]))
            rows += [here | r for r in out[:-1]]
            rows.append(
                here
                | {"value": None, "realizations": out[-1]["traces"], "new": None, "influence": None}
                | {"predicted_half95": out[-1]["predicted_half95"], "reported_half95": (iv[-1] - iv[0]) / 2}
            )
    return rows


def write_suggestions(rows: list[dict], out) -> None:
    """The rows of :func:`suggest` as the CSV ``python -m phasetrace suggest`` writes (atomically): a column per key,
    numbers to 6 significant digits, empty where a row has no value."""
    from .store import write_csv

    header = list(dict.fromkeys(k for r in rows for k in r))
    fmt = lambda v: "" if v is None else f"{v:.6g}" if isinstance(v, float) else str(v)  # noqa: E731
    write_csv(out, header, [[fmt(r.get(k)) for k in header] for r in rows])


# --- the adaptive sweep: rounds of simulate → predict → estimate → plan --------------------------------------------
#
# One training set of one model (config section ``adaptive``): the training windows' grid points with the model's
# realizations (the networks are trained on them once, in round 0), ``start_points`` interior points evenly spaced
# between the windows with ``start_realizations`` each, then up to ``rounds`` rounds of ``per_round`` traces placed
# by :func:`plan` inside the current 95% interval, until its half-width reaches ``target``. Every trace is the one
# the main sweep would simulate at that point and realization index (its own seeded stream), so a point of the main
# grid holds the same realizations in both. A replicate is the whole sweep with its own root seed
# (:func:`phasetrace.seeds.replicate_seed`); beside it, the same networks' boundary from the uniform grid of the
# model's section at ``uniform_realizations`` (the traces a fixed grid spends). For coverage, ``reference_replicates``
# independent reference runs (replicates 999, 998, ...: their own disorder, training data and networks) estimate the
# boundary on the uniform grid at ``reference_realizations``; the reference is their mean. One run would not do: its
# networks' training draw moves its boundary as much as a replicate's (the estimand is the boundary of networks
# trained on ``training.realizations`` per window point, averaged over that draw), so all replicates would be judged
# against one noisy value.

LAST = 999  # the highest replicate index: the reference runs count down from it, the replicates up from 0


def reference_replicates(study: dict) -> list[int]:
    """The replicate indices of the reference runs: 999, 998, ... (``reference_replicates`` of them)."""
    return [LAST - i for i in range(study["reference_replicates"])]


UNIFORM_CONTEXT = 1000  # the uniform grid's resamples: context 1000 + R (rounds are below 100)
ROUND_COLUMNS = ["replicate", "round", "traces", "boundary", "se", "dof", "lo95", "lo68", "hi68", "hi95", "stopped"]
PLAN_COLUMNS = ["replicate", "round", "value", "realizations", "new", "influence"]


@dataclass(frozen=True)
class Sweep:
    """The adaptive sweep of one replicate: its config (root seed, the model at the study's L with one training
    set), the model, the set point, the windows' grid points and labels, and the search range [lo, hi]."""

    config: dict
    model: str
    point: dict
    windows: np.ndarray
    window_labels: np.ndarray
    lo: float
    hi: float
    transition: tuple[int, int, str]


def sweep_of(config: dict, replicate: int) -> Sweep:
    from .boundaries import gap
    from .models import get
    from .seeds import replicate_seed
    from .sweep import grid, labels

    study = config["adaptive"]
    m = get(study["model"])
    section = config[m.name] | {"L": study["L"]}
    point = {m.set_dims[0]: float(study["eps"])} if m.set_dims else {}
    section |= {d: [v] for d, v in point.items()}
    values = grid(section[m.label_dim])
    lab = labels(values, m.windows(section))
    names = [w.name for w in m.windows(section)]
    a, b = (names.index(n) for n in study["transition"].split("|")) if study.get("transition") else (0, 1)
    lo, hi = gap(values, lab, a, b)
    inside = lab >= 0
    cfg = config | {"seed": replicate_seed(config["seed"], replicate), m.name: section}
    return Sweep(cfg, m.name, point, values[inside], lab[inside], lo, hi, (a, b, f"{names[a]}|{names[b]}"))


def simulate_block(config: dict, model: str, point: dict, value: float, block: tuple[int, int]) -> np.ndarray:
    """The observed traces (n, T, F) of realizations block[0] … block[1] at ``value`` of the labeled dimension, as
    the measurement records them; every stage of the model run in-process."""
    from .measurement import features, measured, observed
    from .models import get
    from .simulation import run_sweep

    m = get(model)
    a, b = block
    section = config[model] | {m.label_dim: [float(value)], "realizations": b + 1}
    cfg = config | {model: section}
    ds = measured(cfg, model, run_sweep(cfg, model, block).isel(realization=slice(a, b + 1)))
    obs = observed(ds.isel({d: 0 for d in (*point, m.label_dim)}))
    return np.asarray(features(obs.transpose("realization", m.time_dim, ...)), dtype=np.float32)


def _points(values: np.ndarray, realizations: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """The sweep values and, per value, the predictions (k, R_i, classes) of its traces in realization order."""
    xs = np.unique(values)
    return xs, [p[:, values == v][:, np.argsort(realizations[values == v], kind="stable")] for v in xs]


def averaging(seed: int, model: str, round_: int, counts: np.ndarray, groups: int) -> list[list[np.ndarray]]:
    """Each member group's resample of the realizations at every point (stream ``adaptive``)."""
    from .seeds import model_id, stream_rng

    rng = stream_rng(seed, "adaptive", model_id(model), round_)
    return [[rng.integers(0, n, size=n) for n in counts] for _ in range(groups)]


def round_job(config: dict, replicate: int, round_: int, previous: list[str], output: str) -> None:
    """Round ``round_`` of replicate ``replicate``: simulate what the previous round planned (round 0: the windows
    and the start grid, and train the networks), predict, estimate the boundary with its interval, plan the next
    round. ``previous``: the stores of rounds 0 … round_ − 1; ``output``: this round's store (zarr.zip)."""
    from . import __version__
    from .boundaries import estimate_ragged
    from .classifiers import flat_params, predict_members, unflat_params
    from .models import get
    from .runner import configure
    from .seeds import model_id
    from .store import read_arrays, write_arrays
    from .training import fit_set, hyper

    configure()
    sw = sweep_of(config, replicate)
    cfg, study, t = sw.config, config["adaptive"], config["training"]
    m = get(sw.model)
    classes = [w.name for w in m.windows(cfg[sw.model])]
    hp = hyper(cfg, len(classes))
    stores = [read_arrays(p) for p in previous]
    if round_ == 0:
        R = cfg[sw.model]["realizations"]
        todo = [(float(v), R) for v in sw.windows]
        todo += [
            (float(v), study["start_realizations"]) for v in np.linspace(sw.lo, sw.hi, study["start_points"] + 2)[1:-1]
        ]
        stopped = False
    else:
        last = stores[-1][1]
        todo, stopped = [(float(v), int(n)) for v, n in last["plan"]], bool(last["stopped"])
    held = {}
    for arrays, _ in stores:
        for v in np.unique(arrays["value"]):
            held[float(v)] = held.get(float(v), 0) + int(np.sum(arrays["value"] == v))
    xs, values, reals = [], [], []
    for v, n in todo:
        a = held.get(v, 0)
        xs.append(simulate_block(cfg, sw.model, sw.point, v, (a, a + n - 1)))
        values.append(np.full(n, v))
        reals.append(np.arange(a, a + n))
    x = np.concatenate(xs) if xs else np.empty((0, 1, 1), np.float32)
    values = np.concatenate(values) if values else np.empty(0)
    reals = np.concatenate(reals) if reals else np.empty(0, int)
    if round_ == 0:  # train once on the windows (ordered point, realization: every window point has R)
        labels = np.concatenate([np.full(R, c) for c in sw.window_labels]).astype(int)
        n_win = labels.size
        fit = fit_set(
            x[:n_win], labels, hp, t["members"], cfg["seed"], t["holdout"], model_id(sw.model),
            shape=(sw.windows.size, R), resamples=t["resamples"], pool=t["realizations"],
        )  # fmt: skip
        params = fit["params"]
        net = {f"params.{k}": v for k, v in flat_params(params, hp).items()}
    else:
        net = {k: v for k, v in stores[0][0].items() if k.startswith("params.")}
        n_features = stores[0][1]["n_features"]
        params = unflat_params({k[7:]: v for k, v in net.items()}, stores[0][0]["times"].size, n_features, hp)
    p = predict_members(params, x, hp) if x.shape[0] else np.empty((t["members"], 0, len(classes)))
    all_values = np.concatenate([s[0]["value"] for s in stores] + [values])
    all_reals = np.concatenate([s[0]["realization"] for s in stores] + [reals])
    all_p = np.concatenate([s[0]["p"] for s in stores] + [p], axis=1)
    points, per_point = _points(all_values, all_reals, all_p)
    a, b, _ = sw.transition
    counts = np.array([q.shape[1] for q in per_point])
    # the resamples of the round that last added traces: a round after the stop repeats its estimate exactly
    since = max([s[1]["round"] for s in stores if s[0]["value"].size] + [round_] * bool(values.size))
    found = estimate_ragged(
        points, per_point, a, b, sw.lo, sw.hi, averaging(cfg["seed"], sw.model, since, counts, t["resamples"])
    )
    traces = int(all_values.size)
    half = (found.interval[-1] - found.interval[0]) / 2
    budget_left = study["rounds"] - 1 - round_
    stop = stopped or budget_left <= 0 or (study["target"] is not None and half <= study["target"])
    rows = []
    if not stop:
        pa, pb = (
            _padded([q[..., a].mean(axis=0) for q in per_point]),
            _padded([q[..., b].mean(axis=0) for q in per_point]),
        )
        rows = plan(design(points, pa, pb), sw.lo, sw.hi, study["per_round"], study["block"], study["target"],
                    within=(found.interval[0], found.interval[-1]))[:-1]  # fmt: skip
    arrays = {"value": values, "realization": reals, "p": p} | (
        {"times": np.asarray(m.times(cfg[sw.model]), dtype=np.float64), **net} if round_ == 0 else {}
    )
    attrs = {
        "replicate": replicate, "round": round_, "seed": cfg["seed"], "version": __version__,
        "traces": traces, "boundary": found.value, "se": found.se, "dof": found.dof,
        "interval": [float(v) for v in found.interval], "stopped": bool(stop),
        "plan": [[r["value"], r["realizations"]] for r in rows],
        "planned": [[r["value"], r["realizations"], bool(r["new"]), r["influence"]] for r in rows],
        "transition": sw.transition[2], "search": [sw.lo, sw.hi],
        "n_features": int(x.shape[-1]) if round_ == 0 else stores[0][1]["n_features"],
    }  # fmt: skip
    write_arrays(output, arrays, attrs)


def _padded(rows: list[np.ndarray]) -> np.ndarray:
    out = np.full((len(rows), max(r.size for r in rows)), np.nan)
    for i, r in enumerate(rows):
        out[i, : r.size] = r
    return out


def uniform_job(config: dict, replicate: int, realizations: list[int], round0: str, output: str) -> None:
    """The same networks' boundary from the uniform grid: every point of the model's labeled grid strictly inside
    the search range with the first R of each R in ``realizations``, the windows as in round 0. Rows of
    :data:`ROUND_COLUMNS` with ``round`` = −R."""
    from .boundaries import estimate_ragged
    from .classifiers import predict_members, unflat_params
    from .models import get
    from .runner import configure
    from .store import read_arrays, write_csv
    from .sweep import grid
    from .training import hyper

    configure()
    sw = sweep_of(config, replicate)
    cfg, t = sw.config, config["training"]
    m = get(sw.model)
    arrays, _ = read_arrays(round0)
    hp = hyper(cfg, len(m.windows(cfg[sw.model])))
    params = {k[7:]: v for k, v in arrays.items() if k.startswith("params.")}
    windows = np.isin(arrays["value"], sw.windows)
    values = grid(cfg[sw.model][m.label_dim])
    interior = values[(values > sw.lo) & (values < sw.hi)]
    top = max(realizations)
    x = np.concatenate([simulate_block(cfg, sw.model, sw.point, float(v), (0, top - 1)) for v in interior])
    params = unflat_params(params, arrays["times"].size, x.shape[-1], hp)
    p_int = predict_members(params, x, hp)
    a, b, _ = sw.transition
    rows = []
    for R in sorted(realizations):
        keep = np.tile(np.arange(top) < R, interior.size)
        vals = np.concatenate([arrays["value"][windows], np.repeat(interior, top)[keep]])
        reals = np.concatenate([arrays["realization"][windows], np.tile(np.arange(top), interior.size)[keep]])
        p = np.concatenate([arrays["p"][:, windows], p_int[:, keep]], axis=1)
        points, per_point = _points(vals, reals, p)
        counts = np.array([q.shape[1] for q in per_point])
        found = estimate_ragged(
            points,
            per_point,
            a,
            b,
            sw.lo,
            sw.hi,
            averaging(cfg["seed"], sw.model, UNIFORM_CONTEXT + R, counts, t["resamples"]),
        )
        rows.append([replicate, -R, vals.size, *(f"{v:.6g}" for v in (found.value, found.se, found.dof))]
                    + [f"{v:.6g}" for v in found.interval] + [False])  # fmt: skip
    write_csv(output, ROUND_COLUMNS, rows)


def round_rows(stores: list[tuple[dict, dict]]) -> tuple[list[list], list[list]]:
    """The rows (:data:`ROUND_COLUMNS`, :data:`PLAN_COLUMNS`) of one replicate's round stores."""
    rows, plans = [], []
    for _, a in stores:
        rows.append([a["replicate"], a["round"], a["traces"], *(f"{a[k]:.6g}" for k in ("boundary", "se", "dof"))]
                    + [f"{v:.6g}" for v in a["interval"]] + [a["stopped"]])  # fmt: skip
        plans += [[a["replicate"], a["round"], f"{v:.6g}", n, new, f"{g:.6g}"] for v, n, new, g in a["planned"]]
    return rows, plans


SUMMARY_COLUMNS = [
    "design", "traces_mean", "width95_mean", "se_mean", "boundary_mean", "boundary_sd", "sd_z", "covers_reference",
    "covers_reference68", "replicates",
]  # fmt: skip


def reference_value(rows: list[dict]) -> tuple[float, float]:
    """The reference boundary: the mean of the reference runs' boundaries, and its standard error (their SD/√n;
    0 for one run)."""
    x = np.array([float(r["boundary"]) for r in rows])
    return float(x.mean()), float(x.std(ddof=1) / np.sqrt(x.size)) if x.size > 1 else 0.0


def _holding(rows: list[dict], value: float, lo: str, hi: str) -> float:
    """The share of rows whose interval [lo, hi] holds ``value``."""
    return float(np.mean([float(r[lo]) <= value <= float(r[hi]) for r in rows]))


def summarize(rows: list[dict], reference: float, uniform_R: int) -> list[dict]:
    """Per design (adaptive round r, uniform R) over replicates: mean traces, mean 95% width, mean standard error,
    mean boundary and its SD between replicates, SD(z) of the standardized deviations (x*ᵢ − mean)/SEᵢ·√(n/(n − 1))
    (1 for calibrated intervals, as in :mod:`phasetrace.replicates`), the share of replicates whose 95% (68%)
    interval holds the reference boundary; and the bar's figure: the traces the adaptive sweep spends to reach the
    95% width of the uniform grid at ``uniform_R`` (per replicate, its first round at or below that width), as a
    share of that grid's traces."""
    from .boundaries import standardized_sd

    out = []
    designs = sorted({int(r["round"]) for r in rows}, key=lambda d: (d < 0, abs(d)))
    for d in designs:
        mine = [r for r in rows if int(r["round"]) == d]
        x, se = (np.array([float(r[c]) for r in mine]) for c in ("boundary", "se"))
        n = x.size
        width = np.array([float(r["hi95"]) - float(r["lo95"]) for r in mine])
        out.append({
            "design": f"adaptive round {d}" if d >= 0 else f"uniform R={-d}",
            "traces_mean": np.mean([int(r["traces"]) for r in mine]), "width95_mean": width.mean(),
            "se_mean": se.mean(), "boundary_mean": x.mean(), "boundary_sd": x.std(ddof=1) if n > 1 else np.nan,
            "sd_z": standardized_sd(x, se),
            "covers_reference": _holding(mine, reference, "lo95", "hi95"),
            "covers_reference68": _holding(mine, reference, "lo68", "hi68"), "replicates": n,
        })  # fmt: skip
    shares = []
    for rep in sorted({int(r["replicate"]) for r in rows}):
        uni = [r for r in rows if int(r["replicate"]) == rep and int(r["round"]) == -uniform_R]
        ada = sorted(
            (r for r in rows if int(r["replicate"]) == rep and int(r["round"]) >= 0), key=lambda r: int(r["round"])
        )
        if not uni or not ada:
            continue
        goal = float(uni[0]["hi95"]) - float(uni[0]["lo95"])
        reached = [int(r["traces"]) for r in ada if float(r["hi95"]) - float(r["lo95"]) <= goal]
        shares.append(reached[0] / int(uni[0]["traces"]) if reached else np.nan)
    out.append({c: np.nan for c in SUMMARY_COLUMNS} | {
        "design": f"adaptive traces to reach uniform R={uniform_R} (share)",
        "traces_mean": np.nanmean(shares) if np.isfinite(shares).any() else np.nan, "boundary_mean": reference,
        "replicates": int(np.isfinite(shares).sum()),
    })  # fmt: skip
    return out


def summary_job(
    config: dict, rounds: list[str], uniform: list[str], reference: list[str], table: str, figure: str
) -> None:
    """results/checks/adaptive.csv (every round and uniform estimate of every replicate and reference run),
    results/checks/adaptive_summary.csv (per design, then the reference and the traces-to-width share),
    results/checks/adaptive_plan.csv (every decision) and results/figures/adaptive.png."""
    import csv

    from .store import atomic_path, read_arrays, write_csv

    stores = [read_arrays(p) for p in rounds]
    rows, plans = round_rows(stores)
    for path in uniform:
        with open(path) as f:
            rows += [list(r.values()) for r in csv.DictReader(f)]
    refs = []
    for path in reference:
        with open(path) as f:
            refs += list(csv.DictReader(f))
    ref, ref_se = reference_value(refs)
    dicts = [dict(zip(ROUND_COLUMNS, map(str, r), strict=True)) for r in rows]
    study = config["adaptive"]
    summary = summarize(dicts, ref, config[study["model"]]["realizations"])
    summary.insert(-1, {c: np.nan for c in SUMMARY_COLUMNS} | {
        "design": f"reference: uniform R={study['reference_realizations']} (mean of {len(refs)} runs)",
        "traces_mean": np.mean([int(r["traces"]) for r in refs]), "se_mean": ref_se, "boundary_mean": ref,
        "boundary_sd": np.std([float(r["boundary"]) for r in refs], ddof=1) if len(refs) > 1 else np.nan,
        "replicates": len(refs),
    })  # fmt: skip
    rows += [list(r.values()) for r in refs]
    fmt = lambda v: f"{v:.6g}" if isinstance(v, float) else str(v)  # noqa: E731
    write_csv(table, ROUND_COLUMNS, rows)
    write_csv(
        table.replace(".csv", "_summary.csv"), SUMMARY_COLUMNS, [[fmt(s[c]) for c in SUMMARY_COLUMNS] for s in summary]
    )
    write_csv(table.replace(".csv", "_plan.csv"), PLAN_COLUMNS, plans)

    fig = plot_adaptive(config, dicts, stores, ref, ref_se)
    with atomic_path(figure) as tmp:
        fig.savefig(tmp, dpi=120, format="png")


def plot_adaptive(config: dict, dicts: list[dict], stores: list[tuple[dict, dict]], ref: float, ref_se: float):
    """The 95% width against the traces of every replicate (adaptive rounds and the uniform grid), and where the
    first replicate's traces went round by round, with the reference boundary ± its standard error."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 4), layout="constrained")
    ax, ax2 = fig.subplots(1, 2)
    width = lambda rows: [float(r["hi95"]) - float(r["lo95"]) for r in rows]  # noqa: E731
    for sign, color, label in ((1, "tab:blue", "adaptive"), (-1, "tab:orange", "uniform")):
        ours = [r for r in dicts if (int(r["round"]) >= 0) == (sign > 0)]
        for rep in sorted({r["replicate"] for r in ours}):
            mine = sorted((r for r in ours if r["replicate"] == rep), key=lambda r: int(r["traces"]))
            ax.plot([int(r["traces"]) for r in mine], width(mine), "-", color=color, lw=0.7, alpha=0.35)
        designs = sorted({int(r["round"]) for r in ours}, key=abs)
        per = [[r for r in ours if int(r["round"]) == d] for d in designs]
        ax.plot([np.mean([int(r["traces"]) for r in p]) for p in per], [np.mean(width(p)) for p in per], "o-",
                color=color, lw=2.2, label=f"{label}: mean over replicates (thin: each)")  # fmt: skip
    ax.set_xlabel("traces simulated")
    ax.set_ylabel("95% interval width")
    ax.set_title(
        f"{config['adaptive']['model']}: adaptive vs uniform ({len(set(r['replicate'] for r in dicts))} replicates)"
    )
    ax.legend(fontsize=8)
    first = [s for s in stores if s[1]["replicate"] == stores[0][1]["replicate"]]
    for arrays, a in first:
        v = arrays["value"]
        if v.size:
            xs, n = np.unique(v, return_counts=True)
            ax2.bar(xs, n, width=0.03 * (a["search"][1] - a["search"][0]), alpha=0.6, label=f"round {a['round']}")
    ax2.axvline(ref, color="k", lw=0.8, label="reference boundary (± SE)")
    ax2.axvspan(ref - ref_se, ref + ref_se, color="k", alpha=0.1)
    ax2.set_xlim(*first[0][1]["search"])
    ax2.set_xlabel(config["adaptive"].get("label", "sweep value"))
    ax2.set_ylabel("traces added")
    ax2.set_title("where replicate 0's traces went")
    ax2.legend(fontsize=7, ncol=2)
    return fig
