"""The paper's own checks, as workflow outputs (each a table and a figure):

- ``units``: confusion vs W at one ε for LSTMs of N units (the paper's Fig. 2, left);
- ``blanking``: the MBL boundary per ε when the training windows are shrunk or enlarged;
- ``calibration``: held-out accuracy per bin of confidence max(p) (is the network's confidence meaningful?);
- ``unseen_phase``: Floquet networks trained on two of the three phases, evaluated over the whole sweep: the phase
  they never saw should come out confused;
- ``single_neuron``: the paper's supplement: one LSTM unit trained on one spin's exact trace ⟨σᶻ₀⟩(t), its gates,
  cell and hidden states over time, and the threshold on a simple quantity of the input that its decisions follow.

Each check is ``compute_<check>`` (its numbers, an xarray Dataset; the table is written from it), ``plot_<check>``
(its figure) and the job the workflow runs (``<check>_job``): compute, write the table
(:func:`phasetrace.store.write_csv`), plot, save the figure (:func:`phasetrace.figures.save_figure`).
"""

from __future__ import annotations

import dataclasses

import matplotlib
import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from .boundaries import confusion
from .classifiers import encode, flat_params
from .figures import save_figure, window_bands
from .kinds.lstm import lstm_states
from .models import FLOQUET, MBL
from .provenance import require_same, settings
from .seeds import CHECK_CONTEXT
from .store import read_arrays, write_csv
from .sweep import labels
from .training import dataset_for, fit_set, hyper, set_samples

# ----------------------------------------------------------------------------------------------------------- units

UNITS_COLUMNS = ["units", "W", "confusion_mean", "confusion_std"]


def compute_units(config: dict, dataset: str) -> xr.Dataset:
    """Confusion vs W at ε = checks.units_eps for each LSTM size in checks.units: per member (``confusion``) and
    its mean and spread over the members; attrs the ε and L."""
    chk, t = config["checks"], config["training"]
    ds = dataset_for(config, "mbl", dataset)
    e = int(np.argmin(np.abs(ds["eps"].values - chk["units_eps"])))
    x, lab, (nW, R), context = set_samples("mbl", ds, {"eps": float(ds["eps"][e])})
    curves = []
    for n in chk["units"]:
        hp = dataclasses.replace(hyper(config, 2, "lstm"), units=int(n))
        fit = fit_set(
            x, lab, hp, t["members"], config["seed"], t["holdout"], *context, CHECK_CONTEXT["units"] + int(n),
            shape=(nW, R), resamples=t["resamples"], pool=t["realizations"],
        )  # fmt: skip
        curves.append(confusion(fit["p"].reshape(-1, nW, R, 2).mean(axis=2)))  # (k, W)
    return xr.Dataset(
        {
            "confusion": (("units", "member", "W"), np.stack(curves)),
            "confusion_mean": (("units", "W"), np.stack([c.mean(0) for c in curves])),
            "confusion_std": (("units", "W"), np.stack([c.std(0) for c in curves])),
        },
        coords={"units": np.asarray(chk["units"]), "W": ds["W"].values},
        attrs={"eps": float(ds["eps"][e]), "L": ds.attrs["L"]},
    )


def plot_units(ds: xr.Dataset) -> Figure:
    fig = Figure(figsize=(6.4, 4.2), layout="constrained")
    ax = fig.subplots()
    colors = matplotlib.colormaps["viridis"](np.linspace(0, 0.9, ds.sizes["units"]))
    for n, col in zip(ds["units"].values, colors, strict=True):
        ax.plot(ds["W"].values, ds["confusion_mean"].sel(units=n).values, "o-", ms=3, color=col, label=f"N = {n}")
    ax.set_xlabel("disorder strength W")
    ax.set_ylabel("confusion C (mean over seeds)")
    ax.set_ylim(0, 1.02)
    ax.set_title(f"Confusion vs LSTM size, ε = {ds.attrs['eps']:.2f}, L = {ds.attrs['L']}")
    ax.legend(fontsize=8, ncol=2)
    return fig


