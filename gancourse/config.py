"""Course-wide settings: fast mode, seeding, quiet TensorFlow, where data and runs live.

Everything here is read from the environment so that a notebook, the CLI and the tests
behave the same way:

- ``GANCOURSE_FAST=1``      shrink every training run (used by the tests / CI).
- ``GANCOURSE_DATA_DIR``    folder searched first for ``<name>.npz`` dataset archives.
- ``GANCOURSE_RUNS_DIR``    where training runs (grids, GIFs, checkpoints) are written.
"""

from __future__ import annotations

import contextlib
import os
import random
import sys
import warnings
from pathlib import Path

#: The course's public repository: Colab badges and the Colab install cell are built from it
#: (``tests/test_notebooks.py`` checks that every notebook agrees with it).
REPO_URL = "https://github.com/gancourse/gancourse"
REPO_BRANCH = "main"

#: Root of a source checkout (the folder holding ``pyproject.toml``), or None when the
#: package was installed from a wheel (e.g. ``pip install git+...`` on Colab).
REPO_ROOT: Path | None = (
    Path(__file__).resolve().parent.parent
    if (Path(__file__).resolve().parent.parent / "pyproject.toml").exists()
    else None
)


def is_fast() -> bool:
    """True when ``GANCOURSE_FAST`` is set to 1/true/yes (tests and CI)."""
    return os.environ.get("GANCOURSE_FAST", "").strip().lower() in {"1", "true", "yes", "on"}


def data_dirs() -> list[Path]:
    """Folders searched for ``<name>.npz``, in order: ``GANCOURSE_DATA_DIR``, then the
    repository's ``data/`` (or ``~/.gancourse/data`` outside a checkout)."""
    dirs = []
    if os.environ.get("GANCOURSE_DATA_DIR"):
        dirs.append(Path(os.environ["GANCOURSE_DATA_DIR"]).expanduser())
    dirs.append(default_data_dir())
    return dirs


def default_data_dir() -> Path:
    """Where downloaded datasets are cached when no ``GANCOURSE_DATA_DIR`` is given."""
    if REPO_ROOT is not None:
        return REPO_ROOT / "data"
    return Path.home() / ".gancourse" / "data"


def cache_dir() -> Path:
    """Where a freshly downloaded dataset is written as ``<name>.npz``: the first search folder."""
    return data_dirs()[0]


def runs_dir() -> Path:
    """Where training runs are written: ``GANCOURSE_RUNS_DIR``, else the checkout's ``runs/``
    (so a notebook, whose working folder is ``notebooks/``, and the CLI started from the
    repository root find the same runs), else ``./runs``."""
    if os.environ.get("GANCOURSE_RUNS_DIR"):
        return Path(os.environ["GANCOURSE_RUNS_DIR"]).expanduser()
    return REPO_ROOT / "runs" if REPO_ROOT is not None else Path("runs")


def seed_everything(seed: int = 42, deterministic: bool = True) -> None:
    """Seed Python, NumPy and TensorFlow (via ``keras.utils.set_random_seed``) and, when
    ``deterministic``, turn on TensorFlow op determinism so a seeded run repeats exactly."""
    import keras
    import tensorflow as tf

    random.seed(seed)
    keras.utils.set_random_seed(seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()


@contextlib.contextmanager
def _stderr_fd_silenced():
    """Point file descriptor 2 at /dev/null for the duration (C++ logs bypass sys.stderr)."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real fd 2 (some embedded consoles): nothing to do
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def quiet_tensorflow():
    """Import TensorFlow without its start-up log lines and return the module.

    TensorFlow's C++ runtime writes straight to file descriptor 2, so in a notebook those
    lines land as stderr outputs of whatever cell is running. We set the log level before
    the import and hide fd 2 while it happens; Python-level TF/absl logging is set to ERROR.
    Note: we never set TF_ENABLE_ONEDNN_OPTS=0 - it would halve CPU speed.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "tensorflow" in sys.modules:
        import tensorflow as tf
    else:
        with _stderr_fd_silenced():
            import keras  # noqa: F401  (its import can print too)
            import tensorflow as tf
    tf.get_logger().setLevel("ERROR")
    with contextlib.suppress(Exception):
        import absl.logging

        absl.logging.set_verbosity(absl.logging.ERROR)
    warnings.filterwarnings(
        "ignore",
        module="keras.src.*",
        category=UserWarning,
        message=".*(input_shape|input_dim|build).*",
    )
    return tf


def colab_url(notebook_name: str) -> str:
    """The "Open in Colab" link of a notebook in ``notebooks/``."""
    path = REPO_URL.removeprefix("https://github.com/")
    return f"https://colab.research.google.com/github/{path}/blob/{REPO_BRANCH}/notebooks/{notebook_name}"


def setup_notebook(seed: int = 42) -> bool:
    """First call of every notebook: quiet TensorFlow, seed everything, set matplotlib up,
    and print versions, the device and the mode. Returns ``is_fast()``."""
    import platform

    tf = quiet_tensorflow()
    import keras
    import matplotlib

    from .version import __version__

    seed_everything(seed)
    matplotlib.rcParams.update({"figure.dpi": 90, "axes.grid": False})
    _find_tensorboard()
    gpus = tf.config.list_physical_devices("GPU")
    print(
        f"Versions: gancourse {__version__}, TensorFlow {tf.__version__}, "
        f"Keras {keras.__version__}, Python {platform.python_version()}"
    )
    if gpus:
        print(
            f"Device: {len(gpus)} GPU(s) found - training is several times faster than the CPU "
            f"times quoted in this notebook."
        )
    else:
        print(
            "Device: no GPU - training runs on the CPU; the run times quoted are CPU times "
            "(on Colab: Runtime > Change runtime type > GPU)."
        )
    fast = is_fast()
    print(
        "Mode: fast (GANCOURSE_FAST=1: tiny training runs, for testing)"
        if fast
        else "Mode: teaching (full training runs)"
    )
    return fast


def _find_tensorboard():
    """Let ``%tensorboard`` find the program installed beside this Python: a kernel started
    as ``.venv/bin/jupyter lab`` (without activating the environment) has no ``.venv/bin``
    on its PATH, and the magic would say it cannot find TensorBoard."""
    import shutil

    beside = Path(sys.executable).parent / "tensorboard"
    if not shutil.which("tensorboard") and beside.exists():
        os.environ.setdefault("TENSORBOARD_BINARY", str(beside))
