"""The code that notebooks 02 and 03 type out for teaching (the MLP models, the hand-written
train step) must stay the package's code in disguise: same parameter counts, same outputs for
the same weights, and one training step from the same weights and noise gives the same
losses and the same new weights as ``gancourse.GAN.train_step``. So the two cannot drift."""

import ast
import json
import types
from pathlib import Path

import numpy as np
import pytest

from gancourse import config, models, training

config.quiet_tensorflow()
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def notebook_definitions(notebook, names):
    """Run, in a fresh namespace, the statements of ``notebook``'s code cells that define (or
    assign) ``names``, and return that namespace."""
    cells = json.loads((NOTEBOOKS / notebook).read_text())["cells"]
    namespace = {"keras": keras, "layers": keras.layers, "tf": tf, "np": np}
    wanted = set(names)
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        try:
            tree = ast.parse(source)
        except SyntaxError:  # IPython magics
            continue
        for node in tree.body:
            defined = (
                {getattr(node, "name", None)}
                | {t.id for t in getattr(node, "targets", []) if isinstance(t, ast.Name)}
                | {
                    e.id
                    for t in getattr(node, "targets", [])
                    if isinstance(t, ast.Tuple)
                    for e in t.elts
                    if isinstance(e, ast.Name)
                }
            )
            if defined & wanted:
                exec(compile(ast.Module([node], []), notebook, "exec"), namespace)
    missing = wanted - set(namespace)
    assert not missing, (
        f"{notebook} no longer defines {missing}: update this test with the notebook"
    )
    return namespace


def test_notebook_02_models_are_the_package_models():
    nb = notebook_definitions(
        "02_vanilla_gan.ipynb", ["LATENT", "build_generator", "build_discriminator"]
    )
    pairs = [
        (
            nb["build_generator"](),
            models.mlp_generator(),
            np.random.default_rng(0).normal(size=(4, 100)),
        ),
        (
            nb["build_discriminator"](),
            models.mlp_discriminator(),
            np.random.default_rng(1).uniform(-1, 1, size=(4, 28, 28, 1)),
        ),
    ]
    for mine, package, x in pairs:
        assert mine.count_params() == package.count_params()
        mine.set_weights(package.get_weights())  # same layers in the same order
        np.testing.assert_allclose(
            mine(x.astype("float32"), training=False),
            package(x.astype("float32"), training=False),
            atol=1e-5,
        )


@pytest.mark.parametrize(
    "notebook,generator,discriminator",
    [
        ("02_vanilla_gan.ipynb", models.mlp_generator, models.mlp_discriminator),
        ("03_dcgan.ipynb", models.dcgan_generator, models.dcgan_discriminator),
    ],
)
def test_the_hand_written_train_step_is_gan_train_step(notebook, generator, discriminator):
    keras.utils.set_random_seed(0)
    g, d = generator(), discriminator()
    real = np.random.default_rng(2).uniform(-1, 1, size=(8, 28, 28, 1)).astype("float32")
    z = np.random.default_rng(3).normal(size=(8, 100)).astype("float32")

    # the package's step, with its noise fixed to z
    gan = training.GAN(keras.models.clone_model(g), keras.models.clone_model(d))
    gan.generator.set_weights(g.get_weights())
    gan.discriminator.set_weights(d.get_weights())
    gan.compile()
    defaults = gan.g_optimizer, gan.d_optimizer
    # plain SGD for the comparison: Adam's first step is lr * g / (|g| + eps), which turns
    # float noise in the (theoretically zero) gradients of biases before batch norm into
    # visible differences; SGD keeps them as small as they are
    gan.compile(g_optimizer=keras.optimizers.SGD(0.1), d_optimizer=keras.optimizers.SGD(0.1))
    gan.sample_noise = lambda n: tf.constant(z)
    logs = gan.train_step(tf.constant(real))

    # the notebook's step, on the same weights, with tf.random.normal giving the same z
    fixed_random = types.SimpleNamespace(normal=lambda shape, *a, **k: tf.constant(z))
    fake_tf = types.SimpleNamespace(
        **{k: getattr(tf, k) for k in dir(tf) if not k.startswith("__")}
    )
    fake_tf.random = fixed_random
    nb = notebook_definitions(notebook, ["bce", "g_opt", "d_opt", "train_step"])
    nb["generator"], nb["discriminator"], nb["LATENT"] = g, d, 100
    for mine, package in zip((nb["g_opt"], nb["d_opt"]), defaults):  # the same optimizers ...
        assert type(mine) is type(package)
        assert float(mine.learning_rate) == pytest.approx(float(package.learning_rate))
        assert float(mine.beta_1) == pytest.approx(float(package.beta_1))
    nb["g_opt"], nb["d_opt"] = keras.optimizers.SGD(0.1), keras.optimizers.SGD(0.1)  # ... then SGD
    nb["tf"] = fake_tf  # the step looks tf up in its globals when it is traced
    d_loss, g_loss = [float(v) for v in nb["train_step"](tf.constant(real))[:2]]

    assert d_loss == pytest.approx(float(logs["d_loss"]), abs=1e-5)
    assert g_loss == pytest.approx(float(logs["g_loss"]), abs=1e-5)
    for mine, package in ((g, gan.generator), (d, gan.discriminator)):
        for a, b in zip(mine.get_weights(), package.get_weights()):
            np.testing.assert_allclose(a, b, atol=1e-5)
