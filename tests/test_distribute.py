"""Training under ``tf.distribute.MirroredStrategy`` (``train(..., strategy=)``, ``gancourse
train --strategy mirrored``), tested on CPU.

The CPU is split into two logical devices, so MirroredStrategy runs two replicas as it would
on two GPUs. That split must happen before TensorFlow sets up its devices, which the pytest
process has long done, so each two-replica check runs in a fresh Python (this file run as a
script: ``python tests/test_distribute.py <check>``) and reports back as JSON.
"""

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

HERE = Path(__file__).resolve()
ROOT = HERE.parent.parent


@pytest.fixture(scope="module")
def checks(tmp_path_factory):
    """Both two-replica checks, started together: most of their time is single-threaded
    tracing, so on two cores they run side by side."""
    run = tmp_path_factory.mktemp("mirrored") / "run"
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    )
    started = {
        name: subprocess.Popen(
            [sys.executable, str(HERE), name, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=ROOT,
        )
        for name, args in (("equivalence", ()), ("resume", (str(run),)))
    }
    yield started
    for process in started.values():
        if process.poll() is None:
            process.kill()
            process.communicate()


def result(checks, name, timeout=300):
    """The JSON result of ``check_<name>`` (run on two logical CPU devices)."""
    out, err = checks[name].communicate(timeout=timeout)
    assert checks[name].returncode == 0, f"{name} failed:\n{out[-3000:]}\n{err[-5000:]}"
    return json.loads(out.strip().splitlines()[-1])


# ---------------------------------------------------------------- tests (pytest process)


def test_one_mirrored_step_equals_one_step_on_the_global_batch(checks):
    """Two replicas, each on half of a batch, take the same step as one device on the whole
    batch: the gradients are averaged over the *global* batch, not summed over replicas.

    How the comparison is kept honest (see ``check_equivalence``):

    - both runs start from the same weights, see the same batches and the same latent
      vectors (``sample_noise`` is overridden to read a fixed table, each replica its own
      half), and WGAN-GP's interpolation weights are fixed at 0.3 (otherwise every replica
      draws its own, as it should);
    - no BatchNorm: under MirroredStrategy it normalises with per-replica batch statistics
      (Keras' default), which is a different function of the batch, so the models here are
      the course's discriminators without BatchNorm (``dcgan_discriminator(batchnorm=False)``,
      the WGAN-GP critic with LayerNorm, the conditional one with spectral normalisation)
      and a small generator without it;
    - plain SGD, so that a weight's change is the learning rate times its gradient (Adam
      divides by the gradient's own size, which would hide a wrong factor of 2);
    - two steps, and WGAN-GP with ``n_critic=2``: the second step also trains the generator,
      so both branches of the critic/generator schedule run under the strategy.
    """
    results = result(checks, "equivalence")
    for kind, r in results.items():
        assert r["replicas"] == 2
        # the steps moved the weights far more than the two runs differ (summing the
        # replicas' gradients instead of averaging them would double the change)
        assert r["max_change"] > 1e-3, (kind, r)
        assert r["max_diff"] < 1e-5 + 1e-3 * r["max_change"], (kind, r)
        # the reported losses are means over the global batch too
        for name, (one, two) in r["losses"].items():
            assert two == pytest.approx(one, rel=1e-4, abs=1e-5), (kind, name)
    assert results["wgan-gp"]["g_steps"] == 1 and results["wgan-gp"]["d_steps"] == 2


def test_a_mirrored_run_checkpoints_and_resumes(checks):
    """``gancourse train --strategy mirrored`` trains epoch 1 on two replicas; ``train`` resumes
    it to epoch 2 under the strategy; ``load_run`` restores it without one (a run does not
    depend on the strategy it was trained with). The replicas draw different noise."""
    r = result(checks, "resume")
    assert r["replicas"] == 2
    assert r["cli_exit"] == 0 and "MirroredStrategy on 2 replica(s)" in r["cli_out"]
    assert r["cli_epoch"] == 1
    assert "Resuming training at epoch 2" in r["resume_out"]
    assert r["history_epochs"] == [1, 2]
    assert r["restored_epoch"] == 2
    assert r["steps"] == [8, 8]  # 32 images, batches of 8, two epochs
    # lr_decay 0.5: the 8th and last step ran at (1 - 7/8) / 0.5 of the starting 2e-4
    assert r["learning_rate"] == pytest.approx(0.25 * 2e-4)
    assert r["restored_equal"], "load_run did not restore the weights the mirrored run saved"
    assert "strategy" not in r["config_keys"]
    assert r["replica_noise_differs"], "both replicas drew the same latent vectors"
    assert "multiple of 2" in r["odd_batch_error"]
    assert "multiple of 2" in r["odd_batch_cli"]


def test_make_strategy_and_the_cli_flag():
    from gancourse import cli, training
    from gancourse.errors import ModelError

    assert cli.STRATEGIES == training.STRATEGIES
    assert cli.STEPS_PER_CALL == training.STEPS_PER_CALL
    assert cli._parser().parse_args(["train"]).steps_per_call == training.STEPS_PER_CALL
    with pytest.raises(SystemExit):
        cli._parser().parse_args(["train", "--steps-per-call", "0"])
    assert cli._parser().parse_args(["train", "--strategy", "mirrored"]).strategy == "mirrored"
    assert cli._parser().parse_args(["train"]).strategy == "default"
    with pytest.raises(SystemExit):
        cli._parser().parse_args(["train", "--strategy", "tpu"])
    with pytest.raises(ModelError, match="Unknown strategy 'tpu'"):
        training.make_strategy("tpu")
    assert training.make_strategy("default").num_replicas_in_sync == 1


def test_a_gan_built_outside_the_strategy_is_refused():
    """``train(..., strategy=)`` needs the GAN's variables made in the strategy's scope; a
    GAN built elsewhere (or re-compiled outside the scope) is refused with the fix."""
    import numpy as np

    import gancourse as gc
    from gancourse import training
    from gancourse.errors import ModelError

    x = np.zeros((16, 28, 28), np.uint8)
    pipe = gc.make_pipeline(x, batch_size=8)
    mirrored = training.make_strategy("mirrored")  # one replica in this process
    plain = training.build_gan("gan", latent_dim=4)
    with pytest.raises(
        ModelError, match="built without a tf.distribute strategy.*MirroredStrategy"
    ):
        training.train(plain, pipe, 1, strategy=mirrored, progress=False)
    inside = training.build_gan("gan", latent_dim=4, strategy=mirrored)
    with pytest.raises(ModelError, match="was built in the scope of MirroredStrategy"):
        training.train(inside, pipe, 1, strategy=training.make_strategy("default"), progress=False)
    inside.compile()  # new optimizers, made outside the scope
    with pytest.raises(ModelError, match=r"Part of this GAN \(g_optimizer, d_optimizer\)"):
        training.train(inside, pipe, 1, strategy=mirrored, progress=False)
    with pytest.raises(ModelError, match="tf.distribute strategy"):
        training.train(plain, pipe, 1, strategy="mirrored", progress=False)


# ---------------------------------------------------------------- checks (two replicas)


def _split_cpu():
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)


