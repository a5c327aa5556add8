"""Datasets by name, loaded as uint8 arrays, and the tf.data pipelines that feed training.

Where a dataset comes from, in order:

1. ``<name>.npz`` in the folder named by ``GANCOURSE_DATA_DIR``;
2. ``<name>.npz`` in the repository's ``data/`` folder (``~/.gancourse/data`` outside a checkout);
3. the ordinary Keras download, written afterwards as ``<name>.npz`` so the next run is offline.

An archive holds four uint8 arrays ``x_train, y_train, x_test, y_test``. Every archive is
checked on load, and anything wrong gets a :class:`~gancourse.errors.DataError` that says
what and what to do.
"""

from __future__ import annotations

import math
import socket
import zipfile
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from . import config
from .errors import ConfigError, CorruptDataError, DataNotFoundError, UnknownDatasetError
from .files import atomic_write


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    image_shape: tuple  # shape of one image as stored (no channel axis for grayscale)
    class_names: tuple
    description: str

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def channels(self) -> int:
        return self.image_shape[2] if len(self.image_shape) == 3 else 1

    @property
    def model_shape(self) -> tuple:
        """Shape of one image as the models see it: channels-last, e.g. (28, 28, 1)."""
        return tuple(self.image_shape[:2]) + (self.channels,)


DATASETS = {
    "mnist": DatasetSpec(
        "mnist",
        (28, 28),
        tuple(str(d) for d in range(10)),
        "handwritten digits 0-9, 28x28 grayscale",
    ),
    "fashion_mnist": DatasetSpec(
        "fashion_mnist",
        (28, 28),
        (
            "T-shirt/top",
            "Trouser",
            "Pullover",
            "Dress",
            "Coat",
            "Sandal",
            "Shirt",
            "Sneaker",
            "Bag",
            "Ankle boot",
        ),
        "Zalando clothing, 10 classes, 28x28 grayscale",
    ),
    "cifar10": DatasetSpec(
        "cifar10",
        (32, 32, 3),
        ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"),
        "small natural images, 10 classes, 32x32 RGB",
    ),
}

KEYS = ("x_train", "y_train", "x_test", "y_test")

#: Largest array an archive may declare (the largest course array, CIFAR-10's x_train, is
#: 154 MB). A damaged or hostile header could otherwise ask for any amount of memory.
MAX_ARRAY_BYTES = 2**31


@dataclass(frozen=True)
class Dataset:
    """A loaded dataset: uint8 images and integer labels, plus where they came from."""

    spec: DatasetSpec
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    path: Path

    @property
    def class_names(self):
        return self.spec.class_names

    def split(self, name: str):
        """(x, y) of ``"train"`` or ``"test"``."""
        if name not in ("train", "test"):
            raise ValueError(f"split must be 'train' or 'test', not {name!r}")
        return getattr(self, f"x_{name}"), getattr(self, f"y_{name}")


def normalise_name(name) -> str:
    """The one spelling rule for names typed by people: ``"Fashion-MNIST "`` ->
    ``"fashion_mnist"`` (datasets, feature extractors)."""
    return str(name).strip().lower().replace("-", "_")


def get_spec(name: str) -> DatasetSpec:
    """The registry entry for ``name``; an unknown name lists the known ones."""
    key = normalise_name(name)
    if key not in DATASETS:
        raise UnknownDatasetError(
            f"Unknown dataset {name!r}. Known datasets: {', '.join(DATASETS)}. "
            "(The 2-D toy distributions live in gancourse.toy.)"
        )
    return DATASETS[key]


def load_dataset(name: str, download: bool = True) -> Dataset:
    """Load dataset ``name`` as uint8 arrays, from a local ``.npz`` or by downloading it.

    >>> ds = load_dataset("fashion_mnist")
    >>> ds.x_train.shape, ds.x_train.dtype
    ((60000, 28, 28), dtype('uint8'))
    """
    spec = get_spec(name)
    path = find_archive(spec.name)
    if path is None:
        if not download:
            raise _not_found(spec, "downloads were turned off (download=False)")
        path = _download(spec)
    return _load_archive(str(path), path.stat().st_mtime_ns, spec.name)


