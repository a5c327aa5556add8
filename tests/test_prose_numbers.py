"""Numbers in the notebooks' prose come from the run: every number with a decimal point and every
percentage in a notebook's Markdown is printed by that notebook's text outputs, or is visibly marked
as not coming from this run, or is listed in EXCEPTIONS below with its reason. A re-run that changes
the outputs then fails here until the prose says what the new outputs print.

What counts as printed: any number in a stream or ``text/plain`` / ``text/markdown`` output, read
with the usual formatting (thousands separators, trailing zeros), rounded to the prose's number of
decimals, and a fraction printed as 0.123 quoted as 12.3%.

What counts as marked, so that a reader sees where a number comes from:

- LaTeX math (``$...$``, ``$$...$$``) and inline code: formulas and settings, not measurements;
- a parenthesis that names the source: ``(read off the figure)``, ``(earlier run)``,
  ``(previous run)``, ``(not this run)``, ``(literature)``, ``(README)``, ``(from its manifest)`` or
  a citation such as ``(Heusel et al. 2017)``; it covers the numbers inside it and those of the
  clause just before it (back to the last ``.``, ``;``, table cell, list item or paragraph);
- a parenthesis that names another notebook, ``(notebook 08: 19.50)``, covers the numbers inside it;
- a hyperparameter written after its name (``beta1 0.5``, ``Adam 2e-4 / 0.5``, ``momentum 0.8``,
  ``LeakyReLU 0.2``, ``EMA 0.999``, ``clip 0.01`` or ``0.01 clip``) and software versions
  (``TensorFlow 2.21``, ``1.2.3``).

The check is lenient where it has to be: a prose number that happens to equal some other printed
value passes. It catches what matters most, a number left over from an earlier run.
"""

import json
import re
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("[0-9][0-9]_*.ipynb"))

# The few numbers the rules above cannot place, per notebook (file stem), each with its reason.
# A test below fails when an entry is no longer needed, so the list cannot rot.
EXCEPTIONS = {
    "06_cifar10": {"8.5": "the whole notebook's run time, measured from outside it"},
}

# --- the checker -------------------------------------------------------------------------------

NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
PROSE_NUMBER = re.compile(rf"(?<![\w.,])(?:{NUMBER})(?:\s?%)?(?!\d|\.\d)")
OUTPUT_NUMBER = re.compile(rf"(?<![\w.])(?:{NUMBER})(?:[eE][-+]?\d+)?")

HYPERPARAMETER = (
    r"beta_?1|beta_?2|β_?1|β_?2|\bbetas?\b|\blr\b|learning rates?|momentum|slope|LeakyReLU|"
    r"\bAdam\b|RMSProp|\bEMA\b|decay|clip(?:ping)?(?: value)?|smoothing|label(?:s)? of|"
    r"truncation|\bpsi\b|ψ|dropout|\bgamma\b|γ|λ|\blambda\b|penalty weight|threshold"
)
AFTER_HYPERPARAMETER = re.compile(
    rf"(?:{HYPERPARAMETER})\(?(?:[\s=:/,\-+]|\d|e-|\.\d|\bto\b|\bof\b|\band\b)*$", re.I
)
BEFORE_HYPERPARAMETER = re.compile(r"^\s?(?:clip|clipping|momentum|slope|weight clipping)\b", re.I)
SOFTWARE = re.compile(
    r"\b(?:python|tensorflow|keras|numpy|ipywidgets|widgetsnbextension|ipykernel|ipython|"
    r"matplotlib|imageio|tqdm|tensorboard|jupyterlab|nbval|scipy|version|v)\s*$",
    re.I,
)
SOURCE_MARKER = re.compile(
    r"(?i:read off|not (?:from )?this run|earlier runs?|previous runs?|earlier version|manifest|"
    r"literature)|\bREADME\b|et al\.|"
    r"[A-Z][\w-]+,? (?:19|20)\d\d[a-z]?\b|^\s*(?:19|20)\d\d[a-z]?\s*$",
)
OTHER_NOTEBOOK = re.compile(r"\bnotebook (\d\d)\b", re.I)
CLAUSE_END = re.compile(r"[.!?](?=\s)|[;|]|\n\s*\n|\n\s*(?:[*+-]|\d+\.)\s")


