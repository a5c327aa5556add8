"""Write ``constraints/colab.txt`` from the package list Google publishes for Colab's runtime.

Colab's runtime lists its Python packages in the ``googlecolab/backend-info`` repository
(``pip-freeze.txt``, with the Python version in ``os-info.txt``). CI builds a second virtual
environment from that list, so the course is tested on the versions most learners have
(``.ci/colab``). Refresh it when Colab moves on:

    python scripts/colab_constraints.py                       # fetches the files from GitHub
    python scripts/colab_constraints.py --freeze pip-freeze.txt --os-info os-info.txt \
        --date 2026-08-19

Only ``name==version`` lines are kept: Colab's own wheels (``google-colab @ file:...``) and
packages pinned to a URL cannot be installed from PyPI and are not needed by the course.
"""

from __future__ import annotations

import argparse
import re
import urllib.request
from datetime import date
from pathlib import Path

SOURCE = "https://github.com/googlecolab/backend-info"
RAW = "https://raw.githubusercontent.com/googlecolab/backend-info/main/"
OUT = Path(__file__).resolve().parent.parent / "constraints" / "colab.txt"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--freeze", help="a local copy of pip-freeze.txt (default: download)")
    parser.add_argument("--os-info", help="a local copy of os-info.txt (default: download)")
    parser.add_argument("--date", default=str(date.today()), help="date of the listed runtime")
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args(argv)
    freeze = _read(args.freeze, "pip-freeze.txt")
    os_info = _read(args.os_info, "os-info.txt")
    python = re.search(r"Python (\d+\.\d+)", os_info)
    pin = re.compile(r"^[A-Za-z0-9_.\-]+==\S+$")
    pins = sorted((line.strip() for line in freeze.splitlines() if pin.match(line)), key=str.lower)
    header = [
        "# Colab's runtime: the packages it has preinstalled, as constraints for pip.",
        f"# Source: {SOURCE} (pip-freeze.txt and os-info.txt), runtime of {args.date}.",
        f"# Python: {python.group(1) if python else 'unknown'}",
        "# Written by scripts/colab_constraints.py; do not edit by hand, run it again.",
    ]
    Path(args.out).write_text("\n".join(header + pins) + "\n")
    print(f"wrote {len(pins)} pins to {args.out}")


def _read(path, name):
    if path:
        return Path(path).read_text()
    with urllib.request.urlopen(RAW + name, timeout=30) as response:  # noqa: S310 (fixed URL)
        return response.read().decode()


if __name__ == "__main__":
    main()
