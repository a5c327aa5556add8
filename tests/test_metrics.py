"""Tests of gancourse.metrics, the NumPy mathematics of sample quality: Frechet distance
against closed forms and SciPy, the statistical properties of KID and IS, precision and
recall and the memorisation checks on hand-made point sets and synthetic images (with
positive and negative controls), the edge cases (outliers, duplicates, bad arguments), and
that the module needs no TensorFlow. (Feature extractors and whole evaluations:
tests/test_evaluation.py.)"""

import subprocess
import sys

import numpy as np
import pytest
from scipy import linalg
from scipy.spatial.distance import cdist

from gancourse import metrics
from gancourse.errors import GancourseError, MetricError


def random_spd(d, rng, rank=None, jitter=0.0):
    """A random symmetric PSD matrix of the given rank (a sample covariance), plus jitter*I."""
    a = rng.standard_normal((d, rank or d + 5))
    return a @ a.T / a.shape[1] + jitter * np.eye(d)


def scipy_frechet(mu1, s1, mu2, s2, eps=1e-6):
    """The reference FID formula (pytorch-fid / TTUR) with scipy.linalg.sqrtm."""
    covmean = linalg.sqrtm(s1 @ s2)
    if not np.isfinite(covmean).all():
        offset = np.eye(len(s1)) * eps
        covmean = linalg.sqrtm((s1 + offset) @ (s2 + offset))
    covmean = covmean.real
    diff = mu1 - mu2
    return diff @ diff + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean)


# ------------------------------------------------------------------ Frechet distance


def test_frechet_of_identical_gaussians_is_zero():
    rng = np.random.default_rng(0)
    mu, sigma = rng.standard_normal(16), random_spd(16, rng)
    assert abs(metrics.frechet_distance(mu, sigma, mu, sigma)) < 1e-9 * np.trace(sigma)


def test_frechet_of_a_mean_shift_is_the_squared_distance():
    rng = np.random.default_rng(1)
    mu, sigma, shift = rng.standard_normal(8), random_spd(8, rng), rng.standard_normal(8)
    d = metrics.frechet_distance(mu, sigma, mu + shift, sigma)
    assert d == pytest.approx(shift @ shift, rel=1e-9, abs=1e-9)


def test_frechet_of_diagonal_covariances_has_the_closed_form():
    rng = np.random.default_rng(2)
    a, b = rng.uniform(0.1, 3, 10), rng.uniform(0.1, 3, 10)
    mu1, mu2 = rng.standard_normal(10), rng.standard_normal(10)
    expected = np.sum((np.sqrt(a) - np.sqrt(b)) ** 2) + np.sum((mu1 - mu2) ** 2)
    assert metrics.frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(
        expected, rel=1e-10
    )


@pytest.mark.parametrize("d, seed", [(3, 0), (20, 1), (128, 2)])
def test_frechet_matches_scipy_on_random_spd_matrices(d, seed):
    rng = np.random.default_rng(seed)
    mu1, mu2 = rng.standard_normal(d), rng.standard_normal(d)
    s1, s2 = random_spd(d, rng), random_spd(d, rng)
    ours = metrics.frechet_distance(mu1, s1, mu2, s2)
    assert ours == pytest.approx(scipy_frechet(mu1, s1, mu2, s2), rel=1e-8)
    assert metrics.trace_sqrt_product(s1, s2) == pytest.approx(
        np.trace(linalg.sqrtm(s1 @ s2).real), rel=1e-8
    )


def test_frechet_of_near_singular_covariances_matches_scipy():
    # Covariances of 20 feature vectors in 64 dimensions: rank 20, nearly singular, the
    # usual situation when FID is computed from few samples.
    rng = np.random.default_rng(3)
    s1, s2 = random_spd(64, rng, rank=20, jitter=1e-9), random_spd(64, rng, rank=20, jitter=1e-9)
    mu1, mu2 = rng.standard_normal(64), rng.standard_normal(64)
    ours = metrics.frechet_distance(mu1, s1, mu2, s2)
    assert np.isfinite(ours) and ours > 0
    assert ours == pytest.approx(scipy_frechet(mu1, s1, mu2, s2), rel=1e-5)
    # exactly singular (rank 1) still works and stays >= 0
    v = rng.standard_normal((64, 1))
    assert metrics.frechet_distance(mu1, v @ v.T, mu1, v @ v.T) == pytest.approx(0, abs=1e-8)


