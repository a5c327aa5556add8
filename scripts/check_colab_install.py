"""Fail when installing gancourse would change a package Colab already has.

Reads what ``pip install --dry-run --report REPORT .`` would install (run in an environment
built from ``constraints/colab.txt``) and compares it with Colab's package list. Passes when the
report holds only gancourse and packages Colab does not have; each package Colab has that pip
would install anyway (an upgrade or a downgrade on Colab) is named with both versions.

    python scripts/check_colab_install.py REPORT.json [--constraints constraints/colab.txt]

``.ci/colab`` runs it; ``tests/test_colab_stack.py`` tests it.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

CONSTRAINTS = Path(__file__).resolve().parent.parent / "constraints" / "colab.txt"


def normalise(name: str) -> str:
    """PEP 503 name: lower case, runs of ``-_.`` as one ``-``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_constraints(path=CONSTRAINTS) -> dict[str, str]:
    """``{normalised name: version}`` of every ``name==version`` line of a constraints file."""
    pins = {}
    for line in Path(path).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            pins[normalise(name)] = version.strip()
    return pins


def changes(report: dict, colab: dict[str, str], own: str = "gancourse") -> list[str]:
    """What the install in ``report`` would change on Colab: one line per package Colab has
    that pip would install (at another version, or reinstall at the same one)."""
    found = []
    for item in report.get("install", []):
        meta = item["metadata"]
        name, version = normalise(meta["name"]), meta["version"]
        if name == own or name not in colab:
            continue
        found.append(f"{meta['name']}: Colab has {colab[name]}, the install would bring {version}")
    return found


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", help="the JSON written by pip install --dry-run --report")
    parser.add_argument("--constraints", default=str(CONSTRAINTS))
    args = parser.parse_args(argv)
    report = json.loads(Path(args.report).read_text())
    colab = read_constraints(args.constraints)
    bad = changes(report, colab)
    names = [i["metadata"]["name"] + " " + i["metadata"]["version"] for i in report["install"]]
    print("the install would add:", ", ".join(names) or "nothing")
    if bad:
        print("FAIL: installing gancourse would change packages Colab already has:")
        print("\n".join("  " + line for line in bad))
        print("Loosen the dependency in pyproject.toml so that Colab's version satisfies it.")
        return 1
    print("OK: no package Colab already has is changed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
