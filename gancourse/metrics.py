"""Sample-quality mathematics on feature vectors: Frechet distance and FID, KID, Inception
Score, class coverage, precision and recall, two memorisation checks and the perceptual path
length; and the rule that decides whether a setting changed a score beyond the run-to-run
noise. NumPy only.

Every metric here but one compares *features* of images (rows of a matrix): turning images
into features needs a network, and that lives in
:mod:`gancourse.evaluation` (the shipped classifiers, InceptionV3, whole reports). Keeping the
maths free of TensorFlow means it imports in a blink, can be read on its own, and is checked
against closed forms and reference implementations (``tests/test_metrics.py``). The one
exceptions are :func:`copy_check`, which looks for copied training images in the pixels
themselves, where a copy cannot hide, and the pixel measures of image-to-image translation,
:func:`psnr` and :func:`colourfulness`.

>>> fid_from_features(real_features, generated_features)
>>> precision_recall(real_features, generated_features, k=3)   # {"precision": ..., "recall": ...}
>>> copy_check(generated_uint8, x_train, x_test).rate           # share of likely copies
>>> compare_runs(baseline_fids, variant_fids).verdict              # "helps", "hurts", "undecided"
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import MetricError

#: Pairwise distances are computed in blocks of at most this many entries (float64, 32 MiB
#: each, a few alive at a time), so 10,000 x 10,000 or 10,000 x 60,000 comparisons fit in
#: memory.
BLOCK_ENTRIES = 2**22


# =========================================================================== the maths


def frechet_distance(mu1, sigma1, mu2, sigma2, eps=1e-6) -> float:
    """Squared Frechet (2-Wasserstein) distance between N(mu1, sigma1) and N(mu2, sigma2):

        d^2 = |mu1 - mu2|^2 + Tr(S1) + Tr(S2) - 2 Tr( (S1 S2)^(1/2) )

    This is FID when the Gaussians are fitted to image features. The only delicate term is
    the trace of the matrix square root; see :func:`trace_sqrt_product`, which copes with
    nearly singular covariances (few samples, many features). Should it still fail (an
    eigendecomposition that does not converge), ``eps`` is added to both diagonals and it
    is tried again, as the reference FID code does when its square root is not finite.
    """
    mu1, mu2 = _as_float64(mu1, 1, "mu1"), _as_float64(mu2, 1, "mu2")
    sigma1, sigma2 = _as_float64(sigma1, 2, "sigma1"), _as_float64(sigma2, 2, "sigma2")
    d = len(mu1)
    if mu2.shape != (d,) or sigma1.shape != (d, d) or sigma2.shape != (d, d):
        raise MetricError(
            f"shapes do not match: mu1 {mu1.shape}, sigma1 {sigma1.shape}, "
            f"mu2 {mu2.shape}, sigma2 {sigma2.shape}; expected (d,) and (d, d)."
        )
    try:
        tr_covmean = trace_sqrt_product(sigma1, sigma2)
    except np.linalg.LinAlgError:
        tr_covmean = np.nan
    if not np.isfinite(tr_covmean):
        offset = eps * np.eye(d)
        tr_covmean = trace_sqrt_product(sigma1 + offset, sigma2 + offset)
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * tr_covmean)


def trace_sqrt_product(sigma1, sigma2, max_imaginary=1e-3) -> float:
    """Tr( (S1 S2)^(1/2) ) for symmetric positive semi-definite S1, S2, with NumPy only.

    S1 S2 is not symmetric, so a general matrix square root (``scipy.linalg.sqrtm``) is
    slow and can return complex noise. But S1 S2 = R (R S2) with R = S1^(1/2), and
    (R S2) R = R S2 R, so S1 S2 has the same eigenvalues as M = R S2 R ("AB and BA have the
    same eigenvalues"), and M is symmetric PSD. The trace of a square root is the sum of the
    square roots of the eigenvalues, so the answer is sum(sqrt(eigvalsh(M))): two
    symmetric eigendecompositions, exact also when S1 is singular.

    Round-off can make tiny eigenvalues slightly negative; their square roots would be
    imaginary. Those are dropped (counted as 0) when small, like the reference code drops
    small imaginary parts; an imaginary part larger than ``max_imaginary`` times the
    largest square root means the inputs are not covariance matrices, and raises.
    Eigenvalues below the round-off level of the decomposition count as 0 too: the square
    root would magnify that noise (sqrt(1e-13) = 3e-7) and, summed over many zero
    eigenvalues of a singular covariance, bias the result.
    """
    sigma1 = _symmetric(_as_float64(sigma1, 2, "sigma1"))
    sigma2 = _symmetric(_as_float64(sigma2, 2, "sigma2"))
    root1 = _psd_sqrt(sigma1, max_imaginary, "sigma1")
    eigenvalues = np.linalg.eigvalsh(_symmetric(root1 @ sigma2 @ root1))
    _check_imaginary(eigenvalues, max_imaginary, "sigma1 @ sigma2")
    return float(np.sqrt(_round_off_to_zero(eigenvalues)).sum())


def feature_statistics(features):
    """Mean vector and covariance matrix (float64, unbiased, rows = samples) of features."""
    f = _as_float64(features, 2, "features")
    if len(f) < 2:
        raise MetricError(f"need at least 2 feature vectors for a covariance, got {len(f)}")
    return f.mean(axis=0), np.cov(f, rowvar=False)


def fid_from_features(features1, features2) -> float:
    """FID between two sets of feature vectors (rows): Frechet distance of fitted Gaussians."""
    f1, f2 = _as_float64(features1, 2, "features1"), _as_float64(features2, 2, "features2")
    _same_width(f1, f2, "features1", "features2")
    return frechet_distance(*feature_statistics(f1), *feature_statistics(f2))


def kid_from_features(features1, features2, subsets=100, subset_size=1000, seed=0):
    """Kernel Inception Distance: (mean, std) of the unbiased MMD^2 over random subsets.

    Following Binkowski et al. (2018, "Demystifying MMD GANs"): ``subsets`` times, draw
    ``subset_size`` rows of each set without replacement (fewer if a set is smaller), and
    compute :func:`polynomial_mmd2`. Unlike FID, the estimate is unbiased, so KID of two
    samples of one distribution is ~0 whatever the sample size, and can be slightly negative.
    """
    f1, f2 = _as_float64(features1, 2, "features1"), _as_float64(features2, 2, "features2")
    _same_width(f1, f2, "features1", "features2")
    subsets = _whole_number(subsets, "subsets")
    m = min(_whole_number(subset_size, "subset_size"), len(f1), len(f2))
    if m < 2:
        raise MetricError(f"KID needs at least 2 samples in each set, got {len(f1)} and {len(f2)}")
    if m == len(f1) == len(f2):  # every "subset" is all of both sets: one value, no spread
        return polynomial_mmd2(f1, f2), 0.0
    rng = np.random.default_rng(seed)
    values = [
        polynomial_mmd2(
            f1[rng.choice(len(f1), m, replace=False)], f2[rng.choice(len(f2), m, replace=False)]
        )
        for _ in range(subsets)
    ]
    return float(np.mean(values)), float(np.std(values))


def polynomial_mmd2(x, y) -> float:
    """Unbiased estimate of MMD^2 between the samples x (m, d) and y (n, d) with the cubic
    polynomial kernel k(a, b) = (a.b / d + 1)^3 of KID:

        MMD^2 = E k(x, x') + E k(y, y') - 2 E k(x, y)

    The two within-set means leave out the diagonal (k(x_i, x_i) pairs a sample with
    itself), which is what makes the estimate unbiased.
    """
    x, y = _as_float64(x, 2, "x"), _as_float64(y, 2, "y")
    _same_width(x, y, "x", "y")
    m, n, d = len(x), len(y), x.shape[1]
    if m < 2 or n < 2:
        raise MetricError(f"the MMD estimate needs at least 2 rows in each set, got {m} and {n}")
    k_xx = (x @ x.T / d + 1.0) ** 3
    k_yy = (y @ y.T / d + 1.0) ** 3
    k_xy = (x @ y.T / d + 1.0) ** 3
    within_x = (k_xx.sum() - np.trace(k_xx)) / (m * (m - 1))
    within_y = (k_yy.sum() - np.trace(k_yy)) / (n * (n - 1))
    return float(within_x + within_y - 2.0 * k_xy.mean())


def inception_score(probabilities, splits=10):
    """Inception Score (mean, std over ``splits`` equal parts) of class probabilities p(y|x).

    IS = exp( E_x KL( p(y|x) || p(y) ) ), p(y) the mean prediction over the part. It is high
    when each image is confidently one class (sharp p(y|x)) and all classes appear (flat
    p(y)); it ranges from 1 to the number of classes.
    """
    p = _as_float64(probabilities, 2, "probabilities")
    splits = _whole_number(splits, "splits")
    if len(p) < splits:
        raise MetricError(f"{len(p)} samples cannot be cut into {splits} splits")
    if p.min() < 0 or not np.allclose(p.sum(axis=1), 1.0, atol=1e-3):
        raise MetricError("probabilities must be non-negative rows summing to 1 (a softmax)")
    scores = []
    for part in np.array_split(p, splits):
        p_y = part.mean(axis=0, keepdims=True)
        # p log(p / p_y) with the convention 0 log 0 = 0 (one-hot rows are allowed)
        kl = np.where(part > 0, part * (_safe_log(part) - _safe_log(p_y)), 0.0).sum(axis=1)
        scores.append(np.exp(kl.mean()))
    return float(np.mean(scores)), float(np.std(scores))


def mode_coverage(counts) -> dict:
    """Mode-collapse numbers of a class histogram (counts of samples per predicted class).

    - ``classes_covered``: fraction of the k classes that get at least 1/(4k) of the
      samples, a quarter of their fair share (1.0 = every class is there);
    - ``kl_from_uniform``: KL(histogram || uniform) = log k - entropy, 0 for a perfectly
      balanced histogram and log k (2.30 for 10 classes) when all samples are one class.
    """
    counts = _as_float64(counts, 1, "counts")
    if np.any(counts < 0):
        raise MetricError(f"counts must be non-negative (samples per class), got {counts.min():g}")
    k, total = len(counts), counts.sum()
    if total <= 0:
        raise MetricError("the class histogram is empty")
    share = counts / total
    entropy = -np.sum(np.where(share > 0, share * _safe_log(share), 0.0))
    return {
        "classes_covered": float(np.mean(share >= 1.0 / (4 * k))),
        "kl_from_uniform": float(max(np.log(k) - entropy, 0.0)),
    }


def precision_recall(real_features, generated_features, k=3) -> dict:
    """Improved precision and recall (Kynkaanniemi et al. 2019) of generated features.

    Each set spans a "manifold": the union of balls around its points, each ball reaching
    to that point's ``k``-th nearest neighbour within its own set. Then

    - ``precision`` = share of generated features inside the real manifold (do the samples
      look real?); a generator that draws only a few good kinds of picture still scores high;
    - ``recall`` = share of real features inside the generated manifold (does the generator
      cover everything real?); mode collapse shows up here as a low value.

    FID mixes both failures into one number; these two tell them apart. Both lie in [0, 1].
    Like FID they depend on the sample sizes (the balls shrink as sets grow), so compare
    values for equal sizes and equal ``k`` only.
    """
    real = _as_float64(real_features, 2, "real_features")
    fake = _as_float64(generated_features, 2, "generated_features")
    _same_width(real, fake, "real_features", "generated_features")
    k = _whole_number(k, "k")
    # Centring keeps the distances and shrinks the round-off; the median, unlike the mean,
    # does not move when one row is far away.
    center = np.median(real, axis=0)
    real, fake = real - center, fake - center
    real_radii2, fake_radii2 = _kth_neighbour_d2(real, k), _kth_neighbour_d2(fake, k)
    fake_inside = np.empty(len(fake), dtype=bool)  # in some real ball
    real_inside = np.zeros(len(real), dtype=bool)  # in some generated ball
    for rows, d2 in _distance_blocks(fake, real):  # one pass serves both directions
        fake_inside[rows] = (d2 <= real_radii2[None, :]).any(axis=1)
        real_inside |= (d2 <= fake_radii2[rows, None]).any(axis=0)
    return {"precision": float(np.mean(fake_inside)), "recall": float(np.mean(real_inside))}


def knn_radii(features, k=3) -> np.ndarray:
    """Distance of every row of ``features`` to its ``k``-th nearest other row (the radii
    of the balls of :func:`precision_recall`). A duplicate row counts as a neighbour at 0."""
    f = _as_float64(features, 2, "features")
    return np.sqrt(_kth_neighbour_d2(f - np.median(f, axis=0), _whole_number(k, "k")))


def nearest_neighbours(queries, references):
    """For every row of ``queries``, the distance to the nearest row of ``references`` and
    that row's index: two arrays of length ``len(queries)``."""
    q = _as_float64(queries, 2, "queries")
    r = _as_float64(references, 2, "references")
    _same_width(q, r, "queries", "references")
    if not len(r):
        raise MetricError("there are no reference features to compare with")
    center = np.median(r, axis=0)
    q, r = q - center, r - center
    distances, indices = np.empty(len(q)), np.empty(len(q), dtype=np.int64)
    for rows, d2 in _distance_blocks(q, r):
        indices[rows] = d2.argmin(axis=1)
        distances[rows] = np.sqrt(d2[np.arange(len(d2)), indices[rows]])
    return distances, indices


def memorisation(generated_features, train_features, test_features, quantile=0.01) -> dict:
    """Does the generator copy its training images? Nearest training neighbours of generated
    and of held-out test features, to compare as distributions and to show as pictures.

    A generator that generalises sits as far from the training set as new real images do
    (the test split). One that memorises draws near-copies: its distances pile up near 0.
    Returns arrays ``generated_distance`` / ``generated_index`` (nearest training row of
    each generated row) and ``test_distance`` / ``test_index``, plus two numbers:

    - ``threshold``: the ``quantile`` of the test distances (by construction only that share
      of new real images comes this close to a training image);
    - ``too_close``: the share of generated features at or below that distance; about
      ``test_rate`` for a generator that does not copy, far more for one that does;
    - ``test_rate``: the share of test features at or below it, ``quantile`` unless test
      images repeat training images exactly (then distance 0 holds more than ``quantile``
      of them, the threshold is 0, and only exact copies are flagged).

    In classifier features faint pixel noise already hides a copy; :func:`copy_check`
    searches pixels, shifts and mirror images and catches near-copies.
    """
    if not 0 < quantile < 1:
        raise MetricError(f"quantile must be between 0 and 1, got {quantile}")
    generated_distance, generated_index = nearest_neighbours(generated_features, train_features)
    test_distance, test_index = nearest_neighbours(test_features, train_features)
    if not len(generated_distance) or not len(test_distance):
        raise MetricError("memorisation needs at least one generated and one test feature vector")
    threshold = float(np.quantile(test_distance, quantile))
    return {
        "generated_distance": generated_distance,
        "generated_index": generated_index,
        "test_distance": test_distance,
        "test_index": test_index,
        "quantile": quantile,
        "threshold": threshold,
        "too_close": float(np.mean(generated_distance <= threshold)),
        "test_rate": float(np.mean(test_distance <= threshold)),
    }


@dataclass(frozen=True)
class CopyCheck:
    """What :func:`copy_check` found. Distances are root-mean-square pixel differences (in
    the images' own units, e.g. grey levels 0-255) at the best shift and mirror image."""

    rate: float  #: share of generated images flagged as copies
    expected_rate: float  #: share of held-out images at or below the threshold (~ quantile)
    threshold: float  #: the ``quantile`` of the held-out distances
    quantile: float
    flagged: np.ndarray  #: indices of the flagged generated images, closest first
    nearest: np.ndarray  #: index of each generated image's nearest training image
    distance: np.ndarray  #: each generated image's distance to it
    shift: np.ndarray  #: (n, 3) rows, columns, mirrored: how the best match was moved
    held_out_distance: np.ndarray  #: each held-out image's distance to its nearest one
    settings: tuple = ()  #: training set size, image shape, max_shift, mirror

    def __repr__(self):
        return (
            f"CopyCheck(rate={self.rate:.2%} flagged of {len(self.distance)}, "
            f"expected {self.expected_rate:.2%} for new images, "
            f"threshold {self.threshold:.4g} from {len(self.held_out_distance)} held-out images)"
        )


def copy_check(
    generated,
    train,
    held_out,
    quantile=0.01,
    max_shift=2,
    mirror=True,
    components=64,
    candidates=64,
) -> CopyCheck:
    """Does a generator copy its training images? A check in pixel space that sees copies
    with faint noise, shifted by a pixel or two, or mirrored.

    The distance of an image to the training set is the smallest root-mean-square pixel
    difference to any training image after moving the image by up to ``max_shift`` pixels
    in each direction and, with ``mirror``, flipping it left to right. Only the central
    window (``max_shift`` pixels in from every edge) of each training image is compared,
    so a shifted copy, whose border has moved out of the frame, still matches exactly.

    New real images (``held_out``, e.g. the test split) set the yardstick: the
    ``quantile`` of their distances is the threshold, and a generated image at or below it
    is flagged. A generator that draws new images is flagged about as often as held-out
    images are (``expected_rate``, about ``quantile``); one that copies far more often.
    The held-out images must not be the ones you use as a negative control. Measuring them
    is most of the work: to check several sets against the same training images, pass an
    earlier result as ``held_out`` and its distances are reused.

    All images as arrays (n, H, W) or (n, H, W, C) on one scale (uint8 training images
    and ``gancourse.data.to_uint8(generated)``, say). The search is exact for the
    ``candidates`` training images nearest to each image in a ``components``-dimensional
    projection (principal components of whole training images, as they are and centred on
    their centre of mass, of the image and its mirror image); generated and held-out
    images go through the same search, so the threshold stays calibrated.
    """
    if not 0 < quantile < 1:
        raise MetricError(f"quantile must be between 0 and 1, got {quantile}")
    max_shift = _whole_number(max_shift + 1, "max_shift + 1") - 1
    components = _whole_number(components, "components")
    candidates = _whole_number(candidates, "candidates")
    train_images = _images(train, "train")
    shape = train_images.shape[1:]
    generated_images = _images(generated, "generated", shape)
    if isinstance(held_out, CopyCheck):
        if held_out.settings != (len(train_images), shape, max_shift, mirror):
            raise MetricError(
                "the earlier CopyCheck passed as held_out was made with other training images "
                "or settings: pass the held-out images instead"
            )
        held_images = None
    else:
        held_images = _images(held_out, "held_out", shape)
    for what, images in (("train", train_images), ("held_out", held_images)):
        if images is not None and not len(images):
            raise MetricError(f"copy_check needs at least one {what} image, got none")
    height, width = shape[:2]
    if min(height, width) <= 2 * max_shift:
        raise MetricError(
            f"max_shift={max_shift} leaves no window to compare in {height}x{width} images: "
            f"use max_shift below {min(height, width) / 2:g}"
        )
    search = _CopySearch(train_images, max_shift, mirror, components, candidates)
    if held_images is None:
        held_distance = held_out.held_out_distance
    else:
        held_distance = search.nearest(held_images)[0]
    distance, nearest, shift = search.nearest(generated_images)
    threshold = float(np.quantile(held_distance, quantile))
    close = distance <= threshold
    flagged = np.flatnonzero(close)[np.argsort(distance[close], kind="stable")]
    return CopyCheck(
        rate=float(np.mean(close)) if len(close) else 0.0,
        expected_rate=float(np.mean(held_distance <= threshold)),
        threshold=threshold,
        quantile=quantile,
        flagged=flagged,
        nearest=nearest,
        distance=distance,
        shift=shift,
        held_out_distance=held_distance,
        settings=(len(train_images), shape, max_shift, mirror),
    )


def perceptual_path_length(
    mapping, synthesis, features, latent_dim, space="w", n=1000, epsilon=1e-4, trim=0.01, seed=0
) -> dict:
    """Perceptual path length (Karras, Laine & Aila 2019, 4.2): how much the picture changes,
    in feature space, for a small step along an interpolation between two latent vectors.

    PPL = E[ d(g(p(t)), g(p(t + epsilon))) / epsilon^2 ], d the squared Euclidean distance
    of ``features`` (the paper uses VGG16 distances; the course uses its classifiers'
    features), t ~ U(0, 1), and the path p between two endpoints z0, z1 ~ N(0, I):

    - ``space="z"``: spherical interpolation (slerp) of the directions of z0 and z1, then
      ``mapping``; the mapping network normalises z (pixel norm), so only directions count;
    - ``space="w"``: linear interpolation between w0 = mapping(z0) and w1 = mapping(z1).

    A smaller value means a smoother, less entangled latent space; the paper finds W's
    smaller than Z's. ``mapping``: z -> w, ``synthesis``: w -> images, ``features``: images
    -> feature rows, all NumPy in and out. The draws are, in this order from
    ``np.random.default_rng(seed)``: z0 and z1 as ``standard_normal((2, n, latent_dim))``,
    then t as ``uniform(0, 1, n)``. ``trim``: as in the paper, the distances below the
    ``trim`` and above the ``1 - trim`` quantile are left out of the mean (0 keeps all).
    Returns ``{"ppl": mean, "distances": the n scaled distances, "space": space}``."""
    if space not in ("z", "w"):
        raise MetricError(f"space must be 'z' or 'w', not {space!r}")
    n = _whole_number(n, "n")
    if not (isinstance(epsilon, float) and 0 < epsilon < 1):
        raise MetricError(f"epsilon must be a small step such as 1e-4, not {epsilon!r}")
    if not (isinstance(trim, (int, float)) and 0 <= trim < 0.5):
        raise MetricError(f"trim must be a share in [0, 0.5) such as 0.01, not {trim!r}")
    rng = np.random.default_rng(seed)
    z0, z1 = rng.standard_normal((2, n, latent_dim))
    t = rng.uniform(0.0, 1.0, n)[:, None]
    if space == "z":
        a, b = mapping(_slerp(z0, z1, t)), mapping(_slerp(z0, z1, t + epsilon))
    else:
        w0 = np.asarray(mapping(z0), np.float64)
        w1 = np.asarray(mapping(z1), np.float64)
        a, b = w0 + t * (w1 - w0), w0 + (t + epsilon) * (w1 - w0)
    fa = np.asarray(features(synthesis(a)), np.float64).reshape(n, -1)
    fb = np.asarray(features(synthesis(b)), np.float64).reshape(n, -1)
    distances = np.sum((fa - fb) ** 2, axis=1) / epsilon**2
    low, high = np.quantile(distances, [trim, 1.0 - trim])
    kept = distances[(distances >= low) & (distances <= high)] if trim else distances
    return {"ppl": float(kept.mean()), "distances": distances, "space": space}


# =========================================================================== helpers


def _slerp(z0, z1, t):
    """Spherical interpolation of the directions of the rows of z0 and z1 (unit vectors
    out): sin((1 - t) omega) / sin(omega) u0 + sin(t omega) / sin(omega) u1."""
    u0 = z0 / np.linalg.norm(z0, axis=1, keepdims=True)
    u1 = z1 / np.linalg.norm(z1, axis=1, keepdims=True)
    omega = np.arccos(np.clip(np.sum(u0 * u1, axis=1, keepdims=True), -1.0, 1.0))
    return (np.sin((1.0 - t) * omega) * u0 + np.sin(t * omega) * u1) / np.sin(omega)


def psnr(images, references, data_range=2.0) -> np.ndarray:
    """Peak signal-to-noise ratio of each image against its reference, in dB:
    10 log10(range^2 / MSE), ``data_range`` = 2 for images in [-1, 1] (255 for uint8
    arrays). Higher is closer; identical images give inf. An image-to-image model's
    distance to the truth: blur scores well on it, so a sharper, equally plausible output
    can score lower."""
    a = _images(images, "images")
    b = _images(references, "references", shape=a.shape[1:])
    if len(a) != len(b):
        raise MetricError(f"{len(a)} images but {len(b)} references: give one reference each")
    if not (_number(data_range) and data_range > 0):
        raise MetricError(f"data_range must be a positive number, not {data_range!r}")
    mse = ((a.astype(np.float64) - b) ** 2).reshape(len(a), -1).mean(axis=1)
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(float(data_range) ** 2 / mse)


def colourfulness(images) -> np.ndarray:
    """The colourfulness of each RGB image (Hasler & Suesstrunk 2003, eq. 3), on the
    0-255 scale of their paper: with rg = R - G and yb = (R + G) / 2 - B over the pixels,
    sqrt(std(rg)^2 + std(yb)^2) + 0.3 sqrt(mean(rg)^2 + mean(yb)^2). 0 for grey images;
    they rate about 15 "slightly", 33 "moderately", 59 "quite" and 82 "highly colourful".
    uint8 images are read as 0-255, float images as the models' [-1, 1]."""
    a = _images(images, "images")
    if a.shape[-1] != 3:
        raise MetricError(f"colourfulness needs RGB images (n, H, W, 3), got {a.shape}")
    if np.asarray(images).dtype != np.uint8:
        a = (a.astype(np.float64) + 1.0) * 127.5
    r, g, b = (a[..., i].reshape(len(a), -1).astype(np.float64) for i in range(3))
    rg, yb = r - g, 0.5 * (r + g) - b
    spread = np.sqrt(rg.std(axis=1) ** 2 + yb.std(axis=1) ** 2)
    mean = np.sqrt(rg.mean(axis=1) ** 2 + yb.mean(axis=1) ** 2)
    return spread + 0.3 * mean


def _number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _kth_neighbour_d2(f, k):
    """Squared distance of every row of ``f`` to its ``k``-th nearest other row."""
    if k >= len(f):
        raise MetricError(
            f"the {_ordinal(k)} nearest neighbour needs at least {k + 1} feature vectors in "
            f"each set, got {len(f)}: pass more samples or a smaller k"
        )
    radii2 = np.empty(len(f))
    for rows, d2 in _distance_blocks(f, f):
        # Each row's own distance (0) sorts first, so the k-th neighbour is at position k.
        if k > 8:
            radii2[rows] = np.partition(d2, k, axis=1)[:, k]
            continue
        # For small k, striking out the k smallest and taking the minimum is ten times
        # faster than a partition.
        block_rows = np.arange(len(d2))
        for _ in range(k):
            d2[block_rows, d2.argmin(axis=1)] = np.inf
        radii2[rows] = d2.min(axis=1)
    return radii2


def _distance_blocks(a, b):
    """Yield ``(rows, squared distances of a[rows] to every row of b)`` in blocks of at most
    ``BLOCK_ENTRIES`` entries. |x - y|^2 = |x|^2 + |y|^2 - 2 x.y turns the work into a
    matrix product. Its round-off (tiny values, even negative ones, for equal rows) would
    make a duplicate fall outside a ball of radius 0 at random, so each value below the
    round-off bound of its own pair, 4 d eps (|x|^2 + |y|^2), is set to exactly 0. The
    bound is per pair, so one far-away row changes nothing for the others. Callers centre
    the features first (on the median), which keeps the norms, and so the bounds, small."""
    a_sq, b_sq = _squared_norms(a), _squared_norms(b)
    step = max(1, BLOCK_ENTRIES // max(len(b), 1))
    for start in range(0, len(a), step):
        rows = slice(start, start + step)
        yield rows, _squared_distances(a[rows], b, a_sq[rows], b_sq)


def _squared_norms(a):
    """|row|^2 of every row (along the last axis); a clear error when they overflow."""
    sq = np.einsum("...i,...i->...", a, a)
    if not np.all(np.isfinite(sq)):
        raise MetricError(
            "feature values are so large that their squares overflow (above about 1e154): "
            "rescale the features"
        )
    return sq


def _squared_distances(a, b, a_sq, b_sq):
    """|a_i - b_j|^2 of every pair, (..., len(a), len(b)), stacks of matrices allowed, with
    values within the round-off bound of their pair set to exactly 0 (see
    :func:`_distance_blocks`)."""
    d2 = a @ np.swapaxes(b, -1, -2)
    d2 *= -2.0
    d2 += a_sq[..., :, None]
    d2 += b_sq[..., None, :]
    tolerance = 4.0 * a.shape[-1] * np.finfo(np.float64).eps
    # A cheap per-row bound finds the few candidates; their own pairs' bounds decide.
    b_max = b_sq.max(axis=-1, keepdims=True) if b_sq.size else np.zeros(b_sq.shape[:-1] + (1,))
    near = np.nonzero(d2 <= (tolerance * (a_sq + b_max))[..., :, None])
    small = d2[near] <= tolerance * (a_sq[near[:-1]] + b_sq[near[:-2] + near[-1:]])
    d2[tuple(i[small] for i in near)] = 0.0
    return d2


class _CopySearch:
    """The training images and the two-stage search of :func:`copy_check`.

    Stage 1 picks candidates cheaply: principal-component projections of whole images,
    as they are and mirrored, and of images moved so that their centre of mass sits in
    the middle (a shifted copy lands where its original does). Stage 2 measures every
    candidate exactly, over every shift and mirror image, on the central windows."""

    def __init__(self, train, max_shift, mirror, components, candidates):
        height, width = train.shape[1:3]
        self.max_shift, self.shape, self.mirror = max_shift, train.shape[1:], mirror
        m = max_shift
        self.windows = train[:, m : height - m, m : width - m].reshape(len(train), -1)
        flat = train.reshape(len(train), -1)
        # The principal directions only pick candidates: 10,000 images estimate them well.
        sample = flat[:: max(1, len(train) // 10_000)].astype(np.float64)
        k = min(components, flat.shape[1])
        basis = np.linalg.eigh(np.cov(sample, rowvar=False).reshape(flat.shape[1], -1))[1]
        self.basis = basis[:, ::-1][:, :k].astype(np.float32)
        self.offset = (sample.mean(axis=0) @ self.basis).astype(np.float32)
        self.references = [self._project(train), self._project(_centred(train))]
        self.moves = [
            (dy, dx, flip)
            for flip in ((False, True) if mirror else (False,))
            for dy in range(-m, m + 1)
            for dx in range(-m, m + 1)
        ]
        self.candidates = min(candidates, len(train))

    def nearest(self, images):
        """Distance (RMS), nearest training index and (dy, dx, mirrored) of every image."""
        n, size = len(images), self.windows.shape[1]
        distance, index = np.empty(n), np.zeros(n, dtype=np.int64)
        shift = np.zeros((n, 3), dtype=np.int64)
        views = (lambda x: [x, x[:, :, ::-1]]) if self.mirror else (lambda x: [x])
        step = max(1, BLOCK_ENTRIES // (4 * len(self.windows)))
        for start in range(0, n, step):
            block = images[start : start + step]
            b = len(block)
            chosen = []
            for reference, query in zip(self.references, (block, _centred(block))):
                d2 = np.min([self._rough_d2(v, reference) for v in views(query)], axis=0)
                if self.candidates < d2.shape[1]:
                    d2 = np.argpartition(d2, self.candidates - 1, axis=1)[:, : self.candidates]
                    chosen.append(d2)
                else:
                    chosen.append(np.broadcast_to(np.arange(d2.shape[1]), d2.shape))
            chosen = np.concatenate(chosen, axis=1)
            # Exact distances of every move to every candidate, (images, moves, candidates),
            # for as many images at a time as fit in a block.
            per_image = len(self.moves) * chosen.shape[1] * size
            sub = max(1, BLOCK_ENTRIES // per_image)
            for i in range(0, b, sub):
                part = chosen[i : i + sub]
                a = self._moved(block[i : i + sub]).astype(np.float64)
                c = self.windows[part].astype(np.float64)
                exact = _squared_distances(a, c, _squared_norms(a), _squared_norms(c))
                flat = exact.reshape(len(part), -1).argmin(axis=1)
                move, best = np.unravel_index(flat, exact.shape[1:])
                rows, every = slice(start + i, start + i + len(part)), np.arange(len(part))
                distance[rows] = np.sqrt(exact[every, move, best] / size)
                index[rows] = part[every, best]
                shift[rows] = np.array(self.moves, dtype=np.int64)[move]
        return distance, index, shift

    def _project(self, images):
        """Rows [projection, 1] and their squared norms: against a query's [-2 q, |q|^2]
        one matrix product gives |q - t|^2 - |t|^2 (see :meth:`_rough_d2`)."""
        p = images.reshape(len(images), -1) @ self.basis - self.offset
        return np.hstack([p, np.ones((len(p), 1), np.float32)]), _squared_norms(p)

    def _rough_d2(self, images, reference):
        p = images.reshape(len(images), -1) @ self.basis - self.offset
        d2 = np.hstack([-2.0 * p, _squared_norms(p)[:, None]]) @ reference[0].T
        d2 += reference[1]
        return d2

    def _moved(self, images):
        """Every move's window of every image: (n, moves, window pixels), float32."""
        height, width = self.shape[:2]
        m = self.max_shift
        views = np.empty((len(images), len(self.moves), self.windows.shape[1]), np.float32)
        for j, (dy, dx, flip) in enumerate(self.moves):
            source = images[:, :, ::-1] if flip else images
            window = source[:, m + dy : height - m + dy, m + dx : width - m + dx]
            views[:, j] = window.reshape(len(images), -1)
        return views


def _centred(images):
    """Images moved by whole pixels (zeros filling in) so that the centre of mass of their
    absolute values sits in the middle of the frame: shifted copies of one image agree."""
    n, height, width = images.shape[:3]
    mass = np.abs(images).sum(axis=3)
    total = np.maximum(mass.sum(axis=(1, 2)), np.finfo(np.float32).tiny)
    rows = (mass.sum(axis=2) @ np.arange(height)) / total
    cols = (mass.sum(axis=1) @ np.arange(width)) / total
    dy = np.round((height - 1) / 2 - rows).astype(int)
    dx = np.round((width - 1) / 2 - cols).astype(int)
    # Pixel (y, x) of the result is pixel (y - dy, x - dx) of the image, or 0 off the frame.
    padded = np.pad(images, ((0, 0), (height, height), (width, width), (0, 0)))
    y = np.arange(height)[None, :, None] - dy[:, None, None] + height
    x = np.arange(width)[None, None, :] - dx[:, None, None] + width
    return padded[np.arange(n)[:, None, None], y, x]


def _images(images, what, shape=None):
    """Images as float32 (n, H, W, C); the shape of the training images when given."""
    try:
        a = np.asarray(images, dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise MetricError(f"{what} must be a numeric array of images: {exc}") from None
    if a.ndim == 3:
        a = a[..., None]
    if a.ndim != 4:
        raise MetricError(
            f"{what} must be images of shape (n, H, W) or (n, H, W, C), got {a.shape}"
        )
    if shape is not None and a.shape[1:] != shape:
        raise MetricError(
            f"{what} images have shape {a.shape[1:]}, the training images {shape}: compare "
            f"images of one size and channel count"
        )
    if not np.all(np.isfinite(a)):
        raise MetricError(
            f"{what} contains NaN or infinite pixels: the images probably came from a "
            f"diverged generator. Check the training losses, or use an earlier checkpoint."
        )
    return a


def _psd_sqrt(sigma, max_imaginary, what):
    """Symmetric square root of a PSD matrix via its eigendecomposition (V diag(sqrt w) V^T)."""
    w, v = np.linalg.eigh(sigma)
    _check_imaginary(w, max_imaginary, what)
    return _symmetric((v * np.sqrt(_round_off_to_zero(w))) @ v.T)


def _round_off_to_zero(eigenvalues):
    """Eigenvalues with those below the round-off level of ``eigh`` (about d * machine
    epsilon * the largest one), including the slightly negative ones, set to exactly 0."""
    w = np.asarray(eigenvalues)
    floor = len(w) * np.finfo(np.float64).eps * max(float(np.max(np.abs(w))), 0.0)
    return np.where(w > floor, w, 0.0)


def _check_imaginary(eigenvalues, max_imaginary, what):
    """Raise when a negative eigenvalue is more than round-off: sqrt(-w_min) is the
    imaginary part its square root would have, compared with the largest real one."""
    top = max(float(np.max(np.abs(eigenvalues))), np.finfo(np.float64).tiny)
    worst = float(-np.min(eigenvalues))
    if worst > 0 and np.sqrt(worst / top) > max_imaginary:
        raise MetricError(
            f"{what} has an eigenvalue of {-worst:.3g} (largest {top:.3g}): its square root "
            f"would have an imaginary part of {np.sqrt(worst):.3g}, far beyond round-off. "
            f"Covariance matrices must be symmetric positive semi-definite."
        )


def _symmetric(a):
    return (a + a.T) / 2.0


def _same_width(a, b, what_a, what_b):
    if a.shape[1] != b.shape[1]:
        raise MetricError(
            f"feature sizes differ: {what_a} {a.shape}, {what_b} {b.shape}; both sets must come "
            f"from the same extractor"
        )


def _whole_number(value, what):
    """``value`` as an int >= 1 (a float such as 3.0 is accepted); a clear error otherwise."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        value = int(value)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise MetricError(f"{what} must be a whole number, got {value!r}")
    if value < 1:
        raise MetricError(f"{what} must be at least 1, got {value}")
    return int(value)


def _ordinal(n):
    """1 -> "1st", 2 -> "2nd", 3 -> "3rd", 11 -> "11th", 22 -> "22nd"."""
    suffix = "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _as_float64(a, ndim, what):
    try:
        a = np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise MetricError(f"{what} must be a numeric array: {exc}") from None
    if a.ndim != ndim:
        raise MetricError(f"{what} must have {ndim} dimension(s), got shape {a.shape}")
    if ndim == 2 and a.shape[1] == 0:
        raise MetricError(f"{what} has no columns (shape {a.shape}): no features to compare")
    if not np.all(np.isfinite(a)):
        raise MetricError(
            f"{what} contains NaN or infinite values: the images they came from "
            f"probably did (a diverged generator). Check the training losses, or "
            f"use an earlier checkpoint."
        )
    return a


def _safe_log(p):
    return np.log(np.where(p > 0, p, 1.0))


# =========================================================================== seeds


@dataclass(frozen=True)
class Comparison:
    """What :func:`compare_runs` found: each arm's mean and standard deviation over its runs,
    the difference of the means (variant - baseline), the pooled standard deviation, the
    threshold the difference had to pass and the verdict."""

    verdict: str  # "helps", "hurts" or "undecided"
    n_baseline: int
    n_variant: int
    baseline_mean: float
    baseline_sd: float
    variant_mean: float
    variant_sd: float
    difference: float
    pooled_sd: float
    threshold: float
    reason: str

    def __str__(self):
        return (
            f"{self.variant_mean:.2f} ± {self.variant_sd:.2f} (n={self.n_variant}) against "
            f"{self.baseline_mean:.2f} ± {self.baseline_sd:.2f} (n={self.n_baseline}): difference "
            f"{self.difference:+.2f}, threshold {self.threshold:.2f} -> {self.verdict} "
            f"({self.reason})"
        )


def compare_runs(baseline, variant, lower_is_better=True, factor=2.0, min_runs=5) -> Comparison:
    """Decide whether a setting changed a score beyond the run-to-run noise, by a stated rule.

    ``baseline`` and ``variant`` hold one score per run (e.g. the FID of each seed). The
    variant **helps** (or **hurts**) when both arms have at least ``min_runs`` runs and their
    means differ by more than ``factor`` pooled standard deviations,

        |mean(variant) - mean(baseline)| > factor * s_p,
        s_p^2 = ((n_b - 1) s_b^2 + (n_v - 1) s_v^2) / (n_b + n_v - 2)

    (sample standard deviations, ``ddof=1``), in the direction that improves the score
    (lower, unless ``lower_is_better=False``). Anything else is **undecided**, including
    every comparison with fewer runs. With 5 runs per arm and normal noise, a setting with no
    effect passes the default rule about 1.3% of the time (a two-sided t-test at t > 3.16 with
    8 degrees of freedom).
    """
    base = _as_float64(baseline, 1, "baseline")
    var = _as_float64(variant, 1, "variant")
    min_runs = _whole_number(min_runs, "min_runs")
    if min_runs < 2:
        raise MetricError(
            f"min_runs must be at least 2 (a spread needs two runs per arm), got {min_runs}"
        )
    factor = float(factor)
    if not factor > 0 or not np.isfinite(factor):
        raise MetricError(f"factor must be a positive number of standard deviations, got {factor}")
    for arm, what in ((base, "baseline"), (var, "variant")):
        if len(arm) == 0:
            raise MetricError(f"{what} holds no runs: give one score per run")
    nb, nv = len(base), len(var)
    sd_b = float(base.std(ddof=1)) if nb > 1 else float("nan")
    sd_v = float(var.std(ddof=1)) if nv > 1 else float("nan")
    dof = (nb - 1) + (nv - 1)
    ss = (nb - 1) * (sd_b**2 if nb > 1 else 0.0) + (nv - 1) * (sd_v**2 if nv > 1 else 0.0)
    pooled = float(np.sqrt(ss / dof)) if dof > 0 else float("nan")
    difference = float(var.mean() - base.mean())
    threshold = factor * pooled
    if min(nb, nv) < min_runs:
        verdict, reason = "undecided", f"fewer than {min_runs} runs in an arm"
    elif abs(difference) <= threshold:
        verdict, reason = "undecided", f"difference within {factor:g} pooled SD"
    else:
        improved = difference < 0 if lower_is_better else difference > 0
        verdict = "helps" if improved else "hurts"
        reason = f"difference beyond {factor:g} pooled SD"
    return Comparison(
        verdict=verdict,
        n_baseline=nb,
        n_variant=nv,
        baseline_mean=float(base.mean()),
        baseline_sd=sd_b,
        variant_mean=float(var.mean()),
        variant_sd=sd_v,
        difference=difference,
        pooled_sd=pooled,
        threshold=threshold,
        reason=reason,
    )


# =========================================================================== matching


def linear_assignment(cost):
    """The cheapest one-to-one assignment of the rows of ``cost`` to its columns:
    ``(rows, cols)`` such that ``cost[rows, cols].sum()`` is minimal, each row (if there are
    no more rows than columns, else each column) used exactly once, rows in increasing order.
    The answer of ``scipy.optimize.linear_sum_assignment``, which this package does without.

    The Hungarian algorithm (Kuhn 1955, Munkres 1957) in its O(n^2 m) form with potentials:
    rows are added one at a time, and each is placed by a shortest augmenting path
    (Dijkstra's algorithm on the costs reduced by the potentials u, v, which stay feasible,
    u[i] + v[j] <= cost[i, j], and are tight on the matched pairs). A 10 x 10 matrix takes
    well under a millisecond.
    """
    cost = np.asarray(cost, dtype=np.float64)
    if cost.ndim != 2 or not np.isfinite(cost).all():
        raise MetricError(f"cost must be a 2-D matrix of finite numbers, got shape {cost.shape}")
    if cost.shape[0] > cost.shape[1]:  # more rows than columns: assign the columns instead
        cols, rows = linear_assignment(cost.T)
        order = np.argsort(rows)
        return rows[order], cols[order]
    n, m = cost.shape
    u, v = np.zeros(n + 1), np.zeros(m + 1)  # potentials; index 0 is a virtual column/row
    match = np.zeros(m + 1, dtype=np.int64)  # match[j] = row (1-based) assigned to column j
    way = np.zeros(m + 1, dtype=np.int64)  # the previous column on the shortest path
    for i in range(1, n + 1):
        match[0], j0 = i, 0
        dist = np.full(m + 1, np.inf)
        used = np.zeros(m + 1, dtype=bool)
        while match[j0]:  # grow the shortest-path tree until it reaches a free column
            used[j0] = True
            i0 = match[j0]
            free = ~used[1:]
            reduced = cost[i0 - 1] - u[i0] - v[1:]
            better = free & (reduced < dist[1:])
            dist[1:][better] = reduced[better]
            way[1:][better] = j0
            j1 = 1 + int(np.argmin(np.where(free, dist[1:], np.inf)))
            delta = dist[j1]
            u[match[used]] += delta  # keep the tree's edges tight
            v[used] -= delta
            dist[1:][free] -= delta
            j0 = j1
        while j0:  # flip the matching along the path back to the root
            j1 = way[j0]
            match[j0] = match[j1]
            j0 = j1
    rows = match[1:] - 1
    cols = np.flatnonzero(rows >= 0)
    order = np.argsort(rows[cols])
    return rows[cols][order], cols[order]


def matched_accuracy(predicted, labels, return_mapping=False):
    """How well an unsupervised split matches the classes: the share of samples whose
    ``predicted`` group (e.g. an InfoGAN's categorical code, or a k-means cluster), mapped
    to a class by the best one-to-one matching of groups to classes, is their label.

    The matching maximises the number of agreements (:func:`linear_assignment` on the
    negated contingency table), so a split that finds the classes under other names scores
    1, and one that ignores them about the share of the largest class. With more groups
    than classes some groups get no class and count as wrong. ``return_mapping=True`` also
    returns ``{group: class}``.
    """
    predicted, labels = np.asarray(predicted), np.asarray(labels)
    if predicted.shape != labels.shape or predicted.ndim != 1 or len(predicted) == 0:
        raise MetricError(
            f"predicted and labels must be two equally long, non-empty 1-D arrays, got "
            f"shapes {predicted.shape} and {labels.shape}"
        )
    for what, a in (("predicted", predicted), ("labels", labels)):
        if not np.issubdtype(a.dtype, np.integer) or a.min() < 0:
            raise MetricError(f"{what} must be whole numbers >= 0 (groups, classes), not {a.dtype}")
    table = np.zeros((predicted.max() + 1, labels.max() + 1), dtype=np.int64)
    np.add.at(table, (predicted, labels), 1)
    rows, cols = linear_assignment(-table)
    accuracy = float(table[rows, cols].sum() / len(labels))
    if return_mapping:
        return accuracy, {int(r): int(c) for r, c in zip(rows, cols)}
    return accuracy
