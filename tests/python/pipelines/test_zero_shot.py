"""zero-shot-classification: our pipeline's output equals transformers' on the same saved NLI-style model."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import torch
import transformers

import ferroformers
from ferroformers import pipeline

TEXTS = [
    "The striker scored twice in the second half and the crowd went wild.",
    "Parliament passed the budget after a long night of debate.",
    "Mix the flour with two eggs and bake for twenty minutes.",
]
LABELS = ["sports", "politics", "cooking", "science fiction"]


def _nli_model(folder: Path, tokenizers_dir: Path, id2label: dict[int, str]) -> Path:
    tok = transformers.AutoTokenizer.from_pretrained(tokenizers_dir / "bert-uncased")
    torch.manual_seed(5)
    config = transformers.BertConfig(
        vocab_size=len(tok),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=37,
        # with the default 0.02 the pooled output hardly depends on the input, so every label would score
        # about the same (near-ties); wider weights make the hypothesis matter
        initializer_range=0.5,
        id2label=id2label,
        # transformers 5.24 does not derive label2id from id2label (its zero-shot pipeline then fails);
        # real NLI checkpoints carry both
        label2id={label: i for i, label in id2label.items()},
    )
    transformers.BertForSequenceClassification(config).save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def nli_dir(tmp_path_factory, tokenizers_dir) -> Path:
    labels = {0: "contradiction", 1: "neutral", 2: "entailment"}
    return _nli_model(tmp_path_factory.mktemp("tiny-nli"), tokenizers_dir, labels)


@pytest.fixture(scope="module")
def nli_entailment_first_dir(tmp_path_factory, tokenizers_dir) -> Path:
    # entailment at 0: the contradiction logit is then the last one
    labels = {0: "ENTAILMENT", 1: "NEUTRAL", 2: "CONTRADICTION"}
    return _nli_model(tmp_path_factory.mktemp("tiny-nli-upper"), tokenizers_dir, labels)


@pytest.fixture(scope="module")
def no_entailment_dir(tmp_path_factory, tokenizers_dir) -> Path:
    return _nli_model(tmp_path_factory.mktemp("tiny-nli-none"), tokenizers_dir, {0: "yes", 1: "maybe", 2: "no"})


def _assert_same(ours, theirs):
    if isinstance(theirs, list):
        assert isinstance(ours, list) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _assert_same(a, b)
        return
    assert isinstance(ours, dict) and set(ours) == set(theirs) == {"sequence", "labels", "scores"}
    assert ours["sequence"] == theirs["sequence"]
    assert ours["labels"] == theirs["labels"], (ours, theirs)
    assert len(ours["scores"]) == len(theirs["scores"])
    assert all(isinstance(s, float) for s in ours["scores"])
    assert all(abs(a - b) <= 1e-5 for a, b in zip(ours["scores"], theirs["scores"])), (ours, theirs)


@pytest.mark.parametrize("folder", ["nli_dir", "nli_entailment_first_dir"])
def test_zero_shot_matches_transformers(folder, request):
    folder = request.getfixturevalue(folder)
    ours = pipeline("zero-shot-classification", model=folder)
    theirs = transformers.pipeline("zero-shot-classification", model=str(folder), device="cpu")
    calls = [
        {"candidate_labels": LABELS},
        {"candidate_labels": LABELS, "multi_label": True},
        {"candidate_labels": LABELS[:1]},  # one label: scored on its own, as with multi_label
        {"candidate_labels": "sports, politics ,cooking,", "hypothesis_template": "This text is about {}."},
        {"candidate_labels": LABELS[1:], "hypothesis_template": "{} is the topic", "multi_label": True},
    ]
    for kwargs in calls:
        for inputs in (TEXTS[0], TEXTS):
            _assert_same(ours(inputs, **kwargs), theirs(inputs, **kwargs))

    single = ours(TEXTS[0], candidate_labels=LABELS)
    assert single["sequence"] == TEXTS[0] and sorted(single["labels"]) == sorted(LABELS)
    assert all(a >= b for a, b in zip(single["scores"], single["scores"][1:]))
    assert abs(sum(single["scores"]) - 1) < 1e-5
    assert single["scores"][0] - single["scores"][-1] > 0.02  # the labels really rank, no near-ties
    multi = ours(TEXTS[0], candidate_labels=LABELS, multi_label=True)
    assert all(0 < s < 1 for s in multi["scores"]) and abs(sum(multi["scores"]) - 1) > 1e-3
    assert ours(TEXTS[0], candidate_labels="sports, politics ,cooking,")["labels"] != []
    assert sorted(ours(TEXTS[0], candidate_labels="sports, politics ,cooking,")["labels"]) == [
        "cooking",
        "politics",
        "sports",
    ]


def test_entailment_label_is_found(nli_dir, nli_entailment_first_dir, no_entailment_dir, caplog):
    assert pipeline("zero-shot-classification", model=nli_dir).entailment_id == 2
    assert pipeline("zero-shot-classification", model=nli_entailment_first_dir).entailment_id == 0
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="ferroformers"):
        ours = pipeline("zero-shot-classification", model=no_entailment_dir)
    assert ours.entailment_id == -1
    assert any("entailment" in r.getMessage() for r in caplog.records), caplog.text
    # without an entailment label the last logit stands for it, as in transformers
    theirs = transformers.pipeline("zero-shot-classification", model=str(no_entailment_dir), device="cpu")
    for multi_label in (False, True):
        _assert_same(
            ours(TEXTS, candidate_labels=LABELS, multi_label=multi_label),
            theirs(TEXTS, candidate_labels=LABELS, multi_label=multi_label),
        )


def test_batched_equals_one_by_one(nli_dir, corpus_texts):
    texts = [*TEXTS, *corpus_texts("en", 3)]
    ours = pipeline("zero-shot-classification", model=nli_dir)
    theirs = transformers.pipeline("zero-shot-classification", model=str(nli_dir), device="cpu")
    one_by_one = ours(texts, candidate_labels=LABELS)
    assert len(one_by_one) == len(texts)
    for batch_size in (3, 8):  # batches cut inside one text's pairs, and across texts
        batched = pipeline("zero-shot-classification", model=nli_dir, batch_size=batch_size, candidate_labels=LABELS)
        _assert_same(batched(texts), one_by_one)
    _assert_same(
        ours(texts, candidate_labels=LABELS, multi_label=True, batch_size=5),
        theirs(texts, candidate_labels=LABELS, multi_label=True, batch_size=5),
    )
    _assert_same(one_by_one, theirs(texts, candidate_labels=LABELS))
    lazy = ours((t for t in texts), candidate_labels=LABELS, batch_size=3)  # a generator: results as they come
    assert not isinstance(lazy, list)
    _assert_same(list(lazy), one_by_one)


def test_positional_labels_and_loaded_model(nli_dir):
    theirs = transformers.pipeline("zero-shot-classification", model=str(nli_dir), device="cpu")
    ours = pipeline("zero-shot-classification", model=nli_dir)
    _assert_same(ours(TEXTS[1], LABELS), theirs(TEXTS[1], LABELS))
    model = ferroformers.AutoModelForSequenceClassification.from_pretrained(nli_dir)
    from_model = pipeline("zero-shot-classification", model=model, hypothesis_template="About {}.")
    _assert_same(
        from_model(TEXTS[2], candidate_labels=LABELS),
        theirs(TEXTS[2], candidate_labels=LABELS, hypothesis_template="About {}."),
    )
    # a sequence classifier is a text classifier unless the task is named
    assert pipeline(model=nli_dir).task == "text-classification"


def test_long_text_is_truncated_not_the_hypothesis(nli_dir):
    ours = pipeline("zero-shot-classification", model=nli_dir)
    theirs = transformers.pipeline("zero-shot-classification", model=str(nli_dir), device="cpu")
    long_text = "The match went to extra time and the fans kept singing. " * 60  # > 512 tokens
    assert len(ours.tokenizer(long_text)["input_ids"]) > 512
    _assert_same(ours(long_text, candidate_labels=LABELS), theirs(long_text, candidate_labels=LABELS))


def test_errors(nli_dir):
    ours = pipeline("zero-shot-classification", model=nli_dir)
    with pytest.raises(ValueError, match="needs candidate_labels"):
        ours(TEXTS[0])
    with pytest.raises(ValueError, match="needs candidate_labels"):
        ours(TEXTS[0], candidate_labels=[])
    with pytest.raises(ValueError, match="needs candidate_labels"):
        ours(TEXTS[0], candidate_labels=" , ,")
    with pytest.raises(ValueError, match=r"has no \{\} where the label goes"):
        ours(TEXTS[0], candidate_labels=LABELS, hypothesis_template="This example is about it.")
    with pytest.raises(ValueError, match=r"has no \{\} where the label goes"):
        ours(TEXTS[0], candidate_labels=LABELS, hypothesis_template="This example is {label}.")
    with pytest.raises(ValueError, match="non-empty text"):
        ours("", candidate_labels=LABELS)
    with pytest.raises(TypeError, match="candidate_labels must be"):
        ours(TEXTS[0], candidate_labels=3)
    with pytest.raises(TypeError, match="extra arguments"):
        ours(TEXTS[0], LABELS, ["more"])
    with pytest.raises(TypeError, match="'top_k'"):
        ours(TEXTS[0], candidate_labels=LABELS, top_k=2)
