"""Image-to-image translation: the U-Net and its skips, the PatchGAN's receptive field, the
ResNet generator, the pix2pix / LSGAN / cycle / identity losses against hand formulas,
train steps of Pix2Pix and CycleGAN, resume, the paired and unpaired pipelines, PSNR and
colourfulness, the CLI, and the errors of each bad input."""

import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

import gancourse as gc
from gancourse import cli, data, losses, metrics, translation
from gancourse import translation as tr
from gancourse.errors import ConfigError, MetricError, ModelError
from gancourse.runs import RunConfig

# ---------------------------------------------------------------- tiny models and data


def tiny_pix2pix(skips=True, gan_weight=1.0, seed=1, ema=None):
    model = tr.Pix2Pix(
        tr.unet_generator((8, 8, 1), 3, width=4, depth=2, skips=skips),
        tr.patch_discriminator((8, 8, 3), condition_shape=(8, 8, 1), width=4),
        seed=seed,
        ema=ema,
    )
    model.compile(gan_weight=gan_weight)
    return model


def tiny_cyclegan(seed=1, ema=None):
    shape = (8, 8, 3)
    model = tr.CycleGAN(
        tr.resnet_generator(shape, width=4, blocks=1, name="a_to_b"),
        tr.resnet_generator(shape, width=4, blocks=1, name="b_to_a"),
        tr.patch_discriminator(shape, width=4, norm="instance", name="d_a"),
        tr.patch_discriminator(shape, width=4, norm="instance", name="d_b"),
        seed=seed,
        ema=ema,
    )
    model.compile()
    return model


def paired_batches(n=32, batch=8, seed=0):
    rng = np.random.default_rng(seed)
    colour = rng.uniform(-1, 1, (n, 8, 8, 3)).astype("float32")
    grey = tf.image.rgb_to_grayscale(colour).numpy()
    return tf.data.Dataset.from_tensor_slices((grey, colour)).batch(batch, drop_remainder=True)


def unpaired_batches(n=32, batch=8, seed=0):
    rng = np.random.default_rng(seed)
    a, b = (rng.uniform(-1, 1, (n, 8, 8, 3)).astype("float32") for _ in range(2))
    return tf.data.Dataset.from_tensor_slices((a, b)).batch(batch, drop_remainder=True)


def weights(model):
    return [np.array(w) for w in model.trainable_weights]


def kernels_all_moved(before, after):
    return all(not np.allclose(a, b) for a, b in zip(before, after) if a.ndim >= 2)


# ---------------------------------------------------------------- builders


def test_unet_shapes_and_parameter_counts_by_hand():
    g = tr.unet_generator((8, 8, 1), 3, width=4, depth=2)
    plain = tr.unet_generator((8, 8, 1), 3, width=4, depth=2, skips=False)
    assert g.output_shape == plain.output_shape == (None, 8, 8, 3)
    # down1 4x4 conv 1->4 + bias: 68; down2 4->8: 512, its BN: 32; up1 8->4: 512, BN: 16;
    # to_image 4x4 from 4+4 channels (skip) to 3, + bias: 387 (without the skip: 4 -> 195)
    assert g.count_params() == 68 + 512 + 32 + 512 + 16 + 387
    assert plain.count_params() == 68 + 512 + 32 + 512 + 16 + 195
    assert g.name == "unet_generator" and plain.name == "encoder_decoder"
    padded = tr.unet_generator((28, 28, 1), 1, width=4, depth=4)  # 28 is padded to 32
    assert padded.output_shape == (None, 28, 28, 1)
    assert tr.unet_generator().output_shape == (None, 32, 32, 3)


