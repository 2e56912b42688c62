"""Config validation: the JSON schema (types, ranges, unknown keys) and then the checks a schema cannot express.

Every failure is a ValueError whose message starts with the dotted config key and says what is allowed. Checked
before any job runs: finiteness of every number, integers written as integers (``6``, not ``6.0``), grids that are
strictly increasing and whose values stay distinct in the paths that carry them, windows that hold grid points,
and a hold-out that leaves every class training samples.
"""

from __future__ import annotations

import re
from pathlib import Path

import jsonschema
import numpy as np
import yaml

from .sweep import at_size, finite_size_study, grid, sizes

# Package data ([tool.setuptools.package-data]), so that a wheel validates configs without the repository: the schema
# lives here; data/config.yaml is a link to the repository's config.yaml (its one home), copied into the wheel.
DATA = Path(__file__).resolve().parent / "data"
SCHEMA = DATA / "config.schema.yaml"
DEFAULT_CONFIG = DATA / "config.yaml"


def _key(path) -> str:
    return ".".join(str(p) for p in path) or "<config>"


def _describe(error: jsonschema.ValidationError) -> str:
    v, s = error.validator, error.schema
    allowed = {
        "minimum": lambda: f">= {s['minimum']}",
        "maximum": lambda: f"<= {s['maximum']}",
        "exclusiveMinimum": lambda: f"> {s['exclusiveMinimum']}",
        "exclusiveMaximum": lambda: f"< {s['exclusiveMaximum']}",
        "const": lambda: f"{s['const']!r}",
        "multipleOf": lambda: f"a multiple of {s['multipleOf']}",
        "enum": lambda: f"one of {s['enum']}",
        "type": lambda: (
            f"of type {' or '.join(np.atleast_1d(s['type']))}"
            + (
                " (write whole numbers without a decimal point)"
                if "integer" in np.atleast_1d(s["type"]) and isinstance(error.instance, float)
                else ""
            )
        ),
        "required": lambda: f"must have the keys {s['required']}",
        "additionalProperties": lambda: (  # a key whose schema is "not" is named only to be refused
            f"only the keys {sorted(k for k, v in s.get('properties', {}).items() if 'not' not in v)}"
        ),
        "oneOf": lambda: s.get("description", "a grid: {start, stop, num} or a list of numbers"),
        "anyOf": lambda: s.get("description", str(error.message)),
        "not": lambda: s.get("description", str(error.message)),
        "minItems": lambda: f"at least {s['minItems']} items",
        "maxItems": lambda: f"at most {s['maxItems']} items",
        "uniqueItems": lambda: "a list without repeats",
    }.get(v, lambda: str(error.message))()
    if v == "additionalProperties":
        extra = sorted(set(error.instance) - set(s.get("properties", {})))
        extra = [k for k in extra if not any(re.search(p, k) for p in s.get("patternProperties", {}))]
        named = "".join(f", or {rule}" for rule in s.get("x-named", []))  # keys by a rule (patternProperties)
        return f"{_key(error.absolute_path)}: unknown key(s) {extra}; allowed are {allowed}{named}"
    if v == "required":
        return f"{_key(error.absolute_path)}: {error.message}; it {allowed}"
    return f"{_key(error.absolute_path)} = {error.instance!r} is not allowed: it must be {allowed}"


# JSON Schema's "integer" admits 6.0; phasetrace does not (6.0 would reach the kernels as a float).
_Validator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator,
    type_checker=jsonschema.Draft202012Validator.TYPE_CHECKER.redefine(
        "integer", lambda _checker, x: isinstance(x, int | np.integer) and not isinstance(x, bool)
    ),
)


def _non_finite(node, path=()):
    """The dotted key and value of the first NaN or infinite number in ``node``, else None."""
    if isinstance(node, dict):
        items = node.items()
    elif isinstance(node, list | tuple):
        items = enumerate(node)
    else:
        ok = not isinstance(node, float | np.floating) or np.isfinite(node)
        return None if ok else (path, node)
    for k, v in items:
        found = _non_finite(v, (*path, k))
        if found:
            return found
    return None


def _dotted(path) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "<config>"


