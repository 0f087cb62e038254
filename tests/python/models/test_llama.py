"""Llama, Mistral and Qwen2 against transformers 5.24 on tiny random checkpoints.

Cases cover grouped-query attention, tied and untied embeddings, the rotary scalings (llama3, linear,
dynamic), Mistral's sliding window shorter than the sequence and Qwen2's q/k/v biases with a sliding layer.
"""

from __future__ import annotations

import json

import pytest
import torch
import transformers

from ferroformers.models import llama
from ferroformers.models.cache import DynamicCache

ATOL = 1e-5
PAD = 0
SEQ = 10
TINY = dict(
    vocab_size=97,
    hidden_size=32,
    intermediate_size=64,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=2,
    max_position_embeddings=64,
    pad_token_id=PAD,
    bos_token_id=1,
    eos_token_id=2,
)

CASES = {
    "llama-gqa-untied": ("Llama", dict(tie_word_embeddings=False)),
    "llama-mha-tied-bias": (
        "Llama",
        dict(num_key_value_heads=4, tie_word_embeddings=True, attention_bias=True, mlp_bias=True),
    ),
    "llama3-rope": (
        "Llama",
        dict(
            rope_parameters={
                "rope_type": "llama3",
                "rope_theta": 500000.0,
                "factor": 8.0,
                "low_freq_factor": 1.0,
                "high_freq_factor": 4.0,
                "original_max_position_embeddings": 16,
            }
        ),
    ),
    "linear-rope": ("Llama", dict(rope_parameters={"rope_type": "linear", "rope_theta": 10000.0, "factor": 2.0})),
    # max_position_embeddings below the sequence length, so the dynamic base really changes.
    "dynamic-rope": (
        "Llama",
        dict(max_position_embeddings=6, rope_parameters={"rope_type": "dynamic", "rope_theta": 10000.0, "factor": 2.0}),
    ),
    "mistral-window": ("Mistral", dict(sliding_window=4)),
    "qwen2-window": (
        "Qwen2",
        dict(use_sliding_window=True, sliding_window=4, max_window_layers=1, tie_word_embeddings=True),
    ),
}


def reference_config(family: str, **overrides):
    kwargs = dict(TINY)
    if family == "Qwen2" or family == "Mistral":
        kwargs.pop("attention_bias", None)
    kwargs.update(overrides)
    return getattr(transformers, f"{family}Config")(**kwargs)


def save_reference(family: str, head: str, config, path, seed=0):
    torch.manual_seed(seed)
    ref = getattr(transformers, f"{family}{head}")(config).eval()
    ref.save_pretrained(path)
    return ref


def build_lm_case(case, tmp_path_factory):
    family, overrides = CASES[case]
    path = tmp_path_factory.mktemp(case)
    ref = save_reference(family, "ForCausalLM", reference_config(family, **overrides), path)
    ours = getattr(llama, f"{family}ForCausalLM").from_pretrained(path).eval()
    ours.case = case
    return family, ref, ours, path


@pytest.fixture(scope="module", params=list(CASES))
def lm_case(request, tmp_path_factory):
    return build_lm_case(request.param, tmp_path_factory)


# Dynamic NTK rope rescales by the longest position seen, so padding a row or caching keys at one
# length and reusing them at another changes the rotation (in transformers too): the padding and
# cache invariances below hold for every other rope type.
@pytest.fixture(scope="module", params=[c for c in CASES if c != "dynamic-rope"])
def static_rope_case(request, tmp_path_factory):
    return build_lm_case(request.param, tmp_path_factory)


def padded_batch(side: str, seq: int = SEQ):
    """Three rows of seq, seq - 3 and seq - 6 real tokens, padded on ``side``."""
    g = torch.Generator().manual_seed(1)
    ids = torch.full((3, seq), PAD)
    mask = torch.zeros(3, seq, dtype=torch.long)
    for row, n in enumerate([seq, seq - 3, seq - 6]):
        span = slice(0, n) if side == "right" else slice(seq - n, seq)
        ids[row, span] = torch.randint(3, 97, (n,), generator=g)
        mask[row, span] = 1
    return ids, mask


def generate_position_ids(mask: torch.Tensor) -> torch.Tensor:
    return (mask.cumsum(-1) - 1).masked_fill(mask == 0, 1)


def maxdiff(a, b) -> float:
    return (a - b).abs().max().item()