def find_archive(name: str) -> Path | None:
    """Path of the first ``<name>.npz`` in the search folders, or None."""
    for folder in config.data_dirs():
        candidate = folder / f"{name}.npz"
        if candidate.is_file():
            return candidate
    return None


def dataset_info(name: str) -> dict:
    """Shapes, class counts and pixel statistics of a dataset (``gancourse data info``)."""
    ds = load_dataset(name)
    info = {"name": ds.spec.name, "description": ds.spec.description, "path": str(ds.path)}
    for split in ("train", "test"):
        x, y = ds.split(split)
        counts = np.bincount(y, minlength=ds.spec.num_classes)
        info[split] = {
            "images": x.shape,
            "labels": y.shape,
            "class_counts": dict(zip(ds.class_names, counts.tolist())),
            "pixel_mean": float(x.mean() / 255.0),
            "pixel_std": float(x.std() / 255.0),
        }
    return info


def to_model_range(x) -> np.ndarray:
    """uint8 images -> float32 in [-1, 1] with a channel axis (what the generators output)."""
    x = np.asarray(x)
    if x.ndim == 3:
        x = x[..., None]
    return x.astype("float32") / 127.5 - 1.0


def to_uint8(x) -> np.ndarray:
    """Images in [-1, 1] (any float array or tensor) -> uint8 in [0, 255]."""
    x = np.asarray(x, dtype="float32")
    return np.clip(np.round((x + 1.0) * 127.5), 0, 255).astype("uint8")


def make_pipeline(
    x,
    y=None,
    batch_size: int = 64,
    shuffle: bool = True,
    subset: int | None = None,
    seed: int = 0,
    cache: bool = True,
    drop_remainder: bool = True,
):
    """A ``tf.data.Dataset`` of training batches from uint8 images (and optional labels).

    Images are scaled to [-1, 1] float32 and given a channel axis; the result is cached in
    memory after the first epoch, shuffled every epoch, batched and prefetched. ``subset``
    keeps the first ``subset`` examples (used by fast mode). Batches are ``x`` or ``(x, y)``.
    """
    import tensorflow as tf

    x = np.asarray(x)
    if x.dtype != np.uint8 or x.ndim not in (3, 4):
        raise CorruptDataError(
            f"make_pipeline expects uint8 images of shape (N, H, W) or (N, H, W, C), "
            f"got {x.dtype} {x.shape}. Pass the arrays from load_dataset()."
        )
    if y is not None and len(y) != len(x):
        raise CorruptDataError(f"{len(x)} images but {len(y)} labels: they must match.")
    available = len(x)
    if subset is not None:
        x = x[:subset]
        y = None if y is None else y[:subset]
    if (
        isinstance(batch_size, bool)
        or not isinstance(batch_size, (int, np.integer))
        or batch_size < 1
    ):
        raise ConfigError(f"batch_size must be a whole number >= 1, not {batch_size!r}.")
    if batch_size > len(x) and drop_remainder:
        of = f" (subset={subset} of {available})" if subset is not None else ""
        raise ConfigError(
            f"batch_size {batch_size} is larger than the {len(x)} images{of}, so not "
            f"one full batch can be made: lower the batch size or use more data."
        )

    def scale(img):
        img = tf.cast(img, tf.float32) / 127.5 - 1.0
        return img[..., None] if x.ndim == 3 else img

    if y is None:
        ds = tf.data.Dataset.from_tensor_slices(x).map(scale, num_parallel_calls=tf.data.AUTOTUNE)
    else:
        ds = tf.data.Dataset.from_tensor_slices((x, np.asarray(y, dtype="int32")))
        ds = ds.map(lambda a, b: (scale(a), b), num_parallel_calls=tf.data.AUTOTUNE)
    if cache:
        ds = ds.cache()
    if shuffle:
        ds = ds.shuffle(min(len(x), 60000), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size, drop_remainder=drop_remainder).prefetch(tf.data.AUTOTUNE)


def image_pipeline(
    name: str,
    split: str = "train",
    batch_size: int = 64,
    labels: bool = False,
    subset: int | None = None,
    shuffle: bool = True,
    seed: int = 0,
):
    """Shortcut: ``make_pipeline`` over a named dataset's split."""
    x, y = load_dataset(name).split(split)
    return make_pipeline(
        x, y if labels else None, batch_size=batch_size, shuffle=shuffle, subset=subset, seed=seed
    )