def schema(path: Path = SCHEMA) -> dict:
    """The config schema: the package's file (top-level keys, training, checks, shared definitions) with each
    model's section fragment (:mod:`.models`) added under its name, and the measured model's under every name of
    :data:`phasetrace.models.MEASURED_NAME`."""
    from .kinds import KINDS
    from .measurement import OBSERVABLES
    from .models import MEASURED, MEASURED_RULE, MEASURED_SECTION, MODELS
    from .schemes import SCHEMES

    out = yaml.safe_load(Path(path).read_text())
    for name, model in MODELS.items():
        out["properties"][name] = model.schema
    out["patternProperties"] = {MEASURED_SECTION: MEASURED.schema}  # measured_<name>: a measured model's section
    out["x-named"] = [MEASURED_RULE]  # named in the message that refuses an unknown key
    out["properties"]["models"]["items"] = {
        "anyOf": [{"enum": sorted(MODELS)}, {"type": "string", "pattern": MEASURED_SECTION}],
        "description": f"one of {sorted(MODELS)} or {MEASURED_RULE}",
    }
    out["$defs"]["classifier"] = {"enum": list(KINDS)}  # the registry of classifier kinds (phasetrace.kinds)
    out["$defs"]["observable"] = {"enum": list(OBSERVABLES)}  # the registry of observables (phasetrace.measurement)
    out["$defs"]["scheme"] = {"enum": list(SCHEMES)}  # the registry of detection schemes (phasetrace.schemes)
    return out


def validate(config: dict, schema_path: Path = SCHEMA) -> dict:
    """Validate ``config``; return it unchanged or raise ValueError naming the key and its allowed values."""
    from .models import get, grids, sections

    if not isinstance(config, dict):
        raise ValueError(f"invalid config: the top level must be a mapping of keys, not {type(config).__name__}")
    bad = _non_finite(config)
    if bad:
        raise ValueError(f"invalid config: {_dotted(bad[0])} = {bad[1]!r} is not allowed: it must be a finite number")
    _refuse_removed(config)
    errors = sorted(_Validator(schema(schema_path)).iter_errors(config), key=lambda e: len(e.absolute_path))
    if errors:
        deepest = max(errors, key=lambda e: len(e.absolute_path))
        raise ValueError("invalid config: " + _describe(deepest))
    missing = [name for name in config["models"] if name not in config]
    if missing:
        raise ValueError(
            f"invalid config: models = {config['models']} names {missing}, which have no section; add "
            f"the section(s) {missing} (config.yaml documents each model's keys)"
        )
    present = [get(name) for name in sections(config)]  # measured models under names of their own too
    for model in present:
        L = sizes(config[model.name])
        if L != sorted(L):
            raise ValueError(
                f"invalid config: {model.name}.L = {config[model.name]['L']} is not allowed: a list of lengths must "
                "be increasing"
            )
        for length in L:  # every stage reads one L (phasetrace.sweep.at_size)
            model.validate(at_size(config, model.name, length))
    t = config["training"]
    if t["members"] % t["resamples"]:
        raise ValueError(
            f"invalid config: training.members = {t['members']} is not allowed with training.resamples = "
            f"{t['resamples']}: the members form resamples groups of equal size, so members must be a multiple of "
            "resamples (e.g. members: 40, resamples: 10)"
        )
    for model in present:
        values = grids(model, config[model.name], (model.label_dim,))[model.label_dim]
        _check_holdout(
            config["training"]["holdout"],
            f"{model.name}.windows",
            model.windows(config[model.name]),
            values,
            trained_realizations(config, config[model.name]["realizations"]),
        )
    simulated = [m for m in present if m.name in config["models"] and getattr(m, "simulated", True)]
    _validate_measurement(config, simulated)  # measured data are recorded already: the measurement is not applied
    if "schemes" in config:
        _validate_schemes(config, [m for m in present if m.name in config["models"]])
    if "replicates" in config:
        _validate_replicates(config)
    if "adaptive" in config:
        _validate_adaptive(config)
    if "mbl" in config:  # the checks and scaling sections describe studies of the random-field chain
        _validate_checks(config)
        if finite_size_study(config):  # config.yaml's section is checked where the study is built
            _validate_scaling(config)
    return config


