"""Self-checks for the notebooks' exercises. Each ``check_*`` runs the learner's answer, prints
whether it is right (with a hint that names the slip when it is not) and returns True or
False, so a learner gets feedback without looking at the solution.

An answer still left as its stub (a function that raises ``NotImplementedError`` or returns
nothing, or ``answer = ...``) gets a kind "not done yet" instead of a failure, so running a
whole notebook never stops at an exercise."""

from __future__ import annotations

import functools
import math
import warnings

import numpy as np


def _yes(msg) -> bool:
    print(f"✅ Correct: {msg}")
    return True


def _no(msg) -> bool:
    print(f"❌ Not yet: {msg}")
    return False


class _NotDone(Exception):
    """The learner's cell is still the stub."""


class _Wrong(Exception):
    """A wrong answer found while running it: the message is the feedback."""


def _check(fn):
    """Turn a stub into "not done yet" and a learner's crash into feedback."""

    @functools.wraps(fn)
    def check(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except _NotDone:
            print(
                "⏳ Not done yet: replace the `raise NotImplementedError` (or the `...`) with your "
                "answer, then run this cell again."
            )
            return False
        except _Wrong as e:
            return _no(str(e))

    return check


def _call(fn, *args, returns=True):
    """``fn(*args)``; a stub (NotImplementedError, or no result where one is due) is not done
    yet, any other exception is feedback."""
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            out = fn(*args)
    except NotImplementedError:
        raise _NotDone from None
    except Exception as e:  # a learner's bug is feedback, not a crash
        raise _Wrong(f"your function raised {type(e).__name__}: {e}") from None
    if returns and (out is None or out is Ellipsis):
        raise _NotDone
    return out


def _number(answer) -> float:
    """A quiz answer as a float; ``...`` or None (the stub) is not done yet."""
    if answer is None or answer is Ellipsis:
        raise _NotDone
    try:
        return float(answer)
    except (TypeError, ValueError):
        raise _Wrong(f"give one number, not {answer!r}") from None


def _array(out, dtype=float):
    try:
        return np.asarray(out, dtype=dtype)
    except Exception as e:
        raise _Wrong(f"your result is not an array of numbers ({type(e).__name__}: {e})") from None


# ---------------------------------------------------------------- 00 introduction


@_check
def check_normalise(fn) -> bool:
    """00: ``fn(x_uint8)`` must return float32 images in [-1, 1], channels-last: a grey batch
    (n, h, w) gets a channel axis, a colour batch (n, h, w, 3) keeps its own."""
    rng = np.random.default_rng(0)
    grey = rng.integers(0, 256, (2, 3, 5), dtype=np.uint8)
    grey[0, 0, :2] = 0, 255
    colour = rng.integers(0, 256, (2, 3, 5, 3), dtype=np.uint8)
    colour[0, 0, 0] = 0, 128, 255
    for x, want_shape, what in (
        (grey, (2, 3, 5, 1), "grey batch (2, 3, 5)"),
        (colour, (2, 3, 5, 3), "colour batch (2, 3, 5, 3)"),
    ):
        out = np.asarray(_call(fn, x.copy()))
        if out.shape != want_shape:
            if x.ndim == 4 and out.shape == want_shape + (1,):
                raise _Wrong(
                    f"a {what} came back as {out.shape}: a colour batch already has its "
                    "channel axis; add one only when x.ndim == 3"
                )
            if out.shape == (2, 1, 3, 5):
                raise _Wrong(
                    "channels-first (2, 1, 3, 5): Keras wants channels-last, the channel axis "
                    "at the end (x[..., None])"
                )
            raise _Wrong(
                f"a {what} came back as {out.shape}, expected {want_shape}: add a channel "
                "axis with x[..., None] to grey images only"
            )
        if out.dtype != np.float32:
            raise _Wrong(f"dtype {out.dtype}; expected float32 (x.astype('float32'))")
        want = x.reshape(want_shape).astype("float32") / 127.5 - 1.0
        if not np.allclose(out, want, atol=1e-6):
            if np.allclose(out, x.reshape(want_shape) / 255.0, atol=1e-6):
                raise _Wrong(
                    "x / 255 gives [0, 1]; the generator's tanh makes [-1, 1]: x / 127.5 - 1"
                )
            raise _Wrong("values are off: 0 must map to -1 and 255 to +1 (x / 127.5 - 1)")
    return _yes("0 -> -1, 255 -> +1, float32, channels-last, for grey and colour batches.")


@_check
def check_class_balance(answer, dataset="fashion_mnist") -> bool:
    """00: the number of training images of each class (one number: they are balanced)."""
    from .data import load_dataset

    value = _number(answer)
    counts = np.bincount(load_dataset(dataset).y_train)
    if counts.min() != counts.max():
        return _no(f"{dataset} is not balanced here; counts are {counts.tolist()}")
    if value == counts[0]:
        return _yes(f"every class has {counts[0]} training images.")
    if value == counts.sum():
        return _no("that is the whole training set; count per class with np.bincount(y_train)")
    return _no("count with np.bincount(y_train)")


# ---------------------------------------------------------------- 01 theory


@_check
def check_optimal_discriminator(fn) -> bool:
    """01: ``fn(p_data, p_g)`` must return D*(x) = p_data / (p_data + p_g), elementwise, and a
    finite value in [0, 1] where both densities are 0 (any such value is optimal there)."""
    p = np.array([0.2, 1.0, 0.0, 3.0, 0.0])
    q = np.array([0.2, 0.0, 1.0, 1.0, 0.0])
    out = _array(_call(fn, p.copy(), q.copy())).reshape(-1)
    if out.shape != p.shape:
        raise _Wrong(f"got shape {out.shape} for 5 densities; return one value per point")
    want = np.array([0.5, 1.0, 0.0, 0.75])
    if not np.allclose(out[:4], want):
        if np.allclose(out[:4], [0.5, 0.0, 1.0, 0.25]):
            hint = "that is p_g / (p_data + p_g): D* is the data's share of the density"
        elif np.allclose(out[[0, 3]], [1.0, 3.0]):
            hint = "divide by the sum p_data + p_g, not by p_g"
        else:
            hint = "expected [0.5, 1.0, 0.0, 0.75]"
        raise _Wrong(
            f"got {np.round(out[:4], 4).tolist()} for p_data={p[:4].tolist()}, "
            f"p_g={q[:4].tolist()}: {hint}"
        )
    if not np.isfinite(out[4]):
        raise _Wrong(
            f"where both densities are 0 your D* is {out[4]} (0 / 0). Any value in [0, 1] is "
            "optimal there; return e.g. 0.5 (np.divide(..., where=total > 0) or np.where)"
        )
    if not 0.0 <= out[4] <= 1.0:
        raise _Wrong(
            f"where both densities are 0 you return {out[4]}: D is a probability in [0, 1]"
        )
    return _yes(
        "D* is 1/2 where the densities agree, 1 where only data lives, finite where neither does."
    )


@_check
def check_value_at_equilibrium(answer) -> bool:
    """01: V(D*, G) when p_g = p_data, i.e. -log 4."""
    value = _number(answer)
    if math.isclose(value, -math.log(4), rel_tol=1e-3):
        return _yes("V = log(1/2) + log(1/2) = -log 4 = -1.386; the JS divergence is 0.")
    if math.isclose(value, math.log(4), rel_tol=1e-3):
        return _no("the sign: the log of a probability below 1 is negative")
    if math.isclose(abs(value), math.log(2), rel_tol=1e-3):
        return _no("V has two terms, E[log D(x)] and E[log(1 - D(G(z)))], each log 1/2")
    return _no("at p_g = p_data, D* = 1/2 everywhere: V = E[log 1/2] + E[log 1/2]")


# ---------------------------------------------------------------- 02 vanilla GAN


@_check
def check_smoothed_targets(fn) -> bool:
    """02: ``fn(batch, smoothing)`` must return one-sided smoothed targets for the real batch."""
    for batch, s in ((4, 0.1), (3, 0.25)):
        out = _array(_call(fn, batch, s)).reshape(-1)
        if out.shape == (batch,) and np.allclose(out, 1 - s):
            continue
        if out.shape == (batch,) and np.allclose(out, s):
            hint = f"real targets are 1 - smoothing = {1 - s}, not the smoothing itself"
        elif out.shape != (batch,):
            hint = f"return one target per real image: {batch} numbers for batch={batch}"
        elif out.std() > 0:
            hint = "one-sided smoothing is one constant target for every real image, not noise"
        else:
            hint = f"real targets should all be 1 - {s} = {1 - s} (use the arguments)"
        raise _Wrong(
            f"for batch={batch}, smoothing={s} got {np.round(out, 4).tolist()}; {hint} "
            "(one-sided: fake targets stay 0, so they are not part of this)"
        )
    return _yes("real targets 1 - smoothing, fakes stay 0.")


@_check
def check_train_step(fn) -> bool:
    """02: ``fn(generator, discriminator, g_opt, d_opt, real, z)`` must take one training
    step of the GAN with the non-saturating loss and return ``(d_loss, g_loss, ...)``.
    Checked on two small networks from the same weights, noise and plain SGD optimizers:
    same losses and same new weights as either common order, (a) both losses from one
    forward pass, then both updates (:meth:`gancourse.GAN.train_step`), or (b) D's update
    first, then G's loss on fakes of the same ``z`` scored by the updated D."""
    tf, keras = _tensorflow()
    from . import losses
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
    real_logits = d(real, training=True)
    fake_logits = d(g(z, training=True), training=True)
    g0, d0 = g.get_weights(), d.get_weights()

    def fresh(net, weights):
        copy = keras.models.clone_model(net)
        copy.set_weights(weights)
        return copy

    # (a) the package's step: one forward pass, both updates
    gan = GAN(fresh(g, g0), fresh(d, d0))
    gan.compile(g_optimizer=keras.optimizers.SGD(0.1), d_optimizer=keras.optimizers.SGD(0.1))
    gan.sample_noise = lambda n: z
    logs = gan.train_step(real)
    want_d = float(logs["d_loss"])
    orders = {"one forward pass": (float(logs["g_loss"]), gan.generator, gan.discriminator)}
    # (b) D first, then G against the updated D
    gs, ds = fresh(g, g0), fresh(d, d0)
    with tf.GradientTape() as tape:
        d_loss = losses.discriminator_loss(ds(real, training=True), ds(gs(z, training=True)))
    keras.optimizers.SGD(0.1).apply_gradients(
        zip(tape.gradient(d_loss, ds.trainable_variables), ds.trainable_variables)
    )
    with tf.GradientTape() as tape:
        g_loss = losses.generator_loss(ds(gs(z, training=True), training=True))
    keras.optimizers.SGD(0.1).apply_gradients(
        zip(tape.gradient(g_loss, gs.trainable_variables), gs.trainable_variables)
    )
    orders["D first"] = (float(g_loss), gs, ds)

    out = _call(fn, g, d, keras.optimizers.SGD(0.1), keras.optimizers.SGD(0.1), real, z)
    try:
        got_d, got_g = float(out[0]), float(out[1])
    except Exception:
        raise _Wrong("return the two losses, (d_loss, g_loss)") from None
    if not _close(got_d, want_d):
        bce = keras.losses.BinaryCrossentropy()  # on logits as if they were probabilities
        as_probs = float(bce(tf.ones_like(real_logits), real_logits)) + float(
            bce(tf.zeros_like(fake_logits), fake_logits)
        )
        if _close(got_d, want_d / 2):
            hint = "add the two cross-entropies (real and fake), do not average them"
        elif _close(got_d, as_probs):
            hint = "D outputs logits: BinaryCrossentropy(from_logits=True)"
        else:
            hint = (
                "D's targets are 1 for real images and 0 for fakes, and its loss is the sum "
                "of the two cross-entropies"
            )
        raise _Wrong(f"D's loss is {got_d:.4f}, expected {want_d:.4f}: {hint}.")
    order = next((name for name, (want_g, *_) in orders.items() if _close(got_g, want_g)), None)
    if order is None:
        minimax = -float(np.mean(_softplus(np.asarray(fake_logits))))  # -BCE(0, D(G(z)))
        hint = (
            "that is the minimax (saturating) loss; the non-saturating one is BCE(1, D(G(z)))"
            if math.isclose(got_g, minimax, rel_tol=1e-4)
            else "G wants D to call its fakes real: BCE with target 1 on D(G(z)), from the "
            "z you are given (both orders are accepted: one forward pass for both losses, "
            "or D's update first and then G's loss with the updated D)"
        )
        want = " or ".join(f"{v[0]:.4f} ({k})" for k, v in orders.items())
        raise _Wrong(f"G's loss is {got_g:.4f}, expected {want}: {hint}.")
    _, g_want, d_want = orders[order]
    for net, before, package, who in (
        (g, g0, g_want, "generator"),
        (d, d0, d_want, "discriminator"),
    ):
        mine = net.get_weights()
        if all(np.allclose(a, b) for a, b in zip(mine, before)):
            raise _Wrong(
                f"the losses are right but the {who} did not move: apply its gradients with "
                f"its optimizer."
            )
        if not all(np.allclose(a, b, atol=1e-5) for a, b in zip(mine, package.get_weights())):
            raise _Wrong(
                f"the losses are right but the {who} moved differently: each network steps "
                f"on the gradient of its own loss with respect to its own variables (one "
                f"tape per network)."
            )
    how = (
        "both losses from one forward pass, as gancourse.GAN.train_step does"
        if order == "one forward pass"
        else "D's update first, then G against the updated D (the other common order)"
    )
    return _yes(f"same losses (D {want_d:.4f}, G {got_g:.4f}) and the same new weights: {how}.")


@_check
def check_param_count(answer, model) -> bool:
    """02/03: the total number of parameters of ``model`` (worked out by hand)."""
    from .models import count_params

    value = int(_number(answer))
    total = count_params(model)["total"]
    if value == total:
        return _yes(f"{total:,} parameters.")
    biases = sum(int(np.prod(w.shape)) for w in model.weights if len(w.shape) == 1)
    if value == total - biases:
        return _no(
            f"{value:,} leaves out the biases: each Dense layer has in*out + out parameters."
        )
    return _no(
        f"{value:,} is {'too many' if value > total else 'too few'}. A Dense "
        "layer has in*out + out parameters; BatchNormalization has 4 per feature "
        "(2 trainable, 2 moving statistics)."
    )


# ---------------------------------------------------------------- 03 DCGAN


@_check
def check_up_block(fn) -> bool:
    """03: ``fn(x)`` must apply the DCGAN generator's first upsampling block to a Keras tensor
    of 7x7x128 feature maps: Conv2DTranspose(64, 4, strides 2, "same", no bias) -
    BatchNormalization - ReLU, giving 14x14x64. Checked against the block of
    :func:`gancourse.models.dcgan_generator`: same weight shapes, then, with the package's
    weights copied in, the same outputs."""
    _, keras = _tensorflow()
    from .models import dcgan_generator

    keras.utils.set_random_seed(3)
    g = dcgan_generator()
    package = keras.Model(g.get_layer("reshape").output, g.get_layer("up_1_relu").output)
    mine = _learner_model(
        fn,
        keras.Input((7, 7, 128)),
        ("the block's output", (14, 14, 64)),
        "64 filters, strides=2 and padding='same' double the side, 7 -> 14",
    )
    want = [tuple(w.shape) for w in package.weights]
    got = [tuple(w.shape) for w in mine.weights]
    if got != want:
        if (64,) in got[1:2] and len(got) == len(want) + 1:
            hint = "use_bias=False: the BatchNormalization that follows has its own shift"
        elif len(got) < len(want):
            hint = "BatchNormalization after the transposed convolution is missing"
        elif got and got[0] != want[0]:
            hint = "kernel_size=4 (a multiple of the stride, against checkerboards)"
        else:
            hint = (
                "Conv2DTranspose(64, 4, strides=2, padding='same', use_bias=False), "
                "BatchNormalization, ReLU"
            )
        raise _Wrong(f"the weights have shapes {got}, the package's {want}: {hint}.")
    rng = np.random.default_rng(3)
    kernel, gamma, beta, mean, var = package.get_weights()
    package.set_weights(  # random BatchNorm statistics, so that its place in the block shows
        [
            kernel,
            rng.uniform(0.5, 1.5, 64),
            rng.normal(0, 1, 64),
            rng.normal(0, 0.5, 64),
            rng.uniform(0.5, 2.0, 64),
        ]
    )
    mine.set_weights(package.get_weights())
    h = rng.standard_normal((4, 7, 7, 128)).astype("float32")
    a, b = np.asarray(mine(h, training=False)), np.asarray(package(h, training=False))
    if np.allclose(a, b, atol=1e-4):
        return _yes(
            "same weights, same 14x14x64 output as the block in gancourse.models.dcgan_generator."
        )
    hint = "the order is transposed convolution, then BatchNormalization, then ReLU"
    if a.min() < -1e-6:
        hint = f"end with ReLU (LeakyReLU is the discriminator's); {hint}"
    raise _Wrong(f"same weight shapes but other outputs: {hint}.")


@_check
def check_deeper_generator(generator, baseline=None) -> bool:
    """03: a deeper generator still makes 28x28x1 images in [-1, 1] and has more
    convolution layers than the default one."""
    from .models import dcgan_generator, latent_dim_of

    if generator is None or generator is Ellipsis:
        raise _NotDone
    if not hasattr(generator, "layers") or not hasattr(generator, "output_shape"):
        return _no(
            f"give a Keras model (gc.models.dcgan_generator(...)), not {type(generator).__name__}"
        )
    baseline = baseline or dcgan_generator()
    if tuple(generator.output_shape[1:]) != (28, 28, 1):
        return _no(f"output shape {generator.output_shape[1:]}; it must stay (28, 28, 1)")
    convs = lambda m: sum("Conv" in layer.__class__.__name__ for layer in m.layers)  # noqa: E731
    if convs(generator) <= convs(baseline):
        return _no(
            f"{convs(generator)} convolution layers, no more than the default "
            f"{convs(baseline)}: add stride-1 Conv2DTranspose blocks"
        )
    z = np.random.default_rng(0).normal(size=(8, latent_dim_of(generator))).astype("float32")
    out = np.asarray(generator(z, training=False))
    if out.min() < -1 or out.max() > 1:
        return _no("outputs leave [-1, 1]: keep tanh on the last layer")
    return _yes(
        f"{convs(generator)} convolution layers (default {convs(baseline)}), 28x28x1 in [-1, 1]."
    )


@_check
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
    mine = _call(fn)
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


# ---------------------------------------------------------------- 04 WGAN


@_check
def check_critic_loss(fn) -> bool:
    """04: ``fn(real_scores, fake_scores)`` must return the WGAN critic loss to minimise."""
    real, fake = np.array([2.0, 1.0, 3.0]), np.array([0.5, -0.5, 0.0])
    value = _number(_call(fn, real.copy(), fake.copy()))
    if math.isclose(value, 0.0 - 2.0, rel_tol=1e-6):
        return _yes("mean(fake) - mean(real): minimising it widens the gap the critic measures.")
    if math.isclose(value, 2.0, rel_tol=1e-6):
        return _no("that is the gap the critic *maximises*; return its negative")
    if math.isclose(abs(value), 6.0, rel_tol=1e-6):
        return _no(
            "average the scores (np.mean), do not sum them: the loss must not grow with the batch"
        )
    return _no(f"got {value}; expected mean(fake_scores) - mean(real_scores) = -2.0")


@_check
def check_weight_clipping(fn) -> bool:
    """04: ``fn(critic, clip_value)`` must clip, in place, every trainable variable of the
    critic to [-clip_value, clip_value], as :class:`gancourse.WGAN`'s train step does after each
    critic update (``w.assign(ops.clip(w, -c, c))``), and leave the rest (BatchNorm's moving
    statistics) alone."""
    _, keras = _tensorflow()

    critic = keras.Sequential(
        [
            keras.Input((4, 4, 1)),
            keras.layers.Conv2D(3, 3),
            keras.layers.BatchNormalization(),
            keras.layers.Flatten(),
            keras.layers.Dense(1),
        ]
    )
    rng = np.random.default_rng(4)
    before = [rng.normal(0, 0.05, w.shape).astype("float32") for w in critic.weights]
    before = [
        b if "variance" not in w.path else np.abs(b) + 1.0 for b, w in zip(before, critic.weights)
    ]
    critic.set_weights(before)
    c = 0.03
    trainable = {id(v) for v in critic.trainable_variables}
    want = [np.clip(b, -c, c) if id(w) in trainable else b for b, w in zip(before, critic.weights)]
    _call(fn, critic, c, returns=False)
    got = critic.get_weights()
    if all(np.array_equal(a, b) for a, b in zip(got, before)):
        raise _Wrong(
            "the critic's weights did not change: assign the clipped values back to each "
            "variable (w.assign(...)); computing them is not enough"
        )
    if all(np.allclose(a, b) for a, b in zip(got, want)):
        return _yes(
            f"every trainable weight in [-{c}, {c}], BatchNorm's moving statistics untouched."
        )
    for a, b, w in zip(got, before, critic.weights):
        trained = id(w) in trainable
        if not trained and not np.allclose(a, b):
            raise _Wrong(
                "you also clipped BatchNorm's moving statistics: clip critic.trainable_variables, "
                "not critic.weights"
            )
        if trained and np.array_equal(a, b) and np.abs(b).max() > c:
            raise _Wrong(f"{w.path} was left unclipped: clip every trainable variable, biases too")
        if trained and a.min() >= 0 and b.min() < 0:
            raise _Wrong(f"clip to [-{c}, {c}] (-clip_value to +clip_value), not [0, {c}]")
        if trained and not np.allclose(a, np.clip(b, -c, c)):
            if np.abs(a).max() <= c + 1e-7 and np.allclose(
                a / np.abs(a).max(), b / np.abs(b).max()
            ):
                raise _Wrong("you rescaled the weights; clip each value to the bounds instead")
            raise _Wrong(
                f"{w.path} is not clipped to [-{c}, {c}]: use the clip_value you are given "
                f"(ops.clip(w, -clip_value, clip_value))"
            )
    raise _Wrong(f"the weights are not clip(w, -{c}, {c})")


@_check
def check_gradient_penalty(fn) -> bool:
    """04: ``fn(critic, real, fake)`` must return the WGAN-GP penalty
    E[(||grad f(x_hat)|| - 1)^2] at x_hat = a x + (1 - a) G(z), a ~ U(0, 1) per image, like
    :func:`gancourse.losses.gradient_penalty`. The critic f(x) = w ||x||^2 / 2 records what
    it is called on, so the check sees the learner's interpolates: real and fake images
    differ in every pixel, which makes each image's alpha readable; the critic's gradient
    is w x_hat, so the penalty of those interpolates is known exactly. Then at x_hat = 0,
    where a square root without a small epsilon inside has an infinite slope and the
    critic's update would be NaN."""
    tf, keras = _tensorflow()

    recorder = _half_squared_norm()
    critic = keras.Sequential([keras.Input((4, 4, 1)), recorder])
    rng = np.random.default_rng(4)
    n = 256
    real_np = rng.uniform(0.5, 1.0, (n, 4, 4, 1)).astype("float32")
    fake_np = rng.uniform(-1.0, -0.5, (n, 4, 4, 1)).astype("float32")
    recorder.seen.clear()
    got = _number(_call(fn, critic, tf.constant(real_np), tf.constant(fake_np)))
    if not math.isfinite(got):
        raise _Wrong(f"the penalty is {got}; look for a division by zero or a log.")
    seen = [s for s in recorder.seen if s.shape == real_np.shape]
    if not seen:
        raise _Wrong(
            "the critic was never called on a batch of interpolates: "
            "scores = critic(x_hat, training=True) (outside a tf.function, so the check can see it)"
        )
    x_hat = seen[-1].astype("float64")
    if np.allclose(x_hat, real_np) or np.allclose(x_hat, fake_np):
        raise _Wrong(
            "the critic must be differentiated at the interpolates x_hat, not at the real or "
            "fake images"
        )
    alpha_px = ((x_hat - fake_np) / (real_np - fake_np)).reshape(n, -1)  # each pixel's alpha
    if (alpha_px.max(1) - alpha_px.min(1)).max() > 1e-4:
        if alpha_px.min() > -1e-5 and alpha_px.max() < 1 + 1e-5 and alpha_px.std(1).mean() > 0.1:
            raise _Wrong("draw one alpha per image (shape (batch, 1, 1, 1)), not one per pixel")
        raise _Wrong(
            "x_hat is not alpha * real + (1 - alpha) * fake with one alpha per image: check the "
            "(1 - alpha) * fake term"
        )
    alpha = alpha_px.mean(1)
    if alpha.std() < 1e-6:
        raise _Wrong(
            f"every image got the same alpha ({alpha[0]:.3f}): draw one alpha per image, "
            "shape (batch, 1, 1, 1), not one for the whole batch"
        )
    if alpha.min() < -1e-5 or alpha.max() > 1 + 1e-5:
        raise _Wrong(
            f"alpha ranges from {alpha.min():.2f} to {alpha.max():.2f}: alpha must be uniform in "
            "[0, 1] (tf.random.uniform), not normal"
        )
    if abs(alpha.mean() - 0.5) > 0.1 or abs(alpha.std() - 12**-0.5) > 0.07:
        raise _Wrong(
            f"alpha has mean {alpha.mean():.2f} and standard deviation {alpha.std():.2f}: "
            "alpha must be uniform in [0, 1] (mean 0.5, standard deviation 0.29)"
        )
    w = float(np.asarray(recorder.w))
    grads = w * x_hat.reshape(n, -1)  # the critic's gradient at the learner's interpolates
    norms = np.sqrt((grads**2).sum(1))
    want = float(np.mean((norms - 1) ** 2))
    if not _close(got, want, rel=1e-3):
        slips = [
            (np.mean(np.abs(norms - 1)), "square the difference: (||grad|| - 1)^2"),
            (np.mean((norms**2 - 1) ** 2), "use the norm ||grad||, not its square"),
            (
                np.mean((np.sqrt((grads**2).mean(1)) - 1) ** 2),
                "sum the squares over each image's pixels (axis=[1, 2, 3]), not their mean",
            ),
            (
                (np.sqrt((grads**2).sum()) - 1) ** 2,
                "one gradient norm per image (axis=[1, 2, 3]), not one for the whole batch",
            ),
            ((norms.mean() - 1) ** 2, "average (||grad|| - 1)^2 over the images, not the norms"),
            (10 * want, "return the penalty itself; the train step multiplies it by lambda = 10"),
        ]
        hint = next(
            (h for v, h in slips if _close(got, float(v), rel=1e-3)),
            "differentiate the critic's output with respect to x_hat (tape.watch(x_hat)), "
            "take each image's gradient norm, then average (norm - 1)^2",
        )
        raise _Wrong(
            f"for your own interpolates the penalty is {want:.4f}, your function returned "
            f"{got:.4f}: {hint}."
        )
    zero = tf.zeros((8, 4, 4, 1))
    with tf.GradientTape() as tape:
        value = _call(fn, critic, zero, zero)
    grads = tape.gradient(value, critic.trainable_variables)
    if any(gr is None for gr in grads):
        return _no("no gradient reaches the critic's weights: compute the penalty with TensorFlow.")
    if not all(np.all(np.isfinite(np.asarray(gr))) for gr in grads):
        return _no(
            "where the critic's gradient is exactly 0, your penalty's own gradient is NaN: "
            "sqrt has an infinite slope at 0. Take sqrt(sum(grad^2) + 1e-12)."
        )
    return _yes(
        f"{got:.4f} on this batch, one uniform alpha per image, and a finite update where the "
        "critic's gradient vanishes: what gancourse.losses.gradient_penalty computes."
    )


# ---------------------------------------------------------------- 05 conditional GAN


@_check
def check_grid_labels(fn) -> bool:
    """05: ``fn(classes, cols)`` gives the labels of a class-by-row grid, row by row."""
    for classes, cols in ((3, 2), (4, 3)):
        out = _array(_call(fn, classes, cols), dtype=None).reshape(-1)
        want = np.repeat(np.arange(classes), cols)
        if out.tolist() == want.tolist():
            continue
        if out.tolist() == np.tile(np.arange(classes), cols).tolist():
            hint = "that is column by column (np.tile); rows should be one class each (np.repeat)"
        elif out.tolist() == (want + 1).tolist():
            hint = "classes count from 0"
        else:
            hint = f"expected {want.tolist()}"
        raise _Wrong(f"for {classes} classes and {cols} columns got {out.tolist()}: {hint}")
    return _yes("row k holds class k in every column.")


@_check
def check_noise_times_label(fn) -> bool:
    """05: ``fn(z, labels, embedding)`` must condition the MLP generator's noise on the label:
    embed the labels (``embedding``, size latent_dim), flatten (batch, 1, d) to (batch, d)
    and multiply elementwise into z. Checked against the ``z_times_label`` layer of
    :func:`gancourse.models.cgan_mlp_generator` with the same embedding."""
    tf, keras = _tensorflow()
    from .models import cgan_mlp_generator

    keras.utils.set_random_seed(5)
    g = cgan_mlp_generator(latent_dim=16, widths=(8,))
    inner = keras.Model(g.inputs, g.get_layer("z_times_label").output)
    rng = np.random.default_rng(5)
    z = rng.standard_normal((6, 16)).astype("float32")
    labels = np.array([[0], [1], [2], [7], [9], [3]], "int32")
    want = np.asarray(inner([z, labels]))
    got = _array(_call(fn, tf.constant(z), tf.constant(labels), g.get_layer("label_embedding")))
    _same_shape(
        got,
        want,
        {
            (6, 1, 16): "flatten the embedding, (batch, 1, 16) -> (batch, 16), before multiplying",
            (
                6,
                32,
            ): "multiply elementwise, do not concatenate (that is the convolutional cGAN's way)",
        },
        "one vector of latent_dim numbers per image",
    )
    if np.allclose(got, want, atol=1e-5):
        return _yes(
            "z times the label's learned vector, as gancourse.models.cgan_mlp_generator does."
        )
    emb = want / np.where(z == 0, 1, z)
    if np.allclose(got, z + emb, atol=1e-4):
        raise _Wrong("multiply the embedding into z (z * embedding), do not add it")
    raise _Wrong("the values differ from the package's: z * flatten(embedding(labels))")


@_check
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
    got = _array(
        _call(
            fn,
            tf.constant(images),
            tf.constant(labels),
            d.get_layer("label_embedding"),
            d.get_layer("label_dense"),
        )
    )
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


# ---------------------------------------------------------------- 06 CIFAR-10


@_check
def check_start_sizes(answer_32, answer_64) -> bool:
    """06: first feature-map side for 32x32 (two upsamplings) and 64x64 (three)."""
    a32, a64 = _number(answer_32), _number(answer_64)
    if (a32, a64) == (8, 8):
        return _yes("32 / 2^2 = 8 and 64 / 2^3 = 8.")
    if (a32, a64) == (16, 32):
        return _no("that is one upsampling each; divide by 2 once per upsampling")
    return _no("each stride-2 upsampling doubles the side: divide by 2 per upsampling")


@_check
def check_ema_update(fn) -> bool:
    """06: ``fn(ema_model, model, decay)`` must move, in place, every weight of ``ema_model``
    towards ``model``'s: ema = decay * ema + (1 - decay) * weight, for all weights including
    BatchNorm's moving statistics, as :class:`gancourse.GAN` does after each generator step.
    Checked against the package's own update on a small generator."""
    _, keras = _tensorflow()
    from .training import GAN

    keras.utils.set_random_seed(6)
    g = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(6, use_bias=False),
            keras.layers.BatchNormalization(),
            keras.layers.Dense(3),
        ]
    )
    d = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    rng = np.random.default_rng(6)
    weights = [rng.normal(0, 1, w.shape).astype("float32") for w in g.weights]
    averages = [rng.normal(0, 1, w.shape).astype("float32") for w in g.weights]
    decay = 0.9
    gan = GAN(g, d, ema=decay)
    gan.compile()
    gan.generator.set_weights(weights)
    gan.ema_generator.set_weights(averages)
    gan._update_ema()
    want = gan.ema_generator.get_weights()

    model, ema_model = keras.models.clone_model(g), keras.models.clone_model(g)
    model.set_weights(weights)
    ema_model.set_weights(averages)
    _call(fn, ema_model, model, decay, returns=False)
    got = ema_model.get_weights()
    if not all(np.allclose(a, b) for a, b in zip(model.get_weights(), weights)):
        raise _Wrong("the generator itself changed: only the average (ema_model) moves")
    if all(np.allclose(a, b, atol=1e-6) for a, b in zip(got, want)):
        return _yes(
            f"ema = {decay} * ema + {1 - decay:.1f} * weight for every weight, as "
            "gancourse.GAN does."
        )
    if all(np.array_equal(a, b) for a, b in zip(got, averages)):
        raise _Wrong("ema_model did not change: assign the new values (e.assign(...))")
    if all(np.allclose(a, b) for a, b in zip(got, weights)):
        raise _Wrong("that copies the weights; the average keeps decay of its old value")
    swapped = [decay * w + (1 - decay) * e for w, e in zip(weights, averages)]
    if all(np.allclose(a, b, atol=1e-6) for a, b in zip(got, swapped)):
        raise _Wrong(
            "decay and 1 - decay are swapped: ema = decay * ema + (1 - decay) * weight, so the "
            "average changes slowly"
        )
    trainable = {id(v) for v in ema_model.trainable_weights}
    if all(
        np.allclose(a, b, atol=1e-6) if id(v) in trainable else np.array_equal(a, e)
        for a, b, e, v in zip(got, want, averages, ema_model.weights)
    ):
        raise _Wrong(
            "BatchNorm's moving mean and variance were left out: average model.weights, "
            "not model.trainable_weights"
        )
    raise _Wrong(
        f"the new averages differ from decay * ema + (1 - decay) * weight with decay {decay}"
    )


