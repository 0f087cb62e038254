"""Differential fuzzing: ferroformers' Rust tokenizer against Hugging Face `tokenizers` on random text.

Every shared tokenizer (`shared/tokenizers/*/tokenizer.json`) is loaded by both libraries; hypothesis
draws Unicode text from all planes (no surrogates: they are not valid text), weighted toward what
breaks tokenizers: combining marks, control and format characters, odd whitespace, emoji, CJK and
runs of ASCII. Each text is encoded by both (with and without special tokens) and every `Encoding`
field must agree: ids, tokens, offsets, type_ids, attention_mask, special_tokens_mask, word_ids;
so must `decode` of the ids, with and without skipping special tokens.

The run is deterministic (`derandomize=True`) and bounded so the file stays well under a minute:
``FERRO_FUZZ_EXAMPLES`` examples per tokenizer and test (default 200: 2 x 6 x 200 = 2,400 cases). For a long hunt:

    FERRO_FUZZ_EXAMPLES=20000 pytest tests/python/reliability/test_fuzz_tokenizers.py

A long run also reads ``FERRO_FUZZ_SEED`` (any int) to explore other inputs than the CI run does.
"""

from __future__ import annotations

import os

import pytest
import tokenizers
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

import ferroformers as ff

EXAMPLES = int(os.environ.get("FERRO_FUZZ_EXAMPLES", "200"))
SEED = os.environ.get("FERRO_FUZZ_SEED")

TOKENIZER_NAMES = [
    "gpt2",
    "bert-uncased",
    "bert-cased-wordpiece",
    "roberta-style-bpe",
    "llama-style-bpe",
    "t5-style-unigram",
]

any_character = st.characters(blacklist_categories=("Cs",))  # every plane, every category but surrogates
tricky_character = st.one_of(
    st.characters(whitelist_categories=("Mn", "Mc", "Me")),  # combining marks
    st.characters(whitelist_categories=("Cc", "Cf", "Zs", "Zl", "Zp")),  # controls, format, separators
    st.sampled_from(["\u0301", "\u200d", "\ufeff", "\u00a0", "\t", "\x00", "\u3000", "\u2028"]),
    st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),  # CJK
    st.characters(min_codepoint=0x1F300, max_codepoint=0x1FAFF),  # emoji
)
fragment = st.one_of(
    st.text(any_character, max_size=12),
    st.text(tricky_character, min_size=1, max_size=6),
    st.from_regex(r"[A-Za-z0-9' .,!?-]{1,16}", fullmatch=True),
    st.sampled_from(["\r\n", "\U0001f469\u200d\U0001f4bb", "e\u0301", "  ", "<|endoftext|>", "[CLS]", "</s>", "<unk>"]),
)
random_text = st.lists(fragment, max_size=8).map("".join)


@pytest.fixture(scope="module", params=TOKENIZER_NAMES)
def tokenizer_pair(request, tokenizers_dir):
    path = str(tokenizers_dir / request.param / "tokenizer.json")
    return ff.Tokenizer.from_file(path), tokenizers.Tokenizer.from_file(path)


FIELDS = ("ids", "tokens", "offsets", "type_ids", "attention_mask", "special_tokens_mask", "word_ids")


def assert_same_encoding(ours, theirs, text: str) -> None:
    for name in FIELDS:
        assert getattr(ours, name) == getattr(theirs, name), f"{name} differ for {text!r}"


def _fuzz(test):
    test = settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=SEED is None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )(test)
    return seed(int(SEED))(test) if SEED is not None else test


@_fuzz
@given(text=random_text, add_special_tokens=st.booleans())
def test_encode_and_decode_equal_tokenizers(tokenizer_pair, text, add_special_tokens):
    ours, theirs = tokenizer_pair
    expected = theirs.encode(text, add_special_tokens=add_special_tokens)
    got = ours.encode(text, add_special_tokens=add_special_tokens)
    assert_same_encoding(got, expected, text)
    for skip in (True, False):
        assert ours.decode(got.ids, skip_special_tokens=skip) == theirs.decode(expected.ids, skip_special_tokens=skip)


@_fuzz
@given(texts=st.lists(random_text, min_size=1, max_size=4))
def test_encode_batch_equals_tokenizers(tokenizer_pair, texts):
    ours, theirs = tokenizer_pair
    for got, expected, text in zip(ours.encode_batch(texts), theirs.encode_batch(texts), texts):
        assert_same_encoding(got, expected, text)