def test_frechet_refuses_matrices_that_are_not_covariances():
    rng = np.random.default_rng(4)
    s = random_spd(5, rng)
    not_psd = s - 3 * np.trace(s) * np.eye(5)  # strongly negative eigenvalues
    with pytest.raises(MetricError, match="imaginary"):
        metrics.frechet_distance(np.zeros(5), s, np.zeros(5), not_psd)
    with pytest.raises(MetricError, match="shapes"):
        metrics.frechet_distance(np.zeros(5), s, np.zeros(4), s[:4, :4])
    with pytest.raises(GancourseError, match="NaN"):
        metrics.frechet_distance(np.full(5, np.nan), s, np.zeros(5), s)


def test_fid_from_features_is_zero_for_one_set_and_grows_with_noise():
    rng = np.random.default_rng(5)
    feats = rng.standard_normal((2000, 32)) @ rng.standard_normal((32, 32))
    assert abs(metrics.fid_from_features(feats, feats)) < 1e-8
    fids = [
        metrics.fid_from_features(feats, feats + s * rng.standard_normal(feats.shape))
        for s in (0.1, 0.5, 1.0, 2.0)
    ]
    assert all(a < b for a, b in zip(fids, fids[1:])), fids


# ------------------------------------------------------------------ KID and IS


def test_kid_estimator_is_unbiased():
    # Many independent small pairs from ONE distribution: the unbiased MMD^2 averages to 0
    # (within its standard error), while the biased V-statistic (diagonal kept) is clearly
    # positive - so this test can tell the two apart.
    rng = np.random.default_rng(6)
    unbiased, biased = [], []
    for _ in range(300):
        x, y = rng.standard_normal((30, 8)), rng.standard_normal((30, 8))
        unbiased.append(metrics.polynomial_mmd2(x, y))
        k = lambda a, b: (a @ b.T / 8 + 1) ** 3  # noqa: E731
        biased.append(k(x, x).mean() + k(y, y).mean() - 2 * k(x, y).mean())
    sem = np.std(unbiased) / np.sqrt(len(unbiased))
    assert abs(np.mean(unbiased)) < 4 * sem
    assert np.mean(biased) > 10 * np.std(biased) / np.sqrt(len(biased))


def test_kid_is_near_zero_for_one_distribution_and_positive_for_two():
    rng = np.random.default_rng(7)
    a, b = rng.standard_normal((600, 16)), rng.standard_normal((600, 16))
    same_mean, same_std = metrics.kid_from_features(a, b, subsets=20, subset_size=300)
    shifted_mean, _ = metrics.kid_from_features(a, b + 0.5, subsets=20, subset_size=300)
    assert abs(same_mean) < 0.01 and same_std < 0.02
    assert shifted_mean > 0.1 and shifted_mean > 20 * same_std


def test_kid_with_subsets_as_large_as_both_sets_is_one_exact_value():
    # Subsets of all the samples are permutations of the whole sets, and the MMD^2 estimate
    # does not depend on the order: one value, computed once, no spread.
    rng = np.random.default_rng(8)
    a, b = rng.standard_normal((200, 16)), rng.standard_normal((200, 16)) + 0.3
    mean, std = metrics.kid_from_features(a, b, subsets=50, subset_size=1000)
    perm = rng.permutation(200)
    assert mean == pytest.approx(
        metrics.polynomial_mmd2(a[perm], b[rng.permutation(200)]), rel=1e-9
    )
    assert mean == pytest.approx(metrics.polynomial_mmd2(a, b), rel=1e-12) and std == 0.0


def test_inception_score_of_uniform_and_of_confident_balanced_outputs():
    uniform = np.full((1000, 10), 0.1)
    assert metrics.inception_score(uniform) == pytest.approx((1.0, 0.0), abs=1e-9)
    one_hot = np.eye(10)[np.arange(1000) % 10]  # every split holds every class equally
    mean, std = metrics.inception_score(one_hot, splits=10)
    assert mean == pytest.approx(10.0, rel=1e-9) and std < 1e-9
    # all samples confidently the same class: a collapsed generator scores 1
    assert metrics.inception_score(np.eye(10)[np.zeros(100, int)])[0] == pytest.approx(1.0)
    with pytest.raises(MetricError, match="softmax"):
        metrics.inception_score(np.ones((100, 10)))


