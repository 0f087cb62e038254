"""What every pipeline takes besides one text: lists, generators, datasets (KeyDataset), per-call batch sizes,
and the Hub's default model per task, resolved offline from a cache laid out as huggingface_hub writes it."""

from __future__ import annotations

import logging
from pathlib import Path

import datasets
import pytest
import torch
import transformers

from ferroformers import ModelNotFoundError, pipeline
from ferroformers.pipelines import DEFAULT_MODELS, KeyDataset, KeyPairDataset

SST2_ID = "distilbert/distilbert-base-uncased-finetuned-sst-2-english"


@pytest.fixture(scope="module")
def sst2_dir(tmp_path_factory, tokenizers_dir) -> Path:
    """A tiny random DistilBERT with the SST-2 labels and the real uncased BERT vocabulary."""
    folder = tmp_path_factory.mktemp("tiny-sst2")
    tok = transformers.AutoTokenizer.from_pretrained(tokenizers_dir / "bert-uncased")
    torch.manual_seed(2)
    config = transformers.DistilBertConfig(
        vocab_size=len(tok),
        dim=32,
        hidden_dim=37,
        n_layers=2,
        n_heads=2,
        id2label={0: "NEGATIVE", 1: "POSITIVE"},
        label2id={"NEGATIVE": 0, "POSITIVE": 1},
        initializer_range=0.5,  # large random weights: texts get different labels, scores far from ties
    )
    model = transformers.DistilBertForSequenceClassification(config)
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def fortune_test(shared_dir, tmp_path_factory) -> datasets.Dataset:
    return datasets.load_dataset(
        "json",
        data_files=str(shared_dir / "datasets" / "fortune_topics" / "test.jsonl"),
        split="train",
        cache_dir=str(tmp_path_factory.mktemp("datasets-cache")),
    ).select(range(40))


