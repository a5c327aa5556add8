"""The GAN playground, driven from Python as a learner's clicks would drive it: Step, Play,
Pause, Reset, changing choices; and the numbers behind the picture (heat map = D's outputs,
arrows = the negative gradient of the generator loss)."""

import asyncio

import keras
import numpy as np
import pytest

from gancourse import GancourseError, toy
from gancourse.errors import DataError, ModelError, UnknownDatasetError
from gancourse.playground import (
    LOSSES,
    Choices,
    Playground,
    Snapshots,
    ToyGAN,
    playground,
    png,
    render,
    snapshots,
)

SMALL = dict(g_hidden=16, d_hidden=16, depth=2, batch_size=64)


@pytest.fixture
def pg():
    return Playground(Choices(**SMALL), steps_per_frame=7)


def test_step_advances_by_the_chosen_steps_and_changes_the_picture(pg):
    first = bytes(pg.image.value)
    assert first.startswith(b"\x89PNG") and pg.gan.step_count == 0
    pg.step()
    assert pg.gan.step_count == 7
    assert pg.image.value != first
    pg.speed_slider.value = 3
    pg.step()
    assert pg.gan.step_count == 10
    assert "step 10" in pg.status.value and "seed 0" in pg.status.value


def test_reset_restores_the_first_frame_byte_for_byte(pg):
    first = bytes(pg.image.value)
    pg.step()
    pg.step()
    assert pg.image.value != first
    pg.reset()
    assert pg.gan.step_count == 0
    assert bytes(pg.image.value) == first


def test_play_runs_and_pause_stops_the_count(pg):
    async def scenario():
        task = pg.play()
        assert task is not None
        await asyncio.sleep(1.0)
        running = pg.gan.step_count
        assert running > 0 and pg.playing
        pg.pause()
        await asyncio.wait_for(task, timeout=5)
        stopped = pg.gan.step_count
        assert stopped - running <= 7 * 2  # at most the chunk under way (plus one scheduled)
        await asyncio.sleep(0.3)
        assert pg.gan.step_count == stopped and not pg.playing
        return pg.frame_count

    assert asyncio.run(scenario()) >= 2


def test_switching_the_loss_resets_and_says_so(pg):
    pg.step()
    pg.loss_dropdown.value = "hinge"
    assert pg.gan.step_count == 0 and pg.gan.choices.loss == "hinge"
    assert "reset" in pg.message.value


def test_learning_rate_changes_without_reset(pg):
    pg.step()
    pg.d_lr_slider.value = 1e-2
    assert pg.gan.step_count == 7
    assert float(pg.gan.d_opt.learning_rate.numpy()) == pytest.approx(1e-2)
    pg.step()
    assert pg.gan.step_count == 14


@pytest.mark.parametrize("loss", ["non-saturating", "wgan-gp"])
def test_heat_map_values_are_the_discriminators_outputs_at_the_grid_points(loss):
    gan = ToyGAN(Choices(loss=loss, **SMALL), res=16)
    gan.train(5)
    frame = gan.frame()
    logits = keras.ops.convert_to_numpy(gan.discriminator(gan.plane_points))[:, 0]
    expected = 1 / (1 + np.exp(-logits)) if loss == "non-saturating" else logits
    np.testing.assert_allclose(frame.heat.ravel(), expected, rtol=1e-5, atol=1e-6)
    # row 0 of the heat map is the top of the picture (largest y), column 0 the left
    assert (
        gan.plane_points[0, 1] > gan.plane_points[-1, 1]
        and gan.plane_points[0, 0] < gan.plane_points[1, 0]
    )


@pytest.mark.parametrize("loss", LOSSES)
def test_arrows_are_the_negative_gradient_of_the_generator_loss(loss):
    """A hand-made linear discriminator D(x) = w.x + b: every loss must push each sample
    along +w (towards "real"), by the amount its own formula says."""
    gan = ToyGAN(Choices(loss=loss, **SMALL), n_arrows=10)
    w, b = np.array([0.8, -0.6], "float32"), np.float32(0.3)
    d = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    d.layers[0].set_weights([w[:, None], np.array([b])])
    gan.discriminator = d
    frame = gan.frame()
    logit = frame.arrow_at @ w + b
    sigmoid = 1 / (1 + np.exp(-logit))
    size = {"minimax": sigmoid, "non-saturating": 1 - sigmoid}.get(loss, np.ones_like(logit))
    np.testing.assert_allclose(frame.arrows, size[:, None] * w[None, :], rtol=1e-4, atol=1e-6)
    assert (frame.arrows @ w > 0).all()  # the sign: uphill on D


def test_arrows_match_autodiff_of_the_loss_on_a_trained_discriminator():
    import tensorflow as tf

    gan = ToyGAN(Choices(loss="non-saturating", **SMALL), n_arrows=5)
    gan.train(20)
    frame = gan.frame()
    x = tf.constant(frame.arrow_at[:1])
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = gan.generator_loss(gan.discriminator(x))
    np.testing.assert_allclose(
        frame.arrows[:1], -tape.gradient(loss, x).numpy(), rtol=1e-4, atol=1e-6
    )