def test_mode_coverage_tells_a_spike_from_a_balanced_histogram():
    balanced = metrics.mode_coverage([100] * 10)
    assert balanced == {"classes_covered": 1.0, "kl_from_uniform": pytest.approx(0, abs=1e-12)}
    spike = metrics.mode_coverage([0, 0, 1000, 0, 0, 0, 0, 0, 0, 0])
    assert spike["classes_covered"] == 0.1 and spike["kl_from_uniform"] == pytest.approx(np.log(10))
    # 1/(4k) rule: 2.5% of the samples is a quarter of a fair share for 10 classes
    assert metrics.mode_coverage([24] + [108] * 9)["classes_covered"] == 0.9


# ------------------------------------------------------------------ precision and recall


def test_precision_and_recall_of_a_set_against_itself_are_one():
    rng = np.random.default_rng(10)
    feats = rng.standard_normal((200, 16))
    assert metrics.precision_recall(feats, feats) == {"precision": 1.0, "recall": 1.0}


def test_precision_counts_generated_points_inside_the_real_balls():
    # Real points 0, 1, 2, 3 on a line: with k=1 every ball has radius 1.
    real = np.array([[0.0, 0], [1, 0], [2, 0], [3, 0]])
    np.testing.assert_allclose(metrics.knn_radii(real, k=1), [1, 1, 1, 1])
    np.testing.assert_allclose(metrics.knn_radii(real, k=2), [2, 1, 1, 2])
    generated = np.array(
        [
            [0.5, 0],  # 0.5 from (0, 0): inside
            [1.5, 0.5],  # 0.71 from (1, 0): inside
            [10.0, 0],  # 7 from (3, 0): outside
            [1.5, 1.2],
        ]
    )  # 1.30 from (1, 0) and (2, 0): outside
    result = metrics.precision_recall(real, generated, k=1)
    assert result["precision"] == 0.5
    # Generated radii (k=1): 1.118, 0.7, 8.515 (the outlier reaches far), 0.7. The real
    # points 0 and 1 lie within 1.118 of (0.5, 0); 2 and 3 within 8.515 of (10, 0).
    assert result["recall"] == 1.0
    # recall is precision with the roles swapped
    swapped = metrics.precision_recall(generated, real, k=1)
    assert swapped == {"precision": result["recall"], "recall": result["precision"]}


def test_mode_collapse_keeps_precision_and_loses_recall():
    real = np.stack(np.meshgrid(np.arange(4.0), np.arange(5.0)), -1).reshape(-1, 2)  # 20 points
    collapsed = np.repeat(real[7:8], 30, axis=0)  # every sample is the same real point
    result = metrics.precision_recall(real, collapsed, k=3)
    assert result["precision"] == 1.0  # each sample looks real...
    assert result["recall"] == 1 / len(real)  # ...but the balls have radius 0: one point covered
    far_away = real + 100.0
    assert metrics.precision_recall(real, far_away, k=3) == {"precision": 0.0, "recall": 0.0}


def test_precision_recall_match_brute_force_distances_when_done_in_blocks(monkeypatch):
    rng = np.random.default_rng(11)
    real, fake = rng.standard_normal((300, 8)), rng.standard_normal((250, 8)) * 1.3 + 0.4
    k = 3

    def brute(a, b):  # share of rows of b inside the k-NN balls of a, from scipy's cdist
        radii = np.sort(cdist(a, a), axis=1)[:, k]
        return np.mean((cdist(b, a) <= radii[None, :]).any(axis=1))

    expected = {"precision": brute(real, fake), "recall": brute(fake, real)}
    assert 0.2 < expected["precision"] < 0.99 and 0.2 < expected["recall"] < 0.99  # not trivial
    assert metrics.precision_recall(real, fake, k) == expected
    np.testing.assert_allclose(
        metrics.knn_radii(real, k), np.sort(cdist(real, real), axis=1)[:, k], rtol=1e-9
    )
    monkeypatch.setattr(metrics, "BLOCK_ENTRIES", 1000)  # 3-4 rows per block: many blocks
    assert metrics.precision_recall(real, fake, k) == expected


def test_precision_recall_refuse_bad_inputs_clearly():
    a = np.zeros((3, 4))
    with pytest.raises(MetricError, match="at least 4 feature vectors"):
        metrics.precision_recall(a, np.ones((10, 4)), k=3)
    with pytest.raises(MetricError, match="feature sizes differ"):
        metrics.precision_recall(np.ones((10, 4)), np.ones((10, 5)))


