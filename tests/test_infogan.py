"""InfoGAN: the information term, the model in the engine (train, resume, CLI, export), the
codes' sampling, and the categorical code finding the classes of class-structured data."""

import json
import math

import imageio.v3 as iio
import numpy as np
import pytest

import gancourse as gc
from conftest import synthetic_images
from gancourse import losses, pretrained
from gancourse import models as m
from gancourse.cli import main
from gancourse.errors import GancourseError
from gancourse.metrics import matched_accuracy
from gancourse.sampling import code_grid, sample_codes
from gancourse.training import InfoGAN

NOISE, K, C = 8, 10, 2


def small_infogan(ema=None, seed=1):
    gan = InfoGAN(
        m.infogan_generator(NOISE, categories=K, continuous=C, width=16),
        m.infogan_discriminator(categories=K, continuous=C, width=8, q_width=32),
        ema=ema,
        seed=seed,
    )
    gan.compile()
    return gan


def pipeline(n=256, seed=0):
    x, _ = synthetic_images(n, (28, 28), seed)
    return gc.make_pipeline(x, None, batch_size=64, seed=seed)


def kernels(model):
    return [np.array(w) for w in model.trainable_weights if len(w.shape) >= 2]


# ---------------------------------------------------------------- the information term


def test_information_terms_equal_a_hand_computation():
    q = np.array([[2.0, 0.0, -1.0, 0.5, -0.3], [0.1, 0.2, 0.3, -1.0, 2.0]], "float32")
    codes = np.array([[1, 0, 0, 0.2, -0.7], [0, 0, 1, -0.9, 0.4]], "float32")  # 3 categories
    ce, nll = (float(t) for t in losses.information_terms(q, codes, 3))

    def log_softmax(row, j):
        return row[j] - math.log(sum(math.exp(v) for v in row))

    want_ce = -(log_softmax([2.0, 0.0, -1.0], 0) + log_softmax([0.1, 0.2, 0.3], 2)) / 2
    half_log_2pi = 0.5 * math.log(2 * math.pi)
    want_nll = (
        (0.5 * (0.2 - 0.5) ** 2 + 0.5 * (-0.7 + 0.3) ** 2 + 2 * half_log_2pi)
        + (0.5 * (-0.9 + 1.0) ** 2 + 0.5 * (0.4 - 2.0) ** 2 + 2 * half_log_2pi)
    ) / 2
    assert ce == pytest.approx(want_ce, rel=1e-5)
    assert nll == pytest.approx(want_nll, rel=1e-5)
    # a Q that is sure of the right category and guesses the continuous codes exactly
    perfect = np.concatenate([codes[:, :3] * 50.0, codes[:, 3:]], axis=1)
    ce, nll = (float(t) for t in losses.information_terms(perfect, codes, 3))
    assert ce == pytest.approx(0.0, abs=1e-5) and nll == pytest.approx(2 * half_log_2pi)


# ---------------------------------------------------------------- the model


def test_build_gan_infogan_shapes_and_parameters():
    gan = gc.training.build_gan("infogan", latent_dim=62)
    assert isinstance(gan, InfoGAN) and gan.code_sizes == (62, 10, 2)
    assert gan.generator.input_shape == (None, 74)
    assert gan.generator.output_shape == (None, 28, 28, 1)
    assert [tuple(o.shape) for o in gan.discriminator.outputs] == [(None, 1), (None, 12)]
    # G is the DCGAN generator on the 74 numbers; D the DCGAN discriminator's trunk + Q head
    dcgan_g = m.dcgan_generator(74, width=128)
    assert m.count_params(gan.generator) == m.count_params(dcgan_g)
    trunk = m.count_params(m.dcgan_discriminator(width=64))["total"]
    q_head = (7 * 7 * 128) * 128 + 128 + 128 * 12 + 12
    assert m.count_params(gan.discriminator)["total"] == trunk + q_head
    assert gc.training.build_gan("infogan", (32, 32, 3)).generator.output_shape[1:] == (32, 32, 3)


