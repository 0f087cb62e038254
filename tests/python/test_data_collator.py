"""Data collators and `tokenizer.pad` against transformers 5.24's, on the shared tokenizers and real text.

Each collator gets the same examples as transformers' collator of the same name (with transformers' tokenizer
loaded from the same folder) and must return the same keys, values and dtypes. Masked-LM batches must be equal
under the same torch (or numpy) seed, since both draw the same way in the same order.
"""

from __future__ import annotations

import copy
import dataclasses
import subprocess
import sys

import numpy as np
import pytest
import torch
import transformers

import ferroformers
from ferroformers import AutoTokenizer
from ferroformers.data import (
    DataCollatorForLanguageModeling,
    DataCollatorForTokenClassification,
    DataCollatorWithPadding,
    DefaultDataCollator,
    default_data_collator,
)

TOKENIZERS = ("bert-uncased", "gpt2", "roberta-style-bpe")


def _pair(tokenizers_dir, name: str, padding_side: str = "right"):
    """Our tokenizer and transformers', from the same folder; gpt2 pads with its eos token on both."""
    ours = AutoTokenizer.from_pretrained(tokenizers_dir / name)
    ref = transformers.AutoTokenizer.from_pretrained(str(tokenizers_dir / name))
    for tok in (ours, ref):
        if tok.pad_token is None:
            tok.pad_token = tok.eos_token
        tok.padding_side = padding_side
    return ours, ref


def _texts(corpus_texts, n: int = 12) -> list[str]:
    # paragraphs of many lengths; long ones cut so the batches stay small
    return [t[: 40 + 23 * i] for i, t in enumerate(corpus_texts("en", n))]


def _features(tok, texts, **kwargs) -> list[dict]:
    """One dict of python lists per text, as a `datasets` row holds them."""
    return [{k: list(v) for k, v in tok(t, truncation=True, max_length=64, **kwargs).items()} for t in texts]


def _assert_same(ours, ref):
    assert list(ours.keys()) == list(ref.keys())
    for key in ref:
        a, b = ours[key], ref[key]
        assert type(a) is type(b), (key, type(a), type(b))
        if isinstance(b, torch.Tensor):
            assert a.dtype == b.dtype and a.shape == b.shape and torch.equal(a, b), (key, a, b)
        elif isinstance(b, np.ndarray):
            assert a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b), (key, a, b)
        else:
            assert a == b, key


# -- default_data_collator -------------------------------------------------------------------------
@dataclasses.dataclass
class _Example:
    input_ids: list
    attention_mask: list
    label: int


def test_default_data_collator_matches_transformers(tokenizers_dir, corpus_texts):
    ours_tok, _ = _pair(tokenizers_dir, "bert-uncased")
    texts = _texts(corpus_texts, 6)
    rows = [
        {k: list(v) for k, v in ours_tok(t, padding="max_length", truncation=True, max_length=24).items()}
        for t in texts
    ]
    rng = np.random.default_rng(0)
    cases = [
        [dict(r, label=i % 3) for i, r in enumerate(rows)],  # class ids -> int64
        [dict(r, label=float(rng.random())) for r in rows],  # regression -> float32
        [dict(r, label=np.int64(i % 2), idx=i, text=t) for i, (r, t) in enumerate(zip(rows, texts))],  # str dropped
        [dict(r, label=torch.tensor(i % 2)) for i, r in enumerate(rows)],
        [dict(r, label_ids=[i % 4, 1, 0]) for i, r in enumerate(rows)],
        [dict(r, label_ids=[0.5, float(i)]) for i, r in enumerate(rows)],
        [dict(r, label_ids=torch.tensor([i, 1])) for i, r in enumerate(rows)],
        [{k: torch.tensor(v) for k, v in r.items()} for r in rows],
        [{k: np.array(v) for k, v in r.items()} | {"label": None, "score": 0.25 * i} for i, r in enumerate(rows)],
        [{"input_ids": r["input_ids"], "flags": [True, False]} for r in rows],
        [_Example(r["input_ids"], r["attention_mask"], i % 2) for i, r in enumerate(rows)],
    ]
    for features in cases:
        for return_tensors in ("pt", "np"):
            if return_tensors == "np" and any(isinstance(v, torch.Tensor) for v in vars_or_dict(features[0]).values()):
                continue  # transformers' numpy collator does not take torch tensors either
            ours = default_data_collator(copy.deepcopy(features), return_tensors=return_tensors)
            ref = transformers.default_data_collator(copy.deepcopy(features), return_tensors=return_tensors)
            _assert_same(ours, ref)
            _assert_same(DefaultDataCollator(return_tensors)(copy.deepcopy(features)), ref)
    assert default_data_collator(cases[0])["labels"].dtype == torch.int64
    assert default_data_collator(cases[1])["labels"].dtype == torch.float32


