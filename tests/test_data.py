"""The data layer: loading from archives in the real layout, every clear error, pipelines."""

import time

import numpy as np
import pytest

from conftest import synthetic_images
from gancourse import data
from gancourse.errors import (
    ConfigError,
    CorruptDataError,
    DataError,
    DataNotFoundError,
    UnknownDatasetError,
)

REAL_DOWNLOAD = data._download


def write(folder, name, n_train=50, n_test=20, **override):
    """An archive in the real layout, with any array replaced by ``override``."""
    shape = data.DATASETS[name].image_shape
    arrays = dict(zip(("x_train", "y_train"), synthetic_images(n_train, shape, 1)))
    arrays.update(zip(("x_test", "y_test"), synthetic_images(n_test, shape, 2)))
    arrays.update(override)
    path = folder / f"{name}.npz"
    np.savez(path, **{k: v for k, v in arrays.items() if v is not None})
    return path


# ---------------------------------------------------------------- loading


@pytest.mark.parametrize("name", list(data.DATASETS))
def test_every_dataset_loads_from_its_archive(data_dir, name):
    write(data_dir, name, 60, 30)
    ds = data.load_dataset(name)
    spec = data.DATASETS[name]
    assert (
        ds.x_train.shape == (60,) + spec.image_shape and ds.x_test.shape == (30,) + spec.image_shape
    )
    assert ds.x_train.dtype == np.uint8 and ds.y_train.dtype == np.uint8
    assert ds.y_train.shape == (60,) and ds.y_test.shape == (30,)
    assert ds.path == data_dir / f"{name}.npz" and len(ds.class_names) == 10


def test_names_are_normalised_and_column_labels_flattened(data_dir):
    x, y = synthetic_images(40, (32, 32, 3), 3)
    np.savez(
        data_dir / "cifar10.npz",
        x_train=x,
        y_train=y.reshape(-1, 1),
        x_test=x,
        y_test=y.reshape(-1, 1),
    )
    ds = data.load_dataset("CIFAR10")
    np.testing.assert_array_equal(ds.y_train, y)
    assert data.get_spec("fashion-mnist").name == "fashion_mnist"


def test_search_order_env_folder_then_repository_folder(data_dir):
    repo = data_dir / "repo-data"
    repo.mkdir()
    write(repo, "mnist", 10, 10)
    assert data.load_dataset("mnist").path == repo / "mnist.npz"
    write(data_dir, "mnist", 12, 10)
    ds = data.load_dataset("mnist")
    assert ds.path == data_dir / "mnist.npz" and len(ds.x_train) == 12


def test_a_download_is_cached_as_npz_and_reused_offline(data_dir, monkeypatch):
    import keras

    x, y = synthetic_images(30, (28, 28), 4)
    calls = []

    class FakeFashion:  # stands in for keras.datasets.fashion_mnist
        @staticmethod
        def load_data():
            calls.append(1)
            return (x, y), (x[:10], y[:10])

    monkeypatch.setattr(keras.datasets, "fashion_mnist", FakeFashion)
    monkeypatch.setattr(data, "_download", REAL_DOWNLOAD)
    ds = data.load_dataset("fashion_mnist")
    cached = data_dir / "fashion_mnist.npz"
    assert cached.exists() and ds.path == cached
    with np.load(cached, allow_pickle=False) as f:
        assert sorted(f.files) == sorted(data.KEYS) and all(f[k].dtype == np.uint8 for k in f.files)
    data._load_archive.cache_clear()
    np.testing.assert_array_equal(data.load_dataset("fashion_mnist").x_train, x)
    assert calls == [1]  # the second load read the cache


def test_real_download_failure_becomes_a_clear_error(data_dir, monkeypatch):
    import keras

    class Broken:
        @staticmethod
        def load_data():
            raise OSError("[Errno 101] Network is unreachable")

    monkeypatch.setattr(keras.datasets, "mnist", Broken)
    monkeypatch.setattr(data, "_download", REAL_DOWNLOAD)
    with pytest.raises(DataNotFoundError, match="download failed.*Network is unreachable"):
        data.load_dataset("mnist")


