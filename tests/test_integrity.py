"""Nothing silently wrong (issue 24): every store carries a manifest that every reader checks, damage is found
without a job reading it, one printed command heals a damaged result, two classify runs cannot write one --out,
and the config values and messages of findings 4–6."""

from __future__ import annotations

import copy
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import yaml

from phasetrace import training
from phasetrace.__main__ import _checked_input, classify, out_lock
from phasetrace.config import validate
from phasetrace.paper_checks import gap_peak
from phasetrace.store import (
    MANIFEST,
    DamagedFileError,
    open_dataset,
    open_traces,
    read_arrays,
    read_traces_csv,
    write_arrays,
    write_dataset,
)
from phasetrace.sweep import check_block, grid, point_name
from phasetrace.verify import main as verify
from tiny import MBL_DS, ROOT, SNAKEMAKE, TINY, snakemake, workdir

PHASETRACE = [sys.executable, "-m", "phasetrace"]
CONFUSION = "results/mbl/L6/lstm/confusion.zarr"
POINT = "results/mbl/L6/traces/eps0.3000/W3.000/r000-001.zarr.zip"


def small_dataset() -> xr.Dataset:
    rng = np.random.default_rng(0)
    return xr.Dataset(
        {"m": (("a", "b"), rng.random((4, 5))), "label": ("a", np.array([0, 0, 1, 1]))},
        coords={"a": np.arange(4)},
        attrs={"what": "test"},
    )


def first_chunk(store: Path, array: str) -> Path:
    return sorted(p for p in (store / array / "c").rglob("*") if p.is_file())[0]


# --- finding 1: a missing chunk, a truncated chunk, a missing array, a chunk of another store are named ------------


def test_a_missing_chunk_of_a_dataset_is_named_not_read_as_fill_values(tmp_path):
    path = tmp_path / "d.zarr"
    write_dataset(path, small_dataset())
    assert (path / MANIFEST).is_file()
    xr.testing.assert_identical(open_dataset(path), small_dataset())
    first_chunk(path, "m").unlink()
    for load in (True, False):
        with pytest.raises(DamagedFileError, match=rf"{path}: chunk m/c/0/0 of array 'm' is missing") as err:
            open_dataset(path, load=load)
        assert err.value.path == str(path)


def test_a_truncated_chunk_a_missing_array_and_a_chunk_of_another_store_are_named(tmp_path):
    a, b = tmp_path / "a.zarr", tmp_path / "b.zarr"
    write_dataset(a, small_dataset())
    write_dataset(b, small_dataset().assign(m=lambda d: d["m"] * 0.5))
    chunk = first_chunk(a, "m")
    data = chunk.read_bytes()
    chunk.write_bytes(data[:-3])
    with pytest.raises(DamagedFileError, match=r"chunk m/c/0/0 of array 'm' is truncated or altered"):
        open_dataset(a)
    shutil.copy(first_chunk(b, "m"), chunk)  # a chunk of a store made from other data
    if chunk.stat().st_size == len(data):
        with pytest.raises(DamagedFileError, match=r"chunk m/c/0/0 of array 'm' is not the one written"):
            open_dataset(a)
    chunk.write_bytes(data)
    open_dataset(a)
    shutil.rmtree(a / "label")
    with pytest.raises(DamagedFileError, match=rf"{a}: array 'label' is missing"):
        open_dataset(a)


def test_a_zip_store_missing_a_chunk_is_named(tmp_path):
    path = tmp_path / "s.zarr.zip"
    write_arrays(path, {"x": np.arange(6.0), "y": np.ones(3)}, {"k": 1})
    broken = tmp_path / "broken.zarr.zip"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(broken, "w") as dst:
        for info in src.infolist():
            if info.filename != "x/c/0":
                dst.writestr(info, src.read(info))
    with pytest.raises(DamagedFileError, match=rf"{broken}: chunk x/c/0 of array 'x' is missing"):
        read_arrays(broken)


def test_a_store_without_a_manifest_is_refused_until_adopted(tmp_path, capsys):
    results = tmp_path / "results"
    old = results / "old.zarr"
    small_dataset().to_zarr(old, zarr_format=3, consolidated=True)  # as written before manifests
    with pytest.raises(DamagedFileError, match="no integrity manifest"):
        open_dataset(old)
    assert open_traces(old)["m"].shape == (4, 5)  # classify's traces from elsewhere have none: accepted
    mtime = old.stat().st_mtime_ns
    assert verify([str(results)], adopt=True) == 0
    assert "adopted 1 store" in capsys.readouterr().out
    assert old.stat().st_mtime_ns == mtime  # Snakemake sees nothing new
    xr.testing.assert_identical(open_dataset(old), small_dataset())


