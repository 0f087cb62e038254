"""Stop strings: end a row once its generated text ends with one of them (`generate(stop_strings=..., tokenizer=...)`).

Matching is on decoded text, with transformers' rule: a stop string counts only when it reaches into the
newest token, so text that was already there (the prompt, an earlier match) never stops a row again, and a
stop string that a token overshoots ("stop" inside "stopped") still counts.

Only the last few tokens of each row are decoded per step (enough to hold the longest stop string even if
each token carried a single byte), in one `batch_decode` for the rows still running: the per-row work stays
in the tokenizer's Rust decoder. Rows are handed to the Rust sampler as finished through `Generator.stop_rows`.
"""

from __future__ import annotations

import numpy as np
import torch

# A byte-level token can carry a single byte of a character of up to 4 bytes.
_MAX_BYTES_PER_CHAR = 4


class StopStringMatcher:
    """Which rows' text now ends in a stop string.

    >>> matcher = StopStringMatcher(["\\n\\n", "User:"], tokenizer)      # doctest: +SKIP
    >>> matcher.rows_stopped(tokens)                             # doctest: +SKIP
    array([False,  True])
    """

    def __init__(self, stop_strings: str | list[str], tokenizer) -> None:
        if tokenizer is None:
            raise ValueError(
                "stop_strings need the model's tokenizer to read the generated text: pass generate(..., tokenizer=tok)"
            )
        strings = [stop_strings] if isinstance(stop_strings, str) else list(stop_strings)
        if not strings or not all(isinstance(s, str) and s for s in strings):
            raise ValueError(
                f"stop_strings must be a non-empty string or list of non-empty strings, got {stop_strings!r}"
            )
        self.stop_strings = strings
        self.tokenizer = tokenizer
        self.tail_tokens = _MAX_BYTES_PER_CHAR * max(len(s) for s in strings) + 1

    def rows_stopped(self, tokens: torch.Tensor) -> np.ndarray:
        """`tokens` (rows, L) with the newest token last. Returns (rows,) bool: True where a stop string ends."""
        tails = tokens[:, -self.tail_tokens :].tolist()
        with_newest = self.tokenizer.batch_decode(tails, skip_special_tokens=False)
        before_newest = self.tokenizer.batch_decode([t[:-1] for t in tails], skip_special_tokens=False)
        return np.array(
            [
                # A match must end after the text the older tokens already produced.
                any(text.find(s, max(0, len(head) - len(s) + 1)) != -1 for s in self.stop_strings)
                for text, head in zip(with_newest, before_newest)
            ],
            dtype=bool,
        )
