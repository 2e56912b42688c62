"""The tiny sweep every workflow test runs, and how they run it (shared by test_workflow and test_slurm)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile")]

# The tiny sweep: a real config file a user can run too (Snakemake's .test convention).
TINY = yaml.safe_load((ROOT / ".test" / "config" / "config.yaml").read_text())
MBL_DS = "results/mbl/L6/traces.zarr"
FLQ_DS = "results/floquet/L4/traces.zarr"


def readme_quickstart(directory: Path) -> list[str]:
    """The README's quick-start command (its ``.venv/bin/snakemake ... --directory /tmp/tiny`` line), run with this
    interpreter's Snakemake into ``directory``."""
    text = (ROOT / "README.md").read_text()
    (line,) = [ln for ln in text.splitlines() if ln.startswith(".venv/bin/snakemake ") and "--directory" in ln]
    args = line.split()[1:]
    args[args.index("--directory") + 1] = str(directory)
    return [sys.executable, "-m", "snakemake", *args]


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


def planned_jobs(log: str) -> dict[str, int]:
    """The jobs a dry run's log lists, counted by what they make: ``<model>_<stage>`` for the generic rules
    (``mbl_bounds``, ``mbl_traces``, ``floquet_traces``, ``mbl_dataset``, ``mbl_network``, ``mbl_confusion``,
    ``mbl_scheme``, ``floquet_optimal``, …),
    ``check_<name>`` for the paper's checks, the rule's name otherwise."""
    counts: dict[str, int] = {}
    for block in re.split(r"^(?:local)?rule ", log, flags=re.M)[1:]:
        rule = block.split(":", 1)[0]
        out = re.search(r"^\s+output: ([^,\s]+)", block, re.M)
        key = rule
        if out and rule in ("simulate", "dataset", "network", "confusion", "scheme", "optimal"):
            parts = out.group(1).split("/")  # results/<model>/L<L>/...
            what = parts[3] if rule == "simulate" else rule
            key = f"{parts[1]}_{what}"
        elif out and rule == "check":  # results/checks/<check>.csv
            key = f"check_{out.group(1).split('/')[-1].removesuffix('.csv')}"
        counts[key] = counts.get(key, 0) + 1
    return counts


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