def vars_or_dict(example):
    return example if isinstance(example, dict) else vars(example)


def test_default_data_collator_errors():
    with pytest.raises(ValueError, match="example 1 has no `attention_mask`"):
        default_data_collator([{"input_ids": [1, 2], "attention_mask": [1, 1]}, {"input_ids": [3, 4]}])
    with pytest.raises(ValueError, match="cannot stack `input_ids`.*DataCollatorWithPadding"):
        default_data_collator([{"input_ids": [1, 2]}, {"input_ids": [3]}])
    with pytest.raises(ValueError, match="`label` is None in example 1"):
        default_data_collator([{"input_ids": [1], "label": 1}, {"input_ids": [2], "label": None}])
    with pytest.raises(ValueError, match="no examples"):
        default_data_collator([])
    with pytest.raises(TypeError, match="wrap it in a list"):
        default_data_collator({"input_ids": [1, 2]})
    with pytest.raises(TypeError, match="each example to be a dict"):
        default_data_collator([[1, 2], [3, 4]])
    with pytest.raises(ValueError, match="return_tensors must be 'pt'"):
        default_data_collator([{"input_ids": [1]}], return_tensors="tf")


# -- tokenizer.pad -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", TOKENIZERS)
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_tokenizer_pad_matches_transformers(tokenizers_dir, corpus_texts, name, padding_side):
    ours_tok, ref_tok = _pair(tokenizers_dir, name, padding_side)
    texts = _texts(corpus_texts, 5)
    plain = _features(ours_tok, texts)
    assert plain == _features(ref_tok, texts)
    with_masks = _features(ours_tok, texts, return_special_tokens_mask=True, return_token_type_ids=True)
    labelled = [dict(f, label=i % 2, score=0.5 * i) for i, f in enumerate(plain)]
    ids_only = [{"input_ids": f["input_ids"]} for f in plain]
    options = [
        dict(),
        dict(padding="longest", pad_to_multiple_of=8),
        dict(padding="max_length", max_length=80),
        dict(padding="max_length", max_length=70, pad_to_multiple_of=16),
        dict(padding_side="left" if padding_side == "right" else "right"),
        dict(return_attention_mask=False),
        dict(padding=False),
    ]
    for features in (plain, with_masks, labelled, ids_only):
        for kwargs in options:
            for return_tensors in (None, "pt", "np"):
                if kwargs.get("padding") is False and return_tensors is not None:
                    continue  # rows of different lengths cannot become one tensor (tested below)
                try:
                    ref = ref_tok.pad(copy.deepcopy(features), return_tensors=return_tensors, **kwargs)
                    ragged = any(isinstance(v, np.ndarray) and v.dtype == np.dtype(object) for v in ref.values())
                except ValueError:
                    ragged = True
                if ragged:
                    # return_attention_mask=False leaves a given attention_mask unpadded: rows of different
                    # lengths, which transformers refuses for "pt" and turns into an object array for "np";
                    # ours refuses both (an object array is no model input).
                    with pytest.raises(ValueError, match="Unable to create tensor"):
                        ours_tok.pad(copy.deepcopy(features), return_tensors=return_tensors, **kwargs)
                    continue
                ours = ours_tok.pad(copy.deepcopy(features), return_tensors=return_tensors, **kwargs)
                assert isinstance(ours, ferroformers.BatchEncoding)
                _assert_same(ours, ref)
    # a dict of lists (a batch), a single example, tensors in (-> tensors out), a BatchEncoding
    batch = {key: [f[key] for f in plain] for key in plain[0]}
    _assert_same(ours_tok.pad(copy.deepcopy(batch)), ref_tok.pad(copy.deepcopy(batch)))
    for kwargs in (dict(), dict(pad_to_multiple_of=16), dict(padding="max_length", max_length=70)):
        _assert_same(ours_tok.pad(dict(plain[1]), **kwargs), ref_tok.pad(dict(plain[1]), **kwargs))
    as_tensors = [{k: torch.tensor(v) for k, v in f.items()} for f in plain]
    _assert_same(ours_tok.pad(as_tensors), ref_tok.pad(copy.deepcopy(as_tensors)))
    as_arrays = [{k: np.array(v) for k, v in f.items()} for f in plain]
    _assert_same(ours_tok.pad(as_arrays), ref_tok.pad(copy.deepcopy(as_arrays)))
    encodings = [ours_tok(t, truncation=True, max_length=64) for t in texts]
    ref_encodings = [ref_tok(t, truncation=True, max_length=64) for t in texts]
    _assert_same(ours_tok.pad(encodings, return_tensors="pt"), ref_tok.pad(ref_encodings, return_tensors="pt"))


