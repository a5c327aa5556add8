"""Generator, discriminator and critic builders for every notebook.

Every builder takes the image shape ((28, 28, 1) or (32, 32, 3)), the latent size and a
width, so "weak" and "strong" variants are the same function with other numbers. All layers
are named, so ``model.summary()`` prints the same table every time (nbval compares them).
Discriminators and critics return *logits* (no sigmoid): the losses work from logits,
which is numerically safer.

The stabilising options of notebook 09 are arguments of the same builders, all off by
default: ``spectral_norm`` and ``minibatch_std`` on the discriminators/critics, and
``upsampling`` (resize + convolution instead of transposed convolution) on the DCGAN
generators.
"""

from __future__ import annotations

import numpy as np

from .config import quiet_tensorflow

tf = quiet_tensorflow()
import keras  # noqa: E402
from keras import layers, ops  # noqa: E402

from .errors import ModelError  # noqa: E402

#: The scenarios of the DCGAN study in notebook 03 (published parameter tables), and how the
#: DCGAN generators double the resolution: transposed convolution (the DCGAN paper's choice)
#: or UpSampling2D with that interpolation followed by a Conv2D. Defined with the run options.
from .runs import SCENARIOS  # noqa: E402,F401
from .runs import UPSAMPLINGS as UPSAMPLING  # noqa: E402


class ReplicaSeedGenerator(keras.random.SeedGenerator):
    """A ``keras.random.SeedGenerator`` whose draws differ between the replicas of a
    ``tf.distribute`` strategy. Its state is mirrored, so a plain one would give every
    replica the same latent vectors (and the same label flips, interpolation weights,
    DiffAugment transforms and StyleGAN noise) for its share of the batch; this one folds the
    replica's number into each seed. With one replica its draws are those of a plain
    SeedGenerator."""

    def next(self, ordered=True):
        seed = super().next(ordered)
        context = tf.distribute.get_replica_context()
        if context is None or context.num_replicas_in_sync == 1:
            return seed
        return tf.random.experimental.stateless_fold_in(seed, context.replica_id_in_sync_group)


