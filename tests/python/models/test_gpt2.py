"""GPT-2 against transformers 5.24 on tiny random checkpoints: logits, loss, padding, cache, heads, outputs."""

from __future__ import annotations

import pytest
import torch
import transformers

from ferroformers.models.cache import DynamicCache
from ferroformers.models.gpt2 import GPT2Config, GPT2ForSequenceClassification, GPT2LMHeadModel, GPT2Model

ATOL = 1e-5
PAD = 0


def tiny_config(**overrides) -> transformers.GPT2Config:
    kwargs = dict(
        vocab_size=97, n_positions=64, n_embd=32, n_layer=2, n_head=4, pad_token_id=PAD, bos_token_id=1, eos_token_id=2
    )
    kwargs.update(overrides)
    return transformers.GPT2Config(**kwargs)


def save_reference(cls, config, path, seed=0):
    torch.manual_seed(seed)
    ref = cls(config).eval()
    ref.save_pretrained(path)
    return ref


@pytest.fixture(scope="module")
def lm_pair(tmp_path_factory):
    path = tmp_path_factory.mktemp("gpt2-lm")
    ref = save_reference(transformers.GPT2LMHeadModel, tiny_config(), path)
    ours = GPT2LMHeadModel.from_pretrained(path).eval()
    eager = transformers.GPT2LMHeadModel.from_pretrained(path, attn_implementation="eager").eval()
    return ref, eager, ours, path


def padded_batch(side: str):
    """Three rows of 10, 7 and 4 real tokens, padded on ``side``."""
    g = torch.Generator().manual_seed(1)
    lengths = [10, 7, 4]
    ids = torch.full((3, 10), PAD)
    mask = torch.zeros(3, 10, dtype=torch.long)
    for row, n in enumerate(lengths):
        tokens = torch.randint(3, 97, (n,), generator=g)
        span = slice(0, n) if side == "right" else slice(10 - n, 10)
        ids[row, span] = tokens
        mask[row, span] = 1
    return ids, mask


def generate_position_ids(mask: torch.Tensor) -> torch.Tensor:
    return (mask.cumsum(-1) - 1).masked_fill(mask == 0, 1)


def maxdiff(a, b) -> float:
    return (a - b).abs().max().item()


def test_config_round_trip_fields():
    ref = tiny_config()
    ours = GPT2Config(**ref.to_dict())
    for name in (
        "vocab_size",
        "n_positions",
        "n_embd",
        "n_layer",
        "n_head",
        "n_inner",
        "activation_function",
        "layer_norm_epsilon",
        "initializer_range",
        "scale_attn_weights",
        "pad_token_id",
    ):
        assert getattr(ours, name) == getattr(ref, name), name
    assert ours.hidden_size == 32 and ours.num_hidden_layers == 2 and ours.num_attention_heads == 4
    assert GPT2Config(hidden_size=48).n_embd == 48
    assert GPT2Config().tie_word_embeddings is True


@pytest.mark.parametrize("side", ["right", "left"])
def test_logits_and_loss_match_on_padded_batch(lm_pair, side):
    ref, _, ours, _ = lm_pair
    ids, mask = padded_batch(side)
    labels = ids.masked_fill(mask == 0, -100)
    with torch.no_grad():
        expected = ref(ids, attention_mask=mask, labels=labels)
        got = ours(ids, attention_mask=mask, labels=labels)
    assert maxdiff(got.logits, expected.logits) < ATOL  # every position, padded ones included
    assert abs(got.loss.item() - expected.loss.item()) < ATOL


def test_left_padding_with_position_ids_gives_unpadded_logits(lm_pair):
    _, _, ours, _ = lm_pair
    ids, mask = padded_batch("left")
    with torch.no_grad():
        padded = ours(ids, attention_mask=mask, position_ids=generate_position_ids(mask)).logits
        for row in range(3):
            real = mask[row].bool()
            alone = ours(ids[row, real][None]).logits[0]
            assert maxdiff(padded[row, real], alone) < ATOL


def test_hidden_states_and_attentions_match_eager(lm_pair):
    _, eager, ours, _ = lm_pair
    ids, mask = padded_batch("left")
    with torch.no_grad():
        expected = eager(ids, attention_mask=mask, output_hidden_states=True, output_attentions=True)
        got = ours(ids, attention_mask=mask, output_hidden_states=True, output_attentions=True)
    assert len(got.hidden_states) == len(expected.hidden_states) == 3
    for a, b in zip(got.hidden_states, expected.hidden_states):
        assert maxdiff(a, b) < ATOL
    assert len(got.attentions) == len(expected.attentions) == 2
    for a, b in zip(got.attentions, expected.attentions):
        assert a.shape == (3, 4, 10, 10)
        assert maxdiff(a, b) < ATOL
    assert maxdiff(got.logits, expected.logits) < ATOL
    assert not torch.isnan(got.logits).any()


