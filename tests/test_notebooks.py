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


SETUP_URL = re.compile(r'^REPO_URL = "([^"]*)"', re.MULTILINE)


def check_repository_url(cells, name, repo_url, colab):
    """The badge links to the notebook on Colab, and the setup cell installs from
    ``repo_url`` (its own literal: it runs before the package exists)."""
    assert f"]({colab})" in source(cells[0]), f"{name}: the Colab badge is not {colab}"
    setup = source(cells[1])
    assert SETUP_URL.findall(setup) == [repo_url], f"{name}: the setup cell must install {repo_url}"
    assert 'f"gancourse @ git+{REPO_URL}"' in setup and "gc.setup_notebook()" in setup


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_badge_and_install_cell_agree_with_the_repository_url(path):
    check_repository_url(load(path)["cells"], path.name, REPO_URL, colab_url(path.name))


def run_setup_cell(path, monkeypatch, pip_result):
    """Execute a notebook's setup cell as on Colab without the package: ``find_spec`` finds
    nothing and pip returns ``pip_result``. Returns the pip command that was run."""
    import importlib.util
    import subprocess

    calls = []

    def fake_run(cmd, **kwargs):
        calls.append(cmd)
        return pip_result

    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    monkeypatch.setattr(subprocess, "run", fake_run)
    setup = source(load(path)["cells"][1])
    exec(compile(setup.split("import gancourse as gc")[0], path.name, "exec"), {})
    return calls


def test_a_failed_install_stops_with_the_two_ways_out(monkeypatch, capsys):
    import subprocess

    failed = subprocess.CompletedProcess([], 1, "", "ERROR: git clone: Could not resolve host")
    with pytest.raises(SystemExit) as stop:
        run_setup_cell(NOTEBOOKS[0], monkeypatch, failed)
    message = str(stop.value.code)
    assert f"Could not install the course package from {REPO_URL}" in message
    assert "Two ways out" in message and "Download ZIP" in message and "Set REPO_URL" in message
    assert "Could not resolve host" in capsys.readouterr().out  # pip's own reason comes first
    monkeypatch.undo()
    ok = subprocess.CompletedProcess([], 0, "", "")
    calls = run_setup_cell(NOTEBOOKS[0], monkeypatch, ok)
    assert calls[0][-1] == f"gancourse @ git+{REPO_URL}"


def test_in_ipython_a_failed_install_shows_no_stack_trace(tmp_path):
    """What a learner sees: the message, not a traceback (IPython shows SystemExit briefly)."""
    import subprocess
    import sys

    script = tmp_path / "cell.py"
    script.write_text(
        "import importlib.util, json, subprocess, sys\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "importlib.util.find_spec = lambda name, *a: None\n"
        "subprocess.run = lambda cmd, **k: subprocess.CompletedProcess(cmd, 1, '', "
        "'ERROR: no network')\n"
        "nb = json.load(open(sys.argv[1], encoding='utf-8'))\n"
        "result = InteractiveShell.instance().run_cell(''.join(nb['cells'][1]['source']))\n"
        "print('STOPPED' if isinstance(result.error_in_exec, SystemExit) else 'WENT ON')\n"
    )
    run = subprocess.run(
        [sys.executable, str(script), str(NOTEBOOKS[0])],
        capture_output=True,
        text=True,
        timeout=120,
    )
    shown = run.stdout + run.stderr
    assert "STOPPED" in run.stdout and "Two ways out" in shown and "ERROR: no network" in shown
    assert "Traceback" not in shown and "most recent call" not in shown


def test_set_repo_url_rewrites_config_badges_install_cells_and_readme(tmp_path):
    """scripts/set_repo_url.py on a copy of the checkout: every place names the fork, and
    the notebooks keep their outputs."""
    import importlib.util
    import shutil

    root = Path(__file__).parent.parent
    copy = tmp_path / "checkout"
    (copy / "gancourse").mkdir(parents=True)
    shutil.copy(root / "gancourse" / "config.py", copy / "gancourse" / "config.py")
    (copy / "notebooks").mkdir()
    for path in NOTEBOOKS:
        shutil.copy(path, copy / "notebooks" / path.name)
    shutil.copy(root / "README.md", copy / "README.md")
    spec = importlib.util.spec_from_file_location(
        "set_repo_url", root / "scripts" / "set_repo_url.py"
    )
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)

    fork = "https://github.com/my-university/gan-course"
    assert script.main([fork, "--root", str(copy)]) == 0
    assert f'REPO_URL = "{fork}"' in (copy / "gancourse" / "config.py").read_text()
    for path in NOTEBOOKS:
        before, after = load(path), load(copy / "notebooks" / path.name)
        colab = f"https://colab.research.google.com/github/my-university/gan-course/blob/main/notebooks/{path.name}"
        check_repository_url(after["cells"], path.name, fork, colab)
        outputs = [[c.get("outputs") for c in nb["cells"]] for nb in (before, after)]
        assert outputs[0] == outputs[1]
        assert after["cells"][2:] == before["cells"][2:]
    readme = (copy / "README.md").read_text()
    assert "colab.research.google.com/github/my-university/gan-course/blob/main/" in readme
    assert "colab.research.google.com/github/gancourse/gancourse" not in readme
    assert script.main([fork, "--root", str(copy)]) == 0  # a second run changes nothing
    assert script.main(["not a url", "--root", str(copy)]) == 2


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_notebook_has_goals_run_time_exercises_and_summary(path):
    text = "\n".join(source(c) for c in load(path)["cells"] if c["cell_type"] == "markdown")
    for needed in ("You will learn", "Run time", "## Exercises", "## Summary"):
        assert needed in text, f"{path.name} lacks {needed!r}"
    code = [source(c) for c in load(path)["cells"] if c["cell_type"] == "code"]
    assert (
        sum("gc.exercises.check_" in c for c in code) >= 4
    )  # >= 2 exercises, each with its solution
    assert sum(c.startswith("#@title Solution") for c in code) >= 2
    assert "PLACEHOLDER" not in text, f"{path.name} has text still to be written"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_solutions_are_collapsed(path):
    """A learner sees the exercise first: solution cells open collapsed in JupyterLab
    (``source_hidden``) and in Colab (``cellView: form``)."""
    for cell in load(path)["cells"]:
        if cell["cell_type"] == "code" and source(cell).startswith("#@title Solution"):
            meta = cell["metadata"]
            assert meta.get("jupyter", {}).get("source_hidden") is True, source(cell)[:80]
            assert meta.get("cellView") == "form", source(cell)[:80]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_outputs_come_from_one_clean_run(path):
    cells = [c for c in load(path)["cells"] if c["cell_type"] == "code"]
    counts = [c["execution_count"] for c in cells]
    assert counts == list(range(1, len(cells) + 1)), "run the notebook top to bottom once"
    text = json.dumps(cells)
    for c in cells:
        for out in c["outputs"]:
            assert out["output_type"] != "error", f"{path.name} stores an error"
            assert out.get("name") != "stderr", (
                f"{path.name} stores stderr output: {out.get('text')}"
            )
    assert not re.search(r"I0000 |W0000 |oneDNN custom operations|UserWarning", text)
    assert "Mode: teaching" in text, "commit the outputs of a teaching-mode run"
