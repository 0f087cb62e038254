"""Trainer's loop, evaluation, callbacks and data handling on a tiny BERT classifier and the real fortune_topics
rows (tokenized by our tokenizer, batched by our collators)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import ferroformers
from ferroformers import (
    AutoTokenizer,
    EarlyStoppingCallback,
    EvalPrediction,
    Trainer,
    TrainerCallback,
    TrainingArguments,
)
from ferroformers.models.bert import BertConfig, BertForSequenceClassification
from ferroformers.trainer import checkpoint


@pytest.fixture(scope="module")
def tokenizer(tokenizers_dir):
    return AutoTokenizer.from_pretrained(tokenizers_dir / "bert-uncased")


@pytest.fixture(scope="module")
def splits(shared_dir, tokenizer, tmp_path_factory):
    from datasets import load_dataset

    folder = shared_dir / "datasets" / "fortune_topics"
    data = load_dataset(
        "json",
        data_files={"train": str(folder / "train.jsonl"), "test": str(folder / "test.jsonl")},
        cache_dir=str(tmp_path_factory.mktemp("datasets-cache")),
    )
    data = data.map(lambda batch: tokenizer(batch["text"], truncation=True, max_length=48), batched=True)
    return data["train"].select(range(96)), data["test"].select(range(48))


def _model(vocab_size: int, seed: int = 3) -> BertForSequenceClassification:
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=37,
        num_labels=5,
    )
    return BertForSequenceClassification(config)


def _accuracy(eval_pred: EvalPrediction) -> dict[str, float]:
    logits, labels = eval_pred  # unpacks like transformers' EvalPrediction
    assert isinstance(logits, np.ndarray) and logits.shape == (len(labels), 5)
    return {"accuracy": float((logits.argmax(-1) == labels).mean())}


def _args(tmp_path, **overrides) -> TrainingArguments:
    values = dict(
        output_dir=str(tmp_path),
        per_device_train_batch_size=8,
        learning_rate=3e-3,
        seed=5,
        disable_tqdm=True,
        logging_steps=6,
        save_strategy="no",
    )
    values.update(overrides)
    return TrainingArguments(**values)


def test_train_evaluate_predict(tmp_path, tokenizer, splits, capsys):
    train, test = splits
    trainer = Trainer(
        model=_model(len(tokenizer)),
        args=_args(tmp_path, num_train_epochs=2, eval_strategy="epoch"),
        train_dataset=train,
        eval_dataset=test,
        processing_class=tokenizer,  # -> DataCollatorWithPadding, as in transformers
        compute_metrics=_accuracy,
    )
    output = trainer.train()
    assert output.global_step == 24 and output.metrics["epoch"] == 2.0
    history = trainer.state.log_history
    train_logs = [e for e in history if "loss" in e]
    assert [e["step"] for e in train_logs] == [6, 12, 18, 24]
    assert all({"loss", "grad_norm", "learning_rate", "epoch"} <= set(e) for e in train_logs)
    assert train_logs[-1]["learning_rate"] == 0.0  # the linear schedule ends at zero
    evals = [e for e in history if "eval_loss" in e]
    assert [e["epoch"] for e in evals] == [1.0, 2.0]
    assert {"eval_accuracy", "eval_runtime", "eval_samples_per_second", "eval_steps_per_second"} <= set(evals[0])
    assert "train_runtime" in history[-1] and "train_loss" in history[-1]
    printed = capsys.readouterr().out
    assert "'loss':" in printed and "'eval_accuracy':" in printed  # log lines, as transformers prints them
    # the unused columns (text, topic) were dropped from a copy: the user's dataset is untouched
    assert "text" in train.column_names

    metrics = trainer.evaluate()
    assert metrics["eval_loss"] == pytest.approx(evals[-1]["eval_loss"], abs=1e-6)
    prediction = trainer.predict(test)
    assert prediction.predictions.shape == (48, 5)
    assert prediction.label_ids.tolist() == test["label"]
    assert set(prediction.metrics) >= {"test_loss", "test_accuracy"}
    by_name = trainer.evaluate({"first": test.select(range(8)), "second": test.select(range(8, 24))})
    assert {"eval_first_loss", "eval_second_loss", "eval_first_accuracy"} <= set(by_name)


def test_training_learns(tmp_path, tokenizer, splits):
    train, _ = splits
    trainer = Trainer(
        model=_model(len(tokenizer)),
        args=_args(tmp_path, num_train_epochs=15, learning_rate=5e-3),
        train_dataset=train,
        processing_class=tokenizer,
        compute_metrics=_accuracy,
    )
    before = trainer.evaluate(train)["eval_loss"]
    trainer.train()
    after = trainer.evaluate(train)
    assert after["eval_loss"] < before * 0.7  # it fits the training rows
    assert after["eval_accuracy"] > 0.5


def test_torch_dataset_and_max_steps(tmp_path, tokenizer, shared_dir):
    rows = [json.loads(line) for line in (shared_dir / "datasets" / "fortune_topics" / "train.jsonl").open()][:40]

    class Fortunes(torch.utils.data.Dataset):
        def __len__(self):
            return len(rows)

        def __getitem__(self, i):
            encoded = tokenizer(rows[i]["text"], truncation=True, max_length=32)
            return {**encoded, "labels": rows[i]["label"], "topic": rows[i]["topic"]}  # topic: not a model input

    trainer = Trainer(
        model=_model(len(tokenizer)),
        args=_args(tmp_path, max_steps=7),
        train_dataset=Fortunes(),
        processing_class=tokenizer,
    )
    assert trainer.train().global_step == 7
    assert trainer.state.epoch == pytest.approx(7 / 5)


def test_callbacks_see_every_event(tmp_path, tokenizer, splits):
    events = []

    class Recorder(TrainerCallback):
        def __getattribute__(self, name):
            if name.startswith("on_"):
                return lambda args, state, control, **kw: events.append((name, state.global_step))
            return super().__getattribute__(name)

    train, test = splits
    trainer = Trainer(
        model=_model(len(tokenizer)),
        args=_args(
            tmp_path,
            max_steps=4,
            gradient_accumulation_steps=2,
            eval_strategy="steps",
            eval_steps=2,
            logging_steps=2,
            save_strategy="steps",
            save_steps=4,
        ),
        train_dataset=train,
        eval_dataset=test.select(range(8)),
        processing_class=tokenizer,
        callbacks=[Recorder],
    )
    trainer.train()
    names = [n for n, _ in events]
    assert names[0] == "on_init_end" and names[1] == "on_train_begin" and names[-1] == "on_train_end"
    assert names.count("on_step_begin") == names.count("on_step_end") == 4
    assert names.count("on_substep_end") == 4  # one per extra micro-batch of each accumulated step
    assert names.count("on_optimizer_step") == names.count("on_pre_optimizer_step") == 4
    assert [s for n, s in events if n == "on_evaluate"] == [2, 4]
    assert [s for n, s in events if n == "on_save"] == [4]
    assert "on_prediction_step" in names and "on_log" in names and "on_epoch_begin" in names


def test_best_model_early_stopping_and_checkpoint_limit(tmp_path, tokenizer, splits):
    train, test = splits

    trainer = Trainer(
        model=_model(len(tokenizer)),
        args=_args(
            tmp_path,
            num_train_epochs=30,
            learning_rate=5e-2,
            eval_strategy="epoch",
            save_strategy="epoch",
            load_best_model_at_end=True,
            metric_for_best_model="accuracy",
            save_total_limit=1,
        ),
        train_dataset=train,
        eval_dataset=test,
        processing_class=tokenizer,
        compute_metrics=_accuracy,
        callbacks=[EarlyStoppingCallback(early_stopping_patience=2)],
    )
    trainer.train()
    evals = [e["eval_accuracy"] for e in trainer.state.log_history if "eval_accuracy" in e]
    best = max(evals)
    assert trainer.state.best_metric == best
    best_index = evals.index(best)
    # stopped two evaluations after the last improvement, long before 30 epochs
    assert len(evals) < 40 and len(evals) - 1 - best_index == 2
    # the best checkpoint is kept beside the latest one despite save_total_limit=1, and its weights are loaded
    kept = [p.name for p in checkpoint.checkpoints(tmp_path)]
    assert trainer.state.best_model_checkpoint.endswith(f"checkpoint-{(best_index + 1) * 12}")
    assert len(kept) == 2 and trainer.state.best_model_checkpoint.split("/")[-1] in kept
    assert trainer.evaluate()["eval_accuracy"] == pytest.approx(best)


def test_bf16_autocast_on_cpu(tmp_path, tokenizer, splits):
    train, _ = splits
    trainer = Trainer(
        model=_model(len(tokenizer)),
        args=_args(tmp_path, max_steps=3, bf16=True),
        train_dataset=train,
        processing_class=tokenizer,
    )
    seen = []
    trainer.model.classifier.register_forward_hook(lambda m, i, o: seen.append(o.dtype))
    trainer.train()
    assert seen and all(dtype == torch.bfloat16 for dtype in seen)
    assert trainer.model.classifier.weight.dtype == torch.float32  # master weights stay float32


def test_save_model_round_trip(tmp_path, tokenizer, splits):
    train, _ = splits
    trainer = Trainer(
        model=_model(len(tokenizer)), args=_args(tmp_path, max_steps=2), train_dataset=train, processing_class=tokenizer
    )
    trainer.train()
    trainer.save_model(str(tmp_path / "final"))
    reloaded = ferroformers.AutoModelForSequenceClassification.from_pretrained(tmp_path / "final")
    assert all(torch.equal(v, reloaded.state_dict()[k]) for k, v in trainer.model.state_dict().items())
    assert AutoTokenizer.from_pretrained(tmp_path / "final")("a b")["input_ids"] == tokenizer("a b")["input_ids"]
    assert json.loads((tmp_path / "final" / "training_args.json").read_text())["max_steps"] == 2


def test_clear_errors(tmp_path, tokenizer, splits, tokenizers_dir):
    train, _ = splits
    with pytest.raises(ValueError, match="needs a model"):
        Trainer(args=_args(tmp_path))
    with pytest.raises(ValueError, match="tokenize the dataset first"):
        Trainer(
            model=_model(len(tokenizer)),
            args=_args(tmp_path, max_steps=1),
            train_dataset=train.select_columns(["text", "topic"]),
            processing_class=tokenizer,
        ).train()
    with pytest.raises(FileNotFoundError, match="no complete checkpoint"):
        Trainer(
            model=_model(len(tokenizer)),
            args=_args(tmp_path / "empty", max_steps=1),
            train_dataset=train,
            processing_class=tokenizer,
        ).train(resume_from_checkpoint=True)
    with pytest.raises(ValueError, match="no loss"):
        Trainer(
            model=_model(len(tokenizer)),
            args=_args(tmp_path, max_steps=1),
            train_dataset=train.remove_columns(["label"]),
            processing_class=tokenizer,
        ).train()
    with pytest.raises(ValueError, match="fp16 training needs a CUDA device"):
        Trainer(model=_model(len(tokenizer)), args=_args(tmp_path, fp16=True, use_cpu=True))
    with pytest.raises(ValueError, match="processing_class or its older name tokenizer"):
        Trainer(
            model=_model(len(tokenizer)),
            args=_args(tmp_path),
            processing_class=tokenizer,
            tokenizer=AutoTokenizer.from_pretrained(tokenizer.name_or_path),
        )


def test_report_to_tensorboard_writes_events(tmp_path, tokenizer, splits):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    train, test = splits
    trainer = Trainer(
        model=_model(len(tokenizer)),
        args=_args(
            tmp_path, max_steps=4, logging_steps=2, eval_strategy="steps", eval_steps=4, report_to="tensorboard"
        ),
        train_dataset=train,
        eval_dataset=test.select(range(8)),
        processing_class=tokenizer,
    )
    trainer.train()
    runs = tmp_path / "runs"
    events = EventAccumulator(str(runs))
    events.Reload()
    scalars = events.Tags()["scalars"]
    assert {"train/loss", "train/learning_rate", "eval/loss"} <= set(scalars)
    assert [e.step for e in events.Scalars("train/loss")] == [2, 4]


def test_progress_bar_and_log_lines(tmp_path, tokenizer, splits, capsys):
    train, _ = splits
    trainer = Trainer(
        model=_model(len(tokenizer)),
        args=_args(tmp_path, max_steps=4, logging_steps=2, disable_tqdm=False),
        train_dataset=train,
        processing_class=tokenizer,
    )
    trainer.train()
    captured = capsys.readouterr()
    assert "4/4" in captured.err  # the training bar reached the last step
    assert captured.out.count("'loss':") == 2 and "'train_runtime':" in captured.out


def test_dataloader_workers_give_the_same_training(tmp_path, tokenizer, splits):
    train, _ = splits
    results = []
    for workers in (0, 2):
        trainer = Trainer(
            model=_model(len(tokenizer)),
            args=_args(tmp_path / str(workers), max_steps=3, dataloader_num_workers=workers),
            train_dataset=train,
            processing_class=tokenizer,
        )
        trainer.train()
        results.append(trainer.model.state_dict())
    assert all(torch.equal(results[0][k], results[1][k]) for k in results[0])


def test_full_determinism(tmp_path, tokenizer, splits):
    train, _ = splits
    try:
        runs = []
        for _ in range(2):
            trainer = Trainer(
                model=_model(len(tokenizer)),
                args=_args(tmp_path, max_steps=3, full_determinism=True),
                train_dataset=train,
                processing_class=tokenizer,
            )
            assert torch.are_deterministic_algorithms_enabled()
            trainer.train()
            runs.append(trainer.model.state_dict())
        assert all(torch.equal(runs[0][k], runs[1][k]) for k in runs[0])
    finally:
        torch.use_deterministic_algorithms(False)