def test_pairwise_distances_of_ten_thousand_features_fit_in_memory():
    # 10,000 x 10,000 distances would take 800 MB at once; in blocks the peak stays small.
    import tracemalloc

    rng = np.random.default_rng(12)
    real, fake = rng.standard_normal((10_000, 16)), rng.standard_normal((10_000, 16))
    tracemalloc.start()
    result = metrics.precision_recall(real, fake)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert 0.8 < result["precision"] <= 1 and 0.8 < result["recall"] <= 1
    assert peak < 300e6, f"peak {peak / 1e6:.0f} MB"


# ------------------------------------------------------------------ memorisation


def test_nearest_neighbours_and_memorisation_on_hand_made_points():
    train = np.hstack([10 * np.eye(5), np.zeros((5, 1))])  # 5 points, 14 apart
    offset = np.zeros((5, 6))
    offset[:, 5] = [0.3, 0.4, 0.5, 0.6, 0.7]  # along a direction orthogonal to all of them
    test = train + offset  # new real images: 0.3-0.7 from the training set
    generated = np.vstack(
        [
            train[2],  # an exact copy
            train[3] + [0, 0, 0, 0.01, 0, 0],  # a near-copy
            train[0] + [0, 0, 0, 0, 0, 2.0],
        ]
    )  # something new
    distances, indices = metrics.nearest_neighbours(generated, train)
    np.testing.assert_allclose(distances, [0.0, 0.01, 2.0], atol=1e-9)
    np.testing.assert_array_equal(indices, [2, 3, 0])

    m = metrics.memorisation(generated, train, test)
    np.testing.assert_allclose(m["test_distance"], offset[:, 5], rtol=1e-9)
    np.testing.assert_array_equal(m["test_index"], np.arange(5))
    np.testing.assert_array_equal(m["generated_index"], [2, 3, 0])
    assert m["threshold"] == pytest.approx(0.304)  # the 1% quantile of 0.3 ... 0.7
    assert m["too_close"] == pytest.approx(2 / 3)  # the copy and the near-copy
    with pytest.raises(MetricError, match="quantile"):
        metrics.memorisation(generated, train, test, quantile=5)


def test_a_copying_generator_is_caught_and_a_fresh_one_is_not():
    rng = np.random.default_rng(13)
    train, test = rng.standard_normal((2000, 8)), rng.standard_normal((500, 8))
    fresh = rng.standard_normal((500, 8))  # same distribution
    copies = train[rng.choice(2000, 500)] + 1e-3 * rng.standard_normal((500, 8))
    assert metrics.memorisation(fresh, train, test)["too_close"] < 0.05
    assert metrics.memorisation(copies, train, test)["too_close"] == 1.0


def brute_precision_recall(real, fake, k):
    """Precision and recall from scipy's cdist (differences, no expansion): the reference."""

    def inside(a, b):  # share of rows of b inside the k-NN balls of a
        radii = np.sort(cdist(a, a), axis=1)[:, k]
        return np.mean((cdist(b, a) <= radii[None, :]).any(axis=1))

    return {"precision": inside(real, fake), "recall": inside(fake, real)}


@pytest.mark.parametrize("where", ["real", "generated"])
def test_one_far_outlier_changes_precision_and_recall_by_its_own_share_only(where):
    # One row of 1e7 used to set a distance floor above every other distance: all balls
    # then held everything and precision and recall both read 1.00.
    rng = np.random.default_rng(20)
    real, fake = rng.standard_normal((300, 8)), rng.standard_normal((250, 8)) * 1.3 + 0.4
    outlier = np.full((1, 8), 1e7)
    before = metrics.precision_recall(real, fake, k=3)
    assert before == brute_precision_recall(real, fake, 3)
    if where == "real":
        real = np.vstack([real, outlier])
    else:
        fake = np.vstack([fake, outlier])
    after = metrics.precision_recall(real, fake, k=3)
    assert after == brute_precision_recall(real, fake, 3)
    # The outlier's own row: it lies in no ball of the other set, and its own ball (out to
    # its 3rd nearest neighbour, 1e7 away) holds the rows of the other set on its side.
    radius = np.sort(cdist(outlier, real if where == "real" else fake))[0, 3]
    other = fake if where == "real" else real
    in_its_ball = (cdist(other, outlier)[:, 0] <= radius).mean()
    own, other_key = ("recall", "precision") if where == "real" else ("precision", "recall")
    n = len(real) if where == "real" else len(fake)
    assert after[own] == pytest.approx(before[own] * (n - 1) / n)
    assert before[other_key] <= after[other_key] <= before[other_key] + in_its_ball
    assert max(after.values()) < 0.99


