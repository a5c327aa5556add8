"""Steering and inverting generators (gancourse.editing): guidance climbs the target's score
and stays on the shell, projection finds a generated image again, the encoder beats a
random guess, bad inputs get clear errors, and ``gancourse invert`` works end to end.
Tiny untrained networks keep this fast; the shipped generators where the real thing counts."""

import imageio.v3 as iio
import keras
import numpy as np
import pytest
import tensorflow as tf

from gancourse import editing, models
from gancourse.cli import main
from gancourse.errors import ConfigError, GancourseError, ModelError
from gancourse.sampling import generate_images, sample_latent

LATENT = 8


def tiny_classifier(shape=(28, 28, 1), classes=4, seed=0):
    """An untrained classifier with the course's layer names (features, logits)."""
    keras.utils.set_random_seed(seed)
    x = keras.Input(shape)
    h = keras.layers.Conv2D(4, 3, strides=2, activation="tanh")(x)
    h = keras.layers.Dense(16, activation="relu", name="features")(keras.layers.Flatten()(h))
    big = keras.initializers.RandomNormal(stddev=3.0)  # scores that differ between pictures
    logits = keras.layers.Dense(classes, kernel_initializer=big, name="logits")(h)
    return keras.Model(x, keras.layers.Softmax(name="probabilities")(logits))


@pytest.fixture(scope="module")
def generator():
    keras.utils.set_random_seed(0)
    varied = keras.initializers.RandomNormal(stddev=0.2)  # pictures that differ with z
    return models.dcgan_generator(latent_dim=LATENT, width=8, initializer=varied)


@pytest.fixture(scope="module")
def classifier(generator):
    """A tiny classifier whose classes the generator draws about equally often (its logits'
    biases centre them on the generator's pictures), so every class has a direction."""
    c = tiny_classifier()
    logits = keras.Model(c.input, c.get_layer("logits").output)
    mean = logits(generate_images(generator, sample_latent(400, LATENT, seed=99))).numpy().mean(0)
    kernel, bias = c.get_layer("logits").get_weights()
    c.get_layer("logits").set_weights([kernel, bias - mean])
    return c


def logits_of(classifier, images, target):
    out = keras.Model(classifier.input, classifier.get_layer("logits").output)(images)
    return out.numpy()[np.arange(len(images)), target]


# ----------------------------------------------------------------------------- guidance


def test_guidance_raises_the_target_logit_and_stays_on_the_shell(generator, classifier):
    z = sample_latent(32, LATENT, seed=1)
    target = np.arange(32) % 4
    options = dict(steps=30, lr=0.2, stop_when_reached=False)
    walk = editing.guide(generator, classifier, z, target, shell_weight=2.0, **options)
    before = logits_of(classifier, generate_images(generator, z), target)
    after = logits_of(classifier, generate_images(generator, walk.z), target)
    assert (after > before).mean() > 0.9 and after.mean() > before.mean()
    radius = np.sqrt(LATENT)
    assert np.abs(np.linalg.norm(walk.z, axis=1) - radius).max() < 0.15 * radius
    assert walk.probabilities.shape == (31, 32, 4) and walk.norm.shape == (31, 32)
    assert walk.target_probability[-1].mean() > walk.target_probability[0].mean()
    # without the shell term the same walk ends further from the shell
    loose = editing.guide(generator, classifier, z, target, shell_weight=0.0, **options)
    drift = lambda w: np.abs(np.linalg.norm(w.z, axis=1) - radius).mean()  # noqa: E731
    assert drift(loose) > drift(walk)


