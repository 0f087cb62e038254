"""Streamers: receive tokens while `generate()` runs, with transformers' protocol (`put(ids)`, then `end()`).

`generate(streamer=...)` calls `put` once with the prompt, once per step with the new token, then `end`.
`TextStreamer` prints text as whole words complete; `TextIteratorStreamer` hands the same pieces to
another thread through a queue, so a UI can iterate while generation runs:

    >>> streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, timeout=10)         # doctest: +SKIP
    >>> Thread(target=model.generate, kwargs=dict(input_ids=ids, streamer=streamer)).start()  # doctest: +SKIP
    >>> "".join(streamer)                                                                # doctest: +SKIP
"""

from __future__ import annotations

import queue
from typing import Any


class BaseStreamer:
    """What `generate()` talks to: `put` the prompt and each new token, `end` once."""

    def put(self, value: Any) -> None:
        raise NotImplementedError

    def end(self) -> None:
        raise NotImplementedError


def _is_cjk(char: str) -> bool:
    """CJK ideographs are words on their own (no spaces between them), so they can be printed at once."""
    cp = ord(char)
    return (
        0x4E00 <= cp <= 0x9FFF
        or 0x3400 <= cp <= 0x4DBF
        or 0x20000 <= cp <= 0x2A6DF
        or 0x2A700 <= cp <= 0x2CEAF
        or 0xF900 <= cp <= 0xFAFF
        or 0x2F800 <= cp <= 0x2FA1F
    )


class TextStreamer(BaseStreamer):
    """Print the generated text as words complete.

    Text is printed up to the last space (a later token may still extend the last word, and a token may end in
    the middle of a multi-byte character), all of it at a newline, and everything left at `end()`.
    `skip_prompt=True` leaves out the prompt; `decode_kwargs` go to `tokenizer.decode`
    (`skip_special_tokens=True`).
    """

    def __init__(self, tokenizer, skip_prompt: bool = False, **decode_kwargs: Any) -> None:
        self.tokenizer = tokenizer
        self.skip_prompt = skip_prompt
        self.decode_kwargs = decode_kwargs
        self._token_ids: list[int] = []
        self._printed = 0  # characters of the current text already handed on
        self._awaiting_prompt = True

    def put(self, value: Any) -> None:
        ids = value.tolist() if hasattr(value, "tolist") else list(value)
        if ids and isinstance(ids[0], list):
            if len(ids) > 1:
                raise ValueError(f"{type(self).__name__} streams one sequence: got a batch of {len(ids)}")
            ids = ids[0]
        if self._awaiting_prompt:
            self._awaiting_prompt = False
            if self.skip_prompt:
                return
        self._token_ids.extend(ids)
        text = self.tokenizer.decode(self._token_ids, **self.decode_kwargs)
        if text.endswith("\n"):
            ready = text[self._printed :]
            # Starting afresh at a line end keeps each decode short.
            self._token_ids, self._printed = [], 0
        elif text and _is_cjk(text[-1]):
            ready = text[self._printed :]
            self._printed = len(text)
        else:
            # Up to the last space: the word after it may still grow, and its last token may have ended
            # inside a multi-byte character (decoded as U+FFFD until the rest of its bytes arrive).
            complete = text.rfind(" ") + 1
            ready = text[self._printed : complete] if complete > self._printed else ""
            self._printed = max(self._printed, complete)
        if ready:
            self.on_finalized_text(ready)

    def end(self) -> None:
        text = self.tokenizer.decode(self._token_ids, **self.decode_kwargs) if self._token_ids else ""
        rest = text[self._printed :]
        self._token_ids, self._printed = [], 0
        self._awaiting_prompt = True  # ready for the next generate() call
        self.on_finalized_text(rest, stream_end=True)

    def on_finalized_text(self, text: str, stream_end: bool = False) -> None:
        """Where finished text goes: stdout here; subclasses send it elsewhere."""
        print(text, flush=True, end="" if not stream_end else None)


class TextIteratorStreamer(TextStreamer):
    """Iterate over the generated text in another thread; `timeout` (seconds) bounds each wait for a piece,
    raising `queue.Empty` when generation stalls or died."""

    def __init__(self, tokenizer, skip_prompt: bool = False, timeout: float | None = None, **decode_kwargs: Any):
        super().__init__(tokenizer, skip_prompt, **decode_kwargs)
        self.text_queue: queue.Queue[str | None] = queue.Queue()
        self.timeout = timeout

    def on_finalized_text(self, text: str, stream_end: bool = False) -> None:
        if text:
            self.text_queue.put(text)
        if stream_end:
            self.text_queue.put(None)  # the end of the stream

    def __iter__(self) -> TextIteratorStreamer:
        return self

    def __next__(self) -> str:
        text = self.text_queue.get(timeout=self.timeout)
        if text is None:
            raise StopIteration
        return text
