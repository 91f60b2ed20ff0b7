#!/usr/bin/env python3
"""Lines per module and the longest functions of the Rust sources.

    python3 scripts/code-stats.py [--top N] [DIR ...]      (default: src crates)

A module is a folder (its files together) or a file at the top of a source folder. A function
runs from its `fn` line to its closing brace; the count is its lines including both. Strings,
char literals and comments are skipped when braces are matched. `#[cfg(test)]` modules are
counted with their file (lines) but left out of the function list, which is about the
program's own code.
"""

import argparse
import os
import re
import sys

FN = re.compile(r"^\s*(?:pub(?:\([^)]*\))?\s+)?(?:const\s+)?(?:async\s+)?(?:unsafe\s+)?fn\s+([A-Za-z_][A-Za-z0-9_]*)")


def strip_code(text):
    """The text with comments, strings and char literals blanked (newlines kept)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("".join(ch if ch == "\n" else " " for ch in text[i:j]))
            i = j
        elif c in "br" and re.match(r'b?r#*"', text[i:i + 20]) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            m = re.match(r'b?r(#*)"', text[i:])
            end = '"' + m.group(1)
            j = text.find(end, i + len(m.group(0)))
            j = n if j < 0 else j + len(end)
            out.append("".join(ch if ch == "\n" else " " for ch in text[i:j]))
            i = j
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append("".join(ch if ch == "\n" else " " for ch in text[i:j]))
            i = j
        elif c == "'":
            m = re.match(r"'(\\.[^']*|[^\\'])'", text[i:])
            if m:
                out.append(" " * len(m.group(0)))
                i += len(m.group(0))
            else:  # a lifetime
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def functions(path):
    with open(path, encoding="utf-8") as f:
        raw = f.read()
    code = strip_code(raw)
    lines = code.split("\n")
    # Lines inside #[cfg(test)] modules are left out of the function list.
    test_ranges = []
    for i, line in enumerate(lines):
        if "#[cfg(test)]" in raw.split("\n")[i] and i + 1 < len(lines) and re.match(r"\s*(pub\s+)?mod\s", lines[i + 1]):
            end = block_end(lines, i + 1)
            test_ranges.append((i, end))
    found = []
    for i, line in enumerate(lines):
        m = FN.match(line)
        if not m or any(a <= i <= b for a, b in test_ranges):
            continue
        end = block_end(lines, i)
        if end is None:
            continue
        found.append((end - i + 1, f"{path}:{i + 1}", m.group(1)))
    return found


def block_end(lines, start):
    """The line where the first `{` at or after `start` is closed; None for a declaration."""
    depth = 0
    opened = False
    for j in range(start, len(lines)):
        for ch in lines[j]:
            if ch == "{":
                depth += 1
                opened = True
            elif ch == "}":
                depth -= 1
                if opened and depth == 0:
                    return j
            elif ch == ";" and not opened and depth == 0:
                return None
    return None


def module_of(path, root):
    rel = os.path.relpath(path, root)
    parts = rel.split(os.sep)
    return os.path.join(root, parts[0]) + (os.sep if len(parts) > 1 else "")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--top", type=int, default=10)
    ap.add_argument("dirs", nargs="*", default=["src", "crates"])
    args = ap.parse_args()
    modules = {}
    funcs = []
    for root in args.dirs:
        if not os.path.isdir(root):
            continue
        # A workspace crate's modules are counted under its src/.
        roots = [root]
        if root == "crates":
            roots = [os.path.join(root, c, "src") for c in sorted(os.listdir(root)) if os.path.isdir(os.path.join(root, c, "src"))]
        for r in roots:
            for dirpath, _, files in os.walk(r):
                for name in sorted(files):
                    if not name.endswith(".rs"):
                        continue
                    path = os.path.join(dirpath, name)
                    with open(path, encoding="utf-8") as f:
                        count = sum(1 for _ in f)
                    key = module_of(path, r)
                    modules[key] = modules.get(key, 0) + count
                    funcs.extend(functions(path))
    total = sum(modules.values())
    print(f"lines per module ({total} in all)")
    for key in sorted(modules):
        print(f"  {modules[key]:6d}  {key}")
    print(f"the {args.top} longest functions (tests left out)")
    for length, where, name in sorted(funcs, key=lambda f: (-f[0], f[1]))[: args.top]:
        print(f"  {length:4d}  {name}  ({where})")


if __name__ == "__main__":
    sys.exit(main())
