"""Self-checks for the notebooks' exercises. Each ``check_*`` prints whether the answer is
right (with a hint when it is not) and returns True or False, so a learner gets feedback
without looking at the solution."""

from __future__ import annotations

import math

import numpy as np


def _yes(msg) -> bool:
    print(f"✅ Correct: {msg}")
    return True


def _no(msg) -> bool:
    print(f"❌ Not yet: {msg}")
    return False


# ---------------------------------------------------------------- checks, by notebook


def check_normalise(fn) -> bool:
    """00: ``fn(x_uint8)`` must return float32 images in [-1, 1] with a channel axis."""
    x = np.array([[[0, 255], [127, 128]]], dtype=np.uint8)  # one 2x2 image
    try:
        out = np.asarray(fn(x))
    except Exception as e:  # a learner's bug is feedback, not a crash
        return _no(f"your function raised {type(e).__name__}: {e}")
    if out.shape != (1, 2, 2, 1):
        return _no(
            f"shape {out.shape}; expected (1, 2, 2, 1): add a channel axis with x[..., None]"
        )
    if out.dtype != np.float32:
        return _no(f"dtype {out.dtype}; expected float32")
    if not np.allclose(out[0, :, :, 0], [[-1, 1], [127 / 127.5 - 1, 128 / 127.5 - 1]], atol=1e-6):
        return _no("values are off: 0 must map to -1 and 255 to +1 (x / 127.5 - 1)")
    return _yes("0 -> -1, 255 -> +1, float32, channels-last.")


def check_class_balance(answer, dataset="fashion_mnist") -> bool:
    """00: the number of training images of each class (one number: they are balanced)."""
    from .data import load_dataset

    counts = np.bincount(load_dataset(dataset).y_train)
    if counts.min() != counts.max():
        return _no(f"{dataset} is not balanced here; counts are {counts.tolist()}")
    if int(answer) == counts[0]:
        return _yes(f"every class has {counts[0]} training images.")
    return _no("count with np.bincount(y_train)")


def check_optimal_discriminator(fn) -> bool:
    """01: ``fn(p_data, p_g)`` must return D*(x) = p_data / (p_data + p_g), elementwise."""
    p, q = np.array([0.2, 1.0, 0.0, 3.0]), np.array([0.2, 0.0, 1.0, 1.0])
    try:
        out = np.asarray(fn(p, q), dtype=float)
    except Exception as e:
        return _no(f"your function raised {type(e).__name__}: {e}")
    if not np.allclose(out, [0.5, 1.0, 0.0, 0.75]):
        return _no(
            f"got {out.tolist()} for p_data={p.tolist()}, p_g={q.tolist()}; "
            "expected [0.5, 1.0, 0.0, 0.75]"
        )
    return _yes("D* is 1/2 where the densities agree, 1 where only data lives.")


def check_value_at_equilibrium(answer) -> bool:
    """01: V(D*, G) when p_g = p_data, i.e. -log 4."""
    if math.isclose(float(answer), -math.log(4), rel_tol=1e-3):
        return _yes("V = log(1/2) + log(1/2) = -log 4 = -1.386; the JS divergence is 0.")
    return _no("at p_g = p_data, D* = 1/2 everywhere: V = E[log 1/2] + E[log 1/2]")


def check_smoothed_targets(fn) -> bool:
    """02: ``fn(batch, smoothing)`` must return one-sided smoothed targets for the real batch."""
    try:
        out = np.asarray(fn(4, 0.1), dtype=float).reshape(-1)
    except Exception as e:
        return _no(f"your function raised {type(e).__name__}: {e}")
    if out.shape != (4,) or not np.allclose(out, 0.9):
        return _no(
            f"got {out.tolist()}; real targets should all be 1 - 0.1 = 0.9 "
            "(one-sided: fake targets stay 0, so they are not part of this)"
        )
    return _yes("real targets 0.9, fakes stay 0.")