def test_tokenizer_pad_errors(tokenizers_dir):
    ours_tok = AutoTokenizer.from_pretrained(tokenizers_dir / "gpt2")  # no pad token
    features = [{"input_ids": [1, 2, 3]}, {"input_ids": [4]}]
    with pytest.raises(ValueError, match="does not have a padding token"):
        ours_tok.pad(features)
    ours_tok.pad_token = ours_tok.eos_token
    with pytest.raises(ValueError, match="includes input_ids"):
        ours_tok.pad([{"ids": [1]}])
    with pytest.raises(ValueError, match="example 1 has other fields than example 0"):
        ours_tok.pad([{"input_ids": [1], "label": 0}, {"input_ids": [2]}])
    with pytest.raises(ValueError, match="Unable to create tensor.*`labels`"):
        ours_tok.pad([{"input_ids": [1], "labels": [0]}, {"input_ids": [2, 3], "labels": [0, 1]}], return_tensors="pt")
    with pytest.raises(ValueError, match="Unable to create a tensor from `name`"):
        ours_tok.pad([{"input_ids": [1], "name": "a"}, {"input_ids": [2], "name": "b"}], return_tensors="pt")
    with pytest.raises(TypeError, match="holds str values"):
        ours_tok.pad([{"input_ids": ["a", "b"]}])
    with pytest.raises(ValueError, match="empty list"):
        ours_tok.pad([])
    # an empty batch of ids comes back as it is
    assert ours_tok.pad({"input_ids": []}) == {"input_ids": [], "attention_mask": []}


# -- DataCollatorWithPadding ---------------------------------------------------------------------
@pytest.mark.parametrize("name", TOKENIZERS)
def test_data_collator_with_padding_matches_transformers(tokenizers_dir, corpus_texts, name):
    texts = _texts(corpus_texts, 8)
    for padding_side in ("right", "left"):
        ours_tok, ref_tok = _pair(tokenizers_dir, name, padding_side)
        features = [dict(f, label=i % 3, idx=i) for i, f in enumerate(_features(ours_tok, texts))]
        regression = [dict(f, label_ids=[0.5 * i, 1.0]) for i, f in enumerate(_features(ours_tok, texts))]
        for kwargs in (
            dict(),
            dict(pad_to_multiple_of=8),
            dict(padding="max_length", max_length=72),
            dict(return_tensors="np"),
        ):
            for batch in (features, regression, features[:1]):
                ours = DataCollatorWithPadding(ours_tok, **kwargs)(copy.deepcopy(batch))
                ref = transformers.DataCollatorWithPadding(ref_tok, **kwargs)(copy.deepcopy(batch))
                _assert_same(ours, ref)
    ours = DataCollatorWithPadding(ours_tok)(features)
    assert ours["labels"].dtype == torch.int64 and "label" not in ours


