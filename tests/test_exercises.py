"""Every self-check accepts the notebook's solution and rejects a wrong answer."""

import math
import types

import numpy as np

from gancourse import data, models
from gancourse import exercises as ex


def test_normalise():
    assert ex.check_normalise(lambda x: data.to_model_range(x))
    assert not ex.check_normalise(lambda x: x.astype("float32") / 255.0)
    assert not ex.check_normalise(lambda x: 1 / 0)


def test_class_balance(monkeypatch):
    counts = np.bincount(data.load_dataset("fashion_mnist").y_train)
    assert counts.min() == counts.max()  # the test data is balanced, like the real set
    assert ex.check_class_balance(int(counts[0]), "fashion_mnist")
    assert not ex.check_class_balance(int(counts[0]) + 1, "fashion_mnist")
    assert not ex.check_class_balance(
        len(data.load_dataset("fashion_mnist").y_train), "fashion_mnist"
    )
    # on unbalanced data no single count is right, and the check says so
    unbalanced = types.SimpleNamespace(y_train=np.array([0, 0, 1], np.uint8))
    monkeypatch.setattr(data, "load_dataset", lambda name: unbalanced)
    assert not ex.check_class_balance(2, "fashion_mnist")


def test_optimal_discriminator_and_equilibrium():
    assert ex.check_optimal_discriminator(lambda p, q: p / (p + q + 1e-300))
    assert not ex.check_optimal_discriminator(lambda p, q: q / (p + q + 1e-300))
    assert ex.check_value_at_equilibrium(-math.log(4)) and not ex.check_value_at_equilibrium(0)


def test_smoothed_targets():
    assert ex.check_smoothed_targets(lambda n, s: np.full((n, 1), 1 - s))
    assert not ex.check_smoothed_targets(lambda n, s: np.ones(n))


def test_param_count_and_sizes():
    g = models.scenario_models("weak-g")[0]
    assert ex.check_param_count(84_968, g) and not ex.check_param_count(83_384, g)
    assert ex.check_transposed_size(14) and not ex.check_transposed_size(16)


def test_deeper_generator():
    assert ex.check_deeper_generator(models.dcgan_generator(extra_layers=1))
    assert not ex.check_deeper_generator(models.dcgan_generator())


def test_wgan_checks():
    assert ex.check_critic_loss(lambda r, f: np.mean(f) - np.mean(r))
    assert not ex.check_critic_loss(lambda r, f: np.mean(r) - np.mean(f))
    assert ex.check_linear_penalty((np.hypot(1.2, 1.6) - 1) ** 2) and not ex.check_linear_penalty(
        0.0
    )


def test_cgan_checks():
    assert ex.check_grid_labels(lambda c, n: np.repeat(np.arange(c), n))
    assert not ex.check_grid_labels(lambda c, n: np.tile(np.arange(c), n))
    g = models.cgan_dcgan_generator()
    assert ex.check_concat_dense(g.get_layer("project").count_params())
    assert not ex.check_concat_dense(100 * 6272)


def test_cifar_checks():
    assert ex.check_start_sizes(8, 8) and not ex.check_start_sizes(7, 8)
    assert ex.check_batch_bytes(786432) and not ex.check_batch_bytes(196608)


def test_latent_space_checks():
    from gancourse.widgets import lerp, slerp

    def classic(z0, z1, t):
        w = np.arccos(np.dot(z0, z1) / np.linalg.norm(z0) / np.linalg.norm(z1))
        return (np.sin((1 - t) * w) * z0 + np.sin(t * w) * z1) / np.sin(w)

    assert ex.check_slerp(classic) and ex.check_slerp(slerp)
    assert not ex.check_slerp(lerp)
    assert not ex.check_slerp(lambda z0, z1, t: z0)
    assert (
        ex.check_midpoint_norm(7.07)
        and not ex.check_midpoint_norm(10)
        and not ex.check_midpoint_norm(5)
    )


def test_evaluation_checks(capsys):
    assert ex.check_frechet_1d(lambda m1, s1, m2, s2: (m1 - m2) ** 2 + (s1 - s2) ** 2)
    as_variances = lambda m1, s1, m2, s2: (m1 - m2) ** 2 + s1 + s2 - 2 * np.sqrt(s1 * s2)
    capsys.readouterr()
    assert not ex.check_frechet_1d(as_variances)
    assert "not variances" in capsys.readouterr().out
    assert not ex.check_frechet_1d(lambda m1, s1, m2, s2: (m1 - m2) ** 2)
    assert ex.check_confident_is(5) and not ex.check_confident_is(10)