@_check
def check_pipeline(fn) -> bool:
    """06: ``fn(images, batch_size)`` must turn uint8 colour images (N, 32, 32, 3) into a
    ``tf.data.Dataset`` of training batches like :func:`gancourse.data.make_pipeline`: float32
    in [-1, 1], full batches only (``drop_remainder``), every image at most once per epoch in a
    new shuffled order every epoch (shuffled *before* batching), prefetched. Checked on 100
    small random images against the package's pipeline."""
    tf, _ = _tensorflow()
    from .data import make_pipeline

    images = np.random.default_rng(6).integers(0, 256, (100, 32, 32, 3), dtype=np.uint8)
    want = make_pipeline(images, batch_size=16, seed=6)
    ds = _call(fn, images.copy(), 16)
    if not isinstance(ds, tf.data.Dataset):
        return _no(f"return a tf.data.Dataset, not {type(ds).__name__}")
    if int(ds.cardinality()) == int(tf.data.INFINITE_CARDINALITY):
        return _no("the dataset never ends: leave out repeat(); Keras's fit runs the epochs itself")
    try:
        epochs = [[np.asarray(b) for b in ds] for _ in range(2)]
    except Exception as e:
        return _no(f"iterating your dataset raised {type(e).__name__}: {e}")
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
    index = {img.tobytes(): i for i, img in enumerate(images)}
    order = []
    for epoch in epochs:
        ids = []
        for batch in epoch:
            back = np.rint((batch.astype("float64") + 1.0) * 127.5)
            if np.abs(back - (batch.astype("float64") + 1.0) * 127.5).max() > 1e-3 or (
                back.min() < 0 or back.max() > 255
            ):
                return _no("the pixel values are not x / 127.5 - 1 of the images given")
            keys = [img.astype(np.uint8).tobytes() for img in back]
            if any(k not in index for k in keys):
                return _no("the pixel values are not x / 127.5 - 1 of the images given")
            ids.append([index[k] for k in keys])
        if len({i for b in ids for i in b}) != sum(map(len, ids)):
            return _no("an image comes twice in one epoch: shuffle and batch once, no repeat()")
        order.append(ids)
    if all(np.all(np.diff(b) == 1) for ids in order for b in ids):  # batches kept together
        if all(ids == sorted(ids) for ids in order):
            return _no(
                "the batches hold the images in their original order: shuffle before batching"
            )
        return _no(
            "every batch is 16 neighbouring images in their original order: you shuffled the "
            "batches, not the images. Shuffle before batching (shuffle(...).batch(...)), so "
            "each batch mixes images from the whole set"
        )
    if all(max(ids[0]) < 32 for ids in order):
        return _no(
            "each epoch's first batch comes from the first 32 images: the shuffle buffer is too "
            "small to mix the set; shuffle(len(images))"
        )
    if order[0][0] == order[1][0]:
        return _no(
            "both epochs start with the same batch: shuffle with reshuffle_each_iteration "
            "(the default of Dataset.shuffle) after any cache()"
        )
    return _yes(
        "float32 batches of 16 in [-1, 1], every image at most once per epoch, images shuffled "
        "before batching and in a new order each epoch: what make_pipeline gives."
    )