def test_unet_skips_carry_the_input_past_a_dead_bottleneck():
    """With the deepest convolution zeroed, nothing passes the bottleneck: the encoder-
    decoder then makes one picture whatever the input, the U-Net still follows the input
    through its skips."""
    x = np.random.default_rng(0).uniform(-1, 1, (2, 8, 8, 1)).astype("float32")
    for skips in (True, False):
        g = tr.unet_generator((8, 8, 1), 3, width=4, depth=2, skips=skips)
        kernel = g.get_layer("down2").kernel
        kernel.assign(np.zeros(kernel.shape, "float32"))
        out = keras.ops.convert_to_numpy(g(x, training=False))
        if skips:
            assert np.abs(out[0] - out[1]).max() > 1e-3
        else:
            np.testing.assert_allclose(out[0], out[1], atol=1e-6)


def test_patch_discriminator_shapes_and_parameter_counts_by_hand():
    d = tr.patch_discriminator((8, 8, 3), condition_shape=(8, 8, 1), width=4)
    assert [tuple(i.shape) for i in d.inputs] == [(None, 8, 8, 1), (None, 8, 8, 3)]
    assert d.output_shape == (None, 4, 4, 1)  # one logit per patch
    # conv1 4x4 on 1+3 channels to 4 + bias: 260; conv2 4->8: 512, BN 32; logits 8->1: 129
    assert d.count_params() == 260 + 512 + 32 + 129
    alone = tr.patch_discriminator((8, 8, 3), width=4, norm="instance")
    assert alone.output_shape == (None, 4, 4, 1) and len(alone.inputs) == 1


def test_receptive_field_against_hand_computation():
    # the paper's 70x70 PatchGAN: r = 1 -> 4 -> 7 -> 16 -> 34 -> 70
    assert tr.receptive_field([(4, 2)] * 3 + [(4, 1)] * 2) == 70
    assert tr.receptive_field(tr.patch_discriminator((64, 64, 3), downsamplings=3)) == 70
    assert tr.receptive_field([(3, 1), (3, 1)]) == 5  # two 3x3 convolutions see 5x5
    assert tr.receptive_field([(7, 1)]) == 7
    assert tr.receptive_field(tr.patch_discriminator()) == 16  # 1 -> 4 -> 7 -> 16


def test_the_receptive_field_is_what_one_logit_actually_sees():
    """The gradient of one logit in the middle of the map is non-zero on exactly a
    receptive_field-wide window of the input."""
    d = tr.patch_discriminator((32, 32, 3), width=4)
    x = tf.constant(np.random.default_rng(0).normal(size=(1, 32, 32, 3)).astype("float32"))
    with tf.GradientTape() as tape:
        tape.watch(x)
        logit = d(x, training=False)[0, 8, 8, 0]
    seen = np.abs(tape.gradient(logit, x).numpy()[0]).sum(axis=-1) > 0
    rows, cols = np.nonzero(seen.any(axis=1))[0], np.nonzero(seen.any(axis=0))[0]
    assert rows.max() - rows.min() + 1 == tr.receptive_field(d) == 16
    assert cols.max() - cols.min() + 1 == 16


def test_resnet_generator_shapes():
    g = tr.resnet_generator((28, 28, 3), width=4, blocks=2)
    assert g.output_shape == (None, 28, 28, 3)
    assert tr.resnet_generator((8, 8, 1), 3, width=4, blocks=0).output_shape == (None, 8, 8, 3)
    with pytest.raises(ModelError, match="divisible by 4"):
        tr.resnet_generator((30, 30, 3))


# ---------------------------------------------------------------- losses


def test_pix2pix_generator_loss_against_the_hand_formula():
    logits = np.zeros((2, 4, 4, 1), "float32")  # D undecided: -log sigmoid(0) = log 2
    target, output = np.zeros((2, 8, 8, 3), "float32"), np.full((2, 8, 8, 3), 0.5, "float32")
    loss = float(losses.pix2pix_generator_loss(logits, target, output, l1_weight=100.0))
    assert loss == pytest.approx(np.log(2) + 100 * 0.5, rel=1e-6)
    assert float(losses.pix2pix_generator_loss(logits, target, output, 0.0, 2.0)) == (
        pytest.approx(2 * np.log(2), rel=1e-6)
    )