def check_equivalence():
    import keras
    import numpy as np
    import tensorflow as tf
    from keras import layers

    import gancourse as gc
    from gancourse import losses
    from gancourse import models as m

    latent, batch, steps = 8, 8, 2
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (batch * steps, 28, 28, 1)).astype("float32")
    y = (np.arange(batch * steps) % 10).astype("int32")
    table = rng.standard_normal((2 * steps + 2, batch, latent)).astype("float32")
    # WGAN-GP's interpolation weights a ~ U(0, 1): fixed, so both runs use the same ones
    # (losses.py draws them with keras.random.uniform and nothing else from keras)
    fixed = SimpleNamespace(uniform=lambda shape, *args, **kwargs: tf.fill(shape, 0.3))
    losses.keras = SimpleNamespace(random=fixed)

    class FixedNoise:
        """``sample_noise`` reads row ``d_optimizer.iterations`` of a fixed table; each
        replica takes its own slice of the global batch, as the dataset is split."""

        def sample_noise(self, n):
            context = tf.distribute.get_replica_context()
            row = tf.gather(table, tf.cast(self.d_optimizer.iterations, "int32"))
            start = context.replica_id_in_sync_group * n
            return row[start : start + n]

    class GAN(FixedNoise, gc.GAN):
        pass

    class WGAN(FixedNoise, gc.WGAN):
        pass

    class CGAN(FixedNoise, gc.ConditionalGAN):
        pass

    def generator(conditional):
        z = keras.Input((latent,), name="z")
        inputs, h = z, z
        if conditional:
            label = keras.Input((1,), dtype="int32", name="label")
            inputs = [z, label]
            h = layers.Concatenate()([z, layers.Flatten()(layers.Embedding(10, 4)(label))])
        h = layers.LeakyReLU(0.2)(layers.Dense(7 * 7 * 4)(h))
        h = layers.Reshape((7, 7, 4))(h)
        out = layers.Conv2DTranspose(1, 4, strides=4, padding="same", activation="tanh")(h)
        return keras.Model(inputs, out, name="generator")

    def build(kind):
        keras.utils.set_random_seed(1)
        sgd = keras.optimizers.SGD
        if kind == "gan":
            gan = GAN(generator(False), m.dcgan_discriminator(width=4, batchnorm=False))
            gan.compile(g_optimizer=sgd(0.2), d_optimizer=sgd(0.2))
        elif kind == "cgan":
            gan = CGAN(
                generator(True),
                m.cgan_dcgan_discriminator(width=4, embed_dim=4, spectral_norm=True),
            )
            gan.compile(g_optimizer=sgd(0.2), d_optimizer=sgd(0.2))
        else:
            gan = WGAN(generator(False), m.wgan_critic(width=4, norm="layer"))
            gan.compile(g_optimizer=sgd(0.005), d_optimizer=sgd(0.005), gp_weight=10.0, n_critic=2)
        return gan

    def weights(gan):
        return [np.array(w.numpy()) for w in gan.generator.weights + gan.discriminator.weights]

    results = {}
    mirrored = gc.training.make_strategy("mirrored")
    for kind in ("gan", "wgan-gp", "cgan"):
        data = (x, y) if kind == "cgan" else x
        runs = {}
        for name, strategy in (("one", None), ("two", mirrored)):
            with gc.training._scope(strategy):
                gan = build(kind)
            start = weights(gan)
            if name == "two":
                gan.generator.set_weights(runs["one"]["start"][: len(gan.generator.weights)])
                gan.discriminator.set_weights(runs["one"]["start"][len(gan.generator.weights) :])
                start = weights(gan)
            ds = tf.data.Dataset.from_tensor_slices(data).batch(batch, drop_remainder=True)
            history = gc.train(gan, ds, 1, sample_every=0, progress=False, strategy=strategy)
            runs[name] = {
                "start": start,
                "end": weights(gan),
                "losses": history.history,
                "g_steps": int(gan.g_optimizer.iterations.numpy()),
                "d_steps": int(gan.d_optimizer.iterations.numpy()),
            }
        one, two = runs["one"], runs["two"]
        results[kind] = {
            "replicas": mirrored.num_replicas_in_sync,
            "max_change": max(float(np.abs(a - b).max()) for a, b in zip(one["end"], one["start"])),
            "max_diff": max(float(np.abs(a - b).max()) for a, b in zip(one["end"], two["end"])),
            "losses": {k: (one["losses"][k][0], two["losses"][k][0]) for k in one["losses"]},
            "g_steps": two["g_steps"],
            "d_steps": two["d_steps"],
        }
    return results


