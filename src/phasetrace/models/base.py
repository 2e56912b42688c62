"""The model interface, and the family of disordered Heisenberg chains that two of the models share.

A *model* owns everything model-specific; the workflow's rules, the simulation and training jobs and the figures
are generic over it:

- its config section (``name``) and that section's JSON-schema fragment (``schema``), plus the checks a schema
  cannot express (:meth:`Model.validate`);
- its sweep: the dataset's sweep dimensions (``sweep_dims``), the one the training windows label (``label_dim``),
  the ones along which separate training sets are fitted (``set_dims``), the time axis (``time_dim``);
- its simulation :class:`Stage` s (one workflow job per stage, sweep point and realization block), what each
  depends on in the config, and :meth:`Model.run_stage` (the disorder draw from the seed, the kernels);
- the aggregation of every job's arrays into the labeled dataset (:meth:`Model.dataset`);
- the label windows and class names (:meth:`Model.windows`), the resource estimate of a job
  (:meth:`Model.work`) and which panel of the phase diagram draws it (``Model.panel``, a name of
  :data:`phasetrace.figures.PANELS`).

Nothing here imports JAX: the workflow imports the models when it is parsed; kernels are imported by the methods
that run them.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import comb
from typing import Protocol

import numpy as np
import xarray as xr

from .. import resources as res
from ..kernels.basis import n_bonds
from ..kernels.batching import cpu_columns_per_call
from ..kernels.precision import PRECISIONS
from ..sweep import Window, check_windows, grid, labels, realizations_per_job


@dataclass(frozen=True)
class Stage:
    """A simulation stage: one job per (point over ``dims``, realization block).

    ``keys``: the keys of the model's config section the stage's outputs depend on (recorded and checked, see
    :mod:`..provenance`). ``needs``: the stage whose output at the same realization block, and at this job's point
    restricted to that stage's dims, is an input of this job.
    """

    name: str
    dims: tuple[str, ...]
    keys: tuple[str, ...]
    needs: str | None = None


class Model(Protocol):
    name: str  # config section, path component and ``model`` attribute of every output
    title: str  # for figures
    sweep_dims: tuple[str, ...]  # the dataset's sweep dimensions, in order
    label_dim: str  # the dimension the training windows label; boundaries are values of it
    set_dims: tuple[str, ...]  # one training set per point of these dimensions (at most one dimension)
    time_dim: str  # "time" or "period"
    stages: tuple[Stage, ...]  # the last one is aggregated into the dataset
    dataset_keys: tuple[str, ...]  # section keys the dataset depends on
    schema: dict  # JSON-schema fragment of the config section
    plateaus: dict[str, tuple[float, float]]  # untrained ranges of the labeled dimension reported with mean C
    reference: dict | None  # a known transition {"value", "label"} drawn beside the learned boundary, or None
    panel: str  # the phase-diagram panel that draws it: a name of phasetrace.figures.PANELS

    def windows(self, cfg: dict) -> list[Window]: ...

    def times(self, cfg: dict) -> np.ndarray: ...

    def validate(self, config: dict) -> None: ...

    def run_stage(
        self, config: dict, stage: str, point: dict, block: tuple[int, int], inputs: list[tuple[dict, dict]]
    ) -> dict[str, np.ndarray]: ...

    def dataset(self, config: dict, stores: list[tuple[dict, dict]]) -> xr.Dataset: ...

    def work(self, config: dict, stage: str, point: dict) -> res.Work: ...

    def values(self, config: dict) -> int: ...


def stage(model: Model, name: str) -> Stage:
    for s in model.stages:
        if s.name == name:
            return s
    raise ValueError(f"model {model.name!r} has no stage {name!r} (it has {[s.name for s in model.stages]})")


def grids(model: Model, cfg: dict, dims: tuple[str, ...] | None = None) -> dict[str, np.ndarray]:
    """The configured grid of each of ``dims`` (default: the model's sweep dimensions): the section key of the
    dimension's name, or the one the model's ``grid_keys`` names (the measured model's ``points``)."""
    keys = getattr(model, "grid_keys", {})
    return {d: grid(cfg[keys.get(d, d)]) for d in (model.sweep_dims if dims is None else dims)}


def classes_attr(windows: list[Window]) -> dict:
    return {
        "classes": [w.name for w in windows],
        "windows": {w.name: [w.low, min(w.high, 1e300)] for w in windows},
        "blanked": -1,
    }


def check_grid(key: str, values: np.ndarray, low: float, high: float, fmt: str) -> None:
    """Values in [low, high], strictly increasing, and distinct once formatted as in the paths of their jobs."""
    if values.min() < low or values.max() > high:
        raise ValueError(
            f"invalid config: {key} = [{values.min()}, {values.max()}] is not allowed: values in [{low}, {high}]"
        )
    if np.any(np.diff(values) <= 0):
        i = int(np.nonzero(np.diff(values) <= 0)[0][0])
        raise ValueError(
            f"invalid config: {key} is not allowed: its values must be strictly increasing, but {float(values[i])} is "
            f"followed by {float(values[i + 1])} (sort the list and remove duplicates)"
        )
    names = [fmt.format(v) for v in values]
    for a, b in zip(names[:-1], names[1:], strict=True):
        if a == b:
            raise ValueError(
                f"invalid config: {key} is not allowed: two values are both written {a} in the paths of their jobs "
                f"(format {fmt}); grid points must differ at that precision"
            )


def check_model_windows(name: str, windows: list[Window], values: np.ndarray) -> None:
    for w in windows:
        if w.low > w.high:
            raise ValueError(f"invalid config: {name}.windows.{w.name} = [{w.low}, {w.high}]: low must be <= high")
    try:
        check_windows(values, windows, name)
    except ValueError as err:
        raise ValueError(f"invalid config: {err}") from None


def default_times(t_max: float = 500.0, n_times: int = 50) -> np.ndarray:
    """``n_times`` equally spaced times on [0, t_max], t = 0 included."""
    return np.linspace(0.0, t_max, n_times)


def realization_range(realizations) -> np.ndarray:
    from ..validation import require

    r = np.atleast_1d(np.asarray(realizations))
    require(r.ndim == 1 and r.size > 0 and bool(np.all(r >= 0)), "realizations", "non-negative indices", realizations)
    return r.astype(int)


def lengths_schema(**bounds) -> dict:
    """The schema of a section's ``L``: one chain length, or a list of them (a finite-size study; see
    :func:`phasetrace.sweep.sizes`), each within ``bounds`` (``minimum``, ``maximum``, ``multipleOf``)."""
    return {
        "type": ["integer", "array"],
        **bounds,
        "minItems": 1,
        "uniqueItems": True,
        "items": {"type": "integer", **bounds},
    }


HEISENBERG_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "L",
        "J",
        "boundary",
        "eps",
        "W",
        "realizations",
        "realizations_per_job",
        "t_max",
        "n_times",
        "precision",
        "windows",
    ],
    "properties": {
        "L": lengths_schema(minimum=4, maximum=24, multipleOf=2),
        "J": {"type": "number", "exclusiveMinimum": 0},
        "boundary": {"enum": ["periodic", "open"]},
        "eps": {"$ref": "#/$defs/grid"},
        "W": {"$ref": "#/$defs/grid"},
        "realizations": {"type": "integer", "minimum": 1},
        "realizations_per_job": {"$ref": "#/$defs/per_job"},
        "t_max": {"type": "number", "exclusiveMinimum": 0},
        "n_times": {"type": "integer", "minimum": 2, "maximum": 10000},
        "precision": {"enum": list(PRECISIONS)},
        "windows": {
            "type": "object",
            "additionalProperties": False,
            "required": ["ergodic_W_max", "localized_W_min"],
            "properties": {
                "ergodic_W_max": {"type": "number", "minimum": 0},
                "localized_W_min": {"type": "number", "minimum": 0},
            },
        },
    },
}


