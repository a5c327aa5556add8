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
