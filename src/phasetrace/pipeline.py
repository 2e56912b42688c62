"""What the workflow's rules ask of the package when Snakemake parses them: targets, inputs, params, resources and
the call into a job. Rules only wire files; every decision about them is made here, for one validated config.

Imported when the workflow is parsed (every dry run and every cluster job): no JAX.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass
from pathlib import Path

from . import config as config_mod
from . import kinds, models, provenance, resources, schemes, studies
from .adaptive import reference_replicates
from .measurement import VARIANT, robustness_variants
from .sweep import (
    at_main_sizes,
    at_size,
    block_name,
    blocks,
    check_block,
    finite_size_study,
    main_size,
    parse_point,
    path,
    point_name,
    points,
    realizations_per_job,
    sizes,
)

# The studies' outputs beside the per-model paths of phasetrace.sweep.TEMPLATES
PHASE_DIAGRAM = "results/phase_diagram.png"
CLASSIFIERS = ["results/checks/classifiers.csv", "results/figures/classifiers.png"]
ROBUSTNESS = ["results/checks/robustness.csv", "results/figures/robustness.png"]
SCALING = ["results/checks/scaling.csv", "results/checks/scaling_drift.csv", "results/figures/scaling.png"]
CONVERGENCE = ["results/checks/convergence.csv", "results/figures/convergence.png"]
SCHEMES = ["results/checks/schemes.csv", "results/figures/schemes.png"]  # the schemes compared (default target)
REPLICATES = ["results/checks/replicates.csv", "results/figures/replicates.png"]  # its own target, not in all
ADAPTIVE = [  # its own target, not in all
    "results/checks/adaptive.csv",
    "results/checks/adaptive_summary.csv",
    "results/checks/adaptive_plan.csv",
    "results/figures/adaptive.png",
]


@dataclass(frozen=True)
class Invocation:
    """How this run was started (Snakemake's ``workflow``): what a damaged input's rebuild command repeats."""

    snakefile: str
    directory: str
    configfiles: tuple[str, ...]
    config_args: tuple[str, ...]


def taken_from_defaults(default: Path, given: dict | None) -> None:
    """Say which keys Snakemake filled from the workflow's config.yaml because the --configfile(s) lack them."""
    if not given or not default.exists():
        return
    taken = config_mod.taken_from_defaults(config_mod.read_yaml(default), dict(given))
    if taken:
        print(
            f"phasetrace: taken from {default.resolve()} (not set by --configfile/--config): " + ", ".join(taken),
            file=sys.stderr,
        )


class Pipeline:
    """The rules' view of one validated ``config``."""

    def __init__(self, config: dict, invocation: Invocation | None = None):
        self.config = config_mod.validate(config)
        self.invocation = invocation
        self.models = [m.name for m in models.enabled(config)]
        # what the phase diagram and the paper's checks read: every model at its largest L (config.yaml: one L)
        self.main = at_main_sizes(config, models.sections(config))
        self.kind = config["training"]["classifier"]  # the phase diagram's classifier
        self.kinds = kinds.classifier_kinds(config)
        self.checks = studies.enabled(config)

    # --- wildcards and paths --------------------------------------------------------------------------------------

    def wildcard_constraints(self) -> dict[str, str]:
        return {
            # the registry's models, and measured models under names of their own (measured_<name>: no other
            # model's path holds such a folder)
            "model": "|".join([*models.MODELS, models.MEASURED_SECTION.strip("^$")]),
            "L": r"\d+",
            "stage": r"[a-z]+",
            "point": r"[a-zA-Z]+\d+\.\d+(/[a-zA-Z]+\d+\.\d+)*",
            "block": r"r\d+-\d+",
            "classifier": "|".join(kinds.KINDS),
            "scheme": "|".join(schemes.trained()),
            "set": r"all|[a-zA-Z]+\d+\.\d+",
            "variant": VARIANT,
            "check": "|".join(c.name for c in self.checks) or "none",
            "replicate": r"\d{3}",
            "round": r"\d{2}",
            "file": r"[A-Za-z0-9._-]+",
        }

    def sized(self, wildcards) -> dict:
        """The config as a job of the {model} wildcard at the {L} wildcard reads it (one L)."""
        return at_size(self.config, wildcards.model, wildcards.L)

    def dataset(self, model: str, L=None) -> str:
        """The model's dataset at length L (default: its largest)."""
        return path("dataset", model=model, L=L or main_size(self.config[model]))

    def job_targets(self, model: str, L, stage: str | None = None, cfg: dict | None = None, held=None) -> list[str]:
        """Every job output of ``model`` at length L (of its ``stage``; default: the last, which the dataset
        gathers); ``cfg``: the model's section (default: the config's) with fewer points; ``held``: its realization
        blocks (default: the config's)."""
        m = models.get(model)
        if not getattr(m, "simulated", True):  # measured data: one import job per file
            return [path("import", model=model, L=L, file=name) for name in m.files(self.config[model])]
        st = m.stages[-1] if stage is None else models.stage(m, stage)
        cfg = self.config[model] if cfg is None else cfg
        R = self.config[model]["realizations"]  # the width of block names
        held = blocks(R, realizations_per_job(cfg)) if held is None else held
        return [
            path("job", model=model, L=L, stage=st.name, point=point_name(p), block=block_name(b, R))
            for p in points(models.grids(m, cfg, st.dims))
            for b in held
        ]

    def measured_file(self, wildcards) -> str:
        """The file an import job of a measured model reads, from its {file} wildcard (refused unless listed)."""
        m = models.get(wildcards.model)
        files = m.files(self.config[m.name]) if not getattr(m, "simulated", True) else {}
        if wildcards.file not in files:
            raise ValueError(
                f"{wildcards.model}: no file of the config is written {wildcards.file!r} in import paths "
                f"({sorted(files) or 'the model imports no files'})"
            )
        return files[wildcards.file]

    def dataset_job(self, model: str) -> str:
        """The job that gathers a model's stores into its dataset: the simulation's, or the measured data's."""
        simulated = getattr(models.get(model), "simulated", True)
        return "simulation:dataset_job" if simulated else "measured_data:dataset_job"

    def network_targets(self, model: str, kind: str, L=None) -> list[str]:
        """The saved sets of one classifier kind: one per training set of the model."""
        L = L or main_size(self.config[model])
        return [
            path("network", model=model, L=L, classifier=kind, set=name)
            for name, _ in models.training_sets(self.config, model)
        ]

    def confusion(self, model: str, kind: str, what: str = "confusion", L=None) -> str:
        return path(what, model=model, L=L or main_size(self.config[model]), classifier=kind)

    def scheme_inputs(self) -> dict[str, list[str]]:
        """The schemes' comparison: every enabled model's supervised confusion datasets, trained schemes and optimal
        predictors, for every kind of ``schemes.kinds`` (none without the section: the rule is then never run)."""
        if "schemes" not in self.config:
            return {"confusions": [], "trained": [], "optimal": []}
        compared = schemes.compared(self.config)
        kinds_ = self.config["schemes"]["kinds"]
        trained = [s for s in compared if s != "supervised"]  # supervised: the confusion datasets
        return {
            "confusions": [self.confusion(m, k) for m in self.models for k in kinds_],
            "trained": [
                path("scheme", model=m, L=main_size(self.config[m]), classifier=k, scheme=s)
                for m in self.models
                for k in kinds_
                for s in trained
            ],
            "optimal": [path("optimal", model=m, L=main_size(self.config[m])) for m in self.models],
        }

    def scheme_sets(self, wildcards) -> float:
        """The share of a model's dataset a scheme job trains on, times the sets it trains per compared set (the
        single-task scan: one per split point)."""
        m = models.get(wildcards.model)
        share = len(schemes.scheme_sets(self.config, m)) / len(models.training_sets(self.config, m.name))
        if wildcards.scheme == "scan" and self.config["schemes"]["scan"] == "single":
            return share * (len(models.grids(m, self.config[m.name])[m.label_dim]) - 1)
        return share

    def job_point(self, wildcards, stage: str) -> dict:
        """The exact sweep point of a simulation job of ``stage``, from its {point} wildcard."""
        m = models.get(wildcards.model)
        return parse_point(wildcards.point, models.grids(m, self.config[m.name], models.stage(m, stage).dims))

    def job_block(self, wildcards) -> tuple[int, int]:
        """The realization block of a simulation job, refused unless the config builds it: the model's blocks, and
        at the convergence study's L those past them (phasetrace.models.convergence_sweep)."""
        cfg = self.config[wildcards.model]
        held = blocks(cfg["realizations"], realizations_per_job(cfg))
        if "scaling" in self.config and wildcards.model == "mbl":
            _, conv_L, _, conv_blocks = models.convergence_sweep(self.config)
            held += conv_blocks if int(wildcards.L) == conv_L else []
        return check_block(wildcards.block, held, cfg["realizations"], wildcards.model)

    def stage_inputs(self, wildcards) -> list[str] | str:
        """The input of a simulation job: the output of the stage it needs at its block, if any (the job's block
        checked first)."""
        self.job_block(wildcards)
        m = models.get(wildcards.model)
        st = models.stage(m, wildcards.stage)
        if st.needs is None:
            return []
        need = models.stage(m, st.needs)
        values = self.job_point(wildcards, st.name)
        point = point_name({d: values[d] for d in need.dims})
        return path("job", model=m.name, L=wildcards.L, stage=need.name, point=point, block=wildcards.block)

    def check_inputs(self, wildcards) -> dict[str, str | list[str]]:
        check = studies.CHECKS[wildcards.check]
        networks = self.network_targets(check.model, self.kind) if check.networks else []
        return {"dataset": self.dataset(check.model), "networks": networks}

    def robustness_inputs(self) -> list[str]:
        """Every (enabled simulated model, measurement variant) of the robustness study, at the model's largest L
        (measured data are not measured again: the study varies what is measured of simulated traces)."""
        return [
            path("robustness_variant", model=m, L=main_size(self.config[m]), variant=v)
            for m in self.models
            if getattr(models.get(m), "simulated", True)
            for v in robustness_variants(self.config)
        ]

    def scaling_inputs(self) -> list[str]:
        return [
            self.confusion(m, kind, L=L)
            for m in self.models
            for L in sizes(self.config[m])
            for kind in kinds.scaling_kinds(self.config)
        ]

    def convergence(self) -> tuple[dict, list[str]]:
        """The convergence study's config (the mbl section at its L, ε and realizations) and its jobs."""
        model, L, section, held = models.convergence_sweep(self.config)
        return self.config | {model: section}, self.job_targets(model, L, cfg=section, held=held)

    def replicate_targets(self) -> list[str]:
        rep = self.config["replicates"]
        template = path("replicate", model=rep["model"], L=rep["L"])
        return [template.format(replicate=f"{i:03d}") for i in range(rep["n"])]

    def all_targets(self) -> list[str]:
        """The phase diagram, the classifier comparison, the paper's checks of the enabled models, the robustness
        study and the schemes' comparison where the config has their sections and, where a model lists several L, the
        finite-size study."""
        out = [PHASE_DIAGRAM, CLASSIFIERS[1]]
        out += [studies.FIGURE.format(name=c.name) for c in self.checks]
        out += ROBUSTNESS if "robustness" in self.config and self.robustness_inputs() else []
        out += SCHEMES[1:] if "schemes" in self.config else []
        if finite_size_study(self.config):
            out += SCALING + (CONVERGENCE if "mbl" in self.models else [])
        return out

    # --- params: what each output depends on ----------------------------------------------------------------------

    def declared(self, stage: str | None = None, model: str | None = None):
        """params: the settings that ``stage``'s outputs depend on (phasetrace.provenance), at the job's sweep point;
        ``stage`` None: the job's {check} (its registry entry's stage) or {stage} wildcard.

        Declared so that Snakemake's params trigger reruns a job exactly when what it reads changes."""

        def get(wildcards):
            keys = wildcards.keys()
            if stage is not None:
                st = stage
            elif "check" in keys:
                st = studies.CHECKS[wildcards.check].stage
            else:
                st = wildcards.stage
            name = wildcards.model if "model" in keys else model
            # a job at one L reads that L; the finite-size study every L; other figures each model's largest
            cfg = (
                at_size(self.config, name, wildcards.L)
                if "L" in keys
                else self.config
                if st == "scaling"
                else self.main
            )
            point = {"classifier": wildcards.classifier} if "classifier" in keys else {}
            if "scheme" in keys:
                point |= {"scheme": wildcards.scheme}
            if "point" in keys:
                point |= self.job_point(wildcards, st)
            if "file" in keys:
                point |= {"file": wildcards.file}
            if "variant" in keys:
                point |= {"variant": wildcards.variant}
            if "set" in keys and wildcards.set != "all":
                m = models.get(name)
                point |= parse_point(wildcards.set, models.grids(m, self.config[name], m.set_dims))
            return provenance.canonical(provenance.settings(cfg, st, name, **point))

        return get

    # --- resources: what each job asks a scheduler for ------------------------------------------------------------

    def simulation_resources(self, field: str):
        """A simulation job's estimate at its point, growing with retries."""

        def get(wildcards, attempt):
            m = models.get(wildcards.model)
            point = self.job_point(wildcards, wildcards.stage)
            return resources.simulation(self.sized(wildcards), m, wildcards.stage, attempt, **point)[field]

        return get

    def estimate(self, kind: str, field: str, model: str | None = None, cfg: dict | None = None, sets=None):
        """phasetrace.resources.<kind>(config, model, ...)[field], growing with each retry; ``model`` defaults to
        the job's {model} wildcard (or its {check}'s model); ``sets``: a number, or a function of the job's
        wildcards; ``cfg``: the config it reads (default: the job's L, else every model's largest)."""
        func = getattr(resources, kind)

        def get(wildcards, attempt):
            keys = wildcards.keys()
            name = model or (studies.CHECKS[wildcards.check].model if "check" in keys else wildcards.model)
            given = cfg if cfg is not None else self.sized(wildcards) if "L" in keys else self.main
            extra = {} if sets is None else {"sets": sets(wildcards) if callable(sets) else sets}
            return func(given, models.get(name), attempt=attempt, **extra)[field]

        return get

    def figure_resources(self, field: str):
        """A figure over every enabled model: the memory of all their datasets, the longest time."""

        def get(wildcards, attempt):
            each = [resources.aggregate(self.main, models.get(m), attempt=attempt) for m in self.models]
            return sum(r[field] for r in each) if field == "mem_mb" else max(r[field] for r in each)

        return get

    def one_set(self, wildcards) -> float:
        """The share of a model's dataset one training set reads."""
        return 1 / len(models.training_sets(self.config, wildcards.model))

    def robustness_sets(self, wildcards) -> float:
        """The share of a model's dataset one variant job reads, for each kind it fits."""
        return len(kinds.scaling_kinds(self.config)) * self.one_set(wildcards)

    def check_sets(self, wildcards) -> float:
        return studies.CHECKS[wildcards.check].sets(self.config)

    # --- running a job --------------------------------------------------------------------------------------------

    def run(self, log: str, job_resources, target: str, *args) -> None:
        """Call phasetrace.<module>.<function>(*args) for target "module:function", logging to ``log``.

        The job's JAX computations run on a GPU only where its resources ask for one (``gpu``, set by the GPU
        profiles), on the CPU otherwise. The import happens inside the job, so parsing never imports JAX."""
        from .runner import logged
        from .store import DamagedFileError

        module_name, function = target.split(":")
        try:
            job = getattr(importlib.import_module(f"{__package__}.{module_name}"), function)
            logged(log, job, *args, gpus=job_resources.get("gpu", 0))
        except DamagedFileError as err:  # advise the command that rebuilds it, as this run was started
            raise err.with_command(self.rebuild_command([err.path])) from err

    def rebuild_command(self, paths: list[str]) -> str:
        """The command that rebuilds ``paths`` and everything made from them (phasetrace.runner.rebuild_command)."""
        from .runner import rebuild_command

        inv = self.invocation or Invocation("Snakefile", ".", (), ())
        return rebuild_command(paths, inv.snakefile, inv.directory, inv.configfiles, inv.config_args)

    # --- the adaptive sweep (its own target) ----------------------------------------------------------------------

    def adaptive_round(self, replicate: int, round_: int) -> str:
        study = self.config["adaptive"]
        return path(
            "adaptive_round", model=study["model"], L=study["L"], replicate=f"{replicate:03d}", round=f"{round_:02d}"
        )

    def adaptive_previous(self, wildcards) -> list[str]:
        """A round's inputs: the stores of every earlier round of its replicate."""
        return [self.adaptive_round(int(wildcards.replicate), r) for r in range(int(wildcards.round))]

    def adaptive_uniform(self, replicate: int) -> str:
        study = self.config["adaptive"]
        return path("adaptive_uniform", model=study["model"], L=study["L"], replicate=f"{replicate:03d}")

    def adaptive_inputs(self) -> dict[str, list[str] | str]:
        study = self.config["adaptive"]
        n = study["replicates"]
        return {
            "rounds": [self.adaptive_round(i, r) for i in range(n) for r in range(study["rounds"])],
            "uniform": [self.adaptive_uniform(i) for i in range(n)],
            "reference": [self.adaptive_uniform(i) for i in reference_replicates(study)],
        }
