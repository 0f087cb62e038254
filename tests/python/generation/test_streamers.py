"""Streamers: the text they hand on equals the decoded output of generate(), word by word, in any thread."""

from __future__ import annotations

import queue
from threading import Thread

import pytest
import torch

from ferroformers import AutoTokenizer, TextIteratorStreamer, TextStreamer
from ferroformers.models.gpt2 import GPT2Config, GPT2LMHeadModel


@pytest.fixture(scope="module")
def tokenizer(shared_dir):
    return AutoTokenizer.from_pretrained(shared_dir / "tokenizers" / "gpt2")


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    config = GPT2Config(n_layer=1, n_embd=16, n_head=2, n_positions=64, initializer_range=0.3)
    return GPT2LMHeadModel(config).eval()


def _prompt(tokenizer):
    return torch.tensor([tokenizer("Once upon a time there")["input_ids"]])


class RecordingStreamer(TextStreamer):
    """A TextStreamer that keeps each piece it would print."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.pieces: list[str] = []

    def on_finalized_text(self, text, stream_end=False):
        self.pieces.append(text)
        super().on_finalized_text(text, stream_end)


@pytest.mark.parametrize("skip_prompt", [False, True])
def test_text_streamer_prints_the_generated_text(model, tokenizer, capsys, skip_prompt):
    ids = _prompt(tokenizer)
    streamer = RecordingStreamer(tokenizer, skip_prompt=skip_prompt, skip_special_tokens=True)
    out = model.generate(ids, max_new_tokens=15, eos_token_id=None, pad_token_id=0, streamer=streamer)
    expected = tokenizer.decode(out[0, ids.shape[1] if skip_prompt else 0 :].tolist(), skip_special_tokens=True)
    printed = capsys.readouterr().out
    assert printed == expected + "\n"  # end() finishes the line
    assert "".join(streamer.pieces) == expected
    # Word by word: every piece but the last ends where a word ends.
    assert len(streamer.pieces) > 2
    assert all(p.endswith((" ", "\n")) for p in streamer.pieces[:-1] if p)


def test_text_iterator_streamer_in_a_thread(model, tokenizer):
    ids = _prompt(tokenizer)
    streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, timeout=30)
    result = {}

    def run():
        result["out"] = model.generate(ids, max_new_tokens=15, eos_token_id=None, pad_token_id=0, streamer=streamer)

    thread = Thread(target=run)
    thread.start()
    pieces = list(streamer)
    thread.join()
    assert "".join(pieces) == tokenizer.decode(result["out"][0, ids.shape[1] :].tolist())
    assert len(pieces) > 1


def test_text_iterator_streamer_times_out(tokenizer):
    streamer = TextIteratorStreamer(tokenizer, timeout=0.05)
    with pytest.raises(queue.Empty):
        next(streamer)


def test_streamers_refuse_batches(model, tokenizer):
    ids = _prompt(tokenizer).repeat(2, 1)
    with pytest.raises(ValueError, match="one sequence"):
        model.generate(ids, max_new_tokens=3, streamer=TextStreamer(tokenizer))