def test_stabilising_checks(capsys):
    import tensorflow as tf

    relu = lambda v: np.maximum(0, v)  # noqa: E731
    assert ex.check_hinge_losses(
        lambda r, f: relu(1 - r).mean() + relu(1 + f).mean(), lambda f: -f.mean()
    )
    capsys.readouterr()
    assert not ex.check_hinge_losses(
        lambda r, f: relu(-r).mean() + relu(f).mean(), lambda f: -f.mean()
    )
    assert "margin is missing" in capsys.readouterr().out
    assert not ex.check_hinge_losses(
        lambda r, f: relu(1 - r).mean() + relu(1 + f).mean(), lambda f: f.mean()
    )
    assert "minus the mean score" in capsys.readouterr().out

    def r1(d, real, squared=True, per_image=True):
        real = tf.constant(real)
        with tf.GradientTape() as tape:
            tape.watch(real)
            out = tf.reduce_sum(d(real, training=True))
        g = tape.gradient(out, real)
        sq = (
            tf.reduce_sum(g**2, axis=[1, 2, 3])
            if per_image
            else tf.reduce_mean(g**2, axis=[1, 2, 3])
        )
        return tf.reduce_mean(sq if squared else tf.sqrt(sq))

    assert ex.check_r1_penalty(r1)
    capsys.readouterr()
    assert not ex.check_r1_penalty(lambda d, real: r1(d, real, squared=False))
    assert "squared" in capsys.readouterr().out
    assert not ex.check_r1_penalty(lambda d, real: r1(d, real, per_image=False))
    assert "averaged over pixels" in capsys.readouterr().out


# ---------------------------------------------------------------- build-the-piece exercises
# Each check runs the learner's function against the package's and names what differs; here
# the right answer passes and the typical slips fail with their own hint.


def assert_each_rejected(check, cases, capsys):
    """Every ``(wrong answer, hint)`` of ``cases`` fails ``check`` with that hint printed."""
    for wrong, hint in cases:
        capsys.readouterr()
        assert not check(wrong)
        assert hint in capsys.readouterr().out


def _train_step(g_loss="non-saturating", swap_targets=False, step_g=True):
    import keras
    import tensorflow as tf

    bce = keras.losses.BinaryCrossentropy(from_logits=True)

    def step(generator, discriminator, g_opt, d_opt, real, z):
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake = generator(z, training=True)
            real_logits = discriminator(real, training=True)
            fake_logits = discriminator(fake, training=True)
            one, zero = tf.ones_like(real_logits), tf.zeros_like(fake_logits)
            if swap_targets:
                one, zero = zero, one
            d_loss = bce(one, real_logits) + bce(zero, fake_logits)
            if g_loss == "minimax":
                gl = -bce(tf.zeros_like(fake_logits), fake_logits)
            else:
                gl = bce(tf.ones_like(fake_logits), fake_logits)
        d_grads = d_tape.gradient(d_loss, discriminator.trainable_variables)
        d_opt.apply_gradients(zip(d_grads, discriminator.trainable_variables))
        if step_g:
            g_grads = g_tape.gradient(gl, generator.trainable_variables)
            g_opt.apply_gradients(zip(g_grads, generator.trainable_variables))
        return d_loss, gl

    return step


def test_train_step_check(capsys):
    assert ex.check_train_step(_train_step())
    assert not ex.check_train_step(_train_step(g_loss="minimax"))
    assert "minimax (saturating)" in capsys.readouterr().out
    assert not ex.check_train_step(_train_step(swap_targets=True))
    assert "targets are 1 for real" in capsys.readouterr().out
    assert not ex.check_train_step(_train_step(step_g=False))
    assert "the generator did not move" in capsys.readouterr().out


def _penalty(alpha="uniform", eps=1e-12, square=True, squared_norm=False):
    import keras
    import tensorflow as tf

    def penalty(critic, real, fake):
        n = tf.shape(real)[0]
        shape = (n, 1, 1, 1) if alpha != "per-pixel" else tf.shape(real)
        if alpha == "normal":
            a = tf.random.normal(shape)
        else:
            a = tf.random.uniform(shape)
        x_hat = a * real + (1 - a) * fake
        with tf.GradientTape() as tape:
            tape.watch(x_hat)
            scores = critic(x_hat, training=True)
        grads = tape.gradient(scores, x_hat)
        sq = tf.reduce_sum(tf.square(grads), axis=[1, 2, 3])
        norm = sq if squared_norm else tf.sqrt(sq + eps) if eps else tf.sqrt(sq)
        gap = norm - 1.0
        return tf.reduce_mean(tf.square(gap) if square else tf.abs(gap))

    keras.utils.set_random_seed(0)
    return penalty


