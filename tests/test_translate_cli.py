"""Shipping translators: export and load_translator round trips for a pix2pix and a CycleGAN
run, TranslatorNetworks translating like the trained model (same checks, same errors), the
errors of wrong names and damaged files, and ``gancourse translate`` end to end with each
bad input."""

import json
import shutil

import h5py
import imageio.v3 as iio
import numpy as np
import pytest

from gancourse import cli, data, pretrained, translation, weights
from gancourse import translation as tr
from gancourse.errors import ModelError

# ---------------------------------------------------------------- runs and exports


def train_run(folder, *args):
    """A one-epoch run of 64 images through the CLI (the course's default networks)."""
    argv = ["train", *args, "--epochs", "1", "--subset", "64", "--batch-size", "32"]
    assert cli.main(argv + ["--ema", "0.99", "--out", str(folder)]) == 0
    return folder


@pytest.fixture(scope="module")
def shipped(tmp_path_factory):
    """A folder with one exported generator-free pix2pix (edges) and one CycleGAN
    (mnist-texture), and their runs."""
    root = tmp_path_factory.mktemp("shipped")
    runs = {
        "edges": train_run(root / "edges", "--model", "pix2pix", "--task", "edges"),
        "texture": train_run(root / "texture", "--model", "cyclegan", "--task", "mnist-texture"),
    }
    folder = root / "pretrained"
    for name, run in runs.items():
        pretrained.export(run, name, command=f"gancourse train ... {name}", directory=folder)
    return folder, runs


def test_export_records_a_translator_and_loads_it_back(shipped):
    folder, runs = shipped
    assert pretrained.names(folder) == []  # generators only by default
    assert pretrained.names(folder, kind="translator") == ["edges", "texture"]
    edges, texture = (pretrained.info(n, folder) for n in ("edges", "texture"))
    assert edges["kind"] == texture["kind"] == "translator"
    assert edges["builder"] == "unet_generator" and texture["builder"] == "cyclegan_generators"
    assert edges["kwargs"] == {
        "input_shape": [28, 28, 1],
        "out_channels": 1,
        "width": 32,
        "depth": 4,
        "skips": True,
        "dropout": 0.5,
    }
    assert texture["kwargs"] == {
        "shape_a": [28, 28, 3],
        "shape_b": [28, 28, 3],
        "width": 16,
        "blocks": 4,
    }
    for entry, task, directions in ((edges, "edges", ["a2b"]), (texture, "mnist-texture", None)):
        assert entry["task"] == task and entry["epochs"] == 1 and entry["ema_weights"]
        assert entry["directions"] == (directions or ["a2b", "b2a"])
        assert entry["cpu_time_s"] >= 0 and entry["wall_time_s"] >= 0
        assert entry["max_abs_diff"] < 0.02 and entry["options"] == {"subset": 64}
        assert entry["sha256"] == weights.sha256_of(folder / entry["file"])
        assert entry["command"].startswith("gancourse train")
        layout = weights.h5_layout(folder / entry["file"])
        with h5py.File(folder / entry["file"]) as f:  # float16, and no discriminator
            assert {f[key].dtype for key in layout} == {np.dtype("float16")}
        assert not any("discriminator" in key or "patch_logits" in key for key in layout)
        assert len(layout) == len(pretrained.build(entry).weights)
    assert edges["dataset"] == "fashion_mnist" and texture["dataset"] == "mnist"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["generators"] == {} and sorted(manifest["translators"]) == ["edges", "texture"]


@pytest.mark.parametrize("name, run", [("edges", "edges"), ("texture", "texture")])
def test_a_shipped_translator_translates_as_the_trained_one(shipped, name, run):
    folder, runs = shipped
    trained, cfg, _ = translation.load_run(runs[run])
    loaded = pretrained.load_translator(name, folder)
    assert isinstance(loaded, tr.TranslatorNetworks)
    assert loaded.directions == trained.directions and loaded.task == trained.task
    assert loaded.dataset == trained.dataset == cfg.dataset and loaded.name == name
    assert all(w.dtype == "float32" for n in loaded.networks.values() for w in n.weights)
    a, b = data.translation_examples(cfg.task, cfg.dataset, n=4)
    for direction, images in zip(loaded.directions, (a, b)):
        assert loaded.source_shape(direction) == trained.source_shape(direction)
        np.testing.assert_allclose(
            loaded.translate(images, direction), trained.translate(images, direction), atol=0.02
        )


