"""How phasetrace code is run: the numerical state, the device of a job, the compilation cache, job logs.

Numerical state is set here, explicitly, and never by importing a module: :func:`configure` turns on JAX's
64-bit mode (the kernels need double precision, and training draws its dropout masks, permutations and
initial weights under the same mode whichever entry point runs it). The workflow's job runner (:func:`logged`),
the command line and the public API functions (the models' ``simulate``, :func:`.training.fit_set`) call it;
code that calls the lower-level kernels or training functions directly calls it first (they refuse otherwise).
"""

from __future__ import annotations

from . import __version__


def configure() -> None:
    """Set phasetrace's numerical state: JAX's 64-bit mode on. Idempotent; call before any JAX array is built."""
    import jax

    jax.config.update("jax_enable_x64", True)


def require_configured(what: str) -> None:
    """Refuse to compute ``what`` unless :func:`configure` has run (else results would silently be float32)."""
    import jax

    if not jax.config.jax_enable_x64:
        raise RuntimeError(
            f"{what} needs JAX's 64-bit mode: call phasetrace.runner.configure() first "
            "(the workflow, the command line and the models' simulate functions do)"
        )


def enable_compilation_cache(path: str | None = None) -> None:
    """Share compiled kernels between job processes (each local Snakemake job is a process of its own).

    The cache lives in ``$PHASETRACE_JAX_CACHE`` or ``.snakemake/phasetrace-jax-cache`` of the working directory.
    """
    import os

    import jax

    path = path or os.environ.get("PHASETRACE_JAX_CACHE") or os.path.join(".snakemake", "phasetrace-jax-cache")
    jax.config.update("jax_compilation_cache_dir", os.path.abspath(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


def job_device(gpus: int = 0):
    """The JAX device a job runs on: the first GPU when the job was given ``gpus`` ≥ 1, else the CPU.

    GPU use is opt-in per job (the GPU profiles give simulation rules ``gpu: 1``), so CPU rules never
    touch a GPU that a simulation job holds.
    """
    import jax

    if not gpus:
        return jax.devices("cpu")[0]
    try:
        return jax.devices("gpu")[0]
    except RuntimeError as err:
        raise RuntimeError(
            f"this job asks for {gpus} GPU(s) (resource 'gpu') but JAX sees none ({err}); install the CUDA "
            "build (pip install -e '.[cuda]', or envs/phasetrace-cuda.yaml) or run without a GPU profile"
        ) from None


def logged(log_path: str, func, *args, gpus: int = 0) -> None:
    """Run ``func(*args)`` on :func:`job_device` after :func:`configure`, writing its start, device, duration and
    any traceback to ``log_path`` (errors re-raised)."""
    import time
    import traceback
    from pathlib import Path

    import jax

    configure()
    enable_compilation_cache()
    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with open(log_path, "w") as log:
        log.write(f"phasetrace {__version__}: {func.__name__}{tuple(a for a in args if isinstance(a, str))}\n")
        try:
            device = job_device(gpus)
            log.write(f"device: {device.platform} {device}\n")
            with jax.default_device(device):
                func(*args)
        except Exception:
            log.write(traceback.format_exc())
            raise
        log.write(f"done in {time.perf_counter() - start:.2f} s\n")


def rebuild_command(
    paths: list[str], snakefile: str, workdir: str, configfiles=(), config_args=(), cores: str = "all"
) -> str:
    """The command that rebuilds workflow outputs ``paths`` and everything made from them, as the run that asked
    for them was started (its Snakefile, working directory, config files and ``--config`` values): ``snakemake
    --forcerun PATH …`` reruns the jobs of ``paths`` and every job downstream of them, so the default target built
    afterwards finds nothing left to do. ``--snakefile`` and ``--directory`` are named only where the Snakefile is
    not the working directory's own."""
    import os
    import shlex

    cmd = ["snakemake", "--cores", cores]
    workdir = os.path.abspath(workdir)
    if os.path.abspath(snakefile) != os.path.join(workdir, "Snakefile"):
        cmd += ["--snakefile", os.path.abspath(snakefile), "--directory", workdir]
    if configfiles:
        cmd += ["--configfile", *(os.path.abspath(f) for f in configfiles)]
    if config_args:
        cmd += ["--config", *map(str, config_args)]
    return shlex.join([*cmd, "--forcerun", *map(str, paths)])