@keras.saving.register_keras_serializable(package="gancourse")
class MinibatchStdDev(layers.Layer):
    """Minibatch standard deviation (Karras et al. 2018, "Progressive Growing of GANs", 3):
    the standard deviation of every feature over the batch, averaged to one number and
    appended as one constant extra channel (or feature).

    A discriminator that sees single samples cannot tell that a generator makes the same
    image again and again; this statistic lets it see the variety of the whole batch, so a
    collapsed generator is easy to reject and gets pushed to spread out. (The paper computes
    it over groups of 4 samples; here the group is the whole batch, as the paper describes.)
    """

    def call(self, x):
        std = ops.sqrt(ops.var(ops.cast(x, "float32"), axis=0) + 1e-8)  # per feature (and location)
        stat = ops.cast(ops.mean(std), x.dtype)  # one number for the batch
        extra = ops.ones_like(x[..., :1]) * stat  # one constant channel
        return ops.concatenate([x, extra], axis=-1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (input_shape[-1] + 1,)


@keras.saving.register_keras_serializable(package="gancourse")
class ClusterChoice(layers.Layer):
    """Turns one standard-normal latent coordinate into a cluster index, each cluster drawn
    with its probability in ``prior``: the coordinate's normal CDF is a uniform number u in
    (0, 1), cut into one interval per cluster, as wide as its share, in the sequence
    ``order`` (default: 0, 1, ..., k-1). A sample of z ~ N(0, I) thus picks cluster j with
    probability ``prior[j]``, and the choice is part of z (seeded with it, interpolated with
    it, truncated with it); along the coordinate the clusters come in ``order``."""

    def __init__(self, prior, order=None, **kwargs):
        super().__init__(**kwargs)
        prior = np.asarray(prior, dtype=np.float64)
        finite = prior.ndim == 1 and np.isfinite(prior).all()
        if not finite or len(prior) < 2 or (prior < 0).any() or prior.sum() <= 0:
            raise ModelError(f"a cluster prior must be 2 or more non-negative shares, not {prior}")
        k = len(prior)
        order = np.arange(k) if order is None else np.asarray(order)
        if sorted(order.tolist()) != list(range(k)):
            raise ModelError(f"a cluster order must list each of the {k} clusters once")
        self.prior = (prior / prior.sum()).tolist()
        self.order = [int(j) for j in order]
        self._edges = np.cumsum(np.asarray(self.prior)[order])[:-1].astype("float32")

    def call(self, c):
        u = 0.5 * (1.0 + ops.erf(ops.cast(c, "float32") / np.sqrt(2.0)))  # (B, 1) in (0, 1)
        below = ops.cast(ops.greater(u, ops.convert_to_tensor(self._edges)), "int32")
        place = ops.sum(below, axis=-1, keepdims=True)  # (B, 1): which interval u fell in
        return ops.take(ops.convert_to_tensor(np.asarray(self.order, "int32")), place)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (1,)

    def get_config(self):
        return {**super().get_config(), "prior": self.prior, "order": self.order}


def marginal_generator(generator, prior, order=None, name="clustered_generator"):
    """An unconditional generator made of a cluster-conditioned one: it takes z with one
    coordinate more than ``generator``'s noise, turns that last coordinate into a cluster
    (:class:`ClusterChoice`, each cluster as often as its share ``prior`` of the training
    images, in the sequence ``order`` along the coordinate) and draws
    ``generator([z[:, :-1], cluster])``. It shares ``generator``'s layers and weights, so it
    always draws with the current ones."""
    latent_dim = latent_dim_of(generator)
    z = keras.Input((latent_dim + 1,), name="z")
    noise = layers.Lambda(lambda t: t[:, :latent_dim], name="noise")(z)
    cluster = ClusterChoice(prior, order, name="cluster")(
        layers.Lambda(lambda t: t[:, latent_dim:], name="cluster_coordinate")(z)
    )
    return keras.Model(z, generator([noise, cluster]), name=name)


def clustered_generator(
    latent_dim=100,
    image_shape=(28, 28, 1),
    width=128,
    prior=(0.5, 0.5),
    order=None,
    upsampling="transpose",
):
    """The unconditional generator of a cluster-conditioned DCGAN (``gancourse train --model
    cgan --clusters K``): :func:`cgan_dcgan_generator` with one class per cluster, sampled
    through :func:`marginal_generator`. ``latent_dim`` is the conditional generator's; the
    model takes ``latent_dim + 1`` numbers."""
    inner = cgan_dcgan_generator(
        latent_dim, image_shape, len(prior), width=width, upsampling=upsampling
    )
    return marginal_generator(inner, prior, order)


def mlp_generator(
    latent_dim=100,
    image_shape=(28, 28, 1),
    widths=(256, 512, 1024),
    initializer="glorot_uniform",
    name="mlp_generator",
):
    """Fully connected generator: Dense blocks (LeakyReLU 0.2, BatchNorm momentum 0.8), tanh."""
    z = keras.Input((latent_dim,), name="z")
    x = _mlp_generator_body(z, image_shape, widths, initializer)
    return keras.Model(z, x, name=name)


def mlp_discriminator(
    image_shape=(28, 28, 1),
    widths=(512, 256),
    initializer="glorot_uniform",
    spectral_norm=False,
    name="mlp_discriminator",
):
    """Fully connected discriminator 512-256 with LeakyReLU 0.2; one logit out.
    ``spectral_norm``: see :func:`dcgan_discriminator`."""
    img = keras.Input(image_shape, name="image")
    h = layers.Flatten(name="flatten")(img)
    return keras.Model(
        img, _mlp_discriminator_body(h, widths, initializer, spectral_norm), name=name
    )


def dcgan_generator(
    latent_dim=100,
    image_shape=(28, 28, 1),
    width=128,
    extra_layers=0,
    kernel_size=4,
    initializer="glorot_uniform",
    upsampling="transpose",
    name="dcgan_generator",
):
    """DCGAN generator: Dense to (s, s, width), then two stride-2 Conv2DTranspose up to the
    image size (s = 7 for 28x28, 8 for 32x32), ReLU + BatchNorm inside, tanh out.

    ``extra_layers`` inserts that many stride-1 Conv2DTranspose blocks at the middle
    resolution (the "deeper generator" exercise of notebook 03).

    ``upsampling="nearest"`` (or ``"bilinear"``) replaces each stride-2 transposed
    convolution by UpSampling2D followed by a stride-1 Conv2D with the same kernel size and
    number of filters (so the same parameter count). A transposed convolution whose kernel
    size is not a multiple of its stride covers some output pixels more often than others,
    which paints a checkerboard on the images; resizing first spreads every input pixel
    evenly (Odena, Dumoulin & Olah 2016, "Deconvolution and Checkerboard Artifacts").
    """
    z = keras.Input((latent_dim,), name="z")
    x = _dcgan_generator_body(
        z, image_shape, width, extra_layers, kernel_size, initializer, upsampling
    )
    return keras.Model(z, x, name=name)


def dcgan_discriminator(
    image_shape=(28, 28, 1),
    width=64,
    dropout=0.0,
    batchnorm=None,
    kernel_size=4,
    initializer="glorot_uniform",
    spectral_norm=False,
    minibatch_std=False,
    name="dcgan_discriminator",
):
    """DCGAN discriminator: two stride-2 Conv2D (width, 2*width) with LeakyReLU 0.2
    (BatchNorm on the second unless ``batchnorm=False``), optional Dropout, one logit.

    ``spectral_norm=True`` wraps every Conv2D and Dense in ``keras.layers.SpectralNormalization``
    (Miyato et al. 2018, "Spectral Normalization for GANs"): each weight matrix is divided by
    its largest singular value (estimated by one power iteration per training call), which
    bounds how fast D can change with its input (its Lipschitz constant) without the
    capacity loss of weight clipping. With it, BatchNorm is dropped unless ``batchnorm=True``
    is asked for, as in the paper.

    ``minibatch_std=True`` appends a :class:`MinibatchStdDev` channel before the last layer
    (Karras et al. 2018), so D can see a lack of variety in a batch.
    """
    if batchnorm is None:
        batchnorm = not spectral_norm
    img = keras.Input(image_shape, name="image")
    h = _conv_discriminator_body(
        img,
        width,
        dropout,
        "batch" if batchnorm else None,
        kernel_size,
        initializer,
        spectral_norm,
        minibatch_std,
    )
    return keras.Model(img, h, name=name)


def wgan_critic(
    image_shape=(28, 28, 1),
    width=64,
    norm=None,
    kernel_size=4,
    initializer="glorot_uniform",
    spectral_norm=False,
    minibatch_std=False,
    name="critic",
):
    """WGAN critic: the DCGAN discriminator body with a linear output and *no BatchNorm*
    (BatchNorm couples the samples of a batch, which breaks the per-sample gradient penalty).
    ``norm="layer"`` adds LayerNorm instead, as WGAN-GP suggests. ``spectral_norm`` and
    ``minibatch_std``: see :func:`dcgan_discriminator`."""
    if norm not in (None, "layer"):
        raise ModelError(f"critic norm must be None or 'layer', not {norm!r}")
    img = keras.Input(image_shape, name="image")
    return keras.Model(
        img,
        _conv_discriminator_body(
            img, width, 0.0, norm, kernel_size, initializer, spectral_norm, minibatch_std
        ),
        name=name,
    )


def cgan_mlp_generator(
    latent_dim=100,
    image_shape=(28, 28, 1),
    num_classes=10,
    widths=(256, 512, 1024),
    initializer="glorot_uniform",
    name="cgan_mlp_generator",
):
    """Conditional MLP generator: a label embedding (size ``latent_dim``) is *multiplied*
    into the noise, then the MLP generator body."""
    z = keras.Input((latent_dim,), name="z")
    label = keras.Input((1,), dtype="int32", name="label")
    emb = layers.Flatten(name="label_flat")(
        layers.Embedding(num_classes, latent_dim, name="label_embedding")(label)
    )
    h = layers.Multiply(name="z_times_label")([z, emb])
    return keras.Model(
        [z, label], _mlp_generator_body(h, image_shape, widths, initializer), name=name
    )


def cgan_mlp_discriminator(
    image_shape=(28, 28, 1),
    num_classes=10,
    widths=(512, 256),
    initializer="glorot_uniform",
    name="cgan_mlp_discriminator",
):
    """Conditional MLP discriminator: a label embedding the size of the image is multiplied
    into the flattened image, then the MLP discriminator body."""
    img = keras.Input(image_shape, name="image")
    label = keras.Input((1,), dtype="int32", name="label")
    size = int(np.prod(image_shape))
    flat = layers.Flatten(name="flatten")(img)
    emb = layers.Flatten(name="label_flat")(
        layers.Embedding(num_classes, size, name="label_embedding")(label)
    )
    h = layers.Multiply(name="image_times_label")([flat, emb])
    return keras.Model([img, label], _mlp_discriminator_body(h, widths, initializer), name=name)


def cgan_dcgan_generator(
    latent_dim=100,
    image_shape=(28, 28, 1),
    num_classes=10,
    width=128,
    label_mode="embedding",
    embed_dim=50,
    initializer="glorot_uniform",
    upsampling="transpose",
    name="cgan_dcgan_generator",
):
    """Conditional DCGAN generator: the label (an embedding of ``embed_dim`` or a one-hot
    vector, ``label_mode``) is *concatenated* to the noise, then the DCGAN generator body.
    ``upsampling``: see :func:`dcgan_generator`."""
    z = keras.Input((latent_dim,), name="z")
    label = keras.Input((1,), dtype="int32", name="label")
    code = _label_code(label, num_classes, label_mode, embed_dim)
    h = layers.Concatenate(name="z_and_label")([z, code])
    body = _dcgan_generator_body(h, image_shape, width, 0, 4, initializer, upsampling)
    return keras.Model([z, label], body, name=name)


def cgan_dcgan_discriminator(
    image_shape=(28, 28, 1),
    num_classes=10,
    width=64,
    dropout=0.0,
    label_mode="embedding",
    embed_dim=50,
    initializer="glorot_uniform",
    spectral_norm=False,
    minibatch_std=False,
    projection=False,
    name="cgan_dcgan_discriminator",
):
    """Conditional DCGAN discriminator: the label is mapped to one extra image-sized channel
    and concatenated to the image, then the DCGAN discriminator body. ``spectral_norm``
    (which also drops the BatchNorm, and normalises the label's Dense layer too) and
    ``minibatch_std``: see :func:`dcgan_discriminator`.

    ``projection=True`` gives the label to D the way the projection discriminator does
    (Miyato & Koyama 2018, "cGANs with Projection Discriminator") instead of as a channel:
    the image alone goes through the body to a feature vector phi(x), and the logit is
    ``psi(phi(x)) + embed(y) . phi(x)``, an unconditional score plus the inner product of the
    features with a learned vector per class. Every class then has its own direction in
    feature space along which D scores "real", which pushes the generator harder towards
    images of the requested class (``label_mode`` and ``embed_dim`` do not apply).
    """
    img = keras.Input(image_shape, name="image")
    label = keras.Input((1,), dtype="int32", name="label")
    norm = None if spectral_norm else "batch"
    if projection:
        features = _conv_discriminator_body(
            img, width, dropout, norm, 4, initializer, spectral_norm, minibatch_std, logit=False
        )
        psi = _sn(layers.Dense(1, kernel_initializer=initializer, name="logit"), spectral_norm)
        embed = layers.Embedding(num_classes, features.shape[-1], name="label_projection")
        inner = layers.Dot(axes=1, name="projection")(
            [layers.Flatten(name="label_flat")(embed(label)), features]
        )
        return keras.Model(
            [img, label], layers.Add(name="score")([psi(features), inner]), name=name
        )
    code = _label_code(label, num_classes, label_mode, embed_dim)
    h, w = image_shape[:2]
    dense = _sn(layers.Dense(h * w, name="label_dense"), spectral_norm)
    plane = layers.Reshape((h, w, 1), name="label_plane")(dense(code))
    x = layers.Concatenate(name="image_and_label")([img, plane])
    body = _conv_discriminator_body(
        x, width, dropout, norm, 4, initializer, spectral_norm, minibatch_std
    )
    return keras.Model([img, label], body, name=name)


def infogan_generator(
    noise_dim=62,
    image_shape=(28, 28, 1),
    categories=10,
    continuous=2,
    width=128,
    upsampling="transpose",
    name="infogan_generator",
):
    """InfoGAN generator (Chen et al. 2016): the DCGAN generator body on one latent vector
    ``z = [noise | one-hot categorical code | continuous codes]`` of ``noise_dim +
    categories + continuous`` numbers (62 + 10 + 2 for MNIST in the paper). The model
    records the three sizes as ``code_sizes``, so samplers draw proper codes for it (see
    :func:`gancourse.sampling.sample_codes`)."""
    sizes = _code_sizes(noise_dim, categories, continuous)
    z = keras.Input((sum(sizes),), name="z")
    body = _dcgan_generator_body(z, image_shape, width, 0, 4, "glorot_uniform", upsampling)
    model = keras.Model(z, body, name=name)
    model.code_sizes = sizes
    return model


def infogan_discriminator(
    image_shape=(28, 28, 1),
    categories=10,
    continuous=2,
    width=64,
    q_width=128,
    spectral_norm=False,
    minibatch_std=False,
    name="infogan_discriminator",
):
    """InfoGAN discriminator: the DCGAN discriminator's convolutional trunk shared by two
    heads: the real/fake ``logit`` (one number) and the auxiliary network Q (a Dense layer of
    ``q_width`` with LeakyReLU, then ``categories`` logits of the categorical code followed
    by the means of the ``continuous`` codes, whose variance is fixed at 1 as in the paper's
    MNIST model). Returns ``[logit, q]``. ``spectral_norm``, ``minibatch_std``: see
    :func:`dcgan_discriminator` (spectral normalisation is kept off Q, which is no critic)."""
    _code_sizes(1, categories, continuous)
    img = keras.Input(image_shape, name="image")
    norm = None if spectral_norm else "batch"
    features = _conv_discriminator_body(
        img, width, 0.0, norm, 4, "glorot_uniform", spectral_norm, minibatch_std, logit=False
    )
    logit = _sn(layers.Dense(1, name="logit"), spectral_norm)(features)
    h = layers.Dense(q_width, name="q_dense")(features)
    h = layers.LeakyReLU(negative_slope=0.2, name="q_lrelu")(h)
    q = layers.Dense(categories + continuous, name="q")(h)
    return keras.Model(img, [logit, q], name=name)


def toy_generator(latent_dim=2, hidden=128, depth=3, name="toy_generator"):
    """MLP generator for the 2-D toy mixtures: ReLU hidden layers, *linear* output (the
    mixtures live outside [-1, 1], so no tanh)."""
    z = keras.Input((latent_dim,), name="z")
    h = z
    for i in range(depth):
        h = layers.Dense(hidden, activation="relu", name=f"dense_{i}")(h)
    return keras.Model(z, layers.Dense(2, name="point")(h), name=name)


def toy_discriminator(
    hidden=128, depth=3, spectral_norm=False, minibatch_std=False, name="toy_discriminator"
):
    """MLP discriminator (or critic) for 2-D points: LeakyReLU 0.2 hidden layers, one logit.
    ``spectral_norm`` and ``minibatch_std`` (one extra feature before the logit): see
    :func:`dcgan_discriminator`."""
    x = keras.Input((2,), name="point")
    h = x
    for i in range(depth):
        h = _sn(layers.Dense(hidden, name=f"dense_{i}"), spectral_norm)(h)
        h = layers.LeakyReLU(negative_slope=0.2, name=f"lrelu_{i}")(h)
    if minibatch_std:
        h = MinibatchStdDev(name="minibatch_std")(h)
    return keras.Model(x, _sn(layers.Dense(1, name="logit"), spectral_norm)(h), name=name)


def scenario_models(scenario="baseline", latent_dim=100, image_shape=(28, 28, 1)):
    """(generator, discriminator) of one scenario of the DCGAN study in notebook 03.

    These keep the study's own architecture (5x5 kernels, no biases in the generator, as in
    the TensorFlow DCGAN tutorial) so that their parameter tables match the published ones:

    ============  =====================================================  ==================
    scenario      generator                                              discriminator
    ============  =====================================================  ==================
    baseline      Dense(7*7*64)-BN-ReLU, ConvT 64, ConvT 32, ConvT 1     Conv 64, Conv 128
                  480,928 params (474,464 trainable)                     212,865 params
    weak-d        same as baseline                                       Conv 16, Conv 32,
                                                                         AvgPool: 14,817
    weak-g        Dense(7*7*16)-BN-ReLU, ConvT 8, ConvT 1                same as baseline
                  84,968 params (83,384 trainable)
    ============  =====================================================  ==================
    """
    if scenario not in SCENARIOS:
        raise ModelError(f"Unknown scenario {scenario!r}. Known: {', '.join(SCENARIOS)}.")
    if scenario == "weak-g":
        g = _tutorial_generator(
            latent_dim, image_shape, start_channels=16, convs=(8,), name="weak_generator"
        )
    else:
        g = _tutorial_generator(
            latent_dim, image_shape, start_channels=64, convs=(64, 32), name="baseline_generator"
        )
    if scenario == "weak-d":
        d = _tutorial_discriminator(image_shape, (16, 32), pool=True, name="weak_discriminator")
    else:
        d = _tutorial_discriminator(
            image_shape, (64, 128), pool=False, name="baseline_discriminator"
        )
    return g, d


def tutorial_models(latent_dim=100, image_shape=(28, 28, 1)):
    """The TensorFlow DCGAN tutorial's configuration (G: Dense 7x7x256, ConvT 128, 64, 1 with
    5x5 kernels, 2.33M parameters; D: Conv 64, Conv 128 with dropout 0.3). Used only as the
    point of comparison in the benchmarks and notebook 03."""
    g = _tutorial_generator(
        latent_dim,
        image_shape,
        start_channels=256,
        convs=(128, 64),
        name="tutorial_generator",
        activation="leaky_relu",
    )
    d = _tutorial_discriminator(
        image_shape, (64, 128), pool=False, dropout=0.3, name="tutorial_discriminator"
    )
    return g, d


def count_params(model) -> dict:
    """``{"total", "trainable", "non_trainable"}`` parameter counts of a model."""
    trainable = int(sum(np.prod(w.shape) for w in model.trainable_weights))
    non_trainable = int(sum(np.prod(w.shape) for w in model.non_trainable_weights))
    return {
        "total": trainable + non_trainable,
        "trainable": trainable,
        "non_trainable": non_trainable,
    }


def is_conditional(model) -> bool:
    """True for a generator or discriminator that takes a label as second input."""
    return isinstance(model.inputs, (list, tuple)) and len(model.inputs) == 2


def num_classes_of(generator) -> int:
    """Number of classes a conditional generator knows (from its label layer; 10 if it has
    none that says)."""
    for layer in generator.layers:
        if isinstance(layer, layers.Embedding):
            return int(layer.input_dim)
        if isinstance(layer, layers.CategoryEncoding):
            return int(layer.num_tokens)
    return 10


def latent_dim_of(generator) -> int:
    """Latent size of a generator (the last dimension of its noise input)."""
    z = generator.inputs[0] if isinstance(generator.inputs, (list, tuple)) else generator.inputs
    return int(z.shape[-1])


# --------------------------------------------------------------------------- helpers


def _code_sizes(noise_dim, categories, continuous):
    """``(noise_dim, categories, continuous)`` as whole numbers, or a ModelError."""
    for what, value, low in (
        ("noise_dim", noise_dim, 1),
        ("categories", categories, 2),
        ("continuous", continuous, 0),
    ):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ModelError(f"{what} must be a whole number >= {low}, not {value!r}")
    return int(noise_dim), int(categories), int(continuous)


def _start_size(image_shape):
    h, w, _ = image_shape
    if h != w or h % 4:
        raise ModelError(
            f"image_shape must be square with a side divisible by 4 "
            f"(e.g. (28, 28, 1) or (32, 32, 3)), got {image_shape}"
        )
    return h // 4


def _mlp_generator_body(h, image_shape, widths, initializer):
    for i, n in enumerate(widths):
        h = layers.Dense(n, kernel_initializer=initializer, name=f"dense_{i}")(h)
        h = layers.LeakyReLU(negative_slope=0.2, name=f"lrelu_{i}")(h)
        h = layers.BatchNormalization(momentum=0.8, name=f"bn_{i}")(h)
    h = layers.Dense(
        int(np.prod(image_shape)),
        activation="tanh",
        kernel_initializer=initializer,
        name="dense_out",
    )(h)
    return layers.Reshape(image_shape, name="image")(h)


def _sn(layer, on):
    """``layer`` wrapped in Keras's SpectralNormalization when ``on`` (named ``<name>_sn``)."""
    return layers.SpectralNormalization(layer, name=f"{layer.name}_sn") if on else layer


def _mlp_discriminator_body(h, widths, initializer, spectral_norm=False):
    for i, n in enumerate(widths):
        h = _sn(layers.Dense(n, kernel_initializer=initializer, name=f"dense_{i}"), spectral_norm)(
            h
        )
        h = layers.LeakyReLU(negative_slope=0.2, name=f"lrelu_{i}")(h)
    return _sn(layers.Dense(1, kernel_initializer=initializer, name="logit"), spectral_norm)(h)


def _dcgan_generator_body(
    h, image_shape, width, extra_layers, kernel_size, initializer, upsampling="transpose"
):
    if upsampling not in UPSAMPLING:
        raise ModelError(f"upsampling must be one of {UPSAMPLING}, not {upsampling!r}")
    s = _start_size(image_shape)
    h = layers.Dense(s * s * width, use_bias=False, kernel_initializer=initializer, name="project")(
        h
    )
    h = layers.BatchNormalization(name="project_bn")(h)
    h = layers.ReLU(name="project_relu")(h)
    h = layers.Reshape((s, s, width), name="reshape")(h)
    h = _upsample(h, width // 2, kernel_size, initializer, upsampling, "up_1", use_bias=False)
    h = layers.BatchNormalization(name="up_1_bn")(h)
    h = layers.ReLU(name="up_1_relu")(h)
    for i in range(extra_layers):
        h = layers.Conv2DTranspose(
            width // 2,
            3,
            strides=1,
            padding="same",
            use_bias=False,
            kernel_initializer=initializer,
            name=f"extra_{i}",
        )(h)
        h = layers.BatchNormalization(name=f"extra_{i}_bn")(h)
        h = layers.ReLU(name=f"extra_{i}_relu")(h)
    return _upsample(
        h, image_shape[-1], kernel_size, initializer, upsampling, "up_2", activation="tanh"
    )


def _upsample(h, filters, kernel_size, initializer, upsampling, name, **kwargs):
    """Double the resolution: a stride-2 transposed convolution, or resize + convolution."""
    if upsampling == "transpose":
        return layers.Conv2DTranspose(
            filters,
            kernel_size,
            strides=2,
            padding="same",
            kernel_initializer=initializer,
            name=name,
            **kwargs,
        )(h)
    h = layers.UpSampling2D(2, interpolation=upsampling, name=f"{name}_resize")(h)
    return layers.Conv2D(
        filters, kernel_size, padding="same", kernel_initializer=initializer, name=name, **kwargs
    )(h)


def _conv_discriminator_body(
    h,
    width,
    dropout,
    norm,
    kernel_size,
    initializer,
    spectral_norm=False,
    minibatch_std=False,
    logit=True,
):
    """Two stride-2 convolutions, flattened; then one logit, or (``logit=False``) the
    flattened features themselves."""
    h = _sn(
        layers.Conv2D(
            width,
            kernel_size,
            strides=2,
            padding="same",
            kernel_initializer=initializer,
            name="conv_1",
        ),
        spectral_norm,
    )(h)
    h = layers.LeakyReLU(negative_slope=0.2, name="conv_1_lrelu")(h)
    h = _sn(
        layers.Conv2D(
            2 * width,
            kernel_size,
            strides=2,
            padding="same",
            kernel_initializer=initializer,
            name="conv_2",
        ),
        spectral_norm,
    )(h)
    if norm == "batch":
        h = layers.BatchNormalization(name="conv_2_bn")(h)
    elif norm == "layer":
        h = layers.LayerNormalization(name="conv_2_ln")(h)
    h = layers.LeakyReLU(negative_slope=0.2, name="conv_2_lrelu")(h)
    if minibatch_std:
        h = MinibatchStdDev(name="minibatch_std")(h)
    h = layers.Flatten(name="flatten")(h)
    if dropout:
        h = layers.Dropout(dropout, name="dropout")(h)
    if not logit:
        return h
    return _sn(layers.Dense(1, kernel_initializer=initializer, name="logit"), spectral_norm)(h)


def _label_code(label, num_classes, label_mode, embed_dim):
    if label_mode == "embedding":
        return layers.Flatten(name="label_flat")(
            layers.Embedding(num_classes, embed_dim, name="label_embedding")(label)
        )
    if label_mode == "onehot":
        return layers.Flatten(name="label_flat")(
            layers.CategoryEncoding(num_classes, output_mode="one_hot", name="label_onehot")(label)
        )
    raise ModelError(f"label_mode must be 'embedding' or 'onehot', not {label_mode!r}")


def _tutorial_generator(latent_dim, image_shape, start_channels, convs, name, activation="relu"):
    """TF-tutorial-style generator: bias-free layers, 5x5 kernels; the first ConvT keeps
    7x7 when there are two, and the rest upsample by 2 up to the image size."""
    s = _start_size(image_shape)
    act = (
        (lambda n: layers.LeakyReLU(negative_slope=0.3, name=n))
        if activation == "leaky_relu"
        else (lambda n: layers.ReLU(name=n))
    )
    z = keras.Input((latent_dim,), name="z")
    h = layers.Dense(s * s * start_channels, use_bias=False, name="project")(z)
    h = layers.BatchNormalization(name="project_bn")(h)
    h = act("project_act")(h)
    h = layers.Reshape((s, s, start_channels), name="reshape")(h)
    strides = [1] * (len(convs) - 1) + [2]
    for i, (c, st) in enumerate(zip(convs, strides), start=1):
        h = layers.Conv2DTranspose(
            c, 5, strides=st, padding="same", use_bias=False, name=f"convT_{i}"
        )(h)
        h = layers.BatchNormalization(name=f"convT_{i}_bn")(h)
        h = act(f"convT_{i}_act")(h)
    out = layers.Conv2DTranspose(
        image_shape[-1],
        5,
        strides=2,
        padding="same",
        use_bias=False,
        activation="tanh",
        name="convT_out",
    )(h)
    return keras.Model(z, out, name=name)


def _tutorial_discriminator(image_shape, filters, pool, name, dropout=0.3):
    """TF-tutorial-style discriminator: 5x5 convolutions, LeakyReLU, dropout, one logit.
    With ``pool`` the second convolution keeps its resolution and average pooling halves it."""
    img = keras.Input(image_shape, name="image")
    h = img
    for i, f in enumerate(filters, start=1):
        stride = 1 if (pool and i == len(filters)) else 2
        h = layers.Conv2D(f, 5, strides=stride, padding="same", name=f"conv_{i}")(h)
        h = layers.LeakyReLU(negative_slope=0.2, name=f"conv_{i}_lrelu")(h)
        h = layers.Dropout(dropout, name=f"conv_{i}_dropout")(h)
    if pool:
        h = layers.AveragePooling2D(2, name="avg_pool")(h)
    h = layers.Flatten(name="flatten")(h)
    return keras.Model(img, layers.Dense(1, name="logit")(h), name=name)
