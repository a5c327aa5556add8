"""Robustness: damaged dataset archives beyond the zip header, a dataset cache that cannot be
written, inputs the Python API refuses with a clear message (NaN images, things that are not
generators, data of the wrong shape, batches larger than the data), and the TensorBoard
logs of every run folder."""

import errno
import io
import os
import struct
import subprocess
import sys
import tracemalloc
import zipfile

import numpy as np
import pytest

import gancourse as gc
from conftest import synthetic_images
from gancourse import cli, data
from gancourse.errors import (
    ConfigError,
    CorruptDataError,
    DataNotFoundError,
    MetricError,
    ModelError,
)

REAL_DOWNLOAD = data._download


def arrays(n_train=50, n_test=20):
    x_train, y_train = synthetic_images(n_train, (28, 28), 1)
    x_test, y_test = synthetic_images(n_test, (28, 28), 2)
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


def npy_bytes(array):
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def write_members(path, members, compression=zipfile.ZIP_STORED):
    """An .npz written member by member, so that a test can put anything into one."""
    with zipfile.ZipFile(path, "w", compression) as z:
        for name, payload in members.items():
            z.writestr(name, payload)
    return path


def member_data_offset(path, member):
    """Where the (possibly compressed) bytes of ``member`` start in the file."""
    info = zipfile.ZipFile(path).getinfo(member)
    with open(path, "rb") as f:
        f.seek(info.header_offset)
        header = f.read(30)
    name_len, extra_len = struct.unpack("<HH", header[26:30])
    return info.header_offset + 30 + name_len + extra_len, info.compress_size


def damage(path, offset, length):
    raw = bytearray(path.read_bytes())
    raw[offset : offset + length] = bytes((b ^ 0x5A) for b in raw[offset : offset + length])
    path.write_bytes(bytes(raw))


def cli_error(capsys, name="mnist"):
    """Run ``gancourse data info NAME``; return (exit code, stderr lines)."""
    code = cli.main(["data", "info", name])
    err = capsys.readouterr().err
    return code, err.strip().splitlines()


# =========================================================================== damaged archives


def test_a_flipped_bit_in_a_stored_member_fails_its_crc(data_dir, capsys):
    path = data_dir / "mnist.npz"
    np.savez(path, **arrays())
    start, size = member_data_offset(path, "x_train.npy")
    damage(path, start + size // 2, 16)  # image bytes: the .npy header is intact
    with pytest.raises(CorruptDataError, match="damaged .npz archive.*CRC") as e:
        data.load_dataset("mnist")
    assert str(path) in str(e.value) and "download a fresh copy" in str(e.value)
    code, lines = cli_error(capsys)
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error:") and "CRC" in lines[0]


def test_a_damaged_compressed_member(data_dir, capsys):
    path = data_dir / "mnist.npz"
    np.savez_compressed(path, **arrays(500, 20))
    start, size = member_data_offset(path, "x_train.npy")
    damage(path, start + size // 3, 64)  # inside the deflate stream
    with pytest.raises(CorruptDataError, match="damaged .npz archive: it could not be read"):
        data.load_dataset("mnist")
    code, lines = cli_error(capsys)
    assert code == 2 and len(lines) == 1 and "damaged" in lines[0]


def test_a_member_that_is_not_a_npy_array(data_dir, capsys):
    members = {f"{k}.npy": npy_bytes(v) for k, v in arrays().items()}
    members["x_train.npy"] = b"these are not the images you are looking for"
    write_members(data_dir / "mnist.npz", members)
    with pytest.raises(CorruptDataError, match="member x_train.npy is not a .npy array"):
        data.load_dataset("mnist")
    code, lines = cli_error(capsys)
    assert code == 2 and len(lines) == 1 and "not a .npy array" in lines[0]


def absurd_header(shape, payload=b"\0" * 1000):
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "|u1", "fortran_order": False, "shape": shape}
    )
    return header.getvalue() + payload  # the header starts with the magic string