def test_data_collator_with_padding_errors(tokenizers_dir):
    no_pad = AutoTokenizer.from_pretrained(tokenizers_dir / "gpt2")
    with pytest.raises(ValueError, match="does not have a padding token"):
        DataCollatorWithPadding(no_pad)([{"input_ids": [1, 2]}, {"input_ids": [3]}])
    with pytest.raises(TypeError, match="needs a tokenizer with a `pad` method"):
        DataCollatorWithPadding("bert-base-uncased")
    tok = AutoTokenizer.from_pretrained(tokenizers_dir / "bert-uncased")
    with pytest.raises(ValueError, match="example 1 has other fields"):
        DataCollatorWithPadding(tok)([{"input_ids": [1, 2], "label": 1}, {"input_ids": [3]}])
    with pytest.raises(ValueError, match="return_tensors must be 'pt'"):
        DataCollatorWithPadding(tok, return_tensors="tf")


# -- DataCollatorForTokenClassification ----------------------------------------------------------
def _token_classification_features(tok, texts, label_key="labels"):
    """Word-level tags aligned to tokens as in transformers' NER examples: the first piece of each word gets
    the word's tag, other pieces and special tokens -100."""
    features = []
    for n, text in enumerate(texts):
        words = text.split()[:20]
        enc = tok(words, is_split_into_words=True, truncation=True, max_length=48)
        word_tags = [(len(w) + n) % 5 for w in words]
        labels, previous = [], None
        for word in enc.word_ids():
            labels.append(-100 if word is None or word == previous else word_tags[word])
            previous = word
        features.append({**{k: list(v) for k, v in enc.items()}, label_key: labels})
    return features


@pytest.mark.parametrize("name", TOKENIZERS)
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_token_classification_collator_matches_transformers(tokenizers_dir, corpus_texts, name, padding_side):
    ours_tok, ref_tok = _pair(tokenizers_dir, name, padding_side)
    if name != "bert-uncased":  # byte-level BPE needs a prefix space for pre-split words, in both libraries
        ours_tok = AutoTokenizer.from_pretrained(tokenizers_dir / name, add_prefix_space=True)
        ref_tok = transformers.AutoTokenizer.from_pretrained(str(tokenizers_dir / name), add_prefix_space=True)
        for tok in (ours_tok, ref_tok):
            tok.pad_token = tok.pad_token or tok.eos_token
            tok.padding_side = padding_side
    texts = _texts(corpus_texts, 6)
    for label_key in ("labels", "label"):
        features = _token_classification_features(ours_tok, texts, label_key)
        assert features == _token_classification_features(ref_tok, texts, label_key)
        for kwargs in (
            dict(),
            dict(pad_to_multiple_of=8, label_pad_token_id=-1),
            dict(padding="max_length", max_length=50),
            dict(return_tensors="np"),
        ):
            ours = DataCollatorForTokenClassification(ours_tok, **kwargs)(copy.deepcopy(features))
            ref = transformers.DataCollatorForTokenClassification(ref_tok, **kwargs)(copy.deepcopy(features))
            _assert_same(ours, ref)
        # labels stay on their tokens: padding positions get the pad label, on the tokenizer's side
        batch = DataCollatorForTokenClassification(ours_tok)(copy.deepcopy(features))
        assert torch.equal(
            batch[label_key][batch["attention_mask"] == 0],
            torch.full_like(batch[label_key], -100)[batch["attention_mask"] == 0],
        )
        for row, feature in zip(batch[label_key], features):
            kept = row[row != -100] if padding_side == "right" else row[-len(feature[label_key]) :]
            expected = [x for x in feature[label_key] if x != -100] if padding_side == "right" else feature[label_key]
            assert kept.tolist() == expected
    no_labels = [{k: v for k, v in f.items() if k != "labels"} for f in _token_classification_features(ours_tok, texts)]
    _assert_same(
        DataCollatorForTokenClassification(ours_tok)(copy.deepcopy(no_labels)),
        transformers.DataCollatorForTokenClassification(ref_tok)(copy.deepcopy(no_labels)),
    )