def test_every_zarr_read_goes_through_the_checked_readers():
    """The mechanism: no module opens a Zarr store but store.py, whose readers check the manifest first."""
    pattern = re.compile(r"open_zarr\(|ZipStore\(|zarr\.open|open_group\(|xr\.open_dataset\(")
    src = ROOT / "src" / "phasetrace"
    offenders = [p.name for p in src.rglob("*.py") if p.name != "store.py" and pattern.search(p.read_text())]
    assert offenders == []


def test_a_deleted_chunk_of_the_workflow_dataset_fails_its_readers(reference_run, tmp_path):
    """Finding 1's reproduction: the dataset with a magnetization chunk or the label chunk removed is named by the
    reader of every training job and by classify, never trained on."""
    for array in ("magnetization", "label"):
        copy_ = tmp_path / f"{array}.zarr"
        shutil.copytree(reference_run / MBL_DS, copy_)
        chunk = first_chunk(copy_, array)
        key = chunk.relative_to(copy_).as_posix()
        chunk.unlink()
        with pytest.raises(DamagedFileError, match=rf"{copy_}: chunk {key} of array '{array}' is missing"):
            training.dataset_for(TINY, "mbl", str(copy_))
        with pytest.raises(DamagedFileError, match=rf"{copy_}: chunk {key} of array '{array}' is missing"):
            classify(
                str(reference_run / "results/mbl/L6/lstm/networks/eps0.3000.zarr.zip"),
                str(copy_),
                str(tmp_path / f"{array}-p.zarr"),
            )


def test_verify_names_every_damaged_store_of_the_results(reference_run, tmp_path, capsys):
    """The bar: one chunk deleted from each of traces.zarr and confusion.zarr, found without a job reading them."""
    d = tmp_path / "copy"
    shutil.copytree(reference_run / "results", d / "results")
    assert verify([str(d / "results")]) == 0
    first_chunk(d / MBL_DS, "magnetization").unlink()
    first_chunk(d / CONFUSION, "confusion").unlink()
    capsys.readouterr()
    assert verify([str(d / "results")]) == 1
    out = capsys.readouterr().out
    assert f"DAMAGED {d / MBL_DS}: chunk magnetization/c/" in out
    assert f"DAMAGED {d / CONFUSION}: chunk confusion/c/" in out
    assert f"snakemake --cores all --forcerun {d / CONFUSION} {d / MBL_DS}" in out  # in path order


# --- finding 2: one command heals ----------------------------------------------------------------------------------


def fingerprint(results: Path) -> dict[str, object]:
    """Every result by its content: a store by its manifest's entries (the digest of each key's bytes; zip entries
    carry their write time, which is no part of the result), any other file by its bytes."""
    out: dict[str, object] = {}
    for p in sorted(results.rglob("*")):
        rel = p.relative_to(results).as_posix()
        if p.name.startswith(".") or any(part.endswith(".zarr") for part in Path(rel).parts[:-1]):
            continue
        if p.name.endswith(".zarr.zip"):
            with zipfile.ZipFile(p) as zf:
                out[rel] = json.loads(zf.read(MANIFEST))["entries"]
        elif p.name.endswith(".zarr"):
            out[rel] = json.loads((p / MANIFEST).read_text())["entries"]
        elif p.is_file():
            out[rel] = p.read_bytes()
    return out


@pytest.mark.workflow
def test_the_printed_command_then_the_default_target_heals_to_the_undamaged_results(reference_run, tmp_path):
    d = tmp_path / "run"
    shutil.copytree(reference_run, d, symlinks=True)
    store = d / POINT
    os.truncate(store, 2000)
    proc = snakemake(d, "--cores", "1", "results/phase_diagram.png", check=False)
    log = proc.stdout + proc.stderr
    assert proc.returncode != 0
    found = re.search(rf"{POINT}: (.*?); rebuild it and everything made from it: (snakemake [^\n]*)", log)
    assert found, log[-3000:]
    command = shlex.split(found.group(2))
    assert command[:3] == ["snakemake", "--cores", "all"] and command[-2:] == ["--forcerun", POINT]
    healed = subprocess.run([sys.executable, "-m", *command], cwd=d, capture_output=True, text=True)
    assert healed.returncode == 0, healed.stderr[-3000:]
    snakemake(d, "--cores", "2")
    assert fingerprint(d / "results") == fingerprint(reference_run / "results")