# ---------------------------------------------------------------- errors


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(UnknownDatasetError) as e:
        data.load_dataset("imagenet")
    assert "mnist, fashion_mnist, cifar10" in str(e.value)


def test_offline_without_a_file_fails_fast_and_says_where_it_looked(data_dir):
    t0 = time.perf_counter()
    with pytest.raises(DataNotFoundError) as e:
        data.load_dataset("fashion_mnist")
    msg = str(e.value)
    assert (
        str(data_dir / "fashion_mnist.npz") in msg
        and str(data_dir / "repo-data" / "fashion_mnist.npz") in msg
    )
    assert "GANCOURSE_DATA_DIR" in msg and "x_train" in msg
    assert time.perf_counter() - t0 < 5
    with pytest.raises(DataNotFoundError, match="download=False"):
        data.load_dataset("fashion_mnist", download=False)


def test_a_file_that_is_not_an_archive(data_dir):
    (data_dir / "mnist.npz").write_bytes(b"<html>404 not found</html>")
    with pytest.raises(CorruptDataError, match="not a valid .npz archive"):
        data.load_dataset("mnist")


def test_a_truncated_archive(data_dir):
    path = write(data_dir, "mnist")
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(CorruptDataError, match="not a valid .npz archive"):
        data.load_dataset("mnist")


def test_missing_keys_are_named(data_dir):
    write(data_dir, "mnist", y_test=None)
    with pytest.raises(CorruptDataError, match="missing the array.*y_test"):
        data.load_dataset("mnist")


def test_wrong_dtype(data_dir):
    x, _ = synthetic_images(50, (28, 28), 1)
    write(data_dir, "mnist", x_train=x.astype("float32") / 255)
    with pytest.raises(CorruptDataError, match="must be uint8"):
        data.load_dataset("mnist")


def test_wrong_shape(data_dir):
    x, _ = synthetic_images(50, (32, 32, 3), 1)
    write(data_dir, "fashion_mnist", x_train=x)
    with pytest.raises(CorruptDataError, match=r"needs \(N, 28, 28\)"):
        data.load_dataset("fashion_mnist")


def test_label_count_mismatch(data_dir):
    write(data_dir, "mnist", y_train=np.zeros(7, np.uint8))
    with pytest.raises(CorruptDataError, match="50 train images but 7 labels"):
        data.load_dataset("mnist")


def test_labels_out_of_range(data_dir):
    y = np.full(50, 12, np.uint8)
    write(data_dir, "mnist", y_train=y)
    with pytest.raises(CorruptDataError, match="labels from 12 to 12.*classes 0..9"):
        data.load_dataset("mnist")


def test_pickled_objects_are_refused(data_dir):
    x, y = synthetic_images(5, (28, 28), 1)
    objects = np.array([{"evil": 1}] * 5, dtype=object)
    np.savez(data_dir / "mnist.npz", x_train=objects, y_train=y, x_test=x, y_test=y)
    with pytest.raises(CorruptDataError, match="pickled Python objects"):
        data.load_dataset("mnist")


def test_all_data_errors_share_one_base_class():
    for cls in (UnknownDatasetError, DataNotFoundError, CorruptDataError):
        assert issubclass(cls, DataError)


# ---------------------------------------------------------------- info and pipelines


def test_dataset_info_reports_shapes_and_class_counts(data_dir):
    write(data_dir, "fashion_mnist", 80, 20)
    info = data.dataset_info("fashion_mnist")
    assert info["train"]["images"] == (80, 28, 28) and info["test"]["labels"] == (20,)
    assert sum(info["train"]["class_counts"].values()) == 80
    assert list(info["train"]["class_counts"])[0] == "T-shirt/top"
    assert 0 < info["train"]["pixel_mean"] < 1


