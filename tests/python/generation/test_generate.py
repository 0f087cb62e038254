"""generate(): token parity with transformers (greedy, beam search) on tiny random GPT-2 and Llama models
saved by transformers and loaded by ferroformers; the generation options, seeds, stop strings, outputs."""

from __future__ import annotations

import json

import pytest
import torch
import transformers

import ferroformers
from ferroformers import AutoModelForCausalLM, AutoTokenizer
from ferroformers.generation import GenerateOutput, GenerationConfig, set_seed

VOCAB = 97
# Not 0: transformers' beam search reads a pad id of 0 as "no pad id" and fills finished beams with the
# end-of-sequence token instead; ferroformers pads with pad_token_id, whatever its value.
PAD = 3
EOS = 1


def _tiny_configs():
    # initializer_range well above the default makes the logits peaked: no near-ties for argmax to flip on
    # between two implementations that round differently.
    common = dict(vocab_size=VOCAB, bos_token_id=2, eos_token_id=EOS, pad_token_id=PAD, initializer_range=0.3)
    return {
        "gpt2": transformers.GPT2Config(n_layer=2, n_embd=32, n_head=4, n_positions=128, **common),
        "llama": transformers.LlamaConfig(
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            max_position_embeddings=128,
            **common,
        ),
    }


@pytest.fixture(scope="module", params=["gpt2", "llama"])
def models(request, tmp_path_factory):
    """(transformers model, ferroformers model) with the same weights: saved by transformers, loaded by us."""
    torch.manual_seed(0)
    reference = transformers.AutoModelForCausalLM.from_config(_tiny_configs()[request.param]).eval()
    folder = tmp_path_factory.mktemp(request.param)
    reference.save_pretrained(folder)
    ours = AutoModelForCausalLM.from_pretrained(folder)
    return reference, ours


def _prompts(batch: int, seed: int = 1):
    """Left-padded random prompts of different lengths (batch 1: one unpadded prompt)."""
    g = torch.Generator().manual_seed(seed)
    lengths = [7, 4, 2, 6][:batch] if batch > 1 else [6]
    width = max(lengths)
    ids = torch.full((batch, width), PAD, dtype=torch.long)
    mask = torch.zeros((batch, width), dtype=torch.long)
    for row, n in enumerate(lengths):
        ids[row, width - n :] = torch.randint(4, VOCAB, (n,), generator=g)
        mask[row, width - n :] = 1
    return ids, mask


# --- parity with transformers ---------------------------------------------------------------------------------


@pytest.mark.parametrize("batch", [1, 4])
def test_greedy_matches_transformers(models, batch):
    reference, ours = models
    ids, mask = _prompts(batch)
    kwargs = dict(attention_mask=mask, max_new_tokens=12, do_sample=False, pad_token_id=PAD)
    expected = reference.generate(ids, **kwargs)
    got = ours.generate(ids, **kwargs)
    assert got.tolist() == expected.tolist()
    assert got.shape[1] > ids.shape[1]


@pytest.mark.parametrize("batch", [1, 4])
@pytest.mark.parametrize(
    "options",
    [
        dict(num_beams=3),
        dict(num_beams=3, num_return_sequences=2, length_penalty=0.5, early_stopping=True),
        dict(num_beams=3, num_return_sequences=2, length_penalty=2.0, early_stopping=False),
    ],
    ids=["beams3", "return2-lp0.5-early", "return2-lp2-not-early"],
)
def test_beam_search_matches_transformers(models, batch, options):
    reference, ours = models
    ids, mask = _prompts(batch)
    # Ending on a token the model likes makes beams finish at different lengths, which exercises the
    # length penalty and early stopping rather than only max_length.
    eos = _frequent_token(ours, ids, mask)
    kwargs = dict(attention_mask=mask, max_new_tokens=10, pad_token_id=PAD, eos_token_id=eos, **options)
    expected = reference.generate(ids, return_dict_in_generate=True, output_scores=True, **kwargs)
    got = ours.generate(ids, return_dict_in_generate=True, output_scores=True, **kwargs)
    assert got.sequences.tolist() == expected.sequences.tolist()
    torch.testing.assert_close(got.sequences_scores, expected.sequences_scores, atol=1e-4, rtol=1e-4)


def _frequent_token(model, ids, mask) -> int:
    """A token greedy decoding produces a few steps in: a realistic end-of-sequence choice for these models."""
    out = model.generate(ids, attention_mask=mask, max_new_tokens=4, pad_token_id=PAD, eos_token_id=None)
    return int(out[0, -2])


def test_greedy_scores_match_transformers(models):
    reference, ours = models
    ids, mask = _prompts(4)
    kwargs = dict(attention_mask=mask, max_new_tokens=5, pad_token_id=PAD, repetition_penalty=1.3)
    expected = reference.generate(ids, return_dict_in_generate=True, output_scores=True, **kwargs)
    got = ours.generate(ids, return_dict_in_generate=True, output_scores=True, **kwargs)
    assert isinstance(got, GenerateOutput)
    assert got.sequences.tolist() == expected.sequences.tolist()
    assert len(got.scores) == len(expected.scores) == 5
    for mine, theirs in zip(got.scores, expected.scores):
        torch.testing.assert_close(mine, theirs, atol=1e-5, rtol=1e-5)


