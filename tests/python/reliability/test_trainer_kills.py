"""A Trainer run SIGKILLed at random points always leaves a latest checkpoint that loads whole, and resuming
from it ends with the weights of a run that was never interrupted.

One run is killed again and again, each time resumed: at events chosen by a seeded generator (an optimizer
step, halfway through writing a checkpoint file, before and after the publishing rename, while rotating; see
`kill_train.py`) and, from outside, after a random delay once training has started. After every kill each
`checkpoint-*` folder must be complete and load (weights through safetensors, optimizer / scheduler / RNG state
with `torch.load(weights_only=True)`, `trainer_state.json` agreeing with the folder's step); a last run resumes
to the end and its weights must equal, bit for bit, those of one uninterrupted run.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from ferroformers.trainer import checkpoint

SCRIPT = Path(__file__).with_name("kill_train.py")
TRAINING = ["--max-steps", "12", "--save-steps", "2"]  # 10 steps an epoch: the run crosses into a second one
CHECKPOINT_FILES = (
    "model.safetensors",
    "config.json",
    "optimizer.pt",
    "scheduler.pt",
    "rng_state.pth",
    "trainer_state.json",
    "training_args.json",
)
SEED = int(os.environ.get("FERRO_KILL_SEED", "0"))
EVENT_KILLS = int(os.environ.get("FERRO_KILL_EVENTS", "4"))
TIMED_KILLS = int(os.environ.get("FERRO_KILL_TIMED", "1"))


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"}


def _check_checkpoints(output_dir: Path) -> int:
    """Every published checkpoint is whole and loads; returns the latest one's step (0 when none)."""
    found = checkpoint.checkpoints(output_dir)
    for folder in found:
        missing = [name for name in CHECKPOINT_FILES if not (folder / name).is_file()]
        assert not missing, f"{folder.name} was published without {missing}"
        weights = load_file(folder / "model.safetensors")
        assert weights and all(torch.isfinite(t).all() for t in weights.values())
        for name in ("optimizer.pt", "scheduler.pt", "rng_state.pth"):
            checkpoint.load_tensors(folder / name)
        state = json.loads((folder / "trainer_state.json").read_text())
        assert state["global_step"] == int(folder.name.split("-")[1])
    assert not any(p.name.startswith("checkpoint-") and p not in found for p in output_dir.iterdir())
    return int(found[-1].name.split("-")[1]) if found else 0


def _killed_run(output_dir: Path, rng: random.Random, timed: bool, resume: bool) -> str:
    """Start the training (resuming once a checkpoint exists), kill it, return where it died."""
    events = output_dir.parent / "events.txt"
    events.unlink(missing_ok=True)
    command = [sys.executable, str(SCRIPT), str(output_dir), *TRAINING, "--events", str(events)]
    if resume:
        command.append("--resume")
    if not timed:
        command += ["--kill-at", str(rng.randint(1, 25))]  # a whole run has ~70 events
    process = subprocess.Popen(command, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if timed:
        deadline = time.time() + 120
        while not (events.exists() and "started" in events.read_text()):
            if process.poll() == 0:
                return "finished before the kill"
            assert process.poll() is None, process.stdout.read().decode()[-3000:]
            assert time.time() < deadline, "the training never started"
            time.sleep(0.02)
        time.sleep(rng.uniform(0.0, 0.6))
        process.send_signal(signal.SIGKILL)
    output = process.communicate(timeout=120)[0].decode()
    if process.returncode == 0:
        return "finished before the kill"
    assert process.returncode == -signal.SIGKILL, output[-3000:]
    lines = events.read_text().splitlines() if events.exists() else []
    return f"{'timed' if timed else 'event'}: after {lines[-1] if lines else 'start-up'}"


@pytest.mark.slow
def test_trainer_killed_at_random_points_resumes_to_the_uninterrupted_weights(tmp_path):
    straight = tmp_path / "straight"
    subprocess.run([sys.executable, str(SCRIPT), str(straight), *TRAINING], env=_env(), check=True)
    expected = load_file(straight / "final.safetensors")

    rng = random.Random(SEED)
    kinds = [False] * EVENT_KILLS + [True] * TIMED_KILLS
    rng.shuffle(kinds)
    output_dir = tmp_path / "killed"
    where, steps = [], []
    for timed in kinds:
        where.append(_killed_run(output_dir, rng, timed, resume=checkpoint.last_checkpoint(output_dir) is not None))
        steps.append(_check_checkpoints(output_dir) if output_dir.exists() else 0)
    assert steps == sorted(steps), f"a kill lost a published checkpoint: {list(zip(where, steps))}"

    final = subprocess.run(
        [sys.executable, str(SCRIPT), str(output_dir), *TRAINING, "--resume"],
        env=_env(),
        capture_output=True,
        text=True,
    )
    assert final.returncode == 0, final.stdout[-3000:] + final.stderr[-3000:]
    assert _check_checkpoints(output_dir) == 12
    resumed = load_file(output_dir / "final.safetensors")
    assert resumed.keys() == expected.keys()
    different = [k for k in expected if not torch.equal(resumed[k], expected[k])]
    assert not different, f"resumed weights differ after kills at {where}: {different[:5]}"
    assert not any(p.name.startswith(("tmp-checkpoint-", "old-checkpoint-")) for p in output_dir.iterdir())
    print("kills:", *(f"{w} (latest checkpoint: step {s})" for w, s in zip(where, steps)), sep="\n  ")


def test_resuming_a_finished_run_trains_no_further(tmp_path, tokenizers_dir, shared_dir):
    """A kill after the last checkpoint (or a plain rerun with resume) must not train past max_steps."""
    import importlib.util

    from ferroformers import AutoTokenizer, Trainer, TrainingArguments

    spec = importlib.util.spec_from_file_location("train_script", SCRIPT.parents[1] / "trainer" / "train_script.py")
    train_script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train_script)
    tokenizer = AutoTokenizer.from_pretrained(tokenizers_dir / "bert-uncased")
    data = train_script.build_dataset(tokenizer, 12)
    args = TrainingArguments(
        output_dir=str(tmp_path), max_steps=3, save_steps=3, per_device_train_batch_size=4, disable_tqdm=True
    )
    build = dict(args=args, train_dataset=data, processing_class=tokenizer)
    Trainer(model=train_script.build_model(len(tokenizer)), **build).train()
    model = train_script.build_model(len(tokenizer))
    output = Trainer(model=model, **build).train(resume_from_checkpoint=True)
    assert output.global_step == 3
    assert [p.name for p in checkpoint.checkpoints(tmp_path)] == ["checkpoint-3"]
    saved = load_file(tmp_path / "checkpoint-3" / "model.safetensors")
    assert all(torch.equal(v, saved[k]) for k, v in model.state_dict().items() if k in saved)
