"""Every self-check accepts the right answer, says "not done yet" to the untouched stub, and
rejects the plausible wrong answers, each with a hint that names the slip. The notebooks'
solution cells pass their checks and never overwrite the learner's answer."""

import ast
import json
import math
import types
from pathlib import Path

import numpy as np
import pytest

from gancourse import config, data, models
from gancourse import exercises as ex

config.quiet_tensorflow()
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def rejected(check, wrong, hint, capsys):
    """``check`` fails ``wrong`` (a tuple of arguments, or one argument) with ``hint`` printed."""
    capsys.readouterr()
    assert not check(*(wrong if isinstance(wrong, tuple) else (wrong,)))
    out = capsys.readouterr().out
    assert "Not yet" in out and hint in out, out


def accepted(check, *args):
    assert check(*args)


def stub(*args):
    raise NotImplementedError


@pytest.mark.parametrize(
    "check, args",
    [
        (ex.check_normalise, (stub,)),
        (ex.check_normalise, (lambda x: None,)),
        (ex.check_class_balance, (...,)),
        (ex.check_optimal_discriminator, (stub,)),
        (ex.check_value_at_equilibrium, (...,)),
        (ex.check_smoothed_targets, (stub,)),
        (ex.check_train_step, (stub,)),
        (ex.check_param_count, (..., None)),
        (ex.check_up_block, (stub,)),
        (ex.check_deeper_generator, (...,)),
        (ex.check_dcgan_discriminator, (stub,)),
        (ex.check_critic_loss, (stub,)),
        (ex.check_weight_clipping, (stub,)),
        (ex.check_gradient_penalty, (stub,)),
        (ex.check_grid_labels, (stub,)),
        (ex.check_noise_times_label, (stub,)),
        (ex.check_label_conditioning, (stub,)),
        (ex.check_start_sizes, (..., ...)),
        (ex.check_ema_update, (stub,)),
        (ex.check_pipeline, (stub,)),
        (ex.check_slerp, (stub,)),
        (ex.check_truncation, (stub,)),
        (ex.check_frechet_1d, (stub,)),
        (ex.check_kid, (stub,)),
        (ex.check_frechet_distance, (stub,)),
        (ex.check_hinge_losses, (stub, stub)),
        (ex.check_r1_penalty, (stub,)),
        (ex.check_minibatch_std, (stub,)),
        (ex.check_color_augment, (stub,)),
        (ex.check_unet_skip, (stub,)),
        (ex.check_receptive_field, (stub,)),
        (ex.check_receptive_field, (...,)),
        (ex.check_pix2pix_generator_loss, (stub,)),
        (ex.check_cycle_loss, (stub,)),
        (ex.check_identity_loss, (stub,)),
        (ex.check_lsgan_losses, (stub, stub)),
        (ex.check_mapping_network, (stub,)),
        (ex.check_adain, (stub,)),
        (ex.check_demodulation, (stub,)),
        (ex.check_noise_injection, (stub,)),
        (ex.check_truncation_w, (stub,)),
    ],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_an_untouched_stub_is_not_done_yet(check, args, capsys):
    assert check(*args) is False
    out = capsys.readouterr().out
    assert out.startswith("⏳ Not done yet") and "Not yet" not in out


def test_a_crash_is_feedback(capsys):
    rejected(ex.check_critic_loss, lambda r, f: 1 / 0, "ZeroDivisionError", capsys)


# ---------------------------------------------------------------- 00, 01


def normalise(x, colour_axis=True, scale=127.5, shift=1.0, dtype="float32", first=False):
    y = (x.astype(dtype) / scale - shift).astype(dtype)
    if first:
        return y[:, None]
    return y[..., None] if (x.ndim == 3 or not colour_axis) else y


def test_normalise(capsys):
    accepted(ex.check_normalise, normalise)
    accepted(ex.check_normalise, lambda x: data.to_model_range(x))
    for wrong, hint in [
        (lambda x: normalise(x, colour_axis=False), "already has its channel axis"),
        (lambda x: normalise(x, scale=255.0, shift=0.0), "[0, 1]"),
        (lambda x: normalise(x, scale=128.0), "0 must map to -1 and 255 to +1"),
        (lambda x: normalise(x, dtype="float64"), "expected float32"),
        (lambda x: normalise(x, first=True), "channels-last"),
        (lambda x: x / 127.5 - 1, "expected (2, 3, 5, 1)"),
    ]:
        rejected(ex.check_normalise, wrong, hint, capsys)


def test_class_balance(monkeypatch, capsys):
    y = data.load_dataset("fashion_mnist").y_train
    counts = np.bincount(y)
    assert counts.min() == counts.max()  # the test data is balanced, like the real set
    accepted(ex.check_class_balance, int(counts[0]), "fashion_mnist")
    rejected(ex.check_class_balance, (int(counts[0]) + 1, "fashion_mnist"), "np.bincount", capsys)
    rejected(ex.check_class_balance, (len(y), "fashion_mnist"), "whole training set", capsys)
    rejected(ex.check_class_balance, ("many", "fashion_mnist"), "one number", capsys)
    # on unbalanced data no single count is right, and the check says so
    unbalanced = types.SimpleNamespace(y_train=np.array([0, 0, 1], np.uint8))
    monkeypatch.setattr(data, "load_dataset", lambda name: unbalanced)
    rejected(ex.check_class_balance, (2, "fashion_mnist"), "not balanced", capsys)


def test_optimal_discriminator(capsys):
    def safe(p, q):
        total = p + q
        return np.divide(p, total, out=np.full_like(total, 0.5, dtype=float), where=total > 0)

    accepted(ex.check_optimal_discriminator, safe)
    accepted(ex.check_optimal_discriminator, lambda p, q: p / (p + q + 1e-300))
    for wrong, hint in [
        (lambda p, q: p / (p + q), "(0 / 0)"),  # the 0/0 case, untested before
        (lambda p, q: q / (p + q + 1e-300), "p_g / (p_data + p_g)"),
        (lambda p, q: p / (q + 1e-300), "divide by the sum"),
        (lambda p, q: np.where(p + q > 0, p / (p + q + 1e-300), 2.0), "in [0, 1]"),
        (lambda p, q: np.full_like(p, 0.5), "expected [0.5, 1.0, 0.0, 0.75]"),
        (lambda p, q: (p / (p + q + 1e-300))[:3], "one value per point"),
    ]:
        rejected(ex.check_optimal_discriminator, wrong, hint, capsys)


def test_value_at_equilibrium(capsys):
    accepted(ex.check_value_at_equilibrium, -math.log(4))
    rejected(ex.check_value_at_equilibrium, math.log(4), "the sign", capsys)
    rejected(ex.check_value_at_equilibrium, -math.log(2), "two terms", capsys)
    rejected(ex.check_value_at_equilibrium, 0, "D* = 1/2", capsys)


# ---------------------------------------------------------------- 02


def test_smoothed_targets(capsys):
    accepted(ex.check_smoothed_targets, lambda n, s: np.full((n, 1), 1 - s))
    for wrong, hint in [
        (lambda n, s: np.ones(n), "1 - 0.1"),
        (lambda n, s: np.full(n, s), "not the smoothing itself"),
        (lambda n, s: np.full(n, 0.9), "use the arguments"),
        (lambda n, s: np.full(2 * n, 1 - s), "one target per real image"),
        (lambda n, s: np.random.default_rng(0).uniform(1 - s, 1, n), "not noise"),
    ]:
        rejected(ex.check_smoothed_targets, wrong, hint, capsys)


def test_param_count(capsys):
    d = models.mlp_discriminator()
    total = (784 * 512 + 512) + (512 * 256 + 256) + (256 + 1)
    accepted(ex.check_param_count, total, d)
    rejected(
        ex.check_param_count, (784 * 512 + 512 * 256 + 256, d), "leaves out the biases", capsys
    )
    rejected(ex.check_param_count, (total + 1, d), "too many", capsys)
    g = models.scenario_models("weak-g")[0]
    accepted(ex.check_param_count, 84_968, g)
    rejected(ex.check_param_count, (83_384, g), "BatchNormalization has 4", capsys)


def _train_step(
    g_loss="non-saturating", swap_targets=False, step_g=True, order="together", d_mean=False
):
    bce = keras.losses.BinaryCrossentropy(from_logits=True)

    def losses_of(generator, discriminator, real, z):
        fake = generator(z, training=True)
        real_logits = discriminator(real, training=True)
        fake_logits = discriminator(fake, training=True)
        one, zero = tf.ones_like(real_logits), tf.zeros_like(fake_logits)
        if swap_targets:
            one, zero = zero, one
        d_loss = bce(one, real_logits) + bce(zero, fake_logits)
        if d_mean:
            d_loss = d_loss / 2
        if g_loss == "minimax":
            gl = -bce(tf.zeros_like(fake_logits), fake_logits)
        else:
            gl = bce(tf.ones_like(fake_logits), fake_logits)
        return d_loss, gl

    def step(generator, discriminator, g_opt, d_opt, real, z):
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            d_loss, gl = losses_of(generator, discriminator, real, z)
        d_grads = d_tape.gradient(d_loss, discriminator.trainable_variables)
        d_opt.apply_gradients(zip(d_grads, discriminator.trainable_variables))
        if order == "d-first":  # new fakes of the same z, scored by the updated D
            with tf.GradientTape() as g_tape:
                _, gl = losses_of(generator, discriminator, real, z)
        if order == "new-noise":
            with tf.GradientTape() as g_tape:
                _, gl = losses_of(generator, discriminator, real, tf.random.normal(z.shape))
        if step_g:
            g_grads = g_tape.gradient(gl, generator.trainable_variables)
            g_opt.apply_gradients(zip(g_grads, generator.trainable_variables))
        return d_loss, gl

    return step


def test_train_step(capsys):
    capsys.readouterr()
    accepted(ex.check_train_step, _train_step())
    assert "one forward pass" in capsys.readouterr().out
    accepted(ex.check_train_step, _train_step(order="d-first"))  # the other common order
    assert "D's update first" in capsys.readouterr().out
    for wrong, hint in [
        (_train_step(g_loss="minimax"), "minimax (saturating)"),
        (_train_step(swap_targets=True), "targets are 1 for real"),
        (_train_step(d_mean=True), "do not average them"),
        (_train_step(step_g=False), "the generator did not move"),
        (_train_step(order="new-noise"), "from the z you are given"),
    ]:
        rejected(ex.check_train_step, wrong, hint, capsys)
    rejected(ex.check_train_step, lambda *a: 1.0, "return the two losses", capsys)


# ---------------------------------------------------------------- 03


def _up_block(strides=2, padding="same", bias=False, bn=True, act="relu", kernel=4, order="bn"):
    def block(x):
        h = keras.layers.Conv2DTranspose(
            64, kernel, strides=strides, padding=padding, use_bias=bias
        )(x)
        if order == "relu-first":
            return keras.layers.BatchNormalization()(keras.layers.ReLU()(h))
        if bn:
            h = keras.layers.BatchNormalization()(h)
        return keras.layers.ReLU()(h) if act == "relu" else keras.layers.LeakyReLU(0.2)(h)

    return block


def test_up_block(capsys):
    accepted(ex.check_up_block, _up_block())
    for wrong, hint in [
        (_up_block(strides=1), "double the side"),
        (_up_block(padding="valid"), "padding='same'"),
        (_up_block(bias=True), "use_bias=False"),
        (_up_block(bn=False), "BatchNormalization after the transposed convolution is missing"),
        (_up_block(kernel=3), "kernel_size=4"),
        (_up_block(act="leaky"), "end with ReLU"),
        (_up_block(order="relu-first"), "then BatchNormalization, then ReLU"),
    ]:
        rejected(ex.check_up_block, wrong, hint, capsys)


def test_deeper_generator(capsys):
    accepted(ex.check_deeper_generator, models.dcgan_generator(extra_layers=1))
    rejected(
        ex.check_deeper_generator, models.dcgan_generator(), "no more than the default", capsys
    )
    rejected(
        ex.check_deeper_generator,
        models.dcgan_generator(image_shape=(32, 32, 1), extra_layers=1),
        "must stay (28, 28, 1)",
        capsys,
    )
    no_tanh = models.dcgan_generator(extra_layers=1)
    no_tanh.layers[-1].activation = keras.activations.linear
    no_tanh.set_weights([w * 50 for w in no_tanh.get_weights()])
    rejected(ex.check_deeper_generator, no_tanh, "keep tanh", capsys)
    rejected(ex.check_deeper_generator, "a model", "give a Keras model", capsys)


def _discriminator(bn=True, strides=2, sigmoid=False, slope=0.2):
    from keras import layers

    def build():
        x = keras.Input((28, 28, 1))
        h = layers.Conv2D(64, 4, strides=strides, padding="same")(x)
        h = layers.LeakyReLU(negative_slope=slope)(h)
        h = layers.Conv2D(128, 4, strides=strides, padding="same")(h)
        if bn:
            h = layers.BatchNormalization()(h)
        h = layers.LeakyReLU(negative_slope=slope)(h)
        h = layers.Dense(1, activation="sigmoid" if sigmoid else None)(layers.Flatten()(h))
        return keras.Model(x, h)

    return build


def test_dcgan_discriminator(capsys):
    accepted(ex.check_dcgan_discriminator, _discriminator())
    for wrong, hint in [
        (_discriminator(bn=False), "BatchNormalization after the second convolution is missing"),
        (_discriminator(strides=1), "strides=2 and padding='same'"),
        (_discriminator(sigmoid=True), "leave out the sigmoid"),
        (_discriminator(slope=0.3), "LeakyReLU(negative_slope=0.2)"),
        (lambda: "a model", "return a keras.Model"),
    ]:
        rejected(ex.check_dcgan_discriminator, wrong, hint, capsys)


# ---------------------------------------------------------------- 04


def test_critic_loss(capsys):
    accepted(ex.check_critic_loss, lambda r, f: np.mean(f) - np.mean(r))
    for wrong, hint in [
        (lambda r, f: np.mean(r) - np.mean(f), "*maximises*"),
        (lambda r, f: np.sum(f) - np.sum(r), "do not sum"),
        (lambda r, f: np.mean(f), "expected mean(fake_scores) - mean(real_scores)"),
    ]:
        rejected(ex.check_critic_loss, wrong, hint, capsys)


def _clip(kind="right"):
    def clip(critic, c):
        variables = critic.weights if kind == "all" else critic.trainable_variables
        for v in variables:
            if kind == "kernels" and "bias" in v.path:
                continue
            if kind == "positive":
                v.assign(tf.clip_by_value(v, 0.0, c))
            elif kind == "fixed":
                v.assign(tf.clip_by_value(v, -0.01, 0.01))
            elif kind == "rescale":
                v.assign(v * c / tf.reduce_max(tf.abs(v)))
            elif kind == "no-assign":
                tf.clip_by_value(v, -c, c)
            else:
                v.assign(tf.clip_by_value(v, -c, c))

    return clip


def test_weight_clipping(capsys):
    accepted(ex.check_weight_clipping, _clip())
    for kind, hint in [
        ("all", "moving statistics"),
        ("kernels", "biases too"),
        ("positive", "not [0, 0.03]"),
        ("fixed", "use the clip_value you are given"),
        ("rescale", "you rescaled"),
        ("no-assign", "assign the clipped values"),
    ]:
        rejected(ex.check_weight_clipping, _clip(kind), hint, capsys)


def _penalty(
    alpha="uniform", eps=1e-12, square=True, squared_norm=False, mix="right", reduce="sum"
):
    def penalty(critic, real, fake):
        n = tf.shape(real)[0]
        shape = {"per-pixel": tf.shape(real), "batch": (1, 1, 1, 1)}.get(alpha, (n, 1, 1, 1))
        a = tf.random.normal(shape) if alpha == "normal" else tf.random.uniform(shape)
        if mix == "alpha-fake":
            x_hat = a * real + a * fake
        elif mix == "real-twice":
            x_hat = a * real + (1 - a) * real * 0.5
        else:
            x_hat = a * real + (1 - a) * fake
        with tf.GradientTape() as tape:
            tape.watch(x_hat)
            scores = critic(x_hat, training=True)
        grads = tape.gradient(scores, x_hat)
        if reduce == "batch":
            sq = tf.reduce_sum(tf.square(grads))
        elif reduce == "mean":
            sq = tf.reduce_mean(tf.square(grads), axis=[1, 2, 3])
        else:
            sq = tf.reduce_sum(tf.square(grads), axis=[1, 2, 3])
        norm = sq if squared_norm else tf.sqrt(sq + eps) if eps else tf.sqrt(sq)
        gap = norm - 1.0
        return tf.reduce_mean(tf.square(gap) if square else tf.abs(gap))

    return penalty


def test_gradient_penalty(capsys):
    from gancourse import losses

    keras.utils.set_random_seed(0)
    accepted(ex.check_gradient_penalty, _penalty())
    accepted(ex.check_gradient_penalty, lambda c, r, f: losses.gradient_penalty(c, r, f))
    for wrong, hint in [
        (_penalty(alpha="batch"), "not one for the whole batch"),  # passed when fake was 0
        (_penalty(mix="alpha-fake"), "(1 - alpha) * fake"),  # passed when fake was 0
        (_penalty(mix="real-twice"), "(1 - alpha) * fake"),
        (_penalty(alpha="normal"), "uniform in"),
        (_penalty(alpha="per-pixel"), "one alpha per image"),
        (_penalty(square=False), "square the difference"),
        (_penalty(squared_norm=True), "not its square"),
        (_penalty(reduce="mean"), "not their mean"),
        (_penalty(reduce="batch"), "not one for the whole batch"),
        (lambda c, r, f: 10 * _penalty()(c, r, f), "lambda = 10"),
        (_penalty(eps=0), "sqrt(sum(grad^2) + 1e-12)"),
        (lambda c, r, f: tf.reduce_mean(c(r)), "at the interpolates x_hat"),
        (tf.function(_penalty()), "never called on a batch of interpolates"),
    ]:
        rejected(ex.check_gradient_penalty, wrong, hint, capsys)


# ---------------------------------------------------------------- 05


def test_grid_labels(capsys):
    accepted(ex.check_grid_labels, lambda c, n: np.repeat(np.arange(c), n))
    accepted(ex.check_grid_labels, lambda c, n: np.arange(c * n).reshape(c, n) // n)
    for wrong, hint in [
        (lambda c, n: np.tile(np.arange(c), n), "np.repeat"),
        (lambda c, n: np.repeat(np.arange(1, c + 1), n), "count from 0"),
        (lambda c, n: np.array([0, 0, 1, 1, 2, 2]), "expected [0, 0, 0, 1, 1, 1"),
    ]:
        rejected(ex.check_grid_labels, wrong, hint, capsys)


def _noise_times_label(mode="right"):
    def condition(z, labels, embedding):
        e = embedding(labels)
        flat = keras.ops.reshape(e, (-1, e.shape[-1]))
        if mode == "add":
            return z + flat
        if mode == "concat":
            return keras.ops.concatenate([z, flat], axis=-1)
        if mode == "no-flatten":
            return z[:, None, :] * e
        return z * flat

    return condition


def test_noise_times_label(capsys):
    accepted(ex.check_noise_times_label, _noise_times_label())
    for mode, hint in [
        ("add", "do not add it"),
        ("concat", "do not concatenate"),
        ("no-flatten", "flatten the embedding"),
    ]:
        rejected(ex.check_noise_times_label, _noise_times_label(mode), hint, capsys)
    rejected(ex.check_noise_times_label, lambda z, lab, e: z * 2, "z * flatten", capsys)


def test_label_conditioning(capsys):
    def condition(images, labels, embedding, dense, mode="right"):
        plane = keras.ops.reshape(
            dense(keras.ops.reshape(embedding(labels), (-1, 50))), (-1, 28, 28, 1)
        )
        if mode == "add":
            return images + plane
        if mode == "swap":
            return keras.ops.concatenate([plane, images], axis=-1)
        if mode == "axis":
            return keras.ops.concatenate([images, plane], axis=1)
        return keras.ops.concatenate([images, plane], axis=-1)

    accepted(ex.check_label_conditioning, condition)
    for mode, hint in [
        ("add", "along the channel axis"),
        ("swap", "image must come first"),
        ("axis", "along the channel axis"),
    ]:
        rejected(
            ex.check_label_conditioning, lambda *a, m=mode: condition(*a, mode=m), hint, capsys
        )
    rejected(
        ex.check_label_conditioning,
        lambda i, lab, e, d: keras.ops.concatenate(
            [i, keras.ops.ones_like(i) * keras.ops.cast(lab[:, :, None, None], "float32")], -1
        ),
        "label's plane is not",
        capsys,
    )


# ---------------------------------------------------------------- 06


def test_start_sizes(capsys):
    accepted(ex.check_start_sizes, 8, 8)
    rejected(ex.check_start_sizes, (16, 32), "one upsampling each", capsys)
    rejected(ex.check_start_sizes, (7, 8), "divide by 2 per upsampling", capsys)


def _ema(kind="right"):
    def update(ema_model, model, decay):
        pairs = zip(
            ema_model.trainable_weights if kind == "trainable" else ema_model.weights,
            model.trainable_weights if kind == "trainable" else model.weights,
        )
        for e, w in pairs:
            if kind == "swapped":
                e.assign(decay * w + (1 - decay) * e)
            elif kind == "copy":
                e.assign(w)
            elif kind == "no-assign":
                _ = decay * e + (1 - decay) * w
            elif kind == "wrong-model":
                w.assign(decay * e + (1 - decay) * w)
            else:
                e.assign(decay * e + (1 - decay) * w)

    return update


def test_ema_update(capsys):
    accepted(ex.check_ema_update, _ema())
    for kind, hint in [
        ("swapped", "are swapped"),
        ("copy", "copies the weights"),
        ("no-assign", "did not change"),
        ("trainable", "moving mean and variance"),
        ("wrong-model", "the generator itself changed"),
    ]:
        rejected(ex.check_ema_update, _ema(kind), hint, capsys)


def _pipeline(
    scale="right", drop=True, shuffle="before", reshuffle=True, buffer=None, repeat=False
):
    def build(images, batch_size):
        ds = tf.data.Dataset.from_tensor_slices(images)
        if scale == "right":
            ds = ds.map(lambda x: tf.cast(x, tf.float32) / 127.5 - 1.0)
        elif scale == "unit":
            ds = ds.map(lambda x: tf.cast(x, tf.float32) / 255.0)
        ds = ds.cache()
        size = buffer or len(images)
        if shuffle == "before":
            ds = ds.shuffle(size, reshuffle_each_iteration=reshuffle)
        ds = ds.batch(batch_size, drop_remainder=drop)
        if shuffle == "after":
            ds = ds.shuffle(size, reshuffle_each_iteration=reshuffle)
        if repeat:
            ds = ds.repeat()
        return ds.prefetch(tf.data.AUTOTUNE)

    return build


def test_pipeline(capsys):
    accepted(ex.check_pipeline, _pipeline())
    for wrong, hint in [
        (_pipeline(shuffle="after"), "you shuffled the batches, not the images"),
        (_pipeline(buffer=8), "shuffle buffer is too small"),
        (_pipeline(drop=False), "drop the last, incomplete batch"),
        (_pipeline(scale="unit"), "[0, 1]"),
        (_pipeline(scale="none"), "cast to float32"),
        (_pipeline(shuffle=None), "shuffle before batching"),
        (_pipeline(reshuffle=False), "both epochs start with the same batch"),
        (_pipeline(repeat=True), "never ends"),
        (lambda images, n: images, "return a tf.data.Dataset"),
    ]:
        rejected(ex.check_pipeline, wrong, hint, capsys)
    # shuffling after batching passed most of the time before: now it never does
    for _ in range(5):
        rejected(ex.check_pipeline, _pipeline(shuffle="after"), "not the images", capsys)


# ---------------------------------------------------------------- 07


def test_slerp(capsys):
    from gancourse.widgets import lerp, slerp

    def classic(z0, z1, t, normalise=True):
        dot = np.dot(z0, z1) / (np.linalg.norm(z0) * np.linalg.norm(z1) if normalise else 1)
        w = np.arccos(dot)
        return (np.sin((1 - t) * w) * z0 + np.sin(t * w) * z1) / np.sin(w)

    accepted(ex.check_slerp, classic)
    accepted(ex.check_slerp, slerp)
    for wrong, hint in [
        (lerp, "straight line (lerp)"),
        (lambda z0, z1, t: z0, "t = 1 must give z1"),
        (lambda z0, z1, t: classic(z0, z1, 1 - t), "t = 0 must give z0"),
        (lambda z0, z1, t: classic(z0, z1, t, normalise=False), "*normalised* dot product"),
        (lambda z0, z1, t: classic(z0, z1, t**2), "the path is not"),
    ]:
        rejected(ex.check_slerp, wrong, hint, capsys)


def _truncate(kind="right"):
    def truncate(z, t, rng):
        z = z.copy()
        outside = np.abs(z) > t
        if kind == "clip":
            return np.clip(z, -t, t)
        if kind == "zero":
            z[outside] = 0
            return z
        if kind == "rescale":
            return z * t / np.abs(z).max()
        if kind == "once":
            z[outside] = rng.standard_normal(outside.sum())
            return z
        if kind == "scalar":
            z[outside] = rng.uniform(-t, t)
            return z
        while outside.any():
            if kind == "uniform":
                z[outside] = rng.uniform(-t, t, outside.sum())
            else:
                z[outside] = rng.standard_normal(outside.sum())
            outside = np.abs(z) > t
        return z

    return truncate


def test_truncation(capsys):
    accepted(ex.check_truncation, _truncate())
    for kind, hint in [
        ("clip", "clipping piles"),
        ("zero", "setting them to 0"),
        ("rescale", "keep the entries already inside"),
        ("once", "redraw until none is"),
        ("scalar", "one fresh draw per entry"),
        ("uniform", "not from a uniform"),
    ]:
        rejected(ex.check_truncation, _truncate(kind), hint, capsys)
    rejected(ex.check_truncation, lambda z, t, rng: z[:10], "return z's shape", capsys)


# ---------------------------------------------------------------- 08


def test_frechet_1d(capsys):
    accepted(ex.check_frechet_1d, lambda m1, s1, m2, s2: (m1 - m2) ** 2 + (s1 - s2) ** 2)
    for wrong, hint in [
        (lambda m1, s1, m2, s2: (m1 - m2) ** 2 + s1 + s2 - 2 * np.sqrt(s1 * s2), "not variances"),
        (
            lambda m1, s1, m2, s2: abs(m1 - m2) + (s1 - s2) ** 2,
            "square the difference of the means",
        ),
        (lambda m1, s1, m2, s2: (m1 - m2) ** 2, "FID's formula in 1-D"),
    ]:
        rejected(ex.check_frechet_1d, wrong, hint, capsys)


def _kid(unbiased=True, divide=True, power=3, cross=2.0, pairs="right"):
    def mmd(x, y):
        m, n, d = len(x), len(y), x.shape[1]
        k = lambda a, b: (a @ b.T / (d if divide else 1) + 1) ** power  # noqa: E731
        kxx, kyy, kxy = k(x, x), k(y, y), k(x, y)
        if unbiased:
            px, py = (m * (m - 1), n * (n - 1)) if pairs == "right" else (m * m, n * n)
            wx, wy = (kxx.sum() - np.trace(kxx)) / px, (kyy.sum() - np.trace(kyy)) / py
        else:
            wx, wy = kxx.mean(), kyy.mean()
        return wx + wy - cross * kxy.mean()

    return mmd


def test_kid(capsys):
    from gancourse.metrics import polynomial_mmd2

    accepted(ex.check_kid, _kid())
    accepted(ex.check_kid, polynomial_mmd2)
    for wrong, hint in [
        (_kid(unbiased=False), "leave out the diagonal"),
        (_kid(divide=False), "feature size d"),
        (_kid(power=2), "is cubed"),
        (_kid(cross=1.0), "counts twice"),
        (_kid(pairs="m2"), "m (m - 1) pairs"),
        (lambda x, y: polynomial_mmd2(y[:20], x[:20]), "E k(x, x') + E k(y, y') - 2 E k(x, y)"),
    ]:
        rejected(ex.check_kid, wrong, hint, capsys)


def _fid(elementwise=False, rows=True, ddof=1, trace_first=False, squared_means=True):
    def fid(f1, f2):
        if not rows:
            f1, f2 = f1.T, f2.T
        m1, m2 = f1.mean(0), f2.mean(0)
        s1, s2 = np.cov(f1, rowvar=False, ddof=ddof), np.cov(f2, rowvar=False, ddof=ddof)
        if elementwise:
            tr = np.trace(np.sqrt(np.abs(s1 @ s2)))
        elif trace_first:
            tr = np.sqrt(np.trace(s1 @ s2))
        else:  # NumPy only: Tr((S1 S2)^(1/2)) from the eigenvalues of S1 S2
            tr = np.sqrt(np.clip(np.linalg.eigvals(s1 @ s2).real, 0, None)).sum()
        means = ((m1 - m2) ** 2).sum() if squared_means else np.linalg.norm(m1 - m2)
        return means + np.trace(s1 + s2) - 2 * tr

    return fid


def test_frechet_distance(capsys):
    accepted(ex.check_frechet_distance, _fid())
    for wrong, hint in [
        (_fid(elementwise=True), "matrix square root"),
        (_fid(rows=False), "rowvar=False"),
        (_fid(ddof=0), "divides by n - 1"),
        (_fid(trace_first=True), "not of the trace"),
        (_fid(squared_means=False), "squared distance |m1 - m2|^2"),
        (lambda a, b: float(((a.mean(0) - b.mean(0)) ** 2).sum()), "Tr((S1 S2)^(1/2))"),
    ]:
        rejected(ex.check_frechet_distance, wrong, hint, capsys)


# ---------------------------------------------------------------- 09


def test_hinge_losses(capsys):
    relu = lambda v: np.maximum(0, v)  # noqa: E731
    right_d = lambda r, f: relu(1 - r).mean() + relu(1 + f).mean()  # noqa: E731
    right_g = lambda f: -f.mean()  # noqa: E731
    accepted(ex.check_hinge_losses, right_d, right_g)
    for wrong, hint in [
        ((lambda r, f: relu(-r).mean() + relu(f).mean(), right_g), "margin is missing"),
        ((lambda r, f: relu(1 - r).sum() + relu(1 + f).sum(), right_g), "do not sum"),
        ((lambda r, f: relu(1 + r).mean() + relu(1 - f).mean(), right_g), "signs are swapped"),
        ((right_d, lambda f: f.mean()), "minus the mean score"),
        ((right_d, lambda f: relu(1 - f).mean()), "has no max"),
    ]:
        rejected(ex.check_hinge_losses, wrong, hint, capsys)


def _r1(squared=True, per_image=True, batch="mean", factor=1.0):
    def r1(d, real):
        real = tf.constant(real)
        with tf.GradientTape() as tape:
            tape.watch(real)
            out = tf.reduce_sum(d(real, training=True))
        g = tape.gradient(out, real)
        reduce = tf.reduce_sum if per_image else tf.reduce_mean
        sq = reduce(g**2, axis=[1, 2, 3])
        per = sq if squared else tf.sqrt(sq)
        return factor * (tf.reduce_mean(per) if batch == "mean" else tf.reduce_sum(per))

    return r1


def test_r1_penalty(capsys):
    accepted(ex.check_r1_penalty, _r1())
    for wrong, hint in [
        (_r1(squared=False), "*squared* norm"),
        (_r1(per_image=False), "averaged over pixels"),
        (_r1(batch="sum"), "do not sum over it"),
        (_r1(factor=0.5), "gamma / 2"),
        (lambda d, real: 1.0, "differentiate D's output"),
    ]:
        rejected(ex.check_r1_penalty, wrong, hint, capsys)


def _mbstd(axis=0, variance=False, average=True, where="last", whole=False):
    def mbstd(x):
        if whole:
            s = np.full(x.shape[:-1] + (1,), x.std())
        else:
            spread = (
                x.var(axis=axis, keepdims=True) if variance else x.std(axis=axis, keepdims=True)
            )
            spread = np.broadcast_to(spread, x.shape)
            s = np.full(x.shape[:-1] + (1,), spread.mean()) if average else spread
        if axis != 0 and average:  # per image: a different number in each image's channel
            s = np.broadcast_to(x.std(axis=(1, 2, 3), keepdims=True), x.shape[:-1] + (1,))
        parts = [x, s] if where == "last" else [s, x]
        return np.concatenate(parts, axis=-1)

    return mbstd


def test_minibatch_std(capsys):
    from gancourse.models import MinibatchStdDev

    accepted(ex.check_minibatch_std, _mbstd())
    accepted(ex.check_minibatch_std, lambda x: MinibatchStdDev()(x))
    for wrong, hint in [
        (_mbstd(axis=-1), "across images, not within one image"),
        (_mbstd(variance=True), "not the variance"),
        (_mbstd(average=False), "average the standard deviations to a single number"),
        (_mbstd(where="first"), "*last* channel"),
        (_mbstd(whole=True), "not one std of everything"),
        (lambda x: x, "one extra channel (concatenate on axis -1)"),
    ]:
        rejected(ex.check_minibatch_std, wrong, hint, capsys)


def _colour(b_mul=False, sat_axes=(3,), con_axes=(1, 2, 3), add_back=True):
    def colour(x, bright, sat, con):
        y = x * (1 + bright) if b_mul else x + bright
        m = y.mean(axis=sat_axes, keepdims=True)
        y = (y - m) * sat + (m if add_back else 0)
        m = y.mean(axis=con_axes, keepdims=True)
        return (y - m) * con + (m if add_back else 0)

    return colour


def test_color_augment(capsys):
    accepted(ex.check_color_augment, _colour())
    for wrong, hint in [
        (_colour(b_mul=True), "not multiplied"),
        (_colour(sat_axes=(1, 2, 3)), "saturation: each pixel's mean over its channels"),
        (_colour(con_axes=(3,)), "contrast: each image's mean over all pixels"),
        (_colour(sat_axes=(0,)), "not over the batch"),
        (_colour(con_axes=(0,)), "not the batch's"),
        (_colour(add_back=False), "add the mean back"),
        (lambda x, b, s, c: x[:, :4], "same shape as the images"),
        (lambda x, b, s, c: (x + b) * s * c, "in that order"),
    ]:
        rejected(ex.check_color_augment, wrong, hint, capsys)


# ---------------------------------------------------------------- 11 pix2pix


def test_unet_skip(capsys):
    accepted(ex.check_unet_skip, lambda d, e: np.concatenate([d, e], axis=-1))
    accepted(ex.check_unet_skip, lambda d, e: keras.layers.Concatenate()([d, e]))
    accepted(ex.check_unet_skip, lambda d, e: tf.concat([d, e], axis=3))
    for wrong, hint in [
        (lambda d, e: np.concatenate([e, d], axis=-1), "in the other order"),
        (lambda d, e: d + e, "you added the features"),
        (lambda d, e: d, "only the decoder's features"),
        (lambda d, e: e, "only the encoder's features"),
        (lambda d, e: np.concatenate([d, e], axis=0), "along the batch axis"),
        (lambda d, e: np.concatenate([d, e], axis=1), "along the height"),
        (lambda d, e: np.concatenate([d, e], axis=2), "along the width"),
        (lambda d, e: np.stack([d, e], axis=-1), "np.stack adds an axis"),
        (lambda d, e: np.concatenate([d, 0 * e], axis=-1), "the values are not"),
        # right only when both have the same number of channels, as in the first case
        (lambda d, e: np.concatenate([d[..., :4], e[..., :4]], axis=-1), "(2, 4, 4, 8)"),
        (lambda d, e: 1 / 0, "raised ZeroDivisionError"),
    ]:
        rejected(ex.check_unet_skip, wrong, hint, capsys)


def _receptive(start=1, backwards=True, strides=True, own_stride=False, minus=1):
    def field(convs):
        if own_stride:  # forward, each layer's stride in its own term
            r, jump = 1, 1
            for k, s in convs:
                jump *= s
                r += (k - 1) * jump
            return r
        r = start
        for k, s in reversed(convs) if backwards else convs:
            r = (r - minus) * (s if strides else 1) + k
        return r

    return field


def _receptive_forward(convs):
    """The other right way: from the first layer, each kernel adds (k - 1) times the
    product of the strides before it."""
    r, jump = 1, 1
    for k, s in convs:
        r += (k - 1) * jump
        jump *= s
    return r


def test_receptive_field(capsys):
    from gancourse import translation

    accepted(ex.check_receptive_field, _receptive())
    accepted(ex.check_receptive_field, _receptive_forward)
    accepted(ex.check_receptive_field, translation.receptive_field)
    accepted(ex.check_receptive_field, 70)
    accepted(ex.check_receptive_field, 16, [(4, 2), (4, 1), (4, 1)])
    for wrong, hint in [
        (_receptive(strides=False), "ignores the strides"),
        (_receptive(start=0), "not 0"),
        (_receptive(minus=0), "the - 1 is missing"),
        (lambda convs: _receptive()(convs) + 1, "one too many"),
        (_receptive(backwards=False), "from the last layer back"),
        (_receptive(own_stride=True), "not its own kernel"),
        (lambda convs: sum(k for k, _ in convs), "r <- (r - 1) * stride + kernel"),
        (lambda convs: "seventy", "give one number"),
        (16, "ignores the strides"),
        (69, "one short"),
        (71, "one too many"),
        (
            (_receptive(backwards=False)([(4, 2)] * 3 + [(4, 1)] * 2), None),
            "from the last layer back",
        ),
        ((7, [(4, 2), (4, 1), (4, 1)]), "r <- (r - 1) * stride + kernel"),
    ]:
        rejected(ex.check_receptive_field, wrong, hint, capsys)


def _pix2pix_loss(gan="ns", distance="l1", weight=True, against="target", sign=1.0, l1=True):
    def loss(logits, source, target, output, l1_weight):
        softplus = lambda v: np.logaddexp(0.0, v)  # noqa: E731
        terms = {
            "ns": softplus(-logits).mean(),
            "minimax": -softplus(logits).mean(),
            "d": softplus(logits).mean(),
            "none": 0.0,
        }
        other = target if against == "target" else source
        diff = output - other
        dist = {"l1": np.abs(diff).mean(), "l2": (diff**2).mean(), "sum": np.abs(diff).sum()}
        lam = l1_weight if weight is True else (weight or 1.0)
        return terms[gan] + sign * lam * dist[distance] * l1

    return loss


def test_pix2pix_generator_loss(capsys):
    from gancourse import losses

    accepted(ex.check_pix2pix_generator_loss, _pix2pix_loss())
    accepted(
        ex.check_pix2pix_generator_loss,
        lambda logits, x, y, out, lam: losses.pix2pix_generator_loss(logits, y, out, lam),
    )
    for wrong, hint in [
        (_pix2pix_loss(distance="l2"), "not the squared one"),
        (_pix2pix_loss(weight=False), "multiply the L1 term by l1_weight"),
        (_pix2pix_loss(weight=100.0), "not 100 always"),
        (_pix2pix_loss(against="source"), "not with the input"),
        (_pix2pix_loss(sign=-1.0), "do not subtract it"),
        (
            lambda *a: -_pix2pix_loss(gan="ns", l1=False)(*a) + _pix2pix_loss(gan="none")(*a),
            "wrong sign",
        ),
        (_pix2pix_loss(gan="minimax"), "saturating (minimax)"),
        (_pix2pix_loss(gan="d"), "target 1"),
        (_pix2pix_loss(distance="sum"), "do not sum them"),
        (_pix2pix_loss(gan="none"), "the GAN term is missing"),
        (_pix2pix_loss(l1=False), "the L1 term is missing"),
        (lambda *a: 0.5, "-mean log sigmoid(logits)"),
    ]:
        rejected(ex.check_pix2pix_generator_loss, wrong, hint, capsys)


# ---------------------------------------------------------------- 12 CycleGAN


def _l1(x, y):
    return float(np.mean(np.abs(np.asarray(x) - np.asarray(y))))


def test_cycle_loss(capsys):
    from gancourse import losses

    accepted(ex.check_cycle_loss, lambda g, f, a, b: _l1(f(g(a)), a) + _l1(g(f(b)), b))
    accepted(
        ex.check_cycle_loss,
        lambda g, f, a, b: losses.cycle_loss(
            a, f(g(a, training=False), training=False), b, g(f(b, training=False))
        ),
    )
    sq = lambda x, y: float(np.mean((np.asarray(x) - np.asarray(y)) ** 2))  # noqa: E731
    for wrong, hint in [
        (lambda g, f, a, b: sq(f(g(a)), a) + sq(g(f(b)), b), "not squared"),
        (lambda g, f, a, b: _l1(f(g(a)), a), "only A's round trip"),
        (lambda g, f, a, b: _l1(g(f(b)), b), "only B's round trip"),
        (lambda g, f, a, b: _l1(f(g(a)), b) + _l1(g(f(b)), a), "not with the other domain"),
        (lambda g, f, a, b: _l1(g(a), b) + _l1(f(b), a), "are not a pair"),
        (lambda g, f, a, b: _l1(g(f(a)), a) + _l1(f(g(b)), b), "in the wrong order"),
        (lambda g, f, a, b: _l1(f(a), a) + _l1(g(b), b), "that is the identity loss"),
        (lambda g, f, a, b: (_l1(f(g(a)), a) + _l1(g(f(b)), b)) / 2, "do not average"),
        (
            lambda g, f, a, b: float(np.abs(f(g(a)) - a).sum() + np.abs(g(f(b)) - b).sum()),
            "do not sum them",
        ),
        (lambda g, f, a, b: 0.25, "expected"),
    ]:
        rejected(ex.check_cycle_loss, wrong, hint, capsys)


def test_identity_loss(capsys):
    from gancourse import losses

    accepted(ex.check_identity_loss, lambda g, f, a, b: _l1(f(a), a) + _l1(g(b), b))
    accepted(ex.check_identity_loss, lambda g, f, a, b: losses.identity_loss(a, f(a), b, g(b)))
    for wrong, hint in [
        (lambda g, f, a, b: _l1(g(a), a) + _l1(f(b), b), "the generators are swapped"),
        (
            lambda g, f, a, b: float(np.mean((f(a) - a) ** 2) + np.mean((g(b) - b) ** 2)),
            "not squared",
        ),
        (lambda g, f, a, b: _l1(f(a), a), "only F's term"),
        (lambda g, f, a, b: _l1(g(b), b), "only G's term"),
        (lambda g, f, a, b: _l1(f(g(a)), a) + _l1(g(f(b)), b), "that is the cycle loss"),
        (lambda g, f, a, b: (_l1(f(a), a) + _l1(g(b), b)) / 2, "do not average them"),
        (lambda g, f, a, b: _l1(f(a), b) + _l1(g(b), a), "it should not change"),
    ]:
        rejected(ex.check_identity_loss, wrong, hint, capsys)


def test_lsgan_losses(capsys):
    from gancourse import losses

    right_d = lambda r, f: ((r - 1) ** 2).mean() + (f**2).mean()  # noqa: E731
    right_g = lambda f: ((f - 1) ** 2).mean()  # noqa: E731
    sigmoid = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    softplus = lambda v: np.logaddexp(0.0, v)  # noqa: E731
    accepted(ex.check_lsgan_losses, right_d, right_g)
    accepted(ex.check_lsgan_losses, losses.lsgan_discriminator_loss, losses.lsgan_generator_loss)
    for wrong, hint in [
        ((lambda r, f: (r**2).mean() + ((f - 1) ** 2).mean(), right_g), "targets are swapped"),
        ((lambda r, f: 0.5 * right_d(r, f), right_g), "halves D's loss itself"),
        ((lambda r, f: softplus(-r).mean() + softplus(f).mean(), right_g), "cross-entropy"),
        (
            (lambda r, f: ((sigmoid(r) - 1) ** 2).mean() + (sigmoid(f) ** 2).mean(), right_g),
            "without a sigmoid",
        ),
        ((lambda r, f: np.abs(r - 1).mean() + np.abs(f).mean(), right_g), "not their absolute"),
        ((lambda r, f: ((r - 1) ** 2).mean(), right_g), "the fake term is missing"),
        ((lambda r, f: ((r - 1) ** 2).sum() + (f**2).sum(), right_g), "do not sum"),
        ((lambda r, f: ((r - 1) ** 2).mean() + ((f + 1) ** 2).mean(), right_g), "not -1"),
        ((right_d, lambda f: (f**2).mean()), "G wants them scored 1"),
        ((right_d, lambda f: -(f**2).mean()), "G does not maximise D's loss"),
        ((right_d, lambda f: 0.5 * right_g(f)), "without the 1/2"),
        ((right_d, lambda f: softplus(-f).mean()), "non-saturating cross-entropy"),
        ((right_d, lambda f: ((sigmoid(f) - 1) ** 2).mean()), "without a sigmoid"),
        ((right_d, lambda f: np.abs(f - 1).mean()), "not its absolute value"),
    ]:
        rejected(ex.check_lsgan_losses, wrong, hint, capsys)


# ---------------------------------------------------------------- the notebooks' exercise cells


def exercise_cells():
    """(notebook, learner cell, solution cell) for every exercise with a solution."""
    found = []
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        cells = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
        for before, cell in zip(cells, cells[1:]):
            if "".join(cell["source"]).startswith("#@title Solution"):
                found.append((path.name, before, cell))
    return found


def _namespace(notebook):
    import gancourse as gc

    ns = {"gc": gc, "np": np, "tf": tf, "keras": keras, "models": models}
    if notebook.startswith("00"):
        ns["fashion"] = data.load_dataset("fashion_mnist")
    if notebook.startswith("02"):
        ns["discriminator"] = models.mlp_discriminator()
    if notebook.startswith("13"):
        from gancourse import stylegan

        ns["stylegan"] = stylegan
    return ns


@pytest.mark.parametrize(
    "notebook, learner, solution",
    exercise_cells(),
    ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(exercise_cells())],
)
def test_solution_cells_pass_their_check_and_leave_the_learner_alone(
    notebook, learner, solution, capsys
):
    """A solution cell stores no output, defines only ``solution_*`` names (so running every
    cell keeps the learner's answer), and its own check passes: the call is its last line,
    as a comment the learner can run."""
    source = "".join(solution["source"])
    assert solution["outputs"] == [], f"{notebook}: a solution cell stores its output"

    def defined(src):
        names = set()
        for node in ast.parse(src).body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                names.add(node.name)
            for target in getattr(node, "targets", []):
                names |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
        return names

    mine = defined(source)
    assert mine and all(n.startswith("solution_") for n in mine), (notebook, mine)
    assert not mine & defined("".join(learner["source"]))
    call = source.strip().splitlines()[-1]
    assert call.startswith("# gc.exercises.check_"), f"{notebook}: end with the check's call"
    assert "⏳ Not done yet" in "".join(
        "".join(o.get("text", "")) for o in learner.get("outputs", [])
    ), f"{notebook}: the learner's stub should print 'not done yet'"
    ns = _namespace(notebook)
    exec(compile(source, notebook, "exec"), ns)
    capsys.readouterr()
    assert eval(call.lstrip("# "), ns) is True, capsys.readouterr().out


def test_guidance_step_check(capsys):
    import tensorflow as tf

    from gancourse.editing import guidance_step

    assert ex.check_guidance_step(guidance_step)

    def wrong_sign(g, c, z, target, lr, w):
        return 2 * z - guidance_step(g, c, z, target, lr, w)  # z - lr * gradient

    def no_shell(g, c, z, target, lr, w):
        return guidance_step(g, c, z, target, lr, 0.0)

    def image_gradient(g, c, z, target, lr, w):
        x = g(z)
        with tf.GradientTape() as tape:
            tape.watch(x)
            score = tf.reduce_sum(tf.gather(c(x), target, axis=1, batch_dims=1))
        return x + lr * tape.gradient(score, x)

    for answer, hint in (
        (wrong_sign, "wrong way"),
        (no_shell, "shell term is missing"),
        (image_gradient, "with respect to z"),
        (lambda *args: 1 / 0, "raised ZeroDivisionError"),
    ):
        capsys.readouterr()
        assert not ex.check_guidance_step(answer)
        assert hint in capsys.readouterr().out

    def stub(*args):
        raise NotImplementedError

    capsys.readouterr()
    assert not ex.check_guidance_step(stub)
    assert "Not done yet" in capsys.readouterr().out


def _projection(steps_offset=0, optimiser="adam", loss="squared", sign=1.0, reduce="sum", out="z"):
    """A learner's projection loop, right by default; each option is one slip."""

    def project(generator, x, z0, steps, lr):
        z = tf.Variable(z0)
        opt = keras.optimizers.Adam(lr)
        for _ in range(steps + steps_offset):
            with tf.GradientTape() as tape:
                diff = generator(z) - x
                err = tf.square(diff) if loss == "squared" else tf.abs(diff)
                per_image = tf.reduce_mean(err, axis=[1, 2, 3])
                total = tf.reduce_sum(per_image) if reduce == "sum" else tf.reduce_mean(err)
                total = sign * total
            grad = tape.gradient(total, z)
            if optimiser == "adam":
                opt.apply_gradients([(grad, z)])
            else:
                z.assign_sub(lr * grad)
        return z.numpy() if out == "z" else generator(z).numpy()

    return project


def test_projection_check(capsys):
    accepted(ex.check_projection, _projection())
    accepted(ex.check_projection, _projection(reduce="mean"))  # Adam divides out the scale
    for wrong, hint in [
        (_projection(optimiser="sgd"), "plain gradient descent"),
        (_projection(sign=-1.0), "must *minimise*"),
        (_projection(steps_offset=-1), "ran 11 steps"),
        (_projection(steps_offset=1), "ran 13 steps"),
        (_projection(loss="abs"), "squared pixel difference"),
        (_projection(out="images"), "returned images"),
        (lambda g, x, z0, steps, lr: np.asarray(z0), "did not move"),
        (lambda g, x, z0, steps, lr: 1 / 0, "raised ZeroDivisionError"),
    ]:
        rejected(ex.check_projection, wrong, hint, capsys)

    def stub(*args):
        raise NotImplementedError

    capsys.readouterr()
    assert not ex.check_projection(stub)
    assert "Not done yet" in capsys.readouterr().out


# ---------------------------------------------------------------- 13 StyleGAN


def _mapping(norm="rms", dense="equal", act="lrelu", depth_offset=0, units=None):
    """A learner's mapping network, right by default; each option is one slip."""
    from gancourse import stylegan

    def mapping(z, w_dim, depth):
        if norm == "rms":
            h = stylegan.PixelNorm()(z)
        elif norm == "length":
            h = keras.layers.UnitNormalization()(z)
        else:
            h = z
        for _ in range(depth + depth_offset):
            activation = "lrelu" if act == "lrelu" else None
            if dense == "equal":
                h = stylegan.EqualDense(units or w_dim, lr_mul=0.01, activation=activation)(h)
            elif dense == "lr_mul 1":
                h = stylegan.EqualDense(units or w_dim, activation=activation)(h)
            else:
                h = keras.layers.Dense(units or w_dim)(h)
                h = keras.layers.Activation(stylegan.lrelu)(h)
            if act == "leaky":
                h = keras.layers.LeakyReLU(0.2)(h)
        return h

    return mapping


def test_mapping_network_check(capsys):
    from gancourse import stylegan

    accepted(ex.check_mapping_network, _mapping())
    accepted(
        ex.check_mapping_network,
        lambda z, w_dim, depth: stylegan.mapping_network(z.shape[-1], w_dim, depth)(z),
    )
    for wrong, hint in [
        (_mapping(norm=None), "pixel-normalise z first"),
        (_mapping(norm="length"), "root *mean* square"),
        (_mapping(dense="plain"), "not keras.layers.Dense"),
        (_mapping(dense="lr_mul 1"), "lr_mul=0.01"),
        (_mapping(act=None), "activation='lrelu'"),
        (_mapping(act="leaky"), "not a plain LeakyReLU"),
        (_mapping(depth_offset=1), "3 dense layers (with a bias each), not 4"),
        (_mapping(units=7), "expected (10,)"),
        (lambda z, w_dim, depth: z, "expected (10,)"),
    ]:
        rejected(ex.check_mapping_network, wrong, hint, capsys)


def _adain(axes=(1, 2), scale="1+", swap=False, divide="std"):
    def adain(x, style):
        c = x.shape[-1]
        mean = x.mean(axis=axes, keepdims=True) if axes else 0.0
        var = x.var(axis=axes, keepdims=True) if axes else 1.0
        h = (x - mean) / (np.sqrt(var + 1e-8) if divide == "std" else var + 1e-8)
        a, b = (style[:, c:], style[:, :c]) if swap else (style[:, :c], style[:, c:])
        y_s = 1.0 + a if scale == "1+" else a
        return y_s[:, None, None, :] * h + b[:, None, None, :]

    return adain


def test_adain_check(capsys):
    accepted(ex.check_adain, _adain())
    for wrong, hint in [
        (_adain(axes=None), "normalise first"),
        (_adain(axes=(1, 2, 3)), "layer normalisation"),
        (_adain(axes=(0, 1, 2)), "batch normalisation"),
        (_adain(divide="var"), "divide by the standard deviation"),
        (_adain(scale="plain"), "y_s = 1 + style[:, :c]"),
        (_adain(swap=True), "scale and bias are swapped"),
        (lambda x, style: x[..., :2], "the same shape as x"),
    ]:
        rejected(ex.check_adain, wrong, hint, capsys)


def _demodulate(axes=(1, 2, 3), root=True, eps=True, modulate=True, demodulate=True):
    def demod(weight, style, epsilon):
        w = np.asarray(weight)[None]
        if modulate:
            w = style[:, None, None, :, None] * w
        elif modulate is False:  # not modulated, but one copy per sample
            w = np.repeat(w, len(style), axis=0)
        if not demodulate:
            return w
        energy = np.sum(w**2, axis=axes, keepdims=True) + (epsilon if eps else 0.0)
        return w / (np.sqrt(energy) if root else energy)

    return demod


def test_demodulation_check(capsys):
    accepted(ex.check_demodulation, _demodulate())
    for wrong, hint in [
        (_demodulate(axes=(1, 2, 4)), "per *output* channel"),
        (_demodulate(axes=(1, 2, 3, 4)), "not over all the weights at once"),
        (_demodulate(root=False), "square root"),
        (_demodulate(eps=False), "add eps inside the square root"),
        (_demodulate(modulate=False), "modulate first"),
        (_demodulate(modulate=None), "one set per sample: modulate first"),
        (_demodulate(demodulate=False), "demodulate: divide"),
        (lambda weight, style, eps: weight, "one set of weights per sample"),
    ]:
        rejected(ex.check_demodulation, wrong, hint, capsys)


def _noise_layer(strength_shape="channel", noise="shared", init="zeros", seed=None, dist="normal"):
    """A learner's noise injection layer, right by default; each option is one slip."""

    class Noise(keras.layers.Layer):
        def build(self, input_shape):
            shape = {"channel": input_shape[-1:], "pixel": input_shape[1:]}[strength_shape]
            self.strength = self.add_weight(shape=shape, initializer=init)

        def call(self, x):
            b, h, w, c = keras.ops.shape(x)
            shape = (b, h, w, 1) if noise == "shared" else (b, h, w, c)
            if dist == "normal":
                n = keras.random.normal(shape, seed=seed)
            else:
                n = keras.random.uniform(shape, -1.0, 1.0, seed=seed)
            return x + self.strength * n

    return Noise


def test_noise_injection_check(capsys):
    accepted(ex.check_noise_injection, _noise_layer())
    for wrong, hint in [
        (_noise_layer(strength_shape="pixel"), "one strength per channel"),
        (_noise_layer(noise="per channel"), "not a separate noise for every channel"),
        (_noise_layer(init="ones"), "start the strengths at zero"),
        (_noise_layer(seed=1), "fresh noise at every call"),
        (_noise_layer(dist="uniform"), "N(0, 1)"),
    ]:
        rejected(ex.check_noise_injection, wrong, hint, capsys)


def _truncate_w(kind="right"):
    from gancourse import stylegan

    def truncate(generator, z, psi):
        avg = stylegan.w_avg(generator)
        if kind == "z":
            return stylegan.mapping(generator, psi * z)
        w = stylegan.mapping(generator, z)
        if kind == "swapped":
            return (1 - psi) * w + psi * avg
        if kind == "psi on w_avg":
            return psi * avg + (w - avg)
        if kind == "towards 0":
            return psi * w
        if kind == "images":
            return stylegan.synthesis(generator, w)
        return avg + psi * (w - avg)

    return truncate


def test_truncation_w_check(capsys):
    from gancourse import stylegan

    accepted(ex.check_truncation_w, _truncate_w())
    accepted(
        ex.check_truncation_w,
        lambda g, z, psi: stylegan.truncate(g, stylegan.mapping(g, z), psi),
    )
    for wrong, hint in [
        (_truncate_w("z"), "not z before it"),
        (_truncate_w("swapped"), "psi multiplies (w - w_avg), not w_avg"),
        (_truncate_w("psi on w_avg"), "psi multiplies the difference"),
        (_truncate_w("towards 0"), "not towards 0"),
        (_truncate_w("images"), "not images"),
    ]:
        rejected(ex.check_truncation_w, wrong, hint, capsys)