def units_job(config: dict, dataset: str, table: str, figure: str) -> None:
    """Confusion vs W at ε = checks.units_eps for each LSTM size in checks.units."""
    ds = compute_units(config, dataset)
    write_csv(table, UNITS_COLUMNS, ds)
    save_figure(plot_units(ds), figure, dpi=130)


# -------------------------------------------------------------------------------------------------------- blanking


def gap_peak(W: np.ndarray, labels: np.ndarray, c: np.ndarray) -> tuple[float, float]:
    """(W of the maximal member-mean confusion, spread over members of their own maxima) of c (k, W), searched
    only in the blanked gap between the training windows (labels −1; where no grid point is blanked, the gap's two
    edge points): a peak inside a window where the classifier was trained is no boundary."""
    inside = labels == -1
    if not inside.any():
        inside = (W >= W[labels == 0].max()) & (W <= W[labels == 1].min())
    w, ci = W[inside], c[:, inside]
    return float(w[ci.mean(0).argmax()]), float(w[ci.argmax(axis=1)].std())


BLANKING_COLUMNS = ["ergodic_W_max", "localized_W_min", "eps", "W_peak", "W_peak_seed_std", "shift_vs_default"]
BLANKING_FORMATS = {"ergodic_W_max": "", "localized_W_min": "", "shift_vs_default": "+.4f"}  # the bounds as configured


def compute_blanking(config: dict, dataset: str) -> xr.Dataset:
    """Boundary W(ε) (the gap's confusion peak, :func:`gap_peak`) for each training-window variant
    [ergodic_W_max, localized_W_min] of checks.windows, and its shift from the configured windows' (or the first
    variant's, if those are not among them)."""
    t = config["training"]
    ds = dataset_for(config, "mbl", dataset)
    W, eps = ds["W"].values, ds["eps"].values
    variants = [tuple(v) for v in config["checks"]["windows"]]
    peaks = np.zeros((len(variants), eps.size))
    spread = np.zeros_like(peaks)
    for v, (lo, hi) in enumerate(variants):
        wl = labels(W, MBL.windows({"windows": {"ergodic_W_max": lo, "localized_W_min": hi}}))
        for e in range(eps.size):
            x, _, (nW, R), context = set_samples("mbl", ds, {"eps": float(eps[e])})
            fit = fit_set(
                x, np.repeat(wl, R), hyper(config, 2), t["members"], config["seed"], t["holdout"], *context,
                CHECK_CONTEXT["blanking"] + v, shape=(nW, R), resamples=t["resamples"], pool=t["realizations"],
            )  # fmt: skip
            c = confusion(fit["p"].reshape(-1, nW, R, 2).mean(axis=2))
            peaks[v, e], spread[v, e] = gap_peak(W, wl, c)
    windows = config["mbl"]["windows"]
    default = (windows["ergodic_W_max"], windows["localized_W_min"])
    ref = variants.index(default) if default in variants else 0
    bound = lambda i: np.array([v[i] for v in variants], dtype=object)  # noqa: E731  (each as configured)
    return xr.Dataset(
        {
            "W_peak": (("window", "eps"), peaks),
            "W_peak_seed_std": (("window", "eps"), spread),
            "shift_vs_default": (("window", "eps"), peaks - peaks[ref]),
        },
        coords={"ergodic_W_max": ("window", bound(0)), "localized_W_min": ("window", bound(1)), "eps": eps, "W": W},
    )


def plot_blanking(ds: xr.Dataset) -> Figure:
    fig = Figure(figsize=(6.4, 4.2), layout="constrained")
    ax = fig.subplots()
    eps, W = ds["eps"].values, ds["W"].values
    for v, (lo, hi) in enumerate(zip(ds["ergodic_W_max"].values, ds["localized_W_min"].values, strict=True)):
        ax.errorbar(
            ds["W_peak"].values[v],
            eps + 0.006 * (v - 1),
            xerr=ds["W_peak_seed_std"].values[v],
            fmt="o-",
            ms=4,
            capsize=2,
            label=f"train W ≤ {lo}, W ≥ {hi}",
        )
    ax.set_xlabel("W of maximal confusion")
    ax.set_ylabel("energy density ε")
    ax.set_xlim(W.min(), W.max())
    ax.set_title("Boundary vs training windows (± seed spread)")
    fig.legend(loc="outside lower center", ncol=ds.sizes["window"], fontsize=8)
    return fig


