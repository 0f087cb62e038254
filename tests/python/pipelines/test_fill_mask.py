"""fill-mask: our pipeline's output equals transformers' fill-mask pipeline on the same saved folder."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import torch
import transformers

import ferroformers
from ferroformers import pipeline

BERT_ONE_MASK = [
    "The capital of France is [MASK].",
    "She poured a cup of [MASK] and sat down by the window.",
    "He went to the [MASK] to buy some bread.",
]
BERT_TWO_MASKS = "The [MASK] sat quietly on the [MASK] near the door."


def _masked_lm(folder: Path, tokenizer_dir: Path, config_cls, model_cls, head_norm: str) -> Path:
    tok = transformers.AutoTokenizer.from_pretrained(tokenizer_dir)
    torch.manual_seed(3)
    config = config_cls(
        vocab_size=len(tok),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=37,
        pad_token_id=tok.pad_token_id,
    )
    model = model_cls(config)
    with torch.no_grad():
        # A random head spreads probability almost evenly over the vocabulary: widen the logits so the
        # best tokens are clearly apart (no near-ties whose order could flip).
        model.get_submodule(head_norm).weight.mul_(30)
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def bert_mlm_dir(tmp_path_factory, tokenizers_dir) -> Path:
    return _masked_lm(
        tmp_path_factory.mktemp("tiny-bert-mlm"),
        tokenizers_dir / "bert-uncased",
        transformers.BertConfig,
        transformers.BertForMaskedLM,
        "cls.predictions.transform.LayerNorm",
    )


@pytest.fixture(scope="module")
def roberta_mlm_dir(tmp_path_factory, tokenizers_dir) -> Path:
    return _masked_lm(
        tmp_path_factory.mktemp("tiny-roberta-mlm"),
        tokenizers_dir / "roberta-style-bpe",
        transformers.RobertaConfig,
        transformers.RobertaForMaskedLM,
        "lm_head.layer_norm",
    )


def _assert_same(ours, theirs):
    """Same structure, same tokens/token_str/sequence, scores within 1e-5."""
    if isinstance(theirs, dict):
        assert isinstance(ours, dict) and set(ours) == set(theirs) == {"score", "token", "token_str", "sequence"}
        assert (ours["token"], ours["token_str"], ours["sequence"]) == (
            theirs["token"],
            theirs["token_str"],
            theirs["sequence"],
        ), (ours, theirs)
        assert isinstance(ours["token"], int) and isinstance(ours["score"], float)
        assert abs(ours["score"] - theirs["score"]) <= 1e-5, (ours, theirs)
        return
    assert isinstance(ours, list) and len(ours) == len(theirs), (ours, theirs)
    for a, b in zip(ours, theirs):
        _assert_same(a, b)


def test_bert_fill_mask_matches_transformers(bert_mlm_dir):
    ours = pipeline("fill-mask", model=bert_mlm_dir)
    theirs = transformers.pipeline("fill-mask", model=str(bert_mlm_dir), device="cpu")
    for text in [*BERT_ONE_MASK, BERT_TWO_MASKS]:
        for kwargs in ({}, {"top_k": 1}, {"top_k": 5}, {"top_k": 20}):
            _assert_same(ours(text, **kwargs), theirs(text, **kwargs))

    one = ours(BERT_ONE_MASK[0])
    assert len(one) == 5 and all(set(d) == {"score", "token", "token_str", "sequence"} for d in one)
    assert all(a["score"] >= b["score"] for a, b in zip(one, one[1:]))
    assert len({d["token"] for d in one}) == 5
    # one mask: special tokens dropped, the mask replaced by the predicted word
    assert all("[MASK]" not in d["sequence"] and "[CLS]" not in d["sequence"] for d in one)
    assert all(d["token_str"] in d["sequence"] for d in one)

    two = ours(BERT_TWO_MASKS, top_k=3)
    assert len(two) == 2 and all(len(row) == 3 for row in two)
    # several masks: each row fills one mask and keeps the other (so the special tokens stay too)
    assert all(d["sequence"].count("[MASK]") == 1 and d["sequence"].startswith("[CLS]") for row in two for d in row)
    assert two[0][0]["score"] != two[1][0]["score"]


def test_roberta_fill_mask_matches_transformers(roberta_mlm_dir):
    ours = pipeline("fill-mask", model=roberta_mlm_dir)
    theirs = transformers.pipeline("fill-mask", model=str(roberta_mlm_dir), device="cpu")
    texts = [
        "The capital of France is <mask>.",
        "She poured a cup of <mask> and sat down by the window.",
        "The <mask> sat quietly on the <mask> near the door.",
    ]
    for text in texts:
        for kwargs in ({}, {"top_k": 1}, {"top_k": 20}):
            _assert_same(ours(text, **kwargs), theirs(text, **kwargs))
    assert ours(texts[0])[0]["sequence"].lstrip().startswith("The capital of France is")
    _assert_same(ours(texts, top_k=3), theirs(texts, top_k=3))


def test_targets_match_transformers(bert_mlm_dir, roberta_mlm_dir, caplog):
    for folder, text, targets in (
        (bert_mlm_dir, BERT_ONE_MASK[0], ["paris", "london", "city", "bread"]),
        (bert_mlm_dir, BERT_TWO_MASKS, ["cat", "dog", "mat"]),
        (roberta_mlm_dir, "The capital of France is <mask>.", ["Ġdog", "Ġthe", "Ġcat"]),
    ):
        ours = pipeline("fill-mask", model=folder)
        theirs = transformers.pipeline("fill-mask", model=str(folder), device="cpu")
        for kwargs in ({}, {"top_k": 2}, {"top_k": 20}):
            a = ours(text, targets=targets, **kwargs)
            _assert_same(a, theirs(text, targets=targets, **kwargs))
            rows = a if isinstance(a[0], list) else [a]
            vocab = ours.tokenizer.get_vocab()
            assert all(d["token"] in {vocab[t] for t in targets} for row in rows for d in row)
            assert all(len(row) == min(kwargs.get("top_k", 5), len(targets)) for row in rows)
        # a single word
        _assert_same(ours(text, targets=targets[0]), theirs(text, targets=targets[0]))

    # the scores stay probabilities over the whole vocabulary (not renormalized over the targets)
    ours = pipeline("fill-mask", model=bert_mlm_dir)
    encoded = ours.tokenizer(BERT_ONE_MASK[0], return_tensors="pt")
    with torch.no_grad():
        logits = ours.model(**encoded).logits[0]
    probs = logits[encoded["input_ids"][0].tolist().index(ours.tokenizer.mask_token_id)].softmax(-1)
    restricted = ours(BERT_ONE_MASK[0], targets=["paris", "london"])
    assert sum(d["score"] for d in restricted) < 0.5
    for d in restricted:
        assert abs(d["score"] - probs[d["token"]].item()) <= 1e-6

    # a word outside the vocabulary: its first token, with a warning naming it
    for folder, text, word, first in (
        (bert_mlm_dir, BERT_ONE_MASK[0], "ferroformers", "fe"),
        (roberta_mlm_dir, "The capital of France is <mask>.", "ferroformers", "Ġf"),
    ):
        ours = pipeline("fill-mask", model=folder)
        theirs = transformers.pipeline("fill-mask", model=str(folder), device="cpu")
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="ferroformers"):
            a = ours(text, targets=[word, "the"])
        assert any(word in r.getMessage() and repr(first) in r.getMessage() for r in caplog.records), caplog.text
        _assert_same(a, theirs(text, targets=[word, "the"]))
        assert ours.tokenizer.convert_ids_to_tokens(ours.tokenizer.get_vocab()[first]) == first
        assert ours.tokenizer.get_vocab()[first] in {d["token"] for d in a}


def test_lists_and_batches_match_transformers(bert_mlm_dir, roberta_mlm_dir):
    texts = [*BERT_ONE_MASK, BERT_TWO_MASKS]
    ours = pipeline("fill-mask", model=bert_mlm_dir)
    theirs = transformers.pipeline("fill-mask", model=str(bert_mlm_dir), device="cpu")
    one_by_one = ours(texts, top_k=4)
    assert len(one_by_one) == 4
    _assert_same(one_by_one, theirs(texts, top_k=4))
    # as transformers: a list of one text gives that text's result
    _assert_same(ours([texts[0]]), theirs([texts[0]]))
    assert isinstance(ours([texts[0]])[0], dict)

    batched = pipeline("fill-mask", model=bert_mlm_dir, batch_size=3, top_k=4)
    _assert_same(batched(texts), one_by_one)
    _assert_same(list(batched(t for t in texts)), one_by_one)  # a generator: results as they come
    _assert_same(batched(texts), theirs(texts, top_k=4, batch_size=3))
    _assert_same(
        ours(texts, top_k=4, batch_size=2, targets=["cat", "the"]), theirs(texts, top_k=4, targets=["cat", "the"])
    )

    roberta = pipeline("fill-mask", model=roberta_mlm_dir)
    roberta_texts = ["A <mask> day.", "The <mask> sat quietly on the <mask> near the door, waiting for dinner."]
    _assert_same(roberta(roberta_texts, batch_size=2), roberta(roberta_texts))
    _assert_same(
        roberta(roberta_texts, batch_size=2),
        transformers.pipeline("fill-mask", model=str(roberta_mlm_dir), device="cpu")(roberta_texts, batch_size=2),
    )


def test_tokenizer_kwargs_and_inferred_task(bert_mlm_dir):
    ours = pipeline(model=bert_mlm_dir)  # BertForMaskedLM -> fill-mask
    assert ours.task == "fill-mask" and isinstance(ours, ferroformers.pipelines.FillMaskPipeline)
    theirs = transformers.pipeline("fill-mask", model=str(bert_mlm_dir), device="cpu")
    long_text = "The capital of France is [MASK]. " + "It has many old streets and small cafes. " * 80
    kwargs = {"tokenizer_kwargs": {"truncation": True, "max_length": 32}}
    a = ours(long_text, **kwargs)
    _assert_same(a, theirs(long_text, **kwargs))
    assert len(ours.tokenizer(a[0]["sequence"])["input_ids"]) <= 32
    model = ferroformers.AutoModelForMaskedLM.from_pretrained(bert_mlm_dir)
    _assert_same(pipeline("fill-mask", model=model)(BERT_ONE_MASK[1]), theirs(BERT_ONE_MASK[1]))


def test_errors(bert_mlm_dir, tokenizers_dir):
    ours = pipeline("fill-mask", model=bert_mlm_dir)
    with pytest.raises(ValueError, match=r"no mask token \(\[MASK\]\)"):
        ours("There is nothing to fill here.")
    with pytest.raises(ValueError, match=r"no mask token"):  # one bad text in a list
        ours([BERT_ONE_MASK[0], "No mask."])
    with pytest.raises(ValueError, match="cut off by truncation"):
        ours("word " * 50 + "[MASK]", tokenizer_kwargs={"truncation": True, "max_length": 8})
    with pytest.raises(ValueError, match="at least one word"):
        ours(BERT_ONE_MASK[0], targets=[])
    with pytest.raises(ValueError, match="top_k must be a positive int"):
        ours(BERT_ONE_MASK[0], top_k=0)
    with pytest.raises(TypeError, match="'top_n'"):
        ours(BERT_ONE_MASK[0], top_n=3)
    model = ferroformers.AutoModelForMaskedLM.from_pretrained(bert_mlm_dir)
    gpt2_tok = ferroformers.AutoTokenizer.from_pretrained(tokenizers_dir / "gpt2")
    assert gpt2_tok.mask_token is None
    with pytest.raises(ValueError, match="no mask_token"):
        pipeline("fill-mask", model=model, tokenizer=gpt2_tok)
