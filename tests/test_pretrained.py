"""Pretrained generators: every shipped one loads and draws pictures, the manifest says how
each was trained, and wrong names or files get a clear ModelError."""

import json
import os
import shutil

import h5py
import numpy as np
import pytest

from gancourse import cli, evaluation, metrics, models, pretrained, sampling, weights
from gancourse.errors import ModelError

SHIPPED = tuple(pretrained.names())  # what the manifest lists; each must load and draw


def test_the_dcgan_generators_are_shipped():
    assert {"dcgan-fashion_mnist", "dcgan-mnist"} <= set(SHIPPED)


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_generator_loads_and_draws_images(name):
    entry = pretrained.info(name)
    g = pretrained.load(name)
    assert all(w.dtype == "float32" for w in g.weights)
    assert g.pretrained_name == name and g.dataset_name == entry["dataset"]
    n = 10
    z = sampling.sample_inputs(g, n, seed=0)  # (an InfoGAN generator's with proper codes)
    args = [z, np.arange(n).reshape(-1, 1).astype("int32")] if models.is_conditional(g) else z
    images = np.asarray(g(args, training=False))
    assert images.shape == (n,) + tuple(entry["kwargs"]["image_shape"])
    assert images.min() >= -1.0 and images.max() <= 1.0
    # a trained generator draws different pictures for different z (not one collapsed image)
    assert images.std(axis=0).mean() > 0.05


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_generator_draws_every_class(name):
    # The shipped classifier of the generator's dataset sorts 1,000 samples into classes: a
    # trained, uncollapsed generator fills most of them; a conditional one draws the class
    # it is asked for far more often than chance (10%).
    g = pretrained.load(name)
    n = 1000
    z = sampling.sample_inputs(g, n, seed=0)
    labels = np.arange(n) % 10
    images = sampling.generate_images(g, z, labels if models.is_conditional(g) else None)
    probs = evaluation.get_extractor(g.dataset_name).probabilities(images)
    counts = np.bincount(probs.argmax(axis=1), minlength=10)
    assert metrics.mode_coverage(counts)["classes_covered"] >= 0.8, counts
    if models.is_conditional(g):
        assert (probs.argmax(axis=1) == labels).mean() > 0.6


@pytest.mark.parametrize("name", SHIPPED)
def test_manifest_records_how_each_was_trained(name):
    entry = pretrained.info(name)
    for key in (
        "builder",
        "kwargs",
        "dataset",
        "command",
        "epochs",
        "wall_time_s",
        "machine",
        "date",
    ):
        assert entry.get(key) not in (None, ""), key
    assert "gancourse train --model" in entry["command"]
    assert entry["machine"] == "2 CPU cores, no GPU"
    # float16 storage costs far less than a grey level (2/255 in [-1, 1])... except at single
    # pixels of the StyleGAN, where the rounding of the mapping network reaches every style
    # layer: measured on 2,000 samples, max 0.13 but mean 0.00046, FID 2.088 in both precisions
    limit = 0.15 if entry["model"] == "stylegan" else 0.02
    assert entry["max_abs_diff"] < limit
    path = pretrained.PRETRAINED_DIR / entry["file"]
    assert path.stat().st_size == entry["bytes"] < 6_000_000
    with h5py.File(path) as f:
        dtypes = set()
        f.visititems(lambda k, o: dtypes.add(o.dtype.name) if isinstance(o, h5py.Dataset) else None)
    assert dtypes == {"float16"}


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(ModelError) as err:
        pretrained.load("stylegan-faces")
    message = str(err.value)
    assert "stylegan-faces" in message
    for name in SHIPPED:
        assert name in message


@pytest.fixture
def copy_of_shipped(tmp_path):
    """A private copy of the shipped folder that a test may damage."""
    shutil.copy(pretrained.PRETRAINED_DIR / "manifest.json", tmp_path)
    shutil.copy(pretrained.PRETRAINED_DIR / "dcgan-fashion_mnist.weights.h5", tmp_path)
    return tmp_path


