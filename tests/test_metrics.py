"""Tests of gancourse.metrics: the maths against closed forms and SciPy, the statistical
properties of KID and IS, streaming feature extraction, the shipped classifiers, and a
whole evaluation. Offline, on the synthetic data of conftest.py (the shipped classifiers
are checked on real images only when GANCOURSE_REAL_DATA_DIR names a folder of them)."""
import argparse
import json
import os
from pathlib import Path

import numpy as np
import pytest
from scipy import linalg

from gancourse import metrics
from gancourse.data import load_dataset, to_model_range
from gancourse.errors import GancourseError


def random_spd(d, rng, rank=None, jitter=0.0):
    """A random symmetric PSD matrix of the given rank (a sample covariance), plus jitter*I."""
    a = rng.standard_normal((d, rank or d + 5))
    return a @ a.T / a.shape[1] + jitter * np.eye(d)


def scipy_frechet(mu1, s1, mu2, s2, eps=1e-6):
    """The reference FID formula (pytorch-fid / TTUR) with scipy.linalg.sqrtm."""
    covmean = linalg.sqrtm(s1 @ s2)
    if not np.isfinite(covmean).all():
        offset = np.eye(len(s1)) * eps
        covmean = linalg.sqrtm((s1 + offset) @ (s2 + offset))
    covmean = covmean.real
    diff = mu1 - mu2
    return diff @ diff + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean)


# ------------------------------------------------------------------ Frechet distance

def test_frechet_of_identical_gaussians_is_zero():
    rng = np.random.default_rng(0)
    mu, sigma = rng.standard_normal(16), random_spd(16, rng)
    assert abs(metrics.frechet_distance(mu, sigma, mu, sigma)) < 1e-9 * np.trace(sigma)


def test_frechet_of_a_mean_shift_is_the_squared_distance():
    rng = np.random.default_rng(1)
    mu, sigma, shift = rng.standard_normal(8), random_spd(8, rng), rng.standard_normal(8)
    d = metrics.frechet_distance(mu, sigma, mu + shift, sigma)
    assert d == pytest.approx(shift @ shift, rel=1e-9, abs=1e-9)


def test_frechet_of_diagonal_covariances_has_the_closed_form():
    rng = np.random.default_rng(2)
    a, b = rng.uniform(0.1, 3, 10), rng.uniform(0.1, 3, 10)
    mu1, mu2 = rng.standard_normal(10), rng.standard_normal(10)
    expected = np.sum((np.sqrt(a) - np.sqrt(b)) ** 2) + np.sum((mu1 - mu2) ** 2)
    assert metrics.frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("d, seed", [(3, 0), (20, 1), (128, 2)])
def test_frechet_matches_scipy_on_random_spd_matrices(d, seed):
    rng = np.random.default_rng(seed)
    mu1, mu2 = rng.standard_normal(d), rng.standard_normal(d)
    s1, s2 = random_spd(d, rng), random_spd(d, rng)
    ours = metrics.frechet_distance(mu1, s1, mu2, s2)
    assert ours == pytest.approx(scipy_frechet(mu1, s1, mu2, s2), rel=1e-8)
    assert metrics.trace_sqrt_product(s1, s2) == pytest.approx(np.trace(linalg.sqrtm(s1 @ s2).real), rel=1e-8)


def test_frechet_of_near_singular_covariances_matches_scipy():
    # Covariances of 20 feature vectors in 64 dimensions: rank 20, nearly singular, the
    # usual situation when FID is computed from few samples.
    rng = np.random.default_rng(3)
    s1, s2 = random_spd(64, rng, rank=20, jitter=1e-9), random_spd(64, rng, rank=20, jitter=1e-9)
    mu1, mu2 = rng.standard_normal(64), rng.standard_normal(64)
    ours = metrics.frechet_distance(mu1, s1, mu2, s2)
    assert np.isfinite(ours) and ours > 0
    assert ours == pytest.approx(scipy_frechet(mu1, s1, mu2, s2), rel=1e-5)
    # exactly singular (rank 1) still works and stays >= 0
    v = rng.standard_normal((64, 1))
    assert metrics.frechet_distance(mu1, v @ v.T, mu1, v @ v.T) == pytest.approx(0, abs=1e-8)


