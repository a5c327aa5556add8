"""Tidy an executed notebook before committing it, without changing anything it shows.

    python scripts/tidy_notebook.py notebooks/04_wgan.ipynb [...]

- Widget models that no output refers to are dropped from the notebook's saved widget state.
  ``nbconvert --execute`` keeps the state of every widget the kernel ever made, including the
  progress bars that ``gancourse.callbacks.ProgressBar`` removes from the output when an epoch
  ends; a notebook saved from JupyterLab would not contain them.
- PNG outputs are recompressed losslessly (same pixels, Pillow's ``optimize``), which saves a
  tenth or so of matplotlib's bytes, and stored with fewer channels when that loses nothing:
  without the alpha channel when every pixel is opaque, as greyscale when every pixel is grey
  (grids of Fashion-MNIST samples), with a palette when there are at most 256 colours.

Prints the size before and after.
"""

from __future__ import annotations

import base64
import io
import json
import re
import sys
from pathlib import Path

import nbformat
import numpy as np
from PIL import Image

WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def referenced_models(nb) -> set[str]:
    """Model ids shown by some output, and every model those refer to, recursively."""
    models = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    todo = [
        out["data"][WIDGET_VIEW]["model_id"]
        for cell in nb.cells
        for out in cell.get("outputs", [])
        if WIDGET_VIEW in out.get("data", {})
    ]
    seen: set[str] = set()
    while todo:
        model_id = todo.pop()
        if model_id in seen or model_id not in models:
            continue
        seen.add(model_id)
        todo += re.findall(r"IPY_MODEL_([0-9a-f]+)", json.dumps(models[model_id]))
    return seen


def variants(image):
    """The image as it is, and in every smaller mode that shows exactly the same pixels."""
    yield image
    rgba = np.asarray(image.convert("RGBA"))
    if (rgba[..., 3] != 255).any():
        return
    rgb = rgba[..., :3]
    if (rgb == rgb[..., :1]).all():
        yield Image.fromarray(np.ascontiguousarray(rgb[..., 0]), mode="L")
        return
    yield Image.fromarray(np.ascontiguousarray(rgb), mode="RGB")
    colours, index = np.unique(rgb.reshape(-1, 3), axis=0, return_inverse=True)
    if len(colours) <= 256:
        palette = Image.fromarray(index.reshape(rgb.shape[:2]).astype(np.uint8), mode="P")
        palette.putpalette(colours.astype(np.uint8).ravel().tolist())
        yield palette


def encode(image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def same_pixels(a, b) -> bool:
    return a.size == b.size and a.convert("RGBA").tobytes() == b.convert("RGBA").tobytes()


def tidy(path: Path) -> tuple[int, int]:
    before = path.stat().st_size
    nb = nbformat.read(path, as_version=4)
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE)
    if state and "state" in state:
        keep = referenced_models(nb)
        state["state"] = {k: v for k, v in state["state"].items() if k in keep}
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if "image/png" in data:
                raw = base64.b64decode(data["image/png"])
                image = Image.open(io.BytesIO(raw))
                smaller = min((encode(v) for v in variants(image)), key=len)
                if len(smaller) < len(raw):
                    assert same_pixels(Image.open(io.BytesIO(smaller)), image)
                    data["image/png"] = base64.b64encode(smaller).decode()
    nbformat.write(nb, path)
    return before, path.stat().st_size


def main(argv=None):
    for name in argv if argv is not None else sys.argv[1:]:
        before, after = tidy(Path(name))
        print(f"{name}: {before / 1e6:.2f} MB -> {after / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
