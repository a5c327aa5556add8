"""The command line, driven in-process through ``gancourse.cli.main``."""

import json
import subprocess
import sys

import imageio.v3 as iio
import pytest

from gancourse import __version__
from gancourse.cli import main


def test_version_in_a_real_subprocess():
    out = subprocess.run(
        [sys.executable, "-m", "gancourse.cli", "--version"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0 and out.stdout.strip() == f"gancourse {__version__}"


def test_data_list_and_info(capsys):
    assert main(["data", "list"]) == 0
    out = capsys.readouterr().out
    assert "fashion_mnist" in out and "cifar10" in out and "fashion_mnist.npz" in out
    assert main(["data", "info", "fashion_mnist"]) == 0
    out = capsys.readouterr().out
    assert "train: images (60000, 28, 28) uint8" in out and "T-shirt/top" in out


def test_unknown_dataset_is_a_clear_error(capsys):
    assert main(["data", "info", "svhn"]) == 2
    assert (
        "error: Unknown dataset 'svhn'. Known datasets: mnist, fashion_mnist, cifar10"
        in capsys.readouterr().err
    )


@pytest.mark.parametrize(
    "argv,message",
    [
        (["train", "--model", "biggan"], "invalid choice: 'biggan'"),
        (["train", "--epochs", "0"], "expected a positive integer, got 0"),
        (["train", "--batch-size", "x"], "expected a positive integer, got 'x'"),
        (["sample"], "one of the arguments --run --pretrained is required"),
        (["evaluate", "--n", "-3", "--run", "x"], "expected a positive integer, got -3"),
    ],
)
def test_bad_arguments_get_argparse_messages(argv, message, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2 and message in capsys.readouterr().err


def test_train_resume_and_sample(tmp_path, capsys):
    run = tmp_path / "run"
    args = [
        "train",
        "--model",
        "dcgan",
        "--dataset",
        "fashion_mnist",
        "--subset",
        "128",
        "--out",
        str(run),
    ]
    assert main(args + ["--epochs", "1"]) == 0
    assert (run / "samples" / "epoch_0001.png").exists() and (run / "timeline.gif").exists()
    assert json.loads((run / "config.json").read_text())["model"] == "dcgan"
    capsys.readouterr()
    assert main(args + ["--epochs", "2"]) == 0  # the same command again resumes
    out = capsys.readouterr().out
    assert "epoch 1 done" in out and "Resuming training at epoch 2" in out
    assert [r["epoch"] for r in json.loads((run / "history.json").read_text())] == [1, 2]

    grid = tmp_path / "grid.png"
    assert main(["sample", "--run", str(run), "--n", "16", "--out", str(grid)]) == 0
    assert iio.imread(grid).ndim == 2  # a grayscale grid

    # the same folder cannot be reused for another model
    assert (
        main(
            [
                "train",
                "--model",
                "gan",
                "--dataset",
                "fashion_mnist",
                "--out",
                str(run),
                "--epochs",
                "1",
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert (
        "started with other options (--model was dcgan, now gan; --subset was 128, now none)" in err
    )


def test_conditional_sampling_by_label(tmp_path, capsys):
    run = tmp_path / "cgan"
    assert (
        main(["train", "--model", "cgan", "--subset", "128", "--epochs", "1", "--out", str(run)])
        == 0
    )
    assert (
        main(
            [
                "sample",
                "--run",
                str(run),
                "--n",
                "8",
                "--label",
                "3",
                "--out",
                str(tmp_path / "s.png"),
            ]
        )
        == 0
    )
    assert (
        main(["sample", "--run", str(run), "--label", "12", "--out", str(tmp_path / "t.png")]) == 2
    )
    assert "--label must be in 0..9" in capsys.readouterr().err


def test_a_label_for_an_unconditional_pretrained_generator_is_refused(tmp_path, capsys):
    out = tmp_path / "s.png"
    assert main(["sample", "--pretrained", "dcgan-mnist", "--label", "3", "--out", str(out)]) == 2
    assert "the pretrained dcgan-mnist is unconditional" in capsys.readouterr().err
    assert not out.exists()


def test_sampling_a_folder_that_is_not_a_run(tmp_path, capsys):
    assert main(["sample", "--run", str(tmp_path)]) == 2
    assert "is not a training run" in capsys.readouterr().err


def test_evaluate_a_run(tmp_path, capsys):
    run = tmp_path / "run"
    assert (
        main(["train", "--model", "dcgan", "--subset", "128", "--epochs", "1", "--out", str(run)])
        == 0
    )
    capsys.readouterr()
    assert main(["evaluate", "--run", str(run), "--n", "200"]) == 0
    out = capsys.readouterr().out
    assert "FID" in out and "KID" in out and "features: fashion_mnist" in out
    # with --json, stdout is the report alone (the checkpoint note goes to stderr)
    assert main(["evaluate", "--run", str(run), "--n", "200", "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["source"] == f"run {run} (epoch 1)"
    assert "Restored checkpoint" in captured.err


def test_notebooks_and_the_cli_share_one_runs_folder(monkeypatch, tmp_path):
    # A notebook's kernel works in notebooks/, the CLI usually in the repository root: without
    # GANCOURSE_RUNS_DIR both must still find the same runs (notebook 06 resumes a CLI run).
    from gancourse import config

    monkeypatch.delenv("GANCOURSE_RUNS_DIR", raising=False)
    assert config.REPO_ROOT is not None  # the tests run from a checkout
    for folder in (config.REPO_ROOT, config.REPO_ROOT / "notebooks"):
        monkeypatch.chdir(folder)
        assert config.runs_dir() == config.REPO_ROOT / "runs"
    monkeypatch.setenv("GANCOURSE_RUNS_DIR", str(tmp_path))
    assert config.runs_dir() == tmp_path


def test_evaluate_prints_the_same_numbers_every_time(capsys):
    # README figures must reproduce: seeded latent vectors, seeded reference subset and KID subsets
    runs = []
    for _ in range(2):
        assert main(["evaluate", "--pretrained", "dcgan-mnist", "--n", "200", "--json"]) == 0
        runs.append(json.loads(capsys.readouterr().out))
    for key in ("fid", "kid_mean", "is_mean", "precision", "recall", "class_histogram"):
        assert runs[0][key] == runs[1][key], key
    assert (
        main(["evaluate", "--pretrained", "dcgan-mnist", "--n", "200", "--json", "--seed", "1"])
        == 0
    )
    assert json.loads(capsys.readouterr().out)["fid"] != runs[0]["fid"]
