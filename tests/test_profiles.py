"""Execution profiles and resource requests, without a cluster: what the profiles ask of SLURM and of a GPU.

The profiles' real run is tests/test_slurm.py (against a SLURM started on localhost).
"""

from __future__ import annotations

import math
import re
import subprocess
import sys

import pytest
import yaml

from phasetrace import resources, runner
from phasetrace.measurement import robustness_variants
from phasetrace.models import FLOQUET, MBL
from phasetrace.sweep import grid
from tiny import ROOT, SNAKEMAKE, TINY, job_stats, snakemake, workdir

PROFILES = ROOT / "profiles"
GPU_KEYS = {"config", "set-resources", "slurm-array-jobs", "groups", "group-components"}


def profile(name: str) -> dict:
    return yaml.safe_load((PROFILES / name / "config.yaml").read_text())


def test_gpu_cluster_profile_differs_from_the_cpu_one_only_in_gpu_settings():
    cpu, gpu = profile("slurm"), profile("slurm-gpu")
    assert {k: v for k, v in cpu.items() if k not in GPU_KEYS} == {k: v for k, v in gpu.items() if k not in GPU_KEYS}
    sim = {"simulate"}
    assert {rule for rule, res in gpu["set-resources"].items() if res.get("gpu") == 1} == sim
    assert set(gpu["slurm-array-jobs"].split(",")) == sim
    assert profile("gpu")["set-resources"] == gpu["set-resources"] and profile("gpu")["resources"] == ["gpu=1"]


