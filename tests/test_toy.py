"""Mode-coverage metrics of the 2-D toy mixtures on hand-made samples."""

import numpy as np
import pytest

from gancourse import toy


def test_ring_and_grid_geometry():
    r = toy.ring()
    assert r.num_modes == 8
    np.testing.assert_allclose(np.linalg.norm(r.centers, axis=1), 2.0, atol=1e-6)
    g = toy.grid()
    assert g.num_modes == 25 and g.centers.min() == -4 and g.centers.max() == 4


@pytest.mark.parametrize("mixture", [toy.ring(), toy.grid()])
def test_real_samples_cover_every_mode_with_high_quality(mixture):
    m = mixture.metrics(mixture.sample(5000, seed=1))
    assert m["modes_covered"] == mixture.num_modes
    assert m["high_quality"] > 0.98  # 3 std holds 98.9% of a 2-D Gaussian


def test_samples_from_one_mode_cover_one_mode():
    r = toy.ring()
    pts = r.centers[3] + np.random.default_rng(0).normal(0, r.std, (1000, 2))
    m = r.metrics(pts)
    assert m["modes_covered"] == 1 and m["counts"][3] > 980 and m["high_quality"] > 0.98


def test_off_mode_points_are_low_quality_and_cover_nothing():
    r = toy.ring()
    pts = np.random.default_rng(0).normal(0, 0.1, (1000, 2))  # the empty centre of the ring
    m = r.metrics(pts)
    assert m["modes_covered"] == 0 and m["high_quality"] == 0.0


def test_a_few_stray_points_do_not_count_as_coverage():
    r = toy.ring()
    pts = np.concatenate([np.repeat(r.centers[:1], 995, axis=0), r.centers[1:6]])
    m = r.metrics(pts)
    assert m["modes_covered"] == 1 and m["counts"][1] == 1


def test_nan_samples_are_not_high_quality():
    r = toy.ring()
    pts = np.concatenate([r.sample(100), np.full((100, 2), np.nan)])
    assert r.metrics(pts)["high_quality"] == pytest.approx(0.5, abs=0.02)


def test_unknown_toy_name():
    with pytest.raises(KeyError, match="ring, grid"):
        toy.get_toy("donut")  # spiral and moons are toys now


def test_toy_pipeline_batches():
    ds = toy.toy_pipeline(toy.ring(), n=1000, batch_size=100)
    batch = next(iter(ds))
    assert batch.shape == (100, 2)


def test_own_points_given_in_float64_with_repeats_are_high_quality():
    # Each point four times: its 3rd nearest neighbour is a copy, so its ball has radius 0.
    # The radii came from float64 while the points were stored in float32, so the points
    # themselves fell outside their own balls (high quality 0.0).
    base = np.random.default_rng(1).normal(size=(20, 2))
    cloud = toy.points(np.repeat(base, 4, axis=0), k=3)
    assert np.all(cloud.radius == 0.0)
    assert cloud.metrics(np.repeat(base, 4, axis=0))["high_quality"] == 1.0  # float64 in
    assert cloud.metrics(cloud.sample(200))["high_quality"] == 1.0  # float32 in
    assert cloud.metrics(base + 0.5)["high_quality"] == 0.0


def test_own_points_and_toy_samples_are_checked():
    from gancourse.errors import DataError, MetricError

    data = np.random.default_rng(2).normal(size=(30, 2))
    assert toy.points(data, k=3.0).radius.shape == (30,)
    for bad in (0, -1, 2.5, "3", True):
        with pytest.raises(DataError, match="k must be a whole number"):
            toy.points(data, k=bad)
    with pytest.raises(DataError, match="num_modes"):
        toy.points(data, num_modes=0)
    for bad in (np.zeros((0, 2)), np.zeros((5, 3)), "ab"):
        with pytest.raises(MetricError):
            toy.ring().metrics(bad)
