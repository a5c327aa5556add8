"""How long the CLI takes to answer its cheapest commands, this checkout against an earlier one.

``gancourse --version`` and ``--help`` should not import TensorFlow at all (well under a
second); ``gancourse data list`` reads only the dataset registry (about one second). This
script times each command a few times, in alternating rounds for the two checkouts so machine
load hits both alike, and prints the median wall time of each side by side.

    python benchmarks/cli_startup.py                     # this checkout only
    python benchmarks/cli_startup.py --baseline d593257  # and a commit, in a temporary worktree

The baseline runs from a temporary ``git worktree`` (removed afterwards) with the same
Python interpreter, so both sides use the same installed TensorFlow.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = (["--version"], ["--help"], ["data", "list"])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--baseline", help="a git commit to compare against (e.g. the one before a change)"
    )
    p.add_argument(
        "--repeats", type=int, default=5, help="runs per command and checkout (default 5)"
    )
    args = p.parse_args(argv)

    trees = {"this checkout": ROOT}
    with tempfile.TemporaryDirectory() as tmp:
        if args.baseline:
            tree = Path(tmp) / "baseline"
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), args.baseline],
                check=True,
                capture_output=True,
            )
            trees[f"commit {args.baseline}"] = tree
        try:
            times = {(name, i): [] for name in trees for i in range(len(COMMANDS))}
            for _ in range(args.repeats):
                for i, command in enumerate(COMMANDS):
                    for name, tree in trees.items():
                        times[(name, i)].append(_time(tree, command))
        finally:
            if args.baseline:
                subprocess.run(
                    ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
                    capture_output=True,
                )
    header = f"{'command':22s}" + "".join(f"{name:>22s}" for name in trees)
    print(f"Median wall time of `gancourse ...` over {args.repeats} runs (seconds)")
    print(header)
    for i, command in enumerate(COMMANDS):
        row = f"{' '.join(command):22s}"
        row += "".join(f"{statistics.median(times[(name, i)]):22.2f}" for name in trees)
        print(row)


def _time(tree: Path, command: list[str]) -> float:
    """Wall time of ``python -m gancourse.cli COMMAND`` with ``tree`` first on the path."""
    env = dict(os.environ, PYTHONPATH=str(tree))
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "gancourse.cli", *command],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"`gancourse {' '.join(command)}` failed in {tree}:\n{done.stderr}")
    return elapsed


if __name__ == "__main__":
    main()