def dry_run(*args: str) -> str:
    proc = subprocess.run(SNAKEMAKE + ["-n", *args], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout + proc.stderr


@pytest.mark.workflow
def test_paper_preset_goes_to_slurm_in_a_bounded_number_of_submissions():
    paper = yaml.safe_load((ROOT / "config" / "paper.yaml").read_text())
    defaults = yaml.safe_load((ROOT / "config.yaml").read_text())  # the sections the preset leaves out
    out = dry_run("--profile", str(PROFILES / "slurm"), "--configfile", str(ROOT / "config" / "paper.yaml"))
    comps = dict(item.split("=") for item in profile("slurm")["group-components"])
    n_W, n_feps = len(grid(paper["mbl"]["W"])), len(grid(paper["floquet"]["eps"]))
    # components: one W's bounds job with its traces jobs (one per ε), or one Floquet traces job
    assert out.count("Group job simulation") == math.ceil((n_W + n_feps) / int(comps["simulation"]))  # 33
    counts = job_stats(out)
    submitted_alone = len([line for line in out.splitlines() if re.match(r"rule (?!all:)\w+:", line)])
    submissions = out.count("Group job") + submitted_alone
    # 4 classifier kinds: 13 MBL sets and 1 Floquet set each; one robustness variant per (model, variant); each
    # detection scheme beside supervised with each of its kinds, per model: all in training groups of 16
    variants = 2 * len(robustness_variants(paper))
    schemes = 2 * len(defaults["schemes"]["kinds"]) * len(set(defaults["schemes"]["compare"]) - {"supervised"})
    assert (counts["network"], counts["robustness_variant"], counts["scheme"]) == (4 * 14, variants, schemes)
    assert out.count("Group job training") == math.ceil((4 * 14 + variants + schemes) / int(comps["training"]))
    grouped = counts["confusion"] + counts["optimal"]  # one confusion dataset per kind and model, one optimal per model
    assert out.count("Group job aggregation") == math.ceil(grouped / int(comps["aggregation"]))
    # 961 simulate, the trained jobs, 22 others (datasets, confusion, optimal predictors, figures, checks, gathers)
    assert counts["simulate"] == 961 and sum(counts.values()) == 961 + 56 + variants + schemes + 22, counts
    assert submissions <= 60, submissions


@pytest.mark.workflow
def test_gpu_profile_puts_every_realization_of_a_point_in_one_gpu_job(tmp_path):
    d = workdir(tmp_path, TINY)
    out = snakemake(d, "-n", "--profile", str(PROFILES / "gpu"), "results/mbl/L6/traces.zarr").stdout
    assert "traces/eps0.3000/W3.000/r000-003.zarr.zip" in out  # 4 realizations, one job
    traces = [block for block in out.split("rule ") if block.startswith("simulate:")]
    assert traces and all("gpu=1" in block for block in traces)
    dataset = next(block for block in out.split("rule ") if block.startswith("dataset:"))
    assert "gpu=" not in dataset


def test_jobs_use_a_gpu_only_when_asked_and_say_so_when_there_is_none():
    import jax

    assert runner.job_device(0).platform == "cpu"
    if not any(d.platform == "gpu" for d in jax.devices()):
        with pytest.raises(RuntimeError, match=r"asks for 1 GPU.*pip install -e '\.\[cuda\]'"):
            runner.job_device(1)


def test_requests_grow_with_the_problem_and_with_each_retry():
    import copy

    cfg = copy.deepcopy(TINY)
    small = resources.simulation(cfg, MBL, "traces", W=1.0)
    assert resources.simulation(cfg, MBL, "traces", W=8.0)["runtime"] >= small["runtime"]
    assert resources.simulation(cfg, MBL, "traces", attempt=2, W=1.0)["runtime"] == 2 * small["runtime"]
    assert resources.simulation(cfg, MBL, "traces", attempt=2, W=1.0)["mem_mb"] > small["mem_mb"]
    cfg["mbl"]["L"], cfg["mbl"]["realizations_per_job"] = 20, 50
    cfg["mbl"]["realizations"], cfg["mbl"]["t_max"] = 50, 500.0
    big = resources.simulation(cfg, MBL, "traces", W=8.0)
    assert big["mem_mb"] > small["mem_mb"] and big["runtime"] >= 10 * small["runtime"]
    cfg["mbl"]["realizations_per_job"] = 25  # half the job: less memory although its kernel calls are as wide
    assert resources.simulation(cfg, MBL, "traces", W=8.0)["mem_mb"] < big["mem_mb"]
    assert (
        resources.simulation(cfg, MBL, "bounds", W=8.0)["mem_mb"]
        > resources.simulation(cfg, MBL, "traces", W=8.0)["mem_mb"]
    )  # the bounds' Lanczos holds every column at once


def test_only_jobs_whose_kernel_call_outgrows_the_cache_take_the_memory_bus():
    """``membus`` follows the bytes of a job's widest kernel call: the precision, L and the realizations per call."""
    import copy

    cfg = copy.deepcopy(TINY)
    cfg["mbl"] |= {"L": 16, "realizations": 50, "realizations_per_job": 25, "precision": "mixed"}
    assert resources.simulation(cfg, MBL, "traces", W=3.0)["membus"] == 1  # 4 x 12,870 x 50 x 4 B = 10.3 MB
    cfg["mbl"]["realizations_per_job"] = 8  # 3.3 MB
    assert resources.simulation(cfg, MBL, "traces", W=3.0)["membus"] == 0
    cfg["mbl"] |= {"L": 14, "realizations_per_job": 25, "precision": "float64"}  # 5.5 MB
    assert resources.simulation(cfg, MBL, "traces", W=3.0)["membus"] == 0
    cfg["mbl"]["L"] = 20  # calls of 8 columns: 95 MB in float64
    assert resources.simulation(cfg, MBL, "traces", W=3.0)["membus"] == 1
    assert resources.simulation(cfg, MBL, "bounds", W=3.0)["membus"] == 1  # the same gathers, every column at once
    # the drive's passes are not the gather kernel: its L = 14 jobs (26 MB of vectors, ≈ 1 s each) run beside the lane
    cfg["floquet"] |= {"L": 14, "realizations": 50, "realizations_per_job": 25}
    work = FLOQUET.work(cfg, "traces", {"eps": 0.5})
    assert 4 * work.dim * 2 * work.columns * 8 > resources.MEMBUS_BYTES
    assert resources.job(work)["membus"] == 0


# Peak RSS of the measuring process's own memory (VmHWM): ru_maxrss would also count the pytest process it was forked
# from, which Linux carries across exec. A bounds job writes its bounds for the traces job, as the workflow's do.
MEASURE = """
import sys, numpy as np
from phasetrace.kernels.heisenberg import SpectralBounds
from phasetrace.models import MBL
stage, L, n, path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
if stage == "bounds":
    b = MBL.bounds(1, L, 4.0, range(n))
    np.savez(path, E0=b.E0, Emax=b.Emax, err0=b.err0, errmax=b.errmax, iterations=b.iterations)
else:
    with np.load(path) as f:
        b = SpectralBounds(*(f[k] for k in ("E0", "Emax", "err0", "errmax", "iterations")))
    MBL.simulate(1, L, 4.0, [0.5], range(n), times=np.linspace(0, 2, 3), bounds=b)
status = open("/proc/self/status").read()
print(int(status.split("VmHWM:")[1].split()[0]) // 1024)
"""


@pytest.mark.slow
@pytest.mark.parametrize("L", [16, 18])
def test_memory_requests_cover_measured_jobs(tmp_path, L):
    """Peak RSS of real bounds and traces jobs of 20 realizations (L = 18: traces in calls of 7, 7 and 6 columns)
    against what the rules ask SLURM for."""
    n = 20
    cfg = {**TINY, "mbl": {**TINY["mbl"], "L": L, "realizations": n, "realizations_per_job": n}}
    for stage in ("bounds", "traces"):
        cmd = [sys.executable, "-c", MEASURE, stage, str(L), str(n), str(tmp_path / "bounds.npz")]
        peak_mb = int(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.split()[-1])
        asked = resources.simulation(cfg, MBL, stage, W=4.0)["mem_mb"]
        assert peak_mb < asked, (stage, peak_mb, asked)
