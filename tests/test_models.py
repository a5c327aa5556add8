"""Architectures: parameter counts (the published tables of the DCGAN study included),
output shapes and value ranges, clear errors."""

import numpy as np
import pytest

from gancourse import models as m
from gancourse.errors import ModelError


@pytest.mark.parametrize(
    "scenario,g_counts,d_total",
    [
        ("baseline", (480_928, 474_464), 212_865),
        ("weak-d", (480_928, 474_464), 14_817),
        ("weak-g", (84_968, 83_384), 212_865),
    ],
)
def test_scenarios_reproduce_the_published_parameter_tables(scenario, g_counts, d_total):
    g, d = m.scenario_models(scenario, latent_dim=100)
    cg, cd = m.count_params(g), m.count_params(d)
    assert (cg["total"], cg["trainable"]) == g_counts
    assert cd["total"] == d_total == cd["trainable"]
    assert g.output_shape == (None, 28, 28, 1) and d.output_shape == (None, 1)


def test_weak_discriminator_uses_average_pooling():
    _, d = m.scenario_models("weak-d")
    assert any(layer.__class__.__name__ == "AveragePooling2D" for layer in d.layers)


@pytest.mark.parametrize(
    "builder,kwargs,total",
    [
        (m.mlp_generator, {}, 1_493_520),  # 100-256-512-1024-784 with BN
        (m.mlp_discriminator, {}, 533_505),  # 784-512-256-1
        (m.dcgan_generator, {}, 784_641),  # Dense 7x7x128, ConvT 64, ConvT 1
        (m.dcgan_discriminator, {}, 139_073),  # Conv 64, Conv 128 + BN
        (m.wgan_critic, {}, 138_561),  # no BatchNorm
        (m.wgan_critic, {"norm": "layer"}, 138_817),  # + LayerNorm (2 x 6272)
        (m.cgan_mlp_generator, {}, 1_494_520),  # + 10x100 embedding
        (m.cgan_mlp_discriminator, {}, 541_345),  # + 10x784 embedding
        (m.cgan_dcgan_generator, {}, 1_098_741),  # + 10x50 embedding concatenated
        (m.toy_generator, {}, 33_666),
    ],
)
def test_parameter_counts_of_every_builder(builder, kwargs, total):
    assert m.count_params(builder(**kwargs))["total"] == total


def test_tutorial_configuration_matches_the_tensorflow_tutorial():
    g, d = m.tutorial_models()
    assert m.count_params(g)["total"] == 2_330_944 and m.count_params(d)["total"] == 212_865


@pytest.mark.parametrize("shape", [(28, 28, 1), (32, 32, 3)])
def test_generators_make_images_in_range(shape):
    g = m.dcgan_generator(16, shape, width=32)
    out = np.asarray(g(np.random.default_rng(0).normal(size=(3, 16)).astype("float32")))
    assert out.shape == (3,) + shape and out.min() >= -1 and out.max() <= 1
    assert m.dcgan_discriminator(shape, width=8).output_shape == (None, 1)


def test_conditional_models_take_labels():
    g = m.cgan_dcgan_generator(16, num_classes=10, width=32, label_mode="onehot")
    d = m.cgan_dcgan_discriminator(num_classes=10, width=8, label_mode="onehot")
    assert m.is_conditional(g) and m.is_conditional(d) and not m.is_conditional(m.dcgan_generator())
    z = np.zeros((2, 16), "float32")
    img = g([z, np.array([[1], [2]])])
    assert img.shape == (2, 28, 28, 1) and d([np.asarray(img), np.array([[1], [2]])]).shape == (
        2,
        1,
    )
    # the label changes the output: same noise, two classes
    a = np.asarray(m.cgan_mlp_generator(16)([np.ones((2, 16), "float32"), np.array([[0], [1]])]))
    assert not np.allclose(a[0], a[1])


def test_deeper_generator_adds_layers_and_keeps_the_output_shape():
    g0, g2 = m.dcgan_generator(), m.dcgan_generator(extra_layers=2)
    assert g2.output_shape == g0.output_shape
    assert m.count_params(g2)["total"] > m.count_params(g0)["total"]


def test_initialiser_choice_is_used():
    g = m.mlp_generator(initializer="zeros")
    assert np.all(g.get_layer("dense_0").get_weights()[0] == 0)


def test_summaries_are_repeatable():
    """Named layers: the same builder gives the same summary every time (nbval compares them)."""

    def summary(model):
        lines = []
        model.summary(print_fn=lambda s, **k: lines.append(s))
        return "\n".join(lines)

    assert summary(m.scenario_models("weak-g")[0]) == summary(m.scenario_models("weak-g")[0])


def test_bad_arguments_get_clear_errors():
    with pytest.raises(ModelError, match="Known: baseline, weak-d, weak-g"):
        m.scenario_models("strong")
    with pytest.raises(ModelError, match="divisible by 4"):
        m.dcgan_generator(image_shape=(30, 30, 1))
    with pytest.raises(ModelError, match="label_mode"):
        m.cgan_dcgan_generator(label_mode="bits")
    with pytest.raises(ModelError, match="norm"):
        m.wgan_critic(norm="batch")


def test_cluster_choice_draws_each_cluster_as_often_as_its_share():
    prior = np.array([0.5, 0.1, 0.0, 0.4])
    c = np.random.default_rng(0).standard_normal((20000, 1)).astype("float32")
    picked = np.array(m.ClusterChoice(prior)(c))[:, 0]
    shares = np.bincount(picked, minlength=4) / len(picked)
    np.testing.assert_allclose(shares, prior, atol=0.015)
    assert shares[2] == 0  # an empty cluster is never drawn
    # ordered: a larger coordinate never picks an earlier cluster
    line = np.linspace(-4, 4, 101, dtype="float32")[:, None]
    assert (np.diff(np.array(m.ClusterChoice(prior)(line))[:, 0]) >= 0).all()  # 0, 1, 3
    for bad in ([1.0], [np.nan, 0.5, 0.5], [np.inf, 1.0], [[0.5, 0.5]], [0.0, 0.0]):
        with pytest.raises(ModelError, match="cluster prior"):
            m.ClusterChoice(bad)
    # an order: along the coordinate the clusters come in that sequence, with the same shares
    reordered = m.ClusterChoice(prior, order=[3, 0, 1, 2])
    sweep = np.array(reordered(line))[:, 0]
    assert [int(j) for j in sweep[np.r_[True, np.diff(sweep) != 0]]] == [3, 0, 1]
    shares = np.bincount(np.array(reordered(c))[:, 0], minlength=4) / len(c)
    np.testing.assert_allclose(shares, prior, atol=0.015)
    with pytest.raises(ModelError, match="cluster order"):
        m.ClusterChoice(prior, order=[0, 0, 1, 2])


def test_marginal_generator_is_the_conditional_one_with_the_cluster_read_off_z():
    g = m.cgan_dcgan_generator(8, num_classes=3, width=16)
    marginal = m.marginal_generator(g, [0.2, 0.3, 0.5])
    assert m.latent_dim_of(marginal) == 9 and not m.is_conditional(marginal)
    assert m.count_params(marginal) == m.count_params(g)  # the same weights, shared
    z = np.random.default_rng(1).standard_normal((6, 9)).astype("float32")
    cluster = np.array(m.ClusterChoice([0.2, 0.3, 0.5])(z[:, 8:]))
    np.testing.assert_allclose(
        np.array(marginal(z, training=False)), np.array(g([z[:, :8], cluster], training=False))
    )
