"""What a training run is: one record, :class:`RunConfig`, with one owner.

A run folder (``runs/<name>/``) holds ``config.json``, written from a :class:`RunConfig`
when training starts and read back by everything that comes later: resuming (which refuses
a command whose options differ from the run's own), ``gancourse sample``, ``gancourse
evaluate`` and ``pretrained.export``. The defaults live here and nowhere else (the CLI's
``--help`` shows them from this record), in the spirit of nanoGPT's single config.

This module needs no TensorFlow: the CLI validates its options with it before importing
anything heavy, and before writing anything, so a refused command leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import socket
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from .data import TRANSLATION_TASKS, get_spec, get_task
from .errors import ConfigError, RunInUseError
from .files import output_error, write_text

#: The model kinds of the course (``training.build_gan``, ``gancourse train --model``).
KINDS = ("gan", "dcgan", "wgan", "wgan-gp", "cgan", "infogan", "stylegan")

#: The image-to-image translators (``translation.build_translator``): pix2pix learns from
#: pairs, CycleGAN from two unpaired sets; each trains on a ``task`` of
#: ``data.TRANSLATION_TASKS``.
TRANSLATORS = ("pix2pix", "cyclegan")

#: Everything ``gancourse train --model`` trains.
MODELS = KINDS + TRANSLATORS

#: The options of the unconditional and conditional GANs that a translator does not have,
#: with their defaults (a translator's run must leave them there).
GAN_ONLY = (
    "scenario",
    "latent_dim",
    "noise",
    "spectral_norm",
    "minibatch_std",
    "projection",
    "clusters",
    "upsampling",
    "loss",
    "r1_gamma",
    "r1_every",
    "augment",
)

#: The translators' own options, with the model they belong to.
TRANSLATOR_ONLY = {
    "task": TRANSLATORS,
    "l1_weight": ("pix2pix",),
    "gan_weight": ("pix2pix",),
    "skips": ("pix2pix",),
    "cycle_weight": ("cyclegan",),
    "identity_weight": ("cyclegan",),
}

#: The models of notebook 03's DCGAN study (published parameter tables); dcgan only.
SCENARIOS = ("baseline", "weak-d", "weak-g")

#: Latent distributions.
NOISES = ("normal", "uniform")

#: Losses of the GAN and ConditionalGAN kinds (the WGANs have their own).
LOSSES = ("non-saturating", "minimax", "hinge")

#: How DCGAN generators double the resolution: transposed convolutions, or upsampling + conv.
UPSAMPLINGS = ("transpose", "nearest", "bilinear")

#: Fields that are facts derived from others, written for readers of config.json but never
#: compared or passed back in.
DERIVED = ("image_shape", "num_classes")


@dataclass
class RunConfig:
    """Everything that defines a training run (not how long it trains: ``epochs`` may grow).

    ``model``: one of :data:`KINDS`. ``dataset``: a dataset name (``mnist``,
    ``fashion_mnist``, ``cifar10``). ``scenario``: a DCGAN study model (dcgan only).
    ``latent_dim``: size of z (for infogan: of its noise, without the codes: one categorical
    code with a value per class of the dataset and two continuous codes). ``batch_size``.
    ``subset``: train on the first N images.
    ``ema``: decay of the generator's exponential moving average, in [0, 1), or None for no
    EMA. ``seed``: seeds data order, weights and noise. ``noise``: normal or uniform z.

    The stabilising options of notebook 09 (see ``training.build_gan``, all off by default):
    ``ema_warmup`` (EMA decay ramps up from 0), ``spectral_norm`` and ``minibatch_std`` (the
    discriminator), ``projection`` (cgan: a projection discriminator), ``clusters`` (cgan:
    condition on that many k-means clusters of the images instead of the classes, see
    ``data.cluster_labels``), ``upsampling`` (one
    of :data:`UPSAMPLINGS`), ``loss`` (one of :data:`LOSSES`; None is the kind's default),
    ``g_lr``/``d_lr`` (TTUR; None is the kind's default), ``r1_gamma``/``r1_every`` (R1
    penalty, lazy every k steps) and ``augment`` (a DiffAugment policy such as
    "color,translation,cutout"). ``lr_decay``: the share of the
    training, at its end, over which both learning rates fall linearly to 0 (0 = off; 0.5 =
    the second half, as in pix2pix and CycleGAN). ``mixing``: stylegan only, the style
    mixing probability in [0, 1] (None is StyleGAN's 0.9; see ``stylegan.StyleMixing``).

    The translators (``model`` pix2pix or cyclegan, see ``translation.build_translator``)
    need a ``task`` (one of ``data.TRANSLATION_TASKS``; ``dataset`` must be one it is built
    from) and have their own options, None for the model's default: ``l1_weight`` (pix2pix's
    lambda, 100), ``gan_weight`` (of pix2pix's adversarial term, 1; 0 trains on L1 alone),
    ``skips`` (pix2pix: the U-Net's skip connections, or a plain encoder-decoder),
    ``cycle_weight`` (CycleGAN's lambda, 10) and ``identity_weight`` (5, half of lambda as
    in the paper's code).
    """

    model: str = "dcgan"
    dataset: str = "fashion_mnist"
    scenario: str | None = None
    latent_dim: int = 100
    batch_size: int = 64
    subset: int | None = None
    ema: float | None = None
    seed: int = 42
    noise: str = "normal"
    ema_warmup: bool = False
    spectral_norm: bool = False
    minibatch_std: bool = False
    projection: bool = False
    clusters: int | None = None
    upsampling: str = "transpose"
    loss: str | None = None
    g_lr: float | None = None
    d_lr: float | None = None
    r1_gamma: float = 0.0
    r1_every: int = 1
    augment: str | None = None
    lr_decay: float = 0.0
    mixing: float | None = None
    task: str | None = None
    l1_weight: float | None = None
    gan_weight: float | None = None
    skips: bool = True
    cycle_weight: float | None = None
    identity_weight: float | None = None
    # Facts about the dataset, filled in by validate() (written to config.json for readers).
    image_shape: tuple = field(default=(), compare=False)
    num_classes: int = field(default=0, compare=False)

    def __post_init__(self):
        self.validate()

    def validate(self) -> RunConfig:
        """Check every option's range; raise :class:`ConfigError` naming the option and the
        accepted values. Fills in ``image_shape`` and ``num_classes`` from the dataset."""
        if self.model not in MODELS:
            raise ConfigError(f"--model must be one of {', '.join(MODELS)}, not {self.model!r}.")
        spec = get_spec(self.dataset)  # UnknownDatasetError lists the known names
        self.dataset = spec.name
        self._check_translation()
        if self.scenario is not None:
            if self.scenario not in SCENARIOS:
                raise ConfigError(
                    f"--scenario must be one of {', '.join(SCENARIOS)}, not {self.scenario!r}."
                )
            if self.model != "dcgan":
                raise ConfigError(
                    f"--scenario {self.scenario} picks a model of the DCGAN study: "
                    f"it applies to --model dcgan only, not {self.model}."
                )
        _integer(self, "latent_dim", 1, 4096)
        _integer(self, "batch_size", 1, 1 << 16)
        _integer(self, "seed", 0, 2**32 - 1)
        if self.subset is not None:
            _integer(self, "subset", 1, None)
        if self.ema is not None:
            if (
                isinstance(self.ema, bool)
                or not isinstance(self.ema, (int, float))
                or not math.isfinite(self.ema)
                or not 0.0 <= self.ema < 1.0
            ):
                raise ConfigError(
                    f"--ema must be a number in [0, 1) such as 0.999 (the share of "
                    f"the old average kept at each step), not {self.ema!r}."
                )
            self.ema = float(self.ema)
        if self.noise not in NOISES:
            raise ConfigError(f"--noise must be one of {', '.join(NOISES)}, not {self.noise!r}.")
        _choice(self, "upsampling", UPSAMPLINGS)
        if self.loss is not None:
            _choice(self, "loss", LOSSES)
        for name in ("ema_warmup", "spectral_norm", "minibatch_std", "projection"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"{name} must be true or false, not {getattr(self, name)!r}.")
        for name in ("g_lr", "d_lr"):
            value = getattr(self, name)
            if value is not None and not (_number(value) and 0 < value < 1):
                raise ConfigError(
                    f"--{name.replace('_', '-')} must be a learning rate in (0, 1) "
                    f"such as 2e-4, not {value!r}."
                )
        if not (_number(self.r1_gamma) and 0 <= self.r1_gamma <= 1e4):
            raise ConfigError(
                f"--r1-gamma must be a number in [0, 10000] (0 = off), not {self.r1_gamma!r}."
            )
        _integer(self, "r1_every", 1, 1000)
        if self.augment is not None and not isinstance(self.augment, str):
            raise ConfigError(
                f"--augment must be a policy such as 'color,translation,cutout', "
                f"not {self.augment!r}."
            )
        if not (_number(self.lr_decay) and 0 <= self.lr_decay <= 1):
            raise ConfigError(
                f"--lr-decay must be a share of the training in [0, 1] such as 0.5 "
                f"(0 = constant learning rates), not {self.lr_decay!r}."
            )
        self.lr_decay = float(self.lr_decay)
        if self.model in ("wgan", "wgan-gp") and (self.loss is not None or self.r1_gamma):
            raise ConfigError(
                f"--model {self.model} trains with the Wasserstein loss and its own "
                f"Lipschitz constraint: --loss and --r1-gamma apply to gan, dcgan "
                f"and cgan."
            )
        if self.clusters is not None:
            _integer(self, "clusters", 2, 1000)
            if self.model != "cgan":
                raise ConfigError(
                    f"--clusters conditions a cGAN on k-means clusters instead of classes: "
                    f"it applies to --model cgan only, not {self.model}."
                )
        if self.mixing is not None:
            if self.model != "stylegan":
                raise ConfigError(
                    f"--mixing is StyleGAN's style mixing probability: it applies to "
                    f"--model stylegan only, not {self.model}."
                )
            if not (_number(self.mixing) and 0 <= self.mixing <= 1):
                raise ConfigError(
                    f"--mixing must be a probability in [0, 1] such as 0.9 (0 = no style "
                    f"mixing), not {self.mixing!r}."
                )
            self.mixing = float(self.mixing)
        if self.model == "stylegan" and self.upsampling != "transpose":
            raise ConfigError(
                "--upsampling changes the DCGAN generators; the StyleGAN generator has its "
                "own (bilinear upsampling and modulated convolutions): drop --upsampling."
            )
        if self.projection and self.model != "cgan":
            raise ConfigError(
                f"--projection is how a conditional discriminator takes its label: it "
                f"applies to --model cgan only, not {self.model}."
            )
        self.image_shape = tuple(spec.model_shape)
        self.num_classes = self.clusters or spec.num_classes
        return self

    def _check_translation(self):
        """The translators' options: a task of the right model and dataset, weights >= 0, and
        none of the GANs' options; a GAN has none of the translators' options."""
        defaults = {f.name: f.default for f in dataclasses.fields(self)}
        for name, models in TRANSLATOR_ONLY.items():
            if getattr(self, name) != defaults[name] and self.model not in models:
                raise ConfigError(
                    f"--{_flag(name, defaults)} is an option of --model {' and '.join(models)}, "
                    f"not {self.model}: drop it."
                )
        if self.model not in TRANSLATORS:
            return
        wrong = ["--" + _flag(n, defaults) for n in GAN_ONLY if getattr(self, n) != defaults[n]]
        if wrong:
            one = len(wrong) == 1
            raise ConfigError(
                f"--model {self.model} translates images; {', '.join(wrong)} "
                f"{'is an option' if one else 'are options'} of the GANs that draw from "
                f"noise: drop {'it' if one else 'them'}."
            )
        if self.task is None:
            raise ConfigError(
                f"--model {self.model} needs a --task: "
                + ", ".join(t for t, s in TRANSLATION_TASKS.items() if s.model == self.model)
                + "."
            )
        task = get_task(self.task, self.dataset)
        if task.model != self.model:
            raise ConfigError(
                f"--task {self.task} is learnt by --model {task.model} "
                f"({task.description}), not {self.model}."
            )
        for name in ("l1_weight", "gan_weight", "cycle_weight", "identity_weight"):
            value = getattr(self, name)
            if value is not None and not (_number(value) and 0 <= value <= 1e4):
                raise ConfigError(
                    f"--{_flag(name, defaults)} must be a weight in [0, 10000], not {value!r}."
                )
        if self.l1_weight == 0 and self.gan_weight == 0:
            raise ConfigError(
                "--l1-weight 0 and --gan-weight 0 leave the generator nothing to learn: "
                "keep at least one above 0."
            )
        if not isinstance(self.skips, bool):
            raise ConfigError(f"skips must be true or false, not {self.skips!r}.")

    def options(self) -> dict:
        """The fields that define the run (everything but the derived facts)."""
        return {
            f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name not in DERIVED
        }

    def to_json(self) -> str:
        data = self.options()
        data["image_shape"] = list(self.image_shape)
        data["num_classes"] = self.num_classes
        return json.dumps(data, indent=1) + "\n"

    def differences(self, other: RunConfig) -> dict:
        """``{option: (mine, other's)}`` for every option whose values differ."""
        a, b = self.options(), other.options()
        return {k: (a[k], b[k]) for k in a if a[k] != b[k]}

    # ------------------------------------------------------------------ run folders
    def save(self, run_dir) -> Path:
        """Write ``run_dir/config.json`` (atomically), creating the folder."""
        return write_text(Path(run_dir) / "config.json", self.to_json(), "run configuration")

    def check_resume(self, run_dir) -> bool:
        """If ``run_dir`` already holds a run, make sure it is this one: raise
        :class:`ConfigError` naming each option that differs (a run resumed with another
        model, dataset, EMA, latent size ... would break). Returns True when there is a run to
        resume, False for a new folder."""
        run_dir = Path(run_dir)
        if not (run_dir / "config.json").exists():
            return False
        old = load_config(run_dir)
        diff = old.differences(self)
        if diff:
            changes = "; ".join(
                f"--{k.replace('_', '-')} was {_show(a)}, now {_show(b)}"
                for k, (a, b) in diff.items()
            )
            raise ConfigError(
                f"{run_dir} holds a run started with other options ({changes}). To resume it, "
                f"repeat its options (they are in {run_dir / 'config.json'}); to start a new run, "
                f"choose another --out folder or delete {run_dir}."
            )
        return True


def load_config(run_dir) -> RunConfig:
    """The :class:`RunConfig` of a run folder, from its ``config.json``.

    Raises :class:`ConfigError` when the folder is not a run, or its file is damaged
    (truncated, not JSON, unknown or out-of-range values)."""
    run_dir = Path(run_dir)
    path = run_dir / "config.json"
    if not path.is_file():
        raise ConfigError(
            f"{run_dir} is not a training run (no config.json). Train one with "
            f"`gancourse train ... --out {run_dir}`."
        )
    try:
        data = json.loads(path.read_text())
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
    except (OSError, ValueError) as e:
        raise ConfigError(
            f"{path} is damaged ({e}); it records how the run was started. Restore "
            f"it from a backup, or start a new run in another folder."
        ) from None
    known = {f.name for f in dataclasses.fields(RunConfig)} - set(DERIVED)
    unknown = sorted(set(data) - known - set(DERIVED) - {"epochs_done"})
    if unknown:
        raise ConfigError(
            f"{path} has options this version of gancourse does not know "
            f"({', '.join(unknown)}); it was written by a newer version."
        )
    data = {k: v for k, v in data.items() if k in known}
    try:
        return RunConfig(**data)
    except ConfigError as e:
        raise ConfigError(f"{path} is damaged or was edited by hand: {e}") from None


#: Seconds between two refreshes of a held lock (its file's modification time), and the age
#: after which a lock written on another machine counts as left over: that machine's training
#: has stopped refreshing it (e.g. its Colab runtime was recycled with the run on Drive).
LOCK_REFRESH = 60.0
LOCK_STALE_AFTER = 30 * 60.0


@contextlib.contextmanager
def run_lock(run_dir, stale_after: float = LOCK_STALE_AFTER):
    """Hold ``run_dir/.lock`` while the block runs: one training writes a run folder at a time.

    The lock file is created with ``O_CREAT | O_EXCL`` (so of two processes only one can
    create it) and holds JSON: host, pid, start time, command. It is removed when the block
    ends, also by an exception or Ctrl-C, and refreshed every :data:`LOCK_REFRESH` seconds
    meanwhile. A lock held by a live process is refused with a :class:`RunInUseError` naming
    that process. A lock left by a process of this machine that no longer runs (killed, its
    kernel restarted) is taken over with a printed note; one from another machine (a Drive
    folder shared between runtimes) only once it has not been refreshed for ``stale_after``
    seconds. ``run_dir=None`` (no run folder) locks nothing. Reading a run needs no lock."""
    if run_dir is None:
        yield None
        return
    path = Path(run_dir) / ".lock"
    record = _acquire(path, stale_after)
    stop = threading.Event()
    refresher = threading.Thread(
        target=_refresh, args=(path, record["token"], stop), daemon=True, name="run-lock"
    )
    refresher.start()
    try:
        yield path
    finally:
        stop.set()
        _HELD.discard(record["token"])
        if (_read_lock(path, wait=0) or {}).get("token") == record["token"]:
            with contextlib.suppress(OSError):
                path.unlink()


#: Tokens of the locks this process holds (a lock with this process's pid and another
#: token was left by an earlier process that had the same pid).
_HELD: set[str] = set()


def _acquire(path: Path, stale_after: float) -> dict:
    record = {
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": _command(),
        "token": uuid.uuid4().hex,
    }
    for _ in range(10):
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            holder = _read_lock(path)
            if holder is None:  # removed in the meantime: try again
                continue
            left_over = _left_over(holder, path, stale_after)
            if left_over is None:
                raise RunInUseError(_in_use_message(path, holder, stale_after)) from None
            if _read_lock(path, wait=0) == holder:  # unchanged: nobody took it over first
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                print(
                    f"Note: taking over the lock of {path.parent}: it was left by "
                    f"{_describe(holder)}, {left_over}."
                )
            continue
        except OSError as e:
            raise output_error(path, e, "run lock") from None
        try:
            with os.fdopen(fd, "w") as f:
                f.write(json.dumps(record) + "\n")
        except OSError as e:
            with contextlib.suppress(OSError):
                path.unlink()
            raise output_error(path, e, "run lock") from None
        _HELD.add(record["token"])
        return record
    raise RunInUseError(
        f"{path.parent} is being locked and unlocked by other trainings at this moment; "
        f"stop them, or train into another folder."
    )


def _command() -> str:
    """This process's command line, short (a notebook kernel's is long and says little)."""
    program = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "python"
    if "kernel" in program:
        return "a notebook kernel"
    return " ".join([program, *sys.argv[1:]])[:200]


def _read_lock(path: Path, wait: float = 1.0) -> dict | None:
    """The lock's record; ``{}`` if it cannot be read (after ``wait`` seconds for a lock being
    written right now); None if there is no lock."""
    deadline = time.monotonic() + wait
    while True:
        try:
            record = json.loads(path.read_text())
            if isinstance(record, dict):
                return record
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            pass
        if time.monotonic() >= deadline:
            return {}
        time.sleep(0.05)


def _left_over(holder: dict, path: Path, stale_after: float) -> str | None:
    """Why the lock ``holder`` is left over (a reason for the note), or None if it is live."""
    if not holder:
        return "and cannot be read"
    if holder.get("host") == socket.gethostname():
        pid = holder.get("pid")
        if pid == os.getpid():
            return None if holder.get("token") in _HELD else "which no longer runs"
        return None if isinstance(pid, int) and _alive(pid) else "which no longer runs"
    age = _age(path)
    return f"which has not refreshed it for {_duration(age)}" if age > stale_after else None


def _alive(pid: int) -> bool:
    """Whether process ``pid`` of this machine runs (a zombie does not)."""
    if os.name == "nt":  # os.kill would stop it; assume it runs (the message says what to do)
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. another user's process: it exists
        return True
    with contextlib.suppress(OSError, IndexError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat[stat.rindex(")") + 2] != "Z"
    return True


def _age(path: Path) -> float:
    try:
        return time.time() - path.stat().st_mtime
    except OSError:
        return 0.0


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} minutes"


def _describe(holder: dict) -> str:
    return (
        f"process {holder.get('pid', '?')} on {holder.get('host', '?')} "
        f"(`{holder.get('command', '?')}`, started {holder.get('started', '?')})"
    )


def _in_use_message(path: Path, holder: dict, stale_after: float) -> str:
    text = (
        f"{path.parent} is being written by another training: {_describe(holder)}. Two "
        f"trainings in one run folder would overwrite each other's checkpoints, so this one "
        f"did not start. Wait until that one ends, stop it, or train into another folder; "
        f"reading the run (gancourse sample / evaluate) is fine meanwhile."
    )
    if holder.get("host") == socket.gethostname():
        return text + (f" If no such training runs (the process number was reused), delete {path}.")
    return text + (
        f" It runs on another machine and last refreshed the lock {_duration(_age(path))} "
        f"ago. If it no longer runs (e.g. its Colab runtime was recycled), delete "
        f"{path}; a lock not refreshed for {stale_after / 60:.0f} minutes is taken over."
    )


def _refresh(path: Path, token: str, stop: threading.Event):
    """Touch the lock every :data:`LOCK_REFRESH` seconds while it is ours."""
    while not stop.wait(LOCK_REFRESH):
        if (_read_lock(path, wait=0) or {}).get("token") != token:
            return
        with contextlib.suppress(OSError):
            os.utime(path)


def _integer(cfg, name, low, high):
    value = getattr(cfg, name)
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < low
        or (high and value > high)
    ):
        limit = f"between {low} and {high}" if high else f"at least {low}"
        raise ConfigError(
            f"--{name.replace('_', '-')} must be a whole number {limit}, not {value!r}."
        )


def _flag(name, defaults) -> str:
    """The command-line flag of an option (``skips`` is turned off by ``--no-skips``)."""
    if name == "skips":
        return "no-skips"
    return name.replace("_", "-")


def _choice(cfg, name, choices):
    if getattr(cfg, name) not in choices:
        raise ConfigError(
            f"--{name.replace('_', '-')} must be one of {', '.join(choices)}, "
            f"not {getattr(cfg, name)!r}."
        )


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _show(value):
    return "none" if value is None else str(value)