def test_a_train_step_changes_every_network_and_reports_finite_losses():
    gan = small_infogan(ema=0.9)
    g, d = kernels(gan.generator), kernels(gan.discriminator)
    history = gan.fit(pipeline(128), epochs=1, verbose=0).history
    assert set(history) >= {"d_loss", "g_loss", "info_cat", "info_cont"}
    assert all(np.isfinite(v[-1]) for v in history.values())
    assert all(not np.allclose(a, b) for a, b in zip(g, kernels(gan.generator)))
    assert all(not np.allclose(a, b) for a, b in zip(d, kernels(gan.discriminator)))
    # the Q head is trained (through D's loss) like the rest of D
    assert not np.allclose(d[-1], np.array(gan.discriminator.get_layer("q").kernel))


def test_resume_and_sample_grids_by_category(tmp_path):
    first = small_infogan(ema=0.9)
    gc.train(first, pipeline(), 1, run_dir=tmp_path, progress=False)
    second = small_infogan(ema=0.9)
    assert gc.callbacks.Checkpoint(tmp_path / "checkpoints").restore(second) == 1
    for a, b in zip(kernels(first.ema_generator), kernels(second.ema_generator)):
        np.testing.assert_array_equal(a, b)
    gc.train(second, pipeline(), 2, run_dir=tmp_path, progress=False)
    assert [r["epoch"] for r in json.loads((tmp_path / "history.json").read_text())] == [1, 2]
    grid = iio.imread(tmp_path / "samples" / "epoch_0002.png")
    assert grid.shape[0] > grid.shape[1]  # 10 rows (the categories) of 6 columns
    assert int(second.g_optimizer.iterations) == 8


def test_generate_fixes_the_codes():
    gan = small_infogan()
    a = gan.generate(6, category=3, seed=5)
    z = sample_codes(6, NOISE, K, C, seed=5, category=3)
    np.testing.assert_allclose(a, gan.generate(z=z), atol=1e-6)
    images, ncols = gan.code_grid(vary=1, steps=4, span=2.0)
    assert images.shape == (40, 28, 28, 1) and ncols == 4
    category, values = gan.predict_codes(images)
    assert category.shape == (40,) and values.shape == (40, 2)


def test_the_categorical_code_finds_the_classes_of_class_structured_data():
    """A few seconds of training on bars at ten angles: Q's categorical code, applied to real
    images, matches their classes well above chance (0.1, about 0.15 after the matching)."""
    gc.seed_everything(0)
    x, y = synthetic_images(1024, (28, 28), seed=3)
    gan = small_infogan()
    gan.fit(gc.make_pipeline(x, None, batch_size=32, seed=0), epochs=3, verbose=0)
    category, _ = gan.predict_codes(gc.data.to_model_range(x))
    chance = matched_accuracy(np.random.default_rng(0).integers(0, K, len(y)), y)
    accuracy = matched_accuracy(category, y)
    assert accuracy > 2 * chance, (accuracy, chance)


# ---------------------------------------------------------------- codes


def test_sample_codes_are_noise_one_hot_and_uniform_codes():
    z = sample_codes(500, NOISE, K, C, seed=1)
    assert z.shape == (500, NOISE + K + C) and z.dtype == np.float32
    np.testing.assert_array_equal(z, sample_codes(500, NOISE, K, C, seed=1))
    onehot = z[:, NOISE : NOISE + K]
    assert set(np.unique(onehot)) == {0.0, 1.0} and (onehot.sum(1) == 1).all()
    assert len(np.unique(onehot.argmax(1))) == K
    assert np.abs(z[:, NOISE + K :]).max() <= 1.0
    fixed = sample_codes(4, NOISE, K, C, seed=1, category=[0, 1, 2, 9], values=[0.5, -2.0])
    assert fixed[:, NOISE : NOISE + K].argmax(1).tolist() == [0, 1, 2, 9]
    np.testing.assert_array_equal(fixed[:, NOISE + K :], [[0.5, -2.0]] * 4)
    np.testing.assert_array_equal(fixed[:, :NOISE], z[:4, :NOISE])  # same noise for the seed


def test_code_grid_rows_are_categories_and_columns_vary_one_code():
    z, ncols = code_grid(NOISE, K, C, vary=0, steps=5, span=2.0)
    assert z.shape == (K * 5, NOISE + K + C) and ncols == 5
    assert (z[:, NOISE : NOISE + K].argmax(1) == np.repeat(np.arange(K), 5)).all()
    np.testing.assert_allclose(z[:5, NOISE + K], np.linspace(-2, 2, 5))
    assert (z[:, NOISE + K + 1] == 0).all() and (z[:, :NOISE] == z[0, :NOISE]).all()
    z, ncols = code_grid(NOISE, K, C, steps=3)
    np.testing.assert_array_equal(z[:3, :NOISE], z[3:6, :NOISE])  # a column shares its noise