def test_weights_of_another_architecture_are_a_clear_error(copy_of_shipped):
    models.dcgan_generator(latent_dim=100, width=64).save_weights(
        copy_of_shipped / "dcgan-fashion_mnist.weights.h5"
    )
    with pytest.raises(ModelError, match="does not match the architecture") as err:
        pretrained.load("dcgan-fashion_mnist", directory=copy_of_shipped)
    assert "in the file but" in str(err.value)


def test_weights_of_another_model_kind_are_a_clear_error(copy_of_shipped):
    models.mlp_generator(latent_dim=100).save_weights(
        copy_of_shipped / "dcgan-fashion_mnist.weights.h5"
    )
    with pytest.raises(ModelError, match="does not match"):
        pretrained.load("dcgan-fashion_mnist", directory=copy_of_shipped)


def test_damaged_or_missing_file_is_a_clear_error(copy_of_shipped):
    path = copy_of_shipped / "dcgan-fashion_mnist.weights.h5"
    path.write_bytes(b"not an HDF5 file")
    with pytest.raises(ModelError, match="not a readable Keras weights file"):
        pretrained.load("dcgan-fashion_mnist", directory=copy_of_shipped)
    path.unlink()
    with pytest.raises(ModelError, match="missing"):
        pretrained.load("dcgan-fashion_mnist", directory=copy_of_shipped)


def test_a_damaged_weights_file_is_refused(copy_of_shipped):
    # 4 KiB overwritten in the middle: still a readable HDF5 file of the right layout (before
    # the SHA-256 check it loaded, with NaN weights); now refused by its hash.
    path = copy_of_shipped / "dcgan-fashion_mnist.weights.h5"
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 4096] = (
        np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes()
    )
    path.write_bytes(bytes(data))
    assert weights.h5_layout(path) == weights.h5_layout(pretrained.PRETRAINED_DIR / path.name)
    with pytest.raises(ModelError, match="SHA-256") as err:
        pretrained.load("dcgan-fashion_mnist", directory=copy_of_shipped)
    assert "dcgan-fashion_mnist" in str(err.value) and "damaged" in str(err.value)


def test_another_generators_file_of_the_same_layout_is_refused(copy_of_shipped):
    # dcgan-mnist has exactly the architecture of dcgan-fashion_mnist: only the hash tells.
    shutil.copy(
        pretrained.PRETRAINED_DIR / "dcgan-mnist.weights.h5",
        copy_of_shipped / "dcgan-fashion_mnist.weights.h5",
    )
    with pytest.raises(ModelError, match="another model with the same layout"):
        pretrained.load("dcgan-fashion_mnist", directory=copy_of_shipped)


def test_a_manifest_entry_without_a_hash_is_refused(copy_of_shipped):
    manifest = json.loads((copy_of_shipped / "manifest.json").read_text())
    del manifest["generators"]["dcgan-fashion_mnist"]["sha256"]
    (copy_of_shipped / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match="records no SHA-256"):
        pretrained.load("dcgan-fashion_mnist", directory=copy_of_shipped)


def test_manifest_cannot_name_an_arbitrary_builder(copy_of_shipped):
    manifest = json.loads((copy_of_shipped / "manifest.json").read_text())
    manifest["generators"]["dcgan-fashion_mnist"]["builder"] = "scenario_models"
    (copy_of_shipped / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match="Unknown generator builder"):
        pretrained.load("dcgan-fashion_mnist", directory=copy_of_shipped)


