"""The binary Floquet drive of the paper (discrete time crystal): (g − ε) Σ σˣ for T₁, then Σ Jᵢ σᶻσᶻ + Bᵢ σᶻ for
T₂, with Jᵢ, Bᵢ ~ U[0, 0.5] and a random z product state per realization (kernels: :mod:`phasetrace.kernels.floquet`).

One stage, ``traces`` per ε; one training set over the whole ε sweep with three classes (time crystal, ergodic,
Floquet-MBL) and two transitions.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from .. import resources as res
from ..kernels.basis import n_bonds
from ..sweep import Window, grid, labels, realizations_per_job
from .base import Stage, check_grid, check_model_windows, classes_attr, lengths_schema, realization_range

CLASSES = ("time_crystal", "ergodic", "floquet_mbl")
_INTERVAL = {"$ref": "#/$defs/interval"}


class FloquetDrive:
    name = "floquet"
    title = "Binary Floquet drive"
    panel = "drive"
    sweep_dims = ("eps",)
    label_dim = "eps"
    set_dims = ()
    time_dim = "period"
    stages = (Stage("traces", ("eps",), ("L", "boundary", "periods", "T1", "T2", "g")),)
    dataset_keys = ("L", "boundary", "periods", "T1", "T2", "g", "eps", "realizations", "windows")
    plateaus: dict[str, tuple[float, float]] = {}
    reference = None
    schema = {
        "type": "object",
        "additionalProperties": False,
        "required": [
            "L",
            "boundary",
            "eps",
            "realizations",
            "realizations_per_job",
            "periods",
            "T1",
            "T2",
            "g",
            "windows",
        ],
        "properties": {
            "L": lengths_schema(minimum=2, maximum=24),
            "boundary": {"enum": ["periodic", "open"]},
            "eps": {"$ref": "#/$defs/grid"},
            "realizations": {"type": "integer", "minimum": 1},
            "realizations_per_job": {"$ref": "#/$defs/per_job"},
            "periods": {"type": "integer", "minimum": 1, "maximum": 100000},
            "T1": {"type": "number", "exclusiveMinimum": 0},
            "T2": {"type": "number", "exclusiveMinimum": 0},
            "g": {"type": "number"},
            "windows": {
                "type": "object",
                "additionalProperties": False,
                "required": list(CLASSES),
                "properties": dict.fromkeys(CLASSES, _INTERVAL),
            },
        },
    }

    def simulate(
        self,
        seed: int,
        L: int,
        eps,
        realizations,
        periods: int = 100,
        T1: float = 1.0,
        T2: float = 1.0,
        g: float = np.pi / 2,
        boundary: str = "open",
    ) -> dict[str, np.ndarray]:
        """Stroboscopic traces of realizations ``realizations`` for every ε in ``eps``.

        Returns ``magnetization (E, n, N + 1, L)``, ``imbalance (E, n, N + 1)``, ``coupling (n, n_bonds)``,
        ``field (n, L)``, ``initial_state (n, L)`` and ``norm_drift (E, n)``. Realization r draws its couplings,
        fields and initial state from ``seeds.realization_rng(seed, "floquet", L, 0, r)``, shared by every ε.
        """
        from ..kernels import floquet
        from ..runner import configure
        from ..seeds import realization_rng

        configure()
        draws = [
            floquet.draw_realization(realization_rng(seed, self.name, L, 0, int(r)), L, boundary)
            for r in realization_range(realizations)
        ]
        couplings, fields, initial = (np.stack(x) for x in zip(*draws, strict=True))
        evo = floquet.evolve_floquet(eps, couplings, fields, initial, periods, T1, T2, g, boundary)
        return {
            "magnetization": evo.magnetization,
            "imbalance": evo.imbalance,
            "coupling": couplings,
            "field": fields,
            "initial_state": initial,
            "norm_drift": evo.norm_drift,
        }

    def run_stage(self, config, stage, point, block, inputs):
        cfg, (a, b) = config[self.name], block
        return self.simulate(
            config["seed"],
            cfg["L"],
            [point["eps"]],
            range(a, b + 1),
            cfg["periods"],
            cfg["T1"],
            cfg["T2"],
            cfg["g"],
            cfg["boundary"],
        )

    def times(self, cfg: dict) -> np.ndarray:
        """The recorded periods n = 0 … periods: the dataset's ``period`` coordinate."""
        return np.arange(cfg["periods"] + 1)

    def windows(self, cfg: dict) -> list[Window]:
        return [Window(n, k, float(cfg["windows"][n][0]), float(cfg["windows"][n][1])) for k, n in enumerate(CLASSES)]

    def dataset(self, config, stores):
        """Every (ε, block) store → dims (eps, realization, period, site)."""
        cfg = config[self.name]
        eps = grid(cfg["eps"])
        R, L, N = cfg["realizations"], cfg["L"], cfg["periods"]
        nb = n_bonds(L, cfg["boundary"])
        mag = np.full((eps.size, R, N + 1, L), np.nan)
        imb = np.full((eps.size, R, N + 1), np.nan)
        coupling, field = np.full((R, nb), np.nan), np.full((R, L), np.nan)
        init = np.zeros((R, L), np.int8)
        for arr, attrs in stores:
            e = int(np.nonzero(eps == attrs["eps"])[0][0])
            r = slice(attrs["realizations"][0], attrs["realizations"][1] + 1)
            mag[e, r], imb[e, r] = arr["magnetization"][0], arr["imbalance"][0]
            coupling[r], field[r], init[r] = arr["coupling"], arr["field"], arr["initial_state"]
        windows = self.windows(cfg)
        return xr.Dataset(
            {
                "magnetization": (("eps", "realization", "period", "site"), mag),
                "imbalance": (("eps", "realization", "period"), imb, {"long_name": "m(n).m(0)/L"}),
                "coupling": (("realization", "bond"), coupling),
                "field": (("realization", "site"), field),
                "initial_state": (("realization", "site"), init),
                "label": (("eps",), labels(eps, windows), classes_attr(windows)),
            },
            coords={
                "eps": eps,
                "realization": np.arange(R),
                "period": np.arange(N + 1),
                "site": np.arange(L),
                "bond": np.arange(nb),
            },
            attrs={"L": L, "T1": cfg["T1"], "T2": cfg["T2"], "g": cfg["g"], "boundary": cfg["boundary"]},
        )

    def validate(self, config: dict) -> None:
        from ..sweep import FORMATS

        cfg = config[self.name]
        if cfg["boundary"] == "periodic" and cfg["L"] < 3:
            raise ValueError(
                f"invalid config: {self.name}.L = {cfg['L']} is not allowed with boundary: periodic: it "
                "must be >= 3 (a ring of two sites has one bond counted twice)"
            )
        eps = grid(cfg["eps"])
        check_grid(f"{self.name}.eps", eps, 0.0, np.pi, FORMATS["eps"])
        windows = self.windows(cfg)
        check_model_windows(self.name, windows, eps)
        for a, b in zip(windows[:-1], windows[1:], strict=True):
            if a.high >= b.low:
                raise ValueError(
                    f"invalid config: {self.name}.windows.{a.name} = [{a.low}, {a.high}] must lie below "
                    f"{self.name}.windows.{b.name} = [{b.low}, {b.high}] (the sweep runs time crystal → ergodic → "
                    "Floquet-MBL)"
                )

    def work(self, config, stage, point) -> res.Work:
        cfg = config[self.name]
        # one period: L single-site rotations and one diagonal phase, each a pass over every realization's state
        columns = realizations_per_job(cfg)
        return res.Work(2 ** cfg["L"], columns, cfg["periods"] * (cfg["L"] + 1), columns)

    def values(self, config: dict) -> int:
        cfg = config[self.name]
        return len(grid(cfg["eps"])) * cfg["realizations"] * (cfg["periods"] + 1) * cfg["L"]


MODEL = FloquetDrive()
