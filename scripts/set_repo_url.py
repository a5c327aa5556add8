"""Point the course at another GitHub repository, e.g. an instructor's fork.

The repository URL lives in ``gancourse/config.py`` (``REPO_URL``), but three other places
need it as literal text, because they are read before the package is installed:

- every notebook's "Open in Colab" badge (its first cell),
- every notebook's setup cell (its first code cell), which installs the package on Colab,
- the Colab links in ``README.md``.

This script rewrites all of them from the URL currently in ``config.py`` to a new one, and
nothing else: notebooks are edited as JSON with their outputs kept (nothing is executed).
``tests/test_notebooks.py`` checks that the places agree. Usage::

    python scripts/set_repo_url.py https://github.com/my-university/gancourse
    python scripts/set_repo_url.py https://github.com/my-university/gancourse --root ../copy
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: A GitHub repository URL (Colab opens notebooks from GitHub only).
URL_PATTERN = re.compile(r"https://github\.com/[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9_.-]+")
CONFIG_LINE = re.compile(r'^REPO_URL = "([^"]*)"$', re.MULTILINE)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help="the new repository, https://github.com/OWNER/NAME")
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to rewrite")
    args = parser.parse_args(argv)
    try:
        changed = set_repo_url(args.url, args.root)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for path in changed:
        print(f"updated {path}")
    if not changed:
        print(f"nothing to do: the course already points at {args.url}")
    return 0


def set_repo_url(new_url: str, root=ROOT) -> list[Path]:
    """Replace the current ``REPO_URL`` with ``new_url`` in config.py, the notebooks' first
    two cells and README.md's Colab links; return the files that changed."""
    root = Path(root)
    new_url = new_url.strip().removesuffix("/").removesuffix(".git")
    if not URL_PATTERN.fullmatch(new_url):
        raise ValueError(
            f"{new_url!r} is not a GitHub repository URL such as "
            f"https://github.com/OWNER/NAME (Colab opens notebooks from GitHub only)."
        )
    config_path = root / "gancourse" / "config.py"
    config_text = config_path.read_text(encoding="utf-8")
    found = CONFIG_LINE.search(config_text)
    if found is None:
        raise ValueError(f'{config_path} has no line REPO_URL = "..." to rewrite.')
    old_url = found.group(1)
    if old_url == new_url:
        return []
    old_path, new_path = _github_path(old_url), _github_path(new_url)
    changed = []

    def rewrite(text: str) -> str:
        """The two spellings of the repository: its URL, and its path in Colab links."""
        text = text.replace(old_url, new_url)
        return text.replace(
            f"colab.research.google.com/github/{old_path}/",
            f"colab.research.google.com/github/{new_path}/",
        )

    config_text = CONFIG_LINE.sub(f'REPO_URL = "{new_url}"', config_text, count=1)
    changed += _write_if_changed(config_path, config_text)
    for notebook in sorted((root / "notebooks").glob("*.ipynb")):
        text = notebook.read_text(encoding="utf-8")
        nb = json.loads(text)
        for cell in nb["cells"][:2]:  # the badge, then the setup cell
            cell["source"] = [rewrite(line) for line in cell["source"]]
        # the layout Jupyter itself writes, so that the diff is just the changed lines
        changed += _write_if_changed(
            notebook, json.dumps(nb, indent=1, ensure_ascii=False, sort_keys=True) + "\n"
        )
    readme = root / "README.md"
    if readme.exists():
        changed += _write_if_changed(readme, rewrite(readme.read_text(encoding="utf-8")))
    return changed


def _github_path(url: str) -> str:
    return url.removeprefix("https://github.com/")


def _write_if_changed(path: Path, text: str) -> list[Path]:
    if path.read_text(encoding="utf-8") == text:
        return []
    tmp = path.with_name(f".{path.name}.partial")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)  # never a half-written notebook
    return [path]


if __name__ == "__main__":
    sys.exit(main())
