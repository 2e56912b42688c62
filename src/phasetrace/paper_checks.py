"""The paper's own checks, as workflow outputs (each a table and a figure):

- ``units``: confusion vs W at one ε for LSTMs of N units (the paper's Fig. 2, left);
- ``blanking``: the MBL boundary per ε when the training windows are shrunk or enlarged;
- ``calibration``: held-out accuracy per bin of confidence max(p) (is the network's confidence meaningful?);
- ``unseen_phase``: Floquet networks trained on two of the three phases, evaluated over the whole sweep: the phase
  they never saw should come out confused;
- ``single_neuron``: the paper's supplement: one LSTM unit trained on one spin's exact trace ⟨σᶻ₀⟩(t), its gates,
  cell and hidden states over time, and the threshold on a simple quantity of the input that its decisions follow.
"""

from __future__ import annotations

import dataclasses

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from .boundaries import confusion
from .classifiers import encode, flat_params
from .kinds.lstm import lstm_states
from .models import FLOQUET, MBL
from .provenance import require_same, settings
from .seeds import CHECK_CONTEXT
from .store import read_arrays
from .sweep import labels
from .training import dataset_for, fit_set, hyper, set_samples, write_csv


def units_job(config: dict, dataset: str, table: str, figure: str) -> None:
    """Confusion vs W at ε = checks.units_eps for each LSTM size in checks.units."""
    chk, t = config["checks"], config["training"]
    ds = dataset_for(config, "mbl", dataset)
    e = int(np.argmin(np.abs(ds["eps"].values - chk["units_eps"])))
    x, lab, (nW, R), context = set_samples("mbl", ds, {"eps": float(ds["eps"][e])})
    W = ds["W"].values
    rows, curves = [], {}
    for n in chk["units"]:
        hp = dataclasses.replace(hyper(config, 2, "lstm"), units=int(n))
        fit = fit_set(
            x, lab, hp, t["members"], config["seed"], t["holdout"], *context, CHECK_CONTEXT["units"] + int(n),
            shape=(nW, R), resamples=t["resamples"],
        )  # fmt: skip
        c = confusion(fit["p"].reshape(-1, nW, R, 2).mean(axis=2))  # (k, W)
        curves[n] = c
        rows += [[n, f"{w:.4f}", f"{m:.4f}", f"{s:.4f}"] for w, m, s in zip(W, c.mean(0), c.std(0), strict=True)]
    write_csv(table, ["units", "W", "confusion_mean", "confusion_std"], rows)
    fig = Figure(figsize=(6.4, 4.2), layout="constrained")
    ax = fig.subplots()
    colors = matplotlib.colormaps["viridis"](np.linspace(0, 0.9, len(curves)))
    for (n, c), col in zip(curves.items(), colors, strict=True):
        ax.plot(W, c.mean(0), "o-", ms=3, color=col, label=f"N = {n}")
    ax.set_xlabel("disorder strength W")
    ax.set_ylabel("confusion C (mean over seeds)")
    ax.set_ylim(0, 1.02)
    ax.set_title(f"Confusion vs LSTM size, ε = {float(ds['eps'][e]):.2f}, L = {ds.attrs['L']}")
    ax.legend(fontsize=8, ncol=2)
    fig.savefig(figure, dpi=130)


def gap_peak(W: np.ndarray, labels: np.ndarray, c: np.ndarray) -> tuple[float, float]:
    """(W of the maximal member-mean confusion, spread over members of their own maxima) of c (k, W), searched
    only in the blanked gap between the training windows (labels −1; where no grid point is blanked, the gap's two
    edge points): a peak inside a window where the classifier was trained is no boundary."""
    inside = labels == -1
    if not inside.any():
        inside = (W >= W[labels == 0].max()) & (W <= W[labels == 1].min())
    w, ci = W[inside], c[:, inside]
    return float(w[ci.mean(0).argmax()]), float(w[ci.argmax(axis=1)].std())


def blanking_job(config: dict, dataset: str, table: str, figure: str) -> None:
    """Boundary W(ε) for each training-window variant [ergodic_W_max, localized_W_min] in checks.windows."""
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
                CHECK_CONTEXT["blanking"] + v, shape=(nW, R), resamples=t["resamples"],
            )  # fmt: skip
            c = confusion(fit["p"].reshape(-1, nW, R, 2).mean(axis=2))
            peaks[v, e], spread[v, e] = gap_peak(W, wl, c)
    windows = config["mbl"]["windows"]
    default = (windows["ergodic_W_max"], windows["localized_W_min"])
    ref = variants.index(default) if default in variants else 0
    rows = [
        [
            f"{lo}",
            f"{hi}",
            f"{eps[e]:.4f}",
            f"{peaks[v, e]:.4f}",
            f"{spread[v, e]:.4f}",
            f"{peaks[v, e] - peaks[ref, e]:+.4f}",
        ]
        for v, (lo, hi) in enumerate(variants)
        for e in range(eps.size)
    ]
    write_csv(table, ["ergodic_W_max", "localized_W_min", "eps", "W_peak", "W_peak_seed_std", "shift_vs_default"], rows)
    fig = Figure(figsize=(6.4, 4.2), layout="constrained")
    ax = fig.subplots()
    for v, (lo, hi) in enumerate(variants):
        ax.errorbar(
            peaks[v],
            eps + 0.006 * (v - 1),
            xerr=spread[v],
            fmt="o-",
            ms=4,
            capsize=2,
            label=f"train W ≤ {lo}, W ≥ {hi}",
        )
    ax.set_xlabel("W of maximal confusion")
    ax.set_ylabel("energy density ε")
    ax.set_xlim(W.min(), W.max())
    ax.set_title("Boundary vs training windows (± seed spread)")
    fig.legend(loc="outside lower center", ncol=len(variants), fontsize=8)
    fig.savefig(figure, dpi=130)