# ---------------------------------------------------------------- 07 latent space


@_check
def check_slerp(fn) -> bool:
    """07: ``fn(z0, z1, t)`` must give the spherical interpolation of two vectors of equal
    length, sin((1-t) w)/sin(w) z0 + sin(t w)/sin(w) z1 with w the angle between them."""
    from .widgets import slerp

    rng = np.random.default_rng(0)
    z0, z1 = rng.standard_normal(100), rng.standard_normal(100)
    z1 *= np.linalg.norm(z0) / np.linalg.norm(z1)  # equal lengths: the classic formula applies
    out = [_array(_call(fn, z0.copy(), z1.copy(), t)).reshape(-1) for t in (0.0, 0.3, 0.5, 1.0)]
    if any(o.shape != z0.shape for o in out):
        return _no(f"expected a vector of shape {z0.shape}, got {out[1].shape}")
    if not all(np.all(np.isfinite(o)) for o in out):
        return _no(
            "the result contains NaN: the angle is arccos of the *normalised* dot product, "
            "z0.z1 / (|z0| |z1|), which lies in [-1, 1]"
        )
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


@_check
def check_truncation(fn) -> bool:
    """07: ``fn(z, threshold, rng)`` must apply the truncation trick to latent vectors: every
    entry of ``z`` with absolute value above ``threshold`` is drawn again from N(0, 1)
    (``rng.standard_normal``) until none is; entries already inside keep their values.
    Checked against :func:`gancourse.sampling.sample_latent` with ``truncation=``: the same
    bound, the same kept entries, the same distribution of the redrawn ones."""
    from .sampling import sample_latent

    t = 1.0
    z = np.random.default_rng(7).standard_normal((1000, 100))
    out = _array(_call(fn, z.copy(), t, np.random.default_rng(8)))
    if out.shape != z.shape:
        return _no(f"got shape {out.shape}; return z's shape {z.shape}")
    inside = np.abs(z) <= t
    if not np.allclose(out[inside], z[inside]):
        return _no(
            "keep the entries already inside [-threshold, threshold]; redraw only the others"
        )
    if np.abs(out).max() > t + 1e-9:
        share = float(np.mean(np.abs(out) > t))
        return _no(
            f"{share:.1%} of the entries are still outside [-{t}, {t}]: redraw until none is "
            "(a while loop), not once"
        )
    redrawn = out[~inside]
    if np.mean(np.isclose(np.abs(redrawn), t)) > 0.5:
        return _no(f"clipping piles the values up at +-{t}: draw them again instead")
    if np.allclose(redrawn, 0):
        return _no("setting them to 0 piles them up at the centre: draw them again")
    if np.unique(redrawn).size < redrawn.size // 2:
        return _no("one fresh draw per entry (rng.standard_normal(count)), not one number for all")
    ref = sample_latent(1000, 100, seed=9, truncation=t).astype("float64").ravel()
    ref_std, ref_core = ref.std(), np.mean(np.abs(ref) < t / 2)
    std, core = redrawn.std(), np.mean(np.abs(redrawn) < t / 2)
    if abs(std - ref_std) > 0.015 or abs(core - ref_core) > 0.02:
        return _no(
            f"the redrawn values have standard deviation {std:.3f} and {core:.0%} of them within "
            f"+-{t / 2}, where N(0, 1) cut at +-{t} gives {ref_std:.3f} and {ref_core:.0%}: draw "
            "them from rng.standard_normal, not from a uniform"
        )
    return _yes(
        f"all entries in [-{t}, {t}], the kept ones unchanged, the redrawn ones distributed like "
        f"gancourse.sampling.sample_latent(..., truncation={t})'s."
    )