def check_resume(run_dir):
    import contextlib
    import io

    import keras
    import numpy as np
    import tensorflow as tf

    import gancourse as gc
    from gancourse import callbacks, cli, runs, training

    run_dir = Path(run_dir)
    common = [
        "--model",
        "dcgan",
        "--dataset",
        "mnist",
        "--subset",
        "32",
        "--batch-size",
        "8",
        "--latent-dim",
        "8",
        "--ema",
        "0.9",
        "--lr-decay",  # the rates are set in the graph, on every replica
        "0.5",
        "--strategy",
        "mirrored",
        "--out",
        str(run_dir),
    ]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli.main(["train", *common, "--epochs", "1"])
    epoch_1 = int(
        tf.train.load_checkpoint(str(run_dir / "checkpoints" / "ckpt-1")).get_tensor(
            "epoch/.ATTRIBUTES/VARIABLE_VALUE"
        )
    )

    strategy = training.make_strategy("mirrored")
    cfg = runs.load_config(run_dir)
    ds = gc.load_dataset("mnist")
    pipe = gc.make_pipeline(ds.x_train, batch_size=8, subset=32, seed=cfg.seed)
    gan = training.gan_from_config(cfg, strategy=strategy)
    resumed = io.StringIO()
    with contextlib.redirect_stdout(resumed):
        training.train(gan, pipe, 2, run_dir=run_dir, config=cfg, strategy=strategy, progress=False)
    restored, _, epoch = training.load_run(run_dir)  # no strategy
    same = all(
        np.array_equal(a, b)
        for a, b in zip(
            gan.generator.get_weights()
            + gan.ema_generator.get_weights()
            + gan.discriminator.get_weights(),
            restored.generator.get_weights()
            + restored.ema_generator.get_weights()
            + restored.discriminator.get_weights(),
        )
    )

    # each replica draws its own latent vectors from the shared (mirrored) seed
    @tf.function
    def draw():
        return strategy.run(lambda: gan.sample_noise(4))

    z = [np.array(v) for v in strategy.experimental_local_results(draw())]

    odd = gc.make_pipeline(ds.x_train, batch_size=7, subset=32)
    try:
        training.train(gan, odd, 3, strategy=strategy, progress=False)
        odd_error = ""
    except gc.GancourseError as e:
        odd_error = str(e)
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        cli.main(["train", *common[:-1], str(run_dir.parent / "odd"), "--batch-size", "7"])
    return {
        "replicas": strategy.num_replicas_in_sync,
        "cli_exit": code,
        "cli_out": out.getvalue(),
        "cli_epoch": epoch_1,
        "resume_out": resumed.getvalue(),
        "history_epochs": [row["epoch"] for row in callbacks.load_history(run_dir)],
        "restored_epoch": epoch,
        "restored_equal": same,
        "steps": [
            int(restored.g_optimizer.iterations.numpy()),
            int(restored.d_optimizer.iterations.numpy()),
        ],
        "config_keys": sorted(json.loads((run_dir / "config.json").read_text())),
        "learning_rate": float(restored.g_optimizer.learning_rate.numpy()),
        "replica_noise_differs": bool(len(z) == 2 and not np.allclose(z[0], z[1])),
        "odd_batch_error": odd_error,
        "odd_batch_cli": err.getvalue(),
        "keras": keras.__version__,
    }


if __name__ == "__main__":
    _split_cpu()
    result = globals()[f"check_{sys.argv[1]}"](*sys.argv[2:])
    print(json.dumps(result))
