"""Image-to-image translation: pix2pix (paired, Isola et al. 2017) and CycleGAN (unpaired,
Zhu et al. 2017), sized for the course's 28x28 and 32x32 images.

The builders (:func:`unet_generator`, :func:`patch_discriminator` with its
:func:`receptive_field`, :func:`resnet_generator`), the two ``keras.Model`` subclasses with
their ``train_step`` (:class:`Pix2Pix`, :class:`CycleGAN`) and the glue that builds them
from a task (:func:`build_translator`, :func:`translator_from_config`, :func:`load_run`).
They train with the engine of :mod:`gancourse.training` (:func:`~gancourse.training.train`:
checkpoints and resume, sample grids, EMA, TensorBoard, NaN guard, time budget,
``tf.distribute``): both are :class:`~gancourse.training.AdversarialModel` s. The losses are
in :mod:`gancourse.losses`, the paired and unpaired pipelines in :mod:`gancourse.data`
(:func:`~gancourse.data.translation_pipeline`), PSNR and colourfulness in
:mod:`gancourse.metrics`. :class:`TranslatorNetworks` holds a translator's generator(s)
alone, as :mod:`gancourse.pretrained` ships them (:func:`cyclegan_generators`,
:func:`builder_of`), and :func:`read_images` reads image files for ``gancourse translate``.

>>> model = build_translator("pix2pix", "colorize")
>>> train(model, data.translation_pipeline("colorize"), epochs=5, run_dir="runs/colorize")
>>> colour = model.translate(grey_images)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .config import quiet_tensorflow

tf = quiet_tensorflow()
import keras  # noqa: E402
from keras import layers  # noqa: E402

from . import losses  # noqa: E402
from .data import get_spec, get_task, task_shapes  # noqa: E402
from .errors import ModelError  # noqa: E402
from .runs import TRANSLATORS, RunConfig  # noqa: E402
from .training import AdversarialModel, _scope  # noqa: E402
from .training import load_run as _load_run  # noqa: E402

#: Loss weights when none are given: pix2pix's lambda = 100 on L1 (Isola et al. 2017);
#: CycleGAN's lambda = 10 on the cycle loss and half of it on the identity loss (Zhu et al.
#: 2017 and their code).
DEFAULT_WEIGHTS = {
    "l1_weight": 100.0,
    "gan_weight": 1.0,
    "cycle_weight": 10.0,
    "identity_weight": 5.0,
}

#: How many examples of each side the sample grids show (one column each).
PREVIEW = 8


# ---------------------------------------------------------------------------- builders


def unet_generator(
    input_shape=(32, 32, 1), out_channels=3, width=32, depth=4, skips=True, dropout=0.5, name=None
):
    """The pix2pix generator: a U-Net (Ronneberger et al. 2015) of ``depth`` 4x4 stride-2
    convolutions down (LeakyReLU 0.2, batch norm but on the first) and as many transposed
    convolutions up (ReLU, batch norm, dropout on the two deepest), ending in ``tanh``.

    ``skips``: each level of the way up also gets the features of the same size from the way
    down (concatenated), so detail the bottleneck cannot hold (edges, where each pixel is)
    reaches the output directly; without them it is the plain encoder-decoder of the paper's
    ablation, which must squeeze every image through a 2x2 bottleneck (at 32x32, depth 4).
    Widths double per level from ``width`` (at most 8x). Images whose side is not a multiple
    of 2**depth (28x28) are zero-padded on the way in and cropped on the way out.
    """
    h, w, _ = _check_shape(input_shape, "input_shape")
    _whole(depth, "depth", 1)
    _whole(width, "width", 1)
    _whole(out_channels, "out_channels", 1)
    side = 2**depth
    pad = ((-h) % side, (-w) % side)
    pad = ((pad[0] // 2, pad[0] - pad[0] // 2), (pad[1] // 2, pad[1] - pad[1] // 2))
    source = keras.Input(tuple(input_shape), name="source")
    x = layers.ZeroPadding2D(pad, name="pad")(source) if any(map(sum, pad)) else source
    down = []
    for i in range(depth):
        x = layers.Conv2D(
            width * 2 ** min(i, 3),
            4,
            strides=2,
            padding="same",
            use_bias=i == 0,
            name=f"down{i + 1}",
        )(x)
        if i:
            x = layers.BatchNormalization(name=f"down{i + 1}_bn")(x)
        x = layers.LeakyReLU(negative_slope=0.2, name=f"down{i + 1}_lrelu")(x)
        down.append(x)
    for i in reversed(range(depth - 1)):  # back up to the size of level i of the way down
        x = layers.Conv2DTranspose(
            width * 2 ** min(i, 3), 4, strides=2, padding="same", use_bias=False, name=f"up{i + 1}"
        )(x)
        x = layers.BatchNormalization(name=f"up{i + 1}_bn")(x)
        if dropout and i >= depth - 3:
            x = layers.Dropout(dropout, name=f"up{i + 1}_dropout")(x)
        x = layers.ReLU(name=f"up{i + 1}_relu")(x)
        if skips:
            x = layers.Concatenate(name=f"skip{i + 1}")([x, down[i]])
    x = layers.Conv2DTranspose(out_channels, 4, strides=2, padding="same", name="to_image")(x)
    if any(map(sum, pad)):
        x = layers.Cropping2D(pad, name="crop")(x)
    out = layers.Activation("tanh", dtype="float32", name="tanh")(x)
    default = "unet_generator" if skips else "encoder_decoder"
    return keras.Model(source, out, name=name or default)


def patch_discriminator(
    image_shape=(32, 32, 3),
    condition_shape=None,
    width=64,
    downsamplings=1,
    norm="batch",
    name=None,
):
    """A PatchGAN discriminator (Isola et al. 2017): convolutions only, so it returns a map
    of logits, one per overlapping patch, each judging whether its patch looks real.
    ``downsamplings`` 4x4 stride-2 convolutions (widths doubling from ``width``), one 4x4
    stride-1 convolution and a 4x4 one to a single channel: with 3 this is the paper's 70x70
    PatchGAN; the default 1 sees 16x16 patches, half a 32x32 image (see
    :func:`receptive_field`). The paper's ``width`` is 64; 32 halves the cost of a pix2pix
    step on 32x32 images (396 against 205 images per CPU-second, one thread), and D is most
    of that cost. LeakyReLU 0.2; ``norm`` "batch" (pix2pix) or "instance"
    (CycleGAN) after every convolution but the first and the last.

    ``condition_shape``: pix2pix's D also sees the input image (concatenated with the
    image to judge along the channels): it takes ``[condition, image]``. Without it (CycleGAN)
    it takes the image alone.
    """
    _check_shape(image_shape, "image_shape")
    _whole(downsamplings, "downsamplings", 0)
    _whole(width, "width", 1)
    if norm not in ("batch", "instance"):
        raise ModelError(f"norm must be 'batch' or 'instance', not {norm!r}")
    image = keras.Input(tuple(image_shape), name="image")
    inputs, x = image, image
    if condition_shape is not None:
        condition = keras.Input(
            tuple(_check_shape(condition_shape, "condition_shape")), name="condition"
        )
        if tuple(condition_shape[:2]) != tuple(image_shape[:2]):
            raise ModelError(
                f"the condition ({tuple(condition_shape)}) and the image ({tuple(image_shape)}) "
                f"must have the same height and width"
            )
        inputs, x = [condition, image], layers.Concatenate(name="pair")([condition, image])
    strides = [2] * downsamplings + [1]
    for i, stride in enumerate(strides):
        x = layers.Conv2D(
            width * 2 ** min(i, 3),
            4,
            strides=stride,
            padding="same",
            use_bias=i == 0,
            name=f"conv{i + 1}",
        )(x)
        if i:
            x = _norm(norm, f"conv{i + 1}_norm")(x)
        x = layers.LeakyReLU(negative_slope=0.2, name=f"conv{i + 1}_lrelu")(x)
    logits = layers.Conv2D(1, 4, padding="same", dtype="float32", name="patch_logits")(x)
    return keras.Model(inputs, logits, name=name or "patch_discriminator")


def receptive_field(model_or_layers) -> int:
    """The side, in input pixels, of the patch one output of a chain of convolutions sees:
    from the last layer back, r <- (r - 1) * stride + kernel, starting from r = 1. Takes a
    model (its Conv2D layers, in order; e.g. a :func:`patch_discriminator`) or a list of
    ``(kernel, stride)`` pairs. The paper's discriminator, [(4, 2)] * 3 + [(4, 1)] * 2, gives
    70."""
    if isinstance(model_or_layers, keras.Model):
        convs = [
            (layer.kernel_size[0], layer.strides[0])
            for layer in model_or_layers.layers
            if isinstance(layer, layers.Conv2D)
        ]
    else:
        convs = list(model_or_layers)
    if not convs or not all(
        isinstance(c, (tuple, list)) and len(c) == 2 and all(_is_whole(v) and v >= 1 for v in c)
        for c in convs
    ):
        raise ModelError(
            "receptive_field needs a model with Conv2D layers or a list of (kernel, stride) "
            f"pairs of whole numbers >= 1, not {model_or_layers!r}"
        )
    r = 1
    for kernel, stride in reversed(convs):
        r = (r - 1) * stride + kernel
    return int(r)


def resnet_generator(image_shape=(32, 32, 3), out_channels=None, width=16, blocks=4, name=None):
    """The CycleGAN generator (Johnson et al. 2016, as in Zhu et al. 2017), small: a 7x7
    convolution, two 3x3 stride-2 convolutions down (to a quarter of the side), ``blocks``
    residual blocks, two transposed convolutions up and a 7x7 convolution to ``tanh``;
    instance norm and ReLU between. The residual blocks make "leave it as it is" the easy
    answer, which suits a translation that should change texture and keep shape. The paper
    uses 6 blocks at 128x128 and 9 at 256x256 with width 64; here 4 blocks of width 16 (a
    CycleGAN step at 28x28 trains 70 images per CPU-second on one thread; 33 with width 32).
    The side must be a multiple of 4."""
    h, w, c = _check_shape(image_shape, "image_shape")
    if h % 4 or w % 4:
        raise ModelError(f"resnet_generator needs a side divisible by 4, not {tuple(image_shape)}")
    _whole(blocks, "blocks", 0)
    _whole(width, "width", 1)
    out_channels = c if out_channels is None else _whole(out_channels, "out_channels", 1)
    source = keras.Input(tuple(image_shape), name="source")
    x = _conv_norm_relu(source, width, 7, 1, "stem")
    x = _conv_norm_relu(x, 2 * width, 3, 2, "down1")
    x = _conv_norm_relu(x, 4 * width, 3, 2, "down2")
    for i in range(blocks):
        y = _conv_norm_relu(x, 4 * width, 3, 1, f"res{i + 1}a")
        y = layers.Conv2D(4 * width, 3, padding="same", use_bias=False, name=f"res{i + 1}b")(y)
        y = _norm("instance", f"res{i + 1}b_norm")(y)
        x = layers.Add(name=f"res{i + 1}")([x, y])
    x = _conv_norm_relu(x, 2 * width, 3, 2, "up1", transpose=True)
    x = _conv_norm_relu(x, width, 3, 2, "up2", transpose=True)
    x = layers.Conv2D(out_channels, 7, padding="same", name="to_image")(x)
    out = layers.Activation("tanh", dtype="float32", name="tanh")(x)
    return keras.Model(source, out, name=name or "resnet_generator")


def cyclegan_generators(shape_a=(28, 28, 3), shape_b=None, width=16, blocks=4):
    """Both generators of a CycleGAN as one model of ``[a, b] -> [G(a), F(b)]`` named
    "generators": G: A -> B (``a_to_b``) and F: B -> A (``b_to_a``), two
    :func:`resnet_generator` s of ``width`` and ``blocks`` (``shape_b``: the B side's
    image shape, by default A's). :class:`CycleGAN` pairs its G and F into the same model
    (its ``generator``), and :mod:`gancourse.pretrained` ships it, one file for both
    directions."""
    return _pair(
        *_resnet_pair(shape_a, shape_a if shape_b is None else shape_b, width, blocks),
        "generators",
    )


# ---------------------------------------------------------------------------- models


class Translator(AdversarialModel):
    """What pix2pix and CycleGAN share: the engine of :class:`AdversarialModel`, translating
    NumPy images (:meth:`translate`) and the sample grid :func:`~gancourse.training.train`
    draws every few epochs from fixed examples (:meth:`set_preview`; by default the first
    examples of the first batch the model trains on)."""

    #: The task and dataset (names) it translates; :func:`build_translator` sets both.
    task = None
    dataset = None

    def __init__(self, generator, discriminator, **kwargs):
        super().__init__(generator, discriminator, **kwargs)
        self.preview = None

    def data_shape(self):
        """Shape of one image of the first element of a batch (the source side)."""
        return tuple(self.generator.inputs[0].shape[1:])

    def source_shape(self, direction="a2b"):
        """Shape of one image :meth:`translate` takes in ``direction``."""
        return tuple(self.network(direction).inputs[0].shape[1:])

    def fit(self, x=None, *args, **kwargs):
        """:meth:`AdversarialModel.fit`; first takes its preview examples from the data if
        none were set."""
        if self.preview is None and isinstance(x, tf.data.Dataset):
            a, b = next(iter(x))
            self.set_preview(a[:PREVIEW], b[:PREVIEW])
        return super().fit(x, *args, **kwargs)

    def set_preview(self, a, b):
        """The examples the sample grids show (NumPy or tensors in [-1, 1]): ``a`` on the
        source side, ``b`` the truth (pix2pix) or images of the other domain (CycleGAN)."""
        shapes = self._sides()
        a, b = (_check_images(v, s, what) for v, s, what in zip((a, b), shapes, ("a", "b")))
        self.preview = (a, b)

    def _compile_engine(self, kwargs, g_optimizer, d_optimizer, g_lr, d_lr, lr_decay):
        """The part of ``compile`` both translators share: Keras's own, the optimizers
        (Adam(2e-4, beta_1=0.5) unless given, as in both papers), a tracker for each name
        of :meth:`metric_names` (which depend on the loss weights), the learning-rate decay."""
        self._compile_keras(kwargs)
        adam = lambda lr: keras.optimizers.Adam(lr, beta_1=0.5)  # noqa: E731
        self.g_optimizer = self._optimizer(g_optimizer, g_lr, "g", adam, 2e-4)
        self.d_optimizer = self._optimizer(d_optimizer, d_lr, "d", adam, 2e-4)
        names = self.metric_names()
        self.trackers = {n: self.trackers.get(n) or keras.metrics.Mean(name=n) for n in names}
        self._prepare_optimizers()
        self._set_lr_decay(lr_decay)

    def _preview(self):
        if self.preview is None:
            raise ModelError("no preview examples yet: call set_preview(a, b) or train first")
        return self.preview


class Pix2Pix(Translator):
    """pix2pix (Isola et al. 2017): a conditional GAN whose condition is an image. G maps an
    input image (greyscale, edges) to an output (colour, the object); D sees input and
    output together and judges each patch (:func:`patch_discriminator`). G minimises the
    non-saturating GAN loss plus ``l1_weight`` times the L1 distance to the true output
    (:func:`gancourse.losses.pix2pix_generator_loss`); D's loss is halved, as in the paper,
    to slow it down relative to G. Train on ``(input, target)`` batches
    (:func:`gancourse.data.translation_pipeline`).

    Reported per epoch: ``g_loss`` (G's whole objective), ``l1`` (E|y - G(x)|, pixels in
    [-1, 1]), and, unless ``gan_weight`` is 0 (L1 alone, no D at all), ``g_gan`` (the GAN
    term), ``d_loss`` and ``d_real``, ``d_fake`` (D's mean probability over patches).
    ``ema``: as for :class:`~gancourse.training.GAN` (:meth:`translate` then uses the
    average).
    """

    def __init__(self, generator, discriminator, **kwargs):
        source, target = tuple(generator.inputs[0].shape[1:]), tuple(generator.output_shape[1:])
        d_inputs = discriminator.inputs if isinstance(discriminator.inputs, (list, tuple)) else []
        if (
            len(generator.inputs) != 1
            or len(d_inputs) != 2
            or (
                tuple(d_inputs[0].shape[1:]),
                tuple(d_inputs[1].shape[1:]),
            )
            != (source, target)
        ):
            raise ModelError(
                f"Pix2Pix needs a generator from one image to another ({source} -> {target}) and "
                f"a discriminator of [condition, image] of those shapes, e.g. "
                f"patch_discriminator({target}, condition_shape={source})."
            )
        super().__init__(generator, discriminator, **kwargs)

    def compile(
        self,
        g_optimizer=None,
        d_optimizer=None,
        l1_weight=DEFAULT_WEIGHTS["l1_weight"],
        gan_weight=DEFAULT_WEIGHTS["gan_weight"],
        g_lr=None,
        d_lr=None,
        lr_decay=0.0,
        **kwargs,
    ):
        """Adam(2e-4, beta_1=0.5) for both networks, as in the paper, unless given.
        ``l1_weight``: lambda of the L1 term (100); ``gan_weight``: of the GAN term (1; 0
        trains G on L1 alone, without D, for the L1-only row of an ablation). ``g_lr``,
        ``d_lr``, ``lr_decay``: as in :meth:`gancourse.training.GAN.compile` (the paper's
        schedule decays the rates to 0 over the second half: ``lr_decay=0.5``)."""
        l1_weight, gan_weight = _weight(l1_weight, "l1_weight"), _weight(gan_weight, "gan_weight")
        if not (l1_weight or gan_weight):
            raise ModelError("l1_weight and gan_weight are both 0: G would learn nothing")
        self.l1_weight, self.gan_weight = l1_weight, gan_weight
        self._compile_engine(kwargs, g_optimizer, d_optimizer, g_lr, d_lr, lr_decay)

    def metric_names(self):
        if getattr(self, "gan_weight", 1.0) == 0:
            return ("g_loss", "l1")
        return ("d_loss", "g_loss", "d_real", "d_fake", "g_gan", "l1")

    def call(self, source, training=False):
        return self.generator(source, training=training)

    def train_step(self, data):
        self._decay_learning_rates()
        source, target = data
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            output = self.generator(source, training=True)
            l1 = losses.l1_distance(target, output)
            if self.gan_weight == 0:  # L1 alone: a plain regression, D is never used
                g_loss = self.l1_weight * l1
            else:
                real_logits = self.discriminator([source, target], training=True)
                fake_logits = self.discriminator([source, output], training=True)
                d_loss = 0.5 * losses.discriminator_loss(real_logits, fake_logits)
                g_gan = losses.generator_loss(fake_logits)
                g_loss = losses.pix2pix_generator_loss(
                    fake_logits, target, output, self.l1_weight, self.gan_weight
                )
        if self.gan_weight == 0:
            self._step(g_tape, g_loss, self.generator, self.g_optimizer)
            self._update_ema()
            return self._report(g_loss=g_loss, l1=l1)
        return self.update_networks(
            d_tape, d_loss, g_tape, g_loss, real_logits, fake_logits, g_gan=g_gan, l1=l1
        )

    #: pix2pix translates one way: its input (A) to its output (B).
    directions = ("a2b",)

    def translate(self, images, direction="a2b", use_ema=True, batch_size=256):
        """G's outputs (NumPy, [-1, 1]) for input images in [-1, 1] of the model's shape; a
        clear :class:`ModelError` for another size, channel count or range. ``direction``
        is "a2b" (the only one: a :class:`CycleGAN` also translates back, "b2a")."""
        return _translate(self.network(direction, use_ema), images, batch_size)

    def network(self, direction="a2b", use_ema=True):
        """The generator that translates ``direction`` (G, or its EMA copy if kept and
        ``use_ema``)."""
        _check_direction(direction, self.directions)
        return self.sampling_generator(use_ema)

    def preview_images(self):
        """``(images, ncols)`` of the sample grid: a row of inputs, a row of outputs, a row
        of the true outputs (greyscale inputs shown in colour when the outputs are)."""
        source, target = self._preview()
        output = self.translate(source)
        return np.concatenate(match_channels(source, output, target)), len(source)

    def _sides(self):
        return self.data_shape(), tuple(self.generator.output_shape[1:])


class CycleGAN(Translator):
    """CycleGAN (Zhu et al. 2017): two generators, G: A -> B (``g_ab``) and F: B -> A
    (``g_ba``), and two discriminators, ``d_a`` (real A or F(b)?) and ``d_b`` (real B or
    G(a)?), learnt from two *unpaired* sets. Each generator minimises the least-squares GAN
    loss against its discriminator, plus ``cycle_weight`` (lambda, 10) times the cycle
    loss, |F(G(a)) - a| + |G(F(b)) - b|, plus ``identity_weight`` (5) times the identity
    loss, |F(a) - a| + |G(b) - b| (:mod:`gancourse.losses`). D's loss is halved, as in the
    paper. Train on ``(a, b)`` batches (:func:`gancourse.data.translation_pipeline`).

    The engine sees one ``generator`` (a model of [a, b] -> [G(a), F(b)] holding both) and
    one ``discriminator`` (likewise), each with one Adam optimizer over both networks, as
    the paper's code has; checkpoints, EMA and the strategy checks work on them unchanged.
    Left out of the paper's recipe: the pool of 50 earlier fakes D also sees.

    Reported per epoch: ``d_loss``, ``g_loss`` (G and F's whole objective), ``g_gan`` (their
    LSGAN terms), ``cycle``, ``identity`` (if weighted) and ``d_real``, ``d_fake`` (the mean
    raw scores of the discriminators on real and translated images: 1 and 0 are their
    targets).
    """

    def __init__(self, g_ab, g_ba, d_a, d_b, **kwargs):
        shape_a, shape_b = tuple(g_ab.inputs[0].shape[1:]), tuple(g_ab.output_shape[1:])
        wanted = {
            "g_ba": ((shape_b,), shape_a, g_ba),
            "d_a": ((shape_a,), None, d_a),
            "d_b": ((shape_b,), None, d_b),
        }
        for what, (ins, out, net) in wanted.items():
            got = tuple(tuple(i.shape[1:]) for i in net.inputs)
            if got != ins or (out is not None and tuple(net.output_shape[1:]) != out):
                raise ModelError(
                    f"CycleGAN: g_ab maps {shape_a} -> {shape_b}, so {what} must take "
                    f"{ins[0]}" + (f" and make {out}" if out else "") + f"; it takes {got}."
                )
        names = [n.name for n in (g_ab, g_ba, d_a, d_b)]
        if len(set(names)) < 4:
            raise ModelError(f"CycleGAN needs four networks with different names, not {names}")
        generators = _pair(g_ab, g_ba, "generators")
        discriminators = _pair(d_a, d_b, "discriminators")
        super().__init__(generators, discriminators, **kwargs)
        self.g_ab, self.g_ba, self.d_a, self.d_b = g_ab, g_ba, d_a, d_b

    def compile(
        self,
        g_optimizer=None,
        d_optimizer=None,
        cycle_weight=DEFAULT_WEIGHTS["cycle_weight"],
        identity_weight=DEFAULT_WEIGHTS["identity_weight"],
        g_lr=None,
        d_lr=None,
        lr_decay=0.0,
        **kwargs,
    ):
        """Adam(2e-4, beta_1=0.5) over both generators and over both discriminators, as in
        the paper, unless given. ``cycle_weight``: lambda (10); ``identity_weight``: of the
        identity loss (5; 0 leaves it out, and with shapes that differ it must be 0).
        ``g_lr``, ``d_lr``, ``lr_decay``: as in :meth:`gancourse.training.GAN.compile`."""
        self.cycle_weight = _weight(cycle_weight, "cycle_weight")
        self.identity_weight = _weight(identity_weight, "identity_weight")
        shape_a, shape_b = self._sides()
        if self.identity_weight and shape_a != shape_b:
            raise ModelError(
                f"the identity loss feeds images of each domain to the generator that makes "
                f"them, so it needs domains of one shape ({shape_a} vs {shape_b}): "
                f"identity_weight=0"
            )
        self._compile_engine(kwargs, g_optimizer, d_optimizer, g_lr, d_lr, lr_decay)

    def metric_names(self):
        names = ("d_loss", "g_loss", "d_real", "d_fake", "g_gan", "cycle")
        return names + (("identity",) if getattr(self, "identity_weight", 1.0) else ())

    def call(self, a, training=False):
        return self.g_ab(a, training=training)

    def train_step(self, data):
        self._decay_learning_rates()
        real_a, real_b = data
        g_ab, g_ba, d_a, d_b = self.g_ab, self.g_ba, self.d_a, self.d_b
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake_b, fake_a = g_ab(real_a, training=True), g_ba(real_b, training=True)
            cycle = losses.cycle_loss(
                real_a, g_ba(fake_b, training=True), real_b, g_ab(fake_a, training=True)
            )
            fake_a_scores, fake_b_scores = d_a(fake_a, training=True), d_b(fake_b, training=True)
            real_a_scores, real_b_scores = d_a(real_a, training=True), d_b(real_b, training=True)
            g_gan = losses.lsgan_generator_loss(fake_b_scores) + losses.lsgan_generator_loss(
                fake_a_scores
            )
            g_loss = g_gan + self.cycle_weight * cycle
            identity = None
            if self.identity_weight:
                identity = losses.identity_loss(
                    real_a, g_ba(real_a, training=True), real_b, g_ab(real_b, training=True)
                )
                g_loss = g_loss + self.identity_weight * identity
            d_loss = 0.5 * (
                losses.lsgan_discriminator_loss(real_a_scores, fake_a_scores)
                + losses.lsgan_discriminator_loss(real_b_scores, fake_b_scores)
            )
        self._step(d_tape, d_loss, self.discriminator, self.d_optimizer)
        self._step(g_tape, g_loss, self.generator, self.g_optimizer)
        self._update_ema()
        mean = lambda *s: sum(keras.ops.mean(keras.ops.cast(v, "float32")) for v in s) / len(s)  # noqa: E731
        return self._report(
            d_loss=d_loss,
            g_loss=g_loss,
            d_real=mean(real_a_scores, real_b_scores),
            d_fake=mean(fake_a_scores, fake_b_scores),
            g_gan=g_gan,
            cycle=cycle,
            identity=identity,
        )

    #: G translates A to B ("a2b"), F back ("b2a").
    directions = ("a2b", "b2a")

    def translate(self, images, direction="a2b", use_ema=True, batch_size=256):
        """G(a) (``direction="a2b"``) or F(b) (``"b2a"``) as NumPy in [-1, 1], for images in
        [-1, 1] of that side's shape; a clear :class:`ModelError` for another size, channel
        count or range."""
        return _translate(self.network(direction, use_ema), images, batch_size)

    def network(self, direction="a2b", use_ema=True):
        """G (``direction="a2b"``) or F (``"b2a"``), their EMA copies if kept and
        ``use_ema``."""
        _check_direction(direction, self.directions)
        return self.translators(use_ema)[self.directions.index(direction)]

    def translators(self, use_ema=True):
        """``(G, F)``: the A->B and B->A generators (their EMA copies if kept and ``use_ema``)."""
        pair = self.sampling_generator(use_ema)
        return pair.get_layer(self.g_ab.name), pair.get_layer(self.g_ba.name)

    def preview_images(self):
        """``(images, ncols)`` of the sample grid: A images, G(A), F(G(A)) (the way back),
        then B images, F(B), G(F(B))."""
        a, b = self._preview()
        there_a = self.translate(a)
        there_b = self.translate(b, "b2a")
        rows = [a, there_a, self.translate(there_a, "b2a"), b, there_b, self.translate(there_b)]
        return np.concatenate(match_channels(*rows)), len(a)

    def _sides(self):
        return self.data_shape(), tuple(self.g_ab.output_shape[1:])


class TranslatorNetworks:
    """A translator's generator(s) without its discriminator(s): what
    :mod:`gancourse.pretrained` ships and :func:`gancourse.pretrained.load_translator`
    returns. It translates as a trained :class:`Pix2Pix` or :class:`CycleGAN` does
    (:meth:`translate`, ``directions``, ``task``, ``dataset``, :meth:`source_shape`), so
    code can take either.

    ``model``: a pix2pix generator (one image to another; ``directions`` ("a2b",)) or a
    :func:`cyclegan_generators` pair (``a_to_b`` and ``b_to_a``; ("a2b", "b2a")).
    ``networks``: direction -> ``keras.Model``. ``name``: the pretrained name, if any.
    """

    def __init__(self, model, task, dataset=None, name=None):
        if len(model.inputs) == 2:  # the CycleGAN pair
            try:
                networks = {"a2b": model.get_layer("a_to_b"), "b2a": model.get_layer("b_to_a")}
            except ValueError:
                raise ModelError(
                    f"{model.name!r} takes two images but does not hold the generators a_to_b "
                    "and b_to_a: build a CycleGAN's pair with cyclegan_generators()"
                ) from None
        else:
            networks = {"a2b": model}
        self.model = model
        self.networks = networks
        self.directions = tuple(networks)
        self.task, self.dataset, self.name = task, dataset, name

    def translate(self, images, direction="a2b", batch_size=256):
        """The translation of ``images`` (in [-1, 1], of that side's shape) in ``direction``
        as NumPy in [-1, 1]; the same checks and errors as :meth:`Pix2Pix.translate`."""
        return _translate(self.network(direction), images, batch_size)

    def network(self, direction="a2b"):
        """The generator that translates ``direction``."""
        _check_direction(direction, self.directions)
        return self.networks[direction]

    def source_shape(self, direction="a2b"):
        """Shape of one image :meth:`translate` takes in ``direction``."""
        return tuple(self.network(direction).inputs[0].shape[1:])

    def __repr__(self):
        label = f" {self.name!r}" if self.name else ""
        ways = "/".join(self.directions)
        return f"<TranslatorNetworks{label}: {self.task} ({self.dataset}), {ways}>"


# ---------------------------------------------------------------------------- glue


def build_translator(
    kind,
    task,
    dataset=None,
    *,
    skips=True,
    l1_weight=None,
    gan_weight=None,
    cycle_weight=None,
    identity_weight=None,
    ema=None,
    ema_warmup=False,
    seed=None,
    g_lr=None,
    d_lr=None,
    lr_decay=0.0,
    strategy=None,
):
    """A compiled, untrained translator for a task of :data:`gancourse.data.TRANSLATION_TASKS`
    with the course's default networks:

    - ``pix2pix``: :func:`unet_generator` (width 32, depth 4; ``skips=False`` for the
      encoder-decoder) and a 16x16-patch :func:`patch_discriminator` (width 32, batch norm);
    - ``cyclegan``: two :func:`resnet_generator` s (width 16, 4 blocks) and two 16x16-patch
      discriminators (width 32, instance norm).

    Loss weights left at None take :data:`DEFAULT_WEIGHTS`. ``strategy``: as for
    :func:`gancourse.training.build_gan`.
    """
    if kind not in TRANSLATORS:
        raise ModelError(f"Unknown translator {kind!r}. Known: {', '.join(TRANSLATORS)}.")
    spec = get_task(task, dataset)
    if spec.model != kind:
        raise ModelError(f"the task {task} is learnt by {spec.model}, not {kind}")
    shape_a, shape_b = task_shapes(task, dataset)
    given = {
        "l1_weight": l1_weight,
        "gan_weight": gan_weight,
        "cycle_weight": cycle_weight,
        "identity_weight": identity_weight,
    }
    weights = {k: DEFAULT_WEIGHTS[k] if v is None else v for k, v in given.items()}
    common = {"ema": ema, "ema_warmup": ema_warmup, "seed": seed}
    rates = {"g_lr": g_lr, "d_lr": d_lr, "lr_decay": lr_decay}
    with _scope(strategy):
        if kind == "pix2pix":
            model = Pix2Pix(
                unet_generator(shape_a, shape_b[-1], skips=skips),
                patch_discriminator(shape_b, condition_shape=shape_a),
                **common,
            )
            model.compile(l1_weight=weights["l1_weight"], gan_weight=weights["gan_weight"], **rates)
        else:
            if not skips:
                raise ModelError("skips=False turns off the U-Net's skips: it applies to pix2pix")
            model = CycleGAN(
                *_resnet_pair(shape_a, shape_b),
                patch_discriminator(shape_a, norm="instance", name="d_a"),
                patch_discriminator(shape_b, norm="instance", name="d_b"),
                **common,
            )
            model.compile(
                cycle_weight=weights["cycle_weight"],
                identity_weight=weights["identity_weight"],
                **rates,
            )
    model.task = spec.name
    model.dataset = get_spec(dataset or spec.datasets[0]).name
    return model


def translator_from_config(config: RunConfig, strategy=None):
    """The compiled, untrained translator a :class:`~gancourse.runs.RunConfig` of model
    pix2pix or cyclegan describes (in the scope of ``strategy`` if given)."""
    if config.model not in TRANSLATORS:
        raise ModelError(
            f"a {config.model} run is a GAN that draws from noise: build it with "
            f"gancourse.training.gan_from_config(config)"
        )
    return build_translator(
        config.model,
        config.task,
        config.dataset,
        skips=config.skips,
        l1_weight=config.l1_weight,
        gan_weight=config.gan_weight,
        cycle_weight=config.cycle_weight,
        identity_weight=config.identity_weight,
        ema=config.ema,
        ema_warmup=config.ema_warmup,
        seed=config.seed,
        g_lr=config.g_lr,
        d_lr=config.d_lr,
        lr_decay=config.lr_decay,
        strategy=strategy,
    )


def load_run(run_dir):
    """Rebuild the translator of a run folder and restore its latest intact checkpoint:
    ``(model, config, epoch)`` (see :func:`gancourse.training.load_run`)."""
    return _load_run(run_dir, build=translator_from_config)


def read_images(path, translator, direction="a2b") -> tuple:
    """The image(s) in the file ``path``, ready for ``translator`` (a trained :class:`Pix2Pix`
    or :class:`CycleGAN`, or a :class:`TranslatorNetworks`) to translate in ``direction``:
    ``(images, notes)``, images float32 (n, H, W, C) in [-1, 1], notes the conversions made
    (sentences to show the user). What ``gancourse translate`` reads.

    The file is an 8-bit PNG or JPEG (:func:`gancourse.viz.read_picture`) or a ``.npy``
    array of one image (H, W[, C]) or several (n, H, W, C): uint8 (or other whole numbers)
    0-255, or floats in [-1, 1]. A grey image for a colour side gets its channel repeated;
    a colour image for the colorize task's grey side is converted to grey as its training
    inputs were (:func:`gancourse.data.grayscale`). Another size, channel count or range is
    a :class:`ModelError` that names what is expected.
    """
    from .data import grayscale
    from .viz import read_picture

    path = Path(path)
    shape = translator.source_shape(direction)
    if path.suffix.lower() == ".npy":
        try:
            x = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as e:
            raise ModelError(f"could not read the array {path}: {e}") from None
    else:
        x = read_picture(path)
    x = _model_range(x, path)
    if x.ndim == 3 and shape[-1] == 1 and x.shape[1:] == shape[:2]:
        x = x[..., None]  # several grey images (n, H, W)
    elif x.ndim == 3:
        x = x[None]  # one image (H, W, C)
    elif x.ndim == 2:
        x = x[None, ..., None]  # one grey image (H, W)
    if x.ndim != 4 or not len(x):
        raise ModelError(
            f"{path} holds an array of shape {x.shape}: give one image (H, W) or (H, W, C), "
            "or several (n, H, W, C)"
        )
    task, dataset = getattr(translator, "task", None), getattr(translator, "dataset", None)
    what = f"the {task} translator" if task else "this translator"
    if x.shape[1:3] != shape[:2]:
        size = f"{shape[1]}x{shape[0]}"
        raise ModelError(
            f"{path} is {x.shape[2]}x{x.shape[1]} (width x height); {what} takes {size} "
            f"images: the course's translators work at the size of their dataset's images "
            f"({dataset or 'its dataset'}: {size}). Resize it to {size} first, e.g. with "
            f"PIL: Image.open(path).resize(({shape[1]}, {shape[0]}))."
        )
    notes = []
    channels, wanted = x.shape[-1], shape[-1]
    if channels == 1 and wanted == 3:
        x = np.repeat(x, 3, axis=-1)
        notes.append("The image is grey: its channel was repeated into R, G and B.")
    elif channels == 3 and wanted == 1 and np.all(x == x[..., :1]):
        x = x[..., :1]  # a grey image stored as RGB
    elif channels == 3 and wanted == 1 and task == "colorize" and direction == "a2b":
        x = np.asarray(grayscale(x), dtype="float32")
        notes.append(
            "The image is in colour: it was converted to greyscale (ITU-R 601 luma, as the "
            "colorize task's inputs are made) before being coloured."
        )
    elif channels != wanted:
        kind = "one-channel (greyscale)" if wanted == 1 else f"{wanted}-channel (RGB)"
        fix = (
            "Give a greyscale image: convert it e.g. with PIL, Image.open(path).convert('L')."
            if wanted == 1
            else "Give an RGB image: convert it e.g. with PIL, Image.open(path).convert('RGB')."
        )
        raise ModelError(
            f"{what} takes {kind} images in direction {direction}; {path} has {channels} "
            f"channel(s). {fix}"
        )
    return x, notes


def match_channels(*images) -> list:
    """The arrays of images (..., C) with their channels repeated so that all have as many as
    the most (grey inputs beside colour outputs in one grid)."""
    channels = max(x.shape[-1] for x in images)
    return [np.repeat(x, channels // x.shape[-1], axis=-1) for x in images]


def builder_of(network) -> tuple:
    """``(builder, kwargs)``: the builder of this module (:func:`unet_generator` or
    :func:`cyclegan_generators`) and the arguments that rebuild ``network`` (a pix2pix
    generator, or a CycleGAN's ``generators`` pair), read off the model itself so they stay
    right if :func:`build_translator`'s defaults change. What
    :func:`gancourse.pretrained.export` records."""
    names = {layer.name for layer in network.layers}
    if len(network.inputs) == 2 and {"a_to_b", "b_to_a"} <= names:
        g, f = network.get_layer("a_to_b"), network.get_layer("b_to_a")
        kwargs = {
            "shape_a": list(g.inputs[0].shape[1:]),
            "shape_b": list(f.inputs[0].shape[1:]),
            **_resnet_kwargs(g),
        }
        if _resnet_kwargs(f) != _resnet_kwargs(g) or network.name != "generators":
            raise ModelError(
                f"{network.name!r} is not a pair cyclegan_generators() rebuilds (two ResNet "
                f"generators of one width and depth, named 'generators'): it cannot be shipped"
            )
        return "cyclegan_generators", kwargs
    if len(network.inputs) == 1 and {"down1", "to_image"} <= names:
        depth = sum(1 for n in names if n[4:].isdigit() and n.startswith("down"))
        dropout = [layer.rate for layer in network.layers if isinstance(layer, layers.Dropout)]
        return "unet_generator", {
            "input_shape": list(network.inputs[0].shape[1:]),
            "out_channels": int(network.output_shape[-1]),
            "width": int(network.get_layer("down1").filters),
            "depth": depth,
            "skips": any(n.startswith("skip") for n in names),
            "dropout": float(dropout[0]) if dropout else 0.0,
        }
    raise ModelError(
        f"Cannot ship a network named {network.name!r}: only a pix2pix U-Net "
        "(unet_generator) or a CycleGAN's pair (cyclegan_generators) can be rebuilt from a "
        "manifest."
    )


# ---------------------------------------------------------------------------- helpers


def _check_images(images, shape, what="images"):
    """``images`` as float32 NumPy of ``shape``, or a :class:`ModelError` saying what is
    wrong (shape, channels, range)."""
    images = np.asarray(images, dtype="float32")
    if images.ndim == 3 and shape[-1] == 1:
        images = images[..., None]
    if images.ndim != 4 or images.shape[1:] != tuple(shape):
        raise ModelError(
            f"{what} must be images of shape (n,) + {tuple(shape)}, not {images.shape}"
            + (
                f" (a {images.shape[-1]}-channel image; this side takes {shape[-1]})"
                if images.ndim == 4 and images.shape[1:3] == tuple(shape[:2])
                else ""
            )
        )
    if not np.isfinite(images).all():
        raise ModelError(f"{what} contain NaN or infinite values: give pixels in [-1, 1]")
    if images.size and not (-1.0 <= images.min() and images.max() <= 1.0):
        raise ModelError(
            f"{what} must be pixels in [-1, 1] (uint8 images: data.to_model_range(x)), "
            f"not values in [{images.min():g}, {images.max():g}]"
        )
    return images


def _translate(network, images, batch_size, what="images"):
    """``network``'s outputs for ``images`` (checked against its input shape), as NumPy,
    ``batch_size`` at a time."""
    images = _check_images(images, tuple(network.inputs[0].shape[1:]), what)
    _whole(batch_size, "batch_size", 1)
    out = [
        keras.ops.convert_to_numpy(network(images[i : i + batch_size], training=False))
        for i in range(0, len(images), batch_size)
    ]
    return np.concatenate(out) if out else np.zeros((0, *network.output_shape[1:]), "float32")


def _check_direction(direction, directions):
    if direction not in ("a2b", "b2a"):
        raise ModelError(f"direction must be 'a2b' or 'b2a', not {direction!r}")
    if direction not in directions:
        raise ModelError(
            f"this translator translates {' and '.join(directions)} only: pix2pix learns one "
            f"way (its input to its output, 'a2b'); a CycleGAN translates back too ('b2a')"
        )


def _model_range(x, path):
    """A file's array as float32 in [-1, 1]: whole numbers are 0-255 pixels, floats must be
    in [-1, 1] already."""
    x = np.asarray(x)
    if x.dtype == bool or not np.issubdtype(x.dtype, np.number):
        raise ModelError(
            f"{path} holds {x.dtype} values: give uint8 pixels (0-255) or floats in [-1, 1]"
        )
    if np.issubdtype(x.dtype, np.integer):
        if x.size and (x.min() < 0 or x.max() > 255):
            raise ModelError(
                f"{path} holds whole numbers from {x.min()} to {x.max()}: pixels must be 0-255"
            )
        return x.astype("float32") / 127.5 - 1.0
    x = x.astype("float32")
    if not np.isfinite(x).all():
        raise ModelError(f"{path} holds NaN or infinite values: give pixels in [-1, 1]")
    if x.size and (x.min() < -1.0 or x.max() > 1.0):
        raise ModelError(
            f"{path} holds values from {x.min():g} to {x.max():g}: a float array must hold "
            "pixels in [-1, 1] (0-255 pixels: save them as uint8, or scale them with "
            "x / 127.5 - 1)"
        )
    return x


def _pair(net_a, net_b, name):
    """One model of ``[a, b] -> [net_a(a), net_b(b)]`` (its inputs named a and b): how
    :class:`CycleGAN` holds its two generators and its two discriminators for the engine
    (checkpoints and EMA rely on these names)."""
    a = keras.Input(tuple(net_a.inputs[0].shape[1:]), name="a")
    b = keras.Input(tuple(net_b.inputs[0].shape[1:]), name="b")
    return keras.Model([a, b], [net_a(a), net_b(b)], name=name)


def _resnet_pair(shape_a, shape_b, width=16, blocks=4):
    """CycleGAN's G (``a_to_b``) and F (``b_to_a``), not yet paired."""
    return (
        resnet_generator(shape_a, shape_b[-1], width, blocks, name="a_to_b"),
        resnet_generator(shape_b, shape_a[-1], width, blocks, name="b_to_a"),
    )


def _resnet_kwargs(network):
    """``width`` and ``blocks`` of a :func:`resnet_generator`, read off its layers."""
    try:
        width = int(network.get_layer("stem").filters)
    except ValueError:
        raise ModelError(f"{network.name!r} is not a resnet_generator (no 'stem' layer)") from None
    blocks = sum(1 for layer in network.layers if isinstance(layer, layers.Add))
    return {"width": width, "blocks": blocks}


def _conv_norm_relu(x, filters, kernel, stride, name, transpose=False):
    conv = layers.Conv2DTranspose if transpose else layers.Conv2D
    x = conv(filters, kernel, strides=stride, padding="same", use_bias=False, name=name)(x)
    return layers.ReLU(name=f"{name}_relu")(_norm("instance", f"{name}_norm")(x))


def _norm(kind, name):
    if kind == "batch":
        return layers.BatchNormalization(name=name)
    return layers.GroupNormalization(groups=-1, epsilon=1e-5, name=name)  # instance norm


def _check_shape(shape, what):
    try:
        shape = tuple(int(s) for s in shape)
    except (TypeError, ValueError):
        raise ModelError(f"{what} must be (height, width, channels), not {shape!r}") from None
    if len(shape) != 3 or min(shape) < 1:
        raise ModelError(f"{what} must be (height, width, channels), not {shape!r}")
    return shape


def _is_whole(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _whole(value, what, low):
    if not _is_whole(value) or value < low:
        raise ModelError(f"{what} must be a whole number >= {low}, not {value!r}")
    return int(value)


def _weight(value, what):
    number = isinstance(value, (int, float, np.floating, np.integer)) and not isinstance(
        value, bool
    )
    if not (number and 0.0 <= value < float("inf")):
        raise ModelError(
            f"{what} must be a number >= 0 (e.g. 10; 0 turns its term off), not {value!r}"
        )
    return float(value)
