"""The Heisenberg chains started from one fixed product state, as experiments prepare them: the Néel /
charge-density-wave state ↑↓↑↓… of the cold-atom MBL experiments (Schreiber et al., Science 349, 842 (2015)), or any
pattern of the Sᶻ = 0 sector the config gives (``initial_state``).

A fixed state has no energy-density axis: the sweep is W alone, one training set, one curve in the phase diagram
(panel ``chain_curve``: the networks' outputs and the late-time imbalance I = Σᵢ mᵢ(t) mᵢ(0)/L, the experiments'
observable). Everything else is the family's (:class:`.base.HeisenbergChainModel`): the Hamiltonian, the field draw,
the spectral bounds that rescale H for the Chebyshev kernel, the kernels. The disorder is the family's too: a
fixed-state model draws realization r at (seed, L, W) from its family's stream (``realization_rng(seed, family,
L, point_key(W), r)``), so ``mbl_fixed`` sees the very fields of ``mbl`` and energy-resolved and Néel dynamics can be
compared on identical disorder.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..sweep import grid, labels
from .base import (
    HEISENBERG_SCHEMA,
    STORED,
    HeisenbergChainModel,
    Stage,
    check_grid,
    check_model_windows,
    classes_attr,
    default_times,
    evolved,
    stored_bounds,
)
from .mbl import MODEL as MBL
from .quasiperiodic import MODEL as QUASIPERIODIC

NEEL = "neel"  # σᶻ = +1, −1, +1, … from site 0: the charge-density wave of the cold-atom experiments
TRACE_KEYS = ("L", "J", "boundary", "t_max", "n_times", "precision", "initial_state")

SCHEMA = {
    **HEISENBERG_SCHEMA,
    "required": [k for k in HEISENBERG_SCHEMA["required"] if k != "eps"] + ["initial_state"],
    "properties": {
        **{k: v for k, v in HEISENBERG_SCHEMA["properties"].items() if k != "eps"},
        "eps": {
            "not": {},
            "description": "absent: a fixed initial state has no energy-density axis (remove eps; the family's "
            "model, e.g. mbl for mbl_fixed, starts from the product state at each ε)",
        },
        "initial_state": {"type": ["string", "array"]},  # what it may be is checked by FixedStateChain.validate
    },
}


def pattern(initial_state, L: int, key: str = "initial_state") -> np.ndarray:
    """σᶻ of every site (int8, (L,)) of the config's ``initial_state``: ``neel`` or a list of L values ±1 with as many
    +1 as −1 (the Sᶻ = 0 sector); ValueError naming ``key``, the value and what is allowed otherwise."""
    section = key.rpartition(".")[0] + "." if "." in key else ""
    allowed = f"'{NEEL}' (+1, -1, +1, …) or a list of {L} values +1 or -1 with as many +1 as -1 (the Sᶻ = 0 sector)"
    if isinstance(initial_state, str):
        if initial_state != NEEL:
            raise ValueError(f"invalid config: {key} = {initial_state!r} is not allowed: it must be {allowed}")
        return np.where(np.arange(L) % 2 == 0, 1, -1).astype(np.int8)
    values = list(initial_state) if isinstance(initial_state, list | tuple | np.ndarray) else None
    if values is None or any(isinstance(v, bool) or not isinstance(v, int | float | np.number) for v in values):
        raise ValueError(f"invalid config: {key} = {initial_state!r} is not allowed: it must be {allowed}")
    bad = [i for i, v in enumerate(values) if v not in (1, -1)]
    if bad:
        raise ValueError(
            f"invalid config: {key} = {initial_state!r} is not allowed: {key}[{bad[0]}] = {values[bad[0]]!r}; it "
            f"must be {allowed}"
        )
    if len(values) != L:
        raise ValueError(
            f"invalid config: {key} = {initial_state!r} is not allowed with {section}L = {L}: it has {len(values)} "
            f"values; it must be {allowed}"
        )
    spins = np.asarray(values, dtype=np.int8)
    if spins.sum() != 0:
        raise ValueError(
            f"invalid config: {key} = {initial_state!r} is not allowed: it has {int((spins > 0).sum())} values +1 "
            f"and {int((spins < 0).sum())} values -1, outside the Sᶻ = 0 sector the chain is simulated in; it must be "
            f"{allowed}"
        )
    return spins


class FixedStateChain(HeisenbergChainModel):
    """A :class:`.base.HeisenbergChainModel` family member (``family``) started from one fixed product state.

    Stages: ``bounds`` (E₀, E_max of each realization at W: they rescale H for the kernel) and ``traces`` (per W;
    ``initial_state`` is one of its keys, so changing it reruns the traces and everything downstream, not the
    bounds). Dataset: dims (W, realization, time, site); ``initial_state (site)``; ``initial_energy (W,
    realization)`` = ⟨s|H|s⟩; ``label (W)``.
    """

    sweep_dims = ("W",)
    label_dim = "W"
    set_dims = ()
    stages = (
        Stage("bounds", ("W",), ("L", "J", "boundary")),
        Stage("traces", ("W",), TRACE_KEYS, needs="bounds"),
    )
    dataset_keys = (*TRACE_KEYS, "W", "realizations", "windows")
    schema = SCHEMA
    panel = "chain_curve"
    reference = None  # the family's reference is at ε = 0.5, not for this state

    def __init__(self, name: str, family: HeisenbergChainModel):
        super().__init__(name)
        self.family = family
        self.title = f"{family.title} from a fixed state"
        self.field_name = family.field_name
        self.plateaus = family.plateaus

    def draw_fields(self, rng: np.random.Generator, L: int, W: float) -> np.ndarray:
        return self.family.draw_fields(rng, L, W)

    def disorder(self, seed: int, L: int, W: float, realizations) -> tuple[np.ndarray, np.ndarray]:
        """The family's fields and Lanczos seeds: its stream, by its name (the same realizations as the family)."""
        return self.family.disorder(seed, L, W, realizations)

    def simulate(
        self,
        seed: int,
        L: int,
        W: float,
        realizations,
        times=None,
        J: float = 1.0,
        boundary: str = "periodic",
        bounds=None,
        precision: str = "float64",
        initial_state="neel",
    ) -> dict[str, np.ndarray]:
        """Traces of realizations ``realizations`` at strength W from the product state ``initial_state`` (as in the
        config: ``neel`` or a list of ±1).

        Returns ``magnetization (n, T, L)``; ``field (n, L)``; ``initial_state (L,)`` ±1; ``initial_energy (n,)``
        = ⟨s|H|s⟩; ``E0, Emax, E0_error, Emax_error (n,)``; ``times (T,)``; health figures.
        """
        from ..kernels import heisenberg
        from ..kernels.basis import states_of
        from ..runner import configure
        from ..validation import require

        configure()
        times = default_times() if times is None else np.asarray(times, dtype=float)
        spins = pattern(initial_state, L)
        chain = heisenberg.heisenberg_chain(L, J, boundary)
        fields, starts = self.disorder(seed, L, W, realizations)
        if bounds is None:
            bounds = heisenberg.spectral_bounds(chain, fields, starts)
        n = fields.shape[0]
        require(bounds.E0.shape == (n,), "bounds", f"one entry per realization ({n})", bounds.E0.shape)
        k = int(chain.sector.index(states_of(spins)))
        index = np.full((n, 1), k, dtype=np.int64)
        energy = chain.diagonal(fields)[:, k]  # ⟨s|H|s⟩: the flip-flop part has no diagonal
        evo = heisenberg.evolve(chain, fields, index, times, bounds.E0, bounds.Emax, precision=precision)
        return evolved(evo, evo.magnetization[:, 0], fields, spins, np.asarray(energy, dtype=np.float64), bounds, times)

    def run_stage(self, config, stage, point, block, inputs):
        if stage == "bounds":
            return super().run_stage(config, stage, point, block, inputs)
        cfg, (a, b) = config[self.name], block
        ((arrays, _),) = inputs
        out = self.simulate(
            config["seed"],
            cfg["L"],
            point["W"],
            range(a, b + 1),
            self.times(cfg),
            cfg["J"],
            cfg["boundary"],
            stored_bounds(arrays),
            cfg["precision"],
            cfg["initial_state"],
        )
        return {k: out[k] for k in STORED}

    def dataset(self, config, stores):
        """Every (W, block) store → dims (W, realization, time, site)."""
        cfg = config[self.name]
        W = grid(cfg["W"])
        R, L, T = cfg["realizations"], cfg["L"], cfg["n_times"]
        mag = np.full((W.size, R, T, L), np.nan)
        energy, E0, Emax = (np.full((W.size, R), np.nan) for _ in range(3))
        field = np.full((W.size, R, L), np.nan)
        init, times = pattern(cfg["initial_state"], L, f"{self.name}.initial_state"), self.times(cfg)
        for arr, attrs in stores:
            w = int(np.nonzero(W == attrs["W"])[0][0])
            r = slice(attrs["realizations"][0], attrs["realizations"][1] + 1)
            mag[w, r], energy[w, r], field[w, r] = arr["magnetization"], arr["initial_energy"], arr["field"]
            E0[w, r], Emax[w, r] = arr["E0"], arr["Emax"]
            init, times = np.asarray(arr["initial_state"], np.int8), arr["times"]
        windows = self.windows(cfg)
        return xr.Dataset(
            {
                "magnetization": (("W", "realization", "time", "site"), mag, {"long_name": "<sigma^z_i>(t)"}),
                "field": (("W", "realization", "site"), field, {"long_name": self.field_name}),
                "initial_state": (("site",), init, {"long_name": "sigma^z of the fixed product state"}),
                "E0": (("W", "realization"), E0),
                "Emax": (("W", "realization"), Emax),
                "initial_energy": (("W", "realization"), energy, {"long_name": "<s|H|s> of the initial state"}),
                "label": (("W",), labels(W, windows), classes_attr(windows)),
            },
            coords={"W": W, "realization": np.arange(R), "time": times, "site": np.arange(L)},
            attrs={
                "L": L,
                "J": cfg["J"],
                "boundary": cfg["boundary"],
                "t_max": cfg["t_max"],
                "family": self.family.name,
            },
        )

    def validate(self, config: dict) -> None:
        from ..sweep import FORMATS

        cfg = config[self.name]
        pattern(cfg["initial_state"], int(cfg["L"]), f"{self.name}.initial_state")
        W = grid(cfg["W"])
        check_grid(f"{self.name}.W", W, 0.0, np.inf, FORMATS["W"])
        if cfg["windows"]["ergodic_W_max"] >= cfg["windows"]["localized_W_min"]:
            raise ValueError(
                f"invalid config: {self.name}.windows.ergodic_W_max must be < "
                f"{self.name}.windows.localized_W_min (windows overlap)"
            )
        check_model_windows(self.name, self.windows(cfg), W)

    def values(self, config: dict) -> int:
        cfg = config[self.name]
        return len(grid(cfg["W"])) * cfg["realizations"] * cfg["n_times"] * cfg["L"]


MBL_FIXED = FixedStateChain("mbl_fixed", MBL)
QUASIPERIODIC_FIXED = FixedStateChain("quasiperiodic_fixed", QUASIPERIODIC)
