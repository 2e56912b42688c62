"""The tiny sweep every workflow test runs, and how they run it (shared by test_workflow and test_slurm)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile")]

TINY = {
    "seed": 7,
    "mbl": {
        "L": 6, "J": 1.0, "boundary": "periodic",
        "eps": [0.3, 0.7], "W": [0.25, 0.5, 3.0, 7.5, 8.0],
        "realizations": 4, "realizations_per_job": 2, "t_max": 50.0, "n_times": 6,
        "windows": {"ergodic_W_max": 0.5, "localized_W_min": 7.5},
    },
    "floquet": {
        "L": 4, "boundary": "open", "eps": {"start": 0.0, "stop": 1.5707963267948966, "num": 5},
        "realizations": 3, "realizations_per_job": 2, "periods": 10, "T1": 1.0, "T2": 1.0,
        "g": 1.5707963267948966,
        "windows": {"time_crystal": [0.0, 0.05], "ergodic": [0.7, 0.8], "floquet_mbl": [1.52, 1.5707963267948966]},
    },
    "training": {
        "classifier": "lstm", "compare": ["imbalance", "logistic", "mlp"], "input": "aligned", "late_times": 3,
        "bootstrap": 50, "units": 4, "dropout": 0.2, "l2": 0.01, "learning_rate": 0.01, "batch_size": 8, "epochs": 2, "seeds": 2,
        "holdout": 0.2, "confidence_weight": 0.0,
    },
    "checks": {"units": [1, 4], "units_eps": 0.3, "windows": [[0.25, 8.0], [0.5, 7.5]]},
}
MBL_DS = "results/mbl/L6/traces.zarr"
FLQ_DS = "results/floquet/L4/traces.zarr"


def workdir(tmp_path: Path, config: dict, name: str = "run") -> Path:
    d = tmp_path / name
    d.mkdir()
    (d / "config.yaml").write_text(yaml.safe_dump(config))
    return d


def snakemake(d: Path, *args: str, check: bool = True, **kw) -> subprocess.CompletedProcess:
    cmd = SNAKEMAKE + ["--directory", str(d), "--configfile", str(d / "config.yaml"), *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}")
    return proc


def job_stats(log: str) -> dict[str, int]:
    """The 'Job stats' table Snakemake prints before running: rule → job count."""
    lines = log[log.index("Job stats:") :].splitlines()[3:]
    rows = {}
    for line in lines:
        parts = line.split()
        if len(parts) != 2 or parts[0] == "total":
            break
        rows[parts[0]] = int(parts[1])
    return rows
