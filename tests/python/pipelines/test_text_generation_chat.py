"""text-generation on chats: messages go through the tokenizer's chat template and the answer comes back
as a new assistant message (or continues the last one), as transformers' pipeline does."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import transformers

from ferroformers import pipeline

TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}<|{{ message['role'] }}|>\n{{ message['content'] }}"
    "{% if not loop.last or message['role'] != 'assistant' %}{{ eos_token }}\n{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)
CHAT = [
    {"role": "system", "content": "You answer in one word."},
    {"role": "user", "content": "What is the capital of France?"},
]
PREFILL = [*CHAT, {"role": "assistant", "content": "The capital is"}]


@pytest.fixture(scope="module")
def chat_dir(tmp_path_factory, tokenizers_dir) -> Path:
    folder = tmp_path_factory.mktemp("tiny-chat-llama")
    tok = transformers.AutoTokenizer.from_pretrained(tokenizers_dir / "llama-style-bpe")
    tok.chat_template = TEMPLATE
    torch.manual_seed(7)
    config = transformers.LlamaConfig(
        vocab_size=len(tok),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=256,
        initializer_range=0.5,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
    )
    transformers.LlamaForCausalLM(config).save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def pipes(chat_dir):
    return (
        pipeline("text-generation", model=chat_dir),
        transformers.pipeline("text-generation", model=str(chat_dir), device="cpu"),
    )


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"return_full_text": False},
        {"continue_final_message": False},
        {"return_tensors": True},
    ],
)
def test_chat_equals_transformers(pipes, options):
    ours, theirs = pipes
    for chat in (CHAT, PREFILL):
        if chat is CHAT and options.get("continue_final_message") is False:
            continue  # covered by the prefill chat: the option only changes a chat ending with the assistant
        a = ours(chat, do_sample=False, max_new_tokens=6, **options)
        b = theirs(chat, do_sample=False, max_new_tokens=6, **options)
        assert a == b, (options, a, b)


def test_chat_output_is_the_chat_plus_the_answer(pipes):
    ours, _ = pipes
    out = ours(CHAT, do_sample=False, max_new_tokens=6)[0]["generated_text"]
    assert out[:-1] == CHAT and out[-1]["role"] == "assistant" and out[-1]["content"]
    continued = ours(PREFILL, do_sample=False, max_new_tokens=6)[0]["generated_text"]
    assert continued[:-1] == PREFILL[:-1]
    assert continued[-1]["content"].startswith("The capital is") and len(continued[-1]["content"]) > 14


def test_list_of_chats_batched_equals_one_by_one(chat_dir, pipes):
    ours, theirs = pipes
    chats = [CHAT, PREFILL, [{"role": "user", "content": "Name a colour."}]]
    one_by_one = ours(chats, do_sample=False, max_new_tokens=5)
    assert one_by_one == [theirs(c, do_sample=False, max_new_tokens=5) for c in chats]
    batched = pipeline("text-generation", model=chat_dir, batch_size=3)
    assert batched(chats, do_sample=False, max_new_tokens=5) == one_by_one


def test_chat_errors(pipes, llama_without_template):
    ours, _ = pipes
    with pytest.raises(ValueError, match="message 1"):
        ours([{"role": "user", "content": "hi"}, {"content": "no role"}])
    with pytest.raises(ValueError, match="chat template"):
        llama_without_template([{"role": "user", "content": "hi"}], max_new_tokens=2)


@pytest.fixture(scope="module")
def llama_without_template(tmp_path_factory, tokenizers_dir):
    folder = tmp_path_factory.mktemp("tiny-llama-no-template")
    tok = transformers.AutoTokenizer.from_pretrained(tokenizers_dir / "llama-style-bpe")
    config = transformers.LlamaConfig(
        vocab_size=len(tok), hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2
    )
    transformers.LlamaForCausalLM(config).save_pretrained(folder)
    tok.save_pretrained(folder)
    return pipeline("text-generation", model=folder)
