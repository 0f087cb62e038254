"""text-generation's own options against transformers' pipeline on the same saved model: the generation
defaults it adds, stop_sequence, prefix, max_length, hole, empty prompts, and streaming."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import torch
import transformers

import ferroformers
from ferroformers import pipeline

PROMPT = "The history of the old town begins with a bridge"


@pytest.fixture(scope="module")
def gpt2_dir(tmp_path_factory, tokenizers_dir) -> Path:
    """A tiny random GPT-2 with the real GPT-2 vocabulary (no pad token, as the real one)."""
    folder = tmp_path_factory.mktemp("tiny-gpt2")
    tok = transformers.AutoTokenizer.from_pretrained(tokenizers_dir / "gpt2")
    torch.manual_seed(5)
    config = transformers.GPT2Config(
        vocab_size=len(tok), n_embd=32, n_layer=2, n_head=2, n_positions=320, initializer_range=0.3
    )
    transformers.GPT2LMHeadModel(config).save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def pipes(gpt2_dir):
    return (
        pipeline("text-generation", model=gpt2_dir),
        transformers.pipeline("text-generation", model=str(gpt2_dir), device="cpu"),
    )


def _normalised(kwargs: dict) -> dict:
    kwargs = dict(kwargs)
    config = kwargs.pop("generation_config", None)
    if config is not None:
        kwargs["generation_config"] = {k: v for k, v in config.to_diff_dict().items() if not k.startswith("_")}
        kwargs["generation_config"].pop("transformers_version", None)
    return kwargs


@pytest.mark.parametrize(
    "call",
    [
        {},
        {"do_sample": False},
        {"max_length": 30},
        {"max_new_tokens": 5, "top_k": 4},
        {"num_beams": 2},
        {"do_sample": True, "temperature": 1.3},
    ],
)
def test_generation_defaults_equal_transformers(pipes, call):
    ours, theirs = pipes
    # What each pipeline hands generate(): the call's keywords plus the pipeline's defaults
    # (256 new tokens, sampling at 0.7) for what neither the call nor the model's generation config sets.
    assert _normalised(ours.generate_kwargs(dict(call))) == _normalised(theirs._prepare_generate_kwargs(dict(call)))


def test_generation_defaults_with_a_generation_config(pipes):
    ours, theirs = pipes
    mine = ours.generate_kwargs({"generation_config": ferroformers.GenerationConfig(max_new_tokens=7)})
    their = theirs._prepare_generate_kwargs({"generation_config": transformers.GenerationConfig(max_new_tokens=7)})
    assert _normalised(mine) == _normalised(their)
    assert mine["generation_config"].max_new_tokens == 7 and mine["generation_config"].do_sample is True


def test_default_call_samples_256_new_tokens_at_most(gpt2_dir):
    out = pipeline("text-generation", model=gpt2_dir, seed=0)(PROMPT, return_tensors=True)
    prompt_len = len(ferroformers.AutoTokenizer.from_pretrained(gpt2_dir)(PROMPT)["input_ids"])
    # sampling stops at 256 new tokens, or earlier at the end-of-text token
    assert prompt_len < len(out[0]["generated_token_ids"]) <= prompt_len + 256


@pytest.mark.parametrize(
    "options",
    [
        {"max_length": 20},
        {"prefix": "Once upon a time. ", "max_new_tokens": 6},
        {"prefix": "Once upon a time. ", "max_length": 25},
        {"prefix": "Once upon a time. ", "max_new_tokens": 6, "return_full_text": False},
        {"max_new_tokens": 6, "return_full_text": False, "clean_up_tokenization_spaces": True},
    ],
)
def test_options_equal_transformers(pipes, options):
    ours, theirs = pipes
    a = ours(PROMPT, do_sample=False, **options)
    b = theirs(PROMPT, do_sample=False, **options)
    assert a == b, (a, b)


def test_stop_sequence_equals_transformers(pipes):
    ours, theirs = pipes
    full = ours(PROMPT, do_sample=False, max_new_tokens=12, return_full_text=False)[0]["generated_text"]
    stop = full.strip().split()[2]  # a word the greedy continuation reaches after a few tokens
    a = ours(PROMPT, do_sample=False, max_new_tokens=12, stop_sequence=stop, return_full_text=False)
    b = theirs(PROMPT, do_sample=False, max_new_tokens=12, stop_sequence=stop, return_full_text=False)
    assert a == b
    assert stop in a[0]["generated_text"] and len(a[0]["generated_text"]) < len(full)


def test_hole_keeps_the_end_of_a_long_prompt(pipes, corpus_texts):
    ours, theirs = pipes
    long_prompt = corpus_texts("en", 3)[2]
    assert len(ours.tokenizer(long_prompt)["input_ids"]) > 40
    for pipe in (ours, theirs):
        pipe.tokenizer.model_max_length = 40
    a = ours(long_prompt, do_sample=False, max_new_tokens=8, handle_long_generation="hole", return_full_text=False)
    b = theirs(long_prompt, do_sample=False, max_new_tokens=8, handle_long_generation="hole", return_full_text=False)
    assert a == b and a[0]["generated_text"]
    with pytest.raises(ValueError, match="cannot make room"):
        ours(long_prompt, max_new_tokens=50, handle_long_generation="hole")
    with pytest.raises(ValueError, match="'hole'"):
        ours(long_prompt, handle_long_generation="cut")


def test_empty_prompt_starts_from_bos(pipes):
    ours, theirs = pipes
    a = ours("", do_sample=False, max_new_tokens=5)
    assert a == theirs("", do_sample=False, max_new_tokens=5)
    assert a[0]["generated_text"]


def test_streamer_receives_the_generated_text(pipes):
    ours, _ = pipes
    streamer = ferroformers.TextIteratorStreamer(ours.tokenizer, skip_prompt=True)
    result = {}
    worker = threading.Thread(
        target=lambda: result.update(out=ours(PROMPT, do_sample=False, max_new_tokens=10, streamer=streamer))
    )
    worker.start()
    pieces = list(streamer)
    worker.join()
    assert len(pieces) >= 2  # text arrived in several pieces while generating
    assert PROMPT + "".join(pieces) == result["out"][0]["generated_text"]
