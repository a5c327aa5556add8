"""StyleGAN: each component does what its equation says (demodulation, AdaIN, mapping, style
mixing, noise, truncation in W), the generator trains in the course's engine (train step,
resume, CLI, export, MirroredStrategy), and bad options get clear errors."""

import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

import gancourse as gc
from gancourse import pretrained, stylegan
from gancourse.cli import main
from gancourse.errors import ConfigError, GancourseError, ModelError
from gancourse.runs import RunConfig
from gancourse.sampling import sample_latent
from gancourse.training import build_gan

HERE = Path(__file__).resolve()
LATENT = 16


@pytest.fixture(scope="module")
def generator():
    """A small untrained generator for 28x28 images, noise strengths at 0 as built."""
    gc.seed_everything(0)
    return stylegan.stylegan_generator((28, 28, 1), latent_dim=LATENT, w_dim=32, width=16)


def random_ws(generator, n, seed):
    z = sample_latent(n, LATENT, seed=seed)
    return stylegan.mapping(generator, z)


# ---------------------------------------------------------------- the components


def test_demodulation_gives_unit_output_variance_whatever_the_style():
    """For inputs of unit variance, a demodulated convolution's outputs have unit variance,
    for small and large styles alike; modulation alone scales the variance with s^2."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 16, 16, 48)).astype("float32")
    w = rng.standard_normal((8, 32)).astype("float32")
    conv = stylegan.ModulatedConv2D(40, 3, use_bias=False)
    conv([x, w])  # build
    energies = []
    for style_scale in (0.3, 3.0):
        conv.affine.bias.assign(np.full(48, style_scale, "float32"))
        y = np.asarray(conv([x, w]))[:, 1:-1, 1:-1]  # interior: no zero padding
        per_channel = y.reshape(-1, 40).var(axis=0)
        assert abs(per_channel.mean() - 1.0) < 0.05, (style_scale, per_channel.mean())
        assert per_channel.min() > 0.8 and per_channel.max() < 1.2
        # the same convolution without the demodulation factor
        s = np.asarray(conv.affine(w))
        kernel = np.asarray(conv.kernel) * conv.scale

        plain = np.asarray(keras.ops.conv(x * s[:, None, None, :], kernel, padding="same"))
        ratio = plain[:, 1:-1, 1:-1].var() / np.mean(s**2)  # about 1.1 and 9.9 here
        assert 0.8 < ratio < 1.2, (style_scale, ratio)
        energies.append(np.mean(s**2))
    assert energies[1] > 5 * energies[0]  # styles of very different sizes, both demodulated


def test_adain_gives_each_channel_the_style_mean_and_deviation():
    rng = np.random.default_rng(1)
    x = (3.0 + 2.0 * rng.standard_normal((4, 8, 8, 6))).astype("float32")
    w = rng.standard_normal((4, 10)).astype("float32")
    adain = stylegan.AdaIN()
    y = np.asarray(adain([x, w]))
    style = np.asarray(adain.affine(w))
    np.testing.assert_allclose(y.mean(axis=(1, 2)), style[:, 6:], atol=1e-4)
    np.testing.assert_allclose(y.std(axis=(1, 2)), np.abs(1.0 + style[:, :6]), rtol=1e-3)


def test_the_mapping_network_gives_one_w_per_z_and_ignores_the_scale_of_z(generator):
    z = sample_latent(5, LATENT, seed=0)
    w = stylegan.mapping(generator, z)
    assert w.shape == (5, 32)
    np.testing.assert_allclose(stylegan.mapping(generator, 4.0 * z), w, rtol=1e-4, atol=1e-5)
    assert not np.allclose(w[0], w[1])


def test_equalised_dense_scales_its_weights_at_run_time():
    layer = stylegan.EqualDense(3, lr_mul=0.1)
    x = np.ones((1, 4), "float32")
    y = np.asarray(layer(x))
    kernel, bias = np.asarray(layer.kernel), np.asarray(layer.bias)
    assert 3 < kernel.std() < 30  # stored weights ~ N(0, 1 / lr_mul^2) = N(0, 100)
    np.testing.assert_allclose(y, x @ kernel * 0.1 / 2.0 + bias * 0.1, rtol=1e-5)


def test_every_style_layer_uses_its_own_w(generator):
    n_ws = stylegan.num_ws(generator)
    assert n_ws == 8  # 2 log2(32) - 2: the 28x28 images are the middle of a 32x32 synthesis
    w = random_ws(generator, 2, seed=1)
    other = random_ws(generator, 2, seed=2)
    ws = np.repeat(w[:, None], n_ws, axis=1)
    base = stylegan.synthesis(generator, ws)
    assert base.shape == (2, 28, 28, 1)
    np.testing.assert_allclose(stylegan.synthesis(generator, w), base, atol=1e-6)  # broadcast
    for i in range(n_ws):
        changed = ws.copy()
        changed[:, i] = other
        diff = np.abs(stylegan.synthesis(generator, changed) - base).max()
        assert diff > 1e-4, f"style layer {i} does not change the picture"


def test_style_mixing_takes_the_first_layers_from_w_and_the_rest_from_w2():
    n_ws, batch = 8, 400
    w1, w2 = np.ones((batch, 3), "float32"), np.full((batch, 3), 2.0, "float32")
    mixing = stylegan.StyleMixing(n_ws, probability=1.0, seed=0)
    ws = np.asarray(mixing([w1, w2], training=True))
    assert ws.shape == (batch, n_ws, 3)
    source = ws[:, :, 0]
    crossover = (source == 1.0).sum(axis=1)
    # a prefix from w, the rest from w2, crossing over somewhere in 1..n_ws-1
    expected = np.where(np.arange(n_ws)[None, :] < crossover[:, None], 1.0, 2.0)
    np.testing.assert_array_equal(source, expected)
    assert set(crossover) == set(range(1, n_ws))
    np.testing.assert_array_equal(
        np.asarray(mixing([w1, w2], training=False)), w1[:, None] + 0 * ws
    )
    half = np.asarray(stylegan.StyleMixing(n_ws, 0.5, seed=0)([w1, w2], training=True))
    assert 0.4 < (half[:, -1, 0] == 2.0).mean() < 0.6  # mixed samples end with w2
    none = np.asarray(stylegan.StyleMixing(n_ws, 0.0)([w1, w2], training=True))
    assert (none == 1.0).all()


def test_mix_by_hand_takes_the_layers_below_the_crossover_from_a(generator):
    a, b = random_ws(generator, 3, seed=3), random_ws(generator, 3, seed=4)
    mixed = stylegan.mix(a, np.repeat(b[:, None], 8, axis=1), 3)
    np.testing.assert_array_equal(mixed[:, :3], np.repeat(a[:, None], 3, axis=1))
    np.testing.assert_array_equal(mixed[:, 3:], np.repeat(b[:, None], 5, axis=1))
    with pytest.raises(ModelError, match="crossover"):
        stylegan.mix(np.repeat(a[:, None], 8, axis=1), b, 9)


def test_noise_strengths_at_zero_make_the_output_deterministic(generator):
    w = random_ws(generator, 2, seed=5)
    try:
        stylegan.set_noise_strength(generator, 0.0)
        one = stylegan.synthesis(generator, w, noise="random", seed=1)
        np.testing.assert_array_equal(one, stylegan.synthesis(generator, w, noise="random", seed=2))
        np.testing.assert_array_equal(one, stylegan.synthesis(generator, w, noise="zero"))
        stylegan.set_noise_strength(generator, 0.5)
        one = stylegan.synthesis(generator, w, noise="random", seed=1)
        two = stylegan.synthesis(generator, w, noise="random", seed=2)
        assert np.abs(one - two).max() > 1e-3
        # explicit noise: only the last layer's noise changed changes the picture
        noise = [np.zeros((1, s, s, 1), "float32") for s in stylegan.noise_sizes(generator)]
        base = stylegan.synthesis(generator, w, noise=noise)
        noise[-1] = np.ones_like(noise[-1])
        assert np.abs(stylegan.synthesis(generator, w, noise=noise) - base).max() > 1e-3
        # sampling uses the fixed noise: the same z gives the same picture every time
        z = sample_latent(2, LATENT, seed=0)
        np.testing.assert_array_equal(np.asarray(generator(z)), np.asarray(generator(z)))
        np.testing.assert_allclose(stylegan.generate(generator, z=z), generator(z), atol=1e-5)
        assert np.abs(np.asarray(generator(z, training=True)) - generator(z)).max() > 1e-3
    finally:
        stylegan.set_noise_strength(generator, 0.0)


def test_the_mean_w_is_tracked_in_training_and_psi_0_returns_its_image():
    gc.seed_everything(1)
    g = stylegan.stylegan_generator((32, 32, 3), latent_dim=LATENT, w_dim=16, width=8)
    z = sample_latent(64, LATENT, seed=0)
    assert not stylegan.w_avg(g).any()
    for _ in range(3):
        g(z, training=True)
    beta = stylegan.W_AVG_BETA
    expected = (1 - beta**3) * stylegan.mapping(g, z).mean(axis=0)
    np.testing.assert_allclose(stylegan.w_avg(g), expected, rtol=1e-4, atol=1e-7)
    w = stylegan.mapping(g, z[:4])
    mean_image = stylegan.synthesis(g, stylegan.w_avg(g)[None])
    for image in stylegan.synthesis(g, stylegan.truncate(g, w, 0.0)):
        np.testing.assert_allclose(image, mean_image[0], atol=1e-6)
    np.testing.assert_allclose(stylegan.truncate(g, w, 1.0), w, atol=1e-7)
    half = stylegan.truncate(g, w, 0.5)
    np.testing.assert_allclose(half - stylegan.w_avg(g), 0.5 * (w - stylegan.w_avg(g)), atol=1e-6)
    images = stylegan.generate(g, 4, seed=0, psi=0.0)
    assert images.shape == (4, 32, 32, 3) and np.allclose(images, mean_image[0], atol=1e-6)


# ---------------------------------------------------------------- in the engine


def pipeline(n=64, seed=0):
    x = np.random.default_rng(seed).integers(0, 256, (n, 28, 28), dtype=np.uint8)
    return gc.make_pipeline(x, None, batch_size=32, seed=seed)


def test_a_train_step_changes_the_weights_and_reports_finite_losses():
    gan = build_gan("stylegan", latent_dim=LATENT, ema=0.9, minibatch_std=True, r1_gamma=1.0)
    g = gan.generator
    assert stylegan.is_stylegan(g) and stylegan.is_stylegan(gan.ema_generator)
    before = [np.array(w) for w in g.trainable_weights]
    d_before = [np.array(w) for w in gan.discriminator.trainable_weights]
    history = gan.fit(pipeline(), epochs=1, verbose=0).history
    assert set(history) >= {"d_loss", "g_loss", "r1"}
    assert all(np.isfinite(v[-1]) for v in history.values())
    unchanged = [w.path for w, b in zip(g.trainable_weights, before) if np.array_equal(w, b)]
    assert not unchanged, f"not trained: {unchanged}"
    assert all(
        not np.array_equal(w, b) for w, b in zip(gan.discriminator.trainable_weights, d_before)
    )
    assert stylegan.w_avg(g).any()  # the mean of w is tracked while training
    assert float(gan.g_optimizer.learning_rate) == pytest.approx(stylegan.G_LR)
    assert gan.generate(4, seed=0).shape == (4, 28, 28, 1)


def test_cli_trains_resumes_samples_and_exports_a_stylegan(tmp_path, capsys):
    run = tmp_path / "run"
    args = ["train", "--model", "stylegan", "--dataset", "mnist", "--subset", "64"]
    args += ["--batch-size", "32", "--latent-dim", str(LATENT), "--ema", "0.9"]
    args += ["--mixing", "0.5", "--out", str(run)]
    assert main(args + ["--epochs", "1"]) == 0
    config = json.loads((run / "config.json").read_text())
    assert config["model"] == "stylegan" and config["mixing"] == 0.5
    assert main(args + ["--epochs", "2"]) == 0
    assert "Resuming training at epoch 2" in capsys.readouterr().out
    assert (run / "samples" / "epoch_0002.png").is_file()
    assert main(["sample", "--run", str(run), "--n", "8", "--out", str(tmp_path / "g.png")]) == 0
    assert (tmp_path / "g.png").is_file()
    gan, _, epoch = gc.training.load_run(run)
    assert epoch == 2 and int(gan.g_optimizer.iterations) == 4
    assert gan.generator.get_layer("style_mixing").probability == 0.5

    folder = tmp_path / "shipped"
    pretrained.export(run, "stylegan-test", command="gancourse train ...", directory=folder)
    entry = pretrained.info("stylegan-test", folder)
    assert entry["builder"] == "stylegan_generator" and entry["model"] == "stylegan"
    assert entry["kwargs"]["latent_dim"] == LATENT and entry["kwargs"]["mixing"] == 0.5
    assert entry["max_abs_diff"] < 0.05
    loaded = pretrained.load("stylegan-test", folder)
    z = sample_latent(8, LATENT, seed=0)
    np.testing.assert_allclose(
        stylegan.generate(loaded, z=z), gan.generate(z=z), atol=entry["max_abs_diff"] + 1e-3
    )
    np.testing.assert_allclose(
        stylegan.w_avg(loaded), stylegan.w_avg(gan.sampling_generator()), atol=1e-2
    )


def test_a_stylegan_trains_on_two_mirrored_replicas():
    """Two logical CPU devices (a fresh Python: the split must come before TensorFlow sets up
    its devices): one epoch under MirroredStrategy trains with finite losses, tracks the mean
    w, and the replicas draw different pixel noise."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(HERE.parent.parent), str(HERE.parent)]))
    done = subprocess.run(
        [sys.executable, str(HERE), "mirrored"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-5000:]
    r = json.loads(done.stdout.strip().splitlines()[-1])
    assert r["replicas"] == 2 and r["finite"] and r["w_avg_moved"] and r["steps"] == 2
    assert r["noise_differs"], "both replicas drew the same pixel noise"


def check_mirrored():
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    strategy = gc.training.make_strategy("mirrored")
    gan = build_gan("stylegan", latent_dim=8, ema=0.9, strategy=strategy)
    history = gc.train(gan, pipeline(), 1, strategy=strategy, progress=False, sample_every=0)
    noise_layer = gan.generator.get_layer("pixel_noise")

    @tf.function
    def draw():
        return strategy.run(lambda: noise_layer(tf.zeros((2, 8, 8)), training=True)[0])

    drawn = [np.array(v) for v in strategy.experimental_local_results(draw())]
    return {
        "replicas": strategy.num_replicas_in_sync,
        "finite": all(np.isfinite(v[-1]) for v in history.history.values()),
        "w_avg_moved": bool(stylegan.w_avg(gan.generator).any()),
        "steps": int(gan.g_optimizer.iterations.numpy()),
        "noise_differs": bool(len(drawn) == 2 and not np.allclose(drawn[0], drawn[1])),
    }


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize("mixing", [-0.1, 1.5, True, "0.5", float("nan")])
def test_a_mixing_probability_outside_0_1_is_refused(mixing):
    with pytest.raises(ModelError, match="style mixing probability"):
        stylegan.stylegan_generator((28, 28, 1), latent_dim=4, mixing=mixing)
    if not isinstance(mixing, (bool, str)):
        with pytest.raises(ConfigError, match="--mixing"):
            RunConfig(model="stylegan", mixing=mixing)


@pytest.mark.parametrize("shape", [(30, 30, 1), (24, 24, 3), (4, 4, 1), (28, 32, 1), (32, 32, 2)])
def test_a_resolution_the_synthesis_cannot_reach_is_refused(shape):
    with pytest.raises(ModelError, match="cannot reach|image_shape"):
        stylegan.stylegan_generator(shape)


def test_a_w_or_z_of_the_wrong_size_is_refused(generator):
    with pytest.raises(ModelError, match="this generator's w has 32 numbers"):
        stylegan.synthesis(generator, np.zeros((2, 31), "float32"))
    with pytest.raises(ModelError, match=r"\(n, 8, 32\)"):
        stylegan.synthesis(generator, np.zeros((2, 7, 32), "float32"))
    with pytest.raises(ModelError, match=r"z must have shape \(n, 16\)"):
        stylegan.mapping(generator, np.zeros((2, 15), "float32"))
    with pytest.raises(ModelError, match="w must end in 32"):
        stylegan.truncate(generator, np.zeros((2, 30), "float32"), 0.5)
    with pytest.raises(ModelError, match="noise"):
        stylegan.synthesis(generator, np.zeros((2, 32), "float32"), noise=[np.zeros((2, 4, 4, 1))])
    ws = np.zeros((2, 8, 32), "float32")
    with pytest.raises(ModelError, match="ws_a and ws_b must have the same shape"):
        stylegan.mix(ws, np.zeros((2, 31), "float32"), 4)
    with pytest.raises(ModelError, match="ws_a and ws_b must have the same shape"):
        stylegan.mix(ws, np.zeros((2, 8, 31), "float32"), 4)
    with pytest.raises(ModelError, match="one w per style layer"):
        stylegan.mix(np.zeros((2, 32)), np.zeros((2, 32)), 4)
    assert stylegan.w_dim(generator) == 32


@pytest.mark.parametrize("psi", [-0.5, 1.5, None])
def test_psi_out_of_range_is_refused(generator, psi):
    with pytest.raises(ModelError, match="psi must be a number in"):
        stylegan.truncate(generator, np.zeros((1, 32), "float32"), psi)


def test_stylegan_options_belong_to_stylegan():
    with pytest.raises(ModelError, match="mixing"):
        build_gan("dcgan", mixing=0.5)
    with pytest.raises(ModelError, match="upsampling"):
        build_gan("stylegan", upsampling="nearest")
    with pytest.raises(ConfigError, match="--model stylegan only"):
        RunConfig(model="dcgan", mixing=0.5)
    with pytest.raises(ConfigError, match="upsampling"):
        RunConfig(model="stylegan", upsampling="bilinear")
    with pytest.raises(GancourseError, match="not a StyleGAN generator"):
        stylegan.mapping(gc.models.dcgan_generator(LATENT), np.zeros((1, LATENT)))
    assert main(["train", "--model", "dcgan", "--mixing", "0.5"]) == 2
    assert main(["train", "--model", "stylegan", "--mixing", "2"]) == 2


if __name__ == "__main__":
    result = globals()[f"check_{sys.argv[1]}"](*sys.argv[2:])
    print(json.dumps(result))


# ---------------------------------------------------------------- perceptual path length


def test_perceptual_path_length_equals_a_hand_computation_on_a_linear_generator():
    """A toy generator whose mapping is the identity and whose synthesis is a linear map A
    (features = pixels): in W the path is a straight line, so every scaled distance is
    exactly ||(w1 - w0) A||^2; in Z (slerp of directions) it is ||p'(t) A||^2 with the
    derivative of the great circle, p'(t) = omega / sin(omega) (-cos((1-t) omega) u0 +
    cos(t omega) u1)."""
    from gancourse.metrics import perceptual_path_length

    dim, n = 5, 200
    a = np.random.default_rng(7).standard_normal((dim, 12))
    rng = np.random.default_rng(3)  # the draws the function documents, in its order
    z0, z1 = rng.standard_normal((2, n, dim))
    t = rng.uniform(0.0, 1.0, n)[:, None]

    def identity(x):
        return x

    w = perceptual_path_length(identity, lambda v: v @ a, identity, dim, "w", n, trim=0, seed=3)
    np.testing.assert_allclose(w["distances"], np.sum(((z1 - z0) @ a) ** 2, axis=1), rtol=1e-6)
    assert w["ppl"] == pytest.approx(w["distances"].mean())

    u0 = z0 / np.linalg.norm(z0, axis=1, keepdims=True)
    u1 = z1 / np.linalg.norm(z1, axis=1, keepdims=True)
    omega = np.arccos(np.sum(u0 * u1, axis=1, keepdims=True))
    velocity = omega / np.sin(omega) * (-np.cos((1 - t) * omega) * u0 + np.cos(t * omega) * u1)
    z = perceptual_path_length(identity, lambda v: v @ a, identity, dim, "z", n, trim=0, seed=3)
    np.testing.assert_allclose(z["distances"], np.sum((velocity @ a) ** 2, axis=1), rtol=1e-3)

    trimmed = perceptual_path_length(identity, lambda v: v @ a, identity, dim, "w", n, seed=3)
    kept = np.sort(w["distances"])[2:-2]  # 1% of 200 at each end
    assert trimmed["ppl"] == pytest.approx(kept.mean(), rel=1e-6)
    with pytest.raises(GancourseError, match="space"):
        perceptual_path_length(identity, identity, identity, dim, space="x")


def test_path_length_of_a_stylegan_generator_runs_in_both_spaces(generator):
    def pixels(images):
        return images.reshape(len(images), -1)

    z = stylegan.path_length(generator, pixels, "z", n=8)
    w = stylegan.path_length(generator, pixels, "w", n=8)
    assert z["distances"].shape == w["distances"].shape == (8,)
    assert np.isfinite([z["ppl"], w["ppl"]]).all() and z["ppl"] > 0 and w["ppl"] > 0
