"""Test setup (for `pytest --nbval` from the repository root): every test and every notebook
run by nbval sees a small *synthetic* copy of the datasets in the real file layout
(``<name>.npz`` with uint8 ``x_train, y_train, x_test, y_test``), found through
``GANCOURSE_DATA_DIR``, and fast mode is on. So the real loading code is exercised and
nothing touches the network.

The environment is set at import time, before pytest starts any notebook kernel (nbval's
kernels inherit the pytest process's environment).
"""

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest

# Under pytest-xdist the controlling process writes the synthetic data once (pytest_configure
# runs before it starts its workers) and the workers, which inherit its environment, read it.
_SHARED = "GANCOURSE_TEST_DATA_DIR"
_OWNS_DATA = _SHARED not in os.environ
if _OWNS_DATA:
    os.environ[_SHARED] = tempfile.mkdtemp(prefix="gancourse-testdata-")
_FAKE_DIR = Path(os.environ[_SHARED])
_RUNS_DIR = Path(tempfile.mkdtemp(prefix="gancourse-runs-"))
os.environ["GANCOURSE_DATA_DIR"] = str(_FAKE_DIR)
os.environ["GANCOURSE_RUNS_DIR"] = str(_RUNS_DIR)
os.environ["GANCOURSE_FAST"] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# pytest-xdist runs one worker per core (``-n auto`` in pyproject.toml). Each worker and the
# notebook kernels it starts then gets its share of the cores for TensorFlow's thread pools,
# rather than every process starting a pool as wide as the machine.
_WORKERS = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
if _WORKERS > 1:
    _THREADS = str(max(1, (os.cpu_count() or 1) // _WORKERS))
    for _name in ("TF_NUM_INTRAOP_THREADS", "OMP_NUM_THREADS"):
        os.environ.setdefault(_name, _THREADS)

#: Same sizes as the real sets, so a notebook prints the same shapes in both modes.
SIZES = {"mnist": (60000, 10000), "fashion_mnist": (60000, 10000), "cifar10": (50000, 10000)}


def synthetic_images(n, shape, seed):
    """Class-structured images: class k is a bright bar at a class-dependent position and
    angle on a dark noisy background, so a classifier (or a GAN) has something to learn."""
    rng = np.random.default_rng(seed)
    y = rng.permutation(np.arange(n) % 10).astype(np.uint8)  # balanced classes
    h, w = shape[:2]
    yy, xx = np.mgrid[0:h, 0:w]
    x = rng.integers(0, 56, size=(n, h, w), dtype=np.uint8)  # bars reach 255, background 0
    for k in range(10):
        angle = np.pi * k / 10
        dist = np.abs((xx - w / 2) * np.sin(angle) - (yy - h / 2) * np.cos(angle))
        mask = (dist < 2.5) & (np.hypot(xx - w / 2, yy - h / 2) < (6 + k))
        x[y == k] += (200 * mask).astype(np.uint8)
    if len(shape) == 3:
        tint = np.array([1.0, 0.8, 0.6], np.float32)
        # x * tint per channel, through a 256-entry table (the same values, 10x faster)
        table = (np.arange(256, dtype=np.float32)[:, None] * tint).astype(np.uint8)
        x = table[x]
    return x, y


def write_fake_datasets(folder):
    """Write all three synthetic archives into ``folder`` (the real layout)."""
    from gancourse.data import DATASETS, save_archive

    for i, (name, (n_train, n_test)) in enumerate(SIZES.items()):
        shape = DATASETS[name].image_shape
        x_train, y_train = synthetic_images(n_train, shape, seed=10 + i)
        x_test, y_test = synthetic_images(n_test, shape, seed=20 + i)
        save_archive(Path(folder) / f"{name}.npz", x_train, y_train, x_test, y_test, compress=False)


def pytest_configure(config):
    if _OWNS_DATA:
        write_fake_datasets(_FAKE_DIR)


#: Test files and notebooks that take longest, longest first. pytest-xdist hands each worker a
#: whole file or notebook at a time, in collection order: a long one handed out last keeps one
#: worker busy while the other has nothing left to do.
LONGEST_FIRST = (
    "tests/test_translation.py",
    "tests/test_playground.py",
    "notebooks/04_wgan.ipynb",
    "tests/test_browser.py",
    "tests/test_stylegan.py",
    "tests/test_translate_cli.py",
    "notebooks/03_dcgan.ipynb",
    "notebooks/10_controllable_generation.ipynb",
    "notebooks/11_pix2pix.ipynb",
    "notebooks/12_cyclegan.ipynb",
    "notebooks/13_stylegan.ipynb",
    "tests/test_training.py",
    "tests/test_distribute.py",
    "notebooks/09_stabilising_gans.ipynb",
    "tests/test_stabilisation.py",
    "notebooks/08_evaluation.ipynb",
    "tests/test_runs.py",
    "notebooks/02_vanilla_gan.ipynb",
    "notebooks/01_gan_theory.ipynb",
    "notebooks/06_cifar10.ipynb",
)


def pytest_collection_modifyitems(config, items):
    def rank(item):
        path = item.nodeid.split("::")[0]
        return LONGEST_FIRST.index(path) if path in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: the order within a file or notebook stays as it is


def pytest_unconfigure(config):
    # The synthetic archives take about 150 MB: remove them (and the runs written during the
    # tests) so that repeated test runs do not fill the temporary folder.
    shutil.rmtree(_RUNS_DIR, ignore_errors=True)
    if _OWNS_DATA:
        shutil.rmtree(_FAKE_DIR, ignore_errors=True)


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """An empty folder as GANCOURSE_DATA_DIR, the repository's data/ replaced by an empty
    folder, and downloads that fail at once as they do offline (tests of the data layer)."""
    from gancourse import config, data

    monkeypatch.setenv("GANCOURSE_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(config, "default_data_dir", lambda: tmp_path / "repo-data")

    def offline(spec):
        raise data._not_found(spec, "the download failed (URLError: network is unreachable)")

    monkeypatch.setattr(data, "_download", offline)
    data._load_archive.cache_clear()
    yield tmp_path
    data._load_archive.cache_clear()
