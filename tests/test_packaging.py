"""Habits of a package others can install, cite and contribute to: LICENSE, CITATION.cff, the pre-commit hooks,
every import declared in pyproject.toml, and the wheel (slow tier): installed into a fresh venv, without the
repository, it validates configs with the schema and the default config it ships as package data."""

import ast
import datetime
import fnmatch
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest
import yaml

from phasetrace.config import DEFAULT_CONFIG, SCHEMA

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "phasetrace"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PROJECT = PYPROJECT["project"]


def test_license_is_the_mit_license_pyproject_names():
    text = (ROOT / "LICENSE").read_text()
    assert PROJECT["license"] == "MIT"
    assert text.startswith("MIT License\n")
    assert "Copyright (c) 2026 the phasetrace developers" in text
    assert 'THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND' in text


def test_citation_cff_cites_the_software_and_the_paper_it_implements():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0"
    assert cff["type"] == "software" and cff["title"] == "phasetrace" and cff["message"] and cff["authors"]
    assert cff["version"] == PROJECT["version"], "CITATION.cff's version is pyproject.toml's"
    assert cff["license"] == PROJECT["license"]
    assert isinstance(cff["date-released"], datetime.date)
    (paper,) = [r for r in cff["references"] if r.get("doi") == "10.1103/PhysRevB.98.060301"]
    assert paper["type"] == "article" and paper["title"] == "Learning phase transitions from dynamics"
    assert [a["family-names"] for a in paper["authors"]] == ["Nieuwenburg", "Bairey", "Refael"]
    assert paper["authors"][0]["name-particle"] == "van"
    assert (paper["journal"], paper["volume"], paper["start"], paper["year"]) == (
        "Physical Review B",
        98,
        "060301",
        2018,
    )


def test_pre_commit_runs_ruff_ruff_format_and_snakefmt():
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    hooks = {}
    for repo in config["repos"]:
        assert re.fullmatch(r"v\d+\.\d+\.\d+", repo["rev"]), f"{repo['repo']}: pin a release tag, not {repo['rev']}"
        hooks |= {hook["id"]: repo["repo"] for hook in repo["hooks"]}
    ruff, snakefmt = "https://github.com/astral-sh/ruff-pre-commit", "https://github.com/snakemake/snakefmt"
    assert hooks == {"ruff-check": ruff, "ruff-format": ruff, "snakefmt": snakefmt}


def _patterns(package: str) -> list[str]:
    return PYPROJECT["tool"]["setuptools"]["package-data"][package]


def test_schema_and_default_config_are_package_data_with_one_home():
    """The package finds both inside itself; its config.yaml is a link to the repository's (the file users edit
    and Snakemake reads), so there is one copy in the checkout and a real file in the sdist and wheel."""
    assert SCHEMA.parent == DEFAULT_CONFIG.parent == SRC / "data" and SCHEMA.is_file()
    assert not (ROOT / "workflow" / "schemas").exists(), "the schema's one home is the package"
    assert DEFAULT_CONFIG.is_symlink(), "src/phasetrace/data/config.yaml must stay a link (ln -s ../../../config.yaml)"
    assert DEFAULT_CONFIG.resolve() == (ROOT / "config.yaml").resolve()
    for path in (SCHEMA, DEFAULT_CONFIG):
        name = path.relative_to(SRC).as_posix()
        assert any(fnmatch.fnmatch(name, p) for p in _patterns("phasetrace")), f"{name} is not package data"


# Import names whose distribution is named differently, for packages not installed here (an extra's, e.g.)
DISTRIBUTION = {"yaml": "pyyaml", "sklearn": "scikit-learn", "PIL": "pillow"}
DEV_EXTRAS = {"test", "docs"}  # tools for developing phasetrace, never imported by it


def _name(requirement: str) -> str:
    return re.sub(r"[-_.]+", "-", re.match(r"[A-Za-z0-9._-]+", requirement.strip()).group()).lower()


def _imports(tree: ast.Module):
    """(top-level name, lazy) of every absolute import in ``tree``, inside functions too; lazy where it sits in
    a function (it runs only when called)."""
    lazy_nodes = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            lazy_nodes |= {id(n) for n in ast.walk(node)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module]
        else:
            continue
        for name in names:
            yield name.split(".")[0], id(node) in lazy_nodes