def test_frechet_refuses_matrices_that_are_not_covariances():
    rng = np.random.default_rng(4)
    s = random_spd(5, rng)
    not_psd = s - 3 * np.trace(s) * np.eye(5)  # strongly negative eigenvalues
    with pytest.raises(metrics.MetricError, match="imaginary"):
        metrics.frechet_distance(np.zeros(5), s, np.zeros(5), not_psd)
    with pytest.raises(metrics.MetricError, match="shapes"):
        metrics.frechet_distance(np.zeros(5), s, np.zeros(4), s[:4, :4])
    with pytest.raises(GancourseError, match="NaN"):
        metrics.frechet_distance(np.full(5, np.nan), s, np.zeros(5), s)


def test_fid_from_features_is_zero_for_one_set_and_grows_with_noise():
    rng = np.random.default_rng(5)
    feats = rng.standard_normal((2000, 32)) @ rng.standard_normal((32, 32))
    assert abs(metrics.fid_from_features(feats, feats)) < 1e-8
    fids = [metrics.fid_from_features(feats, feats + s * rng.standard_normal(feats.shape))
            for s in (0.1, 0.5, 1.0, 2.0)]
    assert all(a < b for a, b in zip(fids, fids[1:])), fids


# ------------------------------------------------------------------ KID and IS

def test_kid_estimator_is_unbiased():
    # Many independent small pairs from ONE distribution: the unbiased MMD^2 averages to 0
    # (within its standard error), while the biased V-statistic (diagonal kept) is clearly
    # positive - so this test can tell the two apart.
    rng = np.random.default_rng(6)
    unbiased, biased = [], []
    for _ in range(300):
        x, y = rng.standard_normal((30, 8)), rng.standard_normal((30, 8))
        unbiased.append(metrics.polynomial_mmd2(x, y))
        k = lambda a, b: (a @ b.T / 8 + 1) ** 3  # noqa: E731
        biased.append(k(x, x).mean() + k(y, y).mean() - 2 * k(x, y).mean())
    sem = np.std(unbiased) / np.sqrt(len(unbiased))
    assert abs(np.mean(unbiased)) < 4 * sem
    assert np.mean(biased) > 10 * np.std(biased) / np.sqrt(len(biased))


def test_kid_is_near_zero_for_one_distribution_and_positive_for_two():
    rng = np.random.default_rng(7)
    a, b = rng.standard_normal((600, 16)), rng.standard_normal((600, 16))
    same_mean, same_std = metrics.kid_from_features(a, b, subsets=20, subset_size=300)
    shifted_mean, _ = metrics.kid_from_features(a, b + 0.5, subsets=20, subset_size=300)
    assert abs(same_mean) < 0.01 and same_std < 0.02
    assert shifted_mean > 0.1 and shifted_mean > 20 * same_std


def test_kid_with_subsets_as_large_as_both_sets_is_one_exact_value():
    # Subsets of all the samples are permutations of the whole sets, and the MMD^2 estimate
    # does not depend on the order: one value, computed once, no spread.
    rng = np.random.default_rng(8)
    a, b = rng.standard_normal((200, 16)), rng.standard_normal((200, 16)) + 0.3
    mean, std = metrics.kid_from_features(a, b, subsets=50, subset_size=1000)
    perm = rng.permutation(200)
    assert mean == pytest.approx(metrics.polynomial_mmd2(a[perm], b[rng.permutation(200)]), rel=1e-9)
    assert mean == pytest.approx(metrics.polynomial_mmd2(a, b), rel=1e-12) and std == 0.0


