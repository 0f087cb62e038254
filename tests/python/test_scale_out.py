"""Tokenizing in several processes, as README's "Scaling out" shows: the tokenizer pickles, so
`datasets.map(num_proc=...)` and a multiprocessing pool (fork and spawn) give the serial ids."""

from __future__ import annotations

import multiprocessing

import datasets

from ferroformers import AutoTokenizer


def _encode_chunk(args):
    folder, texts = args
    tokenizer = _worker_tokenizer(folder)
    return tokenizer(texts, truncation=True, max_length=128)["input_ids"]


_TOKENIZERS: dict = {}


def _worker_tokenizer(folder):
    if folder not in _TOKENIZERS:
        _TOKENIZERS[folder] = AutoTokenizer.from_pretrained(folder)
    return _TOKENIZERS[folder]


def test_datasets_map_with_two_processes_equals_serial(tokenizers_dir, corpus_texts):
    tokenizer = AutoTokenizer.from_pretrained(tokenizers_dir / "bert-uncased")
    texts = corpus_texts("de", 400) + corpus_texts("zh", 200)
    dataset = datasets.Dataset.from_dict({"text": texts})

    def tokenize(batch):
        return tokenizer(batch["text"], truncation=True, max_length=128)

    parallel = dataset.map(tokenize, batched=True, num_proc=2)
    serial = tokenizer(texts, truncation=True, max_length=128)
    assert parallel["input_ids"] == serial["input_ids"]
    assert parallel["attention_mask"] == serial["attention_mask"]


def test_multiprocessing_pool_spawn_and_fork_equal_serial(tokenizers_dir, corpus_texts):
    folder = str(tokenizers_dir / "gpt2")
    texts = corpus_texts("en", 300)
    chunks = [(folder, texts[i : i + 50]) for i in range(0, len(texts), 50)]
    serial = AutoTokenizer.from_pretrained(folder)(texts, truncation=True, max_length=128)["input_ids"]
    serial_tokenizer = AutoTokenizer.from_pretrained(folder)
    serial_tokenizer(texts[:10])  # use the Rust thread pool in the parent before forking
    for method in ("fork", "spawn"):
        with multiprocessing.get_context(method).Pool(2) as pool:
            results = pool.map(_encode_chunk, chunks)
        assert [ids for chunk in results for ids in chunk] == serial, method