@pytest.mark.workflow
def test_every_job_reading_a_damaged_dataset_or_confusion_fails_naming_it(reference_run, tmp_path):
    d = tmp_path / "run"
    shutil.copytree(reference_run, d, symlinks=True)
    first_chunk(d / MBL_DS, "magnetization").unlink()
    first_chunk(d / CONFUSION, "confusion").unlink()
    for target, damaged in (
        ("results/mbl/L6/threshold/networks/eps0.3000.zarr.zip", MBL_DS),  # finding 1's imbalance set
        ("results/mbl/L6/threshold/boundary.csv", MBL_DS),
        ("results/phase_diagram.png", CONFUSION),
        ("results/checks/classifiers.csv", CONFUSION),
    ):
        proc = snakemake(d, "--cores", "1", "--force", target, check=False)
        log = proc.stdout + proc.stderr
        assert proc.returncode != 0, target
        assert re.search(rf"{damaged}: chunk \S+ of array '\w+' is missing; rebuild it", log), (target, log[-2000:])


# --- finding 3: one writer of a classify --out at a time ----------------------------------------------------------


def test_a_second_classify_of_the_same_out_is_refused_naming_the_first(tmp_path):
    out = tmp_path / "pred.zarr"
    with out_lock(out, "first-networks.zarr.zip", "first-traces.zarr"):
        proc = subprocess.run(
            [*PHASETRACE, "classify", "--networks", "n.zarr.zip", "--traces", "t.zarr", "--out", str(out)],
            capture_output=True,
            text=True,
        )
        assert proc.returncode != 0 and "Traceback" not in proc.stderr
        assert f"--out {out} is being written by another phasetrace classify (pid {os.getpid()}" in proc.stderr
        assert "--networks first-networks.zarr.zip --traces first-traces.zarr" in proc.stderr
    assert not list(tmp_path.glob(".*.lock"))  # released, and removed


# --- finding 4: -0.0 in a grid ------------------------------------------------------------------------------------


def test_negative_zero_in_a_grid_is_read_as_zero():
    values = grid([-0.0, 0.5, 1.0])
    assert not np.signbit(values).any()
    assert point_name({"W": values[0]}) == "W0.000" and point_name({"W": -0.0}) == "W0.000"


@pytest.mark.workflow
def test_negative_zero_in_a_grid_plans_paths_without_a_sign(tmp_path):
    cfg = copy.deepcopy(TINY)
    cfg["mbl"]["W"] = [-0.0, 0.5, 3.0, 6.0, 8.0]
    d = workdir(tmp_path, cfg)
    proc = snakemake(d, "-n", check=False)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-2000:]
    assert "W0.000" in log and "W-0.000" not in log


# --- finding 5: messages a user can act on ------------------------------------------------------------------------

SET = {"observable": "site", "time_dim": "time", "n_features": 2, "hyper": {"input": "raw"}}


def traces(times: np.ndarray, n: int = 3) -> xr.Dataset:
    return xr.Dataset(
        {"magnetization": (("W", "time", "site"), np.full((n, times.size, 2), 0.5))},
        coords={"W": np.arange(n, dtype=float), "time": times},
    )


def test_a_time_grid_that_differs_slightly_says_where_and_by_how_much():
    trained = np.linspace(0, 50, 7)
    given = trained.copy()
    given[3] += 1e-4
    with pytest.raises(
        ValueError, match=r"1 of its 7 points differ, the first at index 3 .*largest difference is 0.0001"
    ):
        _checked_input(traces(given), "t.zarr", "n.zarr.zip", SET, trained)


def test_traces_with_an_empty_sample_dimension_are_named():
    times = np.linspace(0, 50, 7)
    with pytest.raises(
        ValueError, match=r"t.zarr: magnetization holds no values: its dimension\(s\) \['W'\] have size 0"
    ):
        _checked_input(traces(times, n=0), "t.zarr", "n.zarr.zip", SET, times)