# The arrays a chain's traces job stores (the rest of what simulate returns is for benchmarks and tests)
STORED = (
    "magnetization",
    "field",
    "initial_state",
    "initial_energy",
    "E0",
    "Emax",
    "times",
    "norm_drift",
    "energy_drift",
)


def evolved(evo, magnetization, fields, initial_state, energy, bounds, times) -> dict[str, np.ndarray]:
    """What a chain's ``simulate`` returns: the evolution ``evo`` (its ``magnetization`` as given, shaped by the
    caller), the fields, initial states and energies, the spectral ``bounds`` and the health figures."""
    return {
        "magnetization": magnetization,
        "field": fields,
        "initial_state": initial_state,
        "initial_energy": energy,
        "E0": bounds.E0,
        "Emax": bounds.Emax,
        "E0_error": bounds.err0,
        "Emax_error": bounds.errmax,
        "times": times,
        "norm_drift": evo.norm_drift,
        "energy_drift": evo.energy_drift,
        "matvecs": np.asarray(evo.matvecs + int(bounds.iterations.max())),
    }


def stored_bounds(arrays: dict):
    """The :class:`~phasetrace.kernels.heisenberg.SpectralBounds` of a bounds job's stored arrays."""
    from ..kernels.heisenberg import SpectralBounds

    return SpectralBounds(arrays["E0"], arrays["Emax"], arrays["E0_error"], arrays["Emax_error"], arrays["iterations"])


