"""TrainingArguments' names, defaults and checks, and the learning-rate schedules against transformers'."""

from __future__ import annotations

import pytest
import torch
import transformers

from ferroformers import TrainingArguments, get_scheduler
from ferroformers.trainer.optimization import decay_parameter_names

SCHEDULES = ["linear", "cosine", "cosine_with_restarts", "polynomial", "constant", "constant_with_warmup"]


def _learning_rates(factory, name: str, warmup: int, total: int, extra: dict | None = None) -> list[float]:
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    scheduler = factory(
        name, optimizer, num_warmup_steps=warmup, num_training_steps=total, scheduler_specific_kwargs=extra
    )
    rates = []
    for _ in range(total + 3):
        rates.append(scheduler.get_last_lr()[0])
        optimizer.step()
        scheduler.step()
    return rates


@pytest.mark.parametrize("name", SCHEDULES)
@pytest.mark.parametrize("warmup", [0, 3])
def test_schedules_equal_transformers(name, warmup):
    extra = {"num_cycles": 2} if name == "cosine_with_restarts" else None
    ours = _learning_rates(get_scheduler, name, warmup, 20, extra)
    theirs = _learning_rates(transformers.get_scheduler, name, warmup, 20, extra)
    assert ours == pytest.approx(theirs, abs=1e-12)
    flat = name == "constant" or (name == "constant_with_warmup" and warmup == 0)
    assert len(set(ours)) == 1 if flat else len(set(ours)) > 2


def test_schedule_state_resumes_on_the_same_curve():
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    scheduler = get_scheduler("cosine", optimizer, num_warmup_steps=2, num_training_steps=10)
    for _ in range(4):
        optimizer.step()
        scheduler.step()
    state = scheduler.state_dict()
    fresh_optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    fresh = get_scheduler("cosine", fresh_optimizer, num_warmup_steps=2, num_training_steps=10)
    fresh.load_state_dict(state)
    for _ in range(3):
        for opt, sch in ((optimizer, scheduler), (fresh_optimizer, fresh)):
            opt.step()
            sch.step()
        assert fresh.get_last_lr() == scheduler.get_last_lr()


def test_defaults_equal_transformers(tmp_path):
    ours = TrainingArguments(output_dir=str(tmp_path))
    theirs = transformers.TrainingArguments(output_dir=str(tmp_path))
    for name in (
        "num_train_epochs",
        "max_steps",
        "per_device_train_batch_size",
        "per_device_eval_batch_size",
        "gradient_accumulation_steps",
        "learning_rate",
        "weight_decay",
        "adam_beta1",
        "adam_beta2",
        "adam_epsilon",
        "max_grad_norm",
        "warmup_steps",
        "eval_steps",
        "save_steps",
        "logging_steps",
        "save_total_limit",
        "seed",
        "load_best_model_at_end",
        "metric_for_best_model",
        "dataloader_num_workers",
        "remove_unused_columns",
        "label_names",
        "bf16",
        "fp16",
        "use_cpu",
        "full_determinism",
        "logging_first_step",
    ):
        assert getattr(ours, name) == getattr(theirs, name), name
    for name in ("eval_strategy", "save_strategy", "logging_strategy", "lr_scheduler_type", "optim"):
        assert ours.__getattribute__(name) == getattr(theirs, name).value, name
    assert ours.report_to == [] == theirs.report_to


def test_old_and_new_names(tmp_path):
    old = TrainingArguments(output_dir=str(tmp_path), evaluation_strategy="epoch", warmup_ratio=0.1)
    new = TrainingArguments(output_dir=str(tmp_path), eval_strategy="epoch", warmup_steps=0.1)
    assert old.eval_strategy == new.eval_strategy == "epoch"
    assert old.get_warmup_steps(95) == new.get_warmup_steps(95) == 10
    assert TrainingArguments(output_dir=str(tmp_path), warmup_steps=7).get_warmup_steps(95) == 7


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"eval_strategy": "sometimes"}, "eval_strategy must be one of no, steps, epoch"),
        ({"lr_scheduler_type": "zigzag"}, "lr_scheduler_type must be one of"),
        ({"optim": "sgd"}, "optimizers=\\(optimizer, scheduler\\)"),
        ({"per_device_train_batch_size": 0}, "per_device_train_batch_size must be >= 1"),
        ({"load_best_model_at_end": True}, "needs evaluation"),
        ({"load_best_model_at_end": True, "eval_strategy": "epoch"}, "save_strategy \\('steps'\\) must equal"),
        ({"fp16": True, "bf16": True}, "exclusive"),
        ({"report_to": "wandb"}, "report_to 'wandb' is not supported"),
        ({"warmup_ratio": 0.1, "warmup_steps": 5}, "not both"),
    ],
)
def test_bad_arguments_are_explained(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        TrainingArguments(output_dir=str(tmp_path), **kwargs)


def test_unsupported_argument_is_named(tmp_path):
    with pytest.raises(TypeError, match="deepspeed"):
        TrainingArguments(output_dir=str(tmp_path), deepspeed="ds.json")


def test_best_model_defaults(tmp_path):
    args = TrainingArguments(
        output_dir=str(tmp_path), load_best_model_at_end=True, eval_strategy="epoch", save_strategy="epoch"
    )
    assert args.metric_for_best_model == "loss" and args.greater_is_better is False
    accuracy = TrainingArguments(output_dir=str(tmp_path), metric_for_best_model="accuracy")
    assert accuracy.greater_is_better is True


def test_weight_decay_spares_biases_and_norms():
    from ferroformers.models.bert import BertConfig, BertForSequenceClassification
    from ferroformers.models.llama import LlamaConfig, LlamaForCausalLM

    bert = BertForSequenceClassification(
        BertConfig(vocab_size=50, hidden_size=8, num_hidden_layers=1, num_attention_heads=2, intermediate_size=16)
    )
    decayed = set(decay_parameter_names(bert))
    assert "classifier.weight" in decayed and "bert.embeddings.word_embeddings.weight" in decayed
    assert not any(n.endswith("bias") or "LayerNorm" in n for n in decayed)
    reference = transformers.Trainer.get_decay_parameter_names(None, bert)
    assert decayed == set(reference)
    llama = LlamaForCausalLM(
        LlamaConfig(vocab_size=50, hidden_size=8, intermediate_size=16, num_hidden_layers=1, num_attention_heads=2)
    )
    assert not any("norm" in n for n in decay_parameter_names(llama))
    assert "model.layers.0.mlp.up_proj.weight" in decay_parameter_names(llama)