def test_nearest_neighbours_stay_exact_next_to_a_far_outlier():
    rng = np.random.default_rng(21)
    refs = np.vstack([rng.standard_normal((200, 6)), np.full((1, 6), 1e7)])
    queries = np.vstack([refs[5], refs[17] + 1e-4, rng.standard_normal((50, 6))])
    distances, indices = metrics.nearest_neighbours(queries, refs)
    full = cdist(queries, refs)
    np.testing.assert_array_equal(indices, full.argmin(axis=1))
    np.testing.assert_allclose(distances, full.min(axis=1), rtol=1e-6, atol=1e-9)
    assert distances[0] == 0.0 and indices[:2].tolist() == [5, 17]


def test_memorisation_catches_exact_copies_when_test_images_repeat_training_images():
    # 3% of the test images are training images: the 1% quantile of the test distances is
    # 0, and "closer than 0" flagged nothing, not even an exact copier.
    rng = np.random.default_rng(22)
    train = rng.standard_normal((1000, 8))
    test = np.vstack([train[:30], rng.standard_normal((970, 8))])
    copier, fresh = train[rng.choice(1000, 200)], rng.standard_normal((200, 8))
    m = metrics.memorisation(copier, train, test, quantile=0.01)
    assert m["threshold"] == 0.0 and m["too_close"] == 1.0
    assert m["test_rate"] == pytest.approx(0.03)  # what a fresh generator is compared with
    assert metrics.memorisation(fresh, train, test)["too_close"] == 0.0


def test_k_is_checked_and_the_messages_read_well():
    real, fake = np.random.default_rng(23).standard_normal((2, 30, 4))
    assert metrics.precision_recall(real, fake, k=3.0) == metrics.precision_recall(real, fake, k=3)
    assert metrics.knn_radii(real, k=np.int64(2)).shape == (30,)
    for bad in (0, -1, 2.5, "3", True, None):
        with pytest.raises(MetricError, match="k must be"):
            metrics.precision_recall(real, fake, k=bad)
    with pytest.raises(MetricError, match="the 3rd nearest neighbour needs at least 4 feature"):
        metrics.precision_recall(real[:3], fake, k=3)
    with pytest.raises(MetricError, match="the 1st nearest neighbour needs at least 2 feature"):
        metrics.knn_radii(real[:1], k=1)
    assert [metrics._ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st", "111th"
    ]  # fmt: skip


def test_metrics_refuse_empty_mismatched_and_overflowing_inputs_clearly():
    rng = np.random.default_rng(24)
    a, b = rng.standard_normal((40, 4)), rng.standard_normal((40, 5))
    for metric in (
        metrics.fid_from_features,
        metrics.kid_from_features,
        metrics.polynomial_mmd2,
        metrics.precision_recall,
        metrics.nearest_neighbours,
    ):
        with pytest.raises(MetricError, match="feature sizes differ"):
            metric(a, b)
    with pytest.raises(MetricError, match="no columns"):
        metrics.precision_recall(np.zeros((10, 0)), np.zeros((10, 0)))
    with pytest.raises(MetricError, match="at least 4 feature vectors in each set, got 0"):
        metrics.precision_recall(a, np.zeros((0, 4)))
    with pytest.raises(MetricError, match="at least 2 rows"):
        metrics.polynomial_mmd2(a[:1], a)
    with pytest.raises(MetricError, match="subsets must be at least 1"):
        metrics.kid_from_features(a, a + 1, subsets=0)
    with pytest.raises(MetricError, match="splits must be a whole number"):
        metrics.inception_score(np.full((20, 2), 0.5), splits=2.5)
    with pytest.raises(MetricError, match="non-negative"):
        metrics.mode_coverage([5, -1, 3])
    with pytest.raises(MetricError, match="NaN"):
        metrics.mode_coverage([5, np.nan, 3])
    with pytest.raises(MetricError, match="overflow"):
        metrics.precision_recall(np.full((10, 4), 1e200), rng.standard_normal((10, 4)))
    with pytest.raises(MetricError, match="numeric"):
        metrics.nearest_neighbours([["a", "b"]], a[:, :2])
    distances, indices = metrics.nearest_neighbours(np.zeros((0, 4)), a)
    assert distances.shape == indices.shape == (0,)