# ---------------------------------------------------------------- image-to-image translation


@dataclass(frozen=True)
class TranslationTask:
    """An image-to-image task built from the course's datasets: which model learns it
    (``pix2pix`` from pairs, ``cyclegan`` from two unpaired sets), on which datasets, and
    what goes in and out."""

    name: str
    model: str
    datasets: tuple
    description: str

    @property
    def paired(self) -> bool:
        return self.model == "pix2pix"


#: The translation tasks (``gancourse train --model pix2pix|cyclegan --task NAME``). Every one
#: is built from MNIST, Fashion-MNIST or CIFAR-10 inside the tf.data pipeline: no download.
TRANSLATION_TASKS = {
    t.name: t
    for t in (
        TranslationTask(
            "colorize", "pix2pix", ("cifar10",), "greyscale -> colour CIFAR-10 images (paired)"
        ),
        TranslationTask(
            "edges",
            "pix2pix",
            ("fashion_mnist", "mnist"),
            "Sobel edge map -> the image it came from (paired)",
        ),
        TranslationTask(
            "mnist-texture",
            "cyclegan",
            ("mnist",),
            "digits on black <-> digits blended into CIFAR-10 patches, as MNIST-M (unpaired)",
        ),
        TranslationTask("cat-dog", "cyclegan", ("cifar10",), "CIFAR-10 cats <-> dogs (unpaired)"),
    )
}

#: The two CIFAR-10 classes of the ``cat-dog`` task (cat, dog).
CAT_DOG = (3, 5)


def get_task(name, dataset=None) -> TranslationTask:
    """The translation task ``name``; with ``dataset``, also check that the task is built
    from it. Unknown names and datasets get a :class:`ConfigError` listing the known ones."""
    if name not in TRANSLATION_TASKS:
        raise ConfigError(
            f"Unknown translation task {name!r}. Known: "
            + "; ".join(
                f"{t.name} ({t.model}: {t.description})" for t in TRANSLATION_TASKS.values()
            )
            + "."
        )
    task = TRANSLATION_TASKS[name]
    if dataset is not None and get_spec(dataset).name not in task.datasets:
        raise ConfigError(
            f"The task {name} is built from {' or '.join(task.datasets)}, not {dataset!r}: "
            f"use --dataset {task.datasets[0]} (or leave --dataset out)."
        )
    return task


def task_shapes(name, dataset=None) -> tuple:
    """``(shape_a, shape_b)``: one image of each side of a task (input and output for
    pix2pix, the two domains for CycleGAN), channels last."""
    task = get_task(name, dataset)
    h, w, c = get_spec(dataset or task.datasets[0]).model_shape
    if name == "colorize":
        return (h, w, 1), (h, w, 3)
    if name == "mnist-texture":  # both sides in colour: the identity loss needs equal shapes
        return (h, w, 3), (h, w, 3)
    return (h, w, c), (h, w, c)


def grayscale(images):
    """RGB images in [-1, 1] -> one-channel luma (``tf.image.rgb_to_grayscale``, ITU-R 601
    weights), as a tf op. The weights sum to 1, so [-1, 1] stays [-1, 1]."""
    import tensorflow as tf

    return tf.image.rgb_to_grayscale(images)


def sobel_edges(images):
    """One-channel images in [-1, 1] -> their Sobel edge strength, as images in [-1, 1]
    (a tf op): sqrt(gx^2 + gy^2) of the image on a [0, 1] scale, divided by 4 (the
    response to a full black-to-white step) and clipped at 1. A flat region has no edge and
    comes out black (-1); the frame is mirrored, so the border makes no edge."""
    import tensorflow as tf

    images = tf.convert_to_tensor(images, tf.float32)
    batched = images if images.shape.rank == 4 else images[None]
    g = tf.image.sobel_edges((batched + 1.0) / 2.0)  # (n, H, W, 1, 2): d/dy, d/dx
    strength = tf.sqrt(tf.reduce_sum(tf.square(g), axis=-1))
    edges = tf.clip_by_value(strength / 4.0, 0.0, 1.0) * 2.0 - 1.0
    return edges if images.shape.rank == 4 else edges[0]


