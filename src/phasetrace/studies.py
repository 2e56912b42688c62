"""The paper's checks: one registry entry each, from which the workflow's one ``check`` rule, its targets, resources
and provenance slices are derived.

A check reads one model's dataset (and, where ``networks``, the phase diagram's network sets of that model) and
writes ``results/checks/{name}.csv`` and ``results/figures/{name}.png``. A new check is a job function
``f(config, dataset, [networks,] table, figure)`` (in :mod:`.paper_checks` or a module of its own), its provenance
slice in :data:`phasetrace.provenance.STAGES`, its caption in ``workflow/report/checks.rst`` and one line here.
Imported when the workflow is parsed: no JAX (the job function's module is imported by the job).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Check:
    """``name``: its outputs' names; ``model``: the model whose dataset it reads (built where that model is
    enabled); ``job``: ``"module:function"`` of the package; ``stage``: its slice of the config
    (:data:`phasetrace.provenance.STAGES`); ``networks``: it reads the phase diagram's network sets of ``model``;
    ``sets``: how many training sets of the model's size it fits (the resource estimate), from the config."""

    name: str
    model: str
    job: str
    stage: str
    networks: bool = False
    sets: Callable[[dict], float] = lambda config: 1.0


CHECKS: dict[str, Check] = {
    c.name: c
    for c in (
        Check(
            "confusion_vs_units",
            "mbl",
            "paper_checks:units_job",
            "checks_units",
            sets=lambda config: len(config["checks"]["units"]),
        ),
        Check(
            "blanking",
            "mbl",
            "paper_checks:blanking_job",
            "checks_blanking",
            sets=lambda config: len(config["checks"]["windows"]),
        ),
        Check("calibration", "mbl", "paper_checks:calibration_job", "checks_calibration", networks=True),
        Check("single_neuron", "mbl", "paper_checks:single_neuron_job", "checks_single_neuron"),
        Check("unseen_phase", "floquet", "paper_checks:unseen_phase_job", "checks_unseen_phase"),
    )
}
TABLE = "results/checks/{name}.csv"
FIGURE = "results/figures/{name}.png"


def enabled(config: dict) -> list[Check]:
    """The checks of the config's enabled models, in registry order."""
    return [c for c in CHECKS.values() if c.model in config["models"]]


def check_job(config: dict, name: str, dataset: str, networks: list[str], table: str, figure: str) -> None:
    """Run check ``name``'s job function on its inputs."""
    check = CHECKS[name]
    module, function = check.job.split(":")
    job = getattr(importlib.import_module(f"{__package__}.{module}"), function)
    job(config, dataset, *([networks] if check.networks else []), table, figure)
