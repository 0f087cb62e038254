"""Dropout with the Rust mask (`ferroformers.models.dropout`): statistics, reproducibility, gradients,
the torch fallback, and the models that use it (training mode reproducible under `torch.manual_seed`)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import ferroformers
from ferroformers import _core
from ferroformers.models.attention import attend, padding_mask
from ferroformers.models.bert import BertConfig, BertForSequenceClassification
from ferroformers.models.distilbert import DistilBertConfig, DistilBertForSequenceClassification
from ferroformers.models.dropout import Dropout, dropout, dropout_mask
from ferroformers.models.gpt2 import GPT2Config, GPT2LMHeadModel
from ferroformers.models.roberta import RobertaConfig, RobertaForSequenceClassification

N = 1_000_000  # elements in the statistics tests: many chunks of the Rust fill, so the parallel path runs


def seeded_mask(torch_seed: int, shape, p: float) -> torch.Tensor:
    """The mask `dropout` uses after `torch.manual_seed(torch_seed)`, rebuilt by hand from its definition:
    one int64 draw from torch's CPU generator seeds the Rust fill."""
    torch.manual_seed(torch_seed)
    seed = int(torch.randint(0, 2**63 - 1, (), dtype=torch.int64))
    mask = np.empty(shape, dtype=np.float32)
    _core.fill_dropout_mask(mask, p, seed)
    return torch.from_numpy(mask)


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_mask_keeps_one_minus_p_and_scales_the_survivors(p):
    torch.manual_seed(0)
    mask = dropout_mask((N,), p)
    scale = torch.tensor(1 / (1 - p), dtype=torch.float32)
    assert mask.dtype == torch.float32 and mask.shape == (N,)
    assert bool(((mask == 0) | (mask == scale)).all()), "mask values must be exactly 0 or 1/(1-p)"
    kept = int((mask != 0).sum())
    sigma = (N * p * (1 - p)) ** 0.5  # binomial standard deviation
    assert abs(kept - N * (1 - p)) < 6 * sigma, f"kept {kept} of {N} at p={p}"
    # The survivors are spread out, not bunched: each tenth of the mask keeps its share too.
    per_tenth = (mask.view(10, -1) != 0).sum(dim=1).double()
    assert bool(((per_tenth - N / 10 * (1 - p)).abs() < 6 * (N / 10 * p * (1 - p)) ** 0.5).all())


def test_dropout_scales_the_input_and_keeps_its_mean():
    x = torch.full((N,), 3.0)
    torch.manual_seed(1)
    y = dropout(x, 0.2, training=True)
    assert set(torch.unique(y).tolist()) == {0.0, float(torch.tensor(3.0) * torch.tensor(1 / 0.8))}
    assert abs(y.mean().item() - 3.0) < 6 * 3.0 * (0.2 / 0.8 / N) ** 0.5


def test_same_torch_seed_same_mask_other_seed_other_mask():
    x = torch.randn(8, 64, 64)
    torch.manual_seed(5)
    a = dropout(x, 0.3, training=True)
    b = dropout(x, 0.3, training=True)  # the generator moved on: another mask
    torch.manual_seed(5)
    again = dropout(x, 0.3, training=True)
    torch.manual_seed(6)
    other = dropout(x, 0.3, training=True)
    assert torch.equal(a, again)
    assert not torch.equal(a, b)
    assert not torch.equal(a, other)


def test_mask_is_one_draw_from_torchs_generator_and_the_rust_fill():
    x = torch.randn(300, 700)
    torch.manual_seed(11)
    y = dropout(x, 0.25, training=True)
    after_dropout = torch.rand(3)
    expected_mask = seeded_mask(11, x.shape, 0.25)
    after_one_draw = torch.rand(3)
    assert torch.equal(y, x * expected_mask)
    # The generator advanced by exactly that one draw: the Trainer's saved RNG state replays dropout.
    assert torch.equal(after_dropout, after_one_draw)
    restored = torch.get_rng_state()
    torch.manual_seed(11)
    torch.randint(0, 2**63 - 1, (), dtype=torch.int64)
    torch.rand(3)
    assert torch.equal(torch.get_rng_state(), restored)