def test_token_classification_collator_errors(tokenizers_dir):
    tok = AutoTokenizer.from_pretrained(tokenizers_dir / "bert-uncased")
    collator = DataCollatorForTokenClassification(tok)
    with pytest.raises(ValueError, match="example 1 has 2 labels for 3 tokens"):
        collator([{"input_ids": [101, 102], "labels": [-100, -100]}, {"input_ids": [101, 5, 102], "labels": [0, 1]}])
    with pytest.raises(ValueError, match="example 1 has no `labels`"):
        collator([{"input_ids": [101, 102], "labels": [-100, -100]}, {"input_ids": [101, 102]}])
    with pytest.raises(ValueError, match="return_tensors must be"):
        collator([{"input_ids": [101, 102], "labels": [-100, -100]}], return_tensors="jax")


# -- DataCollatorForLanguageModeling -------------------------------------------------------------
MLM_SETTINGS = [
    dict(),
    dict(mlm_probability=0.4, pad_to_multiple_of=8),
    dict(mask_replace_prob=1.0, random_replace_prob=0.0),
    dict(mask_replace_prob=0.5, random_replace_prob=0.4),
    dict(mask_replace_prob=0.0, random_replace_prob=1.0),
]


@pytest.mark.parametrize("name", ["bert-uncased", "roberta-style-bpe"])
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_masked_lm_same_masks_as_transformers_under_the_same_seed(tokenizers_dir, corpus_texts, name, padding_side):
    ours_tok, ref_tok = _pair(tokenizers_dir, name, padding_side)
    texts = _texts(corpus_texts, 10)
    plain = _features(ours_tok, texts)
    with_special = _features(ours_tok, texts, return_special_tokens_mask=True)
    id_lists = [f["input_ids"] for f in plain]
    for settings in MLM_SETTINGS:
        for examples in (plain, with_special, id_lists, [torch.tensor(ids) for ids in id_lists]):
            ours_collator = DataCollatorForLanguageModeling(ours_tok, **settings)
            ref_collator = transformers.DataCollatorForLanguageModeling(ref_tok, **settings)
            for step in range(2):  # successive batches continue the same global stream
                torch.manual_seed(100 + step)
                ours = ours_collator(copy.deepcopy(examples))
                torch.manual_seed(100 + step)
                ref = ref_collator(copy.deepcopy(examples))
                _assert_same(ours, ref)
                assert (ours["labels"] != -100).any()
            # numpy arrays, drawn from numpy's global RNG
            if not isinstance(examples[0], torch.Tensor):
                np.random.seed(7)
                ours = ours_collator(copy.deepcopy(examples), return_tensors="np")
                np.random.seed(7)
                ref = ref_collator(copy.deepcopy(examples), return_tensors="np")
                _assert_same(ours, ref)


def test_masked_lm_seed_gives_its_own_reproducible_stream(tokenizers_dir, corpus_texts):
    ours_tok, ref_tok = _pair(tokenizers_dir, "bert-uncased")
    features = _features(ours_tok, _texts(corpus_texts, 10))
    for return_tensors in ("pt", "np"):
        ours_collator = DataCollatorForLanguageModeling(ours_tok, seed=42, return_tensors=return_tensors)
        ref_collator = transformers.DataCollatorForLanguageModeling(ref_tok, seed=42, return_tensors=return_tensors)
        batches = []
        for _ in range(3):
            torch.manual_seed(0)  # the global RNG does not matter with seed=
            np.random.seed(0)
            ours = ours_collator(copy.deepcopy(features))
            _assert_same(ours, ref_collator(copy.deepcopy(features)))
            batches.append(ours["labels"])
        assert not np.array_equal(np.asarray(batches[0]), np.asarray(batches[1]))  # the stream moves on


def test_masked_lm_in_dataloader_workers_matches_transformers(tokenizers_dir, corpus_texts):
    ours_tok, ref_tok = _pair(tokenizers_dir, "bert-uncased")
    features = _features(ours_tok, _texts(corpus_texts, 8))

    def run(collator):
        loader = torch.utils.data.DataLoader(
            features, batch_size=2, num_workers=2, collate_fn=collator, multiprocessing_context="fork"
        )
        return list(loader)

    ours = run(DataCollatorForLanguageModeling(ours_tok, seed=3))
    ref = run(transformers.DataCollatorForLanguageModeling(ref_tok, seed=3))
    assert len(ours) == len(ref) == 4
    for a, b in zip(ours, ref):
        _assert_same(a, b)