# ------------------------------------------------------------------ copy check (pixels)


def blob_images(n, rng, size=16):
    """Synthetic grey images (0-255): three Gaussian blobs of random place, width and
    brightness each, all different, so new images are never near-copies of old ones."""
    yy, xx = np.mgrid[:size, :size]
    centres = rng.uniform(3, size - 4, (n, 3, 2))
    widths = rng.uniform(1.0, 3.0, (n, 3))
    heights = rng.uniform(80, 255, (n, 3))
    d2 = (yy[None, None] - centres[..., 0, None, None]) ** 2 + (
        xx[None, None] - centres[..., 1, None, None]
    ) ** 2
    blobs = heights[..., None, None] * np.exp(-d2 / (2 * widths[..., None, None] ** 2))
    return np.clip(blobs.sum(axis=1), 0, 255)


def shifted(image, dy, dx):
    """``image`` moved down ``dy`` and right ``dx`` pixels, zeros filling in."""
    out = np.zeros_like(image)
    h, w = image.shape
    out[max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = image[
        max(-dy, 0) : h + min(-dy, 0), max(-dx, 0) : w + min(-dx, 0)
    ]
    return out


@pytest.fixture(scope="module")
def copy_controls():
    rng = np.random.default_rng(30)
    train, held_out, new = (blob_images(n, rng) for n in (800, 800, 800))
    source = rng.choice(len(train), 200, replace=False)
    moves = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3) if (dy, dx) != (0, 0)]
    move = [moves[i] for i in rng.integers(len(moves), size=len(source))]
    controls = {
        "exact copies": train[source],
        "copies + noise (std 8)": np.clip(train[source] + rng.normal(0, 8, (200, 16, 16)), 0, 255),
        "shifted 1-2 pixels": np.stack([shifted(train[i], *m) for i, m in zip(source, move)]),
        "mirrored": train[source][:, :, ::-1],
    }
    results = {
        name: metrics.copy_check(images, train, held_out, quantile=0.05)
        for name, images in controls.items()
    }
    results["new images"] = metrics.copy_check(new, train, held_out, quantile=0.05)
    return source, move, results


@pytest.mark.parametrize(
    "control", ["exact copies", "copies + noise (std 8)", "shifted 1-2 pixels", "mirrored"]
)
def test_copy_check_flags_its_positive_controls(copy_controls, control):
    source, move, results = copy_controls
    r = results[control]
    assert r.rate >= 0.9, r
    assert np.mean(r.nearest == source) >= 0.9  # and finds the image each was copied from
    assert np.all(r.distance[r.flagged] <= r.threshold)
    assert np.all(np.diff(r.distance[r.flagged]) >= 0)  # closest first
    if control == "shifted 1-2 pixels":
        found = r.nearest == source
        np.testing.assert_array_equal(r.shift[found, :2], np.array(move)[found])
        assert not r.shift[found, 2].any()
    if control == "mirrored":
        assert r.shift[:, 2].all() and not r.shift[:, :2].any()
    if control == "exact copies":
        assert np.all(r.distance == 0.0)


def test_copy_check_flags_new_images_at_about_its_nominal_rate(copy_controls):
    # 800 held-out images set the 5% threshold; 800 other new images are flagged at about
    # 5%: the binomial spread of 800 draws (0.8 points) and of the quantile estimated from
    # 800 (0.8 points) give a standard deviation of about 1.1 points; +-3.5 of them is 4.
    r = copy_controls[2]["new images"]
    assert r.expected_rate == pytest.approx(0.05, abs=0.002)
    assert abs(r.rate - 0.05) < 0.04, r
    assert r.threshold > 0 and len(r.flagged) == round(r.rate * 800)


def test_copy_check_catches_exact_copies_when_held_out_images_repeat_training_ones():
    rng = np.random.default_rng(31)
    train = blob_images(300, rng)
    held_out = np.concatenate([train[:20], blob_images(280, rng)])  # 7% repeats
    r = metrics.copy_check(train[100:150], train, held_out, quantile=0.05)
    assert r.threshold == 0.0 and r.rate == 1.0 and r.expected_rate == pytest.approx(20 / 300)
    assert metrics.copy_check(blob_images(50, rng), train, held_out).rate == 0.0