# ---------------------------------------------------------------- 08 evaluation


@_check
def check_frechet_1d(fn) -> bool:
    """08: ``fn(m1, s1, m2, s2)`` is the Frechet distance between N(m1, s1^2) and N(m2, s2^2)."""
    cases = [
        ((0.0, 1.0, 0.0, 1.0), 0.0),
        ((0.0, 1.0, 3.0, 1.0), 9.0),
        ((1.0, 2.0, 1.0, 0.5), 2.25),
        ((-1.0, 3.0, 1.0, 1.0), 8.0),
    ]
    got = [_number(_call(fn, *args)) for args, _ in cases]
    for (args, want), value in zip(cases, got):
        if not math.isclose(value, want, abs_tol=1e-6):
            m1, s1, m2, s2 = args
            as_variances = (m1 - m2) ** 2 + s1 + s2 - 2 * math.sqrt(s1 * s2)
            if math.isclose(value, as_variances, abs_tol=1e-6):
                hint = "s1 and s2 are standard deviations, not variances"
            elif math.isclose(value, abs(m1 - m2) + (s1 - s2) ** 2, abs_tol=1e-6):
                hint = "square the difference of the means: (m1 - m2)^2"
            else:
                hint = "FID's formula in 1-D: (m1 - m2)^2 + s1^2 + s2^2 - 2 sqrt(s1^2 s2^2)"
            return _no(f"fn{args} = {value:g}; expected {want:g}. {hint}")
    return _yes(
        "in 1-D the FID formula is (m1 - m2)^2 + (s1 - s2)^2: means and spreads both count."
    )


@_check
def check_kid(fn) -> bool:
    """08: ``fn(x, y)`` must return the unbiased estimate of MMD^2 between two sets of feature
    vectors (one row per image) with KID's cubic kernel k(a, b) = (a.b / d + 1)^3, like
    :func:`gancourse.metrics.polynomial_mmd2`; checked on random features of two sizes."""
    from .metrics import polynomial_mmd2

    rng = np.random.default_rng(8)
    x = rng.standard_normal((40, 6))
    y = 0.8 * rng.standard_normal((30, 6)) + 0.3
    for a, b in ((x, y), (y, x)):
        want = polynomial_mmd2(a, b)
        got = _number(_call(fn, a.copy(), b.copy()))
        if _close(got, want, rel=1e-4, abs_=1e-8):
            continue
        m, n, d = len(a), len(b), a.shape[1]

        cubic = _cubic_kernel(d)
        mmd = functools.partial(_mmd, a, b)
        slips = [
            (
                mmd(cubic, unbiased=False),
                "leave out the diagonal: k(x_i, x_i) pairs a sample with itself; divide by "
                "m (m - 1)",
            ),
            (
                mmd(lambda u, v: (u @ v.T + 1) ** 3),
                "divide the dot product by the feature size d: (x.y / d + 1)^3",
            ),
            (mmd(_cubic_kernel(d, power=2)), "KID's kernel is cubed: (x.y / d + 1)^3"),
            (mmd(cubic, cross=1.0), "the cross term counts twice: - 2 E k(x, y)"),
        ]
        diag_m2 = mmd(cubic) - (
            (cubic(a, a).sum() - np.trace(cubic(a, a))) * (1 / (m * (m - 1)) - 1 / m**2)
            + (cubic(b, b).sum() - np.trace(cubic(b, b))) * (1 / (n * (n - 1)) - 1 / n**2)
        )
        slips.append((diag_m2, "without the diagonal there are m (m - 1) pairs, not m^2"))
        hint = next(
            (h for v, h in slips if _close(got, float(v), rel=1e-4, abs_=1e-8)),
            "E k(x, x') + E k(y, y') - 2 E k(x, y), the first two over pairs of different samples",
        )
        return _no(f"got {got:.5f}, expected {want:.5f} for sets of {m} and {n} rows: {hint}.")
    return _yes(
        f"{polynomial_mmd2(x, y):.5f}, as gancourse.metrics.polynomial_mmd2 computes it; KID "
        "averages it over random subsets."
    )


@_check
def check_frechet_distance(fn) -> bool:
    """08: ``fn(features1, features2)`` must return the Frechet distance between two sets of
    feature vectors (one row per image), |m1 - m2|^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2)), like
    :func:`gancourse.metrics.fid_from_features`; checked on random correlated features."""
    from .metrics import fid_from_features, trace_sqrt_product

    rng = np.random.default_rng(8)
    mix = rng.standard_normal((6, 6))
    a = rng.standard_normal((300, 6)) @ mix  # few rows: a transposed slip stays fast
    b = rng.standard_normal((300, 6)) @ (mix + 0.5 * rng.standard_normal((6, 6))) + 0.3
    for f1, f2 in ((a, b), (a, a)):
        want = fid_from_features(f1, f2)
        got = float(np.real(_call(fn, f1.copy(), f2.copy())))
        if math.isclose(got, want, rel_tol=1e-3, abs_tol=1e-4):
            continue
        m1, m2 = f1.mean(0), f2.mean(0)
        s1, s2 = np.cov(f1, rowvar=False), np.cov(f2, rowvar=False)
        root = trace_sqrt_product(s1, s2)
        b1, b2 = np.cov(f1, rowvar=False, bias=True), np.cov(f2, rowvar=False, bias=True)
        slips = [
            (
                ((m1 - m2) ** 2).sum() + np.trace(s1 + s2) - 2 * np.trace(np.sqrt(np.abs(s1 @ s2))),
                "np.sqrt takes the square root of each entry; (S1 S2)^(1/2) is the matrix "
                "square root: Tr((S1 S2)^(1/2)) is the sum of the square roots of the "
                "eigenvalues of S1 S2",
            ),
            (
                fid_from_features(f1.T, f2.T),
                "each row is one image: the covariance is np.cov(features, rowvar=False)",
            ),
            (
                ((m1 - m2) ** 2).sum() + np.trace(b1 + b2) - 2 * trace_sqrt_product(b1, b2),
                "np.cov(features, rowvar=False) divides by n - 1, as the package does; you "
                "divided by n",
            ),
            (
                ((m1 - m2) ** 2).sum() + np.trace(s1 + s2) - 2 * np.sqrt(np.trace(s1 @ s2)),
                "the square root is of the matrix S1 S2, taken before the trace, not of the trace",
            ),
            (
                np.linalg.norm(m1 - m2) + np.trace(s1 + s2) - 2 * root,
                "the means count with their squared distance |m1 - m2|^2",
            ),
        ]
        hint = next(
            (h for v, h in slips if math.isclose(got, float(v), rel_tol=1e-3)),
            "|m1 - m2|^2 + Tr(S1) + Tr(S2) - 2 Tr((S1 S2)^(1/2))",
        )
        return _no(f"got {got:.4f}, expected {want:.4f}: {hint}.")
    return _yes(
        f"{fid_from_features(a, b):.4f} for the two sets and 0 for a set against itself, as "
        f"gancourse.metrics.fid_from_features computes them."
    )


# ---------------------------------------------------------------- 09 stabilising GANs


@_check
def check_hinge_losses(d_loss_fn, g_loss_fn) -> bool:
    """09: ``d_loss_fn(real_logits, fake_logits)`` and ``g_loss_fn(fake_logits)`` must be the
    hinge losses of :mod:`gancourse.losses` (NumPy or TensorFlow in, a number out); checked
    on random logits against the package's versions."""
    from . import losses

    rng = np.random.default_rng(9)
    relu = lambda v: np.maximum(0, v)  # noqa: E731
    batches = [tuple(rng.normal(0, 2, size=(2, 16, 1)).astype("float32")) for _ in range(3)]

    def d_slips(want, real, fake):
        return [
            (
                relu(-real).mean() + relu(fake).mean(),
                " - the margin is missing: relu(1 - D(x)) and relu(1 + D(G(z)))",
            ),
            (relu(1 - real).sum() + relu(1 + fake).sum(), " - average over the batch, do not sum"),
            (
                relu(1 + real).mean() + relu(1 - fake).mean(),
                " - the signs are swapped: real logits should be pushed above +1",
            ),
        ]

    def g_slips(want, real, fake):
        return [
            (-want, " - G maximises D's score: its loss is minus the mean score"),
            (relu(1 - fake).mean(), " - G's hinge loss has no max: just -mean(D(G(z)))"),
        ]

    reference = (losses.hinge_discriminator_loss, losses.hinge_generator_loss)
    verdict = _loss_pair(d_loss_fn, g_loss_fn, reference, batches, (d_slips, g_slips))
    if verdict is not None:
        return verdict
    return _yes("both hinge losses agree with gancourse.losses on random logits.")