def test_inception_score_of_uniform_and_of_confident_balanced_outputs():
    uniform = np.full((1000, 10), 0.1)
    assert metrics.inception_score(uniform) == pytest.approx((1.0, 0.0), abs=1e-9)
    one_hot = np.eye(10)[np.arange(1000) % 10]  # every split holds every class equally
    mean, std = metrics.inception_score(one_hot, splits=10)
    assert mean == pytest.approx(10.0, rel=1e-9) and std < 1e-9
    # all samples confidently the same class: a collapsed generator scores 1
    assert metrics.inception_score(np.eye(10)[np.zeros(100, int)])[0] == pytest.approx(1.0)
    with pytest.raises(metrics.MetricError, match="softmax"):
        metrics.inception_score(np.ones((100, 10)))


def test_mode_coverage_tells_a_spike_from_a_balanced_histogram():
    balanced = metrics.mode_coverage([100] * 10)
    assert balanced == {"classes_covered": 1.0, "kl_from_uniform": pytest.approx(0, abs=1e-12)}
    spike = metrics.mode_coverage([0, 0, 1000, 0, 0, 0, 0, 0, 0, 0])
    assert spike["classes_covered"] == 0.1 and spike["kl_from_uniform"] == pytest.approx(np.log(10))
    # 1/(4k) rule: 2.5% of the samples is a quarter of a fair share for 10 classes
    assert metrics.mode_coverage([24] + [108] * 9)["classes_covered"] == 0.9


# ------------------------------------------------------------------ extractors

@pytest.fixture(scope="module")
def fashion():
    return metrics.get_extractor("fashion_mnist")