def test_an_absurd_declared_size_is_refused_before_allocating(data_dir, capsys):
    members = {f"{k}.npy": npy_bytes(v) for k, v in arrays().items()}
    members["x_train.npy"] = absurd_header((10**9, 28, 28))  # 784 GB
    write_members(data_dir / "mnist.npz", members, zipfile.ZIP_DEFLATED)
    with pytest.raises(
        CorruptDataError,
        match=r"x_train declares a \(1000000000, 28, 28\) uint8 "
        r"array of 784,000,000,000 bytes, more than",
    ):
        data.load_dataset("mnist")
    code, lines = cli_error(capsys)
    assert code == 2 and len(lines) == 1 and "declares" in lines[0]


def test_a_size_larger_than_the_member_is_refused_before_allocating(data_dir):
    members = {f"{k}.npy": npy_bytes(v) for k, v in arrays().items()}
    members["x_train.npy"] = absurd_header((200_000, 28, 28))  # 157 MB declared, 1 kB stored
    write_members(data_dir / "mnist.npz", members)
    tracemalloc.start()
    try:
        with pytest.raises(CorruptDataError, match="156,800,000 bytes, but the member holds 1,000"):
            data.load_dataset("mnist")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20e6


def test_pickled_object_members_are_still_refused(data_dir):
    members = {f"{k}.npy": npy_bytes(v) for k, v in arrays().items()}
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.array([{"evil": 1}] * 3, dtype=object), allow_pickle=True)
    members["y_train.npy"] = buffer.getvalue()
    write_members(data_dir / "mnist.npz", members)
    with pytest.raises(CorruptDataError, match="pickled Python objects"):
        data.load_dataset("mnist")


def test_cli_reports_a_damaged_archive_in_one_line_without_a_traceback(data_dir):
    path = data_dir / "mnist.npz"
    np.savez(path, **arrays())
    start, size = member_data_offset(path, "y_test.npy")
    damage(path, start + size - 4, 2)
    run = subprocess.run(
        [sys.executable, "-m", "gancourse.cli", "data", "info", "mnist"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "GANCOURSE_DATA_DIR": str(data_dir)},
    )
    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr and len(run.stderr.strip().splitlines()) == 1
    assert run.stderr.startswith(f"error: {path} is a damaged .npz archive")


@pytest.mark.parametrize(
    "code,says", [(errno.ENOSPC, "disk is full"), (errno.EROFS, "not writable")]
)
def test_a_download_whose_cache_write_fails_leaves_no_partial_file(
    data_dir, monkeypatch, capsys, code, says
):
    import keras

    x, y = synthetic_images(30, (28, 28), 4)

    class FakeMnist:  # stands in for keras.datasets.mnist
        @staticmethod
        def load_data():
            return (x, y), (x[:10], y[:10])

    def failing_savez(file, **arrays):
        with open(file, "wb") as f:
            f.write(b"PK\x03\x04 half an archive")  # the write starts, then the disk fails
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(keras.datasets, "mnist", FakeMnist)
    monkeypatch.setattr(data, "_download", REAL_DOWNLOAD)
    monkeypatch.setattr(np, "savez_compressed", failing_savez)
    with pytest.raises(DataNotFoundError, match=f"Downloaded mnist but could not cache it.*{says}"):
        data.load_dataset("mnist")
    assert [p.name for p in data_dir.iterdir() if p.is_file()] == []  # no .npz, no .partial
    exit_code, lines = cli_error(capsys)
    assert exit_code == 2 and len(lines) == 1 and "GANCOURSE_DATA_DIR" in lines[0]


# =========================================================================== Python API inputs


