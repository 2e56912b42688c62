# Config validation and target helpers. Logic lives in the phasetrace package; rules only wire files.
# Only light modules are imported here (no JAX): every dry run and every cluster job parses the workflow.
import os
import sys
from pathlib import Path

import phasetrace.config
import phasetrace.models
import phasetrace.provenance
import phasetrace.resources
from phasetrace.sweep import (
    CLASSIFIER_KINDS,
    robustness_variants,
    at_main_sizes,
    at_size,
    block_name,
    blocks,
    check_block,
    classifier_kinds,
    finite_size_study,
    main_size,
    scaling_kinds,
    sizes,
)
from phasetrace.sweep import parse_point, path, point_name, points, realizations_per_job


def _overlay_notice():
    """Say which keys Snakemake filled from the workflow's config.yaml because the --configfile(s) lack them."""
    given = workflow.config_settings.overwrite_config
    default = Path("config.yaml")
    if not given or not default.exists():
        return
    taken = phasetrace.config.taken_from_defaults(
        phasetrace.config.read_yaml(default), dict(given)
    )
    if taken:
        print(
            f"phasetrace: taken from {default.resolve()} (not set by --configfile/--config): "
            + ", ".join(taken),
            file=sys.stderr,
        )


_overlay_notice()
phasetrace.config.validate(config)  # the package's schema: phasetrace.config.SCHEMA

MODELS = [m.name for m in phasetrace.models.enabled(config)]
# The config the phase diagram and the paper's checks read: every model at its largest L (config.yaml: one L)
MAIN = at_main_sizes(config, phasetrace.models.MODELS)
KIND = config["training"]["classifier"]  # the phase diagram's classifier
KINDS = classifier_kinds(config)


wildcard_constraints:
    model="|".join(phasetrace.models.MODELS),
    L=r"\d+",
    stage=r"[a-z]+",
    point=r"[a-zA-Z]+\d+\.\d+(/[a-zA-Z]+\d+\.\d+)*",
    block=r"r\d+-\d+",
    classifier="|".join(CLASSIFIER_KINDS),
    set=r"all|[a-zA-Z]+\d+\.\d+",
    variant=r"(site|imbalance)-N(inf|\d+)-t\d+",


def model_of(wildcards):
    return phasetrace.models.get(wildcards.model)


def sized(wildcards):
    """The config as a job of the {model} wildcard at the {L} wildcard reads it (one L; phasetrace.sweep.at_size)."""
    return at_size(config, wildcards.model, wildcards.L)


def job_targets(model, L, stage=None, cfg=None, held=None):
    """Every job output of ``model`` at length L (of its ``stage``; default: the last, which the dataset gathers);
    ``cfg``: the model's section (default: the config's) with fewer points; ``held``: its realization blocks
    (default: the config's).
    """
    m = phasetrace.models.get(model)
    st = m.stages[-1] if stage is None else phasetrace.models.stage(m, stage)
    cfg = config[model] if cfg is None else cfg
    R = config[model]["realizations"]  # the width of block names
    held = blocks(R, realizations_per_job(cfg)) if held is None else held
    return [
        path(
            "job",
            model=model,
            L=L,
            stage=st.name,
            point=point_name(p),
            block=block_name(b, R),
        )
        for p in points(phasetrace.models.grids(m, cfg, st.dims))
        for b in held
    ]


def dataset(model, L=None):
    """The model's dataset at length L (default: its largest)."""
    return path("dataset", model=model, L=L or main_size(config[model]))


def network_targets(model, kind, L=None):
    """The saved sets of one classifier kind: one per training set of the model."""
    return [
        path(
            "network",
            model=model,
            L=L or main_size(config[model]),
            classifier=kind,
            set=name,
        )
        for name, _ in phasetrace.models.training_sets(config, model)
    ]


def confusion(model, kind, what="confusion", L=None):
    return path(what, model=model, L=L or main_size(config[model]), classifier=kind)


def job_point(wildcards, stage):
    """The exact sweep point of a simulation job of ``stage``, from its {point} wildcard."""
    m = model_of(wildcards)
    dims = phasetrace.models.stage(m, stage).dims
    return parse_point(
        wildcards.point, phasetrace.models.grids(m, config[m.name], dims)
    )


def job_block(wildcards):
    """The realization block of a simulation job, refused unless the config builds it: the model's blocks, and
    at the convergence study's L those past them (phasetrace.models.convergence_sweep).
    """
    cfg = config[wildcards.model]
    held = blocks(cfg["realizations"], realizations_per_job(cfg))
    if "scaling" in config and wildcards.model == "mbl":
        _, conv_L, _, conv_blocks = phasetrace.models.convergence_sweep(config)
        held += conv_blocks if int(wildcards.L) == conv_L else []
    return check_block(wildcards.block, held, cfg["realizations"], wildcards.model)


def stage_inputs(wildcards):
    """The input of a simulation job: the output of the stage it needs at its block, if any (the job's block
    checked first: job_block)."""
    job_block(wildcards)
    m = model_of(wildcards)
    st = phasetrace.models.stage(m, wildcards.stage)
    if st.needs is None:
        return []
    need = phasetrace.models.stage(m, st.needs)
    values = job_point(wildcards, st.name)
    return path(
        "job",
        model=m.name,
        L=wildcards.L,
        stage=need.name,
        point=point_name({d: values[d] for d in need.dims}),
        block=wildcards.block,
    )