def test_lsgan_losses_against_the_hand_formulas():
    real, fake = np.array([0.5, 1.5], "float32"), np.array([0.0, 1.0], "float32")
    # D: mean((real - 1)^2) + mean(fake^2) = 0.25 + 0.5
    assert float(losses.lsgan_discriminator_loss(real, fake)) == pytest.approx(0.75)
    assert float(losses.lsgan_discriminator_loss(np.ones(3), np.zeros(3))) == 0.0
    # G: mean((fake - 1)^2) = (1 + 0) / 2
    assert float(losses.lsgan_generator_loss(fake)) == pytest.approx(0.5)


def test_cycle_loss_is_zero_for_inverse_generators_and_positive_otherwise():
    rng = np.random.default_rng(0)
    a, b = rng.uniform(-1, 1, (4, 8, 8, 3)), rng.uniform(-1, 1, (4, 8, 8, 3))

    def cycle(g, f):
        return float(losses.cycle_loss(a, f(g(a)), b, g(f(b))))

    identity = lambda x: x  # noqa: E731
    up, down = (lambda x: x + 0.1), (lambda x: x - 0.1)
    assert cycle(identity, identity) == 0.0
    assert cycle(up, down) == pytest.approx(0.0, abs=1e-6)  # F inverts G: no cycle error
    assert cycle(up, up) == pytest.approx(0.2 + 0.2, rel=1e-5)  # 0.2 off on each way back
    # and through CycleGAN's own networks: identity models give zero
    ident = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Identity()])
    assert float(losses.cycle_loss(a, ident(ident(a)), b, ident(ident(b)))) == 0.0


def test_identity_loss():
    rng = np.random.default_rng(0)
    a, b = rng.uniform(-1, 1, (4, 8, 8, 3)), rng.uniform(-1, 1, (4, 8, 8, 3))
    assert float(losses.identity_loss(a, a, b, b)) == 0.0
    assert float(losses.identity_loss(a, a + 0.1, b, b - 0.3)) == pytest.approx(0.4, rel=1e-5)


# ---------------------------------------------------------------- models


def test_pix2pix_train_step_changes_both_networks_and_reports_finite_losses():
    model = tiny_pix2pix()
    g0, d0 = weights(model.generator), weights(model.discriminator)
    history = model.fit(paired_batches(), epochs=1, verbose=0)
    assert set(history.history) == {"d_loss", "g_loss", "d_real", "d_fake", "g_gan", "l1"}
    assert all(np.isfinite(v[-1]) for v in history.history.values())
    assert kernels_all_moved(g0, weights(model.generator))
    assert kernels_all_moved(d0, weights(model.discriminator))


def test_pix2pix_training_lowers_l1_on_a_tiny_batch():
    model = tr.Pix2Pix(
        tr.unet_generator((8, 8, 1), 3, width=4, depth=2, dropout=0.0),
        tr.patch_discriminator((8, 8, 3), condition_shape=(8, 8, 1), width=4),
        seed=1,
    )
    model.compile(g_lr=1e-3)
    grey = np.random.default_rng(0).uniform(-1, 1, (8, 8, 8, 1)).astype("float32")
    colour = np.concatenate([grey, -grey, 0.5 * grey], axis=-1)  # a colouring to learn

    def l1():  # batch statistics in the batch norms, as pix2pix uses them at test time too
        return float(losses.l1_distance(colour, model.generator(grey, training=True)))

    before = l1()
    model.fit(tf.data.Dataset.from_tensors((grey, colour)).repeat(60), epochs=1, verbose=0)
    assert l1() < 0.8 * before


