"""BERT, DistilBERT and RoBERTa × every head against transformers on the same weights, both directions.

A tiny random model is built and saved by transformers (the test-only reference); ferroformers loads the
folder and must give the same logits and loss on a padded batch. Then the reverse: ferroformers saves,
transformers loads the folder with no missing or unexpected weight, same logits.
"""

from __future__ import annotations

import pytest
import torch
import transformers

import ferroformers
from ferroformers.models.auto import MODEL_REGISTRY

ATOL = 1e-5

TINY = {
    "bert": (
        transformers.BertConfig,
        dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37),
    ),
    "distilbert": (transformers.DistilBertConfig, dict(dim=32, n_layers=2, n_heads=4, hidden_dim=37)),
    "roberta": (
        transformers.RobertaConfig,
        dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37),
    ),
}
HEADS = [
    "AutoModel",
    "AutoModelForMaskedLM",
    "AutoModelForSequenceClassification",
    "AutoModelForTokenClassification",
    "AutoModelForQuestionAnswering",
]
NUM_LABELS = {"AutoModelForQuestionAnswering": 2}


def tiny_config(arch: str, head: str):
    cls, kwargs = TINY[arch]
    return cls(vocab_size=99, max_position_embeddings=40, num_labels=NUM_LABELS.get(head, 3), **kwargs)


def padded_batch(pad_token_id: int, seed: int = 0) -> dict[str, torch.Tensor]:
    """3 sequences of 9, 6 and 3 tokens, right-padded with the model's pad id."""
    g = torch.Generator().manual_seed(seed)
    input_ids = torch.randint(3, 99, (3, 9), generator=g)
    attention_mask = torch.ones(3, 9, dtype=torch.long)
    attention_mask[1, 6:] = 0
    attention_mask[2, 3:] = 0
    input_ids[attention_mask == 0] = pad_token_id
    return {"input_ids": input_ids, "attention_mask": attention_mask}