@pytest.mark.parametrize("side", ["right", "left"])
def test_logits_and_loss_match_on_padded_batch(lm_case, side):
    _, ref, ours, _ = lm_case
    ids, mask = padded_batch(side)
    labels = ids.masked_fill(mask == 0, -100)
    with torch.no_grad():
        expected = ref(ids, attention_mask=mask, labels=labels)
        got = ours(ids, attention_mask=mask, labels=labels)
    assert maxdiff(got.logits, expected.logits) < ATOL  # every position, padded ones included
    assert abs(got.loss.item() - expected.loss.item()) < ATOL


def test_logits_match_with_position_ids(lm_case):
    _, ref, ours, _ = lm_case
    ids, mask = padded_batch("left")
    position_ids = generate_position_ids(mask)
    with torch.no_grad():
        expected = ref(ids, attention_mask=mask, position_ids=position_ids).logits
        got = ours(ids, attention_mask=mask, position_ids=position_ids).logits
    assert maxdiff(got, expected) < ATOL


def test_left_padding_with_position_ids_gives_unpadded_logits(static_rope_case):
    family, _, ours, _ = static_rope_case
    ids, mask = padded_batch("left")
    with torch.no_grad():
        padded = ours(ids, attention_mask=mask, position_ids=generate_position_ids(mask)).logits
        for row in range(3):
            real = mask[row].bool()
            alone = ours(ids[row, real][None]).logits[0]
            assert maxdiff(padded[row, real], alone) < ATOL


def test_hidden_states_and_attentions_match_eager(lm_case):
    family, _, ours, path = lm_case
    eager = getattr(transformers, f"{family}ForCausalLM").from_pretrained(path, attn_implementation="eager").eval()
    ids, mask = padded_batch("left")
    with torch.no_grad():
        expected = eager(ids, attention_mask=mask, output_hidden_states=True, output_attentions=True)
        got = ours(ids, attention_mask=mask, output_hidden_states=True, output_attentions=True)
    assert len(got.hidden_states) == len(expected.hidden_states) == 3
    for a, b in zip(got.hidden_states, expected.hidden_states):
        assert maxdiff(a, b) < ATOL
    assert len(got.attentions) == len(expected.attentions) == 2
    for a, b in zip(got.attentions, expected.attentions):
        assert a.shape == (3, 4, SEQ, SEQ)
        assert maxdiff(a, b) < ATOL
    assert maxdiff(got.logits, expected.logits) < ATOL
    assert not torch.isnan(got.logits).any()


@pytest.mark.parametrize("legacy", [False, True])
def test_cached_decoding_equals_full_forward(static_rope_case, legacy):
    _, _, ours, _ = static_rope_case
    ids, mask = padded_batch("left")
    position_ids = generate_position_ids(mask)
    with torch.no_grad():
        full = ours(ids, attention_mask=mask, position_ids=position_ids).logits
        out = ours(ids[:, :6], attention_mask=mask[:, :6], position_ids=position_ids[:, :6], use_cache=True)
        steps, cache = [out.logits], out.past_key_values
        assert isinstance(cache, DynamicCache) and cache.get_seq_length() == 6
        for t in range(6, SEQ):
            past = cache.to_legacy_cache() if legacy else cache
            out = ours(
                ids[:, t : t + 1],
                past_key_values=past,
                attention_mask=mask[:, : t + 1],
                position_ids=position_ids[:, t : t + 1],
                use_cache=True,
            )
            steps.append(out.logits)
            cache = out.past_key_values
    real = mask.bool()
    assert maxdiff(torch.cat(steps, dim=1)[real], full[real]) < ATOL


def test_cached_chunk_without_mask_matches_reference(static_rope_case):
    _, ref, ours, _ = static_rope_case
    ids, _ = padded_batch("right")
    with torch.no_grad():
        expected = ref(ids).logits
        out = ours(ids[:, :7], use_cache=True)
        step = ours(ids[:, 7:], past_key_values=out.past_key_values, use_cache=True)  # three tokens at once
    assert maxdiff(torch.cat([out.logits, step.logits], dim=1), expected) < ATOL


def test_embeddings_tied_as_configured(lm_case):
    _, ref, ours, _ = lm_case
    tied = ours.lm_head.weight.data_ptr() == ours.model.embed_tokens.weight.data_ptr()
    assert tied == ref.config.tie_word_embeddings
    assert type(ours).can_generate()


def test_config_reads_legacy_rope_fields():
    config = llama.LlamaConfig(**TINY, rope_theta=500000.0, rope_scaling={"type": "linear", "factor": 2.0})
    assert config.rope_parameters == {"rope_type": "linear", "factor": 2.0, "rope_theta": 500000.0}
    assert llama.LlamaConfig(**TINY).rope_parameters == {"rope_type": "default", "rope_theta": 10000.0}
    with pytest.raises(ValueError, match="rope_type"):
        llama.LlamaConfig(**TINY, rope_parameters={"rope_type": "yarn", "factor": 2.0})


