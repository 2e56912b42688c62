"""Finding damage without a job reading it: every Zarr store under a results folder checked against its manifest
(:mod:`.store`), and the command that rebuilds the damaged ones.

Deleting a chunk does not change a store's timestamp, so Snakemake sees nothing to rerun; ``python -m phasetrace
verify`` (over ``results/`` by default) reads every store's bytes once and names each damaged store with what is
wrong. Its cost is one read of the results (BLAKE2b hashes at ≈ 1 GB/s per core): well under a second for the
default run's results, ≈ 1–2 s for the paper preset's ≈ 1 GB.

Stores written before phasetrace recorded manifests have none: the workflow's readers refuse them, and ``verify
--adopt`` records a manifest of each as it is (a chunk lost before adoption cannot be detected), keeping its
timestamps so that Snakemake reruns nothing.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from .store import MANIFEST, DamagedFileError, seal, verify_store

STORE_SUFFIXES = (".zarr", ".zarr.zip")


def stores(root: str | os.PathLike) -> list[Path]:
    """Every Zarr store under ``root`` (directories ``*.zarr``, files ``*.zarr.zip``), in path order; temporaries of
    unfinished writes (``.<name>.tmp-*``) are not stores."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        for name in list(dirnames):
            if name.endswith(".zarr") and not name.startswith("."):
                out.append(here / name)
                dirnames.remove(name)  # a store's own keys are not stores
        out += [here / f for f in filenames if f.endswith(".zarr.zip") and not f.startswith(".")]
    return sorted(out)


def damaged(paths: list[Path]) -> list[DamagedFileError]:
    """The damage found in each of ``paths`` (every key's size and digest against the manifest)."""
    found = []
    for path in paths:
        try:
            verify_store(path)
        except DamagedFileError as err:
            found.append(err)
    return found


def unsealed(paths: list[Path]) -> list[Path]:
    """The stores of ``paths`` without a manifest."""
    return [p for p in paths if not ((p / MANIFEST).exists() if p.is_dir() else _zip_has_manifest(p))]


def _zip_has_manifest(path: Path) -> bool:
    import zipfile

    try:
        with zipfile.ZipFile(path) as zf:
            return MANIFEST in zf.namelist()
    except (zipfile.BadZipFile, OSError):
        return True  # unreadable: damaged, not a store to adopt


def size_of(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else path.stat().st_size


def main(roots: list[str], adopt: bool = False) -> int:
    """Check (``adopt``: first record manifests of stores without one) every store under ``roots``; print what is
    damaged and the command that rebuilds it; return the exit status (1 if anything is damaged)."""
    from .store import REBUILD

    paths = [p for root in roots for p in stores(root)]
    if adopt:
        new = unsealed(paths)
        for p in new:
            seal(p)
        print(f"adopted {len(new)} store(s) without a manifest, as they are")
    start = time.perf_counter()
    found = damaged(paths)
    took = time.perf_counter() - start
    total = sum(size_of(p) for p in paths)
    print(f"checked {len(paths)} store(s), {total / 1e6:.1f} MB, in {took:.2f} s under {', '.join(roots)}")
    if not found:
        print("every store is intact")
        return 0
    for err in found:
        print(f"DAMAGED {err.path}: {err.problem}")
    print(
        f"{len(found)} damaged store(s). Rebuild them and everything made from them, in the directory the workflow "
        "ran in (with the --snakefile/--configfile options of that run, if it had any):\n  "
        + REBUILD.format(path=" ".join(err.path for err in found))
    )
    return 1