def test_whole_word_masking_matches_transformers(tokenizers_dir, corpus_texts):
    ours_tok, ref_tok = _pair(tokenizers_dir, "bert-uncased")
    texts = _texts(corpus_texts, 8)
    # transformers leaves offsets unpadded, so it needs examples of equal length
    features = [
        {
            k: list(v)
            for k, v in ours_tok(
                t, padding="max_length", truncation=True, max_length=40, return_offsets_mapping=True
            ).items()
        }
        for t in texts
    ]
    with pytest.warns(UserWarning, match="Random token replacement is not supported"):
        ours_collator = DataCollatorForLanguageModeling(ours_tok, whole_word_mask=True, mlm_probability=0.3)
    with pytest.warns(UserWarning):
        ref_collator = transformers.DataCollatorForLanguageModeling(ref_tok, whole_word_mask=True, mlm_probability=0.3)
    for seed in range(3):
        torch.manual_seed(seed)
        ours = ours_collator(copy.deepcopy(features))
        torch.manual_seed(seed)
        ref = ref_collator(copy.deepcopy(features))
        _assert_same(ours, ref)
    # ours also pads offsets, so examples of different lengths work: a word is masked whole or not at all
    ragged = [
        {k: list(v) for k, v in ours_tok(t, truncation=True, max_length=40, return_offsets_mapping=True).items()}
        for t in texts
    ]
    torch.manual_seed(0)
    batch = ours_collator(copy.deepcopy(ragged))
    for row, feature in enumerate(ragged):
        enc = ours_tok(texts[row], truncation=True, max_length=40)
        picked = (batch["labels"][row, : len(feature["input_ids"])] != -100).tolist()
        by_word: dict[int, set] = {}
        for word, is_picked in zip(enc.word_ids(), picked):
            if word is not None:
                by_word.setdefault(word, set()).add(is_picked)
        assert all(len(states) == 1 for states in by_word.values())
    assert (batch["labels"] != -100).any()
    with pytest.raises(ValueError, match="return_offsets_mapping=True"):
        ours_collator([{"input_ids": [101, 5, 102]}])


def test_masked_lm_statistics_on_a_large_batch(tokenizers_dir, corpus_texts):
    tok = AutoTokenizer.from_pretrained(tokenizers_dir / "bert-uncased")
    texts = corpus_texts("en", 400)
    features = [{k: list(v) for k, v in tok(t, truncation=True, max_length=128).items()} for t in texts]
    original = tok.pad(copy.deepcopy(features), return_tensors="pt")["input_ids"]
    special = torch.isin(original, torch.tensor(tok.all_special_ids))  # [CLS], [SEP] and the padding
    assert special.any() and (original == tok.pad_token_id).any()
    collator = DataCollatorForLanguageModeling(tok)
    counts = dict.fromkeys(("candidates", "picked", "masked", "randomized", "unchanged"), 0)
    for seed in range(6):
        torch.manual_seed(seed)
        batch = collator(copy.deepcopy(features))
        inputs, labels = batch["input_ids"], batch["labels"]
        picked = labels != -100
        assert not (picked & special).any()  # special tokens and padding are never picked...
        assert torch.equal(inputs[special], original[special])  # ...nor changed
        assert torch.equal(inputs[~picked], original[~picked])
        assert torch.equal(labels[picked], original[picked])  # labels hold the original ids
        masked = (inputs == tok.mask_token_id) & picked
        unchanged = (inputs == original) & picked  # (a random id equal to the original is rare: 1 in 30522)
        counts["candidates"] += int((~special).sum())
        counts["picked"] += int(picked.sum())
        counts["masked"] += int(masked.sum())
        counts["unchanged"] += int(unchanged.sum())
        counts["randomized"] += int((picked & ~masked & ~unchanged).sum())
    assert counts["candidates"] > 80000
    # tolerances are about 4 standard deviations of each share
    assert abs(counts["picked"] / counts["candidates"] - 0.15) < 0.006
    assert abs(counts["masked"] / counts["picked"] - 0.8) < 0.015
    assert abs(counts["randomized"] / counts["picked"] - 0.1) < 0.012
    assert abs(counts["unchanged"] / counts["picked"] - 0.1) < 0.012


