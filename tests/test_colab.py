"""Colab and GPU readiness: runs kept on Google Drive (with a stand-in ``google.colab``, no
network), op determinism chosen by the device or GANCOURSE_DETERMINISTIC, and the clock of
equal-time comparisons."""

import sys
import types

import matplotlib
import pytest

import gancourse as gc
from gancourse import config
from gancourse.cli import main
from gancourse.errors import ConfigError, GancourseError


@pytest.fixture
def colab(tmp_path, monkeypatch):
    """A Colab runtime: a stand-in ``google.colab`` whose ``drive.mount`` records its calls and
    creates ``MyDrive`` at the mount point, ``/content`` (a temporary folder) as the working
    folder, and the package installed without a checkout (as the setup cell installs it)."""
    content = tmp_path / "content"
    content.mkdir()
    mounts = []

    def mount(mountpoint, **kwargs):
        mounts.append(mountpoint)
        (content / "drive" / "MyDrive").mkdir(parents=True, exist_ok=True)

    drive = types.ModuleType("google.colab.drive")
    drive.mount = mount
    colab = types.ModuleType("google.colab")
    colab.drive = drive
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    monkeypatch.setitem(sys.modules, "google.colab.drive", drive)
    monkeypatch.setattr(config, "COLAB_ROOT", content)
    monkeypatch.setattr(config, "REPO_ROOT", None)
    monkeypatch.delenv("GANCOURSE_RUNS_DIR")
    monkeypatch.chdir(content)
    with matplotlib.rc_context():  # setup_notebook changes matplotlib's settings
        yield types.SimpleNamespace(content=content, mounts=mounts, drive=drive)


def test_on_colab_drive_keeps_runs_on_drive_and_resumes_them_there(colab, capsys):
    assert gc.setup_notebook(drive=True) is True  # fast mode in the tests
    runs = colab.content / "drive" / "MyDrive" / "gancourse" / "runs"
    assert colab.mounts == [str(colab.content / "drive")]
    assert config.runs_dir() == runs == config.drive_runs_dir()
    assert f"Runs: {runs} (on your Google Drive" in capsys.readouterr().out
    train = ["train", "--model", "gan", "--subset", "64", "--batch-size", "32"]
    assert main([*train, "--epochs", "1"]) == 0
    assert main([*train, "--epochs", "2"]) == 0  # a new session resumes from Drive
    assert "Resuming training at epoch 2" in capsys.readouterr().out
    assert (runs / "gan-fashion_mnist" / "samples" / "epoch_0002.png").exists()
    drive = colab.content / "drive"
    outside = [p for p in colab.content.rglob("*") if p != drive and drive not in p.parents]
    assert outside == []  # nothing written under /content but on Drive


def test_on_colab_without_drive_setup_prints_the_line_that_keeps_runs(colab, capsys):
    gc.setup_notebook()
    out = capsys.readouterr().out
    hint = [line for line in out.splitlines() if line.startswith("Runs:")]
    assert len(hint) == 1 and str(colab.content / "runs") in hint[0]
    assert "Colab deletes" in hint[0] and "gc.setup_notebook(drive=True)" in hint[0]
    assert colab.mounts == [] and "GANCOURSE_RUNS_DIR" not in config.os.environ


def test_a_drive_that_cannot_be_mounted_is_a_clear_error(colab):
    def refuse(mountpoint, **kwargs):
        raise ValueError("mount failed")

    colab.drive.mount = refuse
    with pytest.raises(ConfigError, match="Google Drive could not be mounted") as e:
        config.keep_runs_on_drive()
    assert "allow access" in str(e.value) and "GANCOURSE_RUNS_DIR" not in config.os.environ


def test_outside_colab_setup_prints_no_runs_line(monkeypatch, tmp_path, capsys):
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    monkeypatch.setenv("GANCOURSE_RUNS_DIR", str(tmp_path))
    assert not config.on_colab()
    with matplotlib.rc_context():
        gc.setup_notebook()
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == ["Versions", "Device", "Mode"]
    config.keep_runs_on_drive()  # outside Colab: says so and changes nothing
    assert "Not on Colab" in capsys.readouterr().out and config.runs_dir() == tmp_path


# ------------------------------------------------------------------- determinism and clocks
@pytest.fixture
def device(monkeypatch):
    """``device("gpu")`` makes TensorFlow report one GPU, ``device("cpu")`` none; op
    determinism is restored afterwards."""
    import tensorflow as tf
    from tensorflow.python.framework import config as tf_config

    before = tf_config.is_op_determinism_enabled()
    real = tf.config.list_physical_devices

    def choose(kind):
        gpus = [tf.config.PhysicalDevice("/physical_device:GPU:0", "GPU")] if kind == "gpu" else []
        monkeypatch.setattr(
            tf.config,
            "list_physical_devices",
            lambda device_type=None: gpus if device_type == "GPU" else real(device_type),
        )
        return tf_config.is_op_determinism_enabled

    monkeypatch.delenv("GANCOURSE_DETERMINISTIC", raising=False)
    yield choose
    if before:
        tf.config.experimental.enable_op_determinism()
    else:
        tf_config.disable_op_determinism()


@pytest.mark.parametrize(
    "kind,env,expected",
    [
        ("cpu", None, True),
        ("gpu", None, False),
        ("cpu", "auto", True),
        ("gpu", "1", True),
        ("gpu", "yes", True),
        ("cpu", "0", False),
    ],
)
def test_determinism_is_on_without_a_gpu_off_with_one_and_the_setting_overrides(
    device, monkeypatch, kind, env, expected
):
    enabled = device(kind)
    if env is not None:
        monkeypatch.setenv("GANCOURSE_DETERMINISTIC", env)
    assert gc.seed_everything(0) is expected and enabled() is expected
    assert gc.seed_everything(0, deterministic=not expected) is (not expected)  # argument wins
    assert enabled() is (not expected)


def test_setup_says_which_determinism_it_chose(device, capsys):
    device("gpu")
    with matplotlib.rc_context():
        gc.setup_notebook()
    mode = [line for line in capsys.readouterr().out.splitlines() if line.startswith("Mode:")]
    assert "fastest ops, not deterministic (a GPU" in mode[0]
    assert "GANCOURSE_DETERMINISTIC=1" in mode[0]


def test_a_bad_determinism_setting_is_refused(device, monkeypatch):
    device("cpu")
    monkeypatch.setenv("GANCOURSE_DETERMINISTIC", "maybe")
    with pytest.raises(GancourseError, match="GANCOURSE_DETERMINISTIC must be 1"):
        gc.seed_everything(0)


@pytest.mark.parametrize("kind,clock", [("cpu", "cpu"), ("gpu", "wall")])
def test_equal_time_budgets_count_cpu_time_without_a_gpu_and_wall_time_with_one(
    device, capsys, kind, clock
):
    device(kind)
    assert config.budget_clock() == clock
    assert f"count {clock.replace('cpu', 'CPU')} time" in capsys.readouterr().out
    assert config.budget_clock(verbose=False) == clock and capsys.readouterr().out == ""
