"""MkDocs hooks (mkdocs.yml ``hooks:``): the parts of the site whose text has its home elsewhere.

- ``<!-- include: PATH -->`` in a page is replaced by the file at PATH (relative to the repository root), so that
  ``config/README.md`` (the Snakemake catalog's place for the configuration) and ``CHANGELOG.md`` have one home and
  still appear on the site.
- ``<!-- output-tree -->`` is replaced by the tree and table of the workflow's per-model outputs, generated from
  :data:`phasetrace.sweep.TEMPLATES`. A template without a description here, or a description of a template that no
  longer exists, is a warning, which fails ``mkdocs build --strict`` (and so the fast test tier).
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INCLUDE = re.compile(r"<!-- include: (\S+) -->")
LINK = re.compile(r"(\]\()([^)\s#]+)(#[^)\s]*)?\)")  # a Markdown link or image target: ](path#anchor)
OUTPUT_TREE = "<!-- output-tree -->"

log = logging.getLogger("mkdocs.hooks.phasetrace")

# What each template of phasetrace.sweep.TEMPLATES holds, and the rule that writes it.
DESCRIPTIONS = {
    "job": (
        "`simulate`",
        "one simulation job: a stage of the model (`bounds`, `traces`) at one sweep point, for one block of "
        "realizations (inclusive indices)",
    ),
    "import": (
        "`import_measured`",
        "one file of the `measured` model, validated, with the SHA-256 of its bytes "
        "([Experimental data](experimental-data.md#your-own-sweep-the-measured-model))",
    ),
    "dataset": ("`dataset`", "the labeled dataset of the model's whole sweep ([Datasets](datasets.md))"),
    "network": (
        "`network`",
        "the k members of one classifier kind for one training set (`eps0.5000` where the model trains one set "
        "per ε, `all` otherwise); what `classify` reads",
    ),
    "confusion": ("`confusion`", "confusion, predictions, accuracies and boundaries with their intervals"),
    "boundary": ("`confusion`", "the boundaries as a table, one row per set"),
    "scheme": (
        "`scheme`",
        "one detection scheme (`scan`: learning by confusion; `regression`: prediction-based) with one classifier "
        "kind on the compared sets: its indicator curves and boundaries with intervals ([Schemes](schemes.md))",
    ),
    "scheme_networks": (
        "`scheme`",
        "the networks of that scheme and kind, one `<set>.zarr.zip` per compared set (the multi-task scan's, the "
        "regression's); what `classify` applies to other traces",
    ),
    "optimal": (
        "`optimal`",
        "every scheme's optimal predictor on the late-time imbalance (no training): indicator curves and boundaries",
    ),
    "robustness_variant": (
        "`robustness_variant`",
        "the boundaries under one measurement variant (`site-N100-t1`: observable, shots or `inf`, time stride)",
    ),
    "replicate": ("`replicate`", "one independent rerun of the replicate study"),
    "adaptive_round": (
        "`adaptive_round`",
        "one round of one replicate of the adaptive sweep: the traces it added (predicted), its boundary with the "
        "interval, and the plan of the next round (round 00 also holds the networks)",
    ),
    "adaptive_uniform": (
        "`adaptive_uniform`",
        "the same networks' boundaries from the uniform grid at each R of `adaptive.uniform_realizations` (the "
        "reference runs, replicates 999, 998, …, at `adaptive.reference_realizations`: the reference is their mean)",
    ),
}

# Example values of the templates' fields: the default config's paths.
EXAMPLE = {
    "root": "results",
    "model": "mbl",
    "L": 12,
    "stage": "traces",
    "point": "eps0.5000/W3.000",
    "block": "r000-019",
    "classifier": "lstm",
    "set": "eps0.5000",
    "variant": "site-N100-t1",
    "replicate": 0,
    "round": 1,
    "scheme": "scan",
}
EXAMPLE_PER_TEMPLATE = {"replicate": {"L": 10}}  # the replicate study's default length


def on_page_markdown(markdown: str, page, config, files) -> str:
    markdown = INCLUDE.sub(lambda m: _include(m.group(1), page.file.src_uri), markdown)
    if OUTPUT_TREE in markdown:
        markdown = markdown.replace(OUTPUT_TREE, output_tree())
    return markdown


def _include(relative: str, page: str) -> str:
    """The file's text, its relative links rewritten to point from the including page to the same files; a link to a
    file outside the documentation folder is a warning (the site has no page for it)."""
    path = ROOT / relative
    if not path.is_file():
        log.warning("%s includes %s, which does not exist", page, relative)
        return f"*{relative} is missing.*"
    docs = ROOT / "docs"
    here = (docs / page).parent

    def relink(m: re.Match) -> str:
        target = m.group(2)
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto:
            return m.group(0)
        resolved = (path.parent / target).resolve()
        if not resolved.is_relative_to(docs):
            log.warning("%s (included in %s) links to %s, which is not part of the site", relative, page, target)
            return m.group(0)
        return f"{m.group(1)}{Path(os.path.relpath(resolved, here)).as_posix()}{m.group(3) or ''})"

    return LINK.sub(relink, path.read_text(encoding="utf-8"))


def output_tree() -> str:
    """A tree of example paths (the default config's) and a table of the templates they come from."""
    from phasetrace import sweep

    for key in sorted(set(DESCRIPTIONS) - set(sweep.TEMPLATES)):
        log.warning("docs/hooks.py describes the output template %r, which phasetrace.sweep.TEMPLATES lacks", key)
    rows, examples = [], {}
    for key, template in sweep.TEMPLATES.items():
        if key not in DESCRIPTIONS:
            log.warning("phasetrace.sweep.TEMPLATES[%r] has no description in docs/hooks.py DESCRIPTIONS", key)
        rule, what = DESCRIPTIONS.get(key, ("", ""))
        fields = set(re.findall(r"{(\w+)}", template)) - {"root"}
        values = EXAMPLE | EXAMPLE_PER_TEMPLATE.get(key, {})
        examples[key] = sweep.path(key, **{k: v for k, v in values.items() if k in fields})
        pattern = template.replace("{root}/", "")
        rows.append(f"| `{key}` | `{pattern}` | {rule} | {what} |")
    table = [
        "| template | path under `results/` | written by | holds |",
        "|---|---|---|---|",
        *rows,
    ]
    return "```text\n" + _tree(examples) + "```\n\n" + "\n".join(table) + "\n"


def _tree(examples: dict[str, str]) -> str:
    """The paths as an indented tree, each leaf marked with its template."""
    root: dict = {}
    for key, path in examples.items():
        node = root
        parts = path.split("/")
        for part in parts[:-1]:
            node = node.setdefault(part + "/", {})
        node[parts[-1]] = key
    lines: list[str] = []

    def walk(node: dict, prefix: str) -> None:
        items = list(node.items())
        for i, (name, child) in enumerate(items):
            last = i == len(items) - 1
            branch, extend = ("└── ", "    ") if last else ("├── ", "│   ")
            if isinstance(child, dict):
                lines.append(prefix + branch + name)
                walk(child, prefix + extend)
            else:
                lines.append(f"{prefix}{branch}{name}    ({child})")

    for name, child in root.items():
        lines.append(name)
        walk(child, "")
    return "\n".join(lines) + "\n"
