"""What every output was made from, and the check that an input was made from the configuration in force.

Each workflow stage depends on a slice of the config (a model's stages: keys of its own section, see :func:`settings`;
the paper's checks: :data:`STAGES`). The rules declare that slice as their ``params`` (so Snakemake's own rerun
trigger sees a change of exactly what a stage reads), every output records it
(``settings``, canonical JSON, and its ``settings_digest``), and each job refuses an input whose recorded settings
differ from the ones the current config gives, naming the file and the differing keys.

Slices hold physics and training settings only: ``realizations_per_job`` (how work is batched) and the keys of
other stages are left out, so a point already computed with the same settings is reused, never recomputed. Grids
are recorded as their values, so ``{start, stop, num}`` and the equivalent list are the same settings.
"""

from __future__ import annotations

import hashlib
import json

from .kinds import KINDS, NETWORK_KEYS
from .sweep import grid

# What a set of classifiers depends on; its kind is part of its sweep point (``classifier``), so adding a kind to
# training.compare trains that kind only. training.resamples (the member groups' bootstrap replicates, which the
# intervals are made from) changes what each member is trained on, so it reruns the sets.
# A set of one kind records only the keys that kind reads (its registry entry, phasetrace.kinds.KINDS).
_TRAINING = list(dict.fromkeys(key for kind in KINDS.values() for key in kind.keys))
_NETWORK_KEYS = list(NETWORK_KEYS)

# The stages of the paper's checks and figures: {config section: keys it reads}; "seed" is the root seed, and
# "<model>:dataset" stands for the keys the dataset of that model depends on.
STAGES: dict[str, dict[str, list[str] | bool]] = {
    "checks_units": {
        "seed": True,
        "mbl": ["dataset"],
        "training": _NETWORK_KEYS,
        "measurement": True,
        "checks": ["units", "units_eps"],
    },
    "checks_blanking": {
        "seed": True,
        "mbl": ["dataset"],
        "training": [*_TRAINING, "classifier"],
        "measurement": True,
        "checks": ["windows"],
    },
    "checks_calibration": {
        "seed": True,
        "mbl": ["dataset"],
        "training": [*_TRAINING, "classifier"],
        "measurement": True,
    },
    "checks_single_neuron": {  # the exact traces, one unit: neither the measurement nor training.units
        "seed": True,
        "mbl": ["dataset"],
        "training": [k for k in _TRAINING if k != "units"],
        "checks": ["units_eps"],
    },
    "checks_unseen_phase": {
        "seed": True,
        "floquet": ["dataset"],
        "training": [*_TRAINING, "classifier"],
        "measurement": True,
    },
}
GRIDS = {"eps", "W"}


def _keys(config: dict, stage: str, model: str | None, point_scheme: str | None = None) -> dict[str, list[str] | bool]:
    """{section: keys} that the outputs of ``stage`` (of ``model``, for the model stages) read."""
    from .models import enabled, get
    from .models import stage as model_stage

    if stage in ("phase_diagram", "classifiers"):  # the windows shaded in each model's panel
        out = {m.name: ["windows"] for m in enabled(config)} | {"training": ["classifier"]}
        if stage == "classifiers":
            out |= {"checks": ["units_eps"], "training": ["classifier", "compare"], "models": True}
        return out
    if stage == "scaling":  # every enabled model at every L, the phase diagram's classifier and the baseline
        out = {
            "seed": True,
            "training": [*_TRAINING, "classifier"],
            "measurement": True,
            "scaling": ["eps"],
        }
        return out | {m.name: list(m.dataset_keys) for m in enabled(config)}
    if stage == "convergence":  # the mbl chain at scaling.convergence.L, scaling.eps, the first R realizations
        # (mbl.eps stays: the ε's index in it keys the training draws; which blocks hold the realizations does not
        # matter, so neither do mbl.realizations and mbl.L: scaling.convergence names both of the study's)
        return {
            "seed": True,
            "mbl": [k for k in get("mbl").dataset_keys if k not in ("L", "realizations")],
            "training": [*_TRAINING, "classifier"],
            "measurement": True,
            "scaling": ["eps", "convergence"],
        }
    if stage in ("adaptive", "adaptive_round", "adaptive_uniform", "adaptive_reference"):  # the sweep's own L and ε
        sweep_model = get(config["adaptive"]["model"])
        own = ("L", *sweep_model.set_dims)  # the sweep's own; the label grid is the uniform comparison's
        loop = ("replicates", "block", "per_round", "rounds", "target")
        reference = ("reference_realizations", "reference_replicates")
        keys = {  # a round: its sweep, not the comparison; the uniform grids: not the rounds' placing
            "adaptive_round": [k for k in config["adaptive"] if k not in ("replicates", "uniform_realizations",
                                                                          *reference)],
            "adaptive_uniform": [k for k in config["adaptive"] if k not in (*loop, *reference)],
            "adaptive_reference": [k for k in config["adaptive"] if k not in (*loop, "uniform_realizations",
                                                                              "reference_replicates")],
        }  # fmt: skip
        return {
            "seed": True,
            sweep_model.name: [k for k in sweep_model.dataset_keys if k not in own],
            "training": [*_TRAINING, "classifier"],
            "measurement": True,
            "adaptive": keys.get(stage, True),
        }
    if stage == "replicates":  # the study's model at its own L, ε and realizations (phasetrace.replicates)
        rep = get(config["replicates"]["model"])
        own = ("L", "realizations", *rep.set_dims)
        return {
            "seed": True,
            rep.name: [k for k in rep.dataset_keys if k not in own],
            "training": [*_TRAINING, "classifier"],
            "measurement": True,
            "replicates": True,
        }
    if stage == "schemes":  # the schemes' comparison: every enabled model's compared sets, windows shaded
        return {m.name: ["windows"] for m in enabled(config)} | {"models": True, "schemes": True}
    if stage in STAGES:
        return {
            section: list(get(section).dataset_keys) if keys == ["dataset"] else keys
            for section, keys in STAGES[stage].items()
        }
    if stage == "robustness":  # the robustness study's table and figure: every variant of every enabled model
        return {"models": True, "training": ["classifier"], "robustness": True}
    m = get(model)
    if stage == "robustness_variant":  # one measurement variant (its point) sets observable, shots and time_stride
        out = {
            "seed": True,
            m.name: list(m.dataset_keys),
            "training": [*_TRAINING, "classifier"],
            "measurement": ["sites", "time_max"],
        }
        return out | ({"robustness": ["eps"]} if m.set_dims else {})
    if stage in ("scheme", "optimal"):  # a scheme's or the optimal predictors' sets (phasetrace.schemes)
        from .schemes import SCHEMES

        own = SCHEMES[point_scheme].keys if stage == "scheme" and point_scheme else ()
        return {
            "seed": True,
            m.name: list(m.dataset_keys),
            "training": _TRAINING if stage == "scheme" else ["resamples", "late_times"],
            "measurement": True,
            "schemes": (["eps"] if m.set_dims else []) + list(own),
        }
    training = {"network": _TRAINING, "confusion": _TRAINING}
    if stage in training:  # the classifiers see the traces through the measurement model (measured data: as recorded)
        out = {"seed": True, m.name: list(m.dataset_keys), "training": training[stage]}
        return out | ({"measurement": True} if getattr(m, "simulated", True) else {})
    if stage == "dataset":
        return {"seed": True, m.name: list(m.dataset_keys)}
    return {"seed": True, m.name: list(model_stage(m, stage).keys)}