@_check
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
    mine = _number(_call(fn, d, real.copy()))
    want = float(losses.r1_penalty(d, real))
    if math.isclose(mine, want, rel_tol=1e-3):
        return _yes(f"E||grad D(x)||^2 = {want:.5f}, as the package computes it.")
    grads = _input_gradients(d, real)
    squares = (grads**2).reshape(len(real), -1).sum(axis=1)
    slips = [
        (np.sqrt(squares).mean(), "that is the mean gradient norm; R1 uses the *squared* norm."),
        (
            (grads**2).mean(),
            "you averaged over pixels too: sum the squares over each image, then average "
            "over the batch.",
        ),
        (squares.sum(), "average over the batch (mean), do not sum over it."),
        (0.5 * want, "return the penalty itself; the train step multiplies it by gamma / 2."),
    ]
    hint = next((h for v, h in slips if math.isclose(mine, float(v), rel_tol=1e-3)), None)
    return _no(
        hint
        or f"got {mine:.5f}, expected {want:.5f}: differentiate D's output with respect to "
        f"the real images (tape.watch), square, sum per image, average."
    )


@_check
def check_minibatch_std(fn) -> bool:
    """09: ``fn(x)`` must append the minibatch standard deviation to a batch of feature maps
    (batch, h, w, c): the standard deviation of every feature over the batch (axis 0),
    averaged to one number, appended as one constant channel, like
    :class:`gancourse.models.MinibatchStdDev`; checked on random features."""
    _, keras = _tensorflow()
    from .models import MinibatchStdDev

    rng = np.random.default_rng(9)
    x = (rng.standard_normal((8, 4, 4, 5)) * rng.uniform(0.2, 3.0, (1, 4, 4, 5))).astype("float32")
    want = np.asarray(MinibatchStdDev()(x))
    got = _array(_call(fn, x.copy()))
    _same_shape(
        got,
        want,
        {
            x.shape: "append the statistic as one extra channel (concatenate on axis -1)",
            x.shape[:-1] + (2 * x.shape[-1],): "one extra channel: average the standard "
            "deviations to a single number first",
        },
        "one extra channel holding the same number everywhere",
    )
    if np.allclose(got, want, atol=1e-4):
        return _yes(
            f"the batch's mean standard deviation, {want[0, 0, 0, -1]:.4f}, as one extra channel: "
            "what gancourse.models.MinibatchStdDev appends."
        )
    if np.allclose(got[..., 1:], want[..., :-1], atol=1e-4):
        return _no("append the statistic as the *last* channel, after the features.")
    extra = got[..., -1]
    std0 = x.std(axis=0)
    slips = [
        (x.var(axis=0).mean(), "take the square root: the standard deviation, not the variance"),
        (
            x.std(),
            "the standard deviation of each feature over the batch (axis 0), then their mean; "
            "not one std of everything",
        ),
        (
            None,
            "the standard deviation is over the batch (axis 0), across images, not within one "
            "image",
        ),
        (std0.mean(), "keep the features unchanged and append the statistic"),
    ]
    if np.allclose(extra, extra.flat[0], atol=1e-5):
        hint = next(
            (h for v, h in slips if v is not None and np.isclose(extra.flat[0], v, rtol=1e-3)), None
        )
    else:
        hint = slips[2][1]
    return _no(
        hint
        or f"expected {want[0, 0, 0, -1]:.4f} in the extra channel: mean over features of "
        "x.std(axis=0)."
    )


@_check
def check_color_augment(fn) -> bool:
    """09: ``fn(images, brightness, saturation, contrast)`` must apply DiffAugment's colour
    transform with the given per-image random factors (each of shape (batch, 1, 1, 1)):
    add ``brightness``; scale each pixel's deviation from its mean over the channels by
    ``saturation``; scale each image's deviation from its mean over all pixels and channels
    by ``contrast``. Checked against :func:`gancourse.augment.diff_augment` with policy
    "color", fed the same random factors."""
    _, keras = _tensorflow()
    from .augment import diff_augment

    rng = np.random.default_rng(9)
    x = rng.uniform(-1, 1, (6, 8, 8, 3)).astype("float32")
    seed = 9
    draws = [
        np.asarray(keras.random.uniform((6, 1, 1, 1), seed=seed * 1009 + k)) for k in range(3)
    ]  # the draws diff_augment makes for an int seed
    bright, sat, con = draws[0] - 0.5, draws[1] * 2.0, draws[2] + 0.5
    want = np.asarray(diff_augment(x, "color", seed=seed))
    got = _array(_call(fn, x.copy(), bright, sat, con))
    if got.shape != want.shape:
        return _no(
            f"the result has shape {got.shape}, expected {want.shape}: same shape as the images"
        )
    if np.allclose(got, want, atol=1e-5):
        return _yes(
            "the same images as gancourse.augment.diff_augment(images, 'color') with these factors."
        )

    def colour(b_mul=False, sat_axes=(3,), con_axes=(1, 2, 3), add_back=True):
        y = x * (1 + bright) if b_mul else x + bright
        m = y.mean(axis=sat_axes, keepdims=True)
        y = (y - m) * sat + (m if add_back else 0)
        m = y.mean(axis=con_axes, keepdims=True)
        return (y - m) * con + (m if add_back else 0)

    slips = [
        (colour(b_mul=True), "brightness is added to every pixel, not multiplied"),
        (
            colour(sat_axes=(1, 2, 3)),
            "saturation: each pixel's mean over its channels (axis=3), not the whole image's",
        ),
        (
            colour(con_axes=(3,)),
            "contrast: each image's mean over all pixels and channels (axis=(1, 2, 3)), not "
            "per pixel",
        ),
        (
            colour(sat_axes=(0,)),
            "saturation: each pixel's mean over its own channels (axis=3), not over the batch",
        ),
        (
            colour(con_axes=(0,)),
            "contrast: each image's own mean (axis=(1, 2, 3)), not the batch's",
        ),
        (colour(add_back=False), "add the mean back after scaling the deviation from it"),
    ]
    hint = next((h for v, h in slips if np.allclose(got, v, atol=1e-5)), None)
    return _no(
        hint
        or "brightness (add), then saturation (around each pixel's channel mean), then contrast "
        "(around each image's mean), in that order"
    )


# ---------------------------------------------------------------- helpers


def _loss_pair(d_loss_fn, g_loss_fn, reference, batches, slips):
    """None when ``d_loss_fn(real, fake)`` and ``g_loss_fn(fake)`` agree with the package's
    pair ``reference`` on every ``(real, fake)`` of ``batches``; else the verdict (False) on
    the first that does not, with the hint of the slip it matches. ``slips``: for D's loss
    and for G's, a function of ``(want, real, fake)`` giving ``(value, hint)`` pairs."""
    for real, fake in batches:
        answers = (_call(d_loss_fn, real.copy(), fake.copy()), _call(g_loss_fn, fake.copy()))
        wants = (reference[0](real, fake), reference[1](fake))
        for who, mine, want, slip in zip("DG", answers, wants, slips):
            mine, want = _number(mine), float(want)
            if not _close(mine, want):
                hint = next((h for v, h in slip(want, real, fake) if _close(mine, float(v))), "")
                return _no(f"{who}'s loss is {mine:.4f}, the package's {want:.4f}{hint}.")
    return None


def _cubic_kernel(d, power=3):
    return lambda u, v: (u @ v.T / d + 1) ** power