def blend_digits(digits, textures):
    """Digits on texture, as MNIST-M (Ganin et al. 2016): |texture - digit| per pixel and
    channel on a [0, 1] scale, from one-channel digits and RGB textures in [-1, 1] (a tf op;
    result in [-1, 1]). Off the digit the texture stays as it is; on its strokes the colours
    are inverted, so the digit keeps its exact shape but has no colour of its own."""
    import tensorflow as tf

    d = (tf.convert_to_tensor(digits, tf.float32) + 1.0) / 2.0
    t = (tf.convert_to_tensor(textures, tf.float32) + 1.0) / 2.0
    return tf.abs(t - d) * 2.0 - 1.0


def translation_pipeline(
    task,
    dataset=None,
    split: str = "train",
    batch_size: int = 64,
    subset: int | None = None,
    shuffle: bool = True,
    seed: int = 0,
):
    """A ``tf.data.Dataset`` of ``(a, b)`` batches in [-1, 1] for a translation task:

    - ``colorize`` (CIFAR-10): a = the greyscale of b (:func:`grayscale`), b = the image;
    - ``edges`` (Fashion-MNIST or MNIST): a = the Sobel edges of b (:func:`sobel_edges`);
    - ``mnist-texture`` (MNIST): a = a digit on black (as RGB), b = *another* digit blended
      into a random 28x28 patch of a CIFAR-10 image of the same split (:func:`blend_digits`).
      The first half of the split gives the a side, the second half the b side, so no digit
      appears on both: the sets are unpaired;
    - ``cat-dog`` (CIFAR-10): a = cats, b = dogs, unpaired.

    Paired tasks give one batch per ``batch_size`` images; unpaired ones draw each side in
    its own shuffled order, as many batches as the larger side fills. ``subset``: the first
    ``subset`` images (of each side). ``shuffle=False`` keeps the split's order (for
    held-out examples; :func:`translation_examples`).
    """
    import tensorflow as tf

    task = get_task(task, dataset)
    spec = get_spec(dataset or task.datasets[0])
    if split not in ("train", "test"):
        raise ConfigError(f"split must be 'train' or 'test', not {split!r}.")
    if subset is not None and (
        isinstance(subset, bool) or not isinstance(subset, (int, np.integer)) or subset < 1
    ):
        raise ConfigError(f"subset must be a whole number of images >= 1, or None, not {subset!r}.")
    if (
        isinstance(batch_size, bool)
        or not isinstance(batch_size, (int, np.integer))
        or batch_size < 1
    ):
        raise ConfigError(f"batch_size must be a whole number >= 1, not {batch_size!r}.")
    x, y = load_dataset(spec.name).split(split)
    if task.name in ("colorize", "edges"):
        pair = grayscale if task.name == "colorize" else sobel_edges
        images = _images(x, subset, shuffle, seed, batch_size, task.name)
        ds = images.map(lambda b: (pair(b), b), num_parallel_calls=tf.data.AUTOTUNE)
        return ds.batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)
    if task.name == "cat-dog":
        a = _images(x[y == CAT_DOG[0]], subset, shuffle, seed, batch_size, "cats")
        b = _images(x[y == CAT_DOG[1]], subset, shuffle, seed + 1, batch_size, "dogs")
        sizes = (int((y == CAT_DOG[0]).sum()), int((y == CAT_DOG[1]).sum()))
    else:
        half = len(x) // 2
        a = _images(x[:half], subset, shuffle, seed, batch_size, "digits")
        a = a.map(lambda d: tf.image.grayscale_to_rgb(d))
        b = _images(x[half:], subset, shuffle, seed + 1, batch_size, "digits")
        cifar = load_dataset("cifar10").split(split)[0]
        textures = _images(cifar, subset, shuffle, seed + 2, 1, "")
        b = tf.data.Dataset.zip((b, textures.repeat(), tf.data.Dataset.counter()))
        side = spec.image_shape[0]

        def on_texture(digit, texture, i):
            patch = tf.image.stateless_random_crop(texture, (side, side, 3), tf.stack([seed, i]))
            return blend_digits(digit, patch)

        b = b.map(on_texture, num_parallel_calls=tf.data.AUTOTUNE)
        sizes = (half, len(x) - half)
    sizes = tuple(min(n, subset or n) for n in sizes)
    steps = max(sizes) // batch_size
    ds = tf.data.Dataset.zip((a.repeat(), b.repeat())).take(steps * batch_size)
    return ds.batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)