def settings(config: dict, stage: str, model: str | None = None, **point: float | str) -> dict:
    """The slice of ``config`` that the outputs of ``stage`` (of ``model``: its simulation stages, ``dataset``,
    ``network``, ``confusion``; or a check or figure of :data:`STAGES`) depend on, plus the sweep ``point`` (exact
    values; the classifier kind of a set is part of its point)."""
    out: dict = {}
    for section, keys in _keys(config, stage, model, point.get("scheme")).items():
        if keys is True:
            out[section] = config[section]
            continue
        cfg = config[section]
        if section == "training" and "classifier" in point:
            keys = [k for k in keys if k in KINDS[point["classifier"]].keys]
        out[section] = {k: grid(cfg[k]).tolist() if k in GRIDS else _number(cfg[k]) for k in keys}
    if point:
        out["point"] = {k: v if v is None or isinstance(v, str) else _number(float(v)) for k, v in point.items()}
    return out


def _number(value):
    """Whole-number floats as integers (``J: 1`` and ``J: 1.0`` are the same settings), recursively."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list | tuple):
        return [_number(v) for v in value]
    if isinstance(value, dict):
        return {k: _number(v) for k, v in value.items()}
    return value


def canonical(settings: dict) -> str:
    """The settings as canonical JSON (sorted keys): what outputs record and what rules declare as params."""
    return json.dumps(settings, sort_keys=True, separators=(",", ":"))


def digest(settings: dict) -> str:
    return hashlib.sha256(canonical(settings).encode()).hexdigest()[:16]


def record(settings: dict) -> dict:
    """Attributes to store with an output: its settings (canonical JSON) and their digest."""
    return {"settings": canonical(settings), "settings_digest": digest(settings)}


def differences(recorded, expected, prefix: str = "") -> list[str]:
    """Dotted keys whose values differ, as ``key = recorded (recorded) / expected (config)``."""
    if isinstance(recorded, dict) and isinstance(expected, dict):
        out = []
        for key in sorted(set(recorded) | set(expected)):
            name = f"{prefix}.{key}" if prefix else str(key)
            if key not in recorded:
                out.append(f"{name} is not recorded (config: {expected[key]!r})")
            elif key not in expected:
                out.append(f"{name} = {recorded[key]!r} is recorded but not in the config")
            else:
                out += differences(recorded[key], expected[key], name)
        return out
    if recorded != expected:
        return [f"{prefix} = {_short(recorded)} in the file, {_short(expected)} in the config"]
    return []


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def require_same(path, attrs: dict, expected: dict) -> None:
    """Refuse an input (``path`` with its stored ``attrs``) not made from the ``expected`` settings."""
    text = attrs.get("settings")
    if text is None:
        raise ValueError(
            f"{path} records no settings (written by an older phasetrace or another tool); it cannot be "
            "checked against the config: delete it and rerun the workflow"
        )
    diff = differences(json.loads(text), expected)
    if diff:
        raise ValueError(
            f"{path} was made from another configuration: "
            + "; ".join(diff[:5])
            + (f"; and {len(diff) - 5} more" if len(diff) > 5 else "")
            + ". Rerun the workflow, which rebuilds outputs whose configuration changed (or restore the config)"
        )