def blanking_job(config: dict, dataset: str, table: str, figure: str) -> None:
    """Boundary W(ε) for each training-window variant [ergodic_W_max, localized_W_min] in checks.windows."""
    ds = compute_blanking(config, dataset)
    write_csv(table, BLANKING_COLUMNS, ds, BLANKING_FORMATS)
    save_figure(plot_blanking(ds), figure, dpi=130)


# ----------------------------------------------------------------------------------------------------- calibration

CALIBRATION_COLUMNS = ["confidence_low", "confidence_high", "samples", "accuracy"]


def compute_calibration(config: dict, dataset: str, networks: list[str]) -> xr.Dataset:
    """Held-out accuracy per confidence bin, pooled over every MBL network set and member."""
    ds = dataset_for(config, "mbl", dataset, exact=True)  # its labels only
    R = ds.sizes["realization"]
    conf_all, correct_all = [], []
    for path in networks:
        arrays, attrs = read_arrays(path)
        require_same(
            path,
            attrs,
            settings(
                config, "network", "mbl", eps=attrs.get("eps", np.nan), classifier=config["training"]["classifier"]
            ),
        )
        e = int(np.argmin(np.abs(ds["eps"].values - attrs["eps"])))
        lab = np.repeat(ds["label"].isel(eps=e).values, R)
        held = arrays["held_out"]
        p = arrays["p"][:, held]  # (k, n_held, classes)
        conf_all.append(p.max(-1).ravel())
        correct_all.append((p.argmax(-1) == lab[held][None, :]).ravel())
    conf, correct = np.concatenate(conf_all), np.concatenate(correct_all)
    edges = np.linspace(0.5, 1.0, 6)
    samples, acc = [], []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        sel = (conf >= lo) & ((conf < hi) | (hi == 1.0))
        samples.append(int(sel.sum()))
        acc.append(float(correct[sel].mean()) if sel.any() else np.nan)
    return xr.Dataset(
        {"samples": ("bin", samples), "accuracy": ("bin", acc)},
        coords={"confidence_low": ("bin", edges[:-1]), "confidence_high": ("bin", edges[1:])},
    )


def plot_calibration(ds: xr.Dataset) -> Figure:
    fig = Figure(figsize=(4.8, 4.2), layout="constrained")
    ax = fig.subplots()
    ax.plot([0.5, 1], [0.5, 1], "k:", label="perfect calibration")
    centers = 0.5 * (ds["confidence_low"].values + ds["confidence_high"].values)
    ax.plot(centers, ds["accuracy"].values, "o-", label="held-out accuracy")
    ax.set_xlabel("confidence max(p)")
    ax.set_ylabel("accuracy")
    ax.set_title("Confidence vs accuracy (MBL, all ε, seeds)")
    ax.legend(fontsize=8)
    return fig


def calibration_job(config: dict, dataset: str, networks: list[str], table: str, figure: str) -> None:
    """Held-out accuracy per confidence bin, pooled over every MBL network set and seed."""
    ds = compute_calibration(config, dataset, networks)
    write_csv(table, CALIBRATION_COLUMNS, ds, {"confidence_low": ".2f", "confidence_high": ".2f"})
    save_figure(plot_calibration(ds), figure, dpi=130)


# ---------------------------------------------------------------------------------------------------- unseen phase

UNSEEN_PHASE_COLUMNS = ["eps", "confusion_mean", "confusion_std", "region"]