def test_every_import_is_declared_in_pyproject():
    """A module-level import of another distribution is a dependency; one inside a function may instead be in a
    runtime extra (e.g. quspin, bench's peer, in the bench extra)."""
    installed = importlib.metadata.packages_distributions()
    required = {_name(r) for r in PROJECT["dependencies"]}
    extras = {
        _name(r) for extra, reqs in PROJECT["optional-dependencies"].items() if extra not in DEV_EXTRAS for r in reqs
    }
    missing = []
    for path in sorted(SRC.rglob("*.py")):
        for top, lazy in _imports(ast.parse(path.read_text(), str(path))):
            if top in sys.stdlib_module_names or top in {"phasetrace", "__future__"}:
                continue
            names = {_name(d) for d in installed.get(top, [])} | {_name(DISTRIBUTION.get(top, top))}
            if not names & (required | extras if lazy else required):
                where = "an extra or the dependencies" if lazy else "the dependencies"
                missing.append(f"{path.relative_to(ROOT)}: import {top} (distribution {sorted(names)}) not in {where}")
    assert not missing, "\n".join(missing)


@pytest.mark.slow
def test_the_wheel_validates_configs_in_a_fresh_venv_without_the_repository(tmp_path):
    """Build the wheel from the files a build reads, install it (nothing else) into a fresh venv that borrows this
    venv's dependencies, and run check-config outside the repository: it validates the default config it ships."""
    tree = tmp_path / "tree"  # a copy, so the build leaves no build/ or egg-info in the checkout
    tree.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE", "config.yaml"):
        shutil.copy2(ROOT / name, tree / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    shutil.copytree(ROOT / "src", tree / "src", symlinks=True, ignore=ignore)
    # The build backend comes from the package index, in pip's isolated build environment (as for `make setup`):
    # pyproject.toml's license = "MIT" needs setuptools >= 77, newer than the one a Python 3.11 venv carries.
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(tmp_path / "dist"), str(tree)],
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    (wheel,) = (tmp_path / "dist").glob("phasetrace-*.whl")

    with zipfile.ZipFile(wheel) as z:
        shipped = {
            name: z.getinfo(name) for name in ("phasetrace/data/config.schema.yaml", "phasetrace/data/config.yaml")
        }
        for name, info in shipped.items():
            assert (info.external_attr >> 16) & 0o170000 != 0o120000, f"{name} is a link in the wheel"
        assert z.read("phasetrace/data/config.yaml") == (tree / "config.yaml").read_bytes()
        assert z.read("phasetrace/data/config.schema.yaml") == (tree / SCHEMA.relative_to(ROOT)).read_bytes()
        assert any(n.endswith(".dist-info/licenses/LICENSE") for n in z.namelist()), "the wheel carries LICENSE"

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", str(wheel)],
        capture_output=True,
        text=True,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    # The dependencies are this venv's: its site-packages after the fresh venv's own (a .pth line adds a path and
    # reads no .pth there, so this venv's editable install, a path to the checkout's src/, is not seen).
    purelib = Path(
        subprocess.check_output(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True
        ).strip()
    )
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (purelib / "dependencies.pth").write_text("".join(f"{p}\n" for p in sorted(deps)))

    away = tmp_path / "elsewhere"  # no config.yaml here, and not the repository
    away.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"}}
    where = subprocess.run(
        [
            python,
            "-c",
            "import json, sys, phasetrace.config as c\n"
            "print(c.__file__, c.DEFAULT_CONFIG, json.dumps(sys.path), sep='\\n')",
        ],
        capture_output=True,
        text=True,
        cwd=away,
        env=env,
    )
    assert where.returncode == 0, where.stderr
    module, default, path = where.stdout.splitlines()
    shipped = (purelib / "phasetrace" / "data" / "config.yaml").resolve()
    assert Path(module).resolve().is_relative_to(purelib.resolve()) and Path(default).resolve() == shipped
    assert not [p for p in json.loads(path) if p and Path(p).resolve().is_relative_to(ROOT / "src")], path

    for command in ([python, "-m", "phasetrace"], [venv / "bin" / "phasetrace"]):  # the module and the script
        check = subprocess.run([*command, "check-config"], capture_output=True, text=True, cwd=away, env=env)
        assert check.returncode == 0, check.stdout + check.stderr
        assert check.stdout.strip() == f"config ok: {default}"

    bad = away / "bad.yaml"  # the shipped schema is the one in use: an unknown key is refused, by name
    bad.write_text(Path(default).read_text() + "\nnot_a_key: 1\n")
    check = subprocess.run(
        [python, "-m", "phasetrace", "check-config", str(bad)], capture_output=True, text=True, cwd=away, env=env
    )
    assert check.returncode == 1 and "unknown key(s) ['not_a_key']" in check.stderr, check.stderr
