"""Colab's preinstalled packages (``constraints/colab.txt``) are never changed by installing
the course: every dependency accepts the version Colab has, and the check CI runs on pip's
dry-run report names any package the install would change."""

import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import check_colab_install as check  # noqa: E402

COLAB = check.read_constraints(ROOT / "constraints" / "colab.txt")
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def test_constraints_file_names_its_source_date_and_python():
    head = (ROOT / "constraints" / "colab.txt").read_text().splitlines()[:4]
    assert any("googlecolab/backend-info" in line for line in head)
    assert any("runtime of 20" in line for line in head)
    assert any(line.startswith("# Python: 3.") for line in head)
    # the packages the course leans on are all listed
    for name in ("tensorflow", "keras", "numpy", "matplotlib", "ipywidgets", "ipykernel"):
        assert name in COLAB


@pytest.mark.parametrize("line", PROJECT["dependencies"])
def test_every_dependency_accepts_colabs_version(line):
    """A pin Colab's version does not satisfy would make pip upgrade or downgrade it there."""
    req = Requirement(line)
    name = check.normalise(req.name)
    if name not in COLAB:
        pytest.skip(f"Colab has no {req.name}: installing it changes nothing Colab has")
    assert req.specifier.contains(COLAB[name], prereleases=True), (
        f"pyproject.toml asks for {line!r}, but Colab has {req.name} {COLAB[name]}: "
        "installing the course would replace it"
    )


def test_python_of_colab_is_allowed():
    head = (ROOT / "constraints" / "colab.txt").read_text()
    python = head.split("# Python: ", 1)[1].split()[0]
    assert SpecifierSet(PROJECT["requires-python"]).contains(python + ".0")


def _report(*packages):
    return {"install": [{"metadata": {"name": n, "version": v}} for n, v in packages]}


def test_check_passes_the_package_and_what_colab_lacks():
    lacking = "surely-not-on-colab"
    assert lacking not in COLAB
    assert check.changes(_report(("gancourse", "0.2.0"), (lacking, "1.0")), COLAB) == []


def test_check_names_an_upgrade_of_a_preinstalled_package():
    bad = check.changes(_report(("gancourse", "0.2.0"), ("ipywidgets", "8.1.9")), COLAB)
    assert bad == [f"ipywidgets: Colab has {COLAB['ipywidgets']}, the install would bring 8.1.9"]
    # names are compared the way pip compares them
    assert check.changes(_report(("Widgetsnbextension", "4.0.16")), COLAB)


def test_check_command_fails_on_a_change(tmp_path, capsys):
    import json

    report = tmp_path / "report.json"
    report.write_text(json.dumps(_report(("gancourse", "0.2.0"), ("numpy", "2.4.6"))))
    assert check.main([str(report)]) == 1
    assert "numpy: Colab has" in capsys.readouterr().out
    report.write_text(json.dumps(_report(("gancourse", "0.2.0"))))
    assert check.main([str(report)]) == 0