def test_copy_check_takes_a_channel_axis_and_refuses_bad_inputs():
    rng = np.random.default_rng(32)
    train, held_out = blob_images(100, rng), blob_images(100, rng)
    r = metrics.copy_check(train[:10, :, :, None], train, held_out)  # (n, H, W, 1) vs (n, H, W)
    assert r.rate == 1.0 and "CopyCheck(rate=100.00%" in repr(r)
    with pytest.raises(MetricError, match="shape"):
        metrics.copy_check(train[:10, :8], train, held_out)
    with pytest.raises(MetricError, match="NaN"):
        metrics.copy_check(np.full((2, 16, 16), np.nan), train, held_out)
    with pytest.raises(MetricError, match="max_shift"):
        metrics.copy_check(train[:2], train, held_out, max_shift=8)
    with pytest.raises(MetricError, match="quantile"):
        metrics.copy_check(train[:2], train, held_out, quantile=1.5)
    with pytest.raises(MetricError, match="at least one held_out image"):
        metrics.copy_check(train[:2], train, held_out[:0])


def test_copy_check_reuses_the_held_out_distances_of_an_earlier_result():
    rng = np.random.default_rng(33)
    train, held_out, new = blob_images(200, rng), blob_images(200, rng), blob_images(50, rng)
    first = metrics.copy_check(train[:50], train, held_out, quantile=0.05)
    again = metrics.copy_check(new, train, first, quantile=0.05)
    fresh = metrics.copy_check(new, train, held_out, quantile=0.05)
    assert again.threshold == fresh.threshold and again.rate == fresh.rate
    np.testing.assert_array_equal(again.distance, fresh.distance)
    with pytest.raises(MetricError, match="other training images"):
        metrics.copy_check(new, train[:100], first)


# ------------------------------------------------------------------ no TensorFlow


