"""The extension points hold what the docs promise: a new classifier kind is one new module and one registration line
(proven by adding a toy kind to a copy of the package and running the tiny workflow to its confusion dataset), and
the files docs/extending.md lists for each extension point exist and name the registries they must."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import xarray as xr

from phasetrace.kinds import KINDS
from tiny import ROOT, TINY, workdir

# A kind that trains nothing: the nearest class mean of the whole flattened trace (numpy only)
TOY = '''"""toy: the nearest class mean of the flattened trace (a test of the extension point)."""

import numpy as np


def _nearest(x, means):
    d = ((x.reshape(len(x), -1)[None, :, None, :] - means[:, None, :, :]) ** 2).sum(-1)
    return np.eye(means.shape[1])[d.argmin(-1)]


def fit(keys, x, y, train_idx, x_unlabeled, hp):
    flat = x.reshape(len(x), -1)
    means = np.stack([[flat[idx][y[idx] == c].mean(axis=0) for c in range(hp.n_classes)] for idx in train_idx])
    errors = np.stack([(_nearest(x[idx], means[j : j + 1])[0].argmax(-1) != y[idx]).mean()
                       for j, idx in enumerate(train_idx)])
    return {"means": means}, errors[:, None]


def predict(params, x, hp):
    return _nearest(x, np.asarray(params["means"]))


def flat(params):
    return {"means": np.asarray(params["means"])}


def unflat(arrays, n_time, n_features, hp):
    return {"means": arrays["means"]}
'''
REGISTRATION = '        Kind("toy", "toy", SET_KEYS, "tab:red", "nearest class mean of the whole trace"),\n'


def with_toy_kind(tmp_path: Path) -> Path:
    """A copy of the package with the toy kind: one new module, one line in the registry."""
    src = tmp_path / "src"
    shutil.copytree(ROOT / "src" / "phasetrace", src / "phasetrace", ignore=shutil.ignore_patterns("__pycache__"))
    kinds = src / "phasetrace" / "kinds"
    (kinds / "toy.py").write_text(TOY)
    registry = (kinds / "__init__.py").read_text()
    anchor = re.search(r'^ +Kind\("logistic".*\n', registry, re.M)
    assert anchor, "the registry's logistic line moved: update this test"
    (kinds / "__init__.py").write_text(registry[: anchor.end()] + REGISTRATION + registry[anchor.end() :])
    return src


@pytest.mark.workflow
def test_a_new_classifier_kind_is_one_module_and_one_registration_line(tmp_path):
    src = with_toy_kind(tmp_path)
    cfg = TINY | {"models": ["mbl"], "training": TINY["training"] | {"compare": ["toy"]}}
    d = workdir(tmp_path, cfg)
    env = os.environ | {"PYTHONPATH": str(src)}
    target = "results/mbl/L6/toy/confusion.zarr"
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"), "--directory", str(d)]
    cmd += ["--configfile", str(d / "config.yaml"), "--cores", "2", target, "results/figures/classifiers.png"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr[-4000:]
    conf = xr.open_zarr(d / target)
    assert conf.attrs["classifier"] == "toy" and conf["boundary"].notnull().all()
    # the kind's keys, from its registry line, are what its sets record; the config schema accepts the new name
    assert '"training":{"holdout"' in conf.attrs["settings"] and "units" not in conf.attrs["settings"]


def test_the_registries_fill_the_schema_and_the_wildcards():
    from phasetrace.config import schema
    from phasetrace.pipeline import Pipeline

    assert schema()["$defs"]["classifier"]["enum"] == list(KINDS)
    constraints = Pipeline(TINY).wildcard_constraints()
    assert set(constraints["classifier"].split("|")) == set(KINDS)


def extending_files() -> dict[str, list[str]]:
    """The files docs/extending.md lists under each extension point's "Files" heading."""
    text = (ROOT / "docs" / "extending.md").read_text()
    out, point = {}, None
    for line in text.splitlines():
        if line.startswith("## "):
            point = line[3:].strip()
        elif point and line.startswith("- `") and re.match(r"- `[^`]+`", line):
            out.setdefault(point, []).append(re.match(r"- `([^`]+)`", line).group(1))
    return out


def test_the_extending_page_lists_files_that_exist():
    listed = extending_files()
    assert set(listed) == {"Model", "Classifier kind", "Scheme", "Observable", "Study"}
    # exactly the two files the toy kind above touches
    assert listed["Classifier kind"] == ["src/phasetrace/kinds/<name>.py", "src/phasetrace/kinds/__init__.py"]
    assert listed["Observable"][0] == "src/phasetrace/measurement.py"
    assert listed["Scheme"][:2] == ["src/phasetrace/schemes/<name>.py", "src/phasetrace/schemes/__init__.py"]
    for point, files in listed.items():
        for f in files:
            if "<" in f:  # a file the extension adds: its directory exists
                assert (ROOT / f).parent.exists(), (point, f)
            else:
                assert (ROOT / f).exists(), (point, f)