@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_causal_lm_matches_transformers(tokenizers_dir, corpus_texts, padding_side):
    ours_tok, ref_tok = _pair(tokenizers_dir, "gpt2", padding_side)
    features = _features(ours_tok, _texts(corpus_texts, 8))
    id_lists = [f["input_ids"] for f in features]
    for examples in (features, id_lists, [np.array(ids) for ids in id_lists]):
        for kwargs in (dict(), dict(pad_to_multiple_of=16), dict(return_tensors="np")):
            ours = DataCollatorForLanguageModeling(ours_tok, mlm=False, **kwargs)(copy.deepcopy(examples))
            ref = transformers.DataCollatorForLanguageModeling(ref_tok, mlm=False, **kwargs)(copy.deepcopy(examples))
            _assert_same(ours, ref)
    batch = DataCollatorForLanguageModeling(ours_tok, mlm=False)(copy.deepcopy(features))
    padding = batch["attention_mask"] == 0
    assert padding.any() and (batch["labels"][padding] == -100).all()
    assert torch.equal(batch["labels"][~padding], batch["input_ids"][~padding])


def test_language_modeling_errors(tokenizers_dir):
    gpt2 = AutoTokenizer.from_pretrained(tokenizers_dir / "gpt2")
    with pytest.raises(ValueError, match="does not have a mask token"):
        DataCollatorForLanguageModeling(gpt2)
    with pytest.raises(ValueError, match="Whole word masking can only be used with mlm=True"):
        DataCollatorForLanguageModeling(gpt2, mlm=False, whole_word_mask=True)
    # equal lengths need no pad token; different lengths do
    same = DataCollatorForLanguageModeling(gpt2, mlm=False)([[1, 2, 3], [4, 5, 6]])
    assert torch.equal(same["labels"], torch.tensor([[1, 2, 3], [4, 5, 6]]))
    with pytest.raises(ValueError, match="does not have a pad token"):
        DataCollatorForLanguageModeling(gpt2, mlm=False)([[1, 2, 3], [4]])
    bert = AutoTokenizer.from_pretrained(tokenizers_dir / "bert-uncased")
    for bad in (
        dict(mlm_probability=1.5),
        dict(mlm_probability=None),
        dict(mask_replace_prob=0.7, random_replace_prob=0.5),
        dict(random_replace_prob=-0.1),
    ):
        with pytest.raises(ValueError, match="should"):
            DataCollatorForLanguageModeling(bert, **bad)
    with pytest.raises(ValueError, match="no examples"):
        DataCollatorForLanguageModeling(bert)([])
    with pytest.raises(ValueError, match="1-d"):
        DataCollatorForLanguageModeling(bert)([[[1, 2]], [[3, 4]]])
    with pytest.raises(ValueError, match="child process"):
        _run_seeded_collator_in_a_plain_process(bert)


def _collate_in_child(collator, queue):
    try:
        collator([[101, 5, 102]])
        queue.put(None)
    except ValueError as err:
        queue.put(str(err))


def _run_seeded_collator_in_a_plain_process(tok):
    import multiprocessing

    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    process = context.Process(target=_collate_in_child, args=(DataCollatorForLanguageModeling(tok, seed=1), queue))
    process.start()
    message = queue.get(timeout=60)
    process.join()
    if message:
        raise ValueError(message)


def test_top_level_exports_are_lazy():
    assert ferroformers.DataCollatorWithPadding is DataCollatorWithPadding
    assert ferroformers.default_data_collator is default_data_collator
    code = (
        "import sys, ferroformers; ferroformers.data; ferroformers.metrics; "
        "assert 'torch' not in sys.modules; ferroformers.DataCollatorForLanguageModeling"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