def test_batched_greedy_rows_equal_generating_alone(models):
    _, ours = models
    ids, mask = _prompts(4)
    batched = ours.generate(ids, attention_mask=mask, max_new_tokens=10, pad_token_id=PAD, eos_token_id=None)
    for row in range(4):
        alone_ids = ids[row][mask[row].bool()][None]
        alone = ours.generate(alone_ids, max_new_tokens=10, pad_token_id=PAD, eos_token_id=None)
        assert batched[row, -10:].tolist() == alone[0, -10:].tolist()


# --- options ----------------------------------------------------------------------------------------------------


def test_unknown_kwargs_are_listed(models):
    _, ours = models
    ids, _ = _prompts(1)
    with pytest.raises(ValueError) as err:
        ours.generate(ids, max_newtokens=5, topk=3)
    message = str(err.value)
    assert "max_newtokens" in message and "topk" in message
    assert "max_new_tokens" in message and "top_k" in message  # the suggestions


def test_generation_config_file_kwargs_and_model_attribute(models, tmp_path):
    _, ours = models
    ours.save_pretrained(tmp_path)
    saved = json.loads((tmp_path / "generation_config.json").read_text())
    assert saved["eos_token_id"] == EOS and saved["pad_token_id"] == PAD

    # A checkpoint's generation_config.json becomes model.generation_config; generate() follows it.
    saved.update(max_new_tokens=3, eos_token_id=None)
    (tmp_path / "generation_config.json").write_text(json.dumps(saved))
    loaded = AutoModelForCausalLM.from_pretrained(tmp_path)
    assert loaded.generation_config.max_new_tokens == 3
    assert GenerationConfig.from_pretrained(tmp_path).max_new_tokens == 3
    ids, _ = _prompts(1)
    assert loaded.generate(ids).shape[1] == ids.shape[1] + 3
    # Keywords override it for one call, without changing it.
    assert loaded.generate(ids, max_new_tokens=5).shape[1] == ids.shape[1] + 5
    assert loaded.generation_config.max_new_tokens == 3
    # An explicit config replaces it.
    assert loaded.generate(ids, generation_config=GenerationConfig(max_new_tokens=2)).shape[1] == ids.shape[1] + 2
    # So does assigning one.
    loaded.generation_config = GenerationConfig(max_new_tokens=4)
    assert loaded.generate(ids).shape[1] == ids.shape[1] + 4
    # transformers reads what we write.
    loaded.save_pretrained(tmp_path / "again")
    assert transformers.GenerationConfig.from_pretrained(tmp_path / "again").max_new_tokens == 4


def test_seeds_make_sampling_repeatable(models):
    _, ours = models
    ids, mask = _prompts(4)
    kwargs = dict(attention_mask=mask, max_new_tokens=16, do_sample=True, top_p=0.9, temperature=1.5, eos_token_id=None)
    first = ours.generate(ids, seed=11, **kwargs)
    assert ours.generate(ids, seed=11, **kwargs).tolist() == first.tolist()
    assert ours.generate(ids, seed=12, **kwargs).tolist() != first.tolist()

    set_seed(5)
    a = ours.generate(ids, **kwargs)
    set_seed(5)
    assert ours.generate(ids, **kwargs).tolist() == a.tolist()
    set_seed(6)
    assert ours.generate(ids, **kwargs).tolist() != a.tolist()
    ferroformers.set_seed(5)  # the package-level name is the same function
    assert ours.generate(ids, **kwargs).tolist() == a.tolist()


def test_sampling_num_return_sequences_differ(models):
    _, ours = models
    ids, mask = _prompts(2)
    out = ours.generate(
        ids,
        attention_mask=mask,
        max_new_tokens=12,
        do_sample=True,
        temperature=2.0,
        num_return_sequences=3,
        seed=0,
        eos_token_id=None,
    )
    assert out.shape == (6, ids.shape[1] + 12)
    assert out[0].tolist() != out[1].tolist()  # independent samples of the same prompt
    assert out[:3, : ids.shape[1]].tolist() == [ids[0].tolist()] * 3


@pytest.mark.parametrize("as_list", [False, True])
def test_eos_int_and_list(models, as_list):
    reference, ours = models
    ids, mask = _prompts(4)
    free = ours.generate(ids, attention_mask=mask, max_new_tokens=10, pad_token_id=PAD, eos_token_id=None)
    eos = int(free[0, ids.shape[1] + 2])  # row 0 produces it at its third new token
    eos_arg = [VOCAB - 1, eos] if as_list else eos
    kwargs = dict(attention_mask=mask, max_new_tokens=10, pad_token_id=PAD, eos_token_id=eos_arg)
    got = ours.generate(ids, **kwargs)
    assert got.tolist() == reference.generate(ids, **kwargs).tolist()
    after = got[0, ids.shape[1] + 3 :]
    assert after.numel() == 0 or bool((after == PAD).all())  # row 0 is padded once it ended


