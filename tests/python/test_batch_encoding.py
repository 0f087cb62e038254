"""BatchEncoding: dict behaviour, tensors, alignment helpers."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from ferroformers import AutoTokenizer, BatchEncoding

SHARED = Path(os.environ.get("FERRO_SHARED") or Path(__file__).resolve().parents[2] / ".." / "shared").resolve()


def test_plain_dict_behaviour():
    enc = BatchEncoding({"input_ids": [[1, 2], [3, 4]], "attention_mask": [[1, 1], [1, 0]]})
    assert isinstance(enc, dict)
    assert enc.input_ids == [[1, 2], [3, 4]]
    assert dict(**enc) == {"input_ids": [[1, 2], [3, 4]], "attention_mask": [[1, 1], [1, 0]]}
    assert enc[:1] == {"input_ids": [[1, 2]], "attention_mask": [[1, 1]]}
    with pytest.raises(AttributeError):
        _ = enc.nothing_here
    assert enc.encodings is None
    again = pickle.loads(pickle.dumps(enc))
    assert again == enc and isinstance(again, BatchEncoding)


def test_convert_to_tensors_and_to():
    import torch

    enc = BatchEncoding({"input_ids": [[1, 2], [3, 4]]}, tensor_type="np")
    assert enc["input_ids"].dtype == np.int64 and enc["input_ids"].shape == (2, 2)
    enc.convert_to_tensors("pt")
    assert isinstance(enc["input_ids"], torch.Tensor) and enc["input_ids"].dtype == torch.int64
    moved = enc.to("cpu")
    assert moved is enc and enc["input_ids"].device.type == "cpu"
    single = BatchEncoding({"input_ids": [5, 6, 7]}).convert_to_tensors("np", prepend_batch_axis=True)
    assert single["input_ids"].shape == (1, 3)
    with pytest.raises(ValueError, match="padding=True"):
        BatchEncoding({"input_ids": [[1], [1, 2]]}, tensor_type="np")
    with pytest.raises(ValueError):
        BatchEncoding({"input_ids": [[1]]}, tensor_type="jax")


def test_alignment_helpers_match_transformers():
    import torch
    import transformers

    folder = SHARED / "tokenizers" / "bert-cased-wordpiece"
    ours, ref = AutoTokenizer.from_pretrained(folder), transformers.AutoTokenizer.from_pretrained(str(folder))
    batch = ["Hello brave new world", "Unbelievable tokenization"]
    pairs = ["and a second sequence", "x"]
    for kwargs in (dict(), dict(padding=True, return_tensors="pt"), dict(padding=True, return_tensors="np")):
        a, b = ours(batch, pairs, **kwargs), ref(batch, pairs, **kwargs)
        for i in range(2):
            assert a.tokens(i) == b.tokens(i)
            assert a.word_ids(i) == b.word_ids(i)
            assert a.sequence_ids(i) == b.sequence_ids(i)
            assert a[i].ids == b[i].ids
        assert a.n_sequences == b.n_sequences == 2
        assert len(a.encodings) == 2
        words = [text.split() for text in batch]
        a, b = ours(words, is_split_into_words=True, **kwargs), ref(words, is_split_into_words=True, **kwargs)
        assert a.n_sequences == b.n_sequences == 1
        assert [a.sequence_ids(i) for i in range(2)] == [b.sequence_ids(i) for i in range(2)]
        a = ours(words, [p.split() for p in pairs], is_split_into_words=True, **kwargs)
        b = ref(words, [p.split() for p in pairs], is_split_into_words=True, **kwargs)
        assert a.n_sequences == b.n_sequences == 2
    pt = ours(batch, padding=True, return_tensors="pt")
    assert isinstance(pt["input_ids"], torch.Tensor) and pt["input_ids"].dtype == torch.int64
    assert pt.to("cpu")["attention_mask"].shape == pt["input_ids"].shape
    single = ours("Hello world")
    assert single.tokens() == ref("Hello world").tokens()