def test_guidance_step_is_the_gradient_of_logit_minus_shell():
    """With G(z) = A z and logits = B x, the step has a closed form."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, 16)).astype("float32")
    b = rng.standard_normal((16, 3)).astype("float32")
    z_in = keras.Input((4,))
    g = keras.Model(
        z_in, keras.layers.Reshape((4, 4, 1))(keras.layers.Dense(16, use_bias=False)(z_in))
    )
    g.layers[1].set_weights([a])
    x_in = keras.Input((4, 4, 1))
    c = keras.Model(x_in, keras.layers.Dense(3, use_bias=False)(keras.layers.Flatten()(x_in)))
    c.layers[-1].set_weights([b])
    z = rng.standard_normal((5, 4)).astype("float32") * 1.7
    target = np.array([0, 1, 2, 0, 1])
    lr, w = 0.1, 0.3
    norm = np.linalg.norm(z, axis=1, keepdims=True)
    grad = (a @ b)[:, target].T - w * 2 * (norm - 2.0) * z / norm
    got = editing.guidance_step(g, c, z, target, lr, w)
    np.testing.assert_allclose(got, z + lr * grad, rtol=1e-4, atol=1e-5)


def test_stopping_when_reached_freezes_each_vector(generator, classifier):
    z = sample_latent(16, LATENT, seed=2)
    walk = editing.guide(generator, classifier, z, 1, steps=40, lr=2.0, reach=0.3)
    assert walk.reached.any()
    for i in np.flatnonzero(walk.reached):
        probs = classifier(generate_images(generator, walk.z[i : i + 1])).numpy()[0]
        assert probs.argmax() == 1 and probs[1] >= 0.3
    assert set(walk.first_reached[~walk.reached]) <= {-1}
    assert "reached their target" in repr(walk)


def test_cluster_coordinate_is_held_or_moved():
    keras.utils.set_random_seed(3)
    g = models.clustered_generator(latent_dim=LATENT, width=8, prior=(0.2, 0.3, 0.5))
    c = tiny_classifier(classes=3)
    z = sample_latent(12, LATENT + 1, seed=3)
    held = editing.guide(g, c, z, 2, steps=5, stop_when_reached=False)
    np.testing.assert_array_equal(held.z[:, -1], z[:, -1])
    assert not np.allclose(held.z[:, :-1], z[:, :-1])
    moved = editing.guide(g, c, z, 2, steps=5, cluster="move", stop_when_reached=False)
    coords = editing._cluster_coordinates(editing._cluster_layer(g))
    assert np.isin(moved.z[:, -1], np.r_[coords, z[:, -1]]).all()
    # each moved vector's cluster is at least as good for the target as its own
    p = lambda zz: c(generate_images(g, zz)).numpy()[:, 2]  # noqa: E731
    jumped = z.copy()
    jumped[:, -1] = moved.path[1, :, -1] if moved.path is not None else moved.z[:, -1]
    assert (p(jumped) >= p(z) - 1e-6).all()


def test_conditional_generator_keeps_its_labels():
    keras.utils.set_random_seed(4)
    g = models.cgan_dcgan_generator(latent_dim=LATENT, width=8, embed_dim=4)
    c = tiny_classifier()
    walk = editing.guide(g, c, n=6, target=3, labels=[1, 2, 3, 4, 5, 6], steps=3)
    np.testing.assert_array_equal(walk.labels, [1, 2, 3, 4, 5, 6])
    with pytest.raises(ModelError, match="conditional: pass labels="):
        editing.guide(g, c, n=6, target=3, steps=3)


def test_directions_and_the_report_measure_the_same_numbers(generator, classifier):
    means = editing.class_directions(generator, classifier, n=400)
    assert means.shape == (4, LATENT)
    reports = {}
    for method in ("guidance", "directions"):
        r = (
            editing.guidance_report(
                generator, classifier, n=24, steps=8, method=method, directions=means
            )
            if method == "directions"
            else editing.guidance_report(generator, classifier, n=24, steps=8)
        )
        assert 0.0 <= r["success_rate"] <= 1.0 and r["n"] == 24 and r["steps"] == 8
        assert r["pixel_distance"] >= 0 and np.isfinite(r["other_classes_change"])
        assert "precision_before" not in r  # a classifier of no dataset: no real images
        assert "reached the target" in str(r)
        reports[method] = r
    table = editing.report_table(reports)
    assert table.count("\n") == 3 and "| guidance |" in table


def test_report_on_a_shipped_generator_has_precision():
    from gancourse import pretrained

    g = pretrained.load("dcgan-mnist")
    r = editing.guidance_report(g, n=20, steps=3)  # the generator's own dataset's classifier
    assert 0.0 <= r["precision_before"] <= 1.0 and 0.0 <= r["precision_after"] <= 1.0
    # a given target: vectors already of that class count as reached at step 0
    r = editing.guidance_report(g, "mnist", n=20, steps=0, target="3", dataset="mnist")
    assert r["success_rate"] == r["started_on_target"]


# ----------------------------------------------------------------------------- inversion


def test_projection_recovers_a_generated_image(generator, classifier):
    z_star = sample_latent(6, LATENT, seed=7)
    x = generate_images(generator, z_star)
    fit = editing.project(generator, x, steps=300, restarts=2, lr=0.1, classifier=classifier)
    chance = ((generate_images(generator, sample_latent(6, LATENT, seed=8)) - x) ** 2).mean()
    assert fit.pixel_mse.mean() < 0.05 * chance
    assert fit.reconstruction.shape == x.shape and fit.z.shape == (6, LATENT)
    np.testing.assert_allclose(fit.reconstruction, generate_images(generator, fit.z), atol=1e-5)
    assert fit.trace_loss.shape == (301, 6) and np.all(np.diff(fit.trace_seconds) >= 0)
    assert fit.trace_loss[-1].mean() < fit.trace_loss[0].mean()


def test_projection_recovers_a_picture_of_a_shipped_generator():
    from gancourse import pretrained

    g = pretrained.load("dcgan-mnist")
    x = generate_images(g, sample_latent(3, 101, seed=4))
    fit = editing.project(g, x, steps=100, restarts=2)  # pixel + mnist classifier features
    chance = ((generate_images(g, sample_latent(3, 101, seed=5)) - x) ** 2).mean()
    assert fit.pixel_mse.mean() < 0.1 * chance


def test_a_time_budget_stops_the_projection(generator):
    x = generate_images(generator, sample_latent(2, LATENT, seed=9))
    fit = editing.project(generator, x, steps=10**6, seconds=0.5, feature_weight=0.0)
    assert 1 <= len(fit.trace_seconds) - 1 < 10**6


def test_encoder_inverts_better_than_chance(generator):
    encoder = editing.train_encoder(generator, steps=40, pairs=640, batch_size=32)  # 2 epochs
    assert encoder.output_shape == (None, LATENT)
    losses = encoder.history.history["loss"]
    assert losses[-1] < losses[0]
    x = generate_images(generator, sample_latent(64, LATENT, seed=11))
    guess = editing.project(generator, x, steps=0, restarts=1, init=encoder, feature_weight=0)
    chance = ((generate_images(generator, sample_latent(64, LATENT, seed=12)) - x) ** 2).mean()
    assert guess.pixel_mse.mean() < 0.7 * chance
    both = editing.project(
        generator, x, steps=30, restarts=1, init=encoder, feature_weight=0, lr=0.05
    )
    assert both.pixel_mse.mean() < guess.pixel_mse.mean()


def test_projection_on_a_cluster_generator_starts_in_the_nearest_clusters():
    keras.utils.set_random_seed(5)
    g = models.clustered_generator(latent_dim=LATENT, width=8, prior=(0.25,) * 4)
    z_star = sample_latent(4, LATENT + 1, seed=5)
    x = generate_images(g, z_star)
    fit = editing.project(g, x, steps=5, restarts=4, feature_weight=0)
    coords = editing._cluster_coordinates(editing._cluster_layer(g))
    assert np.isin(fit.z[:, -1], coords).all()


# ----------------------------------------------------------------------------- bad inputs


@pytest.mark.parametrize(
    "images,message",
    [
        (np.zeros((1, 20, 20, 1), "float32"), "draws 28x28 images"),
        (np.zeros((1, 28, 28, 3), "float32"), "1 channel"),
        (np.full((1, 28, 28, 1), np.nan, "float32"), "NaN"),
        (np.zeros((0, 28, 28, 1), "float32"), "no images"),
        (np.full((1, 28, 28, 1), 5.0, "float32"), r"\[-1, 1\]"),
        (np.array([["a"]]), "numbers"),
    ],
)
def test_bad_images_are_clear_errors(generator, images, message):
    with pytest.raises(ModelError, match=message):
        editing.project(generator, images, steps=1)


def test_one_image_in_any_layout_is_accepted(generator):
    for image in (np.zeros((28, 28), "uint8"), np.zeros((28, 28, 1)), np.zeros((3, 28, 28))):
        x = editing.check_images(image, generator)
        assert x.ndim == 4 and x.shape[1:] == (28, 28, 1) and x.dtype == np.float32


@pytest.mark.parametrize(
    "call,error,message",
    [
        (lambda g, c: editing.guide(g, c, n=2, target=7), ConfigError, "unknown class 7"),
        (lambda g, c: editing.guide(g, c, n=2, target="Sock"), ConfigError, "unknown class"),
        (lambda g, c: editing.guide(g, c, n=2, target=[0, 1, 2]), ConfigError, "one per"),
        (lambda g, c: editing.guide(g, c, z=np.zeros((2, 5))), ModelError, "8 numbers"),
        (lambda g, c: editing.guide(g, c, z=np.full((2, 8), np.nan)), ModelError, "NaN"),
        (lambda g, c: editing.guide(g, c, n=2, steps=-1), ConfigError, "steps"),
        (lambda g, c: editing.guide(g, c, n=2, lr=float("nan")), ConfigError, "lr"),
        (lambda g, c: editing.guide(g, c, n=2, cluster="jump"), ConfigError, "cluster"),
        (lambda g, c: editing.guide(g, c, n=2, objective="prob"), ConfigError, "objective"),
        (lambda g, c: editing.guide(g, "cifar10", n=2), ModelError, "classifier takes"),
        (lambda g, c: editing.guide(g, n=2), ModelError, "which classifier"),
        (lambda g, c: editing.guide(g, c, n=2, labels=[1, 2]), ModelError, "unconditional"),
        (
            lambda g, c: editing.project(
                g, np.zeros((2, 28, 28, 1)), init=np.zeros((2, 3)), feature_weight=0
            ),
            ModelError,
            "shape \\(2, 8\\)",
        ),
        (
            lambda g, c: editing.project(g, np.zeros((1, 28, 28, 1)), restarts=0),
            ConfigError,
            "restarts",
        ),
        (
            lambda g, c: editing.project(
                g, np.zeros((1, 28, 28, 1)), pixel_weight=0, feature_weight=0
            ),
            ConfigError,
            "nothing to fit",
        ),
        (
            lambda g, c: editing.walk_directions(g, c, n=2, directions=np.zeros((3, 8))),
            ModelError,
            "class_directions",
        ),
        (lambda g, c: editing.train_encoder(g, pairs=10), ConfigError, "pairs"),
    ],
)
def test_bad_options_are_clear_errors(generator, classifier, call, error, message):
    with pytest.raises(error, match=message) as e:
        call(generator, classifier)
    assert isinstance(e.value, GancourseError)


def test_a_class_never_drawn_has_no_direction(generator, classifier):
    means = editing.class_directions(generator, classifier, n=50)
    means[2] = np.nan
    with pytest.raises(ModelError, match="no class direction"):
        editing.walk_directions(generator, classifier, n=4, target=2, directions=means)


# ----------------------------------------------------------------------------- CLI


@pytest.fixture(scope="module")
def digit_png(tmp_path_factory):
    """A picture the shipped MNIST generator can draw, as an 8-bit grey PNG."""
    from gancourse import data, pretrained

    g = pretrained.load("dcgan-mnist")
    image = data.to_uint8(generate_images(g, sample_latent(1, 101, seed=3)))[0, ..., 0]
    path = tmp_path_factory.mktemp("invert") / "digit.png"
    iio.imwrite(path, image)
    return path, image


def test_cli_invert_writes_the_reconstruction(digit_png, tmp_path, capsys):
    path, image = digit_png
    out = tmp_path / "rec.png"
    argv = ["invert", "--pretrained", "dcgan-mnist", "--image", str(path), "--out", str(out)]
    assert main(argv + ["--steps", "40", "--restarts", "2"]) == 0
    printed = capsys.readouterr().out
    assert "pixel MSE" in printed and str(out) in printed
    rec = iio.imread(out)
    assert rec.shape == (28, 28) and rec.dtype == np.uint8
    error = float(printed.split("pixel MSE ")[1].split()[0])
    chance = np.mean((image / 127.5 - 1.0) ** 2)  # against a black picture
    assert error < chance


@pytest.mark.parametrize(
    "picture,message",
    [
        (np.zeros((20, 20), "uint8"), "28x28"),
        (
            np.dstack(
                [
                    np.zeros((28, 28), "uint8"),
                    np.full((28, 28), 9, "uint8"),
                    np.zeros((28, 28), "uint8"),
                ]
            ),
            "colour",
        ),
        (np.full((28, 28), 1000, "uint16"), "8-bit"),
    ],
)
def test_cli_invert_refuses_unfit_images(picture, message, tmp_path, capsys):
    path = tmp_path / "bad.png"
    iio.imwrite(path, picture)
    argv = ["invert", "--pretrained", "dcgan-mnist", "--image", str(path)]
    assert main(argv + ["--out", str(tmp_path / "r.png"), "--steps", "1"]) == 2
    assert message in capsys.readouterr().err


def test_cli_invert_checks_its_paths(digit_png, tmp_path, capsys):
    path, _ = digit_png
    base = ["invert", "--pretrained", "dcgan-mnist"]
    assert main(base + ["--image", str(path), "--out", str(tmp_path / "r.jpg")]) == 2
    assert "must name a .png file" in capsys.readouterr().err
    assert (
        main(base + ["--image", str(tmp_path / "none.png"), "--out", str(tmp_path / "r.png")]) == 2
    )
    assert "is not a file" in capsys.readouterr().err
    cond = ["invert", "--pretrained", "cgan-fashion_mnist", "--image", str(path)]
    assert main(cond + ["--out", str(tmp_path / "r.png")]) == 2
    assert "--label" in capsys.readouterr().err


def test_guidance_step_accepts_tensors(generator, classifier):
    z = tf.constant(sample_latent(3, LATENT, seed=1))
    out = editing.guidance_step(generator, classifier, z, tf.constant([0, 1, 2]))
    assert tuple(out.shape) == (3, LATENT)
