"""Config validation: the JSON schema (types, ranges, unknown keys) and then the checks a schema cannot express.

Every failure is a ValueError whose message starts with the dotted config key and says what is allowed.
"""

from __future__ import annotations

from pathlib import Path

import jsonschema
import numpy as np
import yaml

from .sweep import check_windows, floquet_windows, grid, mbl_windows

SCHEMA = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "config.schema.yaml"


def _key(path) -> str:
    return ".".join(str(p) for p in path) or "<config>"


def _describe(error: jsonschema.ValidationError) -> str:
    v, s = error.validator, error.schema
    allowed = {
        "minimum": lambda: f">= {s['minimum']}",
        "maximum": lambda: f"<= {s['maximum']}",
        "exclusiveMinimum": lambda: f"> {s['exclusiveMinimum']}",
        "multipleOf": lambda: f"a multiple of {s['multipleOf']}",
        "enum": lambda: f"one of {s['enum']}",
        "type": lambda: f"of type {s['type']}",
        "required": lambda: f"must have the keys {s['required']}",
        "additionalProperties": lambda: f"only the keys {sorted(s.get('properties', {}))}",
        "oneOf": lambda: s.get("description", "a grid: {start, stop, num} or a list of numbers"),
        "minItems": lambda: f"at least {s['minItems']} items",
        "maxItems": lambda: f"at most {s['maxItems']} items",
    }.get(v, lambda: str(error.message))()
    if v == "additionalProperties":
        extra = sorted(set(error.instance) - set(s.get("properties", {})))
        return f"{_key(error.absolute_path)}: unknown key(s) {extra}; allowed are {allowed}"
    if v == "required":
        return f"{_key(error.absolute_path)}: {error.message}; it {allowed}"
    return f"{_key(error.absolute_path)} = {error.instance!r} is not allowed: it must be {allowed}"


def validate(config: dict, schema_path: Path = SCHEMA) -> dict:
    """Validate ``config``; return it unchanged or raise ValueError naming the key and its allowed values."""
    schema = yaml.safe_load(Path(schema_path).read_text())
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(config), key=lambda e: len(e.absolute_path))
    if errors:
        deepest = max(errors, key=lambda e: len(e.absolute_path))
        raise ValueError("invalid config: " + _describe(deepest))
    mbl, flq = config["mbl"], config["floquet"]
    eps, W, feps = grid(mbl["eps"]), grid(mbl["W"]), grid(flq["eps"])
    for key, values, low, high in (("mbl.eps", eps, 0.0, 1.0), ("mbl.W", W, 0.0, np.inf), ("floquet.eps", feps, 0.0, np.pi)):
        if values.min() < low or values.max() > high or len(np.unique(values)) != len(values):
            raise ValueError(
                f"invalid config: {key} = [{values.min()}, {values.max()}] is not allowed: "
                f"distinct values in [{low}, {high}]"
            )
    if mbl["windows"]["ergodic_W_max"] >= mbl["windows"]["localized_W_min"]:
        raise ValueError("invalid config: mbl.windows.ergodic_W_max must be < mbl.windows.localized_W_min (windows overlap)")
    for key, windows, values in (("mbl", mbl_windows(mbl), W), ("floquet", floquet_windows(flq), feps)):
        for w in windows:
            if w.low > w.high:
                raise ValueError(f"invalid config: {key}.windows.{w.name} = [{w.low}, {w.high}]: low must be <= high")
        try:
            check_windows(values, windows, key)
        except ValueError as err:
            raise ValueError(f"invalid config: {err}") from None
    chk = config["checks"]
    if not np.any(np.isclose(eps, chk["units_eps"])):
        raise ValueError(f"invalid config: checks.units_eps = {chk['units_eps']} is not allowed: a point of mbl.eps {eps.tolist()}")
    for i, (lo, hi) in enumerate(chk["windows"]):
        if lo >= hi or not np.any(W <= lo + 1e-12) or not np.any(W >= hi - 1e-12):
            raise ValueError(
                f"invalid config: checks.windows[{i}] = [{lo}, {hi}] is not allowed: ergodic_W_max < localized_W_min, "
                f"each containing points of mbl.W [{W.min()}, {W.max()}]"
            )
    return config


def load(path: str | Path) -> dict:
    """Read and validate a YAML config file."""
    return validate(yaml.safe_load(Path(path).read_text()))