@pytest.mark.parametrize("shape,expected", [((28, 28), (28, 28, 1)), ((32, 32, 3), (32, 32, 3))])
def test_pipeline_range_shape_dtype_and_batches(shape, expected):
    x, y = synthetic_images(100, shape, 5)
    x[0] = 0
    x[1] = 255
    ds = data.make_pipeline(x, batch_size=32, shuffle=False)
    batches = list(ds.as_numpy_iterator())
    assert len(batches) == 3  # 100 // 32, remainder dropped
    first = batches[0]
    assert first.shape == (32,) + expected and first.dtype == np.float32
    assert first.min() == -1.0 and first.max() == 1.0
    np.testing.assert_allclose(first[2], data.to_model_range(x[2:3])[0])


def test_pipeline_with_labels_subset_and_shuffle():
    x, y = synthetic_images(100, (28, 28), 6)
    ds = data.make_pipeline(x, y, batch_size=10, subset=40, seed=1)
    batches = list(ds.as_numpy_iterator())
    assert len(batches) == 4
    images, labels = batches[0]
    assert images.shape == (10, 28, 28, 1) and labels.dtype == np.int32
    all_labels = np.concatenate([b[1] for b in batches])
    assert sorted(all_labels.tolist()) == sorted(y[:40].tolist())  # the subset, shuffled
    assert not np.array_equal(all_labels, y[:40])


def test_pipeline_rejects_bad_input():
    with pytest.raises(CorruptDataError, match="uint8 images"):
        data.make_pipeline(np.zeros((10, 28, 28), np.float32))
    with pytest.raises(CorruptDataError, match="10 images but 3 labels"):
        data.make_pipeline(np.zeros((10, 28, 28), np.uint8), np.zeros(3))
    with pytest.raises(ValueError, match="larger than the 10 images"):
        data.make_pipeline(np.zeros((10, 28, 28), np.uint8), batch_size=64)


def test_uint8_round_trip():
    x, _ = synthetic_images(4, (28, 28), 7)
    np.testing.assert_array_equal(data.to_uint8(data.to_model_range(x))[..., 0], x)


def test_cluster_labels_find_the_classes_of_well_separated_images_and_repeat():
    x, y = synthetic_images(600, (28, 28), seed=3)  # ten bars at ten angles
    labels = data.cluster_labels(x, 10, seed=0)
    assert labels.shape == (600,) and labels.dtype == np.int32 and labels.max() <= 9
    # purity: the share of images whose cluster's commonest class is their own
    purity = sum(np.bincount(y[labels == j]).max() for j in np.unique(labels)) / len(y)
    assert purity > 0.9
    np.testing.assert_array_equal(labels, data.cluster_labels(x, 10, seed=0))
    for k in (1, 601, 2.5, True):
        with pytest.raises(ConfigError, match="number of clusters"):
            data.cluster_labels(x, k)
    with pytest.raises(CorruptDataError, match="uint8"):
        data.cluster_labels(x.astype(np.float32), 10)
    same = data.cluster_labels(np.zeros((20, 28, 28), np.uint8), 3)  # nothing to tell apart
    assert same.shape == (20,) and same.max() <= 2


def test_cluster_chain_visits_every_cluster_once_stepping_to_similar_ones():
    x, _ = synthetic_images(600, (28, 28), seed=3)
    labels = data.cluster_labels(x, 10, seed=0)
    chain = data.cluster_chain(x, labels, 10)
    assert sorted(chain.tolist()) == list(range(10))
    points = x.reshape(len(x), -1) / 255.0
    centres = np.stack([points[labels == j].mean(axis=0) for j in range(10)])
    d = np.linalg.norm(centres[:, None] - centres[None], axis=-1)
    steps = d[chain[:-1], chain[1:]]
    assert steps.mean() < d[np.triu_indices(10, 1)].mean()  # neighbours closer than average