def test_shipped_and_trained_translators_refuse_bad_input_alike(shipped):
    folder, runs = shipped
    trained, _, _ = translation.load_run(runs["edges"])
    loaded = pretrained.load_translator("edges", folder)
    bad = {
        "size": np.zeros((2, 16, 16, 1)),
        "channels": np.zeros((2, 28, 28, 3)),
        "range": np.full((2, 28, 28, 1), 255.0),
        "nan": np.full((2, 28, 28, 1), np.nan),
    }
    for what, images in bad.items():
        messages = []
        for model in (trained, loaded):
            with pytest.raises(ModelError) as err:
                model.translate(images)
            messages.append(str(err.value))
        assert messages[0] == messages[1], what
    for model in (trained, loaded):
        with pytest.raises(ModelError, match="pix2pix learns one way"):
            model.translate(np.zeros((1, 28, 28, 1)), "b2a")
        with pytest.raises(ModelError, match="direction must be 'a2b' or 'b2a'"):
            model.translate(np.zeros((1, 28, 28, 1)), "sideways")


def test_cyclegan_pairs_its_generators_as_the_shipped_builder_does():
    """One way to pair G and F: the trained model's ``generator`` and
    ``cyclegan_generators`` save the same arrays under the same names."""
    model = tr.build_translator("cyclegan", "mnist-texture")
    pair = tr.cyclegan_generators((28, 28, 3))
    assert model.generator.name == pair.name == "generators"
    assert [n.name for n in model.generator.layers] == [n.name for n in pair.layers]
    assert tr.builder_of(model.generator) == (
        "cyclegan_generators",
        {"shape_a": [28, 28, 3], "shape_b": [28, 28, 3], "width": 16, "blocks": 4},
    )
    with pytest.raises(ModelError, match="Cannot ship"):
        tr.builder_of(model.discriminator.get_layer("d_a"))


def test_load_and_load_translator_refuse_the_other_kind_and_bad_files(with_a_generator):
    tmp_path, runs = with_a_generator
    with pytest.raises(ModelError, match=r"a pretrained translator.*load_translator\('edges'\)"):
        pretrained.load("edges", tmp_path)
    with pytest.raises(ModelError, match=r"a pretrained generator.*pretrained.load\('dcgan-mnist'"):
        pretrained.load_translator("dcgan-mnist", tmp_path)
    with pytest.raises(ModelError, match="Unknown pretrained translator 'zebra'.*edges, texture"):
        pretrained.load_translator("zebra", tmp_path)
    with pytest.raises(ModelError, match="already the name of a pretrained generator"):
        pretrained.export(runs["edges"], "dcgan-mnist", directory=tmp_path)
    path = tmp_path / "texture.weights.h5"
    original = path.read_bytes()
    layout = weights.h5_layout(path)
    with h5py.File(path) as f:  # where the largest array's numbers are in the file
        key = max(layout, key=lambda k: np.prod(layout[k]))
        start = f[key].id.get_offset()
    damaged = bytearray(original)
    damaged[start : start + 4096] = bytes(4096)  # its numbers zeroed: still readable
    path.write_bytes(bytes(damaged))
    assert weights.h5_layout(path) == layout
    with pytest.raises(ModelError, match="SHA-256"):
        pretrained.load_translator("texture", tmp_path)
    damaged = bytearray(original)
    middle = len(damaged) // 2
    damaged[middle : middle + 4096] = bytes(4096)  # wherever it lands, a clear error
    path.write_bytes(bytes(damaged))
    with pytest.raises(ModelError, match="texture"):
        pretrained.load_translator("texture", tmp_path)
    path.write_bytes(b"not an HDF5 file")
    with pytest.raises(ModelError, match="not a readable Keras weights file"):
        pretrained.load_translator("texture", tmp_path)
    path.unlink()
    with pytest.raises(ModelError, match="missing"):
        pretrained.load_translator("texture", tmp_path)
    with pytest.raises(ModelError, match="kind must be"):
        pretrained.names(kind="zebra")


