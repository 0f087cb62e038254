"""What the Trainer promises beyond a loop: exact resume, crash-safe checkpoints, gradient accumulation equal to
one large batch, and DDP equal to one process with the same global batch."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import ferroformers
from ferroformers import AutoTokenizer, Trainer, TrainerCallback, TrainingArguments
from ferroformers.data import DataCollatorForLanguageModeling
from ferroformers.models.bert import BertConfig, BertForSequenceClassification
from ferroformers.models.gpt2 import GPT2Config, GPT2LMHeadModel
from ferroformers.trainer import checkpoint

SCRIPT = Path(__file__).with_name("train_script.py")


@pytest.fixture(scope="module")
def bert_tokenizer(tokenizers_dir):
    return AutoTokenizer.from_pretrained(tokenizers_dir / "bert-uncased")


@pytest.fixture(scope="module")
def fortune_rows(shared_dir):
    import json

    with open(shared_dir / "datasets" / "fortune_topics" / "train.jsonl", encoding="utf-8") as f:
        return [json.loads(line) for line in f][:64]


def _features(tokenizer, rows):
    return [{**tokenizer(r["text"], truncation=True, max_length=48), "label": r["label"]} for r in rows]


def _classifier(vocab_size: int, dropout: float) -> BertForSequenceClassification:
    torch.manual_seed(99)
    config = BertConfig(
        vocab_size=vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=37,
        num_labels=5,
        hidden_dropout_prob=dropout,
        attention_probs_dropout_prob=dropout,
    )
    return BertForSequenceClassification(config)


def _weights(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


class StopAt(TrainerCallback):
    """Interrupt training after `step` (the step's checkpoint is written first)."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_save(self, args, state, control, **kwargs):
        if state.global_step == self.step:
            control.should_training_stop = True
        return control


def _args(output_dir, **overrides) -> TrainingArguments:
    values = dict(
        output_dir=str(output_dir),
        per_device_train_batch_size=4,
        max_steps=10,
        save_steps=5,
        logging_steps=2,
        learning_rate=2e-3,
        warmup_steps=2,
        seed=11,
        disable_tqdm=True,
    )
    values.update(overrides)
    return TrainingArguments(**values)


def test_resume_gives_bitwise_equal_weights(tmp_path, bert_tokenizer, fortune_rows):
    # 24 rows / batch 4 = 6 steps per epoch: the checkpoint at step 5 is mid-epoch and training then crosses an
    # epoch boundary; dropout is on, so the restored random state matters too.
    data = _features(bert_tokenizer, fortune_rows[:24])
    straight = Trainer(
        model=_classifier(len(bert_tokenizer), 0.1),
        args=_args(tmp_path / "straight"),
        train_dataset=data,
        processing_class=bert_tokenizer,
    )
    straight.train()
    expected = _weights(straight.model)

    interrupted = Trainer(
        model=_classifier(len(bert_tokenizer), 0.1),
        args=_args(tmp_path / "resumed"),
        train_dataset=data,
        processing_class=bert_tokenizer,
        callbacks=[StopAt(5)],
    )
    interrupted.train()
    assert interrupted.state.global_step == 5
    assert [p.name for p in checkpoint.checkpoints(tmp_path / "resumed")] == ["checkpoint-5"]

    torch.manual_seed(12345)  # whatever the fresh process did to the random state before resuming
    resumed = Trainer(
        model=_classifier(len(bert_tokenizer), 0.1),
        args=_args(tmp_path / "resumed"),
        train_dataset=data,
        processing_class=bert_tokenizer,
    )
    output = resumed.train(resume_from_checkpoint=True)
    assert output.global_step == 10
    got = _weights(resumed.model)
    assert got.keys() == expected.keys()
    for name in expected:
        assert torch.equal(got[name], expected[name]), name
    # the log history continues the interrupted run's
    steps = [entry["step"] for entry in resumed.state.log_history if "loss" in entry]
    assert steps == [2, 4, 6, 8, 10]
    assert resumed.state.log_history[:2] == interrupted.state.log_history[:2]


def test_checkpoint_contents(tmp_path, bert_tokenizer, fortune_rows):
    trainer = Trainer(
        model=_classifier(len(bert_tokenizer), 0.0),
        args=_args(tmp_path, max_steps=4, save_steps=2, save_total_limit=1),
        train_dataset=_features(bert_tokenizer, fortune_rows[:16]),
        processing_class=bert_tokenizer,
    )
    trainer.train()
    assert [p.name for p in checkpoint.checkpoints(tmp_path)] == ["checkpoint-4"]  # the limit removed step 2
    files = {p.name for p in (tmp_path / "checkpoint-4").iterdir()}
    assert {
        "model.safetensors",
        "config.json",
        "tokenizer.json",
        "tokenizer_config.json",
        "optimizer.pt",
        "scheduler.pt",
        "rng_state.pth",
        "trainer_state.json",
        "training_args.json",
    } <= files
    reloaded = ferroformers.AutoModelForSequenceClassification.from_pretrained(tmp_path / "checkpoint-4")
    for name, value in trainer.model.state_dict().items():
        assert torch.equal(reloaded.state_dict()[name], value)
    for name in ("optimizer.pt", "scheduler.pt", "rng_state.pth"):
        torch.load(tmp_path / "checkpoint-4" / name, weights_only=True)  # no pickled code inside


@pytest.mark.slow
def test_killed_save_leaves_the_previous_checkpoint(tmp_path):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, str(SCRIPT), str(tmp_path), "--max-steps", "8", "--save-steps", "4", "--slow-save", "8"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    # checkpoint-4 is published normally; the save of checkpoint-8 stops once staged: kill it there
    deadline = time.time() + 240
    while not (tmp_path / "staged-8").exists():
        assert process.poll() is None, process.stdout.read().decode()
        assert time.time() < deadline, "the training script never reached the second save"
        time.sleep(0.2)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    # the staged checkpoint-8 was never published: checkpoint-4 is the latest complete one
    assert checkpoint.last_checkpoint(tmp_path).name == "checkpoint-4"
    assert (tmp_path / "tmp-checkpoint-8").is_dir() and not (tmp_path / "checkpoint-8").exists()

    # ... and it resumes: the rerun ends with the weights of an uninterrupted run
    subprocess.run([sys.executable, str(SCRIPT), str(tmp_path), "--resume"], env=env, check=True, capture_output=True)
    subprocess.run([sys.executable, str(SCRIPT), str(tmp_path / "straight")], env=env, check=True, capture_output=True)
    resumed, straight = (
        load_file(tmp_path / "final.safetensors"),
        load_file(tmp_path / "straight" / "final.safetensors"),
    )
    assert resumed.keys() == straight.keys()
    assert all(torch.equal(resumed[k], straight[k]) for k in straight)
    assert not (tmp_path / "tmp-checkpoint-8").exists()  # the half-written folder was cleaned up


def test_gradient_accumulation_equals_one_large_batch(tmp_path, bert_tokenizer, fortune_rows):
    data = _features(bert_tokenizer, fortune_rows[:48])
    results = []
    for batch, accumulation in ((16, 1), (4, 4)):
        trainer = Trainer(
            model=_classifier(len(bert_tokenizer), 0.0),
            args=_args(
                tmp_path / f"b{batch}",
                per_device_train_batch_size=batch,
                gradient_accumulation_steps=accumulation,
                max_steps=3,
                save_strategy="no",
            ),
            train_dataset=data,
            processing_class=bert_tokenizer,
        )
        trainer.train()
        results.append((_weights(trainer.model), [e["loss"] for e in trainer.state.log_history if "loss" in e]))
    (large, large_losses), (accumulated, accumulated_losses) = results
    for name in large:
        assert torch.allclose(large[name], accumulated[name], atol=1e-6, rtol=0), name
    assert large_losses == pytest.approx(accumulated_losses, abs=1e-4)


def test_accumulation_weights_tokens_not_micro_batches(tmp_path, tokenizers_dir, corpus_texts):
    """A causal LM on texts of different lengths: the accumulated loss is the mean over all tokens of the
    window, as with one large batch (averaging the micro-batches' means would weight short texts more)."""
    tokenizer = AutoTokenizer.from_pretrained(tokenizers_dir / "gpt2")
    tokenizer.pad_token = tokenizer.eos_token
    texts = [t[: 40 + 37 * i] for i, t in enumerate(corpus_texts("en", 16))]
    data = [tokenizer(t, truncation=True, max_length=64) for t in texts]
    collator = DataCollatorForLanguageModeling(tokenizer, mlm=False)
    results = []
    for batch, accumulation in ((8, 1), (2, 4)):
        torch.manual_seed(5)
        model = GPT2LMHeadModel(
            GPT2Config(
                vocab_size=len(tokenizer),
                n_embd=32,
                n_layer=2,
                n_head=2,
                n_positions=64,
                resid_pdrop=0.0,
                embd_pdrop=0.0,
                attn_pdrop=0.0,
            )
        )
        trainer = Trainer(
            model=model,
            args=_args(
                tmp_path / f"lm{batch}",
                per_device_train_batch_size=batch,
                gradient_accumulation_steps=accumulation,
                max_steps=2,
                save_strategy="no",
            ),
            train_dataset=data,
            data_collator=collator,
        )
        trainer.train()
        results.append(_weights(trainer.model))
    for name in results[0]:
        assert torch.allclose(results[0][name], results[1][name], atol=1e-6, rtol=0), name


@pytest.mark.slow
def test_ddp_two_processes_equal_one_process(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    (tmp_path / "writes").mkdir()
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_port=29531"]
    ddp = subprocess.run(
        [*torchrun, str(SCRIPT), str(tmp_path / "ddp"), "--batch", "4", "--record-writes", str(tmp_path / "writes")],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert ddp.returncode == 0, ddp.stdout[-3000:] + ddp.stderr[-3000:]
    single = subprocess.run(
        [sys.executable, str(SCRIPT), str(tmp_path / "single"), "--batch", "8"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert single.returncode == 0, single.stderr[-3000:]
    a = load_file(tmp_path / "ddp" / "final.safetensors")
    b = load_file(tmp_path / "single" / "final.safetensors")
    for name in b:
        assert torch.allclose(a[name], b[name], atol=1e-5, rtol=0), name
    # rank 0 wrote the checkpoints, with both processes' random states; rank 1 wrote nothing
    ranks = {p.name for p in (tmp_path / "ddp" / "checkpoint-8").iterdir() if p.name.startswith("rng_state")}
    assert ranks == {"rng_state_0.pth", "rng_state_1.pth"}
    assert (tmp_path / "writes" / "writes-0.txt").read_text().count("optimizer.pt") == 2
    assert not (tmp_path / "writes" / "writes-1.txt").exists()
    # one log line per logging step, from rank 0 only
    assert ddp.stdout.count("'loss'") == 4, ddp.stdout