def test_extractor_streams_batches(fashion):
    x = to_model_range(load_dataset("fashion_mnist").x_test[:230])
    whole = fashion.features(x)
    batches = fashion.features(x[i:i + 64] for i in range(0, 230, 64))  # a one-shot iterable
    from_callable = fashion.features(lambda: iter([x[:100], x[100:]]))
    fashion_small = metrics.Extractor("small-batches", fashion.model, fashion.input_shape,
                                      fashion.class_names, batch_size=100)
    assert whole.shape == (230, 128)
    np.testing.assert_allclose(batches, whole, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(from_callable, whole, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(fashion_small.features(x), whole, rtol=1e-4, atol=1e-5)
    # a tf.data pipeline of (images, labels) batches, and uint8 arrays, work too
    from gancourse.data import make_pipeline

    ds = load_dataset("fashion_mnist")
    pipe = make_pipeline(ds.x_test[:230], ds.y_test[:230], batch_size=50, shuffle=False,
                         drop_remainder=False)
    np.testing.assert_allclose(fashion.features(pipe), whole, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(fashion.features(ds.x_test[:230]), whole, rtol=1e-4, atol=1e-5)


def test_extractor_rejects_wrong_images_clearly(fashion):
    with pytest.raises(metrics.MetricError, match="shape"):
        fashion.features(np.zeros((4, 32, 32, 3), "float32"))
    with pytest.raises(metrics.MetricError, match=r"\[-1, 1\]"):
        fashion.features(np.full((4, 28, 28, 1), 255.0, "float32"))
    with pytest.raises(metrics.MetricError, match="Unknown feature extractor"):
        metrics.get_extractor("imagenet21k")


def test_get_extractor_is_cached_and_named(fashion):
    assert metrics.get_extractor("Fashion-MNIST") is fashion
    assert fashion.name == "fashion_mnist-cnn-gray-v1" and fashion.feature_dim == 128


def test_inception_extractor_fails_clearly_offline():
    try:
        extractor = metrics.get_extractor("inception")
    except metrics.ExtractorUnavailableError as e:
        assert isinstance(e, GancourseError)
        assert "InceptionV3" in str(e) and "get_extractor('mnist'|'fashion_mnist'|'cifar10')" in str(e)
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
        return keras.Model(x, keras.layers.Dense(1000, activation="softmax", name="predictions")(pool))

    monkeypatch.setattr(keras.applications, "InceptionV3", fake_inception)
    monkeypatch.setattr(metrics, "_EXTRACTORS", {})
    extractor = metrics.get_extractor("inception", weights=tmp_path / "w.h5")
    assert seen == {"include_top": True, "weights": str(tmp_path / "w.h5")}
    feats, probs = extractor.features_and_probabilities(np.zeros((3, 28, 28, 1), "float32"))
    assert feats.shape == (3, 4) and probs.shape == (3, 1000)
    assert extractor.features(np.zeros((2, 32, 32, 3), "uint8")).shape == (2, 4)


# ------------------------------------------------------------------ shipped classifiers

def test_manifest_records_accuracies_above_the_targets():
    manifest = metrics.classifier_manifest()
    assert set(manifest) == set(metrics.TARGET_ACCURACY)
    for name, target in metrics.TARGET_ACCURACY.items():
        entry = manifest[name]
        assert entry["test_accuracy"] >= target, (name, entry["test_accuracy"])
        assert entry["test_images"] == 10000 and entry["machine"] == "2 CPU cores, no GPU"
        assert entry["epochs"] > 0 and entry["train_seconds"] > 0 and "train_classifiers.py" in entry["command"]
        assert (metrics.CLASSIFIER_DIR / entry["weights"]).stat().st_size < 2_000_000


@pytest.mark.parametrize("name", ["mnist", "fashion_mnist", "cifar10"])
def test_shipped_classifier_loads_and_gives_probabilities(name):
    entry = metrics.classifier_manifest()[name]
    model = metrics.load_classifier(name)
    assert model.count_params() == entry["params"]
    assert model.get_layer("features").units == entry["feature_dim"]
    x = to_model_range(load_dataset(name).x_test[:64])
    probs = np.asarray(model(x, training=False))
    assert probs.shape == (64, 10) and np.all(probs >= 0)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)


@pytest.mark.skipif(not os.environ.get("GANCOURSE_REAL_DATA_DIR"),
                    reason="set GANCOURSE_REAL_DATA_DIR to a folder of the real .npz archives")
@pytest.mark.parametrize("name", ["mnist", "fashion_mnist", "cifar10"])
def test_shipped_classifier_accuracy_on_real_test_images(name):
    path = Path(os.environ["GANCOURSE_REAL_DATA_DIR"]) / f"{name}.npz"
    with np.load(path, allow_pickle=False) as archive:
        x, y = archive["x_test"][:1000], np.ravel(archive["y_test"][:1000])
    recorded = metrics.classifier_manifest()[name]["test_accuracy"]
    accuracy = np.mean(metrics.get_extractor(name).probabilities(x).argmax(axis=1) == y)
    # 1000 images: allow 3.5 standard errors of a binomial proportion around the record
    assert abs(accuracy - recorded) < 3.5 * np.sqrt(recorded * (1 - recorded) / 1000) + 0.005


def test_load_classifier_detects_a_corrupt_file(tmp_path, monkeypatch):
    folder = tmp_path / "classifiers"
    folder.mkdir()
    (folder / "manifest.json").write_text((metrics.CLASSIFIER_DIR / "manifest.json").read_text())
    (folder / "mnist.weights.h5").write_bytes(b"version https://git-lfs.github.com/spec/v1\n")
    monkeypatch.setattr(metrics, "CLASSIFIER_DIR", folder)
    with pytest.raises(GancourseError, match="SHA-256"):
        metrics.load_classifier("mnist")
    with pytest.raises(GancourseError, match="missing"):
        metrics.load_classifier("cifar10")


# ------------------------------------------------------------------ whole evaluations

def test_fid_of_classifier_features_is_zero_for_one_set_and_grows_with_noise(fashion):
    x = to_model_range(load_dataset("fashion_mnist").x_test[:300])  # synthetic images
    assert abs(metrics.fid_from_features(fashion.features(x), fashion.features(x))) < 1e-6
    # against 300 other "real" images: small for clean images, growing with the noise
    rng = np.random.default_rng(8)
    reports = [metrics.evaluate_images(np.clip(x + s * rng.standard_normal(x.shape), -1, 1),
                                       "fashion_mnist", fashion, n_reference=300, kid_subsets=5)
               for s in (0.0, 0.2, 0.5, 1.0)]
    fids = [r["fid"] for r in reports]
    assert 0 < fids[0] < fids[1] < fids[2] < fids[3], fids
    assert reports[0]["n_generated"] == reports[0]["n_reference"] == 300
    assert reports[0]["reference"].startswith("fashion_mnist test split, 300 of ")


def test_evaluate_generator_reports_what_it_compared_and_spots_collapse():
    import keras

    from gancourse import models

    generator = models.dcgan_generator(latent_dim=16, image_shape=(28, 28, 1), width=16)
    report = metrics.evaluate_generator(generator, "fashion_mnist", n=120, batch_size=50,
                                        n_reference=300, kid_subsets=5)
    for key in ("fid", "kid_mean", "kid_std", "is_mean", "is_std", "class_histogram",
                "classes_covered", "kl_from_uniform", "n_generated", "n_reference",
                "extractor", "reference"):
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
    flat = keras.layers.Dense(28 * 28, kernel_initializer="zeros",
                              bias_initializer=keras.initializers.Constant(0.5), name="same_image")(z)
    image = keras.layers.Reshape((28, 28, 1), name="image")(flat)
    collapsed = metrics.evaluate_generator(keras.Model(z, image), "fashion_mnist", n=100,
                                           n_reference=100, kid_subsets=5)
    assert max(collapsed["class_histogram"]) == 100
    spike = metrics.class_histogram(np.full((20, 28, 28, 1), 0.5, "float32"), "fashion_mnist")
    assert spike.shape == (10,) and spike.max() == spike.sum() == 20
    assert collapsed["classes_covered"] == 0.1 and collapsed["is_mean"] == pytest.approx(1.0, abs=1e-3)


def test_evaluate_command_on_a_training_run(tmp_path, capsys):
    from gancourse import training
    from gancourse.callbacks import Checkpoint

    # a run folder as `gancourse train` leaves it (config + checkpoint), without training
    run = tmp_path / "run"
    training.save_run_config(run, {"model": "dcgan", "dataset": "mnist", "scenario": None,
                                   "latent_dim": 100, "image_shape": [28, 28, 1],
                                   "num_classes": 10})
    checkpoint = Checkpoint(run / "checkpoints")
    checkpoint.restore(training.build_gan("dcgan", (28, 28, 1)))
    checkpoint.save(1)
    assert metrics.evaluate_command(argparse.Namespace(run=run, pretrained=None, n=60)) == 0
    out = capsys.readouterr().out
    assert "60 generated images vs 60 real images (mnist test split" in out
    assert "mnist-cnn-gray-v1" in out and "FID" in out and "KID" in out and "IS" in out
    with pytest.raises(metrics.MetricError, match="--run DIR or --pretrained NAME"):
        metrics.evaluate_command(argparse.Namespace())


def test_evaluate_command_on_a_pretrained_generator(monkeypatch, capsys):
    # gancourse.pretrained is written elsewhere; a stand-in module checks the wiring and
    # that the dataset is read from the name (fashion_mnist, not mnist).
    import sys
    import types

    import gancourse
    from gancourse import models

    fake = types.SimpleNamespace(load=lambda name: models.dcgan_generator(16, (28, 28, 1), width=16))
    monkeypatch.setitem(sys.modules, "gancourse.pretrained", fake)
    monkeypatch.setattr(gancourse, "pretrained", fake, raising=False)
    args = argparse.Namespace(run=None, pretrained="dcgan-fashion-mnist", n=50, json=True)
    assert metrics.evaluate_command(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["dataset"] == "fashion_mnist" and report["n_generated"] == 50
    assert report["source"] == "pretrained generator dcgan-fashion-mnist"
