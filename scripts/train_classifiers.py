"""Train the small CNN classifiers that the offline FID/KID/IS use, and ship their weights.

For each dataset this trains :func:`gancourse.evaluation.build_classifier` on the real training
split (loaded with :func:`gancourse.data.load_dataset`, so point ``GANCOURSE_DATA_DIR`` at
the folder that holds the real ``<name>.npz`` archives), then

- writes ``gancourse/classifiers/<dataset>.weights.h5`` with every array stored as float16
  (half the size of float32),
- reloads that file into a fresh model and measures the accuracy on the whole test split,
  so the number recorded is the accuracy of exactly what ships,
- records architecture, accuracy, epochs, wall and CPU time, machine and command in
  ``gancourse/classifiers/manifest.json``. The machine is shared, so the wall time depends
  on what else runs (the load average is recorded too); the CPU time much less.

Measured here (2 CPU cores shared with other trainings, so wall time is 2-3x the CPU
time): MNIST 3 epochs 4 min of CPU, Fashion-MNIST 10 epochs 15 min, CIFAR-10
12 epochs 18 min of CPU (56 min wall at a load average of 12). Usage::

    GANCOURSE_DATA_DIR=/path/to/real/data nice -n 5 python scripts/train_classifiers.py
    GANCOURSE_DATA_DIR=/path/to/data python scripts/train_classifiers.py \
        --dataset cifar10 --epochs 20
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

from gancourse import evaluation
from gancourse.config import quiet_tensorflow, seed_everything
from gancourse.data import find_archive, load_dataset, to_model_range
from gancourse.weights import save_float16, sha256_of

tf = quiet_tensorflow()
import keras  # noqa: E402

#: Per dataset: epochs and the augmentation that is label-preserving for it. Digits are
#: never flipped (a flipped 2 is not a 2); clothes and CIFAR objects can be.
SETTINGS = {
    "mnist": {"epochs": 3, "flip": False, "shift": 0.08},
    "fashion_mnist": {"epochs": 10, "flip": True, "shift": 0.08},
    "cifar10": {"epochs": 12, "flip": True, "shift": 0.125},
}
MACHINE = "2 CPU cores, no GPU"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dataset", nargs="+", choices=tuple(SETTINGS) + ("all",), default=["all"])
    p.add_argument("--epochs", type=int, help="override the per-dataset number of epochs")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=2e-3, help="peak learning rate (cosine decay)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=evaluation.CLASSIFIER_DIR)
    args = p.parse_args(argv)

    names = list(SETTINGS) if "all" in args.dataset else args.dataset
    for name in names:
        entry = train_one(name, args)
        update_manifest(args.out, name, entry)
        print(json.dumps({name: entry}, indent=1), flush=True)


def train_one(name, args) -> dict:
    """Train, save (float16), reload and test one classifier; return its manifest entry."""
    settings = SETTINGS[name]
    epochs = args.epochs or settings["epochs"]
    seed_everything(args.seed, deterministic=False)
    ds = load_dataset(name, download=False)
    print(f"{name}: {len(ds.x_train)} training images from {ds.path.name}", flush=True)

    model = evaluation.build_classifier(name)
    steps = epochs * int(np.ceil(len(ds.x_train) / args.batch_size))
    # Short linear warm-up, then cosine decay to zero: reaches good accuracy in few epochs.
    schedule = keras.optimizers.schedules.CosineDecay(
        0.0, steps, warmup_target=args.lr, warmup_steps=max(1, steps // 20)
    )
    model.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )

    start, start_cpu = time.perf_counter(), time.process_time()
    model.fit(
        training_pipeline(ds.x_train, ds.y_train, settings, args.batch_size, args.seed),
        epochs=epochs,
        verbose=2,
        shuffle=False,
    )
    train_seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - start_cpu  # all threads: independent of other jobs
    load = os.getloadavg()[1]

    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"{name}.weights.h5"
    trained = evaluation.build_classifier(name)  # uncompiled: saves no optimizer state
    trained.set_weights(model.get_weights())
    save_float16(trained, path)

    shipped = evaluation.build_classifier(name)
    shipped.load_weights(path)
    probs = shipped.predict(to_model_range(ds.x_test), batch_size=500, verbose=0)
    accuracy = float(np.mean(np.argmax(probs, axis=1) == ds.y_test))

    command = (
        f"GANCOURSE_DATA_DIR=<folder of the real {name}.npz> python "
        f"scripts/train_classifiers.py --dataset {name} --epochs {epochs} "
        f"--batch-size {args.batch_size} --lr {args.lr} --seed {args.seed}"
    )
    return {
        "architecture": evaluation.classifier_architecture(name),
        "params": int(shipped.count_params()),
        "feature_dim": int(shipped.get_layer("features").units),
        "weights": path.name,
        "weights_dtype": "float16",
        "weights_bytes": path.stat().st_size,
        "sha256": sha256_of(path),
        "test_accuracy": round(accuracy, 4),
        "test_images": int(len(ds.x_test)),
        "train_images": int(len(ds.x_train)),
        "epochs": epochs,
        "batch_size": args.batch_size,
        "optimizer": f"Adam, peak lr {args.lr}, warm-up then cosine decay",
        "augmentation": describe_augmentation(settings),
        "train_seconds": round(train_seconds, 1),
        "train_cpu_seconds": round(cpu_seconds, 1),
        "machine": MACHINE,
        "load_average_5min_at_end": round(load, 2),
        "versions": {
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
            "python": platform.python_version(),
        },
        "data_sha256": file_sha256(find_archive(name)),
        "command": command,
    }


def training_pipeline(x, y, settings, batch_size, seed):
    """Shuffled batches of images in [-1, 1], randomly flipped and translated per image."""
    flip, shift = settings["flip"], settings["shift"]
    pad = int(round(shift * x.shape[1]))
    rng = tf.random.Generator.from_seed(seed)

    def prepare(images, labels):
        images = tf.cast(images, tf.float32) / 127.5 - 1.0
        if images.shape.rank == 3:
            images = images[..., None]
        return random_flip_and_shift(images, flip, pad, rng), labels

    data = tf.data.Dataset.from_tensor_slices((x, y.astype("int32")))
    data = data.shuffle(len(x), seed=seed, reshuffle_each_iteration=True).batch(batch_size)
    return data.map(prepare, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def random_flip_and_shift(images, flip, pad, rng):
    """Flip each image left-right with probability 1/2 (if ``flip``) and translate it by up to
    ``pad`` pixels each way (reflect padding, then a random crop back to the size).

    Done on a whole batch with two gathers: about 4x cheaper on this CPU than Keras'
    RandomTranslation layer, which made augmentation cost a third of the training time.
    """
    batch = tf.shape(images)[0]
    height, width = images.shape[1], images.shape[2]
    if flip:
        mirror = rng.uniform([batch]) < 0.5
        images = tf.where(mirror[:, None, None, None], tf.reverse(images, axis=[2]), images)
    if pad:
        padded = tf.pad(images, [[0, 0], [pad, pad], [pad, pad], [0, 0]], mode="REFLECT")
        dy = rng.uniform([batch], 0, 2 * pad + 1, dtype=tf.int32)
        dx = rng.uniform([batch], 0, 2 * pad + 1, dtype=tf.int32)
        rows = dy[:, None] + tf.range(height)[None, :]  # (batch, height)
        cols = dx[:, None] + tf.range(width)[None, :]  # (batch, width)
        images = tf.gather(padded, rows, axis=1, batch_dims=1)  # (batch, height, W+2p, C)
        images = tf.gather(images, cols, axis=2, batch_dims=1)  # (batch, height, width, C)
    return images


def update_manifest(folder, name, entry):
    """Insert or replace ``name`` in ``manifest.json`` (other datasets keep their entries)."""
    path = Path(folder) / "manifest.json"
    manifest = json.loads(path.read_text()) if path.exists() else {}
    manifest.setdefault(
        "about",
        (
            "Small CNN classifiers used as offline feature extractors for FID/KID/IS "
            "(gancourse.evaluation). Trained by scripts/train_classifiers.py on the real data; "
            "features = output of the layer named 'features'."
        ),
    )
    manifest.setdefault("classifiers", {})[name] = entry
    path.write_text(json.dumps(manifest, indent=1) + "\n")


def describe_augmentation(settings):
    parts = []
    if settings["flip"]:
        parts.append("random horizontal flip")
    if settings["shift"]:
        parts.append(
            f"random translation up to {settings['shift']:.3g} of the side (reflect padding)"
        )
    return ", ".join(parts) or "none"


def file_sha256(path):
    return None if path is None else sha256_of(path)


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    main()