def test_l1_only_pix2pix_never_touches_the_discriminator():
    model = tiny_pix2pix(gan_weight=0.0)
    d0 = weights(model.discriminator)
    history = model.fit(paired_batches(), epochs=1, verbose=0)
    assert set(history.history) == {"g_loss", "l1"}
    for a, b in zip(d0, weights(model.discriminator)):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ModelError, match="both 0"):
        model.compile(l1_weight=0.0, gan_weight=0.0)


def test_cyclegan_train_step_changes_all_four_networks_and_reports_finite_losses():
    model = tiny_cyclegan()
    nets = (model.g_ab, model.g_ba, model.d_a, model.d_b)
    before = [weights(n) for n in nets]
    history = model.fit(unpaired_batches(), epochs=1, verbose=0)
    names = {"d_loss", "g_loss", "d_real", "d_fake", "g_gan", "cycle", "identity"}
    assert set(history.history) == names
    assert all(np.isfinite(v[-1]) for v in history.history.values())
    for net, w in zip(nets, before):
        assert kernels_all_moved(w, weights(net)), net.name
    # one optimizer over both generators, one over both discriminators
    assert int(model.g_optimizer.iterations) == int(model.d_optimizer.iterations) == 4


def test_translate_and_preview_grids():
    model = tiny_pix2pix()
    grey, colour = next(iter(paired_batches(n=8)))
    model.set_preview(grey[:3], colour[:3])
    images, ncols = model.preview_images()
    assert ncols == 3 and images.shape == (9, 8, 8, 3)  # inputs, outputs, truth
    np.testing.assert_allclose(images[6:], colour[:3])
    cycle = tiny_cyclegan()
    a, b = next(iter(unpaired_batches(n=8)))
    cycle.set_preview(a[:2], b[:2])
    images, ncols = cycle.preview_images()
    assert ncols == 2 and images.shape == (12, 8, 8, 3)  # a, G(a), F(G(a)), b, F(b), G(F(b))
    np.testing.assert_allclose(images[:2], a[:2])
    back = cycle.translate(cycle.translate(a[:2]), "b2a")
    np.testing.assert_allclose(images[4:6], back, atol=1e-6)


def test_translate_refuses_wrong_size_channels_and_range():
    model = tiny_pix2pix()
    with pytest.raises(ModelError, match=r"shape \(n,\) \+ \(8, 8, 1\)"):
        model.translate(np.zeros((2, 16, 16, 1)))
    with pytest.raises(ModelError, match="3-channel image; this side takes 1"):
        model.translate(np.zeros((2, 8, 8, 3)))
    with pytest.raises(ModelError, match=r"\[-1, 1\]"):
        model.translate(np.full((2, 8, 8, 1), 255.0))
    with pytest.raises(ModelError, match="direction"):
        tiny_cyclegan().translate(np.zeros((1, 8, 8, 3)), "sideways")


def test_mismatched_networks_are_refused():
    g = tr.unet_generator((8, 8, 1), 3, width=4, depth=2)
    with pytest.raises(ModelError, match="condition"):
        tr.Pix2Pix(g, tr.patch_discriminator((8, 8, 3), width=4))
    with pytest.raises(ModelError, match="g_ba must take"):
        tr.CycleGAN(
            tr.resnet_generator((8, 8, 3), width=4, blocks=0, name="x"),
            tr.resnet_generator((12, 12, 3), width=4, blocks=0, name="y"),
            tr.patch_discriminator((8, 8, 3), width=4, name="da"),
            tr.patch_discriminator((8, 8, 3), width=4, name="db"),
        )
    with pytest.raises(ModelError, match="different names"):
        tr.CycleGAN(
            *(tr.resnet_generator((8, 8, 3), width=4, blocks=0) for _ in range(2)),
            tr.patch_discriminator((8, 8, 3), width=4, name="da"),
            tr.patch_discriminator((8, 8, 3), width=4, name="db"),
        )
    with pytest.raises(ModelError, match="Unknown translator"):
        tr.build_translator("stargan", "colorize")
    with pytest.raises(ModelError, match="learnt by cyclegan"):
        tr.build_translator("pix2pix", "cat-dog")
    with pytest.raises(ModelError, match="l1_weight must be"):
        tiny_pix2pix().compile(l1_weight=-1)