def labels_for(head: str, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    B, T = batch["input_ids"].shape
    g = torch.Generator().manual_seed(1)
    if head == "AutoModelForMaskedLM":
        labels = torch.randint(0, 99, (B, T), generator=g)
        labels[batch["attention_mask"] == 0] = -100
        labels[0, :4] = -100
        return {"labels": labels}
    if head == "AutoModelForSequenceClassification":
        return {"labels": torch.tensor([0, 2, 1])}
    if head == "AutoModelForTokenClassification":
        labels = torch.randint(0, 3, (B, T), generator=g)
        labels[batch["attention_mask"] == 0] = -100
        return {"labels": labels}
    if head == "AutoModelForQuestionAnswering":
        # The last position is outside the sequence: clamped and ignored, as in transformers.
        return {"start_positions": torch.tensor([1, 2, 50]), "end_positions": torch.tensor([3, 4, 50])}
    return {}


def max_diff(a, b) -> float:
    return (a - b).abs().max().item()


def compare(theirs, ours, keys) -> float:
    worst = 0.0
    for key in keys:
        assert ours[key].shape == theirs[key].shape, key
        worst = max(worst, max_diff(theirs[key], ours[key]))
    return worst


def output_keys(head: str) -> list[str]:
    if head == "AutoModel":
        return ["last_hidden_state"]
    if head == "AutoModelForQuestionAnswering":
        return ["start_logits", "end_logits"]
    return ["logits"]


@pytest.mark.parametrize("head", HEADS)
@pytest.mark.parametrize("arch", sorted(TINY))
def test_loads_transformers_checkpoint(arch, head, tmp_path):
    torch.manual_seed(0)
    config = tiny_config(arch, head)
    reference = getattr(transformers, head).from_config(config).eval()
    reference.save_pretrained(tmp_path)

    model = getattr(ferroformers, head).from_pretrained(tmp_path)
    assert type(model).__name__ == type(reference).__name__
    assert not model.training

    batch = padded_batch(config.pad_token_id)
    labels = labels_for(head, batch)
    with torch.no_grad():
        theirs = reference(**batch, **labels)
        ours = model(**batch, **labels)
    assert compare(theirs, ours, output_keys(head)) <= ATOL
    if labels:
        assert ours.loss is not None and ours.loss.dim() == 0
        assert abs(ours.loss.item() - theirs.loss.item()) <= ATOL
    if head == "AutoModel" and arch != "distilbert":
        assert max_diff(theirs.pooler_output, ours.pooler_output) <= ATOL
    # Tuple-style access gives the same first field.
    assert ours[0] is (ours.loss if labels else ours[output_keys(head)[0]])


@pytest.mark.parametrize("head", HEADS)
@pytest.mark.parametrize("arch", sorted(TINY))
def test_transformers_loads_our_save(arch, head, tmp_path):
    torch.manual_seed(1)
    hf_config = tiny_config(arch, head)
    config = ferroformers.AutoConfig.for_model(arch, **hf_config.to_dict())
    model = getattr(ferroformers, head).from_config(config).eval()
    model.save_pretrained(tmp_path)

    reference, info = getattr(transformers, head).from_pretrained(tmp_path, output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"] and not info["mismatched_keys"], info
    assert type(reference).__name__ == type(model).__name__
    batch = padded_batch(config.pad_token_id, seed=3)
    with torch.no_grad():
        theirs, ours = reference.eval()(**batch), model(**batch)
    assert compare(theirs, ours, output_keys(head)) <= ATOL


@pytest.mark.parametrize("arch", sorted(TINY))
def test_hidden_states_and_attentions(arch, tmp_path):
    """Per-layer outputs on request; attentions are the explicit softmax, compared with transformers' eager path."""
    torch.manual_seed(2)
    config = tiny_config(arch, "AutoModel")
    transformers.AutoModel.from_config(config).save_pretrained(tmp_path)
    reference = transformers.AutoModel.from_pretrained(tmp_path, attn_implementation="eager").eval()
    model = ferroformers.AutoModel.from_pretrained(tmp_path)
    batch = padded_batch(config.pad_token_id)
    with torch.no_grad():
        theirs = reference(**batch, output_hidden_states=True, output_attentions=True)
        ours = model(**batch, output_hidden_states=True, output_attentions=True)
        plain = model(**batch)  # the SDPA path
    assert len(ours.hidden_states) == len(theirs.hidden_states) == 3
    assert len(ours.attentions) == len(theirs.attentions) == 2
    for a, b in zip(theirs.hidden_states + theirs.attentions, ours.hidden_states + ours.attentions):
        assert max_diff(a, b) <= ATOL
    assert ours.attentions[0].shape == (3, 4, 9, 9)
    # Padded keys get no weight.
    assert ours.attentions[0][2, :, :, 3:].abs().max().item() == 0.0
    assert max_diff(plain.last_hidden_state, ours.last_hidden_state) <= ATOL
    assert plain.hidden_states is None and plain.attentions is None


def test_bert_token_type_and_position_ids(tmp_path):
    torch.manual_seed(3)
    config = tiny_config("bert", "AutoModel")
    transformers.BertModel(config).save_pretrained(tmp_path)
    reference = transformers.BertModel.from_pretrained(tmp_path).eval()
    model = ferroformers.AutoModel.from_pretrained(tmp_path)
    batch = padded_batch(0)
    batch["token_type_ids"] = (torch.arange(9) >= 4).long().expand(3, 9)
    batch["position_ids"] = torch.arange(9).flip(0).expand(3, 9)
    with torch.no_grad():
        theirs, ours = reference(**batch), model(**batch)
        without = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
    assert max_diff(theirs.last_hidden_state, ours.last_hidden_state) <= ATOL
    assert max_diff(without.last_hidden_state, ours.last_hidden_state) > 1e-3  # the extra inputs were used


def test_roberta_positions_follow_padding():
    """RoBERTa numbers only real tokens, from padding_idx + 1; padding keeps padding_idx."""
    from ferroformers.models.roberta import RobertaEmbeddings

    ids = torch.tensor([[0, 10, 11, 2, 1, 1], [0, 12, 2, 1, 1, 1]])
    positions = RobertaEmbeddings.position_ids_from_input_ids(ids, padding_idx=1)
    assert positions.tolist() == [[2, 3, 4, 5, 1, 1], [2, 3, 4, 1, 1, 1]]


@pytest.mark.parametrize(
    "problem_type, labels",
    [
        (None, torch.tensor([1, 0, 2])),  # int labels: single-label cross-entropy
        ("multi_label_classification", torch.tensor([[1.0, 0, 1], [0, 0, 1], [1, 1, 0]])),
    ],
)
def test_sequence_classification_problem_types(problem_type, labels, tmp_path):
    torch.manual_seed(4)
    config = tiny_config("roberta", "AutoModelForSequenceClassification")
    config.problem_type = problem_type
    transformers.RobertaForSequenceClassification(config).save_pretrained(tmp_path)
    reference = transformers.RobertaForSequenceClassification.from_pretrained(tmp_path).eval()
    model = ferroformers.AutoModelForSequenceClassification.from_pretrained(tmp_path)
    batch = padded_batch(1)
    with torch.no_grad():
        theirs, ours = reference(**batch, labels=labels), model(**batch, labels=labels)
    assert abs(theirs.loss.item() - ours.loss.item()) <= ATOL
    assert model.config.problem_type == reference.config.problem_type


def test_regression_with_one_label(tmp_path):
    torch.manual_seed(5)
    config = transformers.BertConfig(
        vocab_size=99, hidden_size=32, num_hidden_layers=1, num_attention_heads=4, intermediate_size=37, num_labels=1
    )
    transformers.BertForSequenceClassification(config).save_pretrained(tmp_path)
    reference = transformers.BertForSequenceClassification.from_pretrained(tmp_path).eval()
    model = ferroformers.AutoModelForSequenceClassification.from_pretrained(tmp_path)
    batch, labels = padded_batch(0), torch.tensor([0.5, -1.0, 2.0])
    with torch.no_grad():
        theirs, ours = reference(**batch, labels=labels), model(**batch, labels=labels)
    assert model.config.problem_type == "regression"
    assert abs(theirs.loss.item() - ours.loss.item()) <= ATOL


def test_registry_lists_every_encoder_head():
    for arch in TINY:
        _, classes = MODEL_REGISTRY[arch]
        assert {"base", "masked_lm", "sequence_classification", "token_classification", "question_answering"} <= set(
            classes
        )
