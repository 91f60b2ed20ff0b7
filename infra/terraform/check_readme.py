#!/usr/bin/env python3
"""Checks that a Terraform directory's README documents exactly its variables and outputs.

    python3 infra/terraform/check_readme.py DIR [DIR...]

For each DIR, every `variable "NAME"` in DIR/*.tf must be named in the README's inputs table and
every `output "NAME"` in its outputs table; and every name those tables give must still be a
variable / output (no stale row after a rename). The tables are the Markdown tables under a
heading "## Inputs" / "## Outputs" (up to the next heading of level 1 or 2, so "###" sub-tables
count); the names of a row are the `backticked` identifiers of its first cell, so one row may
document several ("`cpu` / `memory`"). Standard library only (Python 3.11). Exit status 1 when
something is missing or stale, 0 otherwise.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

BLOCK = re.compile(r'^[ \t]*(variable|output)[ \t]+"([^"]+)"[ \t]*\{', re.MULTILINE)
HEADING = re.compile(r"^(#{1,6})[ \t]+(.*?)[ \t]*#*[ \t]*$")
NAME = re.compile(r"`([A-Za-z_][A-Za-z0-9_-]*)`")
SECTIONS = {"inputs": "variable", "outputs": "output"}


def tf_names(directory: Path) -> dict[str, set[str]]:
    """{"variable": {...}, "output": {...}} declared in DIR/*.tf (not in subdirectories)."""
    found: dict[str, set[str]] = {"variable": set(), "output": set()}
    for path in sorted(directory.glob("*.tf")):
        text = path.read_text(encoding="utf-8")
        # Drop comments so a commented-out block does not count. Only whole-line and trailing
        # "#" / "//" comments outside strings matter for the block headers matched here.
        lines = [re.sub(r'^\s*(#|//).*$', "", line) for line in text.splitlines()]
        text = re.sub(r"/\*.*?\*/", "", "\n".join(lines), flags=re.DOTALL)
        for kind, name in BLOCK.findall(text):
            found[kind].add(name)
    return found


def readme_names(readme: str) -> dict[str, set[str]]:
    """{"variable": names in the Inputs tables, "output": names in the Outputs tables}."""
    found: dict[str, set[str]] = {"variable": set(), "output": set()}
    section = None
    for line in readme.splitlines():
        heading = HEADING.match(line)
        if heading:
            level, title = len(heading.group(1)), heading.group(2).strip().lower()
            if level <= 2:
                section = SECTIONS.get(title)
            continue
        if section is None or not line.lstrip().startswith("|"):
            continue
        cells = line.strip().strip("|").split("|")
        first = cells[0].strip()
        if re.fullmatch(r":?-{3,}:?", first):
            continue  # the separator row
        found[section].update(NAME.findall(first))
    return found


def check(directory: Path) -> list[str]:
    """Problems found in DIR, as readable lines (empty: all documented, nothing stale)."""
    readme_path = directory / "README.md"
    if not readme_path.is_file():
        return [f"{readme_path}: missing"]
    declared = tf_names(directory)
    documented = readme_names(readme_path.read_text(encoding="utf-8"))
    problems = []
    for kind, table, article in (("variable", "Inputs", "a"), ("output", "Outputs", "an")):
        for name in sorted(declared[kind] - documented[kind]):
            problems.append(f"{readme_path}: {kind} \"{name}\" is missing from the ## {table} table")
        for name in sorted(documented[kind] - declared[kind]):
            problems.append(
                f"{readme_path}: the ## {table} table names \"{name}\", which is not {article} {kind} "
                f"of {directory}/*.tf (stale row?)"
            )
    return problems


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    problems = [p for arg in argv for p in check(Path(arg))]
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"check_readme: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    print(f"check_readme: {len(argv)} README(s) match their variables and outputs")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
