"""The SLURM profile against a real single-node SLURM that this module starts on localhost (tests/slurmcluster.py).

Skipped, with the reason printed, only where the cluster cannot run (not root, or Debian's packages missing);
with PHASETRACE_REQUIRE_SLURM=1 (set by .ci/run, which installs the packages) that is a failure instead.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from slurmcluster import SlurmCluster, missing_programs
from tiny import FLQ_DS, MBL_DS, ROOT, SNAKEMAKE, TINY, snakemake, workdir

# One worker runs both (pytest-xdist --dist loadgroup): they share the module's cluster, started once.
pytestmark = [pytest.mark.slurm, pytest.mark.xdist_group("slurm")]

PROFILE = str(ROOT / "profiles" / "slurm")
# The plugin waits 40 s before its first status query by default; the test cluster answers at once.
FAST = ["--cores", "2", "--slurm-init-seconds-before-status-checks", "5"]
PACKAGES = "slurmctld slurmd slurm-client munge slurmdbd mariadb-server"


def _unavailable() -> str | None:
    if os.geteuid() != 0:
        return "the test cluster's daemons run as root"
    missing = missing_programs()
    if missing:
        return f"missing {', '.join(missing)} (Debian: apt-get install {PACKAGES})"
    if importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        return "snakemake-executor-plugin-slurm is not installed (pip install -e '.[slurm]')"
    return None


@pytest.fixture(scope="module")
def cluster():
    reason = _unavailable()
    if reason:
        if os.environ.get("PHASETRACE_REQUIRE_SLURM") == "1":
            pytest.fail(f"SLURM test required (PHASETRACE_REQUIRE_SLURM=1) but cannot run: {reason}")
        print(f"\nSKIP SLURM tests: {reason}")
        pytest.skip(f"SLURM test cannot run here: {reason}")
    root = Path(tempfile.mkdtemp(prefix="phasetrace-slurm-"))  # short: unix socket paths are ≤ 107 bytes
    try:
        with SlurmCluster(root) as c:
            yield c
    finally:
        shutil.rmtree(root, ignore_errors=True)


def slurm_snakemake(cluster: SlurmCluster, d: Path, *args: str, check: bool = True):
    return snakemake(d, "--profile", PROFILE, *FAST, *args, env=cluster.env(), check=check)


def sacct(cluster: SlurmCluster) -> list[tuple[str, str]]:
    """(job id, state) of every allocation this cluster has accounted."""
    out = cluster.run(
        "sacct", "-X", "--noheader", "--parsable2", "--format=JobID,State", "--starttime=2000-01-01"
    ).stdout
    return [tuple(line.split("|")) for line in out.splitlines() if line]


def assert_same_dataset(a: Path, b: Path) -> None:
    xa, xb = xr.open_zarr(a).load(), xr.open_zarr(b).load()
    xr.testing.assert_identical(xa, xb)


def test_slurm_profile_reproduces_the_local_run(cluster, reference_run, tmp_path):
    """Both models, training and the phase diagram through sbatch; simulation jobs bundled into few submissions."""
    d = workdir(tmp_path, TINY, "slurm")
    before = len(sacct(cluster))
    proc = slurm_snakemake(cluster, d, "results/phase_diagram.png")
    for ds in (MBL_DS, FLQ_DS):
        assert_same_dataset(d / ds, reference_run / ds)
    for model in ("mbl/L6", "floquet/L4"):
        local = xr.open_zarr(reference_run / f"results/{model}/lstm/confusion.zarr").load()
        remote = xr.open_zarr(d / f"results/{model}/lstm/confusion.zarr").load()
        np.testing.assert_allclose(remote["p"].values, local["p"].values, rtol=0, atol=1e-6)
    assert (d / "results/phase_diagram.png").read_bytes()[:4] == b"\x89PNG"

    jobs = sacct(cluster)[before:]
    assert jobs and all(state == "COMPLETED" for _, state in jobs), jobs
    # 30 MBL + 6 Floquet simulation jobs and 12 others: the simulation jobs travel in group submissions
    steps = int(proc.stdout.count("Finished jobid") + proc.stderr.count("Finished jobid"))
    assert len(jobs) < steps - 30, (len(jobs), steps)
    assert any((d / "logs" / "slurm").rglob("*.log")), "SLURM's job logs are kept under logs/slurm"


def test_scancelled_job_is_finished_by_a_rerun(cluster, reference_run, tmp_path):
    d = workdir(tmp_path, TINY, "cancel")
    before = {job for job, _ in sacct(cluster)}
    cmd = SNAKEMAKE + [
        "--directory",
        str(d),
        "--configfile",
        str(d / "config.yaml"),
        "--profile",
        PROFILE,
        *FAST,
        "--retries",
        "0",
        MBL_DS,
    ]
    run = subprocess.Popen(cmd, env=cluster.env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        # Wait until the simulation group runs and has written part of its outputs: then cancel it.
        deadline = time.monotonic() + 300
        traces = d / "results" / "mbl" / "L6" / "traces"
        while not (traces.exists() and any(traces.rglob("*.zarr.zip"))):
            assert run.poll() is None, run.stdout.read()
            assert time.monotonic() < deadline, "no traces job finished within 300 s"
            time.sleep(0.2)
        running = [job for job, state in sacct(cluster) if state == "RUNNING" and job not in before]
        assert running, sacct(cluster)
        cluster.run("scancel", *running)
        out, _ = run.communicate(timeout=300)
    finally:
        if run.poll() is None:
            run.kill()
    assert run.returncode != 0, out[-3000:]
    assert any(job in running and state.startswith("CANCELLED") for job, state in sacct(cluster))
    assert not (d / MBL_DS).exists()

    slurm_snakemake(cluster, d, MBL_DS)
    assert_same_dataset(d / MBL_DS, reference_run / MBL_DS)
