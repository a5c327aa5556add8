"""scripts/tidy_notebook.py drops only widget models that no output shows (directly or through
another model), and recompresses PNG outputs without changing a pixel."""

import base64
import importlib.util
import io
from pathlib import Path

import nbformat
import numpy as np
from PIL import Image

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "tidy_notebook.py"
spec = importlib.util.spec_from_file_location("tidy_notebook", SCRIPT)
tidy_notebook = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tidy_notebook)


def png(pixels) -> str:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG", compress_level=0)  # room to shrink
    return base64.b64encode(buffer.getvalue()).decode()


def test_orphan_widgets_go_and_pictures_stay_the_same(tmp_path):
    pixels = (np.arange(64 * 64) % 7 * 30).astype("uint8").reshape(64, 64)
    cell = nbformat.v4.new_code_cell("display(box)")
    cell.outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={
                tidy_notebook.WIDGET_VIEW: {"model_id": "aa", "version_major": 2},
                "text/plain": "box",
            },
        ),
        nbformat.v4.new_output("display_data", data={"image/png": png(pixels)}),
    ]
    nb = nbformat.v4.new_notebook(cells=[cell])
    state = {
        "aa": {"model_name": "VBoxModel", "state": {"children": ["IPY_MODEL_bb"]}},
        "bb": {"model_name": "ImageModel", "state": {"layout": "IPY_MODEL_cc"}},
        "cc": {"model_name": "LayoutModel", "state": {}},
        "dd": {"model_name": "FloatProgressModel", "state": {"layout": "IPY_MODEL_ee"}},
        "ee": {"model_name": "LayoutModel", "state": {}},
    }
    nb.metadata["widgets"] = {tidy_notebook.WIDGET_STATE: {"state": state, "version_major": 2}}
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)

    before, after = tidy_notebook.tidy(path)
    assert after < before
    tidied = nbformat.read(path, as_version=4)
    kept = tidied.metadata["widgets"][tidy_notebook.WIDGET_STATE]["state"]
    assert sorted(kept) == ["aa", "bb", "cc"]  # the shown box and what it refers to
    out = base64.b64decode(tidied.cells[0].outputs[1]["data"]["image/png"])
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(out))), pixels)


def rgba(pixels) -> np.ndarray:
    return np.asarray(Image.fromarray(pixels).convert("RGBA"))


def test_pictures_shrink_to_fewer_channels_only_when_no_pixel_changes():
    rng = np.random.default_rng(0)
    grey = np.repeat(rng.integers(0, 256, (40, 40, 1), dtype=np.uint8), 4, axis=2)
    grey[..., 3] = 255  # an opaque RGBA picture whose pixels are all grey (a sample grid)
    few = rng.integers(0, 4, (40, 40, 3), dtype=np.uint8) * 60  # 64 colours: a palette
    many = rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)  # too many colours for one
    seethrough = grey.copy()
    seethrough[0, 0, 3] = 0  # one transparent pixel: the alpha channel must stay
    for pixels, smallest_mode in (
        (grey, "L"),
        (few, "P"),
        (many, "RGB"),
        (seethrough, "RGBA"),
    ):
        image = Image.fromarray(pixels)
        modes = [v.mode for v in tidy_notebook.variants(image)]
        assert smallest_mode in modes
        if smallest_mode == "RGBA":
            assert modes == ["RGBA"]
        for variant in tidy_notebook.variants(image):
            again = Image.open(io.BytesIO(tidy_notebook.encode(variant)))
            assert np.array_equal(np.asarray(again.convert("RGBA")), rgba(pixels))