def calibration_job(config: dict, dataset: str, networks: list[str], table: str, figure: str) -> None:
    """Held-out accuracy per confidence bin, pooled over every MBL network set and seed."""
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
    rows, centers, acc = [], [], []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        sel = (conf >= lo) & ((conf < hi) | (hi == 1.0))
        a = float(correct[sel].mean()) if sel.any() else np.nan
        rows.append([f"{lo:.2f}", f"{hi:.2f}", int(sel.sum()), f"{a:.4f}"])
        centers.append(0.5 * (lo + hi))
        acc.append(a)
    write_csv(table, ["confidence_low", "confidence_high", "samples", "accuracy"], rows)
    fig = Figure(figsize=(4.8, 4.2), layout="constrained")
    ax = fig.subplots()
    ax.plot([0.5, 1], [0.5, 1], "k:", label="perfect calibration")
    ax.plot(centers, acc, "o-", label="held-out accuracy")
    ax.set_xlabel("confidence max(p)")
    ax.set_ylabel("accuracy")
    ax.set_title("Confidence vs accuracy (MBL, all ε, seeds)")
    ax.legend(fontsize=8)
    fig.savefig(figure, dpi=130)


def unseen_phase_job(config: dict, dataset: str, table: str, figure: str) -> None:
    """Train the Floquet networks on the time-crystal and ergodic windows only; report C over the sweep."""
    t = config["training"]
    ds = dataset_for(config, "floquet", dataset)
    eps = ds["eps"].values
    x, _, (nE, R), context = set_samples("floquet", ds, {})
    windows = FLOQUET.windows(config["floquet"])
    two = labels(eps, windows[:2])  # Floquet-MBL window left unlabeled
    fit = fit_set(
        x, np.repeat(two, R), hyper(config, 2), t["members"], config["seed"], t["holdout"], *context,
        CHECK_CONTEXT["unseen_phase"], shape=(nE, R), resamples=t["resamples"],
    )  # fmt: skip
    c = confusion(fit["p"].reshape(-1, nE, R, 2).mean(axis=2))  # (k, eps)
    unseen = labels(eps, windows[2:]) >= 0
    seen = two >= 0
    write_csv(
        table,
        ["eps", "confusion_mean", "confusion_std", "region"],
        [
            [f"{x:.4f}", f"{m:.4f}", f"{s:.4f}", "unseen (floquet_mbl)" if u else ("trained" if sn else "blanked")]
            for x, m, s, u, sn in zip(eps, c.mean(0), c.std(0), unseen, seen, strict=True)
        ],
    )
    fig = Figure(figsize=(6.4, 4.0), layout="constrained")
    ax = fig.subplots()
    ax.plot(eps, c.mean(0), "k-", label="confusion C (trained on time crystal + ergodic)")
    ax.fill_between(eps, c.mean(0) - c.std(0), c.mean(0) + c.std(0), color="grey", alpha=0.3, lw=0)
    for w in windows:
        ax.axvspan(
            w.low,
            w.high,
            alpha=0.15,
            color="tab:blue" if w.name == "floquet_mbl" else "tab:green",
            label=f"{'unseen' if w.name == 'floquet_mbl' else 'trained'}: {w.name.replace('_', ' ')}",
        )
    ax.set_xlabel("kick detuning ε")
    ax.set_ylabel("confusion C")
    ax.set_ylim(0, 1.02)
    ax.set_title("A phase never seen in training")
    ax.legend(fontsize=7, loc="upper left")
    fig.savefig(figure, dpi=130)


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