def test_export_then_load_round_trip(tmp_path):
    run = tmp_path / "run"
    assert (
        cli.main(
            [
                "train",
                "--model",
                "cgan",
                "--dataset",
                "mnist",
                "--epochs",
                "1",
                "--subset",
                "128",
                "--lr-decay",
                "0.5",
                "--ema",
                "0.99",
                "--ema-warmup",
                "--out",
                str(run),
            ]
        )
        == 0
    )
    folder = tmp_path / "shipped"
    path = pretrained.export(
        run, "cgan-test", command="gancourse train ...", wall_time_s=1.0, directory=folder
    )
    assert path.name == "cgan-test.weights.h5"
    assert pretrained.names(folder) == ["cgan-test"]
    entry = pretrained.info("cgan-test", folder)
    assert entry["builder"] == "cgan_dcgan_generator" and entry["epochs"] == 1
    assert entry["cpu_time_s"] >= 0 and entry["wall_time_s"] == 1
    assert entry["options"] == {"ema_warmup": True, "lr_decay": 0.5, "subset": 128}
    assert entry["ema"] == 0.99 and entry["ema_weights"]
    assert entry["max_abs_diff"] < 0.02
    assert entry["sha256"] == weights.sha256_of(path)  # what load() checks the file against
    assert sorted(p.name for p in folder.iterdir()) == ["cgan-test.weights.h5", "manifest.json"]
    g = pretrained.load("cgan-test", directory=folder)
    assert models.is_conditional(g) and g.output_shape[1:] == (28, 28, 1)


def test_cli_samples_from_a_pretrained_generator(tmp_path):
    out = tmp_path / "grid.png"
    assert (
        cli.main(["sample", "--pretrained", "dcgan-fashion_mnist", "--n", "16", "--out", str(out)])
        == 0
    )
    assert out.read_bytes()[:4] == b"\x89PNG"


#: What each shipped generator must reach, on 10,000 samples against the 10,000 real test
#: images with the course's classifier features (seed 1): half the FID of the 0.1.x generator
#: it replaced (measured by benchmarks/shipped_generators.py: 7.02, 6.92, 2.43), every class
#: drawn 7-13% of the time, and for the conditional one the requested class at least 90% of
#: the time. CIFAR-10's is held to less: below its predecessor's FID (6.25), every class at
#: least 5% (the README's "Performance" says where it stands).
QUALITY_BARS = {
    "dcgan-fashion_mnist": {"fid": 7.02 / 2, "shares": (0.07, 0.13)},
    "dcgan-mnist": {"fid": 6.92 / 2, "shares": (0.07, 0.13)},
    "cgan-fashion_mnist": {"fid": 2.43 / 2, "shares": (0.07, 0.13), "label_accuracy": 0.90},
    "dcgan-cifar10": {"fid": 6.25, "shares": (0.05, 1.0)},
    # notebook 13's target: within 1.5 x the plain DCGAN's FID at the same CPU time (4.34)
    "stylegan-fashion_mnist": {"fid": 1.5 * 4.34, "shares": (0.07, 0.13)},
}


@pytest.mark.slow
@pytest.mark.skipif(
    not os.environ.get("GANCOURSE_REAL_DATA_DIR"),
    reason="set GANCOURSE_REAL_DATA_DIR to a folder of the real .npz archives",
)
@pytest.mark.parametrize("name", sorted(QUALITY_BARS))
def test_each_shipped_generator_reaches_its_quality_bar(name, monkeypatch):
    monkeypatch.setenv("GANCOURSE_DATA_DIR", os.environ["GANCOURSE_REAL_DATA_DIR"])
    entry = pretrained.info(name)
    report = evaluation.evaluate_generator(pretrained.load(name), entry["dataset"], n=10000, seed=1)
    shares = np.asarray(report["class_histogram"]) / 10000
    bars = QUALITY_BARS[name]
    assert report["fid"] < bars["fid"], (name, report["fid"])
    assert bars["shares"][0] <= shares.min() and shares.max() <= bars["shares"][1], (name, shares)
    if "label_accuracy" in bars:
        assert report["label_accuracy"] >= bars["label_accuracy"], report["label_accuracy"]