def test_gradient_penalty_check(capsys):
    assert ex.check_gradient_penalty(_penalty())
    assert_each_rejected(
        ex.check_gradient_penalty,
        [
            (_penalty(alpha="normal"), "uniform in [0, 1]"),
            (_penalty(eps=0), "sqrt(sum(grad^2) + 1e-12)"),
            (_penalty(alpha="per-pixel"), "one alpha per image"),
            (_penalty(square=False), "square the difference"),
            (_penalty(squared_norm=True), "not its square"),
        ],
        capsys,
    )


def test_frechet_distance_check(capsys):
    from scipy import linalg

    def fid(f1, f2, elementwise=False, rows=True):
        if not rows:
            f1, f2 = f1.T, f2.T
        m1, m2 = f1.mean(0), f2.mean(0)
        s1, s2 = np.cov(f1, rowvar=False), np.cov(f2, rowvar=False)
        root = np.sqrt(np.abs(s1 @ s2)) if elementwise else linalg.sqrtm(s1 @ s2).real
        return ((m1 - m2) ** 2).sum() + np.trace(s1 + s2 - 2 * root)

    assert ex.check_frechet_distance(fid)
    assert not ex.check_frechet_distance(lambda a, b: fid(a, b, elementwise=True))
    assert "matrix square root" in capsys.readouterr().out
    assert not ex.check_frechet_distance(lambda a, b: fid(a, b, rows=False))
    assert "rowvar=False" in capsys.readouterr().out
    assert not ex.check_frechet_distance(lambda a, b: float(((a.mean(0) - b.mean(0)) ** 2).sum()))


def test_label_conditioning_check(capsys):
    import keras

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

    assert ex.check_label_conditioning(condition)
    for mode, hint in [
        ("add", "along the channel axis"),
        ("swap", "image must come first"),
        ("axis", "along the channel axis"),
    ]:
        capsys.readouterr()
        assert not ex.check_label_conditioning(lambda *a, m=mode: condition(*a, mode=m))
        assert hint in capsys.readouterr().out
    assert not ex.check_label_conditioning(
        lambda i, lab, e, d: keras.ops.concatenate(
            [i, keras.ops.ones_like(i) * keras.ops.cast(lab[:, :, None, None], "float32")], -1
        )
    )
    assert "label's plane is not" in capsys.readouterr().out


def _discriminator(bn=True, strides=2, sigmoid=False, slope=0.2):
    import keras
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


def test_dcgan_discriminator_check(capsys):
    assert ex.check_dcgan_discriminator(_discriminator())
    assert_each_rejected(
        ex.check_dcgan_discriminator,
        [
            (
                _discriminator(bn=False),
                "BatchNormalization after the second convolution is missing",
            ),
            (_discriminator(strides=1), "strides=2 and padding='same'"),
            (_discriminator(sigmoid=True), "leave out the sigmoid"),
            (_discriminator(slope=0.3), "LeakyReLU(negative_slope=0.2)"),
        ],
        capsys,
    )


def _pipeline(scale="right", drop=True, shuffle=True, reshuffle=True):
    import tensorflow as tf

    def build(images, batch_size):
        ds = tf.data.Dataset.from_tensor_slices(images)
        if scale == "right":
            ds = ds.map(lambda x: tf.cast(x, tf.float32) / 127.5 - 1.0)
        elif scale == "unit":
            ds = ds.map(lambda x: tf.cast(x, tf.float32) / 255.0)
        else:
            ds = ds.map(lambda x: x)
        ds = ds.cache()
        if shuffle:
            ds = ds.shuffle(len(images), seed=1, reshuffle_each_iteration=reshuffle)
        return ds.batch(batch_size, drop_remainder=drop).prefetch(tf.data.AUTOTUNE)

    return build


def test_pipeline_check(capsys):
    assert ex.check_pipeline(_pipeline())
    assert_each_rejected(
        ex.check_pipeline,
        [
            (_pipeline(drop=False), "drop the last, incomplete batch"),
            (_pipeline(scale="unit"), "[0, 1]"),
            (_pipeline(scale="none"), "cast to float32"),
            (_pipeline(shuffle=False), "shuffle before batching"),
            (_pipeline(reshuffle=False), "both epochs start with the same batch"),
        ],
        capsys,
    )


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