def compute_unseen_phase(config: dict, dataset: str) -> xr.Dataset:
    """The Floquet networks trained on the time-crystal and ergodic windows only: C over the sweep (per member, its
    mean and spread), and each point's region (trained, blanked or the unseen phase)."""
    t = config["training"]
    ds = dataset_for(config, "floquet", dataset)
    eps = ds["eps"].values
    x, _, (nE, R), context = set_samples("floquet", ds, {})
    windows = FLOQUET.windows(config["floquet"])
    two = labels(eps, windows[:2])  # Floquet-MBL window left unlabeled
    fit = fit_set(
        x, np.repeat(two, R), hyper(config, 2), t["members"], config["seed"], t["holdout"], *context,
        CHECK_CONTEXT["unseen_phase"], shape=(nE, R), resamples=t["resamples"], pool=t["realizations"],
    )  # fmt: skip
    c = confusion(fit["p"].reshape(-1, nE, R, 2).mean(axis=2))  # (k, eps)
    unseen = labels(eps, windows[2:]) >= 0
    region = [
        "unseen (floquet_mbl)" if u else ("trained" if sn else "blanked")
        for u, sn in zip(unseen, two >= 0, strict=True)
    ]
    return xr.Dataset(
        {
            "confusion": (("member", "eps"), c),
            "confusion_mean": ("eps", c.mean(0)),
            "confusion_std": ("eps", c.std(0)),
            "region": ("eps", region),
        },
        coords={"eps": eps},
    )


def plot_unseen_phase(ds: xr.Dataset, windows) -> Figure:
    """C over the sweep with the training windows of the time crystal and the ergodic phase, and the unseen one."""
    eps, m, s = ds["eps"].values, ds["confusion_mean"].values, ds["confusion_std"].values
    fig = Figure(figsize=(6.4, 4.0), layout="constrained")
    ax = fig.subplots()
    ax.plot(eps, m, "k-", label="confusion C (trained on time crystal + ergodic)")
    ax.fill_between(eps, m - s, m + s, color="grey", alpha=0.3, lw=0)
    unseen = lambda w: w.name == "floquet_mbl"  # noqa: E731
    window_bands(
        ax,
        windows,
        alpha=0.15,
        color=lambda w: "tab:blue" if unseen(w) else "tab:green",
        label=lambda w: f"{'unseen' if unseen(w) else 'trained'}: {w.name.replace('_', ' ')}",
    )
    ax.set_xlabel("kick detuning ε")
    ax.set_ylabel("confusion C")
    ax.set_ylim(0, 1.02)
    ax.set_title("A phase never seen in training")
    ax.legend(fontsize=7, loc="upper left")
    return fig


def unseen_phase_job(config: dict, dataset: str, table: str, figure: str) -> None:
    """Train the Floquet networks on the time-crystal and ergodic windows only; report C over the sweep."""
    ds = compute_unseen_phase(config, dataset)
    write_csv(table, UNSEEN_PHASE_COLUMNS, ds)
    save_figure(plot_unseen_phase(ds, FLOQUET.windows(config["floquet"])), figure, dpi=130)


# --------------------------------------------------------------------------------------------------- single neuron

SINGLE_NEURON_COLUMNS = [
    "member",
    "accuracy",
    "called_localized",
    "h_threshold",
    "h_direction",
    "quantity",
    "direction",
    "threshold",
    "agreement",
]


def input_quantities(z: np.ndarray, late_times: int) -> dict[str, np.ndarray]:
    """Simple quantities of encoded single-spin inputs z (n, T) a threshold could act on."""
    n_late = min(late_times, z.shape[1] - 1)
    return {
        "mean over all times": z.mean(axis=1),
        f"mean over the last {n_late} times": z[:, -n_late:].mean(axis=1),
        "last time point": z[:, -1],
    }


def best_threshold(q: np.ndarray, decision: np.ndarray) -> tuple[float, str, float]:
    """The threshold θ and direction (``>`` or ``<``: localized where q > θ, or q < θ) that reproduce the boolean
    ``decision`` (called localized) best, and the fraction of samples they agree on."""
    order = np.argsort(q, kind="stable")
    qs, d = q[order], decision[order].astype(int)
    n = q.size
    # a threshold below the first i sorted values calls them "below": agreement of "> θ" = (not d among the first
    # i) + (d among the rest)
    below_not = np.concatenate([[0], np.cumsum(1 - d)])
    above_yes = d.sum() - np.concatenate([[0], np.cumsum(d)])
    agree_gt = (below_not + above_yes) / n
    agree_lt = 1.0 - agree_gt
    cuts = np.concatenate([[qs[0] - 1e-9], 0.5 * (qs[1:] + qs[:-1]), [qs[-1] + 1e-9]])
    i_gt, i_lt = int(np.argmax(agree_gt)), int(np.argmax(agree_lt))
    if agree_gt[i_gt] >= agree_lt[i_lt]:
        return float(cuts[i_gt]), ">", float(agree_gt[i_gt])
    return float(cuts[i_lt]), "<", float(agree_lt[i_lt])