def single_neuron_job(config: dict, dataset: str, table: str, figure: str) -> None:
    """One LSTM unit on site 0's exact trace at ε = checks.units_eps, trained on the mbl windows (k members)."""
    t, eps_check = config["training"], config["checks"]["units_eps"]
    ds = dataset_for(config, "mbl", dataset, exact=True)
    e = int(np.argmin(np.abs(ds["eps"].values - eps_check)))
    x, lab, shape, context = set_samples("mbl", ds.isel(site=[0]), {"eps": float(ds["eps"][e])})
    R = shape[1]
    hp = dataclasses.replace(hyper(config, 2, "lstm"), units=1)
    fit = fit_set(
        x, lab, hp, t["members"], config["seed"], t["holdout"], *context, CHECK_CONTEXT["single_neuron"], shape=shape,
        resamples=t["resamples"],
    )  # fmt: skip
    stacked = flat_params(fit["params"], hp)
    z = encode(x, hp.input)
    W, times = ds["W"].values, ds["time"].values
    quantities = input_quantities(z[..., 0], t["late_times"])
    rows, states = [], []
    for j in range(t["members"]):
        member = {name: v[j] for name, v in stacked.items()}
        st = lstm_states(member, z)
        states.append(st)
        dw = member["head.kernel.value"][0, 1] - member["head.kernel.value"][0, 0]
        db = member["head.bias.value"][1] - member["head.bias.value"][0]
        localized = st["logits"][:, 1] > st["logits"][:, 0]
        for name, q in quantities.items():
            theta, direction, agree = best_threshold(q, localized)
            rows.append(
                {
                    "member": j,
                    "accuracy": f"{fit['accuracy'][j]:.4f}",
                    "called_localized": f"{localized.mean():.4f}",
                    "h_threshold": f"{-db / dw:.4f}",
                    "h_direction": ">" if dw > 0 else "<",
                    "quantity": name,
                    "direction": direction,
                    "threshold": f"{theta:.4f}",
                    "agreement": f"{agree:.4f}",
                }
            )
    write_csv(table, SINGLE_NEURON_COLUMNS, [[r[c] for c in SINGLE_NEURON_COLUMNS] for r in rows])
    _single_neuron_figure(config, ds, e, W, R, times, z[..., 0], states[0], rows, figure)


def _single_neuron_figure(config, ds, e, W, R, times, z, st, rows, figure) -> None:
    """Member 0: a typical ergodic (smallest W) and localized (largest W) input, its states and gates, and its final
    hidden state against the quantity its decisions follow best."""
    dlogit = st["logits"][:, 1] - st["logits"][:, 0]
    Ws = np.repeat(W, R)

    def typical(w):
        idx = np.nonzero(Ws == w)[0]
        return int(idx[np.argsort(dlogit[idx])[idx.size // 2]])

    picks = {"ergodic": (typical(W.min()), "tab:red"), "localized": (typical(W.max()), "tab:blue")}
    mine = [r for r in rows if r["member"] == 0]
    best = max(mine, key=lambda r: float(r["agreement"]))
    fig = Figure(figsize=(13, 7.2), layout="constrained")
    ax = fig.subplots(2, 3)
    for phase, (i, color) in picks.items():
        label = f"{phase}: W = {Ws[i]:.2f}"
        ax[0, 0].plot(times, z[i], "-", color=color, label=label)
        ax[0, 1].plot(times, st["c"][i, :, 0], "-", color=color, label=label)
        ax[0, 2].plot(times, st["h"][i, :, 0], "-", color=color, label=label)
    ax[0, 2].axhline(
        float(mine[0]["h_threshold"]),
        color="k",
        ls="--",
        lw=1,
        label=f"h threshold {float(mine[0]['h_threshold']):.3f}",
    )
    inputs = "m₀(t)·m₀(0)" if config["training"]["input"] == "aligned" else "m₀(t)"
    for a, title in zip(ax[0], (f"input {inputs}", "cell state c(t)", "hidden state h(t)"), strict=True):
        a.set_title(title, fontsize=10)
        a.set_xlabel("time t")
        a.legend(fontsize=7)
    for a, (phase, (i, _)) in zip(ax[1, :2], picks.items(), strict=True):
        for gate, name, style in (("i", "input i", "-"), ("f", "forget f", "--"), ("o", "output o", ":")):
            a.plot(times, st[gate][i, :, 0], style, label=name)
        a.plot(times, st["g"][i, :, 0], "-.", label="candidate g (tanh)")
        a.set_ylim(-1.05, 1.05)
        a.set_xlabel("time t")
        a.set_title(f"gates, {phase} input (W = {Ws[i]:.2f})", fontsize=10)
        a.legend(fontsize=7)
    q = input_quantities(z, config["training"]["late_times"])[best["quantity"]]
    sc = ax[1, 2].scatter(q, st["h"][:, -1, 0], c=Ws, cmap="viridis", s=8)
    ax[1, 2].axvline(float(best["threshold"]), color="k", ls="--", lw=1)
    ax[1, 2].axhline(float(mine[0]["h_threshold"]), color="grey", ls=":", lw=1)
    ax[1, 2].set_xlabel(f"{best['quantity']} of the input")
    ax[1, 2].set_ylabel("final hidden state h(T)")
    ax[1, 2].set_title(
        f"localized ⇔ {best['quantity']} {best['direction']} {float(best['threshold']):.3f} "
        f"(agrees on {100 * float(best['agreement']):.1f}%)",
        fontsize=9,
    )
    fig.colorbar(sc, ax=ax[1, 2], label="W")
    each = [r for r in rows if r["quantity"] == best["quantity"]]
    learned = sum(0 < float(r["called_localized"]) < 1 for r in each)
    fig.suptitle(
        f"One LSTM unit on one spin (site 0), ε = {float(ds['eps'][e]):.2f}, L = {ds.attrs['L']}: member 0 "
        f"({learned} of {len(each)} members separate the samples; the others call every sample one class)",
        fontsize=11,
    )
    fig.savefig(figure, dpi=120)
