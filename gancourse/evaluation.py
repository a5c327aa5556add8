"""Evaluating generators: feature extractors, and reports of FID, KID, IS, class coverage,
precision and recall against real images.

The metrics themselves (:mod:`gancourse.metrics`, NumPy only) compare *features* of images,
so an evaluation needs a feature extractor:

- the usual one is InceptionV3 trained on ImageNet (2048-d pool features, 1000 classes);
  its weights are a download, which fails offline (e.g. on the course machines);
- so the package ships small CNN classifiers trained on each course dataset
  (``gancourse/classifiers/``, trained by ``scripts/train_classifiers.py``): their
  128-d "features" layer replaces Inception's pool layer and their softmax gives a
  *domain* Inception Score (at most 10 for 10 classes).

A score is only comparable with another score computed with the same extractor, the same
numbers of generated and reference images, and the same reference split (FID is biased
upward for small samples). That is why every report names all three. The classifier
features also live on their own scale: with 10,000 vs 10,000 images, real training images
against the test split give FID 0.02-0.06 on all three datasets, and the shipped Fashion-MNIST
DCGAN about 4.3 (10,000 vs 10,000), nothing like Inception FIDs of published papers.

>>> report = evaluate_generator(gan, dataset="fashion_mnist", n=10000)
>>> print(report)                   # readable; report["fid"], report["kid_mean"], ...
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import numpy as np

from .config import quiet_tensorflow

tf = quiet_tensorflow()
import keras  # noqa: E402
from keras import layers  # noqa: E402

from .data import get_spec, grayscale, load_dataset, normalise_name, to_model_range  # noqa: E402
from .errors import ExtractorUnavailableError, GancourseError, MetricError, ModelError  # noqa: E402
from .metrics import (  # noqa: E402
    colourfulness,
    fid_from_features,
    inception_score,
    kid_from_features,
    mode_coverage,
    precision_recall,
    psnr,
)
from .weights import load_checked  # noqa: E402

#: Where the shipped classifier weights and their manifest live.
CLASSIFIER_DIR = Path(__file__).resolve().parent / "classifiers"

#: Test accuracy each shipped classifier must reach (checked by the tests on the manifest).
TARGET_ACCURACY = {"mnist": 0.99, "fashion_mnist": 0.90, "cifar10": 0.75}

#: The classifier architectures. A block is a list of 3x3 conv widths (Conv-BN-ReLU each),
#: blocks are separated by 2x2 max-pooling; then global average pooling, the "features"
#: Dense layer, dropout and the softmax. Change an entry only together with a new name:
#: the shipped weights and every FID computed with them belong to the name.
CLASSIFIER_ARCHITECTURES = {
    "cnn-gray-v1": {"blocks": ((32,), (64, 64), (128,)), "features": 128, "dropout": 0.3},
    "cnn-rgb-v1": {"blocks": ((32,), (64,), (128, 128)), "features": 128, "dropout": 0.3},
}


# =========================================================================== evaluation


def evaluate_generator(
    generator,
    dataset="fashion_mnist",
    n=10000,
    extractor=None,
    reference="test",
    n_reference=None,
    labels=None,
    noise=None,
    seed=0,
    batch_size=500,
    kid_subsets=100,
    kid_subset_size=1000,
    is_splits=10,
    precision_recall_k=3,
) -> Report:
    """FID, KID, IS, class coverage, precision and recall of ``n`` images from ``generator``
    against real images.

    ``generator`` is a generator model or a trained GAN (its sampling generator and noise are
    used). Images are generated ``batch_size`` at a time and turned into features at once,
    so ``n`` can be 50,000. A conditional generator gets ``labels`` (default: every class
    equally often) and the report adds ``label_accuracy``: how often the classifier sees
    the class that was asked for. See :func:`evaluate_images` for the rest.
    """
    from .models import is_conditional
    from .sampling import generate_images, sample_inputs

    if hasattr(generator, "sampling_generator"):  # a GAN: use its (EMA) generator and noise
        noise = noise or generator.noise
        generator = generator.sampling_generator()
    spec = get_spec(dataset)
    if labels is None and is_conditional(generator):
        labels = np.arange(n) % spec.num_classes
    if labels is not None:
        labels = np.asarray(labels, dtype=np.int64)
        if labels.shape != (n,):
            raise MetricError(f"labels must have shape ({n},), got {labels.shape}")
    z = sample_inputs(generator, n, noise or "normal", seed)

    def batches():
        for i in range(0, n, batch_size):
            part = None if labels is None else labels[i : i + batch_size]
            yield generate_images(generator, z[i : i + batch_size], part, batch_size)

    return evaluate_images(
        batches,
        dataset,
        extractor,
        reference,
        n_reference,
        labels,
        seed,
        kid_subsets,
        kid_subset_size,
        is_splits,
        precision_recall_k,
    )


def evaluate_images(
    images,
    dataset="fashion_mnist",
    extractor=None,
    reference="test",
    n_reference=None,
    labels=None,
    seed=0,
    kid_subsets=100,
    kid_subset_size=1000,
    is_splits=10,
    precision_recall_k=3,
) -> Report:
    """FID, KID, IS, class coverage, precision and recall of ``images`` (array or batches, in
    [-1, 1]) against ``n_reference`` real images of ``dataset``'s ``reference`` split
    ("test" or "train").

    ``extractor`` is an :class:`Extractor` or a name for :func:`get_extractor` (default: the
    dataset's own classifier). ``n_reference`` defaults to as many real images as generated
    ones (capped by the split), a seeded random subset when smaller than the split, since
    equal sample sizes are the fair comparison. The reference's own IS is reported too, as
    the yardstick for the generated one. Precision and recall use ``precision_recall_k``
    nearest neighbours (left out for ``None`` or fewer than ``k + 1`` images); for 10,000
    vs 10,000 classifier features they took about 10 s on 2 busy CPU cores.
    """
    spec = get_spec(dataset)
    if extractor is None or isinstance(extractor, str):
        extractor = get_extractor(extractor or spec.name)
    feats, probs = extractor.features_and_probabilities(images)
    n = len(feats)
    ref_feats, ref_probs, ref_name = _reference(
        extractor, spec.name, reference, n_reference or n, seed
    )
    kid_mean, kid_std = kid_from_features(feats, ref_feats, kid_subsets, kid_subset_size, seed)
    splits = min(is_splits, n, len(ref_probs))
    is_mean, is_std = inception_score(probs, splits)
    ref_is_mean, _ = inception_score(ref_probs, splits)
    report = Report(
        dataset=spec.name,
        extractor=extractor.name,
        feature_dim=extractor.feature_dim,
        reference=ref_name,
        reference_split=reference,
        n_generated=n,
        n_reference=len(ref_feats),
        fid=fid_from_features(feats, ref_feats),
        kid_mean=kid_mean,
        kid_std=kid_std,
        kid_subset_size=min(kid_subset_size, n, len(ref_feats)),
        is_mean=is_mean,
        is_std=is_std,
        is_splits=splits,
        reference_is_mean=ref_is_mean,
    )
    if precision_recall_k and min(n, len(ref_feats)) > precision_recall_k:
        report.update(
            precision_recall(ref_feats, feats, precision_recall_k),
            precision_recall_k=precision_recall_k,
        )
    if extractor.class_names == spec.class_names:  # coverage of the dataset's own classes
        counts = np.bincount(probs.argmax(axis=1), minlength=extractor.num_classes)
        report["class_names"] = list(extractor.class_names)
        report["class_histogram"] = counts.tolist()
        report.update(mode_coverage(counts))
        if labels is not None:
            report["label_accuracy"] = float(
                np.mean(probs.argmax(axis=1) == np.asarray(labels)[:n])
            )
    return report


def class_histogram(images, extractor="fashion_mnist") -> np.ndarray:
    """How many of ``images`` the classifier puts in each class (a collapsed generator
    shows a spike). ``extractor`` is an :class:`Extractor` or a name."""
    if isinstance(extractor, str):
        extractor = get_extractor(extractor)
    predicted = extractor.probabilities(images).argmax(axis=1)
    return np.bincount(predicted, minlength=extractor.num_classes)


def evaluate_translation(outputs, truths=None, labels=None, reference=None, dataset="cifar10"):
    """How good a translator's ``outputs`` (images in [-1, 1]) are, as a dict of means:

    - ``l1`` (mean absolute pixel error) and ``psnr`` (dB) against ``truths``, the paired
      true outputs, when given (pix2pix);
    - ``colourfulness`` (Hasler & Suesstrunk 2003) for RGB outputs;
    - ``fid`` of the outputs' features against ``reference`` (real images of the target
      side; by default ``truths``), and ``accuracy``, the share the classifier of
      ``dataset`` puts in the class ``labels`` says, when given.

    The features and classes come from the course's classifier of ``dataset``; outputs of
    another channel count are shown to it as it needs them (a greyscale image repeated in
    R, G and B; a colour image's luma for a greyscale classifier). Compare numbers only
    between the same images, sample size and reference.
    """
    outputs = _translation_images(outputs, "outputs")
    result = {"n": len(outputs)}
    if truths is not None:
        truths = _translation_images(truths, "truths")
        if truths.shape != outputs.shape:
            raise MetricError(
                f"truths must match the outputs one to one: {truths.shape} vs {outputs.shape}"
            )
        result["l1"] = float(np.abs(outputs - truths).mean())
        result["psnr"] = float(np.mean(np.minimum(psnr(outputs, truths), 100.0)))
    if outputs.shape[-1] == 3:
        result["colourfulness"] = float(colourfulness(outputs).mean())
    extractor = get_extractor(dataset)
    seen = _as_channels(outputs, extractor.input_shape[-1])
    feats, probs = extractor.features_and_probabilities(seen)
    reference = truths if reference is None else _translation_images(reference, "reference")
    if reference is not None:
        ref = _as_channels(reference, extractor.input_shape[-1])
        result["fid"] = fid_from_features(feats, extractor.features(ref))
    if labels is not None:
        labels = np.asarray(labels).reshape(-1)
        if len(labels) != len(outputs):
            raise MetricError(f"{len(labels)} labels for {len(outputs)} outputs: give one each")
        result["accuracy"] = float(np.mean(probs.argmax(axis=1) == labels))
    return result


def _translation_images(images, what):
    images = np.asarray(images, dtype=np.float32)
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4 or images.shape[-1] not in (1, 3) or not len(images):
        raise MetricError(f"{what} must be images (n, H, W, 1 or 3), got shape {images.shape}")
    return images


def _as_channels(images, channels):
    """Images with ``channels`` channels: grey repeated as RGB, or RGB to the luma the
    translation tasks use (:func:`gancourse.data.grayscale`)."""
    if images.shape[-1] == channels:
        return images
    if channels == 3:
        return np.repeat(images, 3, axis=-1)
    return np.asarray(grayscale(images))


def code_accuracy(generator, dataset="mnist", n=10000, seed=0, batch_size=500) -> dict:
    """How well an InfoGAN's categorical code matches the classes of ``dataset``: ``n``
    images, each value of the code equally often (the rest of the latent vector random),
    classified by the shipped classifier; the accuracy of the code after the best one-to-one
    matching of code values to classes (:func:`gancourse.metrics.matched_accuracy`).

    ``generator``: an InfoGAN (its sampling generator and noise are used) or an InfoGAN
    generator (e.g. ``pretrained.load("infogan-mnist")``). Returns ``{"accuracy", "mapping"
    (code value -> class), "n", "classifier"}``. A generator that ignores its code scores
    about 0.1 on ten balanced classes; a perfect one 1. (The classifier's own errors count
    against the code, so this is a slight underestimate.)
    """
    from .metrics import matched_accuracy
    from .sampling import generate_images, sample_codes

    noise = "normal"
    if hasattr(generator, "sampling_generator"):
        noise, generator = generator.noise, generator.sampling_generator()
    sizes = getattr(generator, "code_sizes", None)
    if not sizes:
        raise ModelError(
            "code_accuracy needs an InfoGAN or its generator (one with a categorical code)."
        )
    k = sizes[1]
    codes = np.arange(n) % k
    z = sample_codes(n, *sizes, noise=noise, seed=seed, category=codes)
    classifier = get_extractor(dataset)
    predicted = np.concatenate(
        [
            classifier.probabilities(generate_images(generator, z[i : i + batch_size])).argmax(1)
            for i in range(0, n, batch_size)
        ]
    )
    accuracy, mapping = matched_accuracy(codes, predicted, return_mapping=True)
    return {"accuracy": accuracy, "mapping": mapping, "n": int(n), "classifier": classifier.name}


class Report(dict):
    """The result of :func:`evaluate_images`: a plain dict (``report["fid"]``) that prints
    as a readable summary naming the extractor, the sample sizes and the reference."""

    def __str__(self):
        return format_report(self)


def format_report(report) -> str:
    """A few readable lines from an evaluation report."""
    r = report
    lines = [
        f"{r['n_generated']} generated images vs {r['n_reference']} real images ({r['reference']})",
        f"features: {r['extractor']} ({r['feature_dim']}-d)",
        f"  FID {r['fid']:10.3f}            lower is better, 0 = same feature statistics",
        f"  KID {r['kid_mean']:10.5f} +- {r['kid_std']:.5f}  unbiased, ~0 for the same distribution"
        + (
            " (one subset = all samples, so no spread)"
            if r["kid_subset_size"] == r["n_generated"] == r["n_reference"]
            else f" (subsets of {r['kid_subset_size']})"
        ),
        f"  IS  {r['is_mean']:10.3f} +- {r['is_std']:.3f}    real images score "
        f"{r['reference_is_mean']:.3f} ({r['is_splits']} splits)",
    ]
    if "precision" in r:
        lines.append(
            f"  precision {r['precision']:.3f}  recall {r['recall']:.3f}   shares of generated "
            f"images that look real / of real images covered (k={r['precision_recall_k']})"
        )
    if "class_histogram" in r:
        k = len(r["class_histogram"])
        lines.append(
            f"  classes covered {round(r['classes_covered'] * k)}/{k} "
            f"(>= 1/{4 * k} of the samples each), KL from uniform "
            f"{r['kl_from_uniform']:.3f} (0 = balanced, {np.log(k):.2f} = one class)"
        )
        lines.append(
            "  histogram: "
            + ", ".join(
                f"{name} {count}" for name, count in zip(r["class_names"], r["class_histogram"])
            )
        )
    if "label_accuracy" in r:
        lines.append(
            f"  label accuracy {r['label_accuracy']:.3f} "
            "(generated images classified as the class asked for)"
        )
    lines.append("Compare scores only with the same extractor, sample sizes and reference.")
    return "\n".join(lines)


# =========================================================================== extractors


class Extractor:
    """Turns images into feature vectors and class probabilities, batch by batch.

    ``model`` maps a float32 batch (B, H, W, C) in [-1, 1] to ``[features, probabilities]``.
    ``images`` given to the methods can be an array (N, H, W, C) or (N, H, W) in [-1, 1]
    (uint8 arrays are scaled first), an iterable of such batches (e.g. a ``tf.data``
    pipeline, also of ``(images, labels)``), or a function returning one; either way the
    forward passes run ``batch_size`` images at a time, so only the small feature vectors
    of a large sample are ever held in memory together.
    """

    def __init__(
        self,
        name,
        model,
        input_shape,
        class_names=(),
        batch_size=500,
        grey_to_rgb=False,
        description="",
    ):
        self.name = name
        self.model = model
        self.input_shape = tuple(input_shape)
        self.class_names = tuple(class_names)
        self.batch_size = batch_size
        self.grey_to_rgb = grey_to_rgb
        self.description = description or name
        self.feature_dim = int(model.outputs[0].shape[-1])
        self._reference_cache = {}
        # One trace for every batch size: the leading dimension is left open.
        self._forward = tf.function(
            lambda x: self.model(x, training=False),
            input_signature=[tf.TensorSpec((None,) + self.input_shape, tf.float32)],
        )

    def __repr__(self):
        return f"<Extractor {self.name}: {self.feature_dim}-d features, {self.description}>"

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def features(self, images) -> np.ndarray:
        """Feature vectors (N, feature_dim), float32."""
        return self.features_and_probabilities(images)[0]

    def probabilities(self, images) -> np.ndarray:
        """Class probabilities (N, num_classes), float32, rows sum to 1."""
        return self.features_and_probabilities(images)[1]

    def features_and_probabilities(self, images):
        """Both at once, from a single forward pass per batch."""
        feats, probs = [], []
        for batch in self._batches(images):
            f, p = self._forward(tf.constant(batch))
            feats.append(np.asarray(f, dtype=np.float32))
            probs.append(np.asarray(p, dtype=np.float32))
        if not feats:
            raise MetricError("no images were given to the feature extractor")
        return np.concatenate(feats), np.concatenate(probs)

    def _batches(self, images):
        """Yield float32 batches of at most ``batch_size`` images shaped like the input."""
        if callable(images):
            images = images()
        if isinstance(images, np.ndarray) or hasattr(images, "shape"):
            images = np.asarray(images)
            chunks = (
                images[i : i + self.batch_size] for i in range(0, len(images), self.batch_size)
            )
        else:
            chunks = images
        for chunk in chunks:
            if isinstance(chunk, (tuple, list)):  # (images, labels) batches of a pipeline
                chunk = chunk[0]
            chunk = self._prepare(np.asarray(chunk))
            for i in range(0, len(chunk), self.batch_size):
                yield chunk[i : i + self.batch_size]

    def _prepare(self, batch):
        """Check and convert one batch: channel axis, [-1, 1] float32, grey -> RGB if needed."""
        if batch.dtype == np.uint8:
            batch = to_model_range(batch)
        batch = batch.astype(np.float32, copy=False)
        if batch.ndim == 3:
            batch = batch[..., None]
        if self.grey_to_rgb and batch.ndim == 4 and batch.shape[-1] == 1:
            batch = np.repeat(batch, 3, axis=-1)  # Inception sees grey images as RGB
        if batch.ndim != 4 or any(
            e is not None and e != s for e, s in zip(self.input_shape, batch.shape[1:])
        ):
            raise MetricError(
                f"the {self.name} extractor takes images of shape "
                f"(N, {', '.join(str(s) for s in self.input_shape)}), got "
                f"{batch.shape}. Is it the extractor of the right dataset?"
            )
        if not np.isfinite(batch).all():  # NaN would slip through the range check below
            bad = int((~np.isfinite(batch)).reshape(len(batch), -1).any(axis=1).sum())
            raise MetricError(
                f"{bad} of {len(batch)} images in a batch contain NaN or infinite "
                f"values, so no score can be computed. A generator that outputs "
                f"them has diverged: check its training losses, or evaluate an "
                f"earlier checkpoint."
            )
        if batch.size and (batch.min() < -1.01 or batch.max() > 1.01):
            raise MetricError(
                f"images must be in [-1, 1] (generator outputs, or "
                f"gancourse.data.to_model_range of uint8), got values from "
                f"{batch.min():.3g} to {batch.max():.3g}"
            )
        return batch


def get_extractor(name: str = "fashion_mnist", weights=None) -> Extractor:
    """A feature extractor by name: a dataset name (the shipped classifier of that dataset)
    or ``"inception"`` (InceptionV3 on ImageNet; ``weights`` may be a local file of the
    Keras ImageNet weights with top). Extractors are built once and then reused."""
    key = normalise_name(name)
    if key in ("inception", "inception_v3", "inceptionv3"):
        key = "inception"
    else:
        try:
            key = get_spec(key).name
        except GancourseError:
            raise MetricError(
                f"Unknown feature extractor {name!r}. Known: inception, "
                f"mnist, fashion_mnist, cifar10."
            ) from None
    cache_key = (key, str(weights) if weights else None)
    if cache_key not in _EXTRACTORS:
        _EXTRACTORS[cache_key] = (
            _inception_extractor(weights) if key == "inception" else _classifier_extractor(key)
        )
    return _EXTRACTORS[cache_key]


def classifier_manifest() -> dict:
    """The shipped classifiers' records (``classifiers/manifest.json``), by dataset."""
    path = CLASSIFIER_DIR / "manifest.json"
    if not path.exists():
        raise ModelError(
            f"{path} is missing: the package was installed without its "
            f"classifier files. Reinstall it, or run scripts/train_classifiers.py."
        )
    return json.loads(path.read_text())["classifiers"]


def load_classifier(dataset: str) -> keras.Model:
    """The shipped classifier of ``dataset`` (input in [-1, 1], softmax output), its weights
    checked against the manifest (layout and SHA-256, see :mod:`gancourse.weights`) and loaded."""
    spec = get_spec(dataset)
    manifest = classifier_manifest()
    if spec.name not in manifest:
        raise ModelError(
            f"No shipped classifier for {spec.name}; there are: {', '.join(manifest)}."
        )
    entry = manifest[spec.name]
    path = CLASSIFIER_DIR / entry["weights"]
    if not path.exists():
        raise ModelError(
            f"{path} is missing: reinstall the package or run "
            f"scripts/train_classifiers.py --dataset {spec.name}."
        )
    model = build_classifier(spec.name, entry["architecture"])
    return load_checked(
        model,
        path,
        entry.get("sha256"),
        what=f"the {spec.name} classifier ({entry['architecture']})",
        remedy="Restore it from the repository or reinstall the package; "
        f"scripts/train_classifiers.py --dataset {spec.name} re-creates it.",
    )


def build_classifier(dataset: str, architecture: str | None = None) -> keras.Model:
    """An untrained classifier for ``dataset``'s images in [-1, 1] (see
    ``CLASSIFIER_ARCHITECTURES``); the layer named ``"features"`` gives the features."""
    spec = get_spec(dataset)
    architecture = architecture or classifier_architecture(spec.name)
    if architecture not in CLASSIFIER_ARCHITECTURES:
        raise ModelError(
            f"Unknown classifier architecture {architecture!r}. "
            f"Known: {', '.join(CLASSIFIER_ARCHITECTURES)}."
        )
    arch = CLASSIFIER_ARCHITECTURES[architecture]
    image = keras.Input(spec.model_shape, name="image")
    h = image
    for b, widths in enumerate(arch["blocks"]):
        if b:
            h = layers.MaxPooling2D(2, name=f"pool_{b}")(h)
        for c, width in enumerate(widths):
            h = layers.Conv2D(width, 3, padding="same", use_bias=False, name=f"conv_{b}_{c}")(h)
            h = layers.BatchNormalization(name=f"bn_{b}_{c}")(h)
            h = layers.ReLU(name=f"relu_{b}_{c}")(h)
    h = layers.GlobalAveragePooling2D(name="global_pool")(h)
    h = layers.Dense(arch["features"], activation="relu", name="features")(h)
    h = layers.Dropout(arch["dropout"], name="dropout")(h)
    logits = layers.Dense(spec.num_classes, name="logits")(h)
    probs = layers.Softmax(dtype="float32", name="probabilities")(logits)
    return keras.Model(image, probs, name=f"{spec.name}_classifier")


def classifier_architecture(dataset: str) -> str:
    """Name of the classifier architecture used for ``dataset`` (grey or RGB input)."""
    return "cnn-rgb-v1" if get_spec(dataset).channels == 3 else "cnn-gray-v1"


# =========================================================================== helpers

_EXTRACTORS: dict = {}

#: The Keras ImageNet weights of InceptionV3 *with* its classification top (the top gives
#: the 1000-class probabilities of the Inception Score; its "avg_pool" layer gives the same
#: 2048-d features as ``include_top=False, pooling="avg"``). Same file name and hash as
#: ``keras.applications.InceptionV3`` uses, so the two share Keras' download cache.
_INCEPTION_WEIGHTS = (
    "inception_v3_weights_tf_dim_ordering_tf_kernels.h5",
    "https://storage.googleapis.com/tensorflow/keras-applications/"
    "inception_v3/inception_v3_weights_tf_dim_ordering_tf_kernels.h5",
    "9a0d58056eeedaa3f26cb7ebd46da564",
)


def _classifier_extractor(dataset) -> Extractor:
    spec = get_spec(dataset)
    model = load_classifier(spec.name)
    two_heads = keras.Model(
        model.input,
        [model.get_layer("features").output, model.output],
        name=f"{spec.name}_extractor",
    )
    arch = classifier_manifest()[spec.name]["architecture"]
    return Extractor(
        f"{spec.name}-{arch}",
        two_heads,
        spec.model_shape,
        spec.class_names,
        description=f"offline classifier trained on {spec.name}",
    )


def _inception_extractor(weights=None) -> Extractor:
    """InceptionV3 on ImageNet: images resized to 299x299 (bilinear), already in [-1, 1]
    (Inception's own preprocessing), pool features and 1000-class softmax."""
    if weights is None:
        name, url, md5 = _INCEPTION_WEIGHTS
        old_timeout = socket.getdefaulttimeout()
        socket.setdefaulttimeout(20)  # fail fast when offline instead of hanging
        try:
            weights = keras.utils.get_file(name, url, cache_subdir="models", file_hash=md5)
        except Exception as e:  # offline, proxy, partial file ... all end here
            raise ExtractorUnavailableError(
                f"The InceptionV3 ImageNet weights could not be downloaded "
                f"({type(e).__name__}: {e}). Inception FID/IS need them once (92 MB, then "
                f"cached in ~/.keras/models/{name}); or pass weights= a local copy of that file. "
                f"Offline, use the course's classifier features instead: "
                f"get_extractor('mnist'|'fashion_mnist'|'cifar10')."
            ) from None
        finally:
            socket.setdefaulttimeout(old_timeout)
    try:
        base = keras.applications.InceptionV3(include_top=True, weights=str(weights))
    except Exception as e:
        raise ExtractorUnavailableError(
            f"Could not load InceptionV3 weights from {weights} ({type(e).__name__}: {e})."
        ) from None
    image = keras.Input((None, None, 3), name="image")
    resized = layers.Resizing(299, 299, interpolation="bilinear", name="resize_299")(image)
    pooled = keras.Model(base.input, [base.get_layer("avg_pool").output, base.output])
    model = keras.Model(image, pooled(resized), name="inception_extractor")
    return Extractor(
        "inception_v3-imagenet",
        model,
        (None, None, 3),
        [f"imagenet_{i}" for i in range(1000)],
        batch_size=50,
        grey_to_rgb=True,
        description="InceptionV3 pool features (2048-d), ImageNet weights",
    )


def _reference(extractor, dataset, split, n, seed):
    """Features and probabilities of ``n`` real images of a split (cached on the extractor),
    and the name of what was used, e.g. "fashion_mnist test split, 10000 of 10000"."""
    ds = load_dataset(dataset)
    x, _ = ds.split(split)
    n = min(n, len(x))
    key = (dataset, split, n, seed, str(ds.path), ds.path.stat().st_mtime_ns)
    if key not in extractor._reference_cache:
        idx = (
            np.arange(n)
            if n == len(x)
            else np.sort(np.random.default_rng(seed).choice(len(x), n, replace=False))
        )
        chunks = (x[idx[i : i + extractor.batch_size]] for i in range(0, n, extractor.batch_size))
        extractor._reference_cache[key] = extractor.features_and_probabilities(chunks)
    feats, probs = extractor._reference_cache[key]
    subset = "" if n == len(x) else f", random subset (seed {seed})"
    return feats, probs, f"{dataset} {split} split, {n} of {len(x)}{subset}"