def compute_single_neuron(config: dict, dataset: str) -> xr.Dataset:
    """One LSTM unit on site 0's exact trace at ε = checks.units_eps, trained on the mbl windows (k members): per
    member its held-out accuracy, the share of samples it calls localized and the threshold on its final hidden
    state h(T) (``h_threshold``, ``h_direction``); per member and simple quantity of the input
    (:func:`input_quantities`), the threshold that reproduces its decisions best (:func:`best_threshold`). For the
    figure: member 0's states and gates (``states`` over ``state``: c, h, i, f, o, g) and logits for every sample,
    the encoded input and its quantities."""
    t, eps_check = config["training"], config["checks"]["units_eps"]
    ds = dataset_for(config, "mbl", dataset, exact=True)
    e = int(np.argmin(np.abs(ds["eps"].values - eps_check)))
    x, lab, shape, context = set_samples("mbl", ds.isel(site=[0]), {"eps": float(ds["eps"][e])})
    R = shape[1]
    hp = dataclasses.replace(hyper(config, 2, "lstm"), units=1)
    fit = fit_set(
        x, lab, hp, t["members"], config["seed"], t["holdout"], *context, CHECK_CONTEXT["single_neuron"], shape=shape,
        resamples=t["resamples"], pool=t["realizations"],
    )  # fmt: skip
    stacked = flat_params(fit["params"], hp)
    z = encode(x, hp.input)[..., 0]
    quantities = input_quantities(z, t["late_times"])
    per_member, per_quantity, states = [], [], []
    for j in range(t["members"]):
        member = {name: v[j] for name, v in stacked.items()}
        st = lstm_states(member, z[..., None])
        states.append(st)
        dw = member["head.kernel.value"][0, 1] - member["head.kernel.value"][0, 0]
        db = member["head.bias.value"][1] - member["head.bias.value"][0]
        localized = st["logits"][:, 1] > st["logits"][:, 0]
        per_member.append((localized.mean(), -db / dw, ">" if dw > 0 else "<"))
        per_quantity.append([best_threshold(q, localized) for q in quantities.values()])
    called, h_threshold, h_direction = (np.array([r[f] for r in per_member]) for f in range(3))
    theta, direction, agreement = (np.array([[b[f] for b in row] for row in per_quantity]) for f in range(3))
    gates = ("c", "h", "i", "f", "o", "g")
    by_quantity = ("member", "quantity")
    return xr.Dataset(
        {
            "accuracy": ("member", fit["accuracy"]),
            "called_localized": ("member", called),
            "h_threshold": ("member", h_threshold),
            "h_direction": ("member", h_direction),
            "direction": (by_quantity, direction),
            "threshold": (by_quantity, theta),
            "agreement": (by_quantity, agreement),
            "input": (("sample", "time"), z),
            "input_quantity": (("quantity", "sample"), np.stack(list(quantities.values()))),
            "states": (("state", "sample", "time"), np.stack([states[0][g][:, :, 0] for g in gates])),
            "logits": (("sample", "logit"), states[0]["logits"]),
        },
        coords={
            "member": np.arange(t["members"]),
            "quantity": list(quantities),
            "state": list(gates),
            "time": ds["time"].values,
            "W": ("sample", np.repeat(ds["W"].values, R)),
        },
        attrs={"eps": float(ds["eps"][e]), "L": ds.attrs["L"], "input": t["input"]},
    )