class HeisenbergChainModel:
    """H = Σ J Sᵢ·Sᵢ₊₁ + Σ wᵢ Sᶻᵢ in the Sᶻ = 0 sector, with fields wᵢ drawn per realization at strength W
    (:meth:`draw_fields`, the one thing a member of the family defines), initial product states at energy
    densities ε of each realization's spectrum, traces ⟨σᶻᵢ⟩(t) on ``n_times`` points of [0, t_max].

    Stages: ``bounds`` (E₀, E_max of each realization at W, shared by every ε) and ``traces`` (per ε and W).
    """

    title = ""
    sweep_dims = ("eps", "W")
    label_dim = "W"
    set_dims = ("eps",)
    time_dim = "time"
    stages = (
        Stage("bounds", ("W",), ("L", "J", "boundary")),
        Stage("traces", ("eps", "W"), ("L", "J", "boundary", "t_max", "n_times", "precision"), needs="bounds"),
    )
    dataset_keys = ("L", "J", "boundary", "t_max", "n_times", "precision", "eps", "W", "realizations", "windows")
    schema = HEISENBERG_SCHEMA
    field_name = "field w_i"
    # Ranges of W outside the default windows where C should stay low (results/checks/classifiers.csv)
    plateaus = {"C_W_le_1": (0.0, 1.0), "C_W_5_to_7.25": (5.0, 7.25)}
    reference: dict | None = None
    panel = "map"

    def __init__(self, name: str):
        self.name = name

    # ---------------------------------------------------------------------------------------- what it simulates
    def draw_fields(self, rng: np.random.Generator, L: int, W: float) -> np.ndarray:
        """The L fields of one realization from its generator (the first draws; the Lanczos seed follows)."""
        raise NotImplementedError

    def disorder(self, seed: int, L: int, W: float, realizations) -> tuple[np.ndarray, np.ndarray]:
        """Fields (n, L) and Lanczos start seeds (n,) of the given realization indices
        (``seeds.realization_rng(seed, name, L, point_key(W), r)``: independent of ε and of blocks)."""
        from ..seeds import point_key, realization_rng
        from ..validation import check_finite

        check_finite("W", W, 0.0)
        fields, starts = [], []
        for r in realization_range(realizations):
            rng = realization_rng(seed, self.name, L, point_key(W), int(r))
            fields.append(self.draw_fields(rng, L, W))
            starts.append(int(rng.integers(2**63 - 1)))
        return np.stack(fields), np.asarray(starts, dtype=np.int64)

    def bounds(self, seed: int, L: int, W: float, realizations, J: float = 1.0, boundary: str = "periodic"):
        """E₀, E_max (and their Lanczos error bounds) of each realization at W: shared by every ε."""
        from ..kernels import heisenberg
        from ..runner import configure

        configure()
        chain = heisenberg.heisenberg_chain(L, J, boundary)
        fields, starts = self.disorder(seed, L, W, realizations)
        return heisenberg.spectral_bounds(chain, fields, starts)

    def simulate(
        self,
        seed: int,
        L: int,
        W: float,
        eps,
        realizations,
        times=None,
        J: float = 1.0,
        boundary: str = "periodic",
        bounds=None,
        precision: str = "float64",
    ) -> dict[str, np.ndarray]:
        """Traces of realizations ``realizations`` at strength W for every energy density in ``eps``.

        Returns arrays: ``magnetization (n, E, T, L)`` = ⟨σᶻᵢ⟩(t); ``field (n, L)``; ``initial_state (n, E, L)``
        ±1; ``initial_energy (n, E)``; ``E0, Emax, E0_error, Emax_error (n,)``; ``times (T,)``; health figures.
        ``bounds`` (from :meth:`bounds` for the same realizations) skips the Lanczos step. ``precision``: the
        evolution kernel's arithmetic (:data:`phasetrace.kernels.precision.PRECISIONS`).
        """
        from ..kernels import heisenberg
        from ..runner import configure
        from ..validation import require

        configure()
        times = default_times() if times is None else np.asarray(times, dtype=float)
        chain = heisenberg.heisenberg_chain(L, J, boundary)
        fields, starts = self.disorder(seed, L, W, realizations)
        if bounds is None:
            bounds = heisenberg.spectral_bounds(chain, fields, starts)
        require(
            bounds.E0.shape == (fields.shape[0],),
            "bounds",
            f"one entry per realization ({fields.shape[0]})",
            bounds.E0.shape,
        )
        index, energy = heisenberg.initial_states(chain, fields, eps, bounds.E0, bounds.Emax)
        evo = heisenberg.evolve(chain, fields, index, times, bounds.E0, bounds.Emax, precision=precision)
        return evolved(evo, evo.magnetization, fields, chain.sector.spins[index], energy, bounds, times)

    def run_stage(self, config, stage, point, block, inputs):
        cfg, (a, b) = config[self.name], block
        if stage == "bounds":
            bd = self.bounds(config["seed"], cfg["L"], point["W"], range(a, b + 1), cfg["J"], cfg["boundary"])
            return {
                "E0": bd.E0,
                "Emax": bd.Emax,
                "E0_error": bd.err0,
                "Emax_error": bd.errmax,
                "iterations": bd.iterations,
            }
        ((arrays, _),) = inputs
        out = self.simulate(
            config["seed"],
            cfg["L"],
            point["W"],
            [point["eps"]],
            range(a, b + 1),
            self.times(cfg),
            cfg["J"],
            cfg["boundary"],
            stored_bounds(arrays),
            cfg["precision"],
        )
        return {k: out[k] for k in STORED}

    # --------------------------------------------------------------------------------------------- its dataset
    def times(self, cfg: dict) -> np.ndarray:
        """The recorded times of the model's section ``cfg``: the dataset's ``time`` coordinate."""
        return default_times(cfg["t_max"], cfg["n_times"])

    def windows(self, cfg: dict) -> list[Window]:
        w = cfg["windows"]
        return [
            Window("ergodic", 0, 0.0, float(w["ergodic_W_max"])),
            Window("localized", 1, float(w["localized_W_min"]), np.inf),
        ]

    def dataset(self, config, stores):
        """Every (ε, W, block) store → dims (eps, W, realization, time, site)."""
        cfg = config[self.name]
        eps, W = grid(cfg["eps"]), grid(cfg["W"])
        R, L, T = cfg["realizations"], cfg["L"], cfg["n_times"]
        mag = np.full((eps.size, W.size, R, T, L), np.nan)
        init = np.zeros((eps.size, W.size, R, L), np.int8)
        energy = np.full((eps.size, W.size, R), np.nan)
        field = np.full((W.size, R, L), np.nan)
        E0, Emax = np.full((W.size, R), np.nan), np.full((W.size, R), np.nan)
        times = self.times(cfg)
        for arr, attrs in stores:
            e, w = int(np.nonzero(eps == attrs["eps"])[0][0]), int(np.nonzero(W == attrs["W"])[0][0])
            r = slice(attrs["realizations"][0], attrs["realizations"][1] + 1)
            mag[e, w, r] = arr["magnetization"][:, 0]
            init[e, w, r] = arr["initial_state"][:, 0]
            energy[e, w, r] = arr["initial_energy"][:, 0]
            field[w, r], E0[w, r], Emax[w, r] = arr["field"], arr["E0"], arr["Emax"]
            times = arr["times"]
        windows = self.windows(cfg)
        return xr.Dataset(
            {
                "magnetization": (("eps", "W", "realization", "time", "site"), mag, {"long_name": "<sigma^z_i>(t)"}),
                "field": (("W", "realization", "site"), field, {"long_name": self.field_name}),
                "initial_state": (
                    ("eps", "W", "realization", "site"),
                    init,
                    {"long_name": "sigma^z of the product state"},
                ),
                "E0": (("W", "realization"), E0),
                "Emax": (("W", "realization"), Emax),
                "initial_energy": (("eps", "W", "realization"), energy),
                "label": (
                    ("eps", "W"),
                    np.broadcast_to(labels(W, windows), (eps.size, W.size)).copy(),
                    classes_attr(windows),
                ),
            },
            coords={"eps": eps, "W": W, "realization": np.arange(R), "time": times, "site": np.arange(L)},
            attrs={"L": L, "J": cfg["J"], "boundary": cfg["boundary"], "t_max": cfg["t_max"]},
        )

    def validate(self, config: dict) -> None:
        from ..sweep import FORMATS

        cfg = config[self.name]
        W = grid(cfg["W"])
        check_grid(f"{self.name}.eps", grid(cfg["eps"]), 0.0, 1.0, FORMATS["eps"])
        check_grid(f"{self.name}.W", W, 0.0, np.inf, FORMATS["W"])
        if cfg["windows"]["ergodic_W_max"] >= cfg["windows"]["localized_W_min"]:
            raise ValueError(
                f"invalid config: {self.name}.windows.ergodic_W_max must be < "
                f"{self.name}.windows.localized_W_min (windows overlap)"
            )
        check_model_windows(self.name, self.windows(cfg), W)

    # ------------------------------------------------------------------------------------ what it costs, shows
    def work(self, config, stage, point) -> res.Work:
        """What one job of ``stage`` at ``point`` computes: its realizations' vectors (the bounds' Lanczos holds them
        all at once, the traces kernel :func:`phasetrace.kernels.batching.cpu_columns_per_call` of them) and the
        passes over them."""
        cfg = config[self.name]
        dim, columns = comb(cfg["L"], cfg["L"] // 2), realizations_per_job(cfg)
        if stage == "bounds":  # ≤ 300 Lanczos steps for each end
            return res.Work(dim, columns, 600, columns, "float64", cfg["L"], gathers=True)
        # the typical spectral half-width times t_max, plus measurements
        half_width = res.half_width(cfg["J"], n_bonds(cfg["L"], cfg["boundary"]), point.get("W", 8.0), cfg["L"])
        matvecs = half_width * cfg["t_max"] + 2 * cfg["n_times"] + 300
        return res.Work(
            dim, columns, matvecs, cpu_columns_per_call(dim, columns), cfg["precision"], cfg["L"], gathers=True
        )

    def values(self, config: dict) -> int:
        cfg = config[self.name]
        return len(grid(cfg["eps"])) * len(grid(cfg["W"])) * cfg["realizations"] * cfg["n_times"] * cfg["L"]