# Keys that were removed, with what replaced them: an old config is refused with the way forward.
# Keys of earlier versions: {(section, key): (the version that removed or renamed it, what to use instead)}
REMOVED = {
    ("training", "bootstrap"): (
        "0.2",
        "training.resamples: the boundaries' intervals now come from groups of members retrained on resampled "
        "realizations (training.members members in training.resamples groups), not from resampling the averaged "
        "realizations of fixed members; remove training.bootstrap and set training.resamples (default 10)",
    ),
    ("training", "epochs"): (
        "0.2",
        "training.steps: the networks train for a fixed number of optimizer steps, so that the training budget does "
        "not grow with the data (25 epochs of the default set were 50 steps; of the paper's, 150)",
    ),
    ("training", "seeds"): (
        "0.3",
        "training.members: the same number (the networks fitted per training set), renamed so that seed means "
        "only the root seed",
    ),
}
# Values of earlier versions: {(section, key, value): (version, the new value)}
RENAMED_VALUES = {("training", "classifier", "imbalance"): ("0.3", "threshold")}


def _refuse_removed(config: dict) -> None:
    for (section, key), (version, instead) in REMOVED.items():
        if isinstance(config.get(section), dict) and key in config[section]:
            raise ValueError(f"invalid config: {section}.{key} was removed in phasetrace {version}; use {instead}")
    t = config.get("training")
    for (section, key, old), (version, new) in RENAMED_VALUES.items():
        if isinstance(t, dict) and section == "training" and (t.get(key) == old or old in (t.get("compare") or [])):
            raise ValueError(
                f"invalid config: the classifier kind {old!r} (training.{key} or training.compare) was renamed "
                f"{new!r} in phasetrace {version}; write {new}"
            )


def _validate_adaptive(config: dict) -> None:
    """The adaptive sweep's model is a model, its transition two neighbouring classes of it, and its size passes
    the model's checks."""
    from .models import MODELS, get, known

    study = config["adaptive"]
    if study["replicates"] + study["reference_replicates"] > 999:
        raise ValueError(
            f"invalid config: adaptive.replicates + adaptive.reference_replicates = "
            f"{study['replicates'] + study['reference_replicates']} is not allowed: at most 999 (the replicates are "
            "numbered 0, 1, ... and the reference runs 999, 998, ...)"
        )
    if not known(study["model"]):
        raise ValueError(f"invalid config: adaptive.model = {study['model']!r} is not allowed: one of {list(MODELS)}")
    if not getattr(get(study["model"]), "simulated", True):  # any measured model, whatever its name
        raise ValueError(
            f"invalid config: adaptive.model = {study['model']!r} is not allowed: the adaptive study simulates new "
            "traces, and that model's traces are measured (one of the simulated models)"
        )
    if study["model"] not in config:  # a config without that model's section has no adaptive sweep
        return
    m = get(study["model"])
    section = config[m.name] | {"L": study["L"]}
    if m.set_dims:
        section[m.set_dims[0]] = [float(study["eps"])]
    m.validate({**config, m.name: section})
    names = [w.name for w in m.windows(section)]
    pairs = [f"{a}|{b}" for a, b in zip(names, names[1:], strict=False)]
    if study["transition"] is not None and study["transition"] not in pairs:
        raise ValueError(
            f"invalid config: adaptive.transition = {study['transition']!r} is not allowed: one of {pairs} "
            "(neighbouring classes of the model)"
        )


def _validate_schemes(config: dict, built: list) -> None:
    """The schemes train networks (no kind without training), on sets of every built chain (``eps``: points of its
    grid), with realizations held out at every sweep point (the accuracy of a split is measured on them)."""
    from .kinds import KINDS
    from .schemes import SCAN_MODES

    sch = config["schemes"]
    trainable = [k.name for k in KINDS.values() if "steps" in k.keys]
    for i, kind in enumerate(sch["kinds"]):
        if kind not in trainable:
            raise ValueError(
                f"invalid config: schemes.kinds[{i}] = {kind!r} is not allowed: the schemes train networks, one of "
                f"{trainable}"
            )
    if sch["scan"] not in SCAN_MODES:  # the schema says so too; kept beside the registry's modes
        raise ValueError(f"invalid config: schemes.scan = {sch['scan']!r} is not allowed: one of {list(SCAN_MODES)}")
    for m in built:
        if m.set_dims:
            values = grid(config[m.name][m.set_dims[0]])
            for i, v in enumerate(sch["eps"]):
                if not np.any(np.abs(values - v) < 1e-9):
                    raise ValueError(
                        f"invalid config: schemes.eps[{i}] = {v} is not allowed: it must be a point of {m.name}."
                        f"{m.set_dims[0]} ({[float(round(x, 6)) for x in values]})"
                    )
        R = trained_realizations(config, config[m.name]["realizations"])
        if int(round(config["training"]["holdout"] * R)) < 1:
            raise ValueError(
                f"invalid config: training.holdout = {config['training']['holdout']} is not allowed with the schemes "
                f"section: it holds out none of the {R} realizations of {m.name} the networks see at a sweep point, "
                "where the schemes measure their accuracy (raise it to at least 1/(2 · realizations), or remove "
                "schemes)"
            )