def translation_examples(task, dataset=None, split: str = "test", n: int = 8):
    """``(a, b)``: the first ``n`` examples of each side of a task's ``split`` as NumPy
    arrays in [-1, 1] (pairs for pix2pix's tasks), e.g. held-out images to translate."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ConfigError(f"n must be a whole number of examples >= 1, not {n!r}.")
    ds = translation_pipeline(task, dataset, split, batch_size=int(n), shuffle=False)
    a, b = next(iter(ds))
    return a.numpy(), b.numpy()


def _images(x, subset, shuffle, seed, batch_size, what):
    """Single images of a uint8 array, scaled to [-1, 1] with a channel axis; the uint8
    array is cached and shuffled (a quarter of the memory of float32)."""
    import tensorflow as tf

    x = np.asarray(x)[:subset]
    if what and batch_size > len(x):
        raise ConfigError(
            f"batch_size {batch_size} is larger than the {len(x)} {what} images: lower the "
            f"batch size or use more data."
        )
    ds = tf.data.Dataset.from_tensor_slices(x).cache()
    if shuffle:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)

    def scale(img):
        img = tf.cast(img, tf.float32) / 127.5 - 1.0
        return img[..., None] if x.ndim == 3 else img

    return ds.map(scale, num_parallel_calls=tf.data.AUTOTUNE)


def cluster_labels(x, k: int, seed: int = 0, iterations: int = 50) -> np.ndarray:
    """Pseudo-labels without the real labels: the k-means cluster (0..k-1) of every image.

    The images' pixels (scaled to [0, 1]) are clustered with Lloyd's algorithm from a
    k-means++ start (Arthur & Vassilvitskii 2007), seeded, so the same images, ``k`` and
    ``seed`` always give the same labels. A conditional GAN trained on these clusters instead
    of classes, and sampled with each cluster as often as it holds training images, is an
    unconditional generator that needed no labels: the cluster-conditioned ("self-
    conditioned", Liu et al. 2020) GAN. Written with NumPy (a dozen lines; scikit-learn would
    be a large dependency for them). On 60,000 28x28 images and k = 40 it takes seconds.
    """
    x = np.asarray(x)
    if x.dtype != np.uint8 or x.ndim not in (3, 4):
        raise CorruptDataError(f"cluster_labels expects uint8 images, got {x.dtype} {x.shape}.")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 2 <= k <= len(x):
        raise ConfigError(
            f"the number of clusters must be a whole number in 2..{len(x)}, not {k!r}"
        )
    rng = np.random.default_rng(seed)
    points = x.reshape(len(x), -1).astype(np.float32) / 255.0
    norms = (points * points).sum(axis=1)

    def squared_distances(centres):  # (N, k) via |p|^2 - 2 p.c + |c|^2
        return norms[:, None] - 2.0 * points @ centres.T + (centres * centres).sum(axis=1)

    centres = points[rng.integers(len(points))][None]
    nearest = np.maximum(squared_distances(centres)[:, 0], 0.0)
    for _ in range(1, k):  # k-means++: each new centre far from the chosen ones
        total = nearest.sum()  # 0 when every image equals a chosen centre: pick any
        chosen = rng.choice(len(points), p=nearest / total if total > 0 else None)
        centres = np.concatenate([centres, points[chosen][None]])
        nearest = np.minimum(nearest, np.maximum(squared_distances(centres[-1:])[:, 0], 0.0))
    labels = np.full(len(points), -1)
    for _ in range(iterations):
        new = squared_distances(centres).argmin(axis=1)
        if np.array_equal(new, labels):
            break
        labels = new
        for j in range(k):  # an emptied cluster keeps its old centre
            members = labels == j
            if members.any():
                centres[j] = points[members].mean(axis=0)
    return labels.astype(np.int32)


def cluster_chain(x, labels, k: int) -> np.ndarray:
    """An order of the ``k`` clusters in which each is followed by one that looks alike: a
    greedy nearest-neighbour path through the clusters' mean images, starting from the one
    farthest from the mean of all. A generator that picks its cluster from one latent
    coordinate (:class:`~gancourse.models.ClusterChoice`) steps through them in this order,
    so moving along that coordinate changes the picture gradually rather than at random."""
    points = np.asarray(x).reshape(len(x), -1).astype(np.float32) / 255.0
    labels = np.asarray(labels)
    centres = np.stack(
        [
            points[labels == j].mean(axis=0) if (labels == j).any() else points.mean(axis=0)
            for j in range(k)
        ]
    )
    distances = np.linalg.norm(centres[:, None] - centres[None], axis=-1)
    chain = [int(np.linalg.norm(centres - points.mean(axis=0), axis=1).argmax())]
    while len(chain) < k:
        d = distances[chain[-1]].copy()
        d[chain] = np.inf
        chain.append(int(d.argmin()))
    return np.array(chain)


def save_archive(path, x_train, y_train, x_test, y_test, compress=True) -> Path:
    """Write a dataset archive in the course's layout, atomically (temp file + rename)."""
    path = Path(path)
    arrays = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
    with atomic_write(path, "dataset archive") as tmp:
        (np.savez_compressed if compress else np.savez)(
            tmp, **{k: np.asarray(v, np.uint8) for k, v in arrays.items()}
        )
    return path