def _mmd(a, b, kernel, unbiased=True, cross=2.0):
    """MMD^2 of the rows of ``a`` and ``b`` with ``kernel``, and the slips a learner can make."""
    m, n = len(a), len(b)
    kxx, kyy, kxy = kernel(a, a), kernel(b, b), kernel(a, b)
    if unbiased:
        wx = (kxx.sum() - np.trace(kxx)) / (m * (m - 1))
        wy = (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
    else:
        wx, wy = kxx.mean(), kyy.mean()
    return wx + wy - cross * kxy.mean()


def _same_shape(got, want, hints, default):
    """Feedback on a result of the wrong shape: the hint for that shape, or ``default``."""
    if got.shape != want.shape:
        hint = hints.get(got.shape, default)
        raise _Wrong(f"the result has shape {got.shape}, expected {want.shape}: {hint}.")


def _close(a, b, rel=1e-4, abs_=1e-5) -> bool:
    return math.isclose(float(a), float(b), rel_tol=rel, abs_tol=abs_)


@_check
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
    except NotImplementedError:
        raise _NotDone from None
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


def _gradient_descent(generator, x, z0, steps, lr):
    """z after plain gradient descent on the projection's pixel loss (a slip to name)."""
    tf, _ = _tensorflow()
    z = tf.Variable(z0)
    for _ in range(steps):
        with tf.GradientTape() as tape:
            error = tf.square(generator(z) - x)
            loss = tf.reduce_sum(tf.reduce_mean(error, axis=list(range(1, len(x.shape)))))
        z.assign_sub(lr * tape.gradient(loss, z))
    return z.numpy()


def _learner_model(fn, x, output, hint, *args):
    """A Keras model from the Keras tensor ``x`` to ``fn(x, *args)``, the learner's layers,
    whose output (``output``: its name, its shape without the batch) must have that shape
    (else ``hint``)."""
    _, keras = _tensorflow()
    what, shape = output
    out = _call(fn, x, *args)
    try:
        model = keras.Model(x, out)
    except Exception as e:
        raise _Wrong(
            f"return {what} as a tensor, for the input tensor ({type(e).__name__})"
        ) from None
    if tuple(model.output_shape[1:]) != tuple(shape):
        raise _Wrong(f"{what} has shape {model.output_shape[1:]}, expected {shape}: {hint}")
    return model


def _tensorflow():
    from .config import quiet_tensorflow

    tf = quiet_tensorflow()
    import keras

    return tf, keras


def _softplus(x):
    return np.logaddexp(0.0, x)


def _half_squared_norm():
    """f(x) = w |x|^2 / 2 per image with one trainable weight w = 1: its input gradient is
    w x, which makes the gradient penalty's value known in closed form. It keeps the
    batches it is called on eagerly in ``seen``, so a check can read the interpolates."""
    _, keras = _tensorflow()

    class HalfSquaredNorm(keras.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.seen = []

        def build(self, input_shape):
            self.w = self.add_weight(shape=(), initializer="ones", name="w")

        def call(self, x):
            if hasattr(x, "numpy"):
                self.seen.append(np.asarray(x.numpy()))
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


@_check
def check_projection(fn) -> bool:
    """10: ``fn(generator, x, z0, steps, lr)`` must return z after ``steps`` steps of Adam
    (learning rate ``lr``) from ``z0`` on the pixel loss sum over images of mean (G(z) - x)^2,
    like :func:`gancourse.editing.project` with one restart and no feature term; checked on
    a small random generator against images it can draw."""
    tf, keras = _tensorflow()
    from .editing import project

    keras.utils.set_random_seed(11)
    z_in = keras.Input((6,))
    g = keras.Model(
        z_in, keras.layers.Reshape((4, 4, 1))(keras.layers.Dense(16, activation="tanh")(z_in))
    )
    rng = np.random.default_rng(11)
    x = np.asarray(g(rng.standard_normal((5, 6)).astype("float32")))  # reachable targets
    z0 = rng.standard_normal((5, 6)).astype("float32")
    steps, lr = 12, 0.05
    try:
        mine = fn(g, tf.constant(x), tf.constant(z0), steps, lr)
    except NotImplementedError:
        raise _NotDone from None
    except Exception as e:
        return _no(f"your function raised {type(e).__name__}: {e}")
    if mine is None:
        raise _NotDone
    mine = np.asarray(mine, "float32")
    if mine.shape != z0.shape:
        if mine.shape[1:] == x.shape[1:]:
            return _no(
                f"your function returned images {mine.shape}; return the latent vectors z "
                f"{z0.shape} it found (the images are generator(z))."
            )
        return _no(f"the result must have the shape of z0 {z0.shape}, not {mine.shape}")

    def reference(n_steps, lr_=lr, **options):
        fit = project(
            g, x, steps=n_steps, restarts=1, feature_weight=0.0, lr=lr_, init=z0, **options
        )
        return fit.z

    def error(z):
        return float(np.mean((np.asarray(g(z)) - x) ** 2))

    if np.allclose(mine, reference(steps), atol=1e-4):
        return _yes(
            f"{steps} Adam steps took the pixel error from {error(z0):.4f} to {error(mine):.4f}."
        )
    if np.allclose(mine, reference(steps, pixel_weight=1 / len(x)), atol=1e-4):
        return _yes(
            f"{steps} Adam steps took the pixel error from {error(z0):.4f} to {error(mine):.4f} "
            "(you averaged over the batch too: each image's z gets the same steps, since Adam "
            "divides out the gradient's scale)."
        )
    if np.allclose(mine, z0, atol=1e-6):
        return _no(
            "z did not move: make it a tf.Variable, compute the loss inside a GradientTape "
            "and apply the gradient with the optimizer at every step."
        )
    if error(mine) > error(z0):
        return _no(
            f"the pixel error grew ({error(z0):.4f} -> {error(mine):.4f}): the optimizer "
            "must *minimise* the loss, so pass it the gradient of the loss itself."
        )
    if np.allclose(mine, _gradient_descent(g, x, z0, steps, lr), atol=1e-4):
        return _no(
            "that is plain gradient descent (z -= lr * gradient): use the Adam optimizer, "
            "keras.optimizers.Adam(lr), and its apply_gradients, as the package does."
        )
    for n in (steps - 1, steps + 1):
        if np.allclose(mine, reference(n), atol=1e-4):
            return _no(f"your loop ran {n} steps, not {steps}.")
    if np.allclose(mine, reference(steps, lr_=lr * 10), atol=1e-4) or np.allclose(
        mine, reference(steps, lr_=lr / 10), atol=1e-4
    ):
        return _no(f"use the learning rate you are given (Adam({lr}) here).")
    return _no(
        "your z differs from the package's: Adam(lr) on the sum over images of the mean "
        "squared pixel difference between generator(z) and x, `steps` steps from z0."
    )


# ---------------------------------------------------------------- 11 pix2pix


@_check
def check_unet_skip(fn) -> bool:
    """11: ``fn(decoder, encoder)`` must join a U-Net decoder step's features (from the way
    up) with the encoder's features of the same size (from the way down) as
    :func:`gancourse.translation.unet_generator` does: concatenated along the channels,
    decoder first. Checked on random feature maps (NumPy in; NumPy or a tensor out) with the
    package's own skip layer."""
    _, keras = _tensorflow()
    from .translation import unet_generator

    skip = unet_generator((8, 8, 1), 3, width=4, depth=2, dropout=0.0).get_layer("skip1")
    rng = np.random.default_rng(11)
    for channels in ((4, 4), (6, 2)):  # equal (as in the U-Net), then unequal
        decoder = rng.uniform(-1, 1, (2, 4, 4, channels[0])).astype("float32")
        encoder = rng.uniform(-1, 1, (2, 4, 4, channels[1])).astype("float32")
        got = _array(_call(fn, decoder.copy(), encoder.copy()))
        want = keras.ops.convert_to_numpy(skip([decoder, encoder]))
        if got.shape == want.shape and np.allclose(got, want, atol=1e-6):
            continue
        if got.shape == want.shape and np.allclose(
            got, np.concatenate([encoder, decoder], axis=-1), atol=1e-6
        ):
            raise _Wrong(
                "the two parts are in the other order: the decoder's features come first, "
                "then the encoder's (Concatenate()([x, down[i]]) in unet_generator)."
            )
        if got.shape == decoder.shape == encoder.shape and np.allclose(
            got, decoder + encoder, atol=1e-6
        ):
            raise _Wrong(
                "you added the features (a ResNet's skip): a U-Net *concatenates* them, so "
                "the next layer gets both the decoder's and the encoder's channels."
            )
        for kept, which in ((decoder, "decoder's"), (encoder, "encoder's")):
            if got.shape == kept.shape and np.allclose(got, kept, atol=1e-6):
                raise _Wrong(
                    f"only the {which} features come out: the skip joins both, decoder first, "
                    "along the channel axis."
                )
        _same_shape(
            got,
            want,
            {
                (
                    4,
                    4,
                    4,
                    channels[1],
                ): "that joins along the batch axis (0); use the channels (-1)",
                (
                    2,
                    8,
                    4,
                    channels[1],
                ): "that joins along the height (axis 1); use the channels (-1)",
                (
                    2,
                    4,
                    8,
                    channels[1],
                ): "that joins along the width (axis 2); use the channels (-1)",
                (2, 4, 4, 4, 2): "np.stack adds an axis: concatenate along the channels (-1)",
            },
            "concatenate the two along the channel axis (-1), decoder first",
        )
        raise _Wrong(
            "the shape is right but the values are not: concatenate the decoder's and the "
            "encoder's features unchanged along the channel axis, decoder first."
        )
    return _yes(
        "the decoder's features, then the encoder's, along the channels: what every skip of "
        "gancourse.translation.unet_generator does."
    )


#: The stacks of (kernel, stride) pairs check_receptive_field tries: the paper's 70x70
#: PatchGAN first, then the course's 16x16 one and others.
_STACKS = (
    [(4, 2)] * 3 + [(4, 1)] * 2,
    [(4, 2), (4, 1), (4, 1)],
    [(3, 1)] * 3,
    [(3, 2), (3, 2)],
    [(7, 1), (3, 2), (3, 2), (3, 1)],
    [(4, 2)] * 4 + [(4, 1)] * 2,
    [(5, 3)],
)


@_check
def check_receptive_field(answer, convs=None) -> bool:
    """11: the receptive field of a stack of convolutions, the side of the input patch one
    output of the stack sees, as :func:`gancourse.translation.receptive_field` computes it.
    ``answer``: a function of a list of ``(kernel, stride)`` pairs (first layer first),
    tried on several stacks; or a number worked out by hand for ``convs`` (default: the
    paper's 70x70 discriminator, four 4x4 convolutions of stride 2, 2, 2, 1 and the 4x4
    one to the logits)."""
    from .translation import receptive_field

    if callable(answer):
        for stack in _STACKS:
            got = _number(_call(answer, [tuple(c) for c in stack]))
            want = receptive_field(stack)
            if got != want:
                raise _Wrong(f"for {stack} you get {got:g}, expected {want}{_rf_slip(got, stack)}")
        return _yes(
            f"your function agrees with gancourse.translation.receptive_field on {len(_STACKS)} "
            "stacks (the paper's discriminator: 70)."
        )
    stack = _STACKS[0] if convs is None else list(convs)
    got, want = _number(answer), receptive_field(stack)
    if got == want:
        return _yes(f"one output sees a {want}x{want} patch of the input.")
    return _no(f"{got:g} is not the receptive field of {stack}{_rf_slip(got, stack)}")


def _rf_slip(got, stack) -> str:
    """The hint for a receptive field computed with a known slip, or a reminder of the rule."""

    def recursion(start=1, minus=1, order=reversed, strides=True):
        r = start
        for kernel, stride in order(stack):
            r = (r - minus) * (stride if strides else 1) + kernel
        return r

    right = recursion()
    own, jump = 1, 1
    for kernel, stride in stack:  # each layer's stride counted in its own kernel
        jump *= stride
        own += (kernel - 1) * jump
    slips = [
        (
            recursion(strides=False),
            ": that ignores the strides; each stride-2 layer doubles how far the "
            "layers after it reach",
        ),
        (recursion(start=0), ": start from r = 1 (one output sees one pixel), not 0"),
        (recursion(minus=0), ": r <- (r - 1) * stride + kernel (the - 1 is missing)"),
        (right - 1, ": one short (start from r = 1, a single output)"),
        (right + 1, ": one too many (start from r = 1, a single output)"),
        (
            recursion(order=list),
            ": go from the last layer back to the first (r <- (r - 1) * stride + kernel)",
        ),
        (own, ": a layer's stride spreads the layers *after* it, not its own kernel"),
    ]
    hint = next((h for v, h in slips if v == got and v != right), None)
    return (
        f"{hint}."
        if hint
        else (". From the last layer back, starting at r = 1: r <- (r - 1) * stride + kernel.")
    )


@_check
def check_pix2pix_generator_loss(fn) -> bool:
    """11: ``fn(fake_logits, source, target, output, l1_weight)`` must return the pix2pix
    generator's loss, :func:`gancourse.losses.pix2pix_generator_loss`: the non-saturating
    GAN term on D's logits for (source, output), -mean log D, plus ``l1_weight`` times
    mean |target - output|. Checked on random patch logits and images, two weights."""
    from . import losses

    rng = np.random.default_rng(11)
    shape = (4, 8, 8, 3)
    for weight in (100.0, 10.0):
        logits = rng.normal(0, 2, (4, 4, 4, 1)).astype("float32")
        source, target, output = (rng.uniform(-1, 1, shape).astype("float32") for _ in range(3))
        got = _number(_call(fn, logits.copy(), source.copy(), target.copy(), output.copy(), weight))
        want = float(losses.pix2pix_generator_loss(logits, target, output, weight))
        if _close(got, want):
            continue
        ns = _softplus(-logits).mean()
        l1 = np.abs(target - output).mean()
        slips = [
            (
                ns + weight * ((target - output) ** 2).mean(),
                "the distance is L1, the mean "
                "*absolute* difference, not the squared one (L2 blurs more)",
            ),
            (ns + l1, "multiply the L1 term by l1_weight (lambda)"),
            (ns + 100.0 * l1, "use the l1_weight you are given, not 100 always"),
            (
                ns + weight * np.abs(source - output).mean(),
                "compare the output with the *target*, not with the input",
            ),
            (ns - weight * l1, "G minimises both terms: add lambda * L1, do not subtract it"),
            (-ns + weight * l1, "the GAN term has the wrong sign: G minimises -mean log D"),
            (
                -_softplus(logits).mean() + weight * l1,
                "that is the saturating (minimax) term, "
                "mean log(1 - D); the course uses the non-saturating -mean log D",
            ),
            (
                _softplus(logits).mean() + weight * l1,
                "that is D's loss on fakes (target 0); G wants its outputs called real (target 1)",
            ),
            (
                ns + weight * np.abs(target - output).sum(),
                "average the absolute differences, do not sum them",
            ),
            (weight * l1, "the GAN term is missing: -mean log D(source, output)"),
            (ns, "the L1 term is missing: lambda * mean |target - output|"),
        ]
        hint = next((h for v, h in slips if _close(got, float(v))), None)
        raise _Wrong(
            f"with l1_weight={weight:g} you get {got:.4f}, the package {want:.4f}"
            + (
                f": {hint}."
                if hint
                else ": -mean log sigmoid(logits) + l1_weight * mean |target - output|."
            )
        )
    return _yes("the non-saturating GAN term plus lambda * L1 to the target, as in pix2pix.")


# ---------------------------------------------------------------- 12 CycleGAN


@_check
def check_cycle_loss(fn) -> bool:
    """12: ``fn(g_ab, g_ba, real_a, real_b)`` must return the cycle-consistency loss
    E|F(G(a)) - a| + E|G(F(b)) - b| (G = ``g_ab``: A -> B, F = ``g_ba``: B -> A), as
    :func:`gancourse.losses.cycle_loss` on the round trips. Checked with two small random
    generators."""
    from . import losses

    got, g, f, a, b = _on_two_generators(fn)
    ga, fb, fa, gb = _np(g(a)), _np(f(b)), _np(f(a)), _np(g(b))
    fga, gfb = _np(f(ga)), _np(g(fb))
    want = float(losses.cycle_loss(a, fga, b, gfb))
    if _close(got, want):
        return _yes("|F(G(a)) - a| + |G(F(b)) - b|: each image there and back again.")
    slips = [
        (
            ((fga - a) ** 2).mean() + ((gfb - b) ** 2).mean(),
            "the cycle loss is L1 (mean absolute difference), not squared",
        ),
        (_l1(fga, a), "only A's round trip: add |G(F(b)) - b| for B's"),
        (_l1(gfb, b), "only B's round trip: add |F(G(a)) - a| for A's"),
        (
            _l1(fga, b) + _l1(gfb, a),
            "compare each round trip with the image it started from "
            "(F(G(a)) with a), not with the other domain",
        ),
        (
            _l1(ga, b) + _l1(fb, a),
            "G(a) and b are not a pair: compare the round trip F(G(a)) with a",
        ),
        (
            _l1(_np(g(fa)), a) + _l1(_np(f(gb)), b),
            "the generators are in the wrong order: a goes through G first (A -> B), then F back",
        ),
        (_l1(fa, a) + _l1(gb, b), "that is the identity loss; the cycle loss goes there and back"),
        (0.5 * want, "add the two directions, do not average them"),
        (
            np.abs(fga - a).sum() + np.abs(gfb - b).sum(),
            "average the absolute differences, do not sum them",
        ),
    ]
    hint = next((h for v, h in slips if _close(got, float(v))), None)
    return _no(f"got {got:.4f}, expected {want:.4f}" + (f": {hint}." if hint else "."))


@_check
def check_identity_loss(fn) -> bool:
    """12: ``fn(g_ab, g_ba, real_a, real_b)`` must return the identity loss
    E|F(a) - a| + E|G(b) - b|: each generator given an image already in its target domain
    should leave it alone (:func:`gancourse.losses.identity_loss`). Checked with two small
    random generators."""
    from . import losses

    got, g, f, a, b = _on_two_generators(fn)
    ga, fb, fa, gb = _np(g(a)), _np(f(b)), _np(f(a)), _np(g(b))
    want = float(losses.identity_loss(a, fa, b, gb))
    if _close(got, want):
        return _yes("|F(a) - a| + |G(b) - b|: each generator leaves its own domain alone.")
    slips = [
        (
            _l1(ga, a) + _l1(fb, b),
            "the generators are swapped: F (g_ba) makes A images, so it "
            "is F(a) that should equal a, and G(b) that should equal b",
        ),
        (
            ((fa - a) ** 2).mean() + ((gb - b) ** 2).mean(),
            "the identity loss is L1 (mean absolute difference), not squared",
        ),
        (_l1(fa, a), "only F's term: add |G(b) - b|"),
        (_l1(gb, b), "only G's term: add |F(a) - a|"),
        (
            _l1(_np(f(ga)), a) + _l1(_np(g(fb)), b),
            "that is the cycle loss; the identity loss "
            "feeds each generator its own target domain once",
        ),
        (0.5 * want, "add the two terms, do not average them (the train step weights the sum)"),
        (_l1(fa, b) + _l1(gb, a), "compare F(a) with a itself: it should not change"),
    ]
    hint = next((h for v, h in slips if _close(got, float(v))), None)
    return _no(f"got {got:.4f}, expected {want:.4f}" + (f": {hint}." if hint else "."))


@_check
def check_lsgan_losses(d_loss_fn, g_loss_fn) -> bool:
    """12: ``d_loss_fn(real_scores, fake_scores)`` and ``g_loss_fn(fake_scores)`` must be the
    least-squares GAN losses of :mod:`gancourse.losses` on D's raw scores (no sigmoid):
    D: mean((D(y) - 1)^2) + mean(D(G(x))^2); G: mean((D(G(x)) - 1)^2). Checked on random
    patch scores."""
    from . import losses

    rng = np.random.default_rng(12)
    sigmoid = lambda v: 1.0 / (1.0 + np.exp(-v))  # noqa: E731
    means = np.reshape([0.5, -0.3], (2, 1, 1, 1, 1))  # D scores reals higher, roughly
    batches = [tuple(rng.normal(means, 1.0, (2, 6, 4, 4, 1)).astype("float32")) for _ in range(2)]

    def d_slips(want, real, fake):
        return [
            (
                (real**2).mean() + ((fake - 1) ** 2).mean(),
                ": the targets are swapped: real scores go to 1, fakes to 0",
            ),
            (0.5 * want, ": return the sum; the train step halves D's loss itself"),
            (
                _softplus(-real).mean() + _softplus(fake).mean(),
                ": that is the cross-entropy loss; LSGAN squares the distance of the raw scores "
                "to their targets",
            ),
            (
                ((sigmoid(real) - 1) ** 2).mean() + (sigmoid(fake) ** 2).mean(),
                ": use the raw scores, without a sigmoid",
            ),
            (
                np.abs(real - 1).mean() + np.abs(fake).mean(),
                ": square the differences, not their absolute values",
            ),
            (((real - 1) ** 2).mean(), ": the fake term is missing: + mean(D(G(x))^2)"),
            (((real - 1) ** 2).sum() + (fake**2).sum(), ": average over the scores, do not sum"),
            (
                ((real - 1) ** 2).mean() + ((fake + 1) ** 2).mean(),
                ": the course's targets are 1 for real and 0 for fake, not -1",
            ),
        ]

    def g_slips(want, real, fake):
        return [
            (
                (fake**2).mean(),
                ": that pushes the fakes' scores to 0, D's target for them; G wants them scored 1",
            ),
            (
                -(fake**2).mean(),
                ": G does not maximise D's loss: it minimises mean((D(G(x)) - 1)^2)",
            ),
            (0.5 * want, ": return mean((D(G(x)) - 1)^2) itself, without the 1/2"),
            (
                _softplus(-fake).mean(),
                ": that is the non-saturating cross-entropy loss; LSGAN squares the distance to 1",
            ),
            (((sigmoid(fake) - 1) ** 2).mean(), ": use the raw scores, without a sigmoid"),
            (np.abs(fake - 1).mean(), ": square the difference, not its absolute value"),
        ]

    reference = (losses.lsgan_discriminator_loss, losses.lsgan_generator_loss)
    verdict = _loss_pair(d_loss_fn, g_loss_fn, reference, batches, (d_slips, g_slips))
    if verdict is not None:
        return verdict
    return _yes("both least-squares losses agree with gancourse.losses on random scores.")


def _on_two_generators(fn):
    """(the learner's number, G, F, a, b) for ``fn(g_ab, g_ba, real_a, real_b)``."""
    g, f, a, b = _two_generators()
    return _number(_call(fn, g, f, a.copy(), b.copy())), g, f, a, b


def _l1(x, y) -> float:
    return float(np.abs(np.asarray(x) - np.asarray(y)).mean())


def _two_generators():
    """(G, F, a, b): two small random image-to-image Keras models (4x4x3 -> 4x4x3, tanh) and
    a batch of images of each domain, for the CycleGAN checks. The domains and the two
    generators differ (A dark, B bright; G brightens, F darkens), so that every slip, e.g.
    the generators swapped, gives a clearly different number."""
    _, keras = _tensorflow()
    keras.utils.set_random_seed(12)
    nets = []
    for name, spread, shift in (("a_to_b", 0.5, 0.5), ("b_to_a", 0.25, -0.5)):
        x = keras.Input((4, 4, 3))
        y = keras.layers.Conv2D(
            3,
            3,
            padding="same",
            activation="tanh",
            kernel_initializer=keras.initializers.RandomNormal(stddev=spread),
            bias_initializer=keras.initializers.Constant(shift),
        )(x)
        nets.append(keras.Model(x, y, name=name))
    rng = np.random.default_rng(12)
    a = rng.uniform(-1.0, 0.2, (5, 4, 4, 3)).astype("float32")  # A darker, B brighter: G
    b = rng.uniform(-0.2, 1.0, (5, 4, 4, 3)).astype("float32")  # brightens, F darkens
    return nets[0], nets[1], a, b


def _np(tensor):
    return np.asarray(tensor, "float32")


# ---------------------------------------------------------------- 13 StyleGAN


def _no_slip(got, slips, fallback, rtol=1e-3, atol=1e-4, prefix=""):
    """Feedback on a wrong result: the hint of the first slip (value, hint) it matches, else
    ``fallback``."""
    hint = next((h for v, h in slips if np.allclose(got, v, rtol=rtol, atol=atol)), fallback)
    return _no(f"{prefix}{hint}.")


def _lrelu(x):
    """StyleGAN's activation in NumPy: LeakyReLU(0.2) times sqrt(2)."""
    return np.where(x >= 0, x, 0.2 * x) * math.sqrt(2.0)


@_check
def check_mapping_network(fn) -> bool:
    """13: ``fn(z, w_dim, depth)`` must apply StyleGAN's mapping network to a Keras tensor z of
    latent vectors: pixel norm (:class:`gancourse.stylegan.PixelNorm`, z / sqrt(mean(z^2) +
    1e-8) over each z's numbers), then ``depth`` layers ``EqualDense(w_dim, lr_mul=0.01,
    activation="lrelu")``, returning w. Checked against
    :func:`gancourse.stylegan.mapping_network`: same weight shapes, then, with the package's
    weights copied in, the same w's for z's of very different lengths."""
    _, keras = _tensorflow()
    from .stylegan import mapping_network

    latent_dim, w_dim, depth = 12, 10, 3
    keras.utils.set_random_seed(13)
    package = mapping_network(latent_dim, w_dim, depth)
    z_in = keras.Input((latent_dim,))
    mine = _learner_model(
        fn,
        z_in,
        ("w", (w_dim,)),
        "every layer has w_dim units, so w has w_dim numbers whatever the size of z",
        w_dim,
        depth,
    )
    want = [tuple(w.shape) for w in package.weights]
    got = [tuple(w.shape) for w in mine.weights]
    if got != want:
        hint = (
            f"{depth} dense layers (with a bias each), not {len(got) // 2}"
            if len(got) != len(want)
            else "EqualDense(w_dim, ...) layers, one after the other"
        )
        raise _Wrong(f"the weights have shapes {got}, the package's {want}: {hint}.")
    rng = np.random.default_rng(13)
    package.set_weights([w + rng.normal(0, 0.3, w.shape) for w in package.get_weights()])
    weights = package.get_weights()
    mine.set_weights(weights)
    z = rng.standard_normal((6, latent_dim)).astype("float32")
    z *= np.array([0.1, 0.5, 1.0, 2.0, 5.0, 20.0], "float32")[:, None]  # lengths far apart
    got, want = np.asarray(mine(z)), np.asarray(package(z))
    if np.allclose(got, want, rtol=1e-4, atol=1e-5):
        return _yes(
            f"the package's w's ({w_dim} numbers each), and z's length does not matter: "
            "pixel norm keeps only its direction."
        )

    def numpy_mapping(norm="rms", dense="equal", act=_lrelu):
        h = z.astype("float64")
        if norm == "rms":
            h = h / np.sqrt(np.mean(h**2, axis=-1, keepdims=True) + 1e-8)
        elif norm == "length":
            h = h / np.linalg.norm(h, axis=-1, keepdims=True)
        elif norm == "batch":
            h = h / np.sqrt(np.mean(h**2, axis=0, keepdims=True) + 1e-8)
        for kernel, bias in zip(weights[::2], weights[1::2]):
            fan_in = kernel.shape[0]
            if dense == "equal":
                h = h @ (kernel * 0.01 / math.sqrt(fan_in)) + 0.01 * bias
            elif dense == "lr_mul 1":
                h = h @ (kernel / math.sqrt(fan_in)) + bias
            else:
                h = h @ kernel + bias
            h = act(h)
        return h

    slips = [
        (
            numpy_mapping(norm=None),
            "pixel-normalise z first (stylegan.PixelNorm()): without it a longer z gives a "
            "different w, though only z's direction should matter",
        ),
        (
            numpy_mapping(norm="length"),
            "divide by the root *mean* square, sqrt(mean(z^2) + 1e-8), not by the length: "
            "pixel norm puts z on the sphere of radius sqrt(latent_dim), not of radius 1",
        ),
        (
            numpy_mapping(norm="batch"),
            "normalise each z over its own numbers (the last axis), not over the batch",
        ),
        (
            numpy_mapping(dense="plain"),
            "use stylegan.EqualDense, not keras.layers.Dense: the equalised learning rate "
            "multiplies the weights by lr_mul / sqrt(fan_in) at every call",
        ),
        (
            numpy_mapping(dense="lr_mul 1"),
            "EqualDense(w_dim, lr_mul=0.01, ...): the paper slows the mapping network down "
            "100 times",
        ),
        (
            numpy_mapping(act=lambda h: h),
            "every layer ends in StyleGAN's activation: activation='lrelu'",
        ),
        (
            numpy_mapping(act=lambda h: np.where(h >= 0, h, 0.2 * h)),
            "activation='lrelu' (LeakyReLU(0.2) times sqrt(2), which keeps unit variance), "
            "not a plain LeakyReLU",
        ),
    ]
    return _no_slip(
        got,
        slips,
        "same weights, other w's: PixelNorm, then depth EqualDense(w_dim, lr_mul=0.01, "
        "activation='lrelu') layers",
    )


@_check
def check_adain(fn) -> bool:
    """13: ``fn(x, style)`` must apply adaptive instance normalisation to feature maps x
    (batch, h, w, c) with the style (batch, 2c) that the affine layer made of w: normalise
    each channel of each sample over its pixels (mean 0, standard deviation
    sqrt(var + 1e-8)), multiply by y_s = 1 + style[:, :c] and add y_b = style[:, c:], like
    :class:`gancourse.stylegan.AdaIN`; checked on random features and styles."""
    _, keras = _tensorflow()
    from .stylegan import AdaIN

    keras.utils.set_random_seed(13)
    rng = np.random.default_rng(13)
    c = 5
    x = rng.standard_normal((4, 6, 6, c)) * rng.uniform(0.3, 3.0, (4, 1, 1, c))
    x = (x + rng.normal(0, 2.0, (4, 1, 1, c)) + rng.normal(0, 0.5, (4, 6, 6, 1))).astype("float32")
    w = rng.standard_normal((4, 8)).astype("float32")
    layer = AdaIN()
    want = np.asarray(layer([x, w]))
    style = np.asarray(layer.affine(w))
    got = _array(_call(fn, x.copy(), style.copy()))
    _same_shape(got, want, {}, "the same shape as x: one value per pixel and channel")
    if np.allclose(got, want, rtol=1e-4, atol=1e-4):
        return _yes(
            "each channel of each sample gets the style's mean y_b and standard deviation "
            "|y_s|, as gancourse.stylegan.AdaIN does."
        )

    def adain(axes=(1, 2), scale="1+", swap=False, divide="std"):
        x64 = x.astype("float64")
        if axes is None:
            h = x64
        else:
            mean = x64.mean(axis=axes, keepdims=True)
            var = x64.var(axis=axes, keepdims=True)
            h = (x64 - mean) / (np.sqrt(var + 1e-8) if divide == "std" else var + 1e-8)
        a, b = (style[:, c:], style[:, :c]) if swap else (style[:, :c], style[:, c:])
        y_s = 1.0 + a if scale == "1+" else a
        return y_s[:, None, None, :] * h + b[:, None, None, :]

    slips = [
        (adain(axes=None), "normalise first: subtract each channel's mean, divide by its std"),
        (
            adain(axes=(1, 2, 3)),
            "normalise each channel over its own pixels (axis=(1, 2)), not over all channels "
            "at once (that is layer normalisation)",
        ),
        (
            adain(axes=(0, 1, 2)),
            "normalise each sample with its own statistics (axis=(1, 2)), not the batch's "
            "(that is batch normalisation)",
        ),
        (adain(divide="var"), "divide by the standard deviation, sqrt(var + 1e-8)"),
        (adain(scale="plain"), "the scale is y_s = 1 + style[:, :c] (the affine starts at 0)"),
        (
            adain(swap=True),
            "scale and bias are swapped: the first c numbers of the style scale (1 + them), "
            "the last c shift",
        ),
        (adain(swap=True, scale="plain"), "the first c numbers scale (1 + them), the last c shift"),
    ]
    return _no_slip(
        got,
        slips,
        "(x - mean) / sqrt(var + 1e-8) over axes (1, 2), times 1 + style[:, :c], plus style[:, c:]",
        rtol=1e-3,
        atol=1e-3,
    )


@_check
def check_demodulation(fn) -> bool:
    """13: ``fn(weight, style, eps)`` must return StyleGAN2's modulated and demodulated
    convolution weights, one set per sample, (batch, k, k, c_in, c_out), from the shared
    weight (k, k, c_in, c_out) and the styles (batch, c_in): w' = style_i * w_ijk per input
    channel i, then w'' = w' / sqrt(sum of w'^2 over k, k and c_in + eps) per output channel
    j. Checked against :class:`gancourse.stylegan.ModulatedConv2D` (convolving each sample
    with its weights must give the layer's output), then on a style of zeros (0 / 0 without
    eps), and the output variance on unit-variance inputs is measured."""
    tf, keras = _tensorflow()
    from .stylegan import ModulatedConv2D

    keras.utils.set_random_seed(13)
    rng = np.random.default_rng(13)
    batch, cin, cout, eps = 3, 6, 5, 1e-8
    x = rng.standard_normal((batch, 12, 12, cin)).astype("float32")
    w = rng.standard_normal((batch, 8)).astype("float32")
    layer = ModulatedConv2D(cout, 3, use_bias=False)
    layer.build([x.shape, w.shape])
    layer.affine.bias.assign(rng.uniform(0.2, 3.0, cin).astype("float32"))  # styles far apart
    want = np.asarray(layer([x, w]))
    kernel = np.asarray(layer.kernel) * layer.scale
    style = np.asarray(layer.affine(w))
    got = _array(_call(fn, kernel.copy(), style.copy(), eps), "float32")
    expected = (batch,) + kernel.shape
    if got.shape != expected:
        hints = {
            kernel.shape: "one set of weights per sample: add a batch axis in front, "
            "style[:, None, None, :, None] * weight[None]",
            (1,) + kernel.shape: "one set per sample: modulate first, multiplying the weights "
            "by each sample's style, style[:, None, None, :, None] * weight[None]",
        }
        raise _Wrong(
            f"the weights have shape {got.shape}, expected {expected}: "
            + hints.get(got.shape, "(batch, k, k, c_in, c_out)")
            + "."
        )

    def convolve(weights, inputs=x):
        return np.concatenate(
            [
                tf.nn.conv2d(inputs[i : i + 1], weights[i], 1, "SAME").numpy()
                for i in range(len(weights))
            ]
        )

    if np.allclose(convolve(got), want, rtol=1e-3, atol=1e-4):
        zero = _array(_call(fn, kernel.copy(), np.zeros((1, cin), "float32"), eps))
        if not np.all(np.isfinite(zero)):
            return _no(
                "a style of zeros gives 0 / 0 (NaN): add eps inside the square root, "
                "1 / sqrt(sum w'^2 + eps)."
            )
        unit = rng.standard_normal((batch, 32, 32, cin)).astype("float32")
        var = convolve(got, unit)[:, 1:-1, 1:-1].var(axis=(0, 1, 2))  # interior: no padding
        return _yes(
            "the same output as gancourse.stylegan.ModulatedConv2D; on inputs of variance 1 "
            f"the output channels have variance {var.min():.2f} to {var.max():.2f}, "
            "whatever the style."
        )
    mod = style[:, None, None, :, None] * kernel[None].astype("float64")

    def demodulated(axes=(1, 2, 3), root=True, modulate=True):
        m = mod if modulate else np.broadcast_to(kernel[None], mod.shape)
        energy = np.sum(m**2, axis=axes, keepdims=True) + eps
        return m / (np.sqrt(energy) if root else energy)

    slips = [
        (
            demodulated(axes=(1, 2, 4)),
            "demodulate per *output* channel: sum w'^2 over the kernel and the input channels "
            "(axes 1, 2, 3 of (batch, k, k, c_in, c_out)), not over the output channels",
        ),
        (
            demodulated(axes=(1, 2, 3, 4)),
            "demodulate each output channel on its own: sum w'^2 over axes (1, 2, 3), not over "
            "all the weights at once",
        ),
        (demodulated(root=False), "divide by the square root of sum w'^2 + eps, not by the sum"),
        (
            demodulated(modulate=False),
            "modulate first: multiply the weights by the style, per input channel",
        ),
        (mod, "demodulate: divide each output channel's weights by sqrt(sum w'^2 + eps)"),
    ]
    return _no_slip(
        got,
        slips,
        "w' = style[:, None, None, :, None] * weight; w'' = w' / sqrt(sum of w'^2 over "
        "axes (1, 2, 3) + eps)",
        atol=1e-6,
    )


@_check
def check_noise_injection(layer_class) -> bool:
    """13: ``layer_class`` must be a Keras layer that adds StyleGAN's per-pixel noise to
    feature maps x (batch, h, w, c): ``build`` makes one learned strength per channel, shape
    (c,), starting at zero; ``call(x)`` draws a fresh N(0, 1) noise image per sample,
    (batch, h, w, 1), shared by all channels, and returns x + strength * noise, like
    :class:`gancourse.stylegan.NoiseInjection` fed the noise of
    :class:`gancourse.stylegan.PixelNoise`. Checked on random features with chosen
    strengths."""
    _, keras = _tensorflow()
    from .stylegan import NoiseInjection

    keras.utils.set_random_seed(13)
    rng = np.random.default_rng(13)
    batch, side, c = 8, 16, 6
    x = rng.standard_normal((batch, side, side, c)).astype("float32")
    layer = _call(layer_class)
    out = _array(_call(layer, x.copy()))
    if out.shape != x.shape:
        raise _Wrong(f"the output has shape {out.shape}, expected x's {x.shape}.")
    weights = layer.trainable_weights
    shapes = [tuple(v.shape) for v in weights]
    if not weights:
        raise _Wrong("the strength must be learned: make it with self.add_weight in build.")
    if shapes != [(c,)]:
        raise _Wrong(
            f"the trainable weights have shapes {shapes}: one strength per channel, shape "
            f"({c},) (input_shape[-1]); a strength per pixel would tie the layer to one image "
            "size and learn where noise goes instead of how much each feature wants."
        )
    if not np.allclose(out, x):
        raise _Wrong(
            "a new layer must leave x unchanged: start the strengths at zero "
            "(initializer='zeros'), so the generator starts deterministic."
        )
    strength = np.array([0.5, 1.0, 2.0, 0.0, -1.0, 3.0], "float32")
    weights[0].assign(strength)
    first, second = _array(_call(layer, x.copy())), _array(_call(layer, x.copy()))
    delta = first - x
    if not np.allclose(delta[..., 3], 0.0, atol=1e-6):
        raise _Wrong("a channel whose strength is 0 must stay as it was: x + strength * noise.")
    live = strength != 0
    noise = delta[..., live] / strength[live]
    if not np.allclose(noise, noise[..., :1], atol=1e-4):
        raise _Wrong(
            "one noise image per sample, (batch, h, w, 1), shared by all channels and scaled "
            "by each channel's strength: not a separate noise for every channel."
        )
    noise = noise[..., :1]
    if np.allclose(noise, noise[:1], atol=1e-6):
        raise _Wrong("draw a different noise image for each sample of the batch.")
    if np.allclose(first, second):
        raise _Wrong(
            "draw fresh noise at every call (keras.random.normal without a fixed integer seed)."
        )
    mean, std = float(noise.mean()), float(noise.std())
    if abs(mean) > 0.1 or not 0.9 < std < 1.1:
        raise _Wrong(
            f"the noise has mean {mean:.2f} and standard deviation {std:.2f}: draw it from "
            "N(0, 1) (keras.random.normal)."
        )
    package = NoiseInjection()
    package.build([x.shape, noise.shape])
    package.strength.assign(strength)
    if not np.allclose(first, np.asarray(package([x, noise])), atol=1e-4):
        raise _Wrong("x + strength * noise, with the strength broadcast over the channels.")
    return _yes(
        "one N(0, 1) noise image per sample, shared by the channels, each channel scaled by "
        "its own learned strength (zero at first): gancourse.stylegan.NoiseInjection."
    )


@_check
def check_truncation_w(fn) -> bool:
    """13: ``fn(generator, z, psi)`` must return the w's of latent vectors z truncated in W:
    w = stylegan.mapping(generator, z), then w_avg + psi (w - w_avg) with w_avg =
    stylegan.w_avg(generator), like :func:`gancourse.stylegan.truncate`; checked on a small
    StyleGAN generator whose average w is not zero, for several psi."""
    _, keras = _tensorflow()
    from . import stylegan
    from .sampling import sample_latent

    keras.utils.set_random_seed(13)
    g = stylegan.stylegan_generator((8, 8, 1), latent_dim=8, w_dim=8, width=4, mapping_layers=2)
    z = sample_latent(6, 8, seed=13)
    w = stylegan.mapping(g, z)
    avg = w.mean(axis=0) + np.random.default_rng(13).normal(0, w.std(), w.shape[1])
    g.get_layer("w_avg").w_avg.assign(avg.astype("float32"))
    for psi in (0.6, 0.0, 1.0):
        want = stylegan.truncate(g, w, psi)
        got = _array(_call(fn, g, z.copy(), psi))
        _same_shape(
            got,
            want,
            {(6, 8, 8, 1): "return the truncated w's, not images"},
            "one w per z, (n, w_dim)",
        )
        if np.allclose(got, want, rtol=1e-4, atol=1e-5):
            continue
        slips = [
            (
                w,
                "psi changed nothing: truncate w after the mapping network, not z before it "
                "(pixel norm throws away z's length, so scaling z does nothing here)",
            ),
            (
                (1 - psi) * w + psi * avg,
                "psi multiplies (w - w_avg), not w_avg: psi = 1 must leave w as it is, "
                "psi = 0 give the average w",
            ),
            (
                psi * avg + (w - avg),
                "psi multiplies the difference (w - w_avg), not w_avg",
            ),
            (psi * w, "pull w towards the average w (w_avg + psi (w - w_avg)), not towards 0"),
            (psi * (w - avg), "add w_avg back: w_avg + psi (w - w_avg)"),
            (stylegan.mapping(g, psi * z), "truncate w after the mapping network, not z"),
        ]
        fallback = "w = stylegan.mapping(generator, z), then w_avg + psi * (w - w_avg)"
        return _no_slip(got, slips, fallback, 1e-4, 1e-5, prefix=f"with psi = {psi}: ")
    return _yes(
        "w_avg + psi (w - w_avg) for psi 0.6, 0 and 1, as gancourse.stylegan.truncate: psi = 0 "
        "gives every z the average w."
    )
