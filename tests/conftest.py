import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # the independent dense reference, tests/dense.py

from phasetrace.runner import configure  # noqa: E402

configure()  # JAX's 64-bit mode before any test builds arrays, as the workflow's jobs and the CLI do


import pytest  # noqa: E402


@pytest.fixture(scope="session")
def reference_run(tmp_path_factory) -> Path:
    """The tiny sweep's default target, built locally once per test session."""
    from tiny import TINY, snakemake, workdir

    d = workdir(tmp_path_factory.mktemp("ref"), TINY)
    snakemake(d, "--cores", "2")
    return d
