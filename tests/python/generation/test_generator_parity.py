"""`Generator.step` driven by a tiny random GPT-2 equals transformers' `generate` token for token.

The loop here is the simplest one (no KV cache: the whole sequence is fed each step, reordered with
`beam_indices`), enough to check the Rust side's greedy, beam search and stopping logic, including
left-padded batches, end-of-sequence handling and the early-stopping modes.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from transformers import GPT2Config, GPT2LMHeadModel

from ferroformers._core import Generator

VOCAB = 50
EOS = 1


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    cfg = GPT2Config(vocab_size=VOCAB, n_positions=64, n_embd=32, n_layer=2, n_head=2, bos_token_id=0, eos_token_id=EOS)
    m = GPT2LMHeadModel(cfg).eval()
    with torch.no_grad():
        # make the end-of-sequence token likely enough that hypotheses actually end early
        m.lm_head.weight[EOS] *= 4
    return m


def _ours(model, input_ids, mask, **kwargs):
    gen = Generator(input_ids.shape[0], VOCAB, input_ids.numpy(), attention_mask=mask.numpy(), **kwargs)
    ids = input_ids.repeat_interleave(gen.rows // input_ids.shape[0], 0)
    am = mask.repeat_interleave(gen.rows // input_ids.shape[0], 0)
    while True:
        with torch.no_grad():
            pos = (am.cumsum(-1) - 1).clamp(min=0)
            logits = model(input_ids=ids, attention_mask=am, position_ids=pos).logits[:, -1]
        step = gen.step(logits.float().contiguous().numpy())
        rows = torch.from_numpy(step["beam_indices"])
        ids = torch.cat([ids[rows], torch.from_numpy(step["next_tokens"])[:, None]], 1)
        am = torch.cat([am[rows], torch.ones(am.shape[0], 1, dtype=am.dtype)], 1)
        if step["done"]:
            return gen.finalize()


CONFIGS = [
    {"num_beams": 1},
    {"num_beams": 1, "repetition_penalty": 1.5, "min_new_tokens": 4},
    {"num_beams": 3, "num_return_sequences": 2},
    {"num_beams": 4, "length_penalty": 0.5, "early_stopping": True},
    {"num_beams": 2, "early_stopping": "never", "no_repeat_ngram_size": 2},
    {"num_beams": 3, "length_penalty": -1.0, "bad_words_ids": [[7], [3, 4]]},
]


@pytest.mark.parametrize("kwargs", CONFIGS, ids=str)
@pytest.mark.parametrize("batch", [1, 4])
@pytest.mark.parametrize("seed", range(4))
def test_matches_transformers_generate(model, kwargs, batch, seed):
    rng = np.random.default_rng(seed)
    prompt_len, new = 5, 12
    ids = torch.from_numpy(rng.integers(2, VOCAB, (batch, prompt_len)))
    mask = torch.ones(batch, prompt_len, dtype=torch.long)
    for b in range(1, batch):  # left padding
        p = int(rng.integers(0, 3))
        ids[b, :p] = EOS
        mask[b, :p] = 0
    ref = model.generate(
        ids,
        attention_mask=mask,
        max_new_tokens=new,
        do_sample=False,
        return_dict_in_generate=True,
        output_scores=True,
        pad_token_id=EOS,
        eos_token_id=EOS,
        **kwargs,
    )
    ours = _ours(model, ids, mask, max_length=prompt_len + new, eos_token_ids=[EOS], pad_token_id=EOS, **kwargs)
    np.testing.assert_array_equal(ours["sequences"], ref.sequences.numpy())
    if kwargs["num_beams"] > 1:
        np.testing.assert_allclose(ours["sequences_scores"], ref.sequences_scores.numpy(), atol=1e-5, rtol=0)