def test_a_header_only_csv_says_it_has_no_rows(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("time,site,magnetization\n")
    with pytest.raises(ValueError, match=rf"{path}: no data rows"):
        read_traces_csv(path)


def test_an_unwritable_out_is_one_line(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    outs = [blocker / "p.zarr"]
    if os.geteuid() != 0:  # root writes into read-only folders
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o555)
        outs.append(ro / "p.zarr")
    for out in outs:
        proc = subprocess.run(
            [*PHASETRACE, "classify", "--networks", "n.zarr.zip", "--traces", "t.zarr", "--out", str(out)],
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
        assert proc.stderr.startswith(f"phasetrace classify: --out {out}: cannot write in {out.parent}")
        assert len(proc.stderr.strip().splitlines()) == 1


# --- finding 6: refused or reported, not accepted without a word --------------------------------------------------


def test_a_holdout_of_zero_is_refused():
    cfg = copy.deepcopy(TINY)
    cfg["training"]["holdout"] = 0
    with pytest.raises(ValueError, match=r"training.holdout = 0 is not allowed: it holds out no sample of class"):
        validate(cfg)


def test_late_times_beyond_the_recorded_times_is_refused():
    cfg = copy.deepcopy(TINY)
    cfg["training"]["late_times"] = TINY["mbl"]["n_times"]
    with pytest.raises(ValueError, match=r"training.late_times = 6 is not allowed .* keeps 6 times; at most 5"):
        validate(cfg)


def test_a_realization_block_outside_the_config_is_refused():
    held = [(0, 1), (2, 3)]
    assert check_block("r002-003", held, 4, "mbl") == (2, 3)
    with pytest.raises(
        ValueError, match=r"realization block r007-009 is not one of this config's .*r000-001, r002-003"
    ):
        check_block("r007-009", held, 4, "mbl")


@pytest.mark.workflow
def test_a_block_target_outside_the_realizations_is_not_simulated(tmp_path):
    d = workdir(tmp_path, TINY)
    proc = snakemake(d, "-n", "results/mbl/L6/traces/eps0.3000/W3.000/r007-009.zarr.zip", check=False)
    assert proc.returncode != 0
    assert "realization block r007-009 is not one of this config's" in proc.stdout + proc.stderr


@pytest.mark.workflow
def test_check_config_and_snakemake_fill_missing_keys_from_the_same_config_yaml(tmp_path):
    """One rule: the working directory's config.yaml (--directory D for both), whatever the current directory."""
    partial = tmp_path / "partial.yaml"
    partial.write_text(yaml.safe_dump({k: v for k, v in TINY.items() if k != "training"}))
    for with_defaults in (True, False):
        d = tmp_path / f"d{with_defaults}"
        d.mkdir()
        if with_defaults:
            (d / "config.yaml").write_text(yaml.safe_dump(TINY))
        check = subprocess.run(
            [*PHASETRACE, "check-config", "--directory", str(d), str(partial)], capture_output=True, text=True, cwd=ROOT
        )
        run = subprocess.run(
            SNAKEMAKE + ["--directory", str(d), "--configfile", str(partial), "-n"], capture_output=True, text=True
        )
        assert (check.returncode == 0) == (run.returncode == 0) == with_defaults, (check.stderr, run.stderr[-2000:])
        if with_defaults:
            assert f"taken from {(d / 'config.yaml').resolve()}: training" in check.stdout
        else:
            assert "training" in check.stderr


def test_the_blanking_peak_is_searched_in_the_blanked_gap_only():
    W = np.array([0.25, 0.5, 1.0, 2.0, 3.0, 6.0, 8.0])
    labels = np.array([0, 0, -1, -1, -1, 1, 1])
    peak, spread = gap_peak(W, labels, np.zeros((3, W.size)))  # a classifier confused nowhere
    assert 1.0 <= peak <= 3.0 and spread == 0.0
    c = np.zeros((2, W.size))
    c[:, 0] = 1.0  # confusion inside a training window is no boundary
    c[:, 3] = 0.4
    assert gap_peak(W, labels, c)[0] == 2.0


def test_a_store_does_not_depend_on_the_order_of_keys_in_the_config(tmp_path):
    """A config section recorded in a store (the measurement a network set saw) is written in sorted key order: a
    config file with the same values in another order gives the same bytes of metadata (found by the heal test: the
    README's run and a run from a re-dumped config differed in one zarr.json)."""
    from phasetrace.store import write_arrays

    a, b = tmp_path / "a.zarr.zip", tmp_path / "b.zarr.zip"
    write_arrays(a, {"x": np.arange(3)}, {"measurement": {"time_stride": 1, "time_max": None}, "L": 6})
    write_arrays(b, {"x": np.arange(3)}, {"measurement": {"time_max": None, "time_stride": 1}, "L": 6})
    with zipfile.ZipFile(a) as za, zipfile.ZipFile(b) as zb:
        assert za.read("zarr.json") == zb.read("zarr.json")