# --------------------------------------------------------------------------- helpers


@lru_cache(maxsize=4)
def _load_archive(path: str, mtime_ns: int, name: str) -> Dataset:
    """Read and validate one archive (cached per path and modification time)."""
    spec = DATASETS[name]
    fix = (
        f"Delete or replace {path}: put a valid {name}.npz there (arrays x_train, y_train, "
        f"x_test, y_test, all uint8), or remove it to download a fresh copy."
    )
    if not zipfile.is_zipfile(path):  # np.load would try to unpickle it
        raise CorruptDataError(
            f"{path} is not a valid .npz archive (not a zip file: it may be truncated, an "
            f"HTML error page, or another format). {fix}"
        )
    try:
        with zipfile.ZipFile(path) as archive:
            members = {_array_name(m): m for m in archive.infolist()}
            missing = [k for k in KEYS if k not in members]
            if missing:
                raise CorruptDataError(
                    f"{path} is missing the array(s) {', '.join(missing)} "
                    f"(it holds {', '.join(members) or 'nothing'}). {fix}"
                )
            arrays = {k: _read_member(archive, members[k], path, fix) for k in KEYS}
    except CorruptDataError:
        raise
    except (
        zipfile.BadZipFile,
        zlib.error,
        EOFError,
        OSError,
        ValueError,
        RuntimeError,
        NotImplementedError,
    ) as e:  # CRC mismatch, broken deflate stream, encryption ...
        raise CorruptDataError(
            f"{path} is a damaged .npz archive: it could not be read ({type(e).__name__}: "
            f"{e}). {fix}"
        ) from None

    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.dtype != np.uint8 or y.dtype.kind not in "ui":
            raise CorruptDataError(
                f"{path}: x_{split} must be uint8 and y_{split} integer, found "
                f"{x.dtype} and {y.dtype}. {fix}"
            )
        if y.ndim == 2 and y.shape[1] == 1:  # Keras' CIFAR-10 labels come as (N, 1)
            y = y[:, 0]
        if x.ndim != len(spec.image_shape) + 1 or x.shape[1:] != spec.image_shape or y.ndim != 1:
            raise CorruptDataError(
                f"{path}: x_{split} has shape {x.shape} and y_{split} {y.shape}; {name} needs "
                f"(N, {', '.join(map(str, spec.image_shape))}) images and (N,) labels. {fix}"
            )
        if len(x) != len(y) or len(x) == 0:
            raise CorruptDataError(
                f"{path}: {len(x)} {split} images but {len(y)} labels; they must match "
                f"and not be empty. {fix}"
            )
        if y.min() < 0 or y.max() >= spec.num_classes:
            raise CorruptDataError(
                f"{path}: y_{split} holds labels from {y.min()} to {y.max()}, but {name} has "
                f"classes 0..{spec.num_classes - 1}. {fix}"
            )
        arrays[f"x_{split}"] = x
        arrays[f"y_{split}"] = y.astype(np.uint8)
    for a in arrays.values():
        a.setflags(write=False)  # shared between callers through the cache
    return Dataset(spec=spec, path=Path(path), **arrays)


