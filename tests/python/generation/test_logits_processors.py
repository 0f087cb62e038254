"""Each logits processor and warper of `ferroformers._core.Generator` against transformers' class.

`Generator.process` applies only what is configured, so a generator with one processor set is
compared with the matching transformers `LogitsProcessor` on random logits: equal within 1e-6, with
`-inf` in the same places. Then the sampler: frequencies follow the processed distribution (a
chi-square test) and seeds reproduce.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from transformers.generation import logits_process as lp

from ferroformers._core import Generator, set_seed

VOCAB = 64
ROWS = 4
CUR_LEN = 12


def _generator(*, do_sample: bool = False, num_beams: int = 1, eos_token_ids=(), **kwargs) -> Generator:
    prompt = np.zeros((1, 1), dtype=np.int64)
    return Generator(
        1,
        VOCAB,
        prompt,
        max_length=1000,
        do_sample=do_sample,
        num_beams=num_beams,
        eos_token_ids=list(eos_token_ids),
        **kwargs,
    )


def _inputs(seed: int, vocab: int = VOCAB, rows: int = ROWS, cur_len: int = CUR_LEN):
    rng = np.random.default_rng(seed)
    logits = (rng.standard_normal((rows, vocab)) * 3).astype(np.float32)
    # a few repeated tokens so the n-gram and bad-word processors have something to match
    input_ids = rng.integers(0, 8, size=(rows, cur_len), dtype=np.int64)
    return logits, input_ids


def _assert_same(ours: np.ndarray, theirs: torch.Tensor) -> None:
    theirs = theirs.numpy()
    assert ours.dtype == np.float32 and ours.shape == theirs.shape
    np.testing.assert_array_equal(np.isneginf(ours), np.isneginf(theirs))
    finite = np.isfinite(theirs)
    np.testing.assert_allclose(ours[finite], theirs[finite], rtol=0, atol=1e-6)


def _compare(gen: Generator, processor, seed: int, **input_kwargs) -> None:
    logits, input_ids = _inputs(seed, **input_kwargs)
    ours = gen.process(logits, input_ids)
    theirs = processor(torch.from_numpy(input_ids), torch.from_numpy(logits.copy()))
    _assert_same(ours, theirs)


SEEDS = range(5)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("penalty", [1.3, 0.7])
def test_repetition_penalty(seed, penalty):
    _compare(_generator(repetition_penalty=penalty), lp.RepetitionPenaltyLogitsProcessor(penalty), seed)


def test_repetition_penalty_skips_left_padding():
    logits, input_ids = _inputs(0)
    mask = np.ones_like(input_ids)
    mask[1, :3] = 0
    mask[2, :7] = 0
    gen = _generator(repetition_penalty=1.5)
    ours = gen.process(logits, input_ids, attention_mask=mask)
    padding = torch.from_numpy((mask != 0).astype(np.int64).argmax(axis=1))
    proc = lp.RepetitionPenaltyLogitsProcessor(1.5, prompt_ignore_length=padding)
    _assert_same(ours, proc(torch.from_numpy(input_ids), torch.from_numpy(logits.copy())))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n", [1, 2, 3, 13])
def test_no_repeat_ngram(seed, n):
    _compare(_generator(no_repeat_ngram_size=n), lp.NoRepeatNGramLogitsProcessor(n), seed)


@pytest.mark.parametrize("seed", SEEDS)
def test_bad_words(seed):
    # single tokens (always banned), multi-token words (banned after their prefix), and an eos
    # single token, which transformers drops
    words = [[5], [1, 2], [3, 4, 6], [0], [7, 7], [2, 0]]
    gen = _generator(bad_words_ids=words, eos_token_ids=[0])
    _compare(gen, lp.NoBadWordsLogitsProcessor(words, eos_token_id=[0]), seed)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("min_length", [5, 12, 13, 20])
def test_min_length(seed, min_length):
    gen = _generator(min_length=min_length, eos_token_ids=[0, 3])
    _compare(gen, lp.MinLengthLogitsProcessor(min_length, [0, 3]), seed)


@pytest.mark.parametrize("min_new_tokens", [1, 11, 12])
def test_min_new_tokens(min_new_tokens):
    # the generator's prompt is 1 token long, so the processor counts from 1
    gen = _generator(min_new_tokens=min_new_tokens, eos_token_ids=[2])
    _compare(gen, lp.MinNewTokensLengthLogitsProcessor(1, min_new_tokens, [2]), 0)


@pytest.mark.parametrize("seed", SEEDS)
def test_suppress_tokens(seed):
    tokens = [0, 5, 63, 200]  # 200 is outside the vocabulary: ignored
    _compare(_generator(suppress_tokens=tokens), lp.SuppressTokensLogitsProcessor(tokens), seed)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("temperature", [0.3, 1.7])
def test_temperature(seed, temperature):
    gen = _generator(do_sample=True, temperature=temperature)
    _compare(gen, lp.TemperatureLogitsWarper(temperature), seed)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("top_k", "keep"), [(1, 1), (5, 1), (64, 1), (1000, 1), (1, 3)])
def test_top_k(seed, top_k, keep):
    # keep > 1: beam sampling with two eos tokens keeps three tokens
    eos = [] if keep == 1 else [0, 1]
    gen = _generator(do_sample=True, top_k=top_k, num_beams=2 if keep > 1 else 1, eos_token_ids=eos)
    _compare(gen, lp.TopKLogitsWarper(top_k, min_tokens_to_keep=keep), seed)


def test_top_k_keeps_ties():
    logits = np.array([[1.0, 3.0, 2.0, 2.0, 0.0]], dtype=np.float32)
    gen = Generator(1, 5, np.zeros((1, 1), np.int64), max_length=9, do_sample=True, top_k=2)
    ours = gen.process(logits, np.zeros((1, 1), np.int64))
    _assert_same(ours, lp.TopKLogitsWarper(2)(None, torch.from_numpy(logits.copy())))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("top_p", "keep"), [(0.9, 1), (0.5, 1), (0.01, 1), (0.01, 3), (1e-9, 1)])
def test_top_p(seed, top_p, keep):
    eos = [] if keep == 1 else [0, 1]
    gen = _generator(do_sample=True, top_p=top_p, num_beams=2 if keep > 1 else 1, eos_token_ids=eos)
    _compare(gen, lp.TopPLogitsWarper(top_p, min_tokens_to_keep=keep), seed)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("min_p", "keep"), [(0.05, 1), (0.3, 1), (1.0, 1), (0.9, 3), (0.0, 1)])
def test_min_p(seed, min_p, keep):
    eos = [] if keep == 1 else [0, 1]
    gen = _generator(do_sample=True, min_p=min_p, num_beams=2 if keep > 1 else 1, eos_token_ids=eos)
    _compare(gen, lp.MinPLogitsWarper(min_p, min_tokens_to_keep=keep), seed)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("mass", "keep"), [(0.9, 1), (0.5, 1), (0.05, 1), (0.2, 3)])
def test_typical_p(seed, mass, keep):
    eos = [] if keep == 1 else [0, 1]
    gen = _generator(do_sample=True, typical_p=mass, num_beams=2 if keep > 1 else 1, eos_token_ids=eos)
    _compare(gen, lp.TypicalLogitsWarper(mass, min_tokens_to_keep=keep), seed)


def test_warpers_on_filtered_scores():
    # -inf already present (as after a processor): every warper must treat them as probability 0
    logits, input_ids = _inputs(3)
    logits[:, ::3] = -np.inf
    for kwargs, proc in [
        ({"top_k": 10}, lp.TopKLogitsWarper(10)),
        ({"top_p": 0.8}, lp.TopPLogitsWarper(0.8)),
        ({"min_p": 0.1}, lp.MinPLogitsWarper(0.1)),
        ({"typical_p": 0.7}, lp.TypicalLogitsWarper(0.7)),
    ]:
        ours = _generator(do_sample=True, **kwargs).process(logits, input_ids)
        _assert_same(ours, proc(torch.from_numpy(input_ids), torch.from_numpy(logits.copy())))


@pytest.mark.parametrize("seed", SEEDS)
def test_everything_in_transformers_order(seed):
    """All processors at once, in the order `_get_logits_processor` builds them."""
    kwargs = dict(
        repetition_penalty=1.2,
        no_repeat_ngram_size=2,
        bad_words_ids=[[5], [1, 2]],
        min_length=20,
        min_new_tokens=3,
        suppress_tokens=[9],
        temperature=0.8,
        top_k=20,
        top_p=0.9,
        min_p=0.02,
        typical_p=0.95,
    )
    gen = _generator(do_sample=True, eos_token_ids=[0], **kwargs)
    procs = lp.LogitsProcessorList(
        [
            lp.RepetitionPenaltyLogitsProcessor(1.2),
            lp.NoRepeatNGramLogitsProcessor(2),
            lp.NoBadWordsLogitsProcessor([[5], [1, 2]], eos_token_id=[0]),
            lp.MinLengthLogitsProcessor(20, [0]),
            lp.MinNewTokensLengthLogitsProcessor(1, 3, [0]),
            lp.SuppressTokensLogitsProcessor([9]),
            lp.TemperatureLogitsWarper(0.8),
            lp.TopKLogitsWarper(20),
            lp.TopPLogitsWarper(0.9),
            lp.MinPLogitsWarper(0.02),
            lp.TypicalLogitsWarper(0.95),
        ]
    )
    _compare(gen, procs, seed)


def test_warpers_only_when_sampling():
    logits, input_ids = _inputs(1)
    gen = _generator(do_sample=False, temperature=0.5, top_k=3)
    np.testing.assert_array_equal(gen.process(logits, input_ids), logits)


# --- arguments ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"top_p": 0.0},
        {"top_p": 1.5},
        {"temperature": 0.0},
        {"temperature": -1.0},
        {"num_beams": 2, "num_return_sequences": 3},
        {"num_return_sequences": 2},
        {"min_p": 1.5},
        {"typical_p": 0.0},
        {"repetition_penalty": 0.0},
        {"bad_words_ids": [[VOCAB]]},
        {"bad_words_ids": []},
        {"top_k": -1},
        {"early_stopping": "sometimes"},
        {"max_length": 1},
    ],
)
def test_bad_arguments_raise_value_error(kwargs):
    kwargs = {"max_length": 10, **kwargs}
    with pytest.raises(ValueError):
        Generator(1, VOCAB, np.zeros((1, 1), np.int64), **kwargs)


def test_bad_arrays():
    gen = _generator()
    ids = np.zeros((2, 3), np.int64)
    with pytest.raises(TypeError, match=r"contiguous\(\)\.numpy\(\)"):
        gen.process(np.zeros((2, VOCAB), np.float64), ids)
    with pytest.raises(ValueError, match="C-contiguous"):
        gen.process(np.zeros((VOCAB, 2), np.float32).T, ids)
    with pytest.raises(ValueError):
        gen.process(np.zeros((2, VOCAB + 1), np.float32), ids)
    with pytest.raises(ValueError):
        Generator(2, VOCAB, np.zeros((1, 3), np.int64), max_length=9)
    g = Generator(1, VOCAB, np.zeros((1, 3), np.int64), max_length=9)
    with pytest.raises(ValueError, match=r"shape \(1, 64\)"):
        g.step(np.zeros((2, VOCAB), np.float32))
    with pytest.raises(TypeError):
        g.step(np.zeros((1, VOCAB), np.float16))


# --- sampler -----------------------------------------------------------------------------------


def _sample_counts(logits: np.ndarray, draws: int, seed: int, **kwargs) -> np.ndarray:
    vocab = logits.shape[-1]
    gen = Generator(1, vocab, np.zeros((1, 1), np.int64), max_length=draws + 1, do_sample=True, seed=seed, **kwargs)
    counts = np.zeros(vocab, np.int64)
    batch = np.ascontiguousarray(logits[None, :], dtype=np.float32)
    for _ in range(draws):
        counts[gen.step(batch)["next_tokens"][0]] += 1
    return counts


def test_sampling_follows_processed_distribution():
    """Chi-square goodness of fit of 20000 draws after temperature and top-k.

    With 5 surviving categories (4 degrees of freedom) the 0.999 quantile is 18.47; the seed is
    fixed, so the test is deterministic, and a wrong distribution (e.g. ignoring the temperature)
    gives a statistic in the hundreds.
    """
    logits = np.array([0.0, 1.0, 2.0, -1.0, 0.5, 1.5, -3.0, 0.2], np.float32)
    draws = 20_000
    counts = _sample_counts(logits, draws, seed=1, temperature=0.7, top_k=5)
    processed = lp.TopKLogitsWarper(5)(None, torch.from_numpy(logits[None] / np.float32(0.7)))
    probs = torch.softmax(processed, -1)[0].double().numpy()
    assert counts[probs == 0].sum() == 0
    expected = probs[probs > 0] * draws
    chi2 = (((counts[probs > 0] - expected) ** 2) / expected).sum()
    assert chi2 < 18.47, (chi2, counts, expected)


def test_seed_reproduces_and_differs():
    logits = np.zeros(50, np.float32)
    a = _sample_counts(logits, 200, seed=3)
    assert (a == _sample_counts(logits, 200, seed=3)).all()
    assert (a != _sample_counts(logits, 200, seed=4)).any()


def _tokens(seed=None) -> list[int]:
    gen = Generator(2, 40, np.zeros((2, 1), np.int64), max_length=30, do_sample=True, seed=seed)
    out = []
    while True:
        step = gen.step(np.zeros((2, 40), np.float32))
        out.extend(step["next_tokens"].tolist())
        if step["done"]:
            return out


def test_set_seed_makes_unseeded_generators_reproducible():
    set_seed(123)
    a = _tokens()
    set_seed(123)
    assert _tokens() == a
    assert _tokens() != a  # the next generator draws the next seed
    assert _tokens(seed=5) == _tokens(seed=5)


def test_step_outputs():
    gen = Generator(
        2,
        VOCAB,
        np.array([[0, 4], [3, 4]], np.int64),
        max_length=4,
        eos_token_ids=[1],
        pad_token_id=2,
        output_scores=True,
        suppress_tokens=[7],
    )
    logits = np.zeros((2, VOCAB), np.float32)
    logits[0, 1] = 5  # row 0 ends
    logits[1, 7] = 9  # suppressed, so row 1 takes the next best
    logits[1, 6] = 5
    step = gen.step(logits)
    assert step["next_tokens"].dtype == np.int64
    assert step["next_tokens"].tolist() == [1, 6]
    assert step["beam_indices"].tolist() == [0, 1]
    assert step["done"] is False
    assert step["scores"].shape == (2, VOCAB) and np.isneginf(step["scores"][1, 7])
    step = gen.step(logits)
    assert step["next_tokens"].tolist() == [2, 6]  # row 0 is finished: pad
    assert step["done"] is True
    with pytest.raises(ValueError, match="already done"):
        gen.step(logits)
    assert gen.finalize()["sequences"].tolist() == [[0, 4, 1, 2], [3, 4, 6, 6]]