def test_make_pipeline_refuses_a_batch_larger_than_the_data():
    x, _ = synthetic_images(100, (28, 28), 5)
    with pytest.raises(ConfigError, match="batch_size 64 is larger than the 10 images"):
        data.make_pipeline(x[:10], batch_size=64)
    with pytest.raises(
        ConfigError,
        match=r"batch_size 64 is larger than the 20 images "
        r"\(subset=20 of 100\)",
    ):
        data.make_pipeline(x, batch_size=64, subset=20)
    with pytest.raises(ConfigError, match="batch_size must be a whole number"):
        data.make_pipeline(x, batch_size=0)
    assert data.make_pipeline(x[:10], batch_size=64, drop_remainder=False) is not None


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_evaluation_refuses_nan_and_infinite_images(bad):
    images = np.zeros((20, 28, 28, 1), np.float32)
    images[3, 5, 5, 0] = bad
    with pytest.raises(MetricError, match="1 of 20 images in a batch contain NaN or infinite"):
        gc.evaluation.evaluate_images(images, "fashion_mnist", n_reference=20)
    with pytest.raises(MetricError, match="NaN or infinite"):
        gc.evaluation.class_histogram(images, "fashion_mnist")


def test_metrics_refuse_nan_features():
    f = np.random.default_rng(0).standard_normal((50, 4))
    g = f.copy()
    g[7, 1] = np.nan
    for metric in (
        gc.metrics.fid_from_features,
        gc.metrics.kid_from_features,
        gc.metrics.precision_recall,
    ):
        with pytest.raises(MetricError, match="contains NaN or infinite values.*diverged"):
            metric(f, g)


@pytest.fixture(scope="module")
def small_models():
    from gancourse import models

    g = models.dcgan_generator(8, (28, 28, 1), width=16)
    d = models.dcgan_discriminator((28, 28, 1), width=8)
    import keras

    z = keras.Input((8,))
    to_vector = keras.Model(z, keras.layers.Dense(10)(z), name="latent_to_vector")
    gan = gc.GAN(g, d, seed=1)
    return {"generator": g, "discriminator": d, "vector": to_vector, "gan": gan}


@pytest.mark.parametrize("widget", ["latent_explorer", "interpolate"])
def test_widgets_say_they_expect_a_generator(small_models, widget):
    fn = getattr(gc.widgets, widget)
    with pytest.raises(ModelError, match=f"{widget} expects a generator.*not a str.*pretrained"):
        fn("dcgan-fashion_mnist", static=True)
    with pytest.raises(ModelError, match=r"inputs of shape \(None, 28, 28, 1\).*discriminator"):
        fn(small_models["discriminator"], static=True)
    with pytest.raises(ModelError, match=r"outputs shape \(None, 10\), which is not a batch of"):
        fn(small_models["vector"], static=True)
    with pytest.raises(ModelError, match=r"whole GAN: pass gan.sampling_generator\(\)"):
        fn(small_models["gan"], static=True)


def test_training_refuses_images_of_the_wrong_shape_before_fit(tmp_path):
    gan = gc.training.build_gan("dcgan", image_shape=(28, 28, 1), latent_dim=8)
    x, y = synthetic_images(16, (32, 32, 3), 6)
    run_dir = tmp_path / "run"
    with pytest.raises(
        ModelError,
        match=r"images of shape \(32, 32, 3\) but this GAN makes and "
        r"judges images of shape \(28, 28, 1\)",
    ):
        gc.train(gan, gc.make_pipeline(x, batch_size=8), epochs=1, run_dir=run_dir, progress=False)
    assert not run_dir.exists()  # refused before anything was written
    cgan = gc.training.build_gan("cgan", image_shape=(28, 28, 1), latent_dim=8)
    with pytest.raises(ModelError, match=r"\(32, 32, 3\).*\(28, 28, 1\)"):
        gc.train(cgan, gc.make_pipeline(x, y, batch_size=8), epochs=1, progress=False)
    x28, _ = synthetic_images(16, (28, 28), 6)
    with pytest.raises(ModelError, match=r"images of shape \(28, 28\) but"):  # no channel axis
        gc.train(gan, x28, epochs=1, progress=False)


# =========================================================================== TensorBoard