def test_train_refuses_data_of_the_wrong_shape(tmp_path):
    model = tiny_pix2pix()
    wrong = tf.data.Dataset.from_tensors((np.zeros((4, 8, 8, 3), "float32"),) * 2)
    with pytest.raises(ModelError, match=r"shape \(8, 8, 3\) but this model translates images"):
        gc.train(model, wrong, 1, run_dir=tmp_path / "run", progress=False)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("kind", ["pix2pix", "cyclegan"])
def test_resume_continues_where_it_stopped(tmp_path, kind):
    make, batches = (
        (tiny_pix2pix, paired_batches)
        if kind == "pix2pix"
        else (
            tiny_cyclegan,
            unpaired_batches,
        )
    )
    first = make()
    gc.train(first, batches(), 2, run_dir=tmp_path / "resumed", progress=False)
    saved = weights(first.generator) + weights(first.discriminator)
    second = make()  # a fresh process builds a fresh model
    ckpt = gc.callbacks.Checkpoint(tmp_path / "resumed" / "checkpoints")
    assert ckpt.restore(second) == 2
    for a, b in zip(saved, weights(second.generator) + weights(second.discriminator)):
        np.testing.assert_array_equal(a, b)
    gc.train(second, batches(), 3, run_dir=tmp_path / "resumed", progress=False)
    assert int(second.g_optimizer.iterations) == 12  # 3 epochs of 4 batches
    for run in ("resumed",):
        rows = json.loads((tmp_path / run / "history.json").read_text())
        assert [r["epoch"] for r in rows] == [1, 2, 3]
        grids = sorted(p.name for p in (tmp_path / run / "samples").glob("*.png"))
        assert grids == [f"epoch_000{i}.png" for i in range(1, 4)]
        assert any((tmp_path / run / "tensorboard").iterdir())


def test_nan_guard_and_time_budget_watch_the_translators(tmp_path):
    grey, colour = next(iter(paired_batches(n=8)))
    poisoned = colour.numpy().copy()
    poisoned[0, 0, 0, 0] = np.nan
    bad = tf.data.Dataset.from_tensors((grey, poisoned)).repeat(4)
    model = tiny_pix2pix()
    with pytest.raises(ModelError, match="NaN"):
        model.set_preview(grey, poisoned)
    model.set_preview(grey, colour)
    with pytest.raises(gc.TrainingError, match="l1"):
        gc.train(model, bad, 2, run_dir=tmp_path / "nan", progress=False)
    assert not list((tmp_path / "nan" / "checkpoints").glob("*.index"))  # nothing saved
    model = tiny_cyclegan()
    many = unpaired_batches().repeat(50)  # 200 batches an epoch
    gc.train(model, many, 5, run_dir=tmp_path / "budget", time_budget=1e-3, progress=False)
    rows = json.loads((tmp_path / "budget" / "history.json").read_text())
    assert len(rows) == 1 and int(model.g_optimizer.iterations) == 10  # stopped after one call


def test_ema_of_the_translator_is_kept_and_used():
    model = tiny_pix2pix(ema=0.9)
    model.fit(paired_batches(), epochs=1, verbose=0)
    grey = next(iter(paired_batches()))[0]
    with_ema, without = model.translate(grey), model.translate(grey, use_ema=False)
    assert not np.allclose(with_ema, without)
    expected = keras.ops.convert_to_numpy(model.ema_generator(grey, training=False))
    np.testing.assert_allclose(with_ema, expected, atol=1e-6)
    cycle = tiny_cyclegan(ema=0.9)  # the average of both generators at once
    cycle.fit(unpaired_batches(), epochs=1, verbose=0)
    a = next(iter(unpaired_batches()))[0]
    g_ema, f_ema = cycle.translators()
    assert g_ema is not cycle.g_ab and f_ema is not cycle.g_ba
    np.testing.assert_allclose(
        cycle.translate(a), keras.ops.convert_to_numpy(g_ema(a, training=False)), atol=1e-6
    )
    assert not np.allclose(cycle.translate(a), cycle.translate(a, use_ema=False))