@pytest.mark.parametrize(
    "kwargs",
    [
        {"category": 10},
        {"category": -1},
        {"category": [1, 2]},
        {"category": 1.5},
        {"category": "three"},
        {"values": [0.1, 0.2, 0.3]},
        {"values": [np.nan, 0.0]},
    ],
)
def test_bad_codes_are_refused(kwargs):
    with pytest.raises(GancourseError):
        sample_codes(4, NOISE, K, C, **kwargs)


def test_bad_inputs_to_the_model_are_refused():
    gan = small_infogan()
    with pytest.raises(GancourseError, match="shape"):
        gan.generate(z=np.zeros((2, NOISE + K)))
    with pytest.raises(GancourseError, match="category="):
        gan.generate(4, labels=[1, 2, 3, 4])
    with pytest.raises(GancourseError, match="in 0..9"):
        gan.generate(4, category=12)
    with pytest.raises(GancourseError, match="vary"):
        gan.code_grid(vary=2)
    with pytest.raises(GancourseError, match="shape"):
        gan.predict_codes(np.zeros((2, 32, 32, 3)))
    with pytest.raises(GancourseError, match="infogan_generator"):
        InfoGAN(m.dcgan_generator(NOISE), m.infogan_discriminator())
    with pytest.raises(GancourseError, match="Q head of 12"):
        InfoGAN(m.infogan_generator(NOISE), m.infogan_discriminator(categories=5))
    with pytest.raises(GancourseError, match="categories"):
        m.infogan_generator(NOISE, categories=1)
    with pytest.raises(GancourseError, match="continuous_weight"):
        gan.compile(continuous_weight=-1.0)


# ---------------------------------------------------------------- CLI and export


def test_cli_trains_resumes_samples_and_exports_an_infogan(tmp_path, capsys):
    run = tmp_path / "run"
    args = ["train", "--model", "infogan", "--dataset", "mnist", "--subset", "128"]
    args += ["--latent-dim", "16", "--ema", "0.9", "--out", str(run)]
    assert main(args + ["--epochs", "1"]) == 0
    assert json.loads((run / "config.json").read_text())["model"] == "infogan"
    assert main(args + ["--epochs", "2"]) == 0
    assert "Resuming training at epoch 2" in capsys.readouterr().out
    assert main(["sample", "--run", str(run), "--n", "16", "--out", str(tmp_path / "g.png")]) == 0
    assert main(["train", "--model", "infogan", "--clusters", "5", "--out", str(run)]) == 2

    folder = tmp_path / "shipped"
    pretrained.export(run, "infogan-test", command="gancourse train ...", directory=folder)
    entry = pretrained.info("infogan-test", folder)
    assert entry["builder"] == "infogan_generator" and entry["model"] == "infogan"
    assert entry["kwargs"]["noise_dim"] == 16 and entry["kwargs"]["categories"] == 10
    assert entry["max_abs_diff"] < 0.05
    generator = pretrained.load("infogan-test", folder)
    assert generator.code_sizes == (16, 10, 2)
    result = gc.evaluation.code_accuracy(generator, "mnist", n=100)
    assert 0.0 < result["accuracy"] <= 1.0 and result["n"] == 100
    assert set(result["mapping"]) <= set(range(10)) and set(result["mapping"].values()) <= set(
        range(10)
    )
    with pytest.raises(GancourseError, match="InfoGAN"):
        gc.evaluation.code_accuracy(m.dcgan_generator(16), "mnist", n=10)


def test_the_stabilising_options_apply_to_an_infogan():
    gan = gc.training.build_gan(
        "infogan",
        latent_dim=8,
        loss="hinge",
        r1_gamma=1.0,
        spectral_norm=True,
        augment="translation",
        lr_decay=0.5,
    )
    assert float(gan.g_optimizer.learning_rate) == pytest.approx(1e-3)  # the paper's G rate
    x, _ = synthetic_images(64, (28, 28), seed=0)
    history = gan.fit(gc.make_pipeline(x, None, batch_size=32), epochs=1, verbose=0).history
    assert history["r1"][-1] > 0 and all(np.isfinite(v[-1]) for v in history.values())