def read_events(folder):
    """{tag: [steps]} and {tag: [values]} of every summary in the event files of ``folder``;
    checks that each tag names the TensorBoard dashboard that shows it."""
    import tensorflow as tf

    steps, values, plugins = {}, {}, {}
    files = sorted(folder.glob("events.out.tfevents.*"))
    assert files, f"no event files in {folder}"
    for path in files:
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for v in event.summary.value:
                steps.setdefault(v.tag, []).append(event.step)
                values.setdefault(v.tag, []).append(tf.make_ndarray(v.tensor))
                if v.metadata.plugin_data.plugin_name:  # written with a tag's first record
                    plugins[v.tag] = v.metadata.plugin_data.plugin_name
    assert plugins == {tag: "images" if tag == "samples" else "scalars" for tag in steps}
    return steps, values


def test_tensorboard_itself_files_the_records_under_scalars_and_images(tmp_path):
    accumulator = pytest.importorskip(
        "tensorboard.backend.event_processing.plugin_event_accumulator"
    )
    x, _ = synthetic_images(32, (28, 28), 9)
    gc.train(
        gc.training.build_gan("gan", latent_dim=8),
        gc.make_pipeline(x, batch_size=16),
        epochs=1,
        run_dir=tmp_path,
        progress=False,
    )
    events = accumulator.EventAccumulator(str(tmp_path / "tensorboard"))
    events.Reload()
    assert "epoch/d_loss" in events.PluginTagToContent("scalars")
    assert "samples" in events.PluginTagToContent("images")


def test_every_run_folder_gets_tensorboard_scalars_and_sample_images(tmp_path, capfd):
    x, _ = synthetic_images(64, (28, 28), 7)
    gan = gc.training.build_gan("gan", latent_dim=8)
    run_dir = tmp_path / "run"
    gc.train(gan, gc.make_pipeline(x, batch_size=16), epochs=2, run_dir=run_dir, progress=False)
    steps, values = read_events(run_dir / "tensorboard")
    for name in ("d_loss", "g_loss", "d_real", "d_fake"):
        assert steps[f"epoch/{name}"] == [1, 2]
    history = gc.callbacks.load_history(run_dir)
    np.testing.assert_allclose(values["epoch/g_loss"], [r["g_loss"] for r in history], rtol=1e-6)
    assert steps["samples"] == [1, 2]
    width, height, png = values["samples"][0]  # tf.summary.image stores (width, height, PNG)
    assert png.startswith(b"\x89PNG") and int(width) > 28 and int(height) > 28
    out, err = capfd.readouterr()
    assert "tensorboard" not in (out + err).lower() and not err.strip()

    # resuming continues the curves; tensorboard=False writes none
    gc.train(gan, gc.make_pipeline(x, batch_size=16), epochs=3, run_dir=run_dir, progress=False)
    assert read_events(run_dir / "tensorboard")[0]["epoch/d_loss"] == [1, 2, 3]
    gc.train(
        gc.training.build_gan("gan", latent_dim=8),
        gc.make_pipeline(x, batch_size=16),
        epochs=1,
        run_dir=tmp_path / "quiet",
        progress=False,
        tensorboard=False,
    )
    assert not (tmp_path / "quiet" / "tensorboard").exists()


def test_tensorboard_logger_can_log_every_n_steps(tmp_path):
    """Every 2 steps with one step per graph call; with 4 steps per call, at the end of each
    call in which the count passed a multiple of 3 (two more epochs of 4 steps: 8, 12)."""
    from gancourse import callbacks as cb

    x, _ = synthetic_images(64, (28, 28), 8)
    gan = gc.training.build_gan("gan", latent_dim=8)
    for name, epochs, every, per_call, logged in (("a", 1, 2, 1, [2, 4]), ("b", 2, 3, 4, [8, 12])):
        gc.train(
            gan,
            gc.make_pipeline(x, batch_size=16),
            epochs=epochs,
            progress=False,
            sample_every=0,
            extra_callbacks=[cb.TensorBoardLogger(tmp_path / name, every_steps=every)],
            steps_per_call=per_call,
        )
        steps, _ = read_events(tmp_path / name)
        assert steps["batch/d_loss"] == logged and steps["epoch/d_loss"] == list(
            range(1, epochs + 1)
        )
    assert "samples" not in steps  # no grid callback, no image