def test_mask_does_not_depend_on_the_thread_count():
    masks = []
    try:
        for threads in (1, 2, 3):
            ferroformers.set_num_threads(threads)
            torch.manual_seed(2)
            masks.append(dropout_mask((N,), 0.1))
    finally:
        ferroformers.set_num_threads(0)
    assert torch.equal(masks[0], masks[1])
    assert torch.equal(masks[0], masks[2])


def test_gradient_is_the_upstream_gradient_times_the_mask():
    x = torch.randn(40, 50, requires_grad=True)
    upstream = torch.randn(40, 50)
    torch.manual_seed(3)
    dropout(x, 0.4, training=True).backward(upstream)
    assert torch.equal(x.grad, upstream * seeded_mask(3, x.shape, 0.4))


def test_eval_mode_and_p_zero_leave_the_input_alone():
    x = torch.randn(4, 5)
    module = Dropout(0.5).eval()
    assert torch.equal(module(x), x)
    assert dropout(x, 0.5, training=False) is x
    assert torch.equal(dropout(x, 0.0, training=True), x)


def test_inplace_multiplies_the_input():
    x = torch.randn(30, 30)
    expected = x.clone()
    torch.manual_seed(4)
    out = Dropout(0.5, inplace=True).train()(x)
    assert out is x
    assert torch.equal(x, expected * seeded_mask(4, x.shape, 0.5))


@pytest.mark.parametrize("dtype", [torch.float64, torch.bfloat16])
def test_other_dtypes_fall_back_to_torch_dropout(dtype):
    x = torch.randn(50, 60).to(dtype)
    torch.manual_seed(7)
    ours = dropout(x, 0.3, training=True)
    torch.manual_seed(7)
    theirs = F.dropout(x, 0.3, training=True)
    assert ours.dtype == dtype
    assert torch.equal(ours, theirs)


def test_float32_takes_the_rust_path_not_torchs():
    x = torch.randn(50, 60)
    torch.manual_seed(7)
    ours = dropout(x, 0.3, training=True)
    torch.manual_seed(7)
    theirs = F.dropout(x, 0.3, training=True)
    assert not torch.equal(ours, theirs)
    assert torch.equal(ours, x * seeded_mask(7, x.shape, 0.3))


def test_p_one_and_invalid_p_behave_like_torch():
    x = torch.randn(3, 4)
    assert torch.equal(dropout(x, 1.0, training=True), torch.zeros(3, 4))
    with pytest.raises(ValueError, match="dropout probability"):
        dropout(x, 1.5, training=True)
    with pytest.raises(ValueError):
        Dropout(-0.1)


def test_rust_fill_refuses_bad_arguments():
    out = np.empty(10, dtype=np.float32)
    for p in (1.0, -0.5, float("nan")):
        with pytest.raises(ValueError, match=r"\[0, 1\)"):
            _core.fill_dropout_mask(out, p, 0)
    with pytest.raises(TypeError, match="float32"):
        _core.fill_dropout_mask(np.empty(10, dtype=np.float64), 0.1, 0)
    with pytest.raises(ValueError, match="C-contiguous"):
        _core.fill_dropout_mask(np.empty((10, 10), dtype=np.float32)[:, ::2], 0.1, 0)
    with pytest.raises(ValueError, match="seed"):
        _core.fill_dropout_mask(out, 0.1, -1)
    readonly = np.empty(10, dtype=np.float32)
    readonly.flags.writeable = False
    with pytest.raises(ValueError, match="writable"):
        _core.fill_dropout_mask(readonly, 0.1, 0)
    # Empty masks are fine.
    _core.fill_dropout_mask(np.empty(0, dtype=np.float32), 0.1, 0)


