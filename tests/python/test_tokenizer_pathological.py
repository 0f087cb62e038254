"""Inputs that break naive tokenizers: very long words, no spaces at all, one char repeated.

Each must give the reference's ids (Hugging Face ``tokenizers``) and finish without error; timings are
in ``benches/bench_tokenizers.py --pathological``. The last test feeds batch after batch of never-seen
words and checks that resident memory stays flat: the piece caches are bounded.
"""

from __future__ import annotations

import random
import string

import psutil
import pytest
import tokenizers

from ferroformers import Tokenizer

NAMES = ["gpt2", "bert-uncased"]


def pathological_inputs(en_paragraphs: list[str]) -> dict[str, str]:
    """The four inputs of the speed issue, each about 1 MB except the first (100 kB)."""
    no_spaces = "".join("".join(p.split()) for p in en_paragraphs)
    return {
        "a_x100k": "a" * 100_000,
        "1mb_no_spaces": no_spaces.encode()[:1_000_000].decode("utf-8", "ignore"),
        "1mb_one_emoji": "😀" * 250_000,
        "caret_x1m": "^" * 1_000_000,
    }


@pytest.fixture(scope="module")
def inputs(corpus_texts) -> dict[str, str]:
    return pathological_inputs(corpus_texts("en"))


def _pair(tokenizers_dir, name):
    path = str(tokenizers_dir / name / "tokenizer.json")
    ours, ref = Tokenizer.from_file(path), tokenizers.Tokenizer.from_file(path)
    for tok in (ours, ref):  # the whole input, not its first 128 tokens
        tok.no_truncation()
        tok.no_padding()
    return ours, ref


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("case", ["a_x100k", "1mb_no_spaces", "1mb_one_emoji", "caret_x1m"])
def test_pathological_input_matches_reference(tokenizers_dir, inputs, name, case):
    ours, ref = _pair(tokenizers_dir, name)
    text = inputs[case]
    expected = ref.encode_batch_fast([text])[0].ids
    assert ours.encode_batch_fast([text])[0].ids == expected
    ids, offsets = ours.encode_batch_flat([text])
    assert ids.tolist() == expected and offsets.tolist() == [0, len(expected)]
    if case == "a_x100k":  # the full path (tokens, offsets) too, on the shortest input
        mine, theirs = ours.encode(text), ref.encode(text)
        assert (mine.ids, mine.tokens, mine.offsets) == (theirs.ids, theirs.tokens, theirs.offsets)


def _unique_words(rnd: random.Random, n: int) -> str:
    return " ".join("".join(rnd.choices(string.ascii_lowercase, k=rnd.randint(4, 12))) for _ in range(n))


@pytest.mark.parametrize("name", ["gpt2", "t5-style-unigram"])
def test_memory_stays_flat_on_a_stream_of_new_words(tokenizers_dir, name):
    """Every batch brings words no cache has seen: once the caches are full, memory must not grow."""
    tok = Tokenizer.from_file(str(tokenizers_dir / name / "tokenizer.json"))
    rnd = random.Random(8)
    process = psutil.Process()

    def run(batches: int) -> None:
        for _ in range(batches):
            batch = [_unique_words(rnd, 30) for _ in range(200)]
            tok.encode_batch_flat(batch)
            tok.encode_batch_fast(batch)

    run(40)  # ~240k distinct words: more than the caches hold, so they are full from here on
    before = process.memory_info().rss
    run(60)
    grown = process.memory_info().rss - before
    assert grown < 48 * 2**20, f"resident memory grew by {grown / 2**20:.0f} MiB over 360k new words"
