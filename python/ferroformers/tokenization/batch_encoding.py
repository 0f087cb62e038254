"""`BatchEncoding`: what a tokenizer call returns -- a dict of model inputs plus the encodings.

A `dict` subclass (so `model(**enc)` works) with attribute access (`enc.input_ids`), tensor
conversion (`convert_to_tensors`, `.to(device)`) and the per-token alignment helpers
(`tokens(i)`, `word_ids(i)`, `sequence_ids(i)`) read from the backend `Encoding`s.

    >>> enc = BatchEncoding({"input_ids": [[1, 2, 3]]})
    >>> enc.input_ids
    [[1, 2, 3]]
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

from ..errors import TokenizationError

_RAGGED_MESSAGE = (
    "Unable to create tensor, you should probably activate truncation and/or padding with "
    "'padding=True' 'truncation=True' to have batched tensors with the same length. "
    "Perhaps your features (`{key}` in this case) have excessive nesting "
    "(inputs type `list` where type `int` is expected)."
)


class RaggedBatchError(TokenizationError):
    """Rows of different lengths cannot become one tensor."""


class CharSpan(NamedTuple):
    """A span of characters in the original text: `text[start:end]`."""

    start: int
    end: int


class TokenSpan(NamedTuple):
    """A span of tokens in an encoding: `input_ids[start:end]`."""

    start: int
    end: int


def _is_tensor(value) -> bool:
    import numpy as np

    if isinstance(value, np.ndarray):
        return True
    return type(value).__module__.startswith("torch") and hasattr(value, "dtype")


def as_array(key: str, value, tensor_type: str):
    """Turn a list (of lists) into a numpy array or torch tensor; raise on ragged rows.

    Integers become int64 and booleans stay booleans. Floats follow `torch.tensor` / `np.asarray`, as
    transformers' BatchEncoding does: python floats become torch's default dtype (float32) for "pt" and
    float64 for "np"; a list of numpy arrays keeps its dtype. Strings cannot become torch tensors."""
    import numpy as np

    if _is_tensor(value):
        if tensor_type == "pt" and isinstance(value, np.ndarray):
            import torch

            return torch.from_numpy(value)
        return value
    if _is_empty(value):
        array = np.zeros((len(value), 0), dtype=np.int64)
    else:
        try:
            array = np.asarray(value)
        except (ValueError, TypeError) as err:
            raise RaggedBatchError(_RAGGED_MESSAGE.format(key=key)) from err
        if array.dtype == object:  # rows of different lengths nested in tuples, or None values
            raise RaggedBatchError(_RAGGED_MESSAGE.format(key=key))
    kind = array.dtype.kind
    if kind in "iu":
        array = array.astype(np.int64, copy=False)
    elif kind not in "fb":
        if tensor_type == "pt":
            raise TokenizationError(
                f"Unable to create a tensor from `{key}`: its values are {array.dtype} (not numbers or booleans). "
                "Remove that field or turn it into numbers before asking for tensors."
            )
        return array
    if tensor_type == "pt":
        import torch

        holds_arrays = isinstance(value, (list, tuple)) and len(value) > 0 and isinstance(value[0], np.ndarray)
        if kind == "f" and array.dtype == np.float64 and not holds_arrays:
            # torch.tensor(python floats) gives the default dtype; only numpy arrays keep their float64
            return torch.from_numpy(array).to(torch.get_default_dtype())
        return torch.from_numpy(array)
    return array


def _is_empty(value) -> bool:
    return isinstance(value, (list, tuple)) and (
        len(value) == 0 or all(isinstance(v, (list, tuple)) and len(v) == 0 for v in value)
    )


def check_tensor_type(tensor_type):
    if tensor_type is None or tensor_type in ("np", "pt"):
        return tensor_type
    name = getattr(tensor_type, "value", tensor_type)  # transformers.TensorType members
    if name in ("np", "pt"):
        return name
    raise TokenizationError(f"return_tensors must be 'pt', 'np' or None, got {tensor_type!r}")


class BatchEncoding(dict):
    """The output of a tokenizer call: `input_ids`, `attention_mask`, ... plus the backend encodings.

    >>> enc = BatchEncoding({"input_ids": [[5, 6], [7, 8]]}, tensor_type="np")
    >>> enc["input_ids"].shape
    (2, 2)
    """

    def __init__(
        self,
        data: dict[str, Any] | None = None,
        encodings=None,
        tensor_type=None,
        n_sequences: int | None = None,
        *,
        encodings_factory: Callable[[], list] | None = None,
    ):
        super().__init__(data or {})
        self._encodings = list(encodings) if encodings is not None else None
        self._encodings_factory = encodings_factory
        self._n_sequences = n_sequences
        if n_sequences is None and self._encodings:
            self._n_sequences = self._encodings[0].n_sequences
        self.convert_to_tensors(tensor_type)

    # -- dict with attribute access -----------------------------------------------------------
    def __getattr__(self, item: str):
        if item.startswith("__") or item.startswith("_"):
            raise AttributeError(item)
        try:
            return self[item]
        except KeyError:
            raise AttributeError(f"BatchEncoding has no key or attribute {item!r}") from None

    def __getitem__(self, item):
        if isinstance(item, str):
            return super().__getitem__(item)
        if isinstance(item, int):
            encodings = self.encodings
            if encodings is None:
                raise KeyError("Indexing with integers needs the backend encodings, which this BatchEncoding lacks")
            return encodings[item]
        if isinstance(item, slice):
            return {key: value[item] for key, value in self.items()}
        raise KeyError(f"Invalid key {item!r}: use a str (field), an int (encoding) or a slice")

    def __getstate__(self):
        return {"data": dict(self), "encodings": self.encodings, "n_sequences": self._n_sequences}

    def __setstate__(self, state):
        self.update(state["data"])
        self._encodings = state["encodings"]
        self._encodings_factory = None
        self._n_sequences = state["n_sequences"]

    def __reduce__(self):
        return (BatchEncoding, (), self.__getstate__())

    @property
    def data(self) -> dict:
        return dict(self)

    # -- encodings and alignment -------------------------------------------------------------
    @property
    def is_fast(self) -> bool:
        return True

    @property
    def encodings(self):
        """The backend `Encoding` of each row (computed on first use after a fast-path call)."""
        if self._encodings is None and self._encodings_factory is not None:
            self._encodings = list(self._encodings_factory())
            self._encodings_factory = None
        return self._encodings

    @property
    def n_sequences(self) -> int | None:
        """1 for single texts, 2 for pairs."""
        if self._n_sequences is None and self.encodings:
            self._n_sequences = self.encodings[0].n_sequences
        return self._n_sequences

    def _encoding(self, batch_index: int):
        encodings = self.encodings
        if encodings is None:
            raise ValueError("This BatchEncoding has no backend encodings (it was not made by a tokenizer call)")
        return encodings[batch_index]

    def tokens(self, batch_index: int = 0) -> list[str]:
        return self._encoding(batch_index).tokens

    def word_ids(self, batch_index: int = 0) -> list[int | None]:
        return self._encoding(batch_index).word_ids

    def words(self, batch_index: int = 0) -> list[int | None]:
        return self.word_ids(batch_index)

    def sequence_ids(self, batch_index: int = 0) -> list[int | None]:
        return self._encoding(batch_index).sequence_ids

    # Each helper takes (index) for a single-row batch or (batch_index, index), as transformers'.
    # Negative indices count from the end where transformers allows them (rows; tokens and words in
    # token_to_sequence, token_to_word and word_to_tokens, counted from the end of the row; transformers
    # means to, but fails on an attribute its BatchEncoding lacks).
    def _locate(self, batch_or_index: int, index: int | None, negative_index: bool) -> tuple[int, int]:
        encodings = self.encodings
        if not encodings:
            raise ValueError("This BatchEncoding has no backend encodings (it was not made by a tokenizer call)")
        batch_index, index = (0, batch_or_index) if index is None else (batch_or_index, index)
        if batch_index < 0:
            batch_index += len(encodings)
        if negative_index and index < 0:
            index += len(encodings[batch_index])
        if index < 0:
            # the type transformers raises here (its Rust backend cannot take a negative index)
            raise OverflowError(f"index {index} is negative: pass a token, word or character index >= 0")
        return batch_index, index

    def _row(self, batch_index: int) -> tuple[list, list, list]:
        """(sequence_ids, word_ids, offsets) of one row, read from the backend once per row: per-token
        queries in a loop then cost no copy of the whole row each."""
        cache = self.__dict__.setdefault("_rows", {})
        if batch_index not in cache:
            encoding = self._encoding(batch_index)
            cache[batch_index] = (encoding.sequence_ids, encoding.word_ids, encoding.offsets)
        return cache[batch_index]

    def token_to_sequence(self, batch_or_token_index: int, token_index: int | None = None) -> int | None:
        """Which sequence of the input (0, or 1 for the second text of a pair) a token comes from;
        None for special and padding tokens."""
        batch_index, token_index = self._locate(batch_or_token_index, token_index, True)
        sequence_ids = self._row(batch_index)[0]
        return sequence_ids[token_index] if 0 <= token_index < len(sequence_ids) else None

    def token_to_word(self, batch_or_token_index: int, token_index: int | None = None) -> int | None:
        """The index of the word (within its sequence) a token belongs to; None for special tokens."""
        batch_index, token_index = self._locate(batch_or_token_index, token_index, True)
        sequence_ids, word_ids, _ = self._row(batch_index)
        if not 0 <= token_index < len(word_ids) or sequence_ids[token_index] is None:
            return None
        return word_ids[token_index]

    def token_to_chars(self, batch_or_token_index: int, token_index: int | None = None) -> CharSpan | None:
        """The characters of the original text a token covers; None for special and padding tokens."""
        batch_index, token_index = self._locate(batch_or_token_index, token_index, False)
        sequence_ids, _, offsets = self._row(batch_index)
        if not 0 <= token_index < len(offsets) or sequence_ids[token_index] is None:
            return None
        return CharSpan(*offsets[token_index])

    def char_to_token(
        self, batch_or_char_index: int, char_index: int | None = None, sequence_index: int = 0
    ) -> int | None:
        """The token covering character `char_index` of sequence `sequence_index`; None when no token does."""
        batch_index, char_index = self._locate(batch_or_char_index, char_index, False)
        return self._encoding(batch_index).char_to_token(char_index, sequence_index)

    def char_to_word(
        self, batch_or_char_index: int, char_index: int | None = None, sequence_index: int = 0
    ) -> int | None:
        """The word containing character `char_index` of sequence `sequence_index`; None when none does."""
        batch_index, char_index = self._locate(batch_or_char_index, char_index, False)
        token = self._encoding(batch_index).char_to_token(char_index, sequence_index)
        return None if token is None else self.token_to_word(batch_index, token)

    def word_to_tokens(
        self, batch_or_word_index: int, word_index: int | None = None, sequence_index: int = 0
    ) -> TokenSpan | None:
        """The tokens of word `word_index` of sequence `sequence_index`; None when the word has no token."""
        batch_index, word_index = self._locate(batch_or_word_index, word_index, True)
        span = self._encoding(batch_index).word_to_tokens(word_index, sequence_index)
        return None if span is None else TokenSpan(*span)

    def word_to_chars(
        self, batch_or_word_index: int, word_index: int | None = None, sequence_index: int = 0
    ) -> CharSpan:
        """The characters of word `word_index` of sequence `sequence_index` in the original text."""
        batch_index, word_index = self._locate(batch_or_word_index, word_index, False)
        span = self._encoding(batch_index).word_to_tokens(word_index, sequence_index)
        if span is None:
            # transformers fails here too (with a bare TypeError); keep the type, say why
            raise TypeError(f"word {word_index} of sequence {sequence_index} has no tokens in row {batch_index}")
        offsets = self._row(batch_index)[2]
        return CharSpan(offsets[span[0]][0], offsets[span[1] - 1][1])

    # -- tensors -----------------------------------------------------------------------------
    def convert_to_tensors(self, tensor_type=None, prepend_batch_axis: bool = False) -> BatchEncoding:
        """Turn every field into a numpy array ('np') or torch tensor ('pt'), in place (ints as int64)."""
        tensor_type = check_tensor_type(tensor_type)
        if tensor_type is None:
            return self
        for key, value in list(self.items()):
            if prepend_batch_axis:
                value = [value]
            super().__setitem__(key, as_array(key, value, tensor_type))
        return self

    def to(self, device, *, non_blocking: bool = False) -> BatchEncoding:
        """Move every torch tensor to `device` (a str, int or torch.device); other values are kept."""
        for key, value in list(self.items()):
            if hasattr(value, "to") and callable(value.to) and not isinstance(value, (list, dict, str)):
                super().__setitem__(key, value.to(device=device, non_blocking=non_blocking))
        return self

    def __repr__(self) -> str:
        return f"BatchEncoding({dict.__repr__(self)})"