def markdown_numbers(text, notebook_number=None):
    """The numbers of ``text`` (Markdown) that claim to come from the run, as (number, context):
    every number with a decimal point and every percentage, minus the marked ones."""
    text = strip_unmarked_regions(text)
    covered = marked_spans(text, notebook_number)
    found = []
    for match in PROSE_NUMBER.finditer(text):
        token = match.group(0)
        if "." not in token and "%" not in token:
            continue
        start, end = match.span()
        if any(a <= start < b for a, b in covered):
            continue
        before, after = text[max(0, start - 40) : start], text[end : end + 20]
        if AFTER_HYPERPARAMETER.search(before) or BEFORE_HYPERPARAMETER.match(after):
            continue
        if "%" not in token and SOFTWARE.search(before):
            continue
        context = " ".join(text[max(0, start - 50) : end + 30].split())
        found.append((token, context))
    return found


def strip_unmarked_regions(text):
    """Blank out what is not prose: math, code, HTML tags, link targets, dotted versions.
    Blanks keep the offsets and clause ends of the rest."""

    def blank(match):
        return re.sub(r"[^\n]", " ", match.group(0))

    for pattern in (
        r"\$\$.*?\$\$",
        r"\$[^$\n]+\$",
        r"```.*?```",
        r"`[^`\n]+`",
        r"<[^>\n]+>",
        r"\]\([^)\s]+\)",
        r"\d+(?:\.\d+){2,}",
    ):
        text = re.sub(pattern, blank, text, flags=re.S)
    return text


def marked_spans(text, notebook_number=None):
    """Character spans covered by a marker. A parenthesis (or one ``;``-separated part of it) that
    names a source covers itself and, if it opens the parenthesis, the clause before it; one that
    names another notebook covers only itself."""
    spans = []
    for paren in re.finditer(r"\(([^()]*)\)", text):
        start = paren.start(1)
        for number, part in enumerate(paren.group(1).split(";")):
            other = any(n != notebook_number for n in OTHER_NOTEBOOK.findall(part))
            if SOURCE_MARKER.search(part) or other:
                spans.append((start, start + len(part)))
            if SOURCE_MARKER.search(part) and number == 0:
                clause_starts = [m.end() for m in CLAUSE_END.finditer(text, 0, paren.start())]
                spans.append((clause_starts[-1] if clause_starts else 0, paren.start()))
            start += len(part) + 1
    return spans


def printed_numbers(cells):
    """The numbers the notebook's code cells print (their text outputs)."""
    texts = []
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        for output in cell.get("outputs", []):
            if output["output_type"] == "stream":
                texts.append("".join(output["text"]))
            data = output.get("data", {})
            for kind in ("text/plain", "text/markdown"):
                if kind in data:
                    texts.append("".join(data[kind]))
    return {parse(m) for t in texts for m in OUTPUT_NUMBER.findall(t)} - {None}


def parse(token):
    try:
        return Decimal(token.replace(",", "").strip())
    except InvalidOperation:
        return None


def is_printed(token, printed):
    """Whether the prose number ``token`` is one of the ``printed`` values, read with the usual
    formatting."""
    percent = token.endswith("%")
    value = parse(token.rstrip("%"))
    if value is None:
        return False
    places = -value.as_tuple().exponent
    quantum = Decimal(1).scaleb(-places)
    candidates = set(printed)
    if percent:
        candidates |= {p * 100 for p in printed}
    for candidate in candidates:
        candidate = abs(candidate)
        if candidate == value:
            return True
        for rounding in (ROUND_HALF_UP, ROUND_HALF_EVEN):
            if candidate.quantize(quantum, rounding=rounding) == value:
                return True
    return False


def unprinted_numbers(notebook, number=None, exceptions=()):
    """(cell index, number, context) for each number of the Markdown that is neither printed,
    marked nor listed in ``exceptions`` (a mapping of number to reason). ``number`` is the
    notebook's own two-digit number: "(notebook 04)" marks nothing in notebook 04."""
    cells = notebook["cells"]
    printed = printed_numbers(cells)
    missing = []
    for index, cell in enumerate(cells):
        if cell["cell_type"] != "markdown":
            continue
        for token, context in markdown_numbers("".join(cell["source"]), number):
            if token.replace(" ", "") in exceptions:
                continue
            if not is_printed(token.replace(" ", ""), printed):
                missing.append((index, token, context))
    return missing