def test_the_maths_imports_no_tensorflow():
    # (tests/test_layers.py checks the light modules for TensorFlow; Keras counts too here)
    code = (
        "import sys, gancourse.metrics\n"
        "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


# ---------------------------------------------------------------- matching (InfoGAN codes)


def test_linear_assignment_agrees_with_scipy_on_random_matrices():
    from scipy.optimize import linear_sum_assignment

    from gancourse.metrics import linear_assignment

    rng = np.random.default_rng(0)
    for trial in range(300):
        n, m = rng.integers(1, 13, size=2)
        if trial % 3 == 0:
            n = m = 10  # the InfoGAN case: 10 code values, 10 classes
        # real costs, and small integer costs (many ties)
        cost = rng.normal(size=(n, m)) if trial % 2 else rng.integers(0, 4, (n, m)) * 1.0
        want_rows, want_cols = linear_sum_assignment(cost)
        rows, cols = linear_assignment(cost)
        assert cost[rows, cols].sum() == pytest.approx(cost[want_rows, want_cols].sum())
        assert len(rows) == min(n, m) and (np.diff(rows) > 0).all()
        assert len(set(cols.tolist())) == len(cols)


def test_matched_accuracy_finds_renamed_classes_and_scores_chance_for_noise():
    from gancourse.metrics import matched_accuracy

    rng = np.random.default_rng(1)
    labels = rng.integers(0, 10, 5000)
    renamed = rng.permutation(10)[labels]
    assert matched_accuracy(renamed, labels) == 1.0
    accuracy, mapping = matched_accuracy(renamed, labels, return_mapping=True)
    assert all(mapping[renamed[i]] == labels[i] for i in range(100))
    assert matched_accuracy(rng.integers(0, 10, 5000), labels) < 0.13
    merged = np.where(labels == 9, 4, labels)  # two classes in one group: the smaller is lost
    lost = min(np.mean(labels == 4), np.mean(labels == 9))
    assert matched_accuracy(merged, labels) == pytest.approx(1 - lost)


@pytest.mark.parametrize(
    "predicted, labels",
    [([0, 1], [0]), ([], []), ([0.5, 1], [0, 1]), ([-1, 0], [0, 1]), ([[0]], [[0]])],
)
def test_matched_accuracy_refuses_bad_inputs(predicted, labels):
    from gancourse.metrics import matched_accuracy

    with pytest.raises(MetricError):
        matched_accuracy(predicted, labels)


# --------------------------------------------------------------------- compare_runs (seeds)


def test_compare_runs_decides_clear_gains_and_losses_with_five_runs_per_arm():
    baseline = [20.9, 19.7, 20.1, 20.5, 19.9]
    helps = metrics.compare_runs(baseline, [17.0, 16.8, 17.5, 16.9, 17.3])
    hurts = metrics.compare_runs(baseline, [25.0, 26.1, 24.2, 25.5, 24.9])
    assert helps.verdict == "helps" and hurts.verdict == "hurts"
    # a higher-is-better score (e.g. recall) turns the verdicts round
    higher_is_better = metrics.compare_runs(baseline, [17.0, 16.8, 17.5, 16.9, 17.3], False)
    assert higher_is_better.verdict == "hurts"


def test_compare_runs_reports_the_numbers_of_its_rule():
    baseline, variant = [1.0, 2.0, 3.0, 4.0, 5.0], [2.0, 4.0, 6.0, 8.0, 10.0, 12.0]
    c = metrics.compare_runs(baseline, variant)
    var_b, var_v = 2.5, 14.0  # sample variances (ddof=1) by hand
    pooled = ((4 * var_b + 5 * var_v) / 9) ** 0.5
    assert c.n_baseline == 5 and c.n_variant == 6
    assert c.baseline_mean == pytest.approx(3.0) and c.variant_mean == pytest.approx(7.0)
    assert c.baseline_sd == pytest.approx(var_b**0.5) and c.variant_sd == pytest.approx(var_v**0.5)
    assert c.difference == pytest.approx(4.0)
    assert c.pooled_sd == pytest.approx(pooled) and c.threshold == pytest.approx(2 * pooled)
    assert c.verdict == "undecided"  # 4.0 < 2 * 2.95
    assert metrics.compare_runs(baseline, variant, factor=1.0).verdict == "hurts"  # 4.0 > 2.95
    assert "undecided" in str(c) and "7.00" in str(c)


def test_compare_runs_calls_everything_with_fewer_than_five_runs_undecided():
    baseline = [20.0, 20.1, 19.9, 20.0]
    far = [40.0, 40.1, 39.9, 40.0, 40.2]
    assert metrics.compare_runs(baseline, far).verdict == "undecided"
    assert metrics.compare_runs(far, baseline).verdict == "undecided"
    assert metrics.compare_runs(baseline + [20.05], far).verdict == "hurts"
    assert metrics.compare_runs(baseline, far, min_runs=4).verdict == "hurts"
    one = metrics.compare_runs([20.0], [30.0])  # one run each: no spread at all
    assert one.verdict == "undecided" and np.isnan(one.pooled_sd) and np.isnan(one.baseline_sd)


def test_compare_runs_is_undecided_on_a_difference_inside_the_noise():
    baseline = [18.2, 20.9, 19.7, 20.1, 19.0]
    assert metrics.compare_runs(baseline, [18.8, 18.1, 20.0, 19.5, 19.2]).verdict == "undecided"
    same = metrics.compare_runs([5.0] * 5, [5.0] * 5)  # no spread and no difference
    assert same.verdict == "undecided"


def test_compare_runs_rarely_passes_a_setting_with_no_effect_and_usually_passes_a_large_one():
    rng = np.random.default_rng(0)
    trials = 4000
    null = [metrics.compare_runs(*rng.normal(20, 1, (2, 5))).verdict for _ in range(trials)]
    false_rate = np.mean([v != "undecided" for v in null])
    assert 0.004 < false_rate < 0.025  # about 1.3% for normal noise (t > 3.16, 8 d.o.f.)
    shifted = [
        metrics.compare_runs(rng.normal(20, 1, 5), rng.normal(16, 1, 5)).verdict for _ in range(500)
    ]
    assert np.mean([v == "helps" for v in shifted]) > 0.9


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(baseline=[], variant=[1.0] * 5), "no runs"),
        (dict(baseline=[1.0] * 5, variant=[1.0, np.nan, 2.0, 3.0, 4.0]), "NaN"),
        (dict(baseline=[[1.0] * 5], variant=[1.0] * 5), "dimension"),
        (dict(baseline=[1.0] * 5, variant=[1.0] * 5, min_runs=1), "at least 2"),
        (dict(baseline=[1.0] * 5, variant=[1.0] * 5, min_runs=2.5), "whole number"),
        (dict(baseline=[1.0] * 5, variant=[1.0] * 5, factor=0), "positive"),
        (dict(baseline=[1.0] * 5, variant=[1.0] * 5, factor=float("nan")), "positive"),
    ],
)
def test_compare_runs_rejects_bad_input_with_a_clear_message(kwargs, message):
    with pytest.raises(MetricError, match=message):
        metrics.compare_runs(**kwargs)