def _same(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert x["label"] == y["label"] and abs(x["score"] - y["score"]) <= 1e-5, (x, y)


def test_generator_yields_lazily_and_equals_a_list(sst2_dir, corpus_texts):
    texts = corpus_texts("en", 9)
    pipe = pipeline("text-classification", model=sst2_dir, batch_size=4)
    eager = pipe(texts)
    assert isinstance(eager, list) and len(eager) == 9
    consumed = []

    def stream():
        for text in texts:
            consumed.append(text)
            yield text

    results = pipe(stream())
    assert not isinstance(results, list) and consumed == []  # nothing runs before the first result is asked for
    first = next(results)
    assert len(consumed) == 4  # one batch was read to produce it, not the whole stream
    _same([first, *results], eager)
    assert {r["label"] for r in eager} == {"NEGATIVE", "POSITIVE"}


def test_dataset_column_through_key_dataset(sst2_dir, fortune_test):
    pipe = pipeline("sentiment-analysis", model=sst2_dir)
    theirs = transformers.pipeline("sentiment-analysis", model=str(sst2_dir), device="cpu")
    texts = fortune_test["text"]
    expected = theirs(list(texts))
    column = KeyDataset(fortune_test, "text")
    assert len(column) == 40 and column[3] == fortune_test[3]["text"]
    _same(list(pipe(column, batch_size=8)), expected)
    _same(list(pipe(fortune_test["text"], batch_size=5)), expected)  # a datasets Column is iterated too
    # the transformers helper and ours are interchangeable
    from transformers.pipelines.pt_utils import KeyDataset as TheirKeyDataset

    _same(list(theirs(TheirKeyDataset(fortune_test, "text"))), list(pipe(column)))


def test_key_pair_dataset_gives_text_pairs(sst2_dir, fortune_test):
    pairs = fortune_test.map(lambda r: {"second": r["topic"]})
    pipe = pipeline("text-classification", model=sst2_dir)
    theirs = transformers.pipeline("text-classification", model=str(sst2_dir), device="cpu")
    ours = list(pipe(KeyPairDataset(pairs, "text", "second"), batch_size=6))
    expected = [theirs({"text": r["text"], "text_pair": r["second"]}) for r in pairs]
    _same(ours, expected)
    with pytest.raises(KeyError, match="'missing'"):
        KeyDataset(pairs, "missing")[0]


def test_batch_size_per_call_and_positional_inputs(sst2_dir, corpus_texts):
    texts = corpus_texts("de", 6)
    pipe = pipeline("text-classification", model=sst2_dir)
    _same(pipe(texts, batch_size=4), pipe(texts))
    with pytest.raises(TypeError, match="pass several inputs as a list"):
        pipe(texts[0], texts[1])  # transformers would drop texts[1] with a log line
    assert pipe.batch_size == 1  # the call's batch size does not stick
    for bad in (0, -2, 1.5, True):
        with pytest.raises(ValueError, match="batch_size must be a positive int"):
            pipe(texts, batch_size=bad)
    with pytest.raises(ValueError, match="needs an input"):
        pipe()


def test_default_model_comes_from_the_hub_cache(sst2_dir, tmp_path, monkeypatch, write_hub_snapshot, caplog):
    home = tmp_path / "hf_home"
    write_hub_snapshot(home / "hub", SST2_ID, "d" * 40, sst2_dir)
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert DEFAULT_MODELS["text-classification"] == SST2_ID
    with caplog.at_level(logging.WARNING, logger="ferroformers.pipelines"):
        pipe = pipeline("sentiment-analysis")
    assert SST2_ID in caplog.text
    theirs = transformers.pipeline("sentiment-analysis", model=str(sst2_dir), device="cpu")
    text = "We are very happy to show you the 🤗 Transformers library."
    _same(pipe(text), theirs(text))
    assert pipe.model.config.name_or_path == SST2_ID


@pytest.mark.parametrize("task", ["text-generation", "text-classification", "feature-extraction"])
def test_missing_default_model_names_it_and_says_what_to_do(task, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty_home"))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelNotFoundError) as info:
        pipeline(task)
    message = str(info.value)
    assert DEFAULT_MODELS[task] in message and "model=" in message and "local folder" in message


def test_needs_a_task_or_a_model():
    with pytest.raises(ValueError, match="needs a task or a model"):
        pipeline()


@pytest.mark.parametrize("device", ["cpu", -1, torch.device("cpu")])
def test_device_conventions(sst2_dir, device):
    pipe = pipeline("text-classification", model=sst2_dir, device=device)
    assert pipe.device == torch.device("cpu")
    assert pipe("a fine day")[0]["label"] in {"NEGATIVE", "POSITIVE"}


def test_unavailable_device_is_a_clear_error(sst2_dir):
    bad = {-3: "-1 \\(CPU\\) or an accelerator index", "tpu:9": "unknown device"}
    if not torch.cuda.is_available():
        bad.update({0: "CUDA, which is not available", "cuda": "CUDA, which is not available"})
    else:
        bad[torch.cuda.device_count()] = "CUDA device"
    for device, message in bad.items():
        with pytest.raises(ValueError, match=message):
            pipeline("text-classification", model=sst2_dir, device=device)


def test_dtype_is_honoured(sst2_dir, corpus_texts):
    texts = corpus_texts("en", 6)
    full = pipeline("text-classification", model=sst2_dir)
    half = pipeline("text-classification", model=sst2_dir, dtype=torch.bfloat16)
    assert half.model.dtype == torch.bfloat16 and full.model.dtype == torch.float32
    for a, b in zip(full(texts), half(texts)):
        # bfloat16 keeps 8 bits of mantissa: the scores agree to about that precision
        assert abs(a["score"] - b["score"]) < 0.05
    loaded = pipeline("text-classification", model=full.model, tokenizer=full.tokenizer, dtype="bfloat16")
    assert loaded.model.dtype == torch.bfloat16