# --- the notebooks -----------------------------------------------------------------------------


def load(path):
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_number_in_the_prose_is_printed_or_marked(path):
    missing = unprinted_numbers(load(path), path.name[:2], EXCEPTIONS.get(path.stem, {}))
    assert not missing, f"{path.name}: numbers in the prose that no output prints:\n" + "\n".join(
        f"  cell {i}: {token!r} in ...{context}..." for i, token, context in missing
    )


def test_every_exception_is_still_needed():
    paths = {path.stem: path for path in NOTEBOOKS}
    for stem, exceptions in EXCEPTIONS.items():
        assert stem in paths, f"EXCEPTIONS names {stem}, which is not a notebook"
        unplaced = {token for _, token, _ in unprinted_numbers(load(paths[stem]), stem[:2])}
        assert set(exceptions) <= unplaced, (
            f"{stem}: no longer needed: {set(exceptions) - unplaced}"
        )
        assert all(reason.strip() for reason in exceptions.values())


# --- the checker itself, on tiny notebooks -----------------------------------------------------


def notebook(markdown, *printed):
    """A notebook of one Markdown cell and one code cell that printed ``printed``."""
    outputs = [{"output_type": "stream", "name": "stdout", "text": text} for text in printed]
    return {
        "cells": [
            {"cell_type": "markdown", "source": markdown},
            {"cell_type": "code", "source": "print(...)", "outputs": outputs},
        ]
    }


def unplaced(markdown, *printed, number="09", exceptions=()):
    return [
        token for _, token, _ in unprinted_numbers(notebook(markdown, *printed), number, exceptions)
    ]


def test_a_number_no_output_prints_fails():
    assert unplaced("The DCGAN scored FID 19.50.", "dcgan FID 17.34") == ["19.50"]
    assert unplaced("Precision rose to 93%.", "precision 0.891") == ["93%"]
    assert unplaced("A gap of 0.7 points.", "FID 18.81, 18.12") == ["0.7"]  # derived, not printed


def test_a_printed_number_passes_with_the_usual_formatting():
    printed = "FID  36.69  KID 0.02291  steps 2,011.5  recall 0.123  loss 6.25  share 0.5"
    prose = "FID 36.69, or 36.7, KID 0.023, 2,011.5 steps, 12.3% recalled, 6.3 or 6.2, 0.50."
    assert unplaced(prose, printed) == []
    assert unplaced("Classes 5.6% to 14.4%.", "bird 5.6%\ndog 14.4%") == []


def test_a_marked_number_passes():
    printed = "nothing relevant"
    for prose in (
        "The loss drops to about 0.05 (read off the curves).",
        "It scored 19.63 against 18.72 (previous run of this notebook).",
        "In three earlier runs it scored 17.34 and 18.04 (earlier runs).",
        "The DCGAN scored higher there (notebook 08: 19.50).",
        "A classifier with 91.7% test accuracy (from its manifest).",
        "IS 9.3 on CIFAR-10 (Salimans et al. 2016).",
        "FID reached 4.34 with the recipe (README).",
        "The optimum is $D^* = 0.5$ and `beta_1=0.5`.",
        "Adam 2e-4 with beta1 0.5, momentum 0.8, LeakyReLU 0.2, EMA 0.999 and a 0.01 clip.",
        "Built with TensorFlow 2.21 and ipywidgets 7.7.1.",
    ):
        assert unplaced(prose, printed) == [], prose


def test_a_marker_covers_its_own_clause_only():
    prose = "FID 4.34 (earlier run). Today FID 5.12; also 6.01 (read off the figure)."
    assert unplaced(prose, "nothing") == ["5.12"]
    assert unplaced("We scored 7.25, then (notebook 06) 8.5.", "nothing") == ["7.25", "8.5"]


def test_the_notebooks_own_number_is_no_marker():
    prose = "The DCGAN scored higher there (notebook 08: 19.50)."
    assert unplaced(prose, "nothing", number="08") == ["19.50"]
    assert unplaced(prose, "nothing", number="09") == []


def test_an_exception_passes_only_its_own_number():
    exceptions = {"8.5": "the notebook's run time"}
    assert unplaced("It took 8.5 minutes and scored 3.25.", "", exceptions=exceptions) == ["3.25"]
