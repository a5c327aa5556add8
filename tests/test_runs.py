"""Run folders: one run configuration, options checked before anything is written, resuming
refused with other options, and damaged run folders handled (the newest intact checkpoint
is used, history and checkpoint stay consistent, failed writes leave nothing behind)."""

import errno
import json
import math
import os

import numpy as np
import pytest

from gancourse import files
from gancourse.cli import main
from gancourse.errors import ConfigError, ModelError, OutputError
from gancourse.runs import RunConfig, load_config

TINY = ["--model", "dcgan", "--dataset", "fashion_mnist", "--subset", "128"]


@pytest.mark.parametrize(
    "options,message",
    [
        (dict(ema=1.5), "--ema must be a number in [0, 1)"),
        (dict(ema=math.nan), "--ema must be a number in [0, 1)"),
        (dict(ema=1.0), "--ema must be a number in [0, 1)"),
        (dict(seed=-1), "--seed must be a whole number between 0"),
        (dict(model="gan", scenario="weak-d"), "applies to --model dcgan only"),
        (dict(model="biggan"), "--model must be one of"),
        (dict(latent_dim=0), "--latent-dim must be a whole number between 1"),
        (dict(batch_size=2.5), "--batch-size must be a whole number"),
        (dict(lr_decay=1.5), "--lr-decay must be a share of the training in [0, 1]"),
        (dict(lr_decay=math.nan), "--lr-decay must be a share"),
        (dict(model="dcgan", projection=True), "applies to --model cgan only"),
        (dict(model="cgan", projection="yes"), "projection must be true or false"),
    ],
)
def test_out_of_range_options_are_refused(options, message):
    with pytest.raises(ConfigError) as e:
        RunConfig(**options)
    assert message in str(e.value)


def test_config_round_trip_and_differences(tmp_path):
    cfg = RunConfig(model="cgan", dataset="fashion-mnist", ema=0.999, seed=3)
    assert (
        cfg.dataset == "fashion_mnist" and cfg.image_shape == (28, 28, 1) and cfg.num_classes == 10
    )
    cfg.save(tmp_path)
    assert load_config(tmp_path) == cfg
    assert cfg.differences(RunConfig(model="cgan", ema=None, seed=3)) == {"ema": (0.999, None)}


@pytest.mark.parametrize(
    "text", ['{"model": "dcgan", "dataset": "fash', "[1, 2]", '{"model": "dcgan", "ema": 7}']
)
def test_a_damaged_config_json_is_reported_as_damaged(tmp_path, text):
    (tmp_path / "config.json").write_text(text)
    with pytest.raises(ConfigError, match="damaged"):
        load_config(tmp_path)


@pytest.mark.parametrize(
    "extra,message",
    [
        (["--ema", "1.5"], "--ema must be a number in [0, 1)"),
        (["--batch-size", "1000"], "--batch-size 1000 is larger than the 128 training images"),
        (["--scenario", "weak-d", "--model", "gan"], "applies to --model dcgan only"),
        (["--projection"], "applies to --model cgan only"),
    ],
)
def test_a_refused_command_leaves_no_run_folder(tmp_path, capsys, extra, message):
    run = tmp_path / "run"
    assert main(["train", *TINY, "--epochs", "1", "--out", str(run), *extra]) == 2
    assert message in capsys.readouterr().err
    assert not run.exists()


def test_out_that_is_a_file_is_refused(tmp_path, capsys):
    target = tmp_path / "file.txt"
    target.write_text("keep me")
    assert main(["train", *TINY, "--epochs", "1", "--out", str(target)]) == 2
    assert "is a file" in capsys.readouterr().err and target.read_text() == "keep me"
    assert main(["sample", "--pretrained", "dcgan-mnist", "--out", str(tmp_path)]) == 2
    assert "must name a .png file" in capsys.readouterr().err


def test_train_without_usable_data_leaves_no_run_folder(tmp_path, monkeypatch, capsys):
    data = tmp_path / "data"
    data.mkdir()
    (data / "fashion_mnist.npz").write_bytes(b"not an archive")
    monkeypatch.setenv("GANCOURSE_DATA_DIR", str(data))
    run = tmp_path / "run"
    assert main(["train", *TINY, "--epochs", "1", "--out", str(run)]) == 2
    assert "is not a valid .npz archive" in capsys.readouterr().err and not run.exists()


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """A 3-epoch run that keeps every checkpoint (copied by each test that damages it)."""
    run = tmp_path_factory.mktemp("runs") / "run"
    assert (
        main(["train", *TINY, "--epochs", "3", "--keep-checkpoints", "5", "--out", str(run)]) == 0
    )
    return run