def test_min_new_tokens_blocks_eos(models):
    reference, ours = models
    ids, mask = _prompts(1)
    free = ours.generate(ids, max_new_tokens=6, pad_token_id=PAD, eos_token_id=None)
    eos = int(free[0, ids.shape[1]])  # the very first new token
    stopped = ours.generate(ids, max_new_tokens=6, pad_token_id=PAD, eos_token_id=eos)
    assert stopped.shape[1] == ids.shape[1] + 1
    kwargs = dict(max_new_tokens=6, pad_token_id=PAD, eos_token_id=eos, min_new_tokens=3)
    held = ours.generate(ids, **kwargs)
    assert held.shape[1] >= ids.shape[1] + 3
    assert eos not in held[0, ids.shape[1] : ids.shape[1] + 3].tolist()
    assert held.tolist() == reference.generate(ids, **kwargs).tolist()
    min_length = ours.generate(ids, max_new_tokens=6, pad_token_id=PAD, eos_token_id=eos, min_length=ids.shape[1] + 2)
    assert min_length.shape[1] >= ids.shape[1] + 2


def test_max_length_counts_the_prompt_and_max_new_tokens_does_not(models):
    _, ours = models
    ids, _ = _prompts(1)
    assert ours.generate(ids, max_length=ids.shape[1] + 3, eos_token_id=None).shape[1] == ids.shape[1] + 3
    assert ours.generate(ids, max_new_tokens=4, eos_token_id=None).shape[1] == ids.shape[1] + 4
    # max_new_tokens wins when both are given; the default is max_length=20 in all.
    assert ours.generate(ids, max_length=8, max_new_tokens=5, eos_token_id=None).shape[1] == ids.shape[1] + 5
    assert ours.generate(ids, eos_token_id=None).shape[1] == 20
    with pytest.raises(ValueError, match="max_length"):
        ours.generate(ids, max_length=ids.shape[1])


def test_stop_strings_with_tokenizer(shared_dir):
    tokenizer = AutoTokenizer.from_pretrained(shared_dir / "tokenizers" / "gpt2")
    torch.manual_seed(0)
    config = transformers.GPT2Config(n_layer=1, n_embd=16, n_head=2, n_positions=64, initializer_range=0.3)
    model = ferroformers.models.gpt2.GPT2LMHeadModel(ferroformers.models.gpt2.GPT2Config(**config.to_dict())).eval()
    ids = torch.tensor([tokenizer("The weather today is")["input_ids"]])
    free = model.generate(ids, max_new_tokens=12, eos_token_id=None, pad_token_id=0)
    new_text = tokenizer.decode(free[0, ids.shape[1] :].tolist())
    # A stop string taken from the middle of the free continuation, cut across token boundaries.
    stop = new_text[len(new_text) // 2 : len(new_text) // 2 + 3]
    assert len(stop) == 3
    stopped = model.generate(
        ids, max_new_tokens=12, eos_token_id=None, pad_token_id=0, stop_strings=stop, tokenizer=tokenizer
    )
    stopped_text = tokenizer.decode(stopped[0, ids.shape[1] :].tolist())
    assert stop in stopped_text
    assert stopped.shape[1] < free.shape[1]
    # It stopped at the first token that completed the stop string, not later.
    assert stop not in tokenizer.decode(stopped[0, ids.shape[1] : -1].tolist())
    with pytest.raises(ValueError, match="tokenizer"):
        model.generate(ids, max_new_tokens=3, stop_strings=stop)


def test_return_dict_sequences_equal_plain_output(models):
    _, ours = models
    ids, mask = _prompts(4)
    plain = ours.generate(ids, attention_mask=mask, max_new_tokens=6, pad_token_id=PAD)
    out = ours.generate(ids, attention_mask=mask, max_new_tokens=6, pad_token_id=PAD, return_dict_in_generate=True)
    assert out.sequences.tolist() == plain.tolist()
    assert out.scores is None  # output_scores was not asked for


def test_sampling_processors_restrict_choices(models):
    _, ours = models
    ids, _ = _prompts(1)
    # top_k=1 sampling is greedy; bad words and suppressed tokens never appear.
    greedy = ours.generate(ids, max_new_tokens=8, eos_token_id=None, pad_token_id=PAD)
    topk1 = ours.generate(ids, max_new_tokens=8, eos_token_id=None, pad_token_id=PAD, do_sample=True, top_k=1, seed=3)
    assert topk1.tolist() == greedy.tolist()
    banned = sorted(set(greedy[0, ids.shape[1] :].tolist()))
    out = ours.generate(
        ids,
        max_new_tokens=8,
        eos_token_id=None,
        pad_token_id=PAD,
        do_sample=True,
        seed=3,
        bad_words_ids=[[banned[0]]],
        suppress_tokens=banned[1:],
    )
    assert not set(out[0, ids.shape[1] :].tolist()) & set(banned)
    no_repeat = ours.generate(ids, max_new_tokens=20, eos_token_id=None, pad_token_id=PAD, no_repeat_ngram_size=2)
    new = no_repeat[0].tolist()
    bigrams = list(zip(new, new[1:]))
    assert len(bigrams) == len(set(bigrams))
