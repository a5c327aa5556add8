"""Course-wide settings: fast mode, seeding, quiet TensorFlow, where data and runs live.

Everything here is read from the environment so that a notebook, the CLI and the tests
behave the same way:

- ``GANCOURSE_FAST=1``      shrink every training run (used by the tests / CI).
- ``GANCOURSE_DATA_DIR``    folder searched first for ``<name>.npz`` dataset archives.
- ``GANCOURSE_RUNS_DIR``    where training runs (grids, GIFs, checkpoints) are written
                            (on Colab, ``setup_notebook(drive=True)`` sets it to a folder on
                            Google Drive, see :func:`keep_runs_on_drive`).
- ``GANCOURSE_DETERMINISTIC=1/0``  TensorFlow op determinism on or off (default: on without
                            a GPU, off with one; see :func:`determinism`).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import random
import sys
import warnings
from pathlib import Path

from .errors import ConfigError, OutputError

#: The course's public repository: Colab badges and the Colab install cell are built from it
#: (``tests/test_notebooks.py`` checks that every notebook agrees with it).
REPO_URL = "https://github.com/gancourse/gancourse"
REPO_BRANCH = "main"

#: Colab's working folder, where a notebook's files go and Google Drive is mounted (``drive/``).
#: Colab deletes everything under it when the runtime is recycled, except what is on Drive.
COLAB_ROOT = Path("/content")

#: Root of a source checkout (the folder holding ``pyproject.toml``), or None when the
#: package was installed from a wheel (e.g. ``pip install git+...`` on Colab).
REPO_ROOT: Path | None = (
    Path(__file__).resolve().parent.parent
    if (Path(__file__).resolve().parent.parent / "pyproject.toml").exists()
    else None
)


def is_fast() -> bool:
    """True when ``GANCOURSE_FAST`` is set to 1/true/yes (tests and CI)."""
    return os.environ.get("GANCOURSE_FAST", "").strip().lower() in _TRUE


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


def seed_everything(seed: int = 42, deterministic: bool | None = None) -> bool:
    """Seed Python, NumPy and TensorFlow (via ``keras.utils.set_random_seed``) and turn
    TensorFlow's op determinism on or off (see :func:`determinism`: ``None`` means
    ``GANCOURSE_DETERMINISTIC``, else on without a GPU and off with one). With it on, a
    seeded run repeats exactly. Returns whether it is on."""
    import keras
    import tensorflow as tf

    random.seed(seed)
    keras.utils.set_random_seed(seed)
    on = determinism(deterministic)
    if on:
        tf.config.experimental.enable_op_determinism()
    else:
        with contextlib.suppress(ImportError, AttributeError):  # not public API: best effort
            from tensorflow.python.framework import config as tf_config

            tf_config.disable_op_determinism()
    return on


def determinism(deterministic: bool | None = None) -> bool:
    """Whether seeded training should use TensorFlow's deterministic ops: ``deterministic``
    if given, else ``GANCOURSE_DETERMINISTIC`` (1/0, true/false, yes/no, on/off) if set, else
    on when no GPU is visible and off when one is. On a CPU the deterministic ops are exact
    and cost little; on a GPU they can slow training down, and some ops have no
    deterministic GPU version at all (TensorFlow then stops with an error)."""
    if deterministic is not None:
        return bool(deterministic)
    value = os.environ.get("GANCOURSE_DETERMINISTIC", "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    if value not in ("", "auto"):
        raise ConfigError(
            f"GANCOURSE_DETERMINISTIC must be 1 (deterministic ops), 0 (the fastest ops) or "
            f"auto (on without a GPU, off with one), not {value!r}. Set it again, e.g. "
            f"os.environ['GANCOURSE_DETERMINISTIC'] = '1'."
        )
    return not has_gpu()


def budget_clock(verbose: bool = True) -> str:
    """The clock an equal-time comparison should use: "cpu" without a GPU (the process's
    CPU time, which other programs on the machine do not eat into) and "wall" with one (the
    CPU then mostly waits for the GPU, so its time says little about the work done). Pass it
    to ``TimeBudget(seconds, clock=...)`` or ``train(..., budget_clock=...)``; ``verbose``
    prints the choice."""
    clock = "wall" if has_gpu() else "cpu"
    if verbose:
        print(
            "Time budgets count wall time (a GPU is doing the work: equal CPU time would not "
            "mean equal work)."
            if clock == "wall"
            else "Time budgets count CPU time (no GPU: other programs on the machine do not "
            "eat into it)."
        )
    return clock


def has_gpu() -> bool:
    """True when TensorFlow sees a GPU."""
    tf = quiet_tensorflow()
    return bool(tf.config.list_physical_devices("GPU"))


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


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


def setup_notebook(seed: int = 42, drive: bool = False) -> bool:
    """First call of every notebook: quiet TensorFlow, seed everything (op determinism on
    without a GPU, off with one, see :func:`determinism`), set matplotlib up, and print
    versions, the device and the mode. Returns ``is_fast()``.

    On Colab it also says where runs are written: ``drive=True`` keeps them on Google Drive
    (:func:`keep_runs_on_drive`), so they survive the runtime; without it, it prints the one
    line that does. Elsewhere ``drive`` changes nothing."""
    import platform

    tf = quiet_tensorflow()
    import keras
    import matplotlib

    from .version import __version__

    deterministic = seed_everything(seed)
    matplotlib.rcParams.update({"figure.dpi": 90, "axes.grid": False})
    _find_tensorboard()
    gpus = tf.config.list_physical_devices("GPU")
    print(
        f"Versions: gancourse {__version__}, TensorFlow {tf.__version__}, "
        f"Keras {keras.__version__}, Python {platform.python_version()}"
    )
    if gpus:
        print(
            f"Device: {len(gpus)} GPU(s) found - training runs there; the run times quoted in "
            f"this notebook were measured on 2 CPU cores (GPU times were not measured)."
        )
    else:
        print(
            "Device: no GPU - training runs on the CPU; the run times quoted are CPU times "
            "(on Colab: Runtime > Change runtime type > GPU)."
        )
    fast = is_fast()
    print(
        (
            "Mode: fast (GANCOURSE_FAST=1: tiny training runs, for testing)"
            if fast
            else "Mode: teaching (full training runs)"
        )
        + _determinism_note(deterministic, bool(gpus))
    )
    if drive:
        keep_runs_on_drive()
    elif on_colab() and not _on_drive(runs_dir()):
        print(
            f"Runs: {runs_dir().absolute()}, which Colab deletes when this runtime is recycled. "
            f"To keep them on Google Drive (and resume after a time-out), run this cell "
            f"with  FAST = gc.setup_notebook(drive=True)"
        )
    return fast


def on_colab() -> bool:
    """True in a Google Colab runtime (its ``google.colab`` package is imported or importable)."""
    if "google.colab" in sys.modules:
        return True
    try:
        return importlib.util.find_spec("google.colab") is not None
    except (ImportError, ValueError):
        return False


def drive_runs_dir() -> Path:
    """Where :func:`keep_runs_on_drive` keeps runs: ``MyDrive/gancourse/runs`` on the Google
    Drive mounted at ``/content/drive``, i.e. ``/content/drive/MyDrive/gancourse/runs``."""
    return COLAB_ROOT / "drive" / "MyDrive" / "gancourse" / "runs"


def keep_runs_on_drive() -> Path:
    """On Colab: mount Google Drive at ``/content/drive`` (Colab asks for permission) and set
    ``GANCOURSE_RUNS_DIR`` to :func:`drive_runs_dir`, so runs, checkpoints included, outlive
    the runtime and a notebook run again on a new runtime resumes them. Prints where runs
    go and returns that folder. Outside Colab it only says so and changes nothing."""
    if not on_colab():
        print(f"Not on Colab: no Google Drive to mount; runs are written to {runs_dir()}.")
        return runs_dir()
    from google.colab import drive

    mount = COLAB_ROOT / "drive"
    try:
        drive.mount(str(mount))
    except Exception as e:  # permission refused, time-out ...: Colab raises several kinds
        raise ConfigError(
            f"Google Drive could not be mounted at {mount} ({type(e).__name__}: {e}). Run "
            f"the cell again and allow access to your Drive, or run it with "
            f"gc.setup_notebook() to keep runs in {runs_dir().absolute()} (lost when the "
            f"runtime is recycled)."
        ) from None
    folder = drive_runs_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(
            f"Could not create the runs folder {folder} on Google Drive: "
            f"{e.strerror or e}. Check that your Drive has free space, then run the cell again."
        ) from None
    os.environ["GANCOURSE_RUNS_DIR"] = str(folder)
    print(
        f"Runs: {folder} (on your Google Drive: they outlive this runtime, and running the "
        f"notebook again resumes them)."
    )
    return folder


def _on_drive(path: Path) -> bool:
    return (COLAB_ROOT / "drive") in Path(path).absolute().parents


def _determinism_note(deterministic: bool, gpu: bool) -> str:
    """What :func:`setup_notebook` adds to its Mode line: op determinism on or off, and why."""
    forced = os.environ.get("GANCOURSE_DETERMINISTIC", "").strip().lower() not in ("", "auto")
    why = "GANCOURSE_DETERMINISTIC" if forced else ("a GPU" if gpu else "no GPU")
    if deterministic:
        return f"; deterministic ops ({why}: seeded runs repeat exactly)"
    return (
        f"; fastest ops, not deterministic ({why}: seeded runs differ slightly; "
        f"GANCOURSE_DETERMINISTIC=1 makes them repeat)"
    )


def _find_tensorboard():
    """Let ``%tensorboard`` find the program installed beside this Python: a kernel started
    as ``.venv/bin/jupyter lab`` (without activating the environment) has no ``.venv/bin``
    on its PATH, and the magic would say it cannot find TensorBoard."""
    import shutil

    beside = Path(sys.executable).parent / "tensorboard"
    if not shutil.which("tensorboard") and beside.exists():
        os.environ.setdefault("TENSORBOARD_BINARY", str(beside))