def test_legacy_rope_config_json_matches_reference(tmp_path):
    """A config.json in the older format (top-level rope_theta, rope_scaling with "type") loads alike."""
    config = reference_config(
        "Llama",
        rope_parameters={
            "rope_type": "llama3",
            "rope_theta": 500000.0,
            "factor": 8.0,
            "low_freq_factor": 1.0,
            "high_freq_factor": 4.0,
            "original_max_position_embeddings": 16,
        },
    )
    ref = save_reference("Llama", "ForCausalLM", config, tmp_path)
    data = json.loads((tmp_path / "config.json").read_text())
    rope = data.pop("rope_parameters")
    data["rope_theta"] = rope.pop("rope_theta")
    data["rope_scaling"] = {"type": rope.pop("rope_type"), **rope}
    (tmp_path / "config.json").write_text(json.dumps(data))
    ours = llama.LlamaForCausalLM.from_pretrained(tmp_path).eval()
    assert ours.config.rope_parameters["rope_type"] == "llama3"
    ids, mask = padded_batch("right")
    with torch.no_grad():
        assert maxdiff(ours(ids, attention_mask=mask).logits, ref(ids, attention_mask=mask).logits) < ATOL


def test_qwen2_layer_types_and_biases():
    config = llama.Qwen2Config(**TINY, use_sliding_window=True, sliding_window=4, max_window_layers=1)
    assert config.layer_types == ["full_attention", "sliding_attention"]
    model = llama.Qwen2Model(config)
    assert [layer.self_attn.sliding_window for layer in model.layers] == [None, 4]
    attn = model.layers[0].self_attn
    assert attn.q_proj.bias is not None and attn.o_proj.bias is None
    assert llama.Qwen2Config(**TINY, sliding_window=4).sliding_window is None  # use_sliding_window off


@pytest.mark.parametrize("family", ["Llama", "Mistral", "Qwen2"])
@pytest.mark.parametrize("side", ["right", "left"])
def test_sequence_classification(tmp_path, family, side):
    config = reference_config(family, num_labels=3)
    ref = save_reference(family, "ForSequenceClassification", config, tmp_path)
    ours = getattr(llama, f"{family}ForSequenceClassification").from_pretrained(tmp_path).eval()
    ids, mask = padded_batch(side)
    labels = torch.tensor([0, 2, 1])
    with torch.no_grad():
        expected = ref(ids, attention_mask=mask, labels=labels)
        got = ours(ids, attention_mask=mask, labels=labels)
    assert got.logits.shape == (3, 3)
    assert maxdiff(got.logits, expected.logits) < ATOL
    assert abs(got.loss.item() - expected.loss.item()) < ATOL


def test_regression_head(tmp_path):
    config = reference_config("Llama", num_labels=1)
    ref = save_reference("Llama", "ForSequenceClassification", config, tmp_path)
    ours = llama.LlamaForSequenceClassification.from_pretrained(tmp_path).eval()
    ids, mask = padded_batch("right")
    labels = torch.tensor([0.5, -1.0, 2.0])
    with torch.no_grad():
        expected = ref(ids, attention_mask=mask, labels=labels)
        got = ours(ids, attention_mask=mask, labels=labels)
    assert abs(got.loss.item() - expected.loss.item()) < ATOL


@pytest.mark.parametrize("case", ["llama3-rope", "mistral-window", "qwen2-window"])
def test_saved_by_us_loads_in_transformers_and_auto(tmp_path, case):
    from ferroformers.models.auto import AutoModelForCausalLM

    family, overrides = CASES[case]
    ref = save_reference(family, "ForCausalLM", reference_config(family, **overrides), tmp_path / "ref")
    ours = AutoModelForCausalLM.from_pretrained(tmp_path / "ref").eval()
    assert type(ours) is getattr(llama, f"{family}ForCausalLM")
    ours.save_pretrained(tmp_path / "ours")
    back = getattr(transformers, f"{family}ForCausalLM").from_pretrained(tmp_path / "ours").eval()
    assert back.config.rope_parameters == ref.config.rope_parameters
    ids, mask = padded_batch("left")
    with torch.no_grad():
        assert maxdiff(back(ids, attention_mask=mask).logits, ref(ids, attention_mask=mask).logits) < ATOL