# ---------------------------------------------------------------- pipelines


def test_colorize_pairs_are_the_greyscale_of_the_colour_image():
    grey, colour = data.translation_examples("colorize", n=16)
    assert grey.shape == (16, 32, 32, 1) and colour.shape == (16, 32, 32, 3)
    np.testing.assert_allclose(grey, tf.image.rgb_to_grayscale(colour).numpy(), atol=1e-6)
    x = data.load_dataset("cifar10").x_test[:16]
    np.testing.assert_allclose(colour, data.to_model_range(x), atol=1e-6)  # unshuffled, in order
    batch = next(iter(data.translation_pipeline("colorize", batch_size=8, subset=64, seed=3)))
    np.testing.assert_allclose(batch[0], tf.image.rgb_to_grayscale(batch[1]).numpy(), atol=1e-6)


def test_edges_are_black_on_flat_images_and_follow_a_step():
    flat = np.full((2, 12, 12, 1), 0.3, "float32")
    np.testing.assert_array_equal(data.sobel_edges(flat).numpy(), -1.0)  # no edge anywhere
    step = -np.ones((1, 12, 12, 1), "float32")
    step[:, :, 6:] = 1.0  # black | white
    edges = data.sobel_edges(step).numpy()[0, :, :, 0]
    assert (edges[:, 5:7] == 1.0).all()  # a full step is the strongest edge
    assert (edges[:, :4] == -1.0).all() and (edges[:, 8:] == -1.0).all()
    a, b = data.translation_examples("edges", n=8)
    np.testing.assert_allclose(a, data.sobel_edges(b).numpy(), atol=1e-6)


