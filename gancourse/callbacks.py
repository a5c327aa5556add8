"""Keras callbacks for GAN training: sample grids, GIF timeline, checkpoint/resume,
history, TensorBoard logs, NaN guard and a progress bar. :func:`gancourse.training.train`
wires them up."""

from __future__ import annotations

import csv
import errno
import json
import math
import time
from pathlib import Path

import numpy as np

from .config import quiet_tensorflow

tf = quiet_tensorflow()
import keras  # noqa: E402
from tensorflow.core.framework import summary_pb2  # noqa: E402

from . import viz  # noqa: E402
from .errors import ConfigError, ModelError, TrainingError  # noqa: E402
from .files import atomic_write, output_error, write_text  # noqa: E402
from .models import latent_dim_of  # noqa: E402
from .sampling import code_grid, generate_images, sample_latent  # noqa: E402


class SampleGrid(keras.callbacks.Callback):
    """Every ``every`` epochs, generate a grid from the *same* fixed noise (so the pictures
    show the generator changing, not the noise) and save it as ``out_dir/epoch_NNNN.png``.
    At the end, all saved grids become ``timeline.gif`` next to ``out_dir``.

    For a conditional GAN each row is one class and each column one noise vector; for an
    InfoGAN each row is one value of its categorical code. A model with a
    ``preview_images()`` method (the translators of :mod:`gancourse.translation`) draws its
    own grid from fixed inputs: it returns ``(images, ncols)``.
    ``grids`` maps epoch -> uint8 picture for this session's grids.
    """

    def __init__(
        self,
        out_dir=None,
        every: int = 1,
        n: int = 64,
        ncols: int = 8,
        seed: int = 1234,
        show: bool = False,
        gif: bool = True,
    ):
        super().__init__()
        self.out_dir = None if out_dir is None else Path(out_dir)
        self.every, self.n, self.ncols, self.seed, self.show, self.gif = (
            every,
            n,
            ncols,
            seed,
            show,
            gif,
        )
        self.grids = {}

    def on_train_begin(self, logs=None):
        gan = self.model
        sizes = getattr(gan, "code_sizes", None)
        if hasattr(gan, "preview_images"):
            return
        if sizes:  # an InfoGAN: a row per value of its categorical code, as for classes
            self.labels = None
            self.z, self.ncols = code_grid(
                *sizes, steps=max(1, self.n // sizes[1]), noise=gan.noise, seed=self.seed
            )
        elif getattr(gan, "conditional", False) and getattr(gan, "cluster_prior", None) is None:
            k = gan.num_classes
            self.ncols = max(1, self.n // k)
            self.labels = np.repeat(np.arange(k), self.ncols)
            z = sample_latent(self.ncols, gan.latent_dim, gan.noise, self.seed)
            self.z = np.tile(z, (k, 1))
        else:
            self.labels = None  # (a cluster-conditioned GAN draws its clusters from z)
            latent_dim = latent_dim_of(gan.sampling_generator())
            self.z = sample_latent(self.n, latent_dim, gan.noise, self.seed)

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every and epoch + 1 != self.params.get("epochs"):
            return
        picture = self.render()
        self.grids[epoch + 1] = picture
        if self.out_dir is not None:
            viz.save_png(picture, self.out_dir / f"epoch_{epoch + 1:04d}.png")
        if self.show:
            from IPython.display import Image, display

            display(Image(viz.png_bytes(viz.upscale(picture, 2))))
            print(f"epoch {epoch + 1}")

    def render(self):
        if hasattr(self.model, "preview_images"):
            return viz.image_grid(*self.model.preview_images())
        images = generate_images(self.model.sampling_generator(), self.z, self.labels)
        return viz.image_grid(images, self.ncols)

    def on_train_end(self, logs=None):
        if self.out_dir is not None and self.gif:
            frames = sorted(self.out_dir.glob("epoch_*.png"))
            if frames:
                viz.make_gif(frames, self.out_dir.parent / "timeline.gif")


class Checkpoint(keras.callbacks.Callback):
    """Save and restore everything needed to continue training: both networks, both
    optimizers' state (moments, iteration counts), the EMA generator, the noise RNG state and
    the epoch, with ``tf.train.Checkpoint`` + ``tf.train.CheckpointManager``.

    Why this can't leave a broken checkpoint: TensorFlow writes the new checkpoint's files
    first and only then atomically rewrites the small ``checkpoint`` index that names the
    latest one. A run killed mid-write leaves the index pointing at the previous complete
    checkpoint. Epochs whose losses are not finite are never saved.
    """

    def __init__(self, directory, every: int = 1, max_to_keep: int | None = 3):
        super().__init__()
        self.directory = Path(directory)
        self.every = every
        self.max_to_keep = max_to_keep
        self.manager = None

    def restore(self, gan, path=None, verbose=True) -> int:
        """Restore the newest *intact* checkpoint (or the one at ``path``, e.g. from
        :meth:`checkpoints`) into ``gan``; return its epoch, 0 when there is none.

        A damaged checkpoint (truncated or garbled files, a deleted data file, a garbage
        ``checkpoint`` state file) is skipped with a note for the previous one; only when
        none is intact does it raise :class:`ModelError` saying the files are damaged. A
        checkpoint of another architecture raises :class:`ModelError` saying so.
        ``verbose=False`` skips the "Restored checkpoint ..." line (e.g. in a loop)."""
        self._attach(gan)
        candidates = [str(path)] if path is not None else self._candidates()
        damaged = []
        for candidate in reversed(candidates):
            problem = _damage(candidate)
            if problem:
                damaged.append(f"{Path(candidate).name} ({problem})")
                print(
                    f"Checkpoint {Path(candidate).name} is damaged ({problem}); "
                    f"trying the one before it."
                )
                continue
            try:
                self.ckpt.restore(candidate).assert_existing_objects_matched()
            except (AssertionError, ValueError, tf.errors.OpError) as e:
                raise ModelError(
                    f"The checkpoint {candidate} does not match this model ({type(e).__name__}: "
                    f"{_first_line(e)}). It was written by a different architecture or model "
                    f"type: use another run directory, or delete {self.directory} to start "
                    f"over."
                ) from None
            epoch = int(self.epoch.numpy())
            if verbose:
                print(f"Restored checkpoint {Path(candidate).name} (epoch {epoch} done).")
            return epoch
        if damaged:
            raise ModelError(
                f"Every checkpoint in {self.directory} is damaged: {'; '.join(damaged)}. The run "
                f"cannot be resumed; delete {self.directory} to start it over (the sample grids "
                f"and history stay)."
            )
        return 0

    def _candidates(self) -> list:
        """Checkpoint prefixes, oldest first: from the manager's state file, or, if that file
        is damaged, from the ``ckpt-N.index`` files on disk."""
        found = {
            int(p.name[5:-6]): str(p)[:-6]
            for p in self.directory.glob("ckpt-*.index")
            if p.name[5:-6].isdigit()
        }
        listed = list(self.manager.checkpoints) if self.manager is not None else []
        if not listed or any(not Path(c + ".index").exists() for c in listed):
            return [found[k] for k in sorted(found)]
        return listed

    def checkpoints(self, gan) -> list:
        """Paths of the checkpoints kept in the folder, oldest first (the last
        ``max_to_keep``; ``gancourse.train(..., keep_checkpoints=None)`` keeps them all)."""
        self._attach(gan)
        return list(self.manager.checkpoints)

    def on_train_begin(self, logs=None):
        self._attach(self.model)

    def on_epoch_end(self, epoch, logs=None):
        done = epoch + 1
        if done % self.every and done != self.params.get("epochs"):
            return
        if not _finite(logs):
            print(f"Not saving epoch {done}: its losses are not finite.")
            return
        self.save(done)

    def save(self, epoch):
        self.epoch.assign(epoch)
        try:
            return self.manager.save(checkpoint_number=epoch)
        except (OSError, tf.errors.OpError) as e:
            # TensorFlow writes the data files first and the index last: a failed write
            # leaves the previous checkpoint as the newest. Remove the pieces of this one.
            for piece in self.directory.glob(f"ckpt-{epoch}.*"):
                piece.unlink(missing_ok=True)
            for piece in self.directory.glob("*.tempstate*"):
                piece.unlink(missing_ok=True)
            raise output_error(
                self.directory / f"ckpt-{epoch}", _as_os_error(e), "checkpoint"
            ) from None

    def _attach(self, gan):
        if self.manager is not None and getattr(self, "_gan", None) is gan:
            return
        self._gan = gan
        self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")
        parts = dict(
            generator=gan.generator,
            discriminator=gan.discriminator,
            g_optimizer=gan.g_optimizer,
            d_optimizer=gan.d_optimizer,
            seed_state=gan.seed_generator.state.value,
            epoch=self.epoch,
        )
        if gan.ema_generator is not None:
            parts["ema_generator"] = gan.ema_generator
        self.ckpt = tf.train.Checkpoint(**parts)
        try:
            self.manager = tf.train.CheckpointManager(
                self.ckpt, str(self.directory), max_to_keep=self.max_to_keep, checkpoint_name="ckpt"
            )
        except Exception as e:  # a garbage "checkpoint" state file: start the index afresh
            state = self.directory / "checkpoint"
            print(
                f"The checkpoint index {state} is damaged ({_first_line(e)}); rebuilding it "
                f"from the checkpoint files on disk."
            )
            state.unlink(missing_ok=True)
            self.manager = tf.train.CheckpointManager(
                self.ckpt, str(self.directory), max_to_keep=self.max_to_keep, checkpoint_name="ckpt"
            )


class HistoryLogger(keras.callbacks.Callback):
    """Append each epoch's metrics to ``history.csv`` and ``history.json`` and redraw
    ``losses.png``. (Keras' CSVLogger can append but cannot drop the rows of epochs that a
    resumed run trains again, so we keep our own small writer.)"""

    def __init__(self, run_dir) -> None:
        super().__init__()
        self.run_dir = Path(run_dir)
        self._t0 = None

    def on_train_begin(self, logs=None):
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.rows = load_history(self.run_dir)
        self._t0, self._cpu0 = time.perf_counter(), time.process_time()

    def on_epoch_begin(self, epoch, logs=None):
        self.rows = [
            r for r in self.rows if r["epoch"] <= epoch
        ]  # a resumed epoch replaces its old row

    def on_epoch_end(self, epoch, logs=None):
        # The clocks run from the end of the previous epoch (or the start of training), so
        # the rows add up to the whole training time, grids and checkpoints included: the
        # time budget of a resumed run is counted from them.
        now, cpu = time.perf_counter(), time.process_time()
        row = {
            "epoch": epoch + 1,
            **{k: float(v) for k, v in (logs or {}).items()},
            "seconds": round(now - self._t0, 2),
            "cpu_seconds": round(cpu - self._cpu0, 2),
        }
        self._t0, self._cpu0 = now, cpu
        self.rows.append(row)
        self._write()

    def _write(self):
        keys = list(dict.fromkeys(k for r in self.rows for k in r))
        with atomic_write(self.run_dir / "history.csv", "history") as tmp:
            with open(tmp, "w", newline="") as f:
                w = csv.DictWriter(f, fieldnames=keys)
                w.writeheader()
                w.writerows(self.rows)
        write_text(self.run_dir / "history.json", json.dumps(self.rows, indent=1), "history")
        import matplotlib
        import matplotlib.figure

        fig = matplotlib.figure.Figure(figsize=(6, 3.5))
        viz.plot_history(self.rows, ax=fig.subplots(), title="losses per epoch")
        with atomic_write(self.run_dir / "losses.png", "loss plot") as tmp:
            fig.savefig(tmp, dpi=100, bbox_inches="tight")


class TensorBoardLogger(keras.callbacks.Callback):
    """TensorBoard event files in ``log_dir``: every reported loss and diagnostic
    (``d_loss``, ``g_loss``, ``d_real``, ...) per epoch as ``epoch/<name>``, with
    ``every_steps=N`` also every N generator steps as ``batch/<name>`` (at the end of the
    graph call in which the count passed a multiple of N), and the fixed-noise picture
    of ``grid`` (a :class:`SampleGrid` placed *before* this callback in the list) as the
    image ``samples`` whenever the grid draws one. Look at them with
    ``tensorboard --logdir runs``.

    Why not ``keras.callbacks.TensorBoard`` or ``tf.summary.scalar``: both need the
    ``tensorboard`` package, which TensorFlow no longer installs. ``tf.summary.write`` with
    the metadata of TensorBoard's scalar and image plugins writes the same records with
    TensorFlow alone; only *viewing* them needs ``pip install tensorboard``. Steps are epochs
    (and, for batches, the generator's step count, which the checkpoint keeps), so a resumed
    run continues its curves.
    """

    def __init__(self, log_dir, grid: SampleGrid | None = None, every_steps: int | None = None):
        super().__init__()
        self.log_dir = Path(log_dir)
        self.grid, self.every_steps = grid, every_steps
        self.writer = None

    def on_train_begin(self, logs=None):
        try:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            self.writer = tf.summary.create_file_writer(str(self.log_dir))
        except (OSError, tf.errors.OpError) as e:
            raise output_error(self.log_dir, _as_os_error(e), "TensorBoard log folder") from None
        self._logged = int(self.model.g_optimizer.iterations.numpy())

    def on_train_batch_end(self, batch, logs=None):
        if not self.every_steps or not logs:
            return
        step = int(self.model.g_optimizer.iterations.numpy())
        if step // self.every_steps > self._logged // self.every_steps:
            self._scalars("batch", logs, step)
        self._logged = step

    def on_epoch_end(self, epoch, logs=None):
        self._scalars("epoch", logs or {}, epoch + 1)
        picture = self.grid.grids.get(epoch + 1) if self.grid is not None else None
        if picture is not None:  # TensorBoard's image record: [width, height, PNG bytes]
            height, width = picture.shape[:2]
            record = tf.constant([str(width), str(height), viz.png_bytes(picture)])
            metadata = _plugin_metadata("images", summary_pb2.DATA_CLASS_BLOB_SEQUENCE)
            with self.writer.as_default():
                tf.summary.write("samples", record, step=epoch + 1, metadata=metadata)
        self.writer.flush()

    def on_train_end(self, logs=None):
        if self.writer is not None:
            self.writer.close()

    def _scalars(self, prefix, logs, step):
        metadata = _plugin_metadata("scalars", summary_pb2.DATA_CLASS_SCALAR)
        with self.writer.as_default():
            for name, value in logs.items():
                tf.summary.write(
                    f"{prefix}/{name}",
                    tf.constant(float(value), tf.float32),
                    step=step,
                    metadata=metadata,
                )


class NanGuard(keras.callbacks.Callback):
    """Stop training as soon as any reported loss is NaN or infinite (like Keras'
    TerminateOnNaN, which only watches ``loss``), and say what to do: checked after every
    graph call, so with several steps per call the message names the call's batches. The
    checkpoint callback refuses to save that epoch, so the last good checkpoint survives."""

    def __init__(self):
        super().__init__()
        self.message = None

    def on_train_batch_begin(self, batch, logs=None):
        self._first = batch + 1

    def on_train_batch_end(self, batch, logs=None):
        if not _finite(logs):
            bad = ", ".join(k for k, v in logs.items() if not math.isfinite(float(v)))
            last = _last_batch(self, batch)
            where = f"batch {last}" if last == self._first else f"batches {self._first}-{last}"
            self.message = (
                f"Training stopped at epoch {self._epoch + 1}, {where}: {bad} became "
                f"NaN or infinite. The last good checkpoint (if any) is kept. Try a lower "
                f"learning rate, check that images are scaled to [-1, 1], or use WGAN-GP."
            )
            self.model.stop_training = True

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_end(self, logs=None):
        if self.message:
            raise TrainingError(self.message)


class ProgressBar(keras.callbacks.Callback):
    """A tqdm progress bar over all batches (a widget in Jupyter, text in a terminal) and
    one summary line per epoch. In Jupyter each epoch's bar is removed from the output when
    the epoch ends (see :func:`progress`), so a saved notebook shows the summary lines."""

    def __init__(self, print_every: int = 1):
        super().__init__()
        self.print_every = print_every
        self.bar = None

    def on_epoch_begin(self, epoch, logs=None):
        self._t0 = time.perf_counter()
        self._epoch = epoch
        self.bar = _Bar(self.params.get("steps"), f"epoch {epoch + 1}/{self.params.get('epochs')}")

    def on_train_batch_end(self, batch, logs=None):
        before, done = self.bar.tqdm.n, _last_batch(self, batch)
        self.bar.tqdm.update(done - before)
        if logs and (before == 0 or done // 20 > before // 20):  # the losses every 20 steps
            self.bar.tqdm.set_postfix(
                {k: f"{float(v):.3f}" for k, v in logs.items()}, refresh=False
            )

    def on_epoch_end(self, epoch, logs=None):
        self.bar.close()
        if (epoch + 1) % self.print_every == 0 or epoch + 1 == self.params.get("epochs"):
            metrics = "  ".join(f"{k} {float(v):.3f}" for k, v in (logs or {}).items())
            print(
                f"epoch {epoch + 1}/{self.params.get('epochs')}  {metrics}  "
                f"({time.perf_counter() - self._t0:.1f} s)",
                flush=True,
            )


def progress(iterable, desc: str | None = None, total: int | None = None):
    """``tqdm(iterable)`` whose bar disappears when the loop ends, in a terminal and in
    Jupyter alike: a notebook saved afterwards shows what the loop printed, not a frozen
    "0%" bar (the saved text of a tqdm widget is its first state)."""
    if total is None:
        try:
            total = len(iterable)
        except TypeError:  # a generator, or a tf.data pipeline of unknown length
            total = None
    bar = _Bar(total, desc)
    try:
        for item in iterable:
            yield item
            bar.tqdm.update(1)
    finally:
        bar.close()


class _Bar:
    """One tqdm bar, shown in Jupyter through a display handle so it can be blanked."""

    def __init__(self, total, desc):
        from tqdm.auto import tqdm

        notebook = _in_notebook(tqdm)
        options = {"display": False} if notebook else {}
        self.tqdm = tqdm(total=total, leave=False, unit="batch", desc=desc, **options)
        self.handle = None
        if notebook:
            from IPython.display import display

            self.handle = display(self.tqdm.container, display_id=True)

    def close(self):
        self.tqdm.close()
        if self.handle is not None:
            self.handle.update({"text/plain": ""}, raw=True)  # the saved output: nothing


def _in_notebook(tqdm_class) -> bool:
    """Whether ``tqdm.auto`` picked its Jupyter widget (it does in a notebook kernel with
    ipywidgets installed)."""
    try:
        from tqdm.notebook import tqdm as notebook_tqdm
    except ImportError:
        return False
    return issubclass(tqdm_class, notebook_tqdm)


def load_history(run_dir) -> list[dict]:
    """The per-epoch rows of a run's ``history.json`` ([] if there is none). A damaged
    ``history.json`` falls back to ``history.csv``; if both are damaged the earlier rows are
    lost (with a note) and training goes on: the checkpoints hold the model, not the history."""
    run_dir = Path(run_dir)
    path = run_dir / "history.json"
    if not path.exists():
        return []
    try:
        rows = json.loads(path.read_text())
        if isinstance(rows, list) and all(isinstance(r, dict) and "epoch" in r for r in rows):
            return rows
    except (OSError, ValueError):
        pass
    try:
        with open(run_dir / "history.csv", newline="") as f:
            rows = [
                {k: (int(v) if k == "epoch" else float(v)) for k, v in r.items() if v != ""}
                for r in csv.DictReader(f)
            ]
        print(f"{path} is damaged; read the history from history.csv instead.")
        return rows
    except (OSError, ValueError, KeyError, TypeError):
        print(
            f"{path} and history.csv are damaged: the loss history of earlier epochs is lost "
            f"(the model itself is in the checkpoints). New epochs are logged as usual."
        )
        return []


def _damage(prefix) -> str | None:
    """Why the checkpoint at ``prefix`` is unreadable, or None when every tensor in it reads
    back (TensorFlow checks each tensor's CRC32C as it reads)."""
    try:
        reader = tf.train.load_checkpoint(prefix)
        for name in reader.get_variable_to_shape_map():
            reader.get_tensor(name)
    except Exception as e:  # truncated, garbled or missing files fail in many different ways
        return _first_line(e)
    return None


def _plugin_metadata(plugin, data_class):
    """Summary metadata that tells TensorBoard which dashboard shows a record."""
    return summary_pb2.SummaryMetadata(
        plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name=plugin),
        data_class=data_class,
    )


def _first_line(error) -> str:
    text = str(error).strip().splitlines()
    return (text[0] if text else type(error).__name__)[:300]


def _as_os_error(error) -> OSError:
    """An ``OSError`` carrying the errno of a TensorFlow file error, when it names one."""
    if isinstance(error, OSError):
        return error
    text = str(error)
    for code, marker in (
        (errno.ENOSPC, "No space left"),
        (errno.EROFS, "Read-only file system"),
        (errno.EACCES, "Permission denied"),
    ):
        if marker in text:
            return OSError(code, marker)
    return OSError(errno.EIO, _first_line(error))


def _last_batch(callback, batch) -> int:
    """The number (from 1) of the last batch of the epoch a graph call ran, from ``batch``,
    the index Keras gives ``on_train_batch_end``: that of the call's last planned step, past
    the end of the epoch when its last call ran out of data before that."""
    steps = (callback.params or {}).get("steps")
    return min(batch + 1, steps) if steps else batch + 1


def _finite(logs) -> bool:
    return all(math.isfinite(float(v)) for v in (logs or {}).values())


#: Clocks a :class:`TimeBudget` can count: elapsed time, or this process's CPU time
#: (all its threads; unaffected by other programs sharing the machine).
CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


class TimeBudget(keras.callbacks.Callback):
    """Stop training after ``seconds`` of ``clock`` time (``"wall"`` or ``"cpu"``, checked
    after every graph call, so overrun by at most one call's steps), so that models can be
    compared at equal training time rather than equal epochs. ``spent``: seconds already
    used by earlier calls (a resumed run). :attr:`fraction` is the share of the budget used
    so far; :attr:`steps` counts the training steps (batches) run."""

    def __init__(self, seconds: float, clock: str = "wall", spent: float = 0.0):
        super().__init__()
        if clock not in CLOCKS:
            raise ConfigError(f"clock must be one of {', '.join(CLOCKS)}, not {clock!r}.")
        if (
            isinstance(seconds, bool)
            or not isinstance(seconds, (int, float))
            or not (math.isfinite(seconds) and seconds > 0)
        ):
            raise ConfigError(
                f"a time budget must be a positive number of seconds, not {seconds!r}."
            )
        self.seconds, self.clock, self.spent = float(seconds), clock, float(spent)
        self.steps = 0
        self._t0 = CLOCKS[clock]()

    @property
    def used(self) -> float:
        """Seconds of the budget used, earlier calls included."""
        return self.spent + CLOCKS[self.clock]() - self._t0

    @property
    def fraction(self) -> float:
        return min(1.0, self.used / self.seconds)

    def on_train_begin(self, logs=None):
        self._t0 = CLOCKS[self.clock]()
        if self.spent >= self.seconds:
            self.model.stop_training = True

    def on_train_batch_begin(self, batch, logs=None):
        self._first = batch

    def on_train_batch_end(self, batch, logs=None):
        self.steps += _last_batch(self, batch) - self._first
        if self.used > self.seconds:
            self.model.stop_training = True


class LearningRateDecay(keras.callbacks.Callback):
    """Lower both learning rates of a GAN compiled with ``lr_decay`` linearly to 0 over the
    last ``gan.lr_decay`` share of the training (see :meth:`GAN.compile`). The share of the
    training done is that of ``budget`` (a :class:`TimeBudget`) when given, else the batches
    done out of ``epochs`` epochs. Before every graph call it tells the GAN how far the
    training is (:meth:`GAN.set_training_progress`), and each step sets the rates in the
    graph: with epochs, every step its own rate; with a budget, whose time is only read
    between calls, one rate per call."""

    def __init__(self, epochs: int | None = None, budget: TimeBudget | None = None):
        super().__init__()
        if budget is None and not epochs:
            raise ConfigError("LearningRateDecay needs the number of epochs or a TimeBudget.")
        self.epochs, self.budget = epochs, budget
        self._epoch = 0

    def progress(self, batch: int = 0) -> float:
        """The share of the training done, in [0, 1]."""
        if self.budget is not None:
            return self.budget.fraction
        steps = (self.params or {}).get("steps") or 1
        return min(1.0, (self._epoch + batch / steps) / self.epochs)

    def scale(self, batch: int = 0) -> float:
        """The factor applied to the starting rates: 1 until the decay starts, then falling
        linearly to 0 at the end of the training."""
        return min(1.0, max(0.0, (1.0 - self.progress(batch)) / self.model.lr_decay))

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        per_step = 0.0
        if self.budget is None:
            per_step = 1.0 / (((self.params or {}).get("steps") or 1) * self.epochs)
        self.model.set_training_progress(self.progress(batch), per_step)
