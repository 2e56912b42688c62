"""The documentation: the site builds in strict mode (a broken link or anchor, a page left out of the navigation or
a generated table that no longer matches the code fails), the README stays short, and the README and
config/README.md, which are read on the repository's host, link only to files that exist."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README_LIMIT = 8000  # characters

FENCE = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)
INLINE = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")  # [text](target), ![alt](target)
REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.M)  # [label]: target


def test_site_builds_in_strict_mode(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml"), "-d", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stdout}{proc.stderr}"
    assert (tmp_path / "index.html").is_file()
    outputs = (tmp_path / "outputs" / "index.html").read_text()
    assert "output-tree" not in outputs and "traces.zarr" in outputs, "the output tree was not generated"
    configuration = (tmp_path / "configuration" / "index.html").read_text()
    assert "training.members" in configuration, "the configuration page does not include config/README.md"
    assert not (tmp_path / "hooks.py").exists(), "docs/hooks.py must not be published"


def test_readme_is_short():
    n = len((ROOT / "README.md").read_text(encoding="utf-8"))
    assert n <= README_LIMIT, f"README.md has {n} characters; at most {README_LIMIT} (details go to docs/)"


def relative_links(text: str) -> list[str]:
    """The link and image targets of Markdown ``text`` that are paths (not URLs or anchors), outside code blocks,
    without their #anchor."""
    text = FENCE.sub("", text)
    targets = INLINE.findall(text) + REFERENCE.findall(text)
    out = []
    for target in targets:
        if re.match(r"[a-z][a-z0-9+.-]*:", target, re.I) or target.startswith(("#", "/")):
            continue
        out.append(target.split("#", 1)[0])
    return [t for t in out if t]


def test_relative_links_finds_links_and_images_but_not_urls_or_code():
    text = (
        "![fig](docs/a.png) [page](docs/b.md#part) [site](https://example.org) [here](#top)\n"
        "```bash\n[not](a-link.md)\n```\n[ref]: config/README.md\n"
    )
    assert relative_links(text) == ["docs/a.png", "docs/b.md", "config/README.md"]


@pytest.mark.parametrize("document", ["README.md", "config/README.md"])
def test_relative_links_point_to_existing_files(document):
    path = ROOT / document
    links = relative_links(path.read_text(encoding="utf-8"))
    assert links, f"{document} has no relative links (did the link pattern stop matching?)"
    missing = [t for t in links if not (path.parent / t).exists()]
    assert not missing, f"{document} links to files that do not exist: {missing}"


def test_every_config_key_is_documented():
    """config/README.md names every section of config.yaml and every key of each (as `key` or `section.key`)."""
    import yaml

    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    text = (ROOT / "config" / "README.md").read_text()
    missing = [s for s in config if f"`{s}`" not in text]
    for section, keys in config.items():
        if isinstance(keys, dict):
            missing += [f"{section}.{k}" for k in keys if f"`{k}`" not in text and f"`{section}.{k}`" not in text]
    assert missing == []