@pytest.mark.parametrize("legacy", [False, True])
def test_cached_decoding_equals_full_forward(lm_pair, legacy):
    _, _, ours, _ = lm_pair
    ids, mask = padded_batch("left")
    position_ids = generate_position_ids(mask)
    with torch.no_grad():
        full = ours(ids, attention_mask=mask, position_ids=position_ids).logits
        out = ours(ids[:, :6], attention_mask=mask[:, :6], position_ids=position_ids[:, :6], use_cache=True)
        steps = [out.logits]
        cache = out.past_key_values
        assert isinstance(cache, DynamicCache) and cache.get_seq_length() == 6
        for t in range(6, 10):
            past = cache.to_legacy_cache() if legacy else cache
            out = ours(
                ids[:, t : t + 1],
                past_key_values=past,
                attention_mask=mask[:, : t + 1],
                position_ids=position_ids[:, t : t + 1],
                use_cache=True,
            )
            cache = out.past_key_values
            steps.append(out.logits)
    assert cache.get_seq_length() == 10
    real = mask.bool()
    assert maxdiff(torch.cat(steps, dim=1)[real], full[real]) < ATOL


def test_cached_decoding_without_mask_matches_reference(lm_pair):
    ref, _, ours, _ = lm_pair
    ids, _ = padded_batch("right")
    with torch.no_grad():
        expected = ref(ids).logits
        out = ours(ids[:, :7], use_cache=True)
        step = ours(ids[:, 7:], past_key_values=out.past_key_values, use_cache=True)  # three tokens at once
    assert maxdiff(torch.cat([out.logits, step.logits], dim=1), expected) < ATOL


def test_tied_head_and_generation_flags(lm_pair):
    _, _, ours, _ = lm_pair
    assert ours.lm_head.weight.data_ptr() == ours.transformer.wte.weight.data_ptr()
    assert GPT2LMHeadModel.can_generate()
    assert ours(torch.tensor([[5, 6, 7]]), logits_to_keep=1).logits.shape == (1, 1, 97)


def test_return_tuple(lm_pair):
    _, _, ours, _ = lm_pair
    ids = torch.tensor([[5, 6, 7]])
    with torch.no_grad():
        out = ours(ids, labels=ids, use_cache=False, return_dict=False)
        dict_out = ours(ids, labels=ids, use_cache=False)
    assert isinstance(out, tuple) and len(out) == 2
    assert torch.equal(out[1], dict_out.logits)


def test_base_model_loads_from_head_checkpoint(lm_pair):
    ref, _, _, path = lm_pair
    base = GPT2Model.from_pretrained(path).eval()
    ids, mask = padded_batch("right")
    with torch.no_grad():
        expected = ref.transformer(ids, attention_mask=mask).last_hidden_state
        got = base(ids, attention_mask=mask).last_hidden_state
    assert maxdiff(got, expected) < ATOL


@pytest.mark.parametrize(
    ("num_labels", "problem_type"),
    [(3, None), (1, None), (3, "multi_label_classification")],
)
@pytest.mark.parametrize("side", ["right", "left"])
def test_sequence_classification(tmp_path, num_labels, problem_type, side):
    config = tiny_config(num_labels=num_labels, problem_type=problem_type)
    ref = save_reference(transformers.GPT2ForSequenceClassification, config, tmp_path)
    ours = GPT2ForSequenceClassification.from_pretrained(tmp_path).eval()
    ids, mask = padded_batch(side)
    if num_labels == 1:
        labels = torch.tensor([0.5, -1.0, 2.0])
    elif problem_type == "multi_label_classification":
        labels = torch.tensor([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0], [1.0, 1.0, 0.0]])
    else:
        labels = torch.tensor([0, 2, 1])
    with torch.no_grad():
        expected = ref(ids, attention_mask=mask, labels=labels)
        got = ours(ids, attention_mask=mask, labels=labels)
    assert got.logits.shape == (3, num_labels)
    assert maxdiff(got.logits, expected.logits) < ATOL
    assert abs(got.loss.item() - expected.loss.item()) < ATOL


def test_sequence_classification_needs_pad_token_for_batches():
    model = GPT2ForSequenceClassification(GPT2Config(vocab_size=50, n_positions=16, n_embd=16, n_layer=1, n_head=2))
    with pytest.raises(ValueError, match="pad_token_id"):
        model(torch.tensor([[1, 2], [3, 4]]))


def test_saved_by_us_loads_in_transformers_and_auto(lm_pair, tmp_path):
    ref, _, ours, _ = lm_pair
    from ferroformers.models.auto import AutoModelForCausalLM

    ours.save_pretrained(tmp_path)
    back = transformers.GPT2LMHeadModel.from_pretrained(tmp_path).eval()
    auto = AutoModelForCausalLM.from_pretrained(tmp_path).eval()
    assert type(auto) is GPT2LMHeadModel
    ids, mask = padded_batch("right")
    with torch.no_grad():
        expected = ref(ids, attention_mask=mask).logits
        assert maxdiff(back(ids, attention_mask=mask).logits, expected) < ATOL
        assert maxdiff(auto(ids, attention_mask=mask).logits, expected) < ATOL