# The finite-size study's outputs (scaling.smk)
SCALING = [
    "results/checks/scaling.csv",
    "results/checks/scaling_drift.csv",
    "results/figures/scaling.png",
]
CONVERGENCE = ["results/checks/convergence.csv", "results/figures/convergence.png"]
# The replicate study's outputs (replicates.smk; its own target, not in all)
REPLICATES_TABLE = ["results/checks/replicates.csv", "results/figures/replicates.png"]


def scaling_targets():
    """The study's outputs where the config asks for it: a scaling section and a model with several L."""
    if not finite_size_study(config):
        return []
    return SCALING + (CONVERGENCE if "mbl" in MODELS else [])


# The robustness study's outputs (measurement.smk)
MEASUREMENT = ["results/checks/measurement.csv", "results/figures/measurement.png"]


def robustness_inputs():
    """Every (enabled model, measurement variant) of the robustness study, at the model's largest L."""
    return [
        path("robustness", model=m, L=main_size(config[m]), variant=v)
        for m in MODELS
        for v in robustness_variants(config)
    ]


def robustness_sets(model):
    """The share of a model's dataset one variant job reads, for each kind it fits."""
    return len(scaling_kinds(config)) * one_set(model)


def all_targets():
    """The phase diagram, the classifier comparison, the paper's checks of the enabled models (checks.smk), the
    robustness study where the config has its section (measurement.smk) and, where a model lists several L, the
    finite-size study (scaling.smk)."""
    figures = [n for m in MODELS for n in PAPER_CHECKS.get(m, [])] + ["classifiers"]
    return (
        ["results/phase_diagram.png"]
        + [f"results/figures/{n}.png" for n in figures]
        + (MEASUREMENT if "robustness" in config else [])
        + scaling_targets()
    )


def declared(stage, model=None):
    """params: the settings that ``stage``'s outputs depend on (phasetrace.provenance), at the job's sweep point.

    Declared so that Snakemake's params trigger reruns a job exactly when what it reads changes.
    """

    def get(wildcards):
        keys = wildcards.keys()
        name = wildcards.model if "model" in keys else model
        # a job at one L reads that L; the finite-size study every L; other figures each model's largest
        cfg = (
            at_size(config, name, wildcards.L)
            if "L" in keys
            else config if stage == "scaling" else MAIN
        )
        point = {"classifier": wildcards.classifier} if "classifier" in keys else {}
        st = wildcards.stage if stage == "{stage}" else stage
        if "point" in keys:
            point |= job_point(wildcards, st)
        if "variant" in keys:
            point |= {"variant": wildcards.variant}
        if "set" in keys and wildcards.set != "all":
            m = phasetrace.models.get(name)
            point |= parse_point(
                wildcards.set, phasetrace.models.grids(m, config[name], m.set_dims)
            )
        settings = phasetrace.provenance.settings(cfg, st, name, **point)
        return phasetrace.provenance.canonical(settings)

    return get


def simulation_resources(field):
    """A resource callable of a simulation job: the model's estimate at the job's point, growing with retries."""

    def get(wildcards, attempt):
        m = model_of(wildcards)
        point = job_point(wildcards, wildcards.stage)
        return phasetrace.resources.simulation(
            sized(wildcards), m, wildcards.stage, attempt, **point
        )[field]

    return get


def estimate(kind, field, model=None, cfg=None, **fixed):
    """A resource callable: phasetrace.resources.<kind>(config, model, ...)[field], growing with each retry;
    ``model`` defaults to the job's {model} wildcard; ``sets`` may be a function of the model; ``cfg``: the config
    it reads (default: the job's L, else every model's largest)."""
    func = getattr(phasetrace.resources, kind)

    def get(wildcards, attempt):
        name = model or wildcards.model
        if cfg is not None:
            given = cfg
        elif "L" in wildcards.keys():
            given = sized(wildcards)
        else:
            given = MAIN
        extra = {k: v(name) if callable(v) else v for k, v in fixed.items()}
        return func(
            given, phasetrace.models.get(name), attempt=attempt, **extra
        )[field]

    return get


def figure_resources(field):
    """A figure over every enabled model: the memory of all their datasets, the longest time."""

    def get(wildcards, attempt):
        each = [
            phasetrace.resources.aggregate(
                MAIN, phasetrace.models.get(m), attempt=attempt
            )
            for m in MODELS
        ]
        return (
            sum(r[field] for r in each)
            if field == "mem_mb"
            else max(r[field] for r in each)
        )

    return get


def one_set(model):
    """The share of a model's dataset one training set reads."""
    return 1 / len(phasetrace.models.training_sets(config, model))


def run_job(log, resources, target, *args):
    """Call phasetrace.<module>.<function>(*args) for target "module:function", logging to ``log``.

    The job's JAX computations run on a GPU only where its resources ask for one (``gpu``, set by the GPU
    profiles), on the CPU otherwise. The import happens inside the job, so parsing the workflow never imports JAX.
    """
    import importlib

    from phasetrace.runner import logged
    from phasetrace.store import DamagedFileError

    module_name, function = target.split(":")
    try:
        logged(
            log,
            getattr(importlib.import_module(f"phasetrace.{module_name}"), function),
            *args,
            gpus=resources.get("gpu", 0),
        )
    except DamagedFileError as err:
        # advise the command that rebuilds it, as this run was started
        raise err.with_command(rebuild_command([err.path])) from err


def rebuild_command(paths):
    """The command that rebuilds ``paths`` and everything made from them (phasetrace.runner.rebuild_command)."""
    from phasetrace.runner import rebuild_command as command

    cfg = workflow.config_settings
    return command(
        paths,
        workflow.main_snakefile,
        os.getcwd(),
        cfg.configfiles or (),
        cfg.config_args or (),
    )
