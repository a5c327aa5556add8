"""Sample-quality mathematics on feature vectors: Frechet distance and FID, KID, Inception
Score, class coverage, precision and recall, and a memorisation check. NumPy only.

Every metric here compares *features* of images (rows of a matrix), never the images
themselves: turning images into features needs a network, and that lives in
:mod:`gancourse.evaluation` (the shipped classifiers, InceptionV3, whole reports). Keeping the
maths free of TensorFlow means it imports in a blink, can be read on its own, and is checked
against closed forms and reference implementations (``tests/test_metrics.py``).

>>> fid_from_features(real_features, generated_features)
>>> precision_recall(real_features, generated_features, k=3)   # {"precision": ..., "recall": ...}
"""

from __future__ import annotations

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
    return frechet_distance(*feature_statistics(features1), *feature_statistics(features2))


def kid_from_features(features1, features2, subsets=100, subset_size=1000, seed=0):
    """Kernel Inception Distance: (mean, std) of the unbiased MMD^2 over random subsets.

    Following Binkowski et al. (2018, "Demystifying MMD GANs"): ``subsets`` times, draw
    ``subset_size`` rows of each set without replacement (fewer if a set is smaller), and
    compute :func:`polynomial_mmd2`. Unlike FID, the estimate is unbiased, so KID of two
    samples of one distribution is ~0 whatever the sample size, and can be slightly negative.
    """
    f1, f2 = _as_float64(features1, 2, "features1"), _as_float64(features2, 2, "features2")
    m = min(subset_size, len(f1), len(f2))
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
    m, n, d = len(x), len(y), x.shape[1]
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
    counts = np.asarray(counts, dtype=np.float64)
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
    if real.shape[1] != fake.shape[1]:
        raise MetricError(f"feature sizes differ: real {real.shape}, generated {fake.shape}")
    center = real.mean(axis=0)  # distances do not change; round-off does, for the better
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
    return np.sqrt(_kth_neighbour_d2(f - f.mean(axis=0), k))


def nearest_neighbours(queries, references):
    """For every row of ``queries``, the distance to the nearest row of ``references`` and
    that row's index: two arrays of length ``len(queries)``."""
    q = _as_float64(queries, 2, "queries")
    r = _as_float64(references, 2, "references")
    if q.shape[1] != r.shape[1]:
        raise MetricError(f"feature sizes differ: queries {q.shape}, references {r.shape}")
    if not len(r):
        raise MetricError("there are no reference features to compare with")
    center = r.mean(axis=0)
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
    - ``too_close``: the share of generated features closer than that; about ``quantile``
      for a generator that does not copy, far more for one that does.
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
        "too_close": float(np.mean(generated_distance < threshold)),
    }


# =========================================================================== helpers


def _kth_neighbour_d2(f, k):
    """Squared distance of every row of ``f`` to its ``k``-th nearest other row."""
    if not 1 <= k < len(f):
        raise MetricError(
            f"the {k}-th nearest neighbour needs k >= 1 and at least {k + 1} "
            f"feature vectors in each set, got {len(f)}"
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
    make a duplicate fall outside a ball of radius 0 at random, so values below 1e-12 times
    the largest squared norm are set to exactly 0. Callers centre the features first, which
    keeps the norms, and so that floor, small."""
    a_sq, b_sq = np.einsum("ij,ij->i", a, a), np.einsum("ij,ij->i", b, b)
    floor = 1e-12 * (a_sq.max(initial=0.0) + b_sq.max(initial=0.0))
    step = max(1, BLOCK_ENTRIES // max(len(b), 1))
    for start in range(0, len(a), step):
        rows = slice(start, start + step)
        d2 = a[rows] @ b.T
        d2 *= -2.0
        d2 += a_sq[rows, None]
        d2 += b_sq[None, :]
        d2[d2 < floor] = 0.0
        yield rows, d2


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


def _as_float64(a, ndim, what):
    a = np.asarray(a, dtype=np.float64)
    if a.ndim != ndim:
        raise MetricError(f"{what} must have {ndim} dimension(s), got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise MetricError(
            f"{what} contains NaN or infinite values: the images they came from "
            f"probably did (a diverged generator). Check the training losses, or "
            f"use an earlier checkpoint."
        )
    return a


def _safe_log(p):
    return np.log(np.where(p > 0, p, 1.0))


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