def test_digits_on_texture_keep_the_digit_mask():
    rng = np.random.default_rng(0)
    texture = rng.uniform(-1, 1, (1, 28, 28, 3)).astype("float32")
    digit = -np.ones((1, 28, 28, 1), "float32")
    digit[:, 8:20, 12:16] = 1.0  # a "1"
    out = data.blend_digits(digit, texture).numpy()
    mask = np.broadcast_to(digit > 0, out.shape)
    np.testing.assert_allclose(out[~mask], texture[~mask], atol=1e-6)  # texture kept
    np.testing.assert_allclose(out[mask], -texture[mask], atol=1e-6)  # strokes: 1 - t on [0, 1]
    a, b = data.translation_examples("mnist-texture", n=8)
    assert a.shape == b.shape == (8, 28, 28, 3)
    np.testing.assert_array_equal(a[..., 0], a[..., 2])  # digits on black, as RGB
    assert b.std(axis=-1).mean() > 0.01  # coloured texture
    mnist = data.load_dataset("mnist").x_test
    np.testing.assert_allclose(a[..., :1], data.to_model_range(mnist[:8]), atol=1e-6)
    # the b side: digits of the *other* half of the split, blended into seeded random crops
    # of CIFAR-10 images of the same split, taken in order
    second = data.to_model_range(mnist[len(mnist) // 2 : len(mnist) // 2 + 8])
    cifar = data.to_model_range(data.load_dataset("cifar10").x_test[:8])
    crops = [tf.image.stateless_random_crop(cifar[i], (28, 28, 3), [0, i]) for i in range(8)]
    np.testing.assert_allclose(b, data.blend_digits(second, np.stack(crops)).numpy(), atol=1e-6)


def test_cat_dog_sides_are_the_two_classes():
    ds = data.load_dataset("cifar10")
    cats, dogs = data.translation_examples("cat-dog", n=4, split="test")
    x, y = ds.x_test, ds.y_test
    np.testing.assert_allclose(cats, data.to_model_range(x[y == 3][:4]), atol=1e-6)
    np.testing.assert_allclose(dogs, data.to_model_range(x[y == 5][:4]), atol=1e-6)
    batches = list(data.translation_pipeline("cat-dog", batch_size=16, subset=40))
    assert len(batches) == 40 // 16 and batches[0][0].shape == (16, 32, 32, 3)


def test_pipelines_refuse_bad_names_and_sizes():
    with pytest.raises(ConfigError, match="Unknown translation task 'paint'"):
        data.translation_pipeline("paint")
    with pytest.raises(ConfigError, match="built from cifar10, not 'mnist'"):
        data.translation_pipeline("colorize", "mnist")
    with pytest.raises(gc.UnknownDatasetError):
        data.translation_pipeline("colorize", "svhn")
    with pytest.raises(ConfigError, match="split"):
        data.translation_pipeline("colorize", split="valid")
    with pytest.raises(ConfigError, match="larger than the 10"):
        data.translation_pipeline("colorize", batch_size=64, subset=10)
    with pytest.raises(ConfigError, match="batch_size"):
        data.translation_pipeline("edges", batch_size=0)
    with pytest.raises(ConfigError, match="n must be"):
        data.translation_examples("edges", n=0)


# ---------------------------------------------------------------- metrics


def test_psnr_against_hand_values():
    a = np.zeros((2, 4, 4, 3))
    b = np.full((2, 4, 4, 3), 0.1)
    # MSE 0.01, range 2: 10 log10(4 / 0.01) = 26.02 dB
    np.testing.assert_allclose(metrics.psnr(b, a), 10 * np.log10(400.0))
    assert np.isinf(metrics.psnr(a, a)).all()
    assert metrics.psnr(np.full((1, 2, 2), 255.0), np.zeros((1, 2, 2)), 255)[0] == 0.0
    with pytest.raises(MetricError, match="references"):
        metrics.psnr(a, a[:1])
    with pytest.raises(MetricError, match="shape"):
        metrics.psnr(a, np.zeros((2, 4, 4, 1)))


def test_colourfulness_against_hand_values():
    grey = np.full((1, 4, 4, 3), 90, np.uint8)
    assert metrics.colourfulness(grey)[0] == 0.0
    half_red = np.zeros((1, 2, 2, 3), np.uint8)
    half_red[0, 0, :, 0] = 255
    # rg: 255 or 0 (mean 127.5, std 127.5); yb: 127.5 or 0 (mean 63.75, std 63.75)
    expected = 1.3 * np.hypot(127.5, 63.75)
    np.testing.assert_allclose(metrics.colourfulness(half_red), [expected])
    as_float = half_red.astype("float32") / 127.5 - 1.0  # the models' range
    np.testing.assert_allclose(metrics.colourfulness(as_float), [expected], rtol=1e-5)
    with pytest.raises(MetricError, match="RGB"):
        metrics.colourfulness(np.zeros((1, 4, 4, 1)))


# ---------------------------------------------------------------- run configs and CLI


def test_run_config_checks_the_translator_options():
    cfg = RunConfig(model="pix2pix", task="colorize", dataset="cifar10", skips=False)
    assert cfg.image_shape == (32, 32, 3)
    with pytest.raises(ConfigError, match="needs a --task: colorize, edges"):
        RunConfig(model="pix2pix", dataset="cifar10")
    with pytest.raises(ConfigError, match="learnt by --model cyclegan"):
        RunConfig(model="pix2pix", task="cat-dog", dataset="cifar10")
    with pytest.raises(ConfigError, match="--task is an option of --model pix2pix and cyclegan"):
        RunConfig(model="dcgan", task="colorize")
    with pytest.raises(ConfigError, match="--cycle-weight is an option of --model cyclegan"):
        RunConfig(model="pix2pix", task="colorize", dataset="cifar10", cycle_weight=3.0)
    with pytest.raises(ConfigError, match="--spectral-norm is an option of the GANs"):
        RunConfig(model="cyclegan", task="cat-dog", dataset="cifar10", spectral_norm=True)
    with pytest.raises(ConfigError, match="--l1-weight must be a weight"):
        RunConfig(model="pix2pix", task="edges", l1_weight=-1.0)
    with pytest.raises(ConfigError, match="nothing to learn"):
        RunConfig(model="pix2pix", task="edges", l1_weight=0.0, gan_weight=0.0)
    with pytest.raises(ModelError, match="translation.translator_from_config"):
        gc.training.gan_from_config(cfg)


def test_cli_trains_a_translator_and_resumes(tmp_path, capsys):
    out = tmp_path / "edges"
    args = ["train", "--model", "pix2pix", "--task", "edges", "--subset", "64"]
    args += ["--batch-size", "32", "--out", str(out)]
    assert cli.main(args + ["--epochs", "1"]) == 0
    assert cli.main(args + ["--epochs", "2"]) == 0
    printed = capsys.readouterr().out
    assert "Resuming training at epoch 2" in printed
    config = json.loads((out / "config.json").read_text())
    assert config["task"] == "edges" and config["dataset"] == "fashion_mnist"
    model, cfg, epoch = translation.load_run(out)
    assert epoch == 2 and isinstance(model, tr.Pix2Pix)
    assert model.preview is None  # rebuilt: nothing but the weights
    assert sorted(p.name for p in (out / "samples").glob("*.png")) == [
        "epoch_0001.png",
        "epoch_0002.png",
    ]
    with pytest.raises(ModelError, match="image-to-image translator"):
        gc.training.load_run(out)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--model", "cyclegan", "--task", "colorize"], "learnt by --model pix2pix"),
        (["--model", "pix2pix"], "needs a --task"),
        (["--model", "pix2pix", "--task", "edges", "--dataset", "cifar10"], "built from"),
        (["--model", "cyclegan", "--task", "cat-dog", "--latent-dim", "8"], "--latent-dim is"),
        (["--model", "dcgan", "--no-skips"], "--no-skips is an option of --model pix2pix"),
    ],
)
def test_cli_refuses_bad_translator_options(tmp_path, capsys, args, message):
    assert cli.main(["train", *args, "--out", str(tmp_path / "run")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


MIRRORED = """
import json, sys
import numpy as np
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
sys.path.insert(0, "tests")
import gancourse as gc
import test_translation as t
strategy = gc.make_strategy("mirrored")
out = {"replicas": strategy.num_replicas_in_sync}
for name, make, batches in (("pix2pix", t.tiny_pix2pix, t.paired_batches),
                            ("cyclegan", t.tiny_cyclegan, t.unpaired_batches)):
    with strategy.scope():
        model = make()
    history = gc.train(model, batches(), 1, run_dir=sys.argv[1] + "/" + name, progress=False)
    out[name] = {
        "steps": int(model.g_optimizer.iterations.numpy()),
        "finite": all(np.isfinite(v[-1]) for v in history.history.values()),
    }
print(json.dumps(out))
"""


def test_both_translators_train_on_two_mirrored_replicas(tmp_path):
    """tf.distribute as for the GANs: the CPU split into two logical devices (in a fresh
    Python: the split must come before TensorFlow sets up its devices)."""
    root = Path(__file__).resolve().parent.parent
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])
    )
    done = subprocess.run(
        [sys.executable, "-c", MIRRORED, str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=root,
        env=env,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["replicas"] == 2
    for name in ("pix2pix", "cyclegan"):
        assert result[name] == {"steps": 4, "finite": True}, name
    assert (tmp_path / "cyclegan" / "samples" / "epoch_0001.png").is_file()