def _validate_replicates(config: dict) -> None:
    """The replicate study's model is a model, and where its section exists, the study's size passes its checks."""
    from .models import MODELS, get, known

    rep = config["replicates"]
    if not known(rep["model"]):
        raise ValueError(f"invalid config: replicates.model = {rep['model']!r} is not allowed: one of {list(MODELS)}")
    if not getattr(get(rep["model"]), "simulated", True):  # any measured model, whatever its name
        raise ValueError(
            f"invalid config: replicates.model = {rep['model']!r} is not allowed: the replicates study simulates new "
            "traces, and that model's traces are measured (one of the simulated models)"
        )
    if rep["model"] not in config:  # a config without that model's section has no replicate study (replicates.smk)
        return
    m = get(rep["model"])
    section = config[m.name] | {"L": rep["L"], "realizations": min(rep["realizations"])}
    if m.set_dims:
        section[m.set_dims[0]] = [float(rep["eps"])]
    m.validate({**config, m.name: section})
    _check_holdout(
        config["training"]["holdout"],
        f"{m.name}.windows (replicates.realizations = {min(rep['realizations'])})",
        m.windows(section),
        grid(section[m.label_dim]),
        trained_realizations(config, min(rep["realizations"])),
    )


def _validate_measurement(config: dict, built: list) -> None:
    """The measurement keeps sites of every built chain, at least two times of every built model, and (where the
    drive is built) odd time strides; the robustness study's ε is a point of every built chain's ε grid."""
    from .measurement import time_index

    meas, study = config["measurement"], config.get("robustness")
    strides = [("measurement.time_stride", meas["time_stride"])]
    strides += [(f"robustness.time_strides[{i}]", k) for i, k in enumerate(study["time_strides"])] if study else []
    for model in built:
        cfg = config[model.name]
        L = min(sizes(cfg))
        if meas["sites"] != "all" and max(meas["sites"]) >= L:
            raise ValueError(
                f"invalid config: measurement.sites = {meas['sites']} is not allowed: site indices 0 … {L - 1} "
                f"({model.name}.L = {cfg['L']})"
            )
        times = model.times(cfg)
        for key, k in strides:
            kept = time_index(times, k, meas["time_max"])
            if kept.size < 2:
                raise ValueError(
                    f"invalid config: {key} = {k} with measurement.time_max = {meas['time_max']} is not allowed: it "
                    f"keeps {kept.size} of the {times.size} {model.time_dim}s of {model.name}; at least 2 are needed"
                )
            late = config["training"]["late_times"]
            if key == "measurement.time_stride" and late > kept.size - 1:
                raise ValueError(
                    f"invalid config: training.late_times = {late} is not allowed with {key} = {k}: the imbalance "
                    f"feature averages the last late_times {model.time_dim}s after the first, and {model.name} keeps "
                    f"{kept.size} {model.time_dim}s; at most {kept.size - 1}"
                )
            if model.time_dim == "period" and k % 2 == 0:
                raise ValueError(
                    f"invalid config: {key} = {k} is not allowed: an odd stride ({model.name} is built; an even "
                    "stride records only even periods of the drive, where the time crystal's period doubling is "
                    "invisible)"
                )
    for model in [m for m in built if m.set_dims] if study else []:  # a model with one set has no ε to choose
        values = grid(config[model.name][model.set_dims[0]])
        if not np.any(np.isclose(values, study["eps"])):
            raise ValueError(
                f"invalid config: robustness.eps = {study['eps']} is not allowed: a point of {model.name}.eps "
                f"{values.tolist()}"
            )