def _array_name(info: zipfile.ZipInfo) -> str:
    """An archive member's array name, as ``np.load`` gives it: ``x_train.npy`` -> ``x_train``."""
    return info.filename[:-4] if info.filename.endswith(".npy") else info.filename


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path, fix) -> np.ndarray:
    """One array of an archive, checked before any memory is set aside for it.

    The ``.npy`` header declares the array's shape and dtype; that many bytes must be what
    the member holds (its uncompressed size in the zip directory) and at most
    ``MAX_ARRAY_BYTES``, so a damaged header cannot make us allocate gigabytes. Reading the
    member to its end makes ``zipfile`` check its CRC-32, so flipped bits are caught too.
    """
    name = _array_name(info)
    fmt = np.lib.format
    with archive.open(info) as f:
        try:
            version = fmt.read_magic(f)
            read_header = {
                (1, 0): fmt.read_array_header_1_0,
                (2, 0): fmt.read_array_header_2_0,
            }.get(version)
            if read_header is None:
                raise ValueError(f".npy format version {version[0]}.{version[1]} is not supported")
            shape, fortran_order, dtype = read_header(f)
        except ValueError as e:
            raise CorruptDataError(
                f"{path}: the member {info.filename} is not a .npy array ({e}). {fix}"
            ) from None
        if dtype.hasobject:
            raise CorruptDataError(
                f"{path} holds pickled Python objects ({name}), which the course refuses to "
                f"load because unpickling can run arbitrary code. {fix}"
            )
        declared = math.prod(shape) * dtype.itemsize  # Python ints: no overflow
        stored = info.file_size - f.tell()
        if declared > MAX_ARRAY_BYTES or declared != stored:
            limit = (
                f"more than the {MAX_ARRAY_BYTES:,} bytes allowed for one array"
                if declared > MAX_ARRAY_BYTES
                else f"but the member holds {stored:,} bytes"
            )
            raise CorruptDataError(
                f"{path}: {name} declares a {shape} {dtype} array of {declared:,} bytes, "
                f"{limit}: its header is damaged. {fix}"
            )
        data = f.read(declared)
        if len(data) != declared or f.read(1):
            raise CorruptDataError(
                f"{path}: {name} ends early or runs long: the archive is damaged. {fix}"
            )
    return np.frombuffer(data, dtype=dtype).reshape(shape, order="F" if fortran_order else "C")


def _not_found(spec: DatasetSpec, reason: str) -> DataNotFoundError:
    looked = "\n".join(f"  - {d / (spec.name + '.npz')}" for d in config.data_dirs())
    return DataNotFoundError(
        f"Dataset {spec.name!r} is not available: no local copy, and {reason}.\n"
        f"Looked for:\n{looked}\n"
        f"To fix: connect to the internet once (it is then cached), or copy {spec.name}.npz "
        f"(arrays x_train, y_train, x_test, y_test, uint8) into one of those folders, or set "
        f"GANCOURSE_DATA_DIR to the folder that holds it."
    )


def _download(spec: DatasetSpec) -> Path:
    """Download with Keras, then cache as ``<name>.npz`` in the first search folder."""
    import keras

    old_timeout = socket.getdefaulttimeout()
    socket.setdefaulttimeout(20)  # fail fast when offline instead of hanging
    try:
        loader = getattr(keras.datasets, spec.name)
        (x_train, y_train), (x_test, y_test) = loader.load_data()
    except Exception as e:  # network down, proxy refused, partial file ... all end here
        raise _not_found(spec, f"the download failed ({type(e).__name__}: {e})") from None
    finally:
        socket.setdefaulttimeout(old_timeout)
    target = config.cache_dir() / f"{spec.name}.npz"
    try:
        return save_archive(target, x_train, np.ravel(y_train), x_test, np.ravel(y_test))
    except OSError as e:
        # atomic_write has removed its temporary file: no partial archive is left behind
        raise DataNotFoundError(
            f"Downloaded {spec.name} but could not cache it ({e}) Or set "
            f"GANCOURSE_DATA_DIR to another, writable folder."
        ) from None