def check_train_step(fn) -> bool:
    """02: ``fn(generator, discriminator, g_opt, d_opt, real, z)`` must take one training
    step of the GAN with the non-saturating loss and return ``(d_loss, g_loss, ...)``.
    Checked on two small networks against :meth:`gancourse.GAN.train_step` from the same
    weights, noise and plain SGD optimizers: same losses, same new weights."""
    tf, keras = _tensorflow()
    from .training import GAN

    keras.utils.set_random_seed(2)
    g = keras.Sequential(
        [
            keras.Input((8,)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(16, activation="tanh"),
            keras.layers.Reshape((4, 4, 1)),
        ]
    )
    d = keras.Sequential(
        [
            keras.Input((4, 4, 1)),
            keras.layers.Flatten(),
            keras.layers.Dense(16),
            keras.layers.LeakyReLU(0.2),
            keras.layers.Dense(1),
        ]
    )
    rng = np.random.default_rng(2)
    real = tf.constant(rng.uniform(-1, 1, (16, 4, 4, 1)).astype("float32"))
    z = tf.constant(rng.standard_normal((16, 8)).astype("float32"))
    fake_logits = d(g(z, training=True), training=True)
    g0, d0 = g.get_weights(), d.get_weights()

    gan = GAN(keras.models.clone_model(g), keras.models.clone_model(d))
    gan.generator.set_weights(g0)
    gan.discriminator.set_weights(d0)
    gan.compile(g_optimizer=keras.optimizers.SGD(0.1), d_optimizer=keras.optimizers.SGD(0.1))
    gan.sample_noise = lambda n: z
    logs = gan.train_step(real)
    want_d, want_g = float(logs["d_loss"]), float(logs["g_loss"])
    try:
        out = fn(g, d, keras.optimizers.SGD(0.1), keras.optimizers.SGD(0.1), real, z)
        got_d, got_g = float(out[0]), float(out[1])
    except Exception as e:
        return _no(f"your function raised {type(e).__name__}: {e}")
    if not math.isclose(got_d, want_d, rel_tol=1e-4, abs_tol=1e-5):
        return _no(
            f"D's loss is {got_d:.4f}, expected {want_d:.4f}: D's targets are 1 for real "
            f"images and 0 for fakes, and its loss is the sum of the two cross-entropies."
        )
    if not math.isclose(got_g, want_g, rel_tol=1e-4, abs_tol=1e-5):
        minimax = -float(np.mean(_softplus(np.asarray(fake_logits))))  # -BCE(0, D(G(z)))
        hint = (
            "that is the minimax (saturating) loss; the non-saturating one is BCE(1, D(G(z)))"
            if math.isclose(got_g, minimax, rel_tol=1e-4)
            else "G wants D to call its fakes real: BCE with target 1 on D(G(z))"
        )
        return _no(f"G's loss is {got_g:.4f}, expected {want_g:.4f}: {hint}.")
    for net, before, package, who in (
        (g, g0, gan.generator, "generator"),
        (d, d0, gan.discriminator, "discriminator"),
    ):
        mine = net.get_weights()
        if all(np.allclose(a, b) for a, b in zip(mine, before)):
            return _no(
                f"the losses are right but the {who} did not move: apply its gradients with "
                f"its optimizer."
            )
        if not all(np.allclose(a, b, atol=1e-5) for a, b in zip(mine, package.get_weights())):
            return _no(
                f"the losses are right but the {who} moved differently: each network steps "
                f"on the gradient of its own loss with respect to its own variables (one "
                f"tape per network), from the same forward pass."
            )
    return _yes(
        f"same losses (D {want_d:.4f}, G {want_g:.4f}) and the same new weights as "
        f"gancourse.GAN.train_step."
    )


def check_param_count(answer, model) -> bool:
    """02/03: the total number of parameters of ``model`` (worked out by hand)."""
    from .models import count_params

    total = count_params(model)["total"]
    if int(answer) == total:
        return _yes(f"{total:,} parameters.")
    return _no(
        f"{int(answer):,} is {'too many' if int(answer) > total else 'too few'}. A Dense "
        "layer has in*out + out parameters; BatchNormalization has 4 per feature "
        "(2 trainable, 2 moving statistics)."
    )


def check_transposed_size(answer) -> bool:
    """03: output side of Conv2DTranspose(kernel 4, strides 2, padding "same") on 7x7."""
    if int(answer) == 14:
        return _yes("'same' padding with stride 2 doubles the side: 7 -> 14 -> 28.")
    return _no("with padding='same' the output side is input side x stride")


def check_deeper_generator(generator, baseline=None) -> bool:
    """03: a deeper generator still makes 28x28x1 images in [-1, 1] and has more
    convolution layers than the default one."""
    from .models import dcgan_generator, latent_dim_of

    baseline = baseline or dcgan_generator()
    if tuple(generator.output_shape[1:]) != (28, 28, 1):
        return _no(f"output shape {generator.output_shape[1:]}; it must stay (28, 28, 1)")
    convs = lambda m: sum("Conv" in layer.__class__.__name__ for layer in m.layers)  # noqa: E731
    if convs(generator) <= convs(baseline):
        return _no(
            f"{convs(generator)} convolution layers, no more than the default "
            f"{convs(baseline)}: add stride-1 Conv2DTranspose blocks"
        )
    z = np.random.default_rng(0).normal(size=(2, latent_dim_of(generator))).astype("float32")
    out = np.asarray(generator(z, training=False))
    if out.min() < -1 or out.max() > 1:
        return _no("outputs leave [-1, 1]: keep tanh on the last layer")
    return _yes(
        f"{convs(generator)} convolution layers (default {convs(baseline)}), 28x28x1 in [-1, 1]."
    )


def check_dcgan_discriminator(fn) -> bool:
    """03: ``fn()`` must build the course's DCGAN discriminator (28x28x1 image in, one logit
    out): Conv2D(64, 4, strides 2, same) - LeakyReLU 0.2 - Conv2D(128, 4, strides 2, same) -
    BatchNorm - LeakyReLU 0.2 - Flatten - Dense(1). Checked against
    :func:`gancourse.models.dcgan_discriminator`: same weight shapes, then, with the
    package's weights copied in, the same logits on random images."""
    _, keras = _tensorflow()
    from .models import dcgan_discriminator

    keras.utils.set_random_seed(3)
    package = dcgan_discriminator()
    try:
        mine = fn()
    except Exception as e:
        return _no(f"your function raised {type(e).__name__}: {e}")
    if not isinstance(mine, keras.Model):
        return _no(f"return a keras.Model, not {type(mine).__name__}")
    if tuple(mine.input_shape[1:]) != (28, 28, 1) or tuple(mine.output_shape[1:]) != (1,):
        return _no(
            f"input {mine.input_shape[1:]} and output {mine.output_shape[1:]}: the model takes "
            f"(28, 28, 1) images and gives one logit each"
        )
    want = [tuple(w.shape) for w in package.weights]
    got = [tuple(w.shape) for w in mine.weights]
    if got != want:
        hint = "Conv2D(64, 4) - Conv2D(128, 4) - BatchNormalization - Dense(1), in that order"
        if len(got) == len(want) - 4:
            hint = "the BatchNormalization after the second convolution is missing"
        elif got[-2:] != want[-2:]:
            hint = "both convolutions use strides=2 and padding='same' (28 -> 14 -> 7)"
        return _no(f"the weights have shapes {got}, the package's {want}: {hint}.")
    mine.set_weights(package.get_weights())
    x = np.random.default_rng(3).uniform(-1, 1, (8, 28, 28, 1)).astype("float32")
    a = np.asarray(mine(x, training=False))
    b = np.asarray(package(x, training=False))
    if np.allclose(a, b, atol=1e-4):
        return _yes("same weights, same logits as gancourse.models.dcgan_discriminator.")
    if np.allclose(a, 1 / (1 + np.exp(-b)), atol=1e-4):
        return _no("the last layer outputs a probability: leave out the sigmoid (a logit out).")
    return _no(
        "same weight shapes but other outputs: LeakyReLU(negative_slope=0.2) after each "
        "convolution (after the BatchNorm in the second block), no activation at the end."
    )


def check_critic_loss(fn) -> bool:
    """04: ``fn(real_scores, fake_scores)`` must return the WGAN critic loss to minimise."""
    real, fake = np.array([2.0, 1.0, 3.0]), np.array([0.5, -0.5, 0.0])
    try:
        value = float(fn(real, fake))
    except Exception as e:
        return _no(f"your function raised {type(e).__name__}: {e}")
    if math.isclose(value, 0.0 - 2.0, rel_tol=1e-6):
        return _yes("mean(fake) - mean(real): minimising it widens the gap the critic measures.")
    if math.isclose(value, 2.0, rel_tol=1e-6):
        return _no("that is the gap the critic *maximises*; return its negative")
    return _no(f"got {value}; expected mean(fake_scores) - mean(real_scores) = -2.0")


def check_linear_penalty(answer) -> bool:
    """04: gradient penalty of f(x) = w.x with w = (1.2, 1.6): (|w| - 1)^2 = 1."""
    if math.isclose(float(answer), 1.0, rel_tol=1e-3):
        return _yes("|w| = 2 everywhere, so the penalty is (2 - 1)^2 = 1.")
    return _no("the gradient of w.x is w everywhere; its norm is sqrt(1.2^2 + 1.6^2)")


def check_gradient_penalty(fn) -> bool:
    """04: ``fn(critic, real, fake)`` must return the WGAN-GP penalty
    E[(||grad f(x_hat)|| - 1)^2] at x_hat = a x + (1 - a) G(z), a ~ U(0, 1) per image, like
    :func:`gancourse.losses.gradient_penalty`. Checked with a critic f(x) = w ||x||^2 / 2
    (its gradient is w x_hat, so the penalty's expected value is known: 1/3 for the batch
    below) and at x_hat = 0, where a square root without a small epsilon inside has an
    infinite slope and the critic's update would be NaN."""
    tf, keras = _tensorflow()
    from . import losses

    critic = keras.Sequential([keras.Input((8, 8, 1)), _half_squared_norm()])
    n = 4096
    real = tf.fill((n, 8, 8, 1), 0.25)  # |x| = 2: x_hat = a x has norm 2a
    fake = tf.zeros((n, 8, 8, 1))
    keras.utils.set_random_seed(4)
    want = float(losses.gradient_penalty(critic, real, fake))  # about E(2a - 1)^2 = 1/3
    try:
        got = float(fn(critic, real, fake))
    except Exception as e:
        return _no(f"your function raised {type(e).__name__}: {e}")
    if not math.isfinite(got):
        return _no(f"the penalty is {got}; look for a division by zero or a log.")
    if abs(got - want) > 0.05:
        hints = [  # what typical slips give on this batch (their expected values)
            (1.81, "alpha must be uniform in [0, 1] (keras.random.uniform), not normal"),
            (0.5, "square the difference: (||grad|| - 1)^2"),
            (1.533, "use the norm ||grad||, not its square"),
            (0.024, "draw one alpha per image (shape (batch, 1, 1, 1)), not one per pixel"),
        ]
        hint = min(hints, key=lambda h: abs(h[0] - got))
        hint = (
            hint[1]
            if abs(hint[0] - got) < 0.1 * hint[0] + 0.01
            else (
                "differentiate the critic's output with respect to x_hat (tape.watch(x_hat)), "
                "take each image's gradient norm, then average (norm - 1)^2"
            )
        )
        return _no(f"your penalty is {got:.3f} on this batch, expected about {want:.3f}: {hint}.")
    zero = tf.zeros((8, 8, 8, 1))
    with tf.GradientTape() as tape:
        value = fn(critic, zero, zero)
    grads = tape.gradient(value, critic.trainable_variables)
    if any(gr is None for gr in grads):
        return _no("no gradient reaches the critic's weights: compute the penalty with TensorFlow.")
    if not all(np.all(np.isfinite(np.asarray(gr))) for gr in grads):
        return _no(
            "where the critic's gradient is exactly 0, your penalty's own gradient is NaN: "
            "sqrt has an infinite slope at 0. Take sqrt(sum(grad^2) + 1e-12)."
        )
    return _yes(
        f"{got:.3f} on this batch (the package: {want:.3f}; in expectation 1/3), and a finite "
        f"update where the critic's gradient vanishes."
    )


def check_grid_labels(fn) -> bool:
    """05: ``fn(classes, cols)`` gives the labels of a class-by-row grid, row by row."""
    try:
        out = np.asarray(fn(3, 2)).reshape(-1)
    except Exception as e:
        return _no(f"your function raised {type(e).__name__}: {e}")
    if out.tolist() == [0, 0, 1, 1, 2, 2]:
        return _yes("row k holds class k in every column.")
    if out.tolist() == [0, 1, 2, 0, 1, 2]:
        return _no("that is column by column (np.tile); rows should be one class each (np.repeat)")
    return _no(f"for 3 classes and 2 columns expected [0, 0, 1, 1, 2, 2], got {out.tolist()}")


def check_concat_dense(answer) -> bool:
    """05: parameters of Dense(7*7*128, no bias) on a 100 + 50 input."""
    if int(answer) == 150 * 7 * 7 * 128:
        return _yes(f"(100 + 50) x 6272 = {150 * 6272:,} weights.")
    return _no("inputs x outputs: the input is the concatenation, 100 + 50 = 150 wide")


def check_label_conditioning(fn) -> bool:
    """05: ``fn(images, labels, embedding, dense)`` must build what the conditional
    discriminator sees: the label, embedded (``embedding``, then flattened) and mapped by
    ``dense`` to one number per pixel, reshaped to an image-sized plane and concatenated to
    the images as one more channel. Checked against the ``image_and_label`` layer of
    :func:`gancourse.models.cgan_dcgan_discriminator` with the same layers."""
    tf, keras = _tensorflow()
    from .models import cgan_dcgan_discriminator

    keras.utils.set_random_seed(5)
    d = cgan_dcgan_discriminator(width=8)
    inner = keras.Model(d.inputs, d.get_layer("image_and_label").output)
    rng = np.random.default_rng(5)
    images = rng.uniform(-1, 1, (6, 28, 28, 1)).astype("float32")
    labels = np.array([[0], [1], [2], [7], [9], [3]], "int32")
    want = np.asarray(inner([images, labels]))
    try:
        got = np.asarray(
            fn(
                tf.constant(images),
                tf.constant(labels),
                d.get_layer("label_embedding"),
                d.get_layer("label_dense"),
            )
        )
    except Exception as e:
        return _no(f"your function raised {type(e).__name__}: {e}")
    if got.shape != want.shape:
        return _no(
            f"the result has shape {got.shape}, expected {want.shape}: reshape the label's "
            f"{28 * 28} numbers to (batch, 28, 28, 1) and concatenate along the channel axis "
            f"(axis=-1)."
        )
    if np.allclose(got[..., 1:], want[..., :1]) and np.allclose(got[..., :1], want[..., 1:]):
        return _no("the image must come first and the label's plane second (channel order).")
    if not np.allclose(got, want, atol=1e-5):
        if np.allclose(got[..., 0], images[..., 0]):
            return _no(
                "the image channel is right but the label's plane is not: embedding(labels), "
                "flatten, dense, reshape."
            )
        return _no("the values differ from the package's: concatenate, do not add or multiply.")
    return _yes(
        "the same (batch, 28, 28, 2) input as the package's discriminator: the image and a "
        "learned plane that tells D which class to judge against."
    )


def check_start_sizes(answer_32, answer_64) -> bool:
    """06: first feature-map side for 32x32 (two upsamplings) and 64x64 (three)."""
    if (int(answer_32), int(answer_64)) == (8, 8):
        return _yes("32 / 2^2 = 8 and 64 / 2^3 = 8.")
    return _no("each stride-2 upsampling doubles the side: divide by 2 per upsampling")


def check_pipeline(fn) -> bool:
    """06: ``fn(images, batch_size)`` must turn uint8 colour images (N, 32, 32, 3) into a
    ``tf.data.Dataset`` of training batches like :func:`gancourse.data.make_pipeline`: float32
    in [-1, 1], full batches only (``drop_remainder``), a new shuffled order every epoch,
    prefetched. Checked on 100 small random images against the package's pipeline."""
    tf, _ = _tensorflow()
    from .data import make_pipeline

    images = np.random.default_rng(6).integers(0, 256, (100, 32, 32, 3), dtype=np.uint8)
    want = make_pipeline(images, batch_size=16, seed=6)
    try:
        ds = fn(images.copy(), 16)
        epochs = [[np.asarray(b) for b in ds] for _ in range(2)]
    except Exception as e:
        return _no(f"your function raised {type(e).__name__}: {e}")
    if not isinstance(ds, tf.data.Dataset):
        return _no(f"return a tf.data.Dataset, not {type(ds).__name__}")
    first = epochs[0]
    if any(b.dtype != np.float32 for b in first):
        return _no(f"batches are {first[0].dtype}; cast to float32 before scaling")
    if [b.shape for b in first] != [tuple(b.shape) for b in want]:
        sizes = [len(b) for b in first]
        hint = (
            "drop the last, incomplete batch (batch(..., drop_remainder=True)): the "
            "generator's noise batch has a fixed size"
            if sizes and sizes[-1] != 16
            else "batches of (16, 32, 32, 3)"
        )
        return _no(f"batch sizes {sizes}, expected six batches of 16: {hint}.")
    values = np.concatenate(first)
    if values.min() >= 0 and values.max() <= 1:
        return _no("the values lie in [0, 1]; the generator's tanh makes [-1, 1]: x / 127.5 - 1")
    expected = np.sort(images.astype("float32").ravel() / 127.5 - 1.0)
    got = np.sort(values.ravel())
    if len(got) > len(expected) or not np.all(np.isin(np.round(got, 5), np.round(expected, 5))):
        return _no("the pixel values are not x / 127.5 - 1 of the images given")
    if np.array_equal(first[0], images[:16].astype("float32") / 127.5 - 1.0):
        return _no("the first batch is the first 16 images in order: shuffle before batching")
    if np.array_equal(first[0], epochs[1][0]):
        return _no(
            "both epochs start with the same batch: shuffle with reshuffle_each_iteration "
            "(the default of Dataset.shuffle) after any cache()"
        )
    return _yes(
        "float32 batches of 16 in [-1, 1], every image at most once per epoch, a new order each "
        "epoch: what make_pipeline gives."
    )


def check_batch_bytes(answer) -> bool:
    """06: bytes of a float32 batch of 64 images of 32x32x3."""
    if int(answer) == 64 * 32 * 32 * 3 * 4:
        return _yes(
            f"{64 * 32 * 32 * 3 * 4:,} bytes (768 KiB); the cached training set is about 600 MB."
        )
    return _no("batch x height x width x channels x 4 bytes per float32")


def check_slerp(fn) -> bool:
    """07: ``fn(z0, z1, t)`` must give the spherical interpolation of two vectors of equal
    length, sin((1-t) w)/sin(w) z0 + sin(t w)/sin(w) z1 with w the angle between them."""
    from .widgets import slerp

    rng = np.random.default_rng(0)
    z0, z1 = rng.standard_normal(100), rng.standard_normal(100)
    z1 *= np.linalg.norm(z0) / np.linalg.norm(z1)  # equal lengths: the classic formula applies
    try:
        out = [np.asarray(fn(z0, z1, t), dtype=float).reshape(-1) for t in (0.0, 0.3, 0.5, 1.0)]
    except Exception as e:
        return _no(f"your function raised {type(e).__name__}: {e}")
    if any(o.shape != z0.shape for o in out):
        return _no(f"expected a vector of shape {z0.shape}, got {out[1].shape}")
    want = [slerp(z0, z1, t) for t in (0.0, 0.3, 0.5, 1.0)]
    if not (np.allclose(out[0], z0, atol=1e-4) and np.allclose(out[-1], z1, atol=1e-4)):
        return _no("t = 0 must give z0 and t = 1 must give z1")
    if np.allclose(out[2], (z0 + z1) / 2, atol=1e-3):
        return _no(
            "that is the straight line (lerp); turn along the circle with sin((1-t) w) and sin(t w)"
        )
    if not all(np.allclose(o, w, atol=1e-3) for o, w in zip(out, want)):
        return _no("the endpoints are right but the path is not; w = arccos(z0.z1 / (|z0| |z1|))")
    return _yes(
        f"the path keeps the length {np.linalg.norm(z0):.2f} all the way (lerp's midpoint: "
        f"{np.linalg.norm((z0 + z1) / 2):.2f})."
    )


def check_midpoint_norm(answer, latent_dim=100) -> bool:
    """07: expected length of the midpoint (z0 + z1) / 2 of two independent N(0, I) vectors."""
    want = math.sqrt(latent_dim / 2)
    if abs(float(answer) - want) < 0.15:
        return _yes(
            f"(z0 + z1) / 2 is N(0, I/2): its length is about sqrt({latent_dim}/2) = {want:.2f}, "
            f"while a typical z has length about {math.sqrt(latent_dim):.0f}."
        )
    return _no(
        "each coordinate of (z0 + z1) / 2 has variance 1/4 + 1/4 = 1/2; add up latent_dim of them"
    )


def check_frechet_1d(fn) -> bool:
    """08: ``fn(m1, s1, m2, s2)`` is the Frechet distance between N(m1, s1^2) and N(m2, s2^2)."""
    cases = [
        ((0.0, 1.0, 0.0, 1.0), 0.0),
        ((0.0, 1.0, 3.0, 1.0), 9.0),
        ((1.0, 2.0, 1.0, 0.5), 2.25),
        ((-1.0, 3.0, 1.0, 1.0), 8.0),
    ]
    try:
        got = [float(fn(*args)) for args, _ in cases]
    except Exception as e:
        return _no(f"your function raised {type(e).__name__}: {e}")
    for (args, want), value in zip(cases, got):
        if not math.isclose(value, want, abs_tol=1e-6):
            m1, s1, m2, s2 = args
            as_variances = (m1 - m2) ** 2 + s1 + s2 - 2 * math.sqrt(s1 * s2)
            hint = (
                "s1 and s2 are standard deviations, not variances"
                if math.isclose(value, as_variances, abs_tol=1e-6)
                else "FID's formula in 1-D: (m1 - m2)^2 + s1^2 + s2^2 - 2 sqrt(s1^2 s2^2)"
            )
            return _no(f"fn{args} = {value:g}; expected {want:g}. {hint}".strip())
    return _yes(
        "in 1-D the FID formula is (m1 - m2)^2 + (s1 - s2)^2: means and spreads both count."
    )


def check_frechet_distance(fn) -> bool:
    """08: ``fn(features1, features2)`` must return the Frechet distance between two sets of
    feature vectors (one row per image), |m1 - m2|^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2)), like
    :func:`gancourse.metrics.fid_from_features`; checked on random correlated features."""
    from .metrics import fid_from_features

    rng = np.random.default_rng(8)
    mix = rng.standard_normal((6, 6))
    a = rng.standard_normal((300, 6)) @ mix  # few rows: a transposed slip stays fast
    b = rng.standard_normal((300, 6)) @ (mix + 0.5 * rng.standard_normal((6, 6))) + 0.3
    for f1, f2 in ((a, b), (a, a)):
        want = fid_from_features(f1, f2)
        try:
            got = float(np.real(fn(f1.copy(), f2.copy())))
        except Exception as e:
            return _no(f"your function raised {type(e).__name__}: {e}")
        if math.isclose(got, want, rel_tol=1e-3, abs_tol=1e-4):
            continue
        m1, m2 = f1.mean(0), f2.mean(0)
        s1, s2 = np.cov(f1, rowvar=False), np.cov(f2, rowvar=False)
        elementwise = float(
            ((m1 - m2) ** 2).sum() + np.trace(s1 + s2) - 2 * np.trace(np.sqrt(np.abs(s1 @ s2)))
        )
        if math.isclose(got, elementwise, rel_tol=1e-3):
            hint = (
                "np.sqrt takes the square root of each entry; (S1 S2)^(1/2) is the matrix "
                "square root (scipy.linalg.sqrtm, or from the eigenvalues)"
            )
        elif math.isclose(got, fid_from_features(f1.T, f2.T), rel_tol=1e-3):
            hint = "each row is one image: the covariance is np.cov(features, rowvar=False)"
        else:
            hint = "|m1 - m2|^2 + Tr(S1) + Tr(S2) - 2 Tr((S1 S2)^(1/2))"
        return _no(f"got {got:.4f}, expected {want:.4f}: {hint}.")
    return _yes(
        f"{fid_from_features(a, b):.4f} for the two sets and 0 for a set against itself, as "
        f"gancourse.metrics.fid_from_features computes them."
    )


def check_confident_is(answer) -> bool:
    """08: Inception Score of a generator that draws 5 classes equally often, each image
    classified with certainty: exp(KL) = exp(log 5) = 5."""
    if math.isclose(float(answer), 5.0, rel_tol=1e-3):
        return _yes(
            "p(y|x) is one-hot and p(y) uniform over 5 classes: KL = log 5 for every image, IS = 5."
        )
    return _no(
        "IS = exp(E_x KL(p(y|x) || p(y))); with one-hot p(y|x), "
        "KL = -log p(y) for the image's class"
    )


def check_hinge_losses(d_loss_fn, g_loss_fn) -> bool:
    """09: ``d_loss_fn(real_logits, fake_logits)`` and ``g_loss_fn(fake_logits)`` must be the
    hinge losses of :mod:`gancourse.losses` (NumPy or TensorFlow in, a number out); checked
    on random logits against the package's versions."""
    from . import losses

    rng = np.random.default_rng(9)
    for _ in range(3):
        real = rng.normal(0, 2, size=(16, 1)).astype("float32")
        fake = rng.normal(0, 2, size=(16, 1)).astype("float32")
        try:
            d_mine, g_mine = float(d_loss_fn(real, fake)), float(g_loss_fn(fake))
        except Exception as e:  # a learner's bug is feedback, not a crash
            return _no(f"your function raised {type(e).__name__}: {e}")
        d_want = float(losses.hinge_discriminator_loss(real, fake))
        g_want = float(losses.hinge_generator_loss(fake))
        if not math.isclose(d_mine, d_want, rel_tol=1e-4, abs_tol=1e-5):
            no_margin = float(np.mean(np.maximum(0, -real)) + np.mean(np.maximum(0, fake)))
            hint = (
                " - the margin is missing: relu(1 - D(x)) and relu(1 + D(G(z)))"
                if math.isclose(d_mine, no_margin, rel_tol=1e-4)
                else ""
            )
            return _no(f"D's loss is {d_mine:.4f}, the package's {d_want:.4f}{hint}.")
        if not math.isclose(g_mine, g_want, rel_tol=1e-4, abs_tol=1e-5):
            hint = (
                " - G maximises D's score: its loss is minus the mean score"
                if math.isclose(g_mine, -g_want, rel_tol=1e-4)
                else ""
            )
            return _no(f"G's loss is {g_mine:.4f}, the package's {g_want:.4f}{hint}.")
    return _yes("both hinge losses agree with gancourse.losses on random logits.")


def check_r1_penalty(fn) -> bool:
    """09: ``fn(discriminator, real)`` must return E||grad_x D(x)||^2 over the real batch (a
    number), like :func:`gancourse.losses.r1_penalty`; checked on a small random D."""
    _, keras = _tensorflow()
    from . import losses

    keras.utils.set_random_seed(9)
    x = keras.Input((6, 6, 1))
    h = keras.layers.Dense(1)(
        keras.layers.Flatten()(keras.layers.Conv2D(4, 3, activation="tanh")(x))
    )
    d = keras.Model(x, h)
    real = np.random.default_rng(9).uniform(-1, 1, size=(8, 6, 6, 1)).astype("float32")
    try:
        mine = float(fn(d, real))
    except Exception as e:
        return _no(f"your function raised {type(e).__name__}: {e}")
    want = float(losses.r1_penalty(d, real))
    if math.isclose(mine, want, rel_tol=1e-3):
        return _yes(f"E||grad D(x)||^2 = {want:.5f}, as the package computes it.")
    grads = _input_gradients(d, real)
    norms = np.sqrt((grads**2).reshape(len(real), -1).sum(axis=1))
    if math.isclose(mine, float(norms.mean()), rel_tol=1e-3):
        return _no("that is the mean gradient norm; R1 uses the *squared* norm.")
    if math.isclose(mine, float((grads**2).mean()), rel_tol=1e-3):
        return _no(
            "you averaged over pixels too: sum the squares over each image, then average "
            "over the batch."
        )
    return _no(
        f"got {mine:.5f}, expected {want:.5f}: differentiate D's output with respect to "
        f"the real images (tape.watch), square, sum per image, average."
    )


def check_guidance_step(fn) -> bool:
    """10: ``fn(generator, classifier, z, target, lr, shell_weight)`` must return z after one
    step of classifier guidance, z + lr * grad_z [logit_target(G(z)) - shell_weight *
    (|z| - sqrt(d))^2], like :func:`gancourse.editing.guidance_step`; checked on a small
    random generator and classifier, with vectors on and off the shell."""
    tf, keras = _tensorflow()
    from .editing import guidance_step

    keras.utils.set_random_seed(10)
    z_in = keras.Input((8,))
    g = keras.Model(
        z_in, keras.layers.Reshape((4, 4, 1))(keras.layers.Dense(16, activation="tanh")(z_in))
    )
    x_in = keras.Input((4, 4, 1))
    classifier = keras.Model(x_in, keras.layers.Dense(3)(keras.layers.Flatten()(x_in)))
    rng = np.random.default_rng(10)
    z = rng.standard_normal((6, 8)).astype("float32")
    z *= np.array([0.5, 1.0, 1.5, 1.0, 2.0, 0.8], "float32")[:, None]  # some off the shell
    target = np.array([0, 1, 2, 0, 1, 2])
    lr, shell_weight = 0.1, 0.5
    try:
        mine = np.asarray(fn(g, classifier, tf.constant(z), target, lr, shell_weight), "float32")
    except Exception as e:
        return _no(f"your function raised {type(e).__name__}: {e}")
    if mine.shape != z.shape:
        if mine.size == 6 * 16:
            return _no(
                f"your step has the shape of the images ({mine.shape}), not of z {z.shape}: "
                "take the gradient with respect to z (tape.watch(z) before calling the "
                "generator), so that it flows back through G."
            )
        return _no(f"the new z must have the shape of z {z.shape}, not {mine.shape}")

    def step(lr_, weight):
        return np.asarray(guidance_step(g, classifier, z, target, lr_, weight))

    if np.allclose(mine, step(lr, shell_weight), atol=1e-5):
        return _yes("the step climbs the target's logit and keeps |z| near sqrt(d).")
    if np.allclose(mine, step(-lr, shell_weight), atol=1e-5) or np.allclose(
        mine, step(-lr, -shell_weight), atol=1e-5
    ):
        return _no(
            "your z moves the wrong way: guidance *raises* the target's score, so add "
            "lr times the gradient (or subtract the gradient of the negated objective)."
        )
    if np.allclose(mine, step(lr, 0.0), atol=1e-5):
        return _no(
            "the shell term is missing: subtract shell_weight * (|z| - sqrt(d))^2 from the "
            "objective, or z drifts off the sphere where the generator was trained."
        )
    if np.allclose(mine, step(lr, -shell_weight), atol=1e-5):
        return _no("the shell term has the wrong sign: it must pull |z| back to sqrt(d).")
    return _no(
        "your new z differs from the package's: objective = logit of the target class of "
        "classifier(generator(z)) - shell_weight * (|z| - sqrt(d))^2 per vector, summed; "
        "z + lr * its gradient with respect to z."
    )


def _tensorflow():
    from .config import quiet_tensorflow

    tf = quiet_tensorflow()
    import keras

    return tf, keras


def _softplus(x):
    return np.logaddexp(0.0, x)


def _half_squared_norm():
    """f(x) = w |x|^2 / 2 per image with one trainable weight w = 1: its input gradient is
    w x, which makes the gradient penalty's value known in closed form."""
    _, keras = _tensorflow()

    class HalfSquaredNorm(keras.layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(shape=(), initializer="ones", name="w")

        def call(self, x):
            axes = list(range(1, len(x.shape)))
            return 0.5 * self.w * keras.ops.sum(keras.ops.square(x), axis=axes)[:, None]

    return HalfSquaredNorm()


def _input_gradients(d, x):
    import tensorflow as tf

    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = tf.reduce_sum(d(x, training=True))
    return tape.gradient(out, x).numpy()