def test_a_manifest_without_translators_reads_as_before(tmp_path):
    """Manifests written before translators were shipped have no "translators" section:
    their entries are generators, and exporting a generator does not add one."""
    manifest = json.loads((pretrained.PRETRAINED_DIR / "manifest.json").read_text())
    manifest.pop("translators", None)  # as the manifests before them were
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    assert pretrained.names(tmp_path) == pretrained.names()
    assert pretrained.names(tmp_path, kind="translator") == []
    assert "kind" not in pretrained.info("dcgan-mnist", tmp_path)
    assert pretrained.build(pretrained.info("dcgan-mnist", tmp_path)).name == "clustered_generator"


@pytest.fixture
def with_a_generator(shipped, tmp_path):
    """A copy of the exported translators that a test may damage, with a shipped generator's
    entry beside them."""
    folder, runs = shipped
    copy = tmp_path / "pretrained"
    shutil.copytree(folder, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    generators = json.loads((pretrained.PRETRAINED_DIR / "manifest.json").read_text())
    manifest["generators"] = {"dcgan-mnist": generators["generators"]["dcgan-mnist"]}
    (copy / "manifest.json").write_text(json.dumps(manifest))
    return copy, runs


# ---------------------------------------------------------------- the CLI


@pytest.fixture
def ship_here(with_a_generator, monkeypatch):
    """The test's translators (and a generator) as the package's shipped ones."""
    monkeypatch.setattr(pretrained, "PRETRAINED_DIR", with_a_generator[0])
    return with_a_generator


def write_png(path, image):
    iio.imwrite(path, np.asarray(image, dtype="uint8"))
    return path


def test_cli_translates_a_png_with_a_shipped_translator(ship_here, tmp_path, capsys):
    digit = data.to_uint8(data.translation_examples("mnist-texture", n=1)[0][0])
    grey = write_png(tmp_path / "digit.png", digit[..., 0])  # a grey digit on black
    out = tmp_path / "pictures" / "texture.png"
    args = ["translate", "--pretrained", "texture", "--image", str(grey), "--out", str(out)]
    assert cli.main(args) == 0
    printed = capsys.readouterr().out
    assert "channel was repeated into R, G and B" in printed and str(out) in printed
    picture = iio.imread(out)  # input | output | the way back, 28x28 each, enlarged 4x
    assert picture.shape == (4 * (28 + 4), 4 * (3 * 28 + 4 * 2), 3)
    # the first tile is the input, as given
    tile = picture[8 : 8 + 4 * 28 : 4, 8 : 8 + 4 * 28 : 4]
    np.testing.assert_array_equal(tile, np.repeat(digit[..., :1], 3, axis=-1))
    edges = data.to_uint8(data.translation_examples("edges", n=3)[0])
    array = tmp_path / "edges.npy"
    np.save(array, edges[..., 0])  # three grey images (n, H, W), uint8
    out = tmp_path / "edges.png"
    assert (
        cli.main(["translate", "--pretrained", "edges", "--image", str(array), "--out", str(out)])
        == 0
    )
    assert iio.imread(out).shape[:2] == (4 * (3 * 28 + 4 * 2), 4 * (2 * 28 + 3 * 2))


def test_cli_translates_back_and_with_a_run_folder(ship_here, tmp_path, capsys):
    folder, runs = ship_here
    b = data.to_uint8(data.translation_examples("mnist-texture", n=1)[1][0])
    image = write_png(tmp_path / "textured.png", b)
    out = tmp_path / "back.png"
    args = ["--image", str(image), "--out", str(out), "--direction", "b2a"]
    assert cli.main(["translate", "--run", str(runs["texture"]), *args]) == 0
    assert "mnist-texture, b2a" in capsys.readouterr().out
    assert iio.imread(out).shape == (4 * (28 + 4), 4 * (3 * 28 + 4 * 2), 3)


def test_cli_colorize_converts_a_colour_image_to_grey_and_says_so(tmp_path, monkeypatch, capsys):
    """A colouriser given a colour photograph colours its greyscale version, as its training
    inputs were made (an untrained colouriser of the course's shape)."""
    colouriser = tr.TranslatorNetworks(
        tr.unet_generator((32, 32, 1), 3, width=4, depth=2), "colorize", "cifar10", "tiny"
    )
    monkeypatch.setattr(pretrained, "load_translator", lambda name: colouriser)
    grey, colour = data.translation_examples("colorize", n=1)
    image = write_png(tmp_path / "photo.png", data.to_uint8(colour[0]))
    out = tmp_path / "coloured.png"
    assert (
        cli.main(["translate", "--pretrained", "tiny", "--image", str(image), "--out", str(out)])
        == 0
    )
    assert "converted to greyscale" in capsys.readouterr().out
    images, notes = tr.read_images(image, colouriser)
    np.testing.assert_allclose(images, grey, atol=2 / 255)  # the pipeline's own greyscale
    assert iio.imread(out).shape == (4 * (32 + 4), 4 * (2 * 32 + 3 * 2), 3)


def bad_inputs(tmp_path):
    """name -> (arguments after --pretrained, expected words in the error)."""
    colour = np.zeros((28, 28, 3), "uint8")
    colour[..., 0] = 200
    png = write_png(tmp_path / "digit.png", np.zeros((28, 28), "uint8"))
    (tmp_path / "file").write_text("a file where a folder should be")
    np.save(tmp_path / "range.npy", np.full((28, 28), 2.5, "float32"))
    np.save(tmp_path / "wide.npy", np.full((28, 28), 300))
    (tmp_path / "garbled.png").write_bytes(b"\x89PNG not really")
    return {
        "unknown name": (["zebra", "--image", png], "Unknown pretrained translator 'zebra'"),
        "a generator": (["dcgan-mnist", "--image", png], "gancourse sample --pretrained"),
        "wrong size": (
            ["edges", "--image", write_png(tmp_path / "big.png", np.zeros((32, 40), "uint8"))],
            "is 40x32 (width x height); the edges translator takes 28x28 images: the course's "
            "translators work at the size",
        ),
        "colour for a grey side": (
            ["edges", "--image", write_png(tmp_path / "colour.png", colour)],
            "takes one-channel (greyscale) images in direction a2b",
        ),
        "float array out of range": (["edges", "--image", tmp_path / "range.npy"], "[-1, 1]"),
        "whole numbers above 255": (["edges", "--image", tmp_path / "wide.npy"], "0-255"),
        "unreadable file": (["edges", "--image", tmp_path / "garbled.png"], "could not read"),
        "no such file": (["edges", "--image", tmp_path / "none.png"], "is not a file"),
        "pix2pix backwards": (["edges", "--image", png, "--direction", "b2a"], "one way"),
        "out not a png": (["edges", "--image", png, "--out", tmp_path / "x.jpg"], ".png file"),
        "out unwritable": (
            ["edges", "--image", png, "--out", tmp_path / "file" / "x.png"],
            "Could not write the picture",
        ),
    }


CASES = [
    "unknown name",
    "a generator",
    "wrong size",
    "colour for a grey side",
    "float array out of range",
    "whole numbers above 255",
    "unreadable file",
    "no such file",
    "pix2pix backwards",
    "out not a png",
    "out unwritable",
]


@pytest.mark.parametrize("case", CASES)
def test_cli_translate_refuses_bad_input_clearly(ship_here, tmp_path, capsys, case):
    extra, message = bad_inputs(tmp_path)[case]
    out = tmp_path / "out.png"
    args = ["translate", "--pretrained", *map(str, extra)]
    if "--out" not in extra:
        args += ["--out", str(out)]
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err, err
    assert not out.exists() and not list(tmp_path.glob(".*partial*"))
