"""Tests of gancourse.evaluation: streaming feature extraction, the shipped classifiers and
the checks on their files, and whole evaluations (reports, the CLI's ``evaluate``). Offline,
on the synthetic data of conftest.py (the shipped classifiers are checked on real images only
when GANCOURSE_REAL_DATA_DIR names a folder of them)."""

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from gancourse import evaluation, metrics, weights
from gancourse.cli import main
from gancourse.data import load_dataset, to_model_range
from gancourse.errors import ExtractorUnavailableError, GancourseError, MetricError, ModelError

# ------------------------------------------------------------------ extractors


@pytest.fixture(scope="module")
def fashion():
    return evaluation.get_extractor("fashion_mnist")


def test_extractor_streams_batches(fashion):
    x = to_model_range(load_dataset("fashion_mnist").x_test[:230])
    whole = fashion.features(x)
    batches = fashion.features(x[i : i + 64] for i in range(0, 230, 64))  # a one-shot iterable
    from_callable = fashion.features(lambda: iter([x[:100], x[100:]]))
    fashion_small = evaluation.Extractor(
        "small-batches", fashion.model, fashion.input_shape, fashion.class_names, batch_size=100
    )
    assert whole.shape == (230, 128)
    np.testing.assert_allclose(batches, whole, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(from_callable, whole, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(fashion_small.features(x), whole, rtol=1e-4, atol=1e-5)
    # a tf.data pipeline of (images, labels) batches, and uint8 arrays, work too
    from gancourse.data import make_pipeline

    ds = load_dataset("fashion_mnist")
    pipe = make_pipeline(
        ds.x_test[:230], ds.y_test[:230], batch_size=50, shuffle=False, drop_remainder=False
    )
    np.testing.assert_allclose(fashion.features(pipe), whole, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(fashion.features(ds.x_test[:230]), whole, rtol=1e-4, atol=1e-5)


def test_extractor_rejects_wrong_images_clearly(fashion):
    with pytest.raises(MetricError, match="shape"):
        fashion.features(np.zeros((4, 32, 32, 3), "float32"))
    with pytest.raises(MetricError, match=r"\[-1, 1\]"):
        fashion.features(np.full((4, 28, 28, 1), 255.0, "float32"))
    with pytest.raises(MetricError, match="Unknown feature extractor"):
        evaluation.get_extractor("imagenet21k")


def test_get_extractor_is_cached_and_named(fashion):
    assert evaluation.get_extractor("Fashion-MNIST") is fashion
    assert fashion.name == "fashion_mnist-cnn-gray-v1" and fashion.feature_dim == 128


def test_inception_extractor_fails_clearly_offline():
    try:
        extractor = evaluation.get_extractor("inception")
    except ExtractorUnavailableError as e:
        assert isinstance(e, GancourseError)
        assert "InceptionV3" in str(
            e
        ) and "get_extractor('mnist'|'fashion_mnist'|'cifar10')" in str(e)
        pytest.skip("InceptionV3 weights are not available offline")
    feats, probs = extractor.features_and_probabilities(np.zeros((2, 28, 28, 1), "float32"))
    assert feats.shape == (2, 2048) and probs.shape == (2, 1000)


def test_inception_extractor_wiring_with_a_weights_file(tmp_path, monkeypatch):
    # The real InceptionV3 takes a minute to build here, so a tiny stand-in with the same
    # layer names checks the wiring: the weights file is passed on, images are resized to
    # 299x299, grey images become RGB, and both heads come out.
    import keras

    seen = {}

    def fake_inception(include_top, weights):
        seen.update(include_top=include_top, weights=weights)
        x = keras.Input((299, 299, 3))
        h = keras.layers.Conv2D(4, 8, strides=8)(x)
        pool = keras.layers.GlobalAveragePooling2D(name="avg_pool")(h)
        return keras.Model(
            x, keras.layers.Dense(1000, activation="softmax", name="predictions")(pool)
        )

    monkeypatch.setattr(keras.applications, "InceptionV3", fake_inception)
    monkeypatch.setattr(evaluation, "_EXTRACTORS", {})
    extractor = evaluation.get_extractor("inception", weights=tmp_path / "w.h5")
    assert seen == {"include_top": True, "weights": str(tmp_path / "w.h5")}
    feats, probs = extractor.features_and_probabilities(np.zeros((3, 28, 28, 1), "float32"))
    assert feats.shape == (3, 4) and probs.shape == (3, 1000)
    assert extractor.features(np.zeros((2, 32, 32, 3), "uint8")).shape == (2, 4)


# ------------------------------------------------------------------ shipped classifiers


def test_manifest_records_accuracies_above_the_targets():
    manifest = evaluation.classifier_manifest()
    assert set(manifest) == set(evaluation.TARGET_ACCURACY)
    for name, target in evaluation.TARGET_ACCURACY.items():
        entry = manifest[name]
        assert entry["test_accuracy"] >= target, (name, entry["test_accuracy"])
        assert entry["test_images"] == 10000 and entry["machine"] == "2 CPU cores, no GPU"
        assert (
            entry["epochs"] > 0
            and entry["train_seconds"] > 0
            and "train_classifiers.py" in entry["command"]
        )
        assert (evaluation.CLASSIFIER_DIR / entry["weights"]).stat().st_size < 2_000_000


@pytest.mark.parametrize("name", ["mnist", "fashion_mnist", "cifar10"])
def test_shipped_classifier_loads_and_gives_probabilities(name):
    entry = evaluation.classifier_manifest()[name]
    model = evaluation.load_classifier(name)
    assert model.count_params() == entry["params"]
    assert model.get_layer("features").units == entry["feature_dim"]
    x = to_model_range(load_dataset(name).x_test[:64])
    probs = np.asarray(model(x, training=False))
    assert probs.shape == (64, 10) and np.all(probs >= 0)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)


@pytest.mark.skipif(
    not os.environ.get("GANCOURSE_REAL_DATA_DIR"),
    reason="set GANCOURSE_REAL_DATA_DIR to a folder of the real .npz archives",
)
@pytest.mark.parametrize("name", ["mnist", "fashion_mnist", "cifar10"])
def test_shipped_classifier_accuracy_on_real_test_images(name):
    path = Path(os.environ["GANCOURSE_REAL_DATA_DIR"]) / f"{name}.npz"
    with np.load(path, allow_pickle=False) as archive:
        x, y = archive["x_test"][:1000], np.ravel(archive["y_test"][:1000])
    recorded = evaluation.classifier_manifest()[name]["test_accuracy"]
    accuracy = np.mean(evaluation.get_extractor(name).probabilities(x).argmax(axis=1) == y)
    # 1000 images: allow 3.5 standard errors of a binomial proportion around the record
    assert abs(accuracy - recorded) < 3.5 * np.sqrt(recorded * (1 - recorded) / 1000) + 0.005


@pytest.fixture
def classifier_copy(tmp_path, monkeypatch):
    """A private copy of the shipped classifiers' folder that a test may damage."""
    folder = tmp_path / "classifiers"
    shutil.copytree(evaluation.CLASSIFIER_DIR, folder)
    monkeypatch.setattr(evaluation, "CLASSIFIER_DIR", folder)
    return folder


def test_a_damaged_classifier_file_is_refused(classifier_copy):
    # 4 KiB overwritten in the middle: still a readable HDF5 file with the right layout, so
    # only the SHA-256 tells (without it the classifier would load garbage weights).
    path = classifier_copy / "fashion_mnist.weights.h5"
    damage(path)
    assert weights.h5_layout(path) == weights.h5_layout(evaluation.CLASSIFIER_DIR / path.name)
    with pytest.raises(ModelError, match="SHA-256") as err:
        evaluation.load_classifier("fashion_mnist")
    assert "fashion_mnist classifier" in str(err.value) and "Restore it" in str(err.value)


def test_another_classifiers_file_of_the_same_layout_is_refused(classifier_copy):
    # MNIST and Fashion-MNIST classifiers share an architecture: same layout, other weights.
    shutil.copy(classifier_copy / "mnist.weights.h5", classifier_copy / "fashion_mnist.weights.h5")
    with pytest.raises(ModelError, match="another model with the same layout"):
        evaluation.load_classifier("fashion_mnist")


def test_a_git_lfs_pointer_or_missing_classifier_file_is_a_clear_error(classifier_copy):
    (classifier_copy / "mnist.weights.h5").write_bytes(
        b"version https://git-lfs.github.com/spec/v1\n"
    )
    with pytest.raises(GancourseError, match="not a readable Keras weights file.*Git LFS pointer"):
        evaluation.load_classifier("mnist")
    (classifier_copy / "cifar10.weights.h5").unlink()
    with pytest.raises(GancourseError, match="missing"):
        evaluation.load_classifier("cifar10")


def test_float16_weights_round_trip(tmp_path):
    # What scripts/train_classifiers.py ships: float16 arrays, the same layout as Keras
    # writes, loading into the float32 model with nearly the same predictions.
    import h5py

    shipped = evaluation.load_classifier("mnist")
    path = weights.save_float16(shipped, tmp_path / "mnist.weights.h5")
    assert weights.h5_layout(path) == weights.h5_layout(
        evaluation.CLASSIFIER_DIR / "mnist.weights.h5"
    )
    with h5py.File(path) as f:
        dtypes = set()
        f.visititems(lambda k, o: dtypes.add(o.dtype.name) if isinstance(o, h5py.Dataset) else None)
    assert dtypes == {"float16"}
    again = evaluation.build_classifier("mnist")
    weights.load_checked(again, path, weights.sha256_of(path), what="the copy")
    x = to_model_range(load_dataset("mnist").x_test[:32])
    np.testing.assert_allclose(np.asarray(again(x)), np.asarray(shipped(x)), atol=1e-6)
    assert [p.name for p in tmp_path.iterdir()] == ["mnist.weights.h5"]  # no temporary left


def damage(path, size=4096):
    """Overwrite ``size`` bytes in the middle of a file with random bytes."""
    data = bytearray(Path(path).read_bytes())
    middle = len(data) // 2
    data[middle : middle + size] = (
        np.random.default_rng(0).integers(0, 256, size, dtype=np.uint8).tobytes()
    )
    Path(path).write_bytes(bytes(data))


# ------------------------------------------------------------------ whole evaluations


def test_fid_of_classifier_features_is_zero_for_one_set_and_grows_with_noise(fashion):
    x = to_model_range(load_dataset("fashion_mnist").x_test[:300])  # synthetic images
    assert abs(metrics.fid_from_features(fashion.features(x), fashion.features(x))) < 1e-6
    # against 300 other "real" images: small for clean images, growing with the noise
    rng = np.random.default_rng(8)
    reports = [
        evaluation.evaluate_images(
            np.clip(x + s * rng.standard_normal(x.shape), -1, 1),
            "fashion_mnist",
            fashion,
            n_reference=300,
            kid_subsets=5,
        )
        for s in (0.0, 0.2, 0.5, 1.0)
    ]
    fids = [r["fid"] for r in reports]
    assert 0 < fids[0] < fids[1] < fids[2] < fids[3], fids
    # clean images look real and cover the real ones; noisy ones leave the real manifold
    precisions = [r["precision"] for r in reports]
    assert reports[0]["precision"] > 0.7 and reports[0]["recall"] > 0.7, reports[0]
    assert precisions[0] > precisions[1] >= precisions[2] >= precisions[3] and precisions[3] < 0.1
    assert reports[0]["n_generated"] == reports[0]["n_reference"] == 300
    assert reports[0]["reference"].startswith("fashion_mnist test split, 300 of ")


def test_evaluate_generator_reports_what_it_compared_and_spots_collapse():
    import keras

    from gancourse import models

    generator = models.dcgan_generator(latent_dim=16, image_shape=(28, 28, 1), width=16)
    report = evaluation.evaluate_generator(
        generator, "fashion_mnist", n=120, batch_size=50, n_reference=300, kid_subsets=5
    )
    for key in (
        "fid",
        "kid_mean",
        "kid_std",
        "is_mean",
        "is_std",
        "precision",
        "recall",
        "class_histogram",
        "classes_covered",
        "kl_from_uniform",
        "n_generated",
        "n_reference",
        "extractor",
        "reference",
    ):
        assert key in report, key
    assert report["n_generated"] == 120 and report["n_reference"] == 300
    assert report["extractor"] == "fashion_mnist-cnn-gray-v1"
    assert report["reference"].startswith("fashion_mnist test split, 300 of ")
    assert sum(report["class_histogram"]) == 120 and report["fid"] > 0
    text = str(report)
    assert "fashion_mnist-cnn-gray-v1" in text and "120 generated" in text and "300 real" in text
    json.dumps(report)  # plain numbers only

    # a fully collapsed "generator": zero weights, so the same image whatever the noise
    z = keras.Input((16,), name="z")
    flat = keras.layers.Dense(
        28 * 28,
        kernel_initializer="zeros",
        bias_initializer=keras.initializers.Constant(0.5),
        name="same_image",
    )(z)
    image = keras.layers.Reshape((28, 28, 1), name="image")(flat)
    collapsed = evaluation.evaluate_generator(
        keras.Model(z, image), "fashion_mnist", n=100, n_reference=100, kid_subsets=5
    )
    assert max(collapsed["class_histogram"]) == 100
    spike = evaluation.class_histogram(np.full((20, 28, 28, 1), 0.5, "float32"), "fashion_mnist")
    assert spike.shape == (10,) and spike.max() == spike.sum() == 20
    assert collapsed["classes_covered"] == 0.1 and collapsed["is_mean"] == pytest.approx(
        1.0, abs=1e-3
    )
    # one image, so the generated balls have radius 0: no real image is covered
    assert collapsed["recall"] == 0.0


def test_reports_carry_precision_and_recall(fashion):
    x = to_model_range(load_dataset("fashion_mnist").x_test[:200])
    report = evaluation.evaluate_images(x, "fashion_mnist", fashion, n_reference=200, kid_subsets=5)
    assert 0 <= report["precision"] <= 1 and 0 <= report["recall"] <= 1
    assert report["precision_recall_k"] == 3
    assert f"precision {report['precision']:.3f}  recall {report['recall']:.3f}" in str(report)
    without = evaluation.evaluate_images(
        x, "fashion_mnist", fashion, n_reference=200, kid_subsets=5, precision_recall_k=None
    )
    assert "precision" not in without and "precision" not in str(without)
    assert without["fid"] == report["fid"]


# ------------------------------------------------------------------ the CLI's evaluate


def test_cli_evaluates_a_training_run(tmp_path, capsys):
    run = tmp_path / "run"
    assert (
        main(
            [
                "train",
                "--model",
                "dcgan",
                "--dataset",
                "mnist",
                "--subset",
                "64",
                "--epochs",
                "1",
                "--out",
                str(run),
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert main(["evaluate", "--run", str(run), "--n", "60"]) == 0
    out = capsys.readouterr().out
    assert f"Evaluating run {run} (epoch 1)" in out
    assert "60 generated images vs 60 real images (mnist test split" in out
    assert "mnist-cnn-gray-v1" in out and "FID" in out and "KID" in out and "IS" in out
    assert "precision" in out and "recall" in out


def test_cli_evaluates_a_pretrained_generator_as_json(capsys):
    assert main(["evaluate", "--pretrained", "dcgan-fashion_mnist", "--n", "50", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["dataset"] == "fashion_mnist" and report["n_generated"] == 50
    assert report["extractor"] == "fashion_mnist-cnn-gray-v1"
    assert report["source"] == "pretrained generator dcgan-fashion_mnist"
    assert {"fid", "kid_mean", "is_mean", "precision", "recall", "class_histogram"} <= set(report)


def test_cli_evaluate_of_an_unknown_pretrained_generator_is_a_clear_error(capsys):
    assert main(["evaluate", "--pretrained", "stylegan-faces", "--n", "10"]) == 2
    assert "Unknown pretrained generator 'stylegan-faces'" in capsys.readouterr().err


# ------------------------------------------------------------------ translations


def test_evaluate_translation_scores_against_truth_classes_and_reference():
    """The truth scored against itself is perfect; a greyscale copy loses its colour and
    moves away in features; a channel mismatch is shown to the classifier as it needs."""
    data = load_dataset("cifar10")
    x, y = to_model_range(data.x_test[:200]), data.y_test[:200].astype("int64")
    perfect = evaluation.evaluate_translation(x, x, y)
    assert perfect["l1"] == 0 and perfect["psnr"] == 100.0 and perfect["fid"] < 1e-6
    assert perfect["colourfulness"] == pytest.approx(metrics.colourfulness(x).mean())
    probs = evaluation.get_extractor("cifar10").probabilities(x)
    assert perfect["accuracy"] == pytest.approx(np.mean(probs.argmax(1) == y))
    wrong = evaluation.evaluate_translation(x, labels=(y + 1) % 10)
    assert wrong["accuracy"] == pytest.approx(np.mean(probs.argmax(1) == (y + 1) % 10))
    assert "fid" not in wrong and "l1" not in wrong
    luma = x @ np.array([0.299, 0.587, 0.114], np.float32)
    grey = evaluation.evaluate_translation(luma[..., None], labels=y, reference=x)
    assert grey["fid"] > 0.01 and "colourfulness" not in grey  # grey, repeated as RGB
    noisy = np.clip(x + np.random.default_rng(0).normal(0, 0.2, x.shape), -1, 1)
    scored = evaluation.evaluate_translation(noisy, x, y)
    assert 0 < scored["l1"] < 0.2 and 10 < scored["psnr"] < 30
    # RGB outputs scored by a greyscale classifier: their luma
    digits = to_model_range(load_dataset("mnist").x_test[:100])
    rgb = np.repeat(digits, 3, axis=-1)
    as_rgb = evaluation.evaluate_translation(
        rgb, labels=load_dataset("mnist").y_test[:100], dataset="mnist"
    )
    as_grey = evaluation.evaluate_translation(
        digits, labels=load_dataset("mnist").y_test[:100], dataset="mnist"
    )
    assert as_rgb["accuracy"] == pytest.approx(as_grey["accuracy"], abs=0.011)


def test_evaluate_translation_rejects_mismatched_inputs():
    x = np.zeros((4, 32, 32, 3), np.float32)
    with pytest.raises(MetricError, match="one to one"):
        evaluation.evaluate_translation(x, x[:3])
    with pytest.raises(MetricError, match="labels"):
        evaluation.evaluate_translation(x, labels=[1, 2])
    with pytest.raises(MetricError, match="images"):
        evaluation.evaluate_translation(np.zeros((4, 32)))