def plot_single_neuron(ds: xr.Dataset) -> Figure:
    """Member 0: a typical ergodic (smallest W) and localized (largest W) input, its states and gates, and its final
    hidden state against the quantity its decisions follow best (the thresholds as the table gives them)."""
    shown = lambda v: float(f"{v:.4f}")  # noqa: E731  a value as its table cell reads
    st = {g: ds["states"].sel(state=g).values for g in ds["state"].values}
    logits, z, times, Ws = ds["logits"].values, ds["input"].values, ds["time"].values, ds["W"].values
    dlogit = logits[:, 1] - logits[:, 0]

    def typical(w):
        idx = np.nonzero(Ws == w)[0]
        return int(idx[np.argsort(dlogit[idx])[idx.size // 2]])

    picks = {"ergodic": (typical(Ws.min()), "tab:red"), "localized": (typical(Ws.max()), "tab:blue")}
    first = ds.sel(member=0)
    h_threshold = shown(first["h_threshold"].item())
    b = int(np.argmax([shown(v) for v in first["agreement"].values]))  # the first of equals, as the table reads
    best = first.isel(quantity=b)
    quantity = str(best["quantity"].item())
    fig = Figure(figsize=(13, 7.2), layout="constrained")
    ax = fig.subplots(2, 3)
    for phase, (i, color) in picks.items():
        label = f"{phase}: W = {Ws[i]:.2f}"
        ax[0, 0].plot(times, z[i], "-", color=color, label=label)
        ax[0, 1].plot(times, st["c"][i], "-", color=color, label=label)
        ax[0, 2].plot(times, st["h"][i], "-", color=color, label=label)
    ax[0, 2].axhline(h_threshold, color="k", ls="--", lw=1, label=f"h threshold {h_threshold:.3f}")
    inputs = "m₀(t)·m₀(0)" if ds.attrs["input"] == "aligned" else "m₀(t)"
    for a, title in zip(ax[0], (f"input {inputs}", "cell state c(t)", "hidden state h(t)"), strict=True):
        a.set_title(title, fontsize=10)
        a.set_xlabel("time t")
        a.legend(fontsize=7)
    for a, (phase, (i, _)) in zip(ax[1, :2], picks.items(), strict=True):
        for gate, name, style in (("i", "input i", "-"), ("f", "forget f", "--"), ("o", "output o", ":")):
            a.plot(times, st[gate][i], style, label=name)
        a.plot(times, st["g"][i], "-.", label="candidate g (tanh)")
        a.set_ylim(-1.05, 1.05)
        a.set_xlabel("time t")
        a.set_title(f"gates, {phase} input (W = {Ws[i]:.2f})", fontsize=10)
        a.legend(fontsize=7)
    q = ds["input_quantity"].sel(quantity=quantity).values
    threshold = shown(best["threshold"].item())
    sc = ax[1, 2].scatter(q, st["h"][:, -1], c=Ws, cmap="viridis", s=8)
    ax[1, 2].axvline(threshold, color="k", ls="--", lw=1)
    ax[1, 2].axhline(h_threshold, color="grey", ls=":", lw=1)
    ax[1, 2].set_xlabel(f"{quantity} of the input")
    ax[1, 2].set_ylabel("final hidden state h(T)")
    ax[1, 2].set_title(
        f"localized ⇔ {quantity} {best['direction'].item()} {threshold:.3f} "
        f"(agrees on {100 * shown(best['agreement'].item()):.1f}%)",
        fontsize=9,
    )
    fig.colorbar(sc, ax=ax[1, 2], label="W")
    learned = sum(0 < shown(v) < 1 for v in ds["called_localized"].values)
    fig.suptitle(
        f"One LSTM unit on one spin (site 0), ε = {ds.attrs['eps']:.2f}, L = {ds.attrs['L']}: member 0 "
        f"({learned} of {ds.sizes['member']} members separate the samples; the others call every sample one class)",
        fontsize=11,
    )
    return fig


def single_neuron_job(config: dict, dataset: str, table: str, figure: str) -> None:
    """One LSTM unit on site 0's exact trace at ε = checks.units_eps, trained on the mbl windows (k members)."""
    ds = compute_single_neuron(config, dataset)
    write_csv(table, SINGLE_NEURON_COLUMNS, ds)
    save_figure(plot_single_neuron(ds), figure, dpi=120)
