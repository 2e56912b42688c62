import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # the independent dense reference, tests/dense.py

from phasetrace.runner import configure  # noqa: E402

configure()  # JAX's 64-bit mode before any test builds arrays, as the workflow's jobs and the CLI do


import pytest  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def shared_compilation_cache(tmp_path_factory):
    """One JAX compilation cache for every workflow job the tests start (phasetrace.runner.enable_compilation_cache;
    a run's own default is its directory's .snakemake/): the tiny sweep's kernels and networks are compiled once per
    session, not once per test directory. The first run (the reference run) compiles everything cold; a cached
    executable is the one compilation made, so results are the same bit for bit (the rerun tests compare them).
    Under pytest-xdist (``make test`` runs two workers) the workers share one cache in the session's common root."""
    import os

    base = tmp_path_factory.getbasetemp()
    cache = base.parent / "jax-cache" if os.environ.get("PYTEST_XDIST_WORKER") else base / "jax-cache"
    cache.mkdir(exist_ok=True)
    os.environ["PHASETRACE_JAX_CACHE"] = str(cache)


@pytest.fixture(scope="session")
def reference_run(tmp_path_factory) -> Path:
    """The tiny sweep's default target, built once per test session by the README's quick-start command (so the
    README's command is what the fast tier runs), in a directory that also holds the tiny config as config.yaml."""
    import subprocess

    from tiny import ROOT, TINY, readme_quickstart, workdir

    d = workdir(tmp_path_factory.mktemp("ref"), TINY)
    proc = subprocess.run(readme_quickstart(d), capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-5000:]
    return d


def pytest_collection_modifyitems(items):
    """The SLURM tests first: under pytest-xdist (``make test``) their worker spends most of their ten minutes
    waiting on the cluster's status queries while the other worker runs the rest; collected last (test_slurm.py),
    they would start when the other tests are done and wait alone."""
    items.sort(key=lambda item: item.get_closest_marker("slurm") is None)