def _copy(run, tmp_path):
    import shutil

    return shutil.copytree(run, tmp_path / "run")


def test_resuming_with_other_options_names_the_option(trained_run, tmp_path, capsys):
    run = _copy(trained_run, tmp_path)
    assert main(["train", *TINY, "--epochs", "4", "--ema", "0.99", "--out", str(run)]) == 2
    err = capsys.readouterr().err
    assert "--ema was none, now 0.99" in err and "choose another --out folder" in err
    assert load_config(run).ema is None  # nothing changed


@pytest.mark.parametrize("damage", ["truncate-data", "garble-index", "delete-data"])
def test_a_damaged_newest_checkpoint_falls_back_to_the_previous(
    trained_run, tmp_path, capsys, damage
):
    from gancourse.training import load_run

    run = _copy(trained_run, tmp_path)
    ckpt = run / "checkpoints"
    data = next(ckpt.glob("ckpt-3.data-*"))
    if damage == "truncate-data":
        data.write_bytes(data.read_bytes()[: data.stat().st_size // 2])
    elif damage == "garble-index":
        index = ckpt / "ckpt-3.index"
        raw = bytearray(index.read_bytes())
        raw[len(raw) // 3 : len(raw) // 3 + 64] = os.urandom(64)
        index.write_bytes(bytes(raw))
    else:
        data.unlink()
    gan, cfg, epoch = load_run(run)
    out = capsys.readouterr().out
    assert epoch == 2 and "ckpt-3 is damaged" in out and "Restored checkpoint ckpt-2" in out
    assert all(np.isfinite(w).all() for w in gan.generator.get_weights())
    # training resumes from epoch 2, and the history has each epoch exactly once
    assert (
        main(["train", *TINY, "--epochs", "4", "--keep-checkpoints", "5", "--out", str(run)]) == 0
    )
    assert [r["epoch"] for r in json.loads((run / "history.json").read_text())] == [1, 2, 3, 4]


def test_a_garbage_checkpoint_state_file_is_rebuilt(trained_run, tmp_path, capsys):
    from gancourse.training import load_run

    run = _copy(trained_run, tmp_path)
    (run / "checkpoints" / "checkpoint").write_text("\x00\x01 garbage {{{")
    _, _, epoch = load_run(run)
    assert epoch == 3


def test_when_every_checkpoint_is_damaged_the_message_says_damaged(trained_run, tmp_path):
    from gancourse.training import load_run

    run = _copy(trained_run, tmp_path)
    for data in (run / "checkpoints").glob("ckpt-*.data-*"):
        data.write_bytes(b"\x00" * 100)
    with pytest.raises(ModelError, match="is damaged") as e:
        load_run(run)
    assert "different architecture" not in str(e.value)


def test_history_killed_before_or_after_its_checkpoint(trained_run, tmp_path):
    from gancourse.callbacks import load_history

    run = _copy(trained_run, tmp_path)
    # a kill after the history row of epoch 3 but before checkpoint 3 was written
    for piece in (run / "checkpoints").glob("ckpt-3.*"):
        piece.unlink()
    state = run / "checkpoints" / "checkpoint"
    state.write_text(state.read_text().replace("ckpt-3", "ckpt-2"))
    assert (
        main(["train", *TINY, "--epochs", "3", "--keep-checkpoints", "5", "--out", str(run)]) == 0
    )
    assert [r["epoch"] for r in load_history(run)] == [1, 2, 3]
    # a truncated history.json falls back to history.csv
    (run / "history.json").write_text('[{"epoch": 1, "d_lo')
    assert [r["epoch"] for r in load_history(run)] == [1, 2, 3]


def test_sample_without_out_goes_into_the_run_folder(trained_run, tmp_path, monkeypatch):
    run = _copy(trained_run, tmp_path)
    monkeypatch.chdir(tmp_path)
    assert main(["sample", "--run", str(run), "--n", "8", "--seed", "5"]) == 0
    assert (run / "samples" / "seed5.png").exists() and not (tmp_path / "samples.png").exists()


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "history.json"
    target.write_text("old")

    def disk_full(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.os, "replace", disk_full)
    with pytest.raises(OutputError, match="disk is full") as e:
        files.write_text(target, "new")
    assert "run the same command again" in str(e.value)
    assert target.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == [
        "history.json"
    ]


def test_a_checkpoint_that_cannot_be_written_keeps_the_previous(trained_run, tmp_path, monkeypatch):
    import tensorflow as tf

    from gancourse.callbacks import Checkpoint
    from gancourse.training import load_run

    run = _copy(trained_run, tmp_path)
    gan, _, _ = load_run(run)
    ckpt = Checkpoint(run / "checkpoints", max_to_keep=5)
    ckpt.restore(gan, verbose=False)

    def disk_full(*args, **kwargs):
        raise tf.errors.ResourceExhaustedError(None, None, "No space left on device")

    monkeypatch.setattr(ckpt.manager, "save", disk_full)
    with pytest.raises(OutputError, match="disk is full"):
        ckpt.save(4)
    assert not list((run / "checkpoints").glob("ckpt-4*"))
    assert Checkpoint(run / "checkpoints").restore(gan) == 3


def test_stabilising_options_from_the_cli_reach_the_model_and_survive_a_resume(tmp_path, capsys):
    from gancourse.training import load_run

    run = tmp_path / "run"
    options = [
        "--spectral-norm",
        "--minibatch-std",
        "--loss",
        "hinge",
        "--r1-gamma",
        "1",
        "--r1-every",
        "2",
        "--augment",
        "color,translation",
        "--ema",
        "0.99",
        "--ema-warmup",
        "--upsampling",
        "nearest",
        "--g-lr",
        "1e-4",
        "--d-lr",
        "4e-4",
    ]
    assert main(["train", *TINY, "--epochs", "1", "--out", str(run), *options]) == 0
    cfg = load_config(run)
    assert (cfg.spectral_norm, cfg.minibatch_std, cfg.loss, cfg.r1_gamma, cfg.r1_every) == (
        True,
        True,
        "hinge",
        1.0,
        2,
    )
    gan, _, epoch = load_run(run)
    assert epoch == 1 and gan.loss_kind == "hinge" and gan.ema_generator is not None
    assert float(gan.g_optimizer.learning_rate) == pytest.approx(1e-4)
    assert float(gan.d_optimizer.learning_rate) == pytest.approx(4e-4)
    layer_types = {type(layer).__name__ for layer in gan.discriminator.layers}
    assert "SpectralNormalization" in layer_types and "MinibatchStdDev" in layer_types
    assert "UpSampling2D" in {type(layer).__name__ for layer in gan.generator.layers}
    # steps per graph call are not part of the config: a resume may change them
    resume = ["--epochs", "2", "--out", str(run), "--steps-per-call", "1", *options]
    assert main(["train", *TINY, *resume]) == 0
    assert "Resuming training at epoch 2" in capsys.readouterr().out
    assert main(["train", *TINY, "--epochs", "3", "--out", str(run), *options[:-2]]) == 2
    assert "--d-lr was 0.0004, now none" in capsys.readouterr().err


def test_projection_from_the_cli_reaches_the_cgan_and_a_resume_must_repeat_it(tmp_path, capsys):
    from gancourse.training import load_run

    run = tmp_path / "run"
    cgan = ["--model", "cgan", *TINY[2:], "--out", str(run)]
    assert main(["train", *cgan, "--epochs", "1", "--projection"]) == 0
    gan, cfg, epoch = load_run(run)
    assert cfg.projection and epoch == 1
    assert "label_projection" in [layer.name for layer in gan.discriminator.layers]
    assert main(["train", *cgan, "--epochs", "2"]) == 2
    assert "--projection was True, now False" in capsys.readouterr().err


def test_a_cpu_time_budget_ends_the_run_and_a_resume_respects_it(tmp_path, capsys):
    """The run stops within its budget (an epoch is cut short), its history records wall and
    CPU seconds that add up to the budget, and calling it again trains nothing more."""
    run = tmp_path / "run"
    budget = ["--time-budget", "2", "--budget-clock", "cpu", "--lr-decay", "0.5"]
    assert main(["train", *TINY, "--epochs", "500", "--out", str(run), *budget]) == 0
    rows = json.loads((run / "history.json").read_text())
    assert 1 <= len(rows) < 500
    assert all(r["cpu_seconds"] > 0 and r["seconds"] > 0 for r in rows)
    # each row is rounded to 0.01 s, so the rows may add up to a little less than the budget
    assert sum(r["cpu_seconds"] for r in rows) >= 2.0 - 0.005 * len(rows) - 1e-9
    assert load_config(run).lr_decay == 0.5
    capsys.readouterr()
    assert main(["train", *TINY, "--epochs", "500", "--out", str(run), *budget]) == 0
    assert "time budget of 2 s (cpu) is used up" in capsys.readouterr().out
    assert len(json.loads((run / "history.json").read_text())) == len(rows)
    # a larger budget resumes where the run stopped (larger than what was used, which can
    # exceed the budget by the last graph call: the first one includes tracing the graph)
    used = sum(r["cpu_seconds"] for r in rows)
    more = ["--time-budget", f"{used + 2:.2f}", "--budget-clock", "cpu", "--lr-decay", "0.5"]
    assert main(["train", *TINY, "--epochs", "500", "--out", str(run), *more]) == 0
    assert len(json.loads((run / "history.json").read_text())) > len(rows)


@pytest.mark.parametrize("value", ["0", "-3", "nan", "soon"])
def test_a_bad_time_budget_is_refused(tmp_path, capsys, value):
    with pytest.raises(SystemExit) as e:
        main(["train", *TINY, "--time-budget", value, "--out", str(tmp_path / "r")])
    assert e.value.code == 2
    assert "--time-budget" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_use_clusters_refuses_labels_that_do_not_fit_the_images_or_the_gan():
    from gancourse import training

    gan = training.build_gan("cgan", num_classes=3, seed=0)
    x = np.zeros((6, 28, 28), np.uint8)
    for bad, match in (
        (np.zeros(4, int), "one whole-number cluster per image"),
        (np.zeros(6), "one whole-number cluster per image"),  # floats
        (np.full(6, 3), "must be in 0..2, not 3..3"),
        (np.full(6, -1), "must be in 0..2, not -1..-1"),
    ):
        with pytest.raises(ModelError, match=match):
            training.use_clusters(gan, x, bad)
    training.use_clusters(gan, x, np.array([0, 0, 1, 1, 2, 2]))
    np.testing.assert_allclose(gan.cluster_prior, [1 / 3] * 3)
    assert sorted(gan.cluster_order.tolist()) == [0, 1, 2]


def test_a_cluster_conditioned_run_trains_samples_evaluates_and_exports(tmp_path, capsys):
    from gancourse import evaluation, models, pretrained
    from gancourse.training import load_run

    run = tmp_path / "run"
    plain = ["--model", "cgan", *TINY[2:], "--ema", "0.99", "--out", str(run)]
    cgan = [*plain, "--clusters", "5"]
    assert main(["train", *cgan, "--epochs", "1"]) == 0
    assert "Clustering the 128 training images into 5" in capsys.readouterr().out
    record = json.loads((run / "clusters.json").read_text())
    assert sum(record["counts"]) == 128 and sorted(record["order"]) == list(range(5))
    gan, cfg, _ = load_run(run)
    assert cfg.num_classes == 5 and gan.num_classes == 5
    assert gan.cluster_prior.sum() == pytest.approx(1.0)
    assert models.latent_dim_of(gan.sampling_generator()) == 101  # unconditional: z + 1
    assert gan.generate(4, seed=0).shape == (4, 28, 28, 1)
    np.testing.assert_array_equal(gan.generate(4, seed=0), gan.generate(4, seed=0))
    assert gan.generate(2, labels=[0, 4]).shape == (2, 28, 28, 1)  # one cluster asked for
    one = tmp_path / "cluster3.png"  # the CLI asks for one cluster with --label
    assert main(["sample", "--run", str(run), "--n", "4", "--label", "3", "--out", str(one)]) == 0
    assert one.is_file()
    assert main(["sample", "--run", str(run), "--label", "5", "--out", str(one)]) == 2
    assert "--label must be in 0..4" in capsys.readouterr().err
    report = evaluation.evaluate_generator(gan, "fashion_mnist", n=200, kid_subset_size=100)
    assert "label_accuracy" not in report and np.isfinite(report["fid"])
    path = pretrained.export(run, "clustered", command="test", directory=tmp_path / "shipped")
    entry = pretrained.info("clustered", tmp_path / "shipped")
    assert entry["builder"] == "clustered_generator" and entry["max_abs_diff"] < 0.02
    assert entry["ema_weights"]  # the wrapper draws with the EMA generator
    assert entry["kwargs"]["prior"] == pytest.approx(list(gan.cluster_prior))
    assert entry["kwargs"]["order"] == record["order"]
    assert pretrained.load("clustered", tmp_path / "shipped").input_shape == (None, 101)
    assert path.is_file()
    assert main(["train", *plain, "--epochs", "2"]) == 2  # resumed without --clusters
    assert "--clusters was 5, now none" in capsys.readouterr().err
    (run / "clusters.json").write_text("{")
    with pytest.raises(ModelError, match="clusters.json is missing or damaged"):
        load_run(run)


# ---------------------------------------------------------------- one run folder, one writer
HOLD_LOCK = """
import sys, time
from gancourse.runs import run_lock
with run_lock(sys.argv[1]):
    time.sleep(300)
"""


def _hold_lock_in_another_process(run):
    """A real second process holding ``run``'s lock, returned once the lock exists."""
    import subprocess
    import sys
    import time

    proc = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(run)])
    deadline = time.monotonic() + 60
    while not (run / ".lock").exists():
        assert proc.poll() is None, "the process holding the lock ended early"
        assert time.monotonic() < deadline, "the other process did not take the lock"
        time.sleep(0.05)
    return proc


def test_a_run_being_trained_by_another_process_is_refused_then_taken_over(
    trained_run, tmp_path, capsys
):
    import signal
    import socket

    from gancourse.data import load_dataset, make_pipeline
    from gancourse.errors import GancourseError
    from gancourse.training import load_run, train

    run = _copy(trained_run, tmp_path)
    assert not (run / ".lock").exists()  # the training that wrote it released its lock
    proc = _hold_lock_in_another_process(run)
    try:
        gan, cfg, _ = load_run(run)
        data = make_pipeline(load_dataset("fashion_mnist").x_train[:128], batch_size=64)
        with pytest.raises(GancourseError) as e:
            train(gan, data, 4, run_dir=run, config=cfg, progress=False)
        message = str(e.value)
        assert f"process {proc.pid} on {socket.gethostname()}" in message
        assert "started 20" in message and "another folder" in message
        # reading the run while it is being written is allowed
        grid = tmp_path / "grid.png"
        assert main(["sample", "--run", str(run), "--n", "8", "--out", str(grid)]) == 0
        assert main(["evaluate", "--run", str(run), "--n", "200"]) == 0
        capsys.readouterr()
        # the CLI goes through train(): refused too, and the other process's folder stays
        assert main(["train", *TINY, "--epochs", "4", "--out", str(run)]) == 2
        assert f"process {proc.pid}" in capsys.readouterr().err
        assert (run / ".lock").exists() and load_config(run) == cfg
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    # the killed process left its lock behind: the next training takes it over with a note
    assert (run / ".lock").exists()
    assert main(["train", *TINY, "--epochs", "4", "--out", str(run)]) == 0
    out = capsys.readouterr().out
    assert f"taking over the lock of {run}" in out and f"process {proc.pid}" in out
    assert "no longer runs" in out and "Resuming training at epoch 4" in out
    assert not (run / ".lock").exists()


def test_a_lock_from_another_machine_is_refused_until_it_is_stale(tmp_path, capsys):
    import time

    from gancourse.errors import RunInUseError
    from gancourse.runs import LOCK_STALE_AFTER, run_lock

    lock = tmp_path / ".lock"
    lock.write_text(
        json.dumps({"host": "another-machine", "pid": 1, "started": "2026-01-01T10:00:00+00:00"})
    )
    with pytest.raises(RunInUseError) as e, run_lock(tmp_path):
        pass
    message = str(e.value)
    assert "process 1 on another-machine" in message and "2026-01-01T10:00:00" in message
    assert f"delete {lock}" in message and "another machine" in message
    old = time.time() - LOCK_STALE_AFTER - 60
    os.utime(lock, (old, old))  # not refreshed for longer than the stale age
    with run_lock(tmp_path):
        assert json.loads(lock.read_text())["pid"] == os.getpid()
    assert "taking over the lock" in capsys.readouterr().out
    assert not lock.exists()


def test_the_lock_is_released_on_errors_and_not_taken_twice_by_one_process(tmp_path, capsys):
    import socket

    from gancourse.errors import RunInUseError
    from gancourse.runs import run_lock

    for error in (KeyboardInterrupt, ValueError):
        with pytest.raises(error), run_lock(tmp_path):
            assert (tmp_path / ".lock").exists()
            raise error
        assert not (tmp_path / ".lock").exists()
    with run_lock(tmp_path), pytest.raises(RunInUseError), run_lock(tmp_path):
        pass
    # a lock with this process's number that this process does not hold was left by an
    # earlier process that had the same number (e.g. a restarted kernel)
    (tmp_path / ".lock").write_text(
        json.dumps({"host": socket.gethostname(), "pid": os.getpid(), "token": "earlier"})
    )
    with run_lock(tmp_path):
        pass
    assert "no longer runs" in capsys.readouterr().out