def test_the_same_choices_and_seed_give_the_same_run_however_it_is_chunked():
    a, b = ToyGAN(Choices(seed=3, **SMALL)), ToyGAN(Choices(seed=3, **SMALL))
    a.train(30)
    for _ in range(3):
        b.train(10)
    np.testing.assert_allclose(a.frame().fake, b.frame().fake, rtol=0, atol=1e-5)
    c = ToyGAN(Choices(seed=4, **SMALL))
    c.train(30)
    assert not np.allclose(a.frame().fake, c.frame().fake)


@pytest.mark.parametrize(
    "loss, optimizer",
    [(loss, "adam") for loss in LOSSES] + [("wgan-gp", "rmsprop"), ("non-saturating", "sgd")],
)
def test_every_loss_and_optimizer_trains_with_finite_losses(loss, optimizer):
    """Every loss with Adam; each other optimizer once, with one loss of each family."""
    gan = ToyGAN(Choices(loss=loss, optimizer=optimizer, d_steps=2, **SMALL))
    before = gan.frame().fake
    d_loss, g_loss = gan.train(5)
    assert np.isfinite([d_loss, g_loss]).all()
    assert not np.allclose(gan.frame().fake, before)


@pytest.mark.parametrize("name", ["ring", "grid", "moons", "spiral"])
def test_every_toy_and_your_own_points_draw(name):
    gan = ToyGAN(Choices(toy=name, noise_dim=1 if name == "moons" else 3, **SMALL), res=16)
    picture = render(gan.frame(), gan.lim)
    assert picture.dtype == np.uint8 and picture.shape[1] == picture.shape[0] - 70
    own = ToyGAN(Choices(toy=toy.get_toy(name).sample(200, seed=0), **SMALL), res=16)
    assert own.frame().metrics["num_modes"] >= 1


def test_png_is_a_valid_png_of_the_picture():
    import imageio.v3 as iio

    picture = np.random.default_rng(0).integers(0, 255, (20, 30, 3), dtype=np.uint8)
    np.testing.assert_array_equal(iio.imread(png(picture), extension=".png"), picture)


def test_without_a_kernel_the_playground_shows_pictures_of_a_seeded_run(capsys):
    shots = playground(
        static_steps=(0, 5), **{k: v for k, v in SMALL.items() if k in ("g_hidden", "d_hidden")}
    )
    assert isinstance(shots, Snapshots) and [f.step for f in shots.frames] == [0, 5]
    assert "not available" in capsys.readouterr().out
    assert shots._repr_png_().startswith(b"\x89PNG")
    again = snapshots((0, 5), g_hidden=16, d_hidden=16)
    np.testing.assert_array_equal(shots.pictures[-1], again.pictures[-1])
    assert "modes covered" in shots.table()


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(toy="donut"), UnknownDatasetError, "ring, grid, moons, spiral"),
        (dict(toy=np.zeros((20, 3))), DataError, "shape"),
        (dict(g_lr=2.0), ModelError, "g_lr"),
        (dict(d_lr=0), ModelError, "d_lr"),
        (dict(loss="wasserstein"), ModelError, "hinge"),
        (dict(d_steps=0), ModelError, "d_steps"),
    ],
)
def test_user_errors_are_clear(kwargs, error, message):
    with pytest.raises(error, match=message) as info:
        playground(static=True, **kwargs)
    assert isinstance(info.value, GancourseError)


def test_a_bad_learning_rate_from_the_slider_is_reported_not_raised(pg):
    pg._choice_changed("g_lr", 5.0)
    assert "g_lr" in pg.message.value and pg.gan.choices.g_lr == 1e-3


# --------------------------------------------------------------------------- the new toys


@pytest.mark.parametrize("mixture", [toy.moons(), toy.spiral()])
def test_curves_real_samples_cover_every_piece_with_high_quality(mixture):
    m = mixture.metrics(mixture.sample(5000, seed=1))
    assert m["modes_covered"] == mixture.num_modes == 8
    assert m["high_quality"] > 0.98


def test_half_a_moon_covers_half_its_pieces():
    moons = toy.moons()
    one_arc = moons.points[:500]  # the first half of the upper moon
    pts = one_arc[np.random.default_rng(0).integers(0, 500, 2000)]
    m = moons.metrics(pts)
    assert m["modes_covered"] == 2 and m["high_quality"] == 1.0
    far = moons.metrics(pts + np.array([0.0, 3.0]))
    assert far["high_quality"] < 0.05


def test_your_own_points_cover_clusters_and_reject_far_samples():
    rng = np.random.default_rng(0)
    blobs = np.concatenate([rng.normal(c, 0.1, (100, 2)) for c in [(-2, 0), (2, 0), (0, 2)]])
    cloud = toy.points(blobs, num_modes=3)
    assert cloud.num_modes == 3
    m = cloud.metrics(cloud.sample(1500, seed=1))
    assert m["modes_covered"] == 3 and m["high_quality"] > 0.9
    one = cloud.metrics(rng.normal((-2, 0), 0.05, (500, 2)))
    assert one["modes_covered"] == 1
    assert cloud.metrics(rng.normal((0, -3), 0.1, (500, 2)))["high_quality"] == 0.0


@pytest.mark.parametrize(
    "bad", [np.zeros((5, 2)), np.zeros((20, 3)), np.zeros(40), [[0, np.nan]] * 20, "abc"]
)
def test_bad_points_get_a_clear_error(bad):
    with pytest.raises(DataError, match="points"):
        toy.points(bad)
