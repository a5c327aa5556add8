"""Static checks of the committed notebooks (nbval executes them; this checks how they read):
badges agree with the one repository URL, every notebook has the course's sections, and the
stored outputs come from a clean run (all cells executed in order, no errors, no log noise)."""
import json
import re
from pathlib import Path

import pytest

from gancourse.config import REPO_URL, colab_url

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def source(cell):
    return "".join(cell["source"])


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 4


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_badge_and_install_cell_agree_with_the_repository_url(path):
    cells = load(path)["cells"]
    assert f"]({colab_url(path.name)})" in source(cells[0])
    setup = source(cells[1])
    assert f"git+{REPO_URL}" in setup and "gc.setup_notebook()" in setup


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_notebook_has_goals_run_time_exercises_and_summary(path):
    text = "\n".join(source(c) for c in load(path)["cells"] if c["cell_type"] == "markdown")
    for needed in ("You will learn", "Run time", "## Exercises", "## Summary"):
        assert needed in text, f"{path.name} lacks {needed!r}"
    code = [source(c) for c in load(path)["cells"] if c["cell_type"] == "code"]
    assert sum("gc.exercises.check_" in c for c in code) >= 4  # >= 2 exercises, each with its solution
    assert sum(c.startswith("#@title Solution") for c in code) >= 2


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_outputs_come_from_one_clean_run(path):
    cells = [c for c in load(path)["cells"] if c["cell_type"] == "code"]
    counts = [c["execution_count"] for c in cells]
    assert counts == list(range(1, len(cells) + 1)), "run the notebook top to bottom once"
    text = json.dumps(cells)
    for c in cells:
        for out in c["outputs"]:
            assert out["output_type"] != "error", f"{path.name} stores an error"
            assert out.get("name") != "stderr", f"{path.name} stores stderr output: {out.get('text')}"
    assert not re.search(r"I0000 |W0000 |oneDNN custom operations|UserWarning", text)
    assert "Mode: teaching" in text, "commit the outputs of a teaching-mode run"