def test_attention_dropout_drops_the_softmax_weights():
    """attend() in training mode on float32 CPU: softmax(q k^T * scale + mask), times the Rust mask, times v."""
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(2, 3, 5, 4, generator=g) for _ in range(3))
    mask = padding_mask(torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]]), torch.float32)
    torch.manual_seed(9)
    out, weights = attend(q, k, v, mask, dropout=0.3)
    assert weights is None
    probs = torch.softmax(q @ k.transpose(-2, -1) * 4**-0.5 + mask, dim=-1)
    expected = (probs * seeded_mask(9, probs.shape, 0.3)) @ v
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-6)
    # With the weights asked for, the same mask is applied and the dropped weights come back.
    torch.manual_seed(9)
    out_w, weights = attend(q, k, v, mask, dropout=0.3, need_weights=True)
    assert torch.equal(out_w, out)
    torch.testing.assert_close(weights, probs * seeded_mask(9, probs.shape, 0.3), rtol=0, atol=1e-6)
    # Without dropout the SDPA kernel runs as before.
    torch.testing.assert_close(attend(q, k, v, mask)[0], probs @ v, rtol=0, atol=1e-5)


TINY_MODELS = {
    "bert": lambda: BertForSequenceClassification(
        BertConfig(vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37)
    ),
    "distilbert": lambda: DistilBertForSequenceClassification(
        DistilBertConfig(vocab_size=99, dim=32, n_layers=2, n_heads=4, hidden_dim=37)
    ),
    "roberta": lambda: RobertaForSequenceClassification(
        RobertaConfig(vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37)
    ),
    "gpt2": lambda: GPT2LMHeadModel(GPT2Config(vocab_size=99, n_embd=32, n_layer=2, n_head=4, n_positions=40)),
}


@pytest.mark.parametrize("arch", sorted(TINY_MODELS))
def test_models_use_the_rust_dropout_everywhere(arch):
    model = TINY_MODELS[arch]()
    dropouts = [m for m in model.modules() if isinstance(m, nn.Dropout)]
    assert dropouts, "the model has dropout layers"
    assert all(isinstance(m, Dropout) for m in dropouts)
    assert not any("dropout" in name or "drop." in name for name in model.state_dict()), "dropout has no weights"


@pytest.mark.parametrize("arch", sorted(TINY_MODELS))
def test_training_mode_is_reproducible_under_torch_manual_seed(arch):
    torch.manual_seed(0)
    model = TINY_MODELS[arch]().train()
    g = torch.Generator().manual_seed(1)
    input_ids = torch.randint(3, 99, (3, 12), generator=g)
    attention_mask = torch.ones(3, 12, dtype=torch.long)
    attention_mask[1, 8:] = 0
    labels = input_ids if arch == "gpt2" else torch.tensor([0, 1, 0])

    def step(seed: int):
        model.zero_grad(set_to_none=True)
        torch.manual_seed(seed)
        out = model(input_ids=input_ids, attention_mask=attention_mask, labels=labels)
        out.loss.backward()
        return out.logits.detach(), [p.grad.clone() for p in model.parameters() if p.grad is not None]

    logits_a, grads_a = step(0)
    logits_b, grads_b = step(0)
    logits_c, _ = step(1)
    assert torch.equal(logits_a, logits_b)
    assert all(torch.equal(a, b) for a, b in zip(grads_a, grads_b))
    assert not torch.equal(logits_a, logits_c)
    # Eval mode switches every dropout off: the output no longer depends on the seed.
    model.eval()
    with torch.no_grad():
        torch.manual_seed(0)
        eval_a = model(input_ids=input_ids, attention_mask=attention_mask).logits
        torch.manual_seed(1)
        eval_b = model(input_ids=input_ids, attention_mask=attention_mask).logits
    assert torch.equal(eval_a, eval_b)
    assert not torch.equal(eval_a, logits_a)