def _validate_scaling(config: dict) -> None:
    from .models import MBL

    mbl, sc = config["mbl"], config["scaling"]
    eps = grid(mbl["eps"])
    if not np.any(np.isclose(eps, sc["eps"])):
        raise ValueError(f"invalid config: scaling.eps = {sc['eps']} is not allowed: a point of mbl.eps {eps.tolist()}")
    conv = sc["convergence"]
    if conv["L"] not in sizes(mbl):
        raise ValueError(
            f"invalid config: scaling.convergence.L = {conv['L']} is not allowed: one of mbl.L {sizes(mbl)}"
        )
    R = conv["realizations"]
    if R != sorted(R):
        raise ValueError(
            f"invalid config: scaling.convergence.realizations = {R} is not allowed: it must be increasing"
        )
    _check_holdout(
        config["training"]["holdout"],
        "mbl.windows",
        MBL.windows(mbl),
        grid(mbl["W"]),
        trained_realizations(config, R[0]),
    )


def _validate_checks(config: dict) -> None:
    from .models import MBL

    mbl, chk = config["mbl"], config["checks"]
    eps, W = grid(mbl["eps"]), grid(mbl["W"])
    if not np.any(np.isclose(eps, chk["units_eps"])):
        raise ValueError(
            f"invalid config: checks.units_eps = {chk['units_eps']} is not allowed: a point of mbl.eps {eps.tolist()}"
        )
    for i, (lo, hi) in enumerate(chk["windows"]):
        if lo >= hi or not np.any(W <= lo + 1e-12) or not np.any(W >= hi - 1e-12):
            raise ValueError(
                f"invalid config: checks.windows[{i}] = [{lo}, {hi}] is not allowed: ergodic_W_max < localized_W_min, "
                f"each containing points of mbl.W [{W.min()}, {W.max()}]"
            )
        variant = MBL.windows({"windows": {"ergodic_W_max": lo, "localized_W_min": hi}})
        _check_holdout(config["training"]["holdout"], f"checks.windows[{i}]", variant, W, mbl["realizations"])


def trained_realizations(config: dict, R: int) -> int:
    """How many of a point's R realizations the networks train on (``training.realizations``; null: all)."""
    pool = config["training"]["realizations"]
    return R if pool is None else min(R, pool)


def _check_holdout(holdout: float, key: str, windows, values: np.ndarray, realizations: int) -> None:
    """Every class of a training set keeps at least one training sample after the (per-class) hold-out."""
    for w in windows:
        points = int(np.sum((values >= w.low - 1e-12) & (values <= w.high + 1e-12)))
        n = points * realizations
        if n - round(holdout * n) < 1:
            raise ValueError(
                f"invalid config: training.holdout = {holdout} is not allowed: it leaves no training sample of "
                f"class {w.name!r} of {key} ({n} labeled samples: {points} grid point(s) x {realizations} "
                f"realizations trained on); use a smaller hold-out, more realizations (the model's and "
                "training.realizations) or a wider window"
            )
        if round(holdout * n) < 1:  # accuracy and calibration are measured on held-out samples only
            raise ValueError(
                f"invalid config: training.holdout = {holdout} is not allowed: it holds out no sample of class "
                f"{w.name!r} of {key} ({n} labeled samples), so accuracy and calibration could not be measured; "
                f"use a hold-out above {0.5 / n:.3g} (round(holdout x {n}) samples are held out; at least one)"
            )


def read_yaml(path: str | Path) -> dict:
    """A YAML config file as a dict; a syntax error is a ValueError naming the file, line and column."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f"{path}, line {mark.line + 1}, column {mark.column + 1}" if mark else str(path)
        context = ""
        if err.context and err.context_mark and err.context_mark is not mark:
            context = f" ({err.context} at line {err.context_mark.line + 1}, column {err.context_mark.column + 1})"
        raise ValueError(f"{where}: invalid YAML: {err.problem or err.context}{context}") from None
    except yaml.YAMLError as err:
        raise ValueError(f"{path}: invalid YAML: {err}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a config file must be a mapping of keys, not {type(data).__name__}")
    return data


def load(path: str | Path) -> dict:
    """Read and validate a YAML config file."""
    return validate(read_yaml(path))


def taken_from_defaults(defaults: dict, given: dict, prefix: str = "") -> list[str]:
    """Dotted keys of ``defaults`` that ``given`` (the user's config files, merged) does not set: the ones
    Snakemake fills from the workflow's config.yaml."""
    out = []
    for key, value in defaults.items():
        name = f"{prefix}.{key}" if prefix else key
        if key not in given:
            out.append(name)
        elif isinstance(value, dict) and isinstance(given[key], dict):
            out += taken_from_defaults(value, given[key], name)
    return out
