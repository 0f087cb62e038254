"""`PreTrainedTokenizerFast`: the transformers-compatible tokenizer over the Rust backend.

Argument checking and transformers' defaults live here; encoding, padding, truncation and the
padded arrays are the backend's work. With `return_tensors` and padding the backend writes each
field once into an int64 array (`encode_batch_arrays`) and torch wraps it without a copy.

    >>> tok = PreTrainedTokenizerFast.from_pretrained("path/to/folder")          # doctest: +SKIP
    >>> tok(["Hello world", "Hi"], padding=True, return_tensors="np")["input_ids"].shape  # doctest: +SKIP
    (2, 4)
"""

from __future__ import annotations

import json
import logging
import numbers
import os
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path

from ..errors import InvalidTokenIdError, TokenizationError
from .backend import AddedToken, Tokenizer
from .batch_encoding import BatchEncoding, RaggedBatchError, as_array, check_tensor_type
from .chat_template import apply_chat_template, save_chat_templates, select_template, templates_from_config
from .padding import pad_encoded_inputs
from .tokenizer_classes import TokenizerClassProfile, profile_for

logger = logging.getLogger("ferroformers")

SPECIAL_TOKENS_ATTRIBUTES = ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token")
VERY_LARGE_INTEGER = int(1e30)  # model_max_length of a model without a length limit (transformers' value)
LARGE_INTEGER = int(1e20)
_PADDING = {
    True: "longest",
    "longest": "longest",
    "max_length": "max_length",
    False: "do_not_pad",
    "do_not_pad": "do_not_pad",
    None: "do_not_pad",
}
_TRUNCATION = {
    True: "longest_first",
    "longest_first": "longest_first",
    "only_first": "only_first",
    "only_second": "only_second",
    False: "do_not_truncate",
    "do_not_truncate": "do_not_truncate",
    None: "do_not_truncate",
}


def _strategy(value, table: dict, kind: str, valid: Sequence[str]) -> str:
    value = getattr(value, "value", value)  # transformers' PaddingStrategy / TruncationStrategy enums
    try:
        return table[value]
    except (KeyError, TypeError):
        raise TokenizationError(f"{value} is not a valid {kind}, please select one of {list(valid)}") from None


def _text_kind(value) -> str:
    return type(value).__name__


# Keyword arguments of the constructor that are tokenizer_config.json entries (as in transformers).
INIT_CONFIG_KWARGS = set(SPECIAL_TOKENS_ATTRIBUTES) | {
    "additional_special_tokens",
    "extra_special_tokens",
    "model_max_length",
    "model_input_names",
    "clean_up_tokenization_spaces",
    "chat_template",
}


def _backend_from(backend, tokenizer_object, tokenizer_file) -> Tokenizer:
    if sum(x is not None for x in (backend, tokenizer_object, tokenizer_file)) != 1:
        raise TypeError(
            "PreTrainedTokenizerFast needs exactly one of: a ferroformers.Tokenizer (positional or "
            "tokenizer_object=) or tokenizer_file= (a tokenizer.json path)"
        )
    if tokenizer_file is not None:
        return Tokenizer.from_file(tokenizer_file)
    if tokenizer_object is None:
        return backend
    if isinstance(tokenizer_object, Tokenizer):
        # transformers copies the object too: the tokenizer's padding/truncation changes stay its own
        return Tokenizer.from_str(tokenizer_object.to_str())
    if hasattr(tokenizer_object, "to_str"):  # a `tokenizers.Tokenizer`
        return Tokenizer.from_str(tokenizer_object.to_str())
    raise TypeError(f"tokenizer_object must be a ferroformers.Tokenizer, got {type(tokenizer_object).__name__}")


def _as_added_token(token):
    """A str or a ferroformers AddedToken as is; an AddedToken of `tokenizers` / transformers (same flags)
    as ours, so `from transformers import AddedToken` works here too."""
    if isinstance(token, (str, AddedToken)):
        return token
    if isinstance(getattr(token, "content", None), str):
        flags = ("single_word", "lstrip", "rstrip", "normalized", "special")
        return AddedToken(token.content, **{f: bool(getattr(token, f)) for f in flags if hasattr(token, f)})
    return str(token)


class PreTrainedTokenizerFast:
    """A tokenizer with transformers' interface (`__call__`, `decode`, special tokens, save/load).

    Usually made by `AutoTokenizer.from_pretrained`; built directly as in transformers, it uses the
    backend pipeline unchanged:

    >>> tok = PreTrainedTokenizerFast(tokenizer_file="tokenizer.json", pad_token="[PAD]",
    ...                               padding_side="left", model_max_length=512)   # doctest: +SKIP
    """

    def __init__(
        self,
        backend: Tokenizer | None = None,
        *,
        tokenizer_object: Tokenizer | None = None,
        tokenizer_file: str | os.PathLike | None = None,
        config: dict | None = None,
        profile: TokenizerClassProfile | None = None,
        name_or_path: str = "",
        special_tokens: dict[str, str | None] | None = None,
        extra_special_tokens: list[str] | None = None,
        padding_side: str | None = None,
        truncation_side: str | None = None,
        **kwargs,
    ):
        unknown = sorted(set(kwargs) - INIT_CONFIG_KWARGS)
        if unknown:
            raise TypeError(f"PreTrainedTokenizerFast() got unexpected keyword argument(s): {', '.join(unknown)}")
        backend = _backend_from(backend, tokenizer_object, tokenizer_file)
        config = {**(config or {}), **kwargs}
        if kwargs:
            special_tokens = dict(special_tokens or {})
            special_tokens.update({k: str(v) for k, v in kwargs.items() if k in SPECIAL_TOKENS_ATTRIBUTES})
            extra = kwargs.get("extra_special_tokens", kwargs.get("additional_special_tokens"))
            if extra is not None:
                extra_special_tokens = [str(t) for t in extra]
            # Named tokens the vocabulary lacks are added as special tokens (with their flags when given
            # as AddedToken), as transformers does.
            named = [kwargs[k] for k in SPECIAL_TOKENS_ATTRIBUTES if kwargs.get(k) is not None] + list(extra or [])
            missing = [t for t in named if backend.token_to_id(str(t)) is None]
            if missing:
                backend.add_special_tokens([t if isinstance(t, AddedToken) else str(t) for t in missing])
        self._tokenizer = backend
        self._profile = profile or profile_for(config.get("tokenizer_class"))
        self._config = config
        self.name_or_path = name_or_path
        self._special_tokens: dict[str, str | None] = dict.fromkeys(SPECIAL_TOKENS_ATTRIBUTES)
        self._special_tokens.update(special_tokens or {})
        self._extra_special_tokens: list[str] = list(extra_special_tokens or [])
        model_max_length = config.get("model_max_length", config.get("max_len"))
        self.model_max_length = int(model_max_length) if model_max_length is not None else VERY_LARGE_INTEGER
        self.padding_side = padding_side or config.get("padding_side") or self._profile.padding_side
        self.truncation_side = truncation_side or config.get("truncation_side") or "right"
        self.model_input_names = list(config.get("model_input_names") or self._profile.model_input_names)
        self.clean_up_tokenization_spaces = bool(config.get("clean_up_tokenization_spaces", False))
        self._model_type = json.loads(backend.to_str()).get("model", {}).get("type")
        # A Jinja template string, a dict of named templates ("default", "tool_use", ...), or None.
        self.chat_template: str | dict[str, str] | None = templates_from_config(config.pop("chat_template", None))
        self._backend_settings: tuple | None = None
        self._warned_too_long = False
        backend.no_padding()
        backend.no_truncation()

    @classmethod
    def from_pretrained(cls, name_or_path, **kwargs) -> PreTrainedTokenizerFast:
        from .auto import AutoTokenizer

        return AutoTokenizer.from_pretrained(name_or_path, **kwargs)

    # -- sides -------------------------------------------------------------------------------
    @property
    def padding_side(self) -> str:
        return self._padding_side

    @padding_side.setter
    def padding_side(self, value: str) -> None:
        if value not in ("right", "left"):
            raise ValueError(f"Padding side should be selected between 'right' and 'left', current value: {value}")
        self._padding_side = value

    @property
    def truncation_side(self) -> str:
        return self._truncation_side

    @truncation_side.setter
    def truncation_side(self, value: str) -> None:
        if value not in ("right", "left"):
            raise ValueError(f"Truncation side should be selected between 'right' and 'left', current value: {value}")
        self._truncation_side = value

    # -- vocabulary --------------------------------------------------------------------------
    @property
    def backend_tokenizer(self) -> Tokenizer:
        """The low-level `ferroformers.Tokenizer`."""
        return self._tokenizer

    @property
    def is_fast(self) -> bool:
        return True

    @property
    def vocab_size(self) -> int:
        """Size of the base vocabulary (without added tokens)."""
        return self._tokenizer.get_vocab_size(with_added_tokens=False)

    def __len__(self) -> int:
        return self._tokenizer.get_vocab_size(with_added_tokens=True)

    def get_vocab(self) -> dict[str, int]:
        return self._tokenizer.get_vocab(with_added_tokens=True)

    @property
    def vocab(self) -> dict[str, int]:
        return self.get_vocab()

    @property
    def added_tokens_decoder(self) -> dict:
        return dict(sorted(self._tokenizer.get_added_tokens_decoder().items()))

    def get_added_vocab(self) -> dict[str, int]:
        return {str(tok): i for i, tok in self.added_tokens_decoder.items()}

    def convert_tokens_to_ids(self, tokens: str | list[str]) -> int | list[int] | None:
        """Ids of tokens; unknown tokens map to `unk_token_id` (None when there is no unk token)."""
        if tokens is None:
            return None
        if isinstance(tokens, str):
            return self._token_to_id(tokens)
        return [self._token_to_id(t) for t in tokens]

    def _token_to_id(self, token: str) -> int | None:
        index = self._tokenizer.token_to_id(token)
        if index is None:
            unk = self._special_tokens.get("unk_token")
            return None if unk is None else self._tokenizer.token_to_id(unk)
        return index

    def convert_ids_to_tokens(self, ids: int | Sequence[int], skip_special_tokens: bool = False):
        """Tokens of ids (raises `InvalidTokenIdError` for ids outside the vocabulary)."""
        if isinstance(ids, int) or hasattr(ids, "__index__"):
            self._check_ids([int(ids)])
            return self._tokenizer.id_to_token(int(ids))
        ids = self._as_id_list(ids)
        self._check_ids(ids)
        skip = set(self.all_special_ids) if skip_special_tokens else ()
        return [self._tokenizer.id_to_token(i) for i in ids if i not in skip]

    def add_tokens(self, new_tokens, special_tokens: bool = False) -> int:
        """Add tokens to the vocabulary; returns how many were new."""
        if new_tokens is None:
            return 0
        if isinstance(new_tokens, str) or not isinstance(new_tokens, (list, tuple)):
            new_tokens = [new_tokens]
        new_tokens = [_as_added_token(t) for t in new_tokens]
        if special_tokens:
            with self._backend_lock:
                return self._tokenizer.add_special_tokens(new_tokens)
        with self._backend_lock:
            return self._tokenizer.add_tokens(new_tokens)

    def add_special_tokens(self, special_tokens_dict: dict, replace_extra_special_tokens: bool = True) -> int:
        """Set named special tokens (`{'pad_token': '[PAD]'}`) and extra ones (`additional_special_tokens`)."""
        if not special_tokens_dict:
            return 0
        to_add = []
        for key, value in special_tokens_dict.items():
            if key in ("additional_special_tokens", "extra_special_tokens"):
                tokens = [_as_added_token(v) for v in value]
                values = [str(v) for v in tokens]
                if replace_extra_special_tokens:
                    self._extra_special_tokens = values
                else:
                    self._extra_special_tokens += [v for v in values if v not in self._extra_special_tokens]
                to_add += tokens
            elif key in SPECIAL_TOKENS_ATTRIBUTES:
                token = None if value is None else _as_added_token(value)
                self._special_tokens[key] = None if token is None else str(token)
                if token is not None:
                    to_add.append(token)  # an AddedToken keeps its flags (lstrip, rstrip, ...)
            else:
                raise ValueError(
                    f"Key {key!r} is not a special token; use one of {list(SPECIAL_TOKENS_ATTRIBUTES)} "
                    f"or 'additional_special_tokens'"
                )
        with self._backend_lock:
            return self._tokenizer.add_special_tokens(to_add)

    # -- special tokens ----------------------------------------------------------------------
    @property
    def special_tokens_map(self) -> dict[str, str]:
        return {k: v for k, v in self._special_tokens.items() if v is not None}

    @property
    def all_special_tokens(self) -> list[str]:
        seen, out = set(), []
        for token in [self._special_tokens[k] for k in SPECIAL_TOKENS_ATTRIBUTES] + self._extra_special_tokens:
            if token is not None and token not in seen:
                seen.add(token)
                out.append(token)
        return out

    @property
    def all_special_ids(self) -> list[int]:
        return self.convert_tokens_to_ids(self.all_special_tokens)

    @property
    def extra_special_tokens(self) -> list[str]:
        return list(self._extra_special_tokens)

    @property
    def additional_special_tokens(self) -> list[str]:
        return list(self._extra_special_tokens)

    @property
    def pad_token_type_id(self) -> int:
        return 0

    # -- calling -----------------------------------------------------------------------------
    def __call__(
        self,
        text=None,
        text_pair=None,
        *,
        add_special_tokens: bool = True,
        padding: bool | str = False,
        truncation: bool | str | None = None,
        max_length: int | None = None,
        stride: int = 0,
        is_split_into_words: bool = False,
        pad_to_multiple_of: int | None = None,
        padding_side: str | None = None,
        return_tensors: str | None = None,
        return_token_type_ids: bool | None = None,
        return_attention_mask: bool | None = None,
        return_overflowing_tokens: bool = False,
        return_special_tokens_mask: bool = False,
        return_offsets_mapping: bool = False,
        return_length: bool = False,
        verbose: bool = True,
    ) -> BatchEncoding:
        """Encode one text, a pair, or a batch; see transformers' `PreTrainedTokenizerBase.__call__`.

        >>> tok(["a b", "c"], padding=True, return_tensors="np")   # doctest: +SKIP
        """
        if text is None:
            raise TokenizationError(
                "You need to specify `text` (a str, a list of str, or pretokenized words); got None."
            )
        padding_strategy, truncation_strategy, max_length = self._strategies(
            padding, truncation, max_length, pad_to_multiple_of, verbose
        )
        return self._encode(
            text,
            text_pair,
            add_special_tokens=add_special_tokens,
            padding_strategy=padding_strategy,
            truncation_strategy=truncation_strategy,
            max_length=max_length,
            stride=stride,
            is_split_into_words=is_split_into_words,
            pad_to_multiple_of=pad_to_multiple_of,
            padding_side=padding_side,
            return_tensors=return_tensors,
            return_token_type_ids=return_token_type_ids,
            return_attention_mask=return_attention_mask,
            return_overflowing_tokens=return_overflowing_tokens,
            return_special_tokens_mask=return_special_tokens_mask,
            return_offsets_mapping=return_offsets_mapping,
            return_length=return_length,
            verbose=verbose,
        )

    def encode(
        self,
        text,
        text_pair=None,
        *,
        add_special_tokens: bool = True,
        padding: bool | str = False,
        truncation: bool | str | None = None,
        max_length: int | None = None,
        stride: int = 0,
        is_split_into_words: bool = False,
        padding_side: str | None = None,
        return_tensors: str | None = None,
        verbose: bool = True,
    ) -> list[int]:
        """The `input_ids` of one text (or pair)."""
        return self(
            text,
            text_pair,
            add_special_tokens=add_special_tokens,
            padding=padding,
            truncation=truncation,
            max_length=max_length,
            stride=stride,
            is_split_into_words=is_split_into_words,
            padding_side=padding_side,
            return_tensors=return_tensors,
            verbose=verbose,
        )["input_ids"]

    def pad(
        self,
        encoded_inputs,
        padding: bool | str = True,
        max_length: int | None = None,
        pad_to_multiple_of: int | None = None,
        padding_side: str | None = None,
        return_attention_mask: bool | None = None,
        return_tensors: str | None = None,
        verbose: bool = True,
    ) -> BatchEncoding:
        """Pad encoded inputs (a dict, a BatchEncoding, or a list of dicts: one per example) as transformers does.

        Pads `input_ids` (pad token), `attention_mask` (0; made when missing), `token_type_ids` (pad type id)
        and `special_tokens_mask` (1) to the longest row (`padding=True`), to `max_length`
        (`padding="max_length"`), rounded up to `pad_to_multiple_of`; other fields pass through. Tensors in
        give the same kind of tensors out unless `return_tensors` says otherwise.

        >>> tok.pad([{"input_ids": [5, 6, 7]}, {"input_ids": [8]}], return_tensors="pt")   # doctest: +SKIP
        """
        return pad_encoded_inputs(
            self,
            encoded_inputs,
            padding=padding,
            max_length=max_length,
            pad_to_multiple_of=pad_to_multiple_of,
            padding_side=padding_side,
            return_attention_mask=return_attention_mask,
            return_tensors=return_tensors,
            verbose=verbose,
        )

    def get_special_tokens_mask(
        self, token_ids_0, token_ids_1=None, already_has_special_tokens: bool = False
    ) -> list[int]:
        """1 for each id that is a special token (`all_special_ids`), 0 otherwise, for ids that already carry
        their special tokens (`already_has_special_tokens=True`, what data collators use).

        As transformers' fast tokenizers, this does not predict where special tokens would be added to raw
        ids: ask the tokenizer call for `return_special_tokens_mask=True` instead.
        """
        if not already_has_special_tokens:
            raise NotImplementedError(
                f"{self._profile.name} does not implement get_special_tokens_mask for non-formatted sequences: "
                "pass already_has_special_tokens=True for ids that include their special tokens, or encode the "
                "text with return_special_tokens_mask=True."
            )
        if token_ids_1 is not None:
            raise ValueError(
                "You should not supply a second sequence if the provided sequence of ids is already formatted "
                "with special tokens for the model."
            )
        special = set(self.all_special_ids)
        return [1 if int(i) in special else 0 for i in self._as_id_list(token_ids_0)]

    def tokenize(self, text: str, pair: str | None = None, add_special_tokens: bool = False) -> list[str]:
        """The tokens of a text (without special tokens unless asked)."""
        return self(text, pair, add_special_tokens=add_special_tokens).tokens()

    def _strategies(self, padding, truncation, max_length, pad_to_multiple_of, verbose):
        # transformers' rules: max_length alone turns on truncation; a missing max_length comes from
        # model_max_length, and a model without a limit (huge model_max_length) disables both.
        if max_length is not None and (
            isinstance(max_length, bool) or not isinstance(max_length, numbers.Integral) or max_length < 0
        ):
            # Checked here: the Rust layer would raise a bare OverflowError for a negative length.
            raise TokenizationError(f"max_length must be a non-negative int (or None), got {max_length!r}")
        if max_length is not None and padding is False and truncation is None:
            truncation = "longest_first"
        padding_strategy = _strategy(padding, _PADDING, "PaddingStrategy", ["longest", "max_length", "do_not_pad"])
        truncation_strategy = _strategy(
            truncation,
            _TRUNCATION,
            "TruncationStrategy",
            ["only_first", "only_second", "longest_first", "do_not_truncate"],
        )
        if padding is True and verbose and max_length is not None and truncation_strategy == "do_not_truncate":
            warnings.warn(
                "`max_length` is ignored when `padding`=`True` and there is no truncation strategy. "
                "To pad to max length, use `padding='max_length'`.",
                stacklevel=3,
            )
        if max_length is None:
            if padding_strategy == "max_length":
                if self.model_max_length > LARGE_INTEGER:
                    padding_strategy = "do_not_pad"
                else:
                    max_length = self.model_max_length
            if truncation_strategy != "do_not_truncate":
                if self.model_max_length > LARGE_INTEGER:
                    truncation_strategy = "do_not_truncate"
                else:
                    max_length = self.model_max_length
        if padding_strategy != "do_not_pad" and (
            self.pad_token is None or self.pad_token_id is None or self.pad_token_id < 0
        ):
            raise TokenizationError(
                "Asking to pad but the tokenizer does not have a padding token. Please select a token to use as "
                "`pad_token` `(tokenizer.pad_token = tokenizer.eos_token e.g.)` or add a new pad token via "
                "`tokenizer.add_special_tokens({'pad_token': '[PAD]'})`."
            )
        if (
            truncation_strategy != "do_not_truncate"
            and padding_strategy != "do_not_pad"
            and pad_to_multiple_of is not None
            and max_length is not None
            and max_length % pad_to_multiple_of
        ):
            raise ValueError(
                f"Truncation and padding are both activated but truncation length ({max_length}) "
                f"is not a multiple of pad_to_multiple_of ({pad_to_multiple_of})."
            )
        return padding_strategy, truncation_strategy, max_length

    def _batch_inputs(self, text, text_pair, is_split_into_words: bool):
        """Check the inputs and return (backend inputs, is_batched)."""
        if is_split_into_words:
            is_batched = isinstance(text, (list, tuple)) and len(text) > 0 and isinstance(text[0], (list, tuple))
            if isinstance(text, (list, tuple)) and len(text) == 0:
                is_batched = True
        else:
            is_batched = isinstance(text, (list, tuple))
        if not is_batched:
            self._check_sequence(text, is_split_into_words, "text")
            if text_pair is not None and not (isinstance(text_pair, str) and text_pair == ""):
                self._check_sequence(text_pair, is_split_into_words, "text_pair")
            # transformers treats an empty text_pair as "no pair"
            return ([(text, text_pair)] if text_pair else [text]), False
        if len(text) == 0:
            raise TokenizationError("Cannot tokenize an empty batch: `text` is an empty list. Pass at least one text.")
        if text_pair is not None:
            if isinstance(text_pair, str):
                raise TypeError(
                    "when tokenizing batches of text, `text_pair` must be a list or tuple with the same "
                    "length as `text`."
                )
            if len(text) != len(text_pair):
                raise ValueError(
                    f"batch length of `text`: {len(text)} does not match batch length of `text_pair`: {len(text_pair)}."
                )
            self._check_batch(text, is_split_into_words, "text")
            self._check_batch(text_pair, is_split_into_words, "text_pair")
            return list(zip(text, text_pair)), True
        if not is_split_into_words:
            # The backend checks each item as it reads it (a str, or a pair as a tuple or list of two
            # texts): checking here too cost ~45 µs a batch of 1,000. `_explain_bad_batch` turns the
            # backend's TypeError into the message below. A copy, so that later changes to the caller's
            # list cannot reach `BatchEncoding.encodings`, which encodes again on first use.
            return list(text), True
        self._check_batch(text, is_split_into_words, "text")
        return [tuple(t) for t in text], True

    def _explain_bad_batch(self, text, is_split_into_words: bool) -> None:
        """After the backend rejected an item of `text` with a TypeError: raise the error that names it."""
        if isinstance(text, (list, tuple)):
            self._check_batch(text, is_split_into_words, "text", allow_pairs=not is_split_into_words)

    @staticmethod
    def _check_sequence(value, is_split_into_words: bool, name: str, index: int | None = None) -> None:
        where = f"{name}[{index}]" if index is not None else name
        if is_split_into_words:
            if not isinstance(value, (list, tuple)):
                raise TokenizationError(
                    f"{where} must be a list of words (str) with is_split_into_words=True, got {_text_kind(value)}"
                )
            for j, word in enumerate(value):
                if not isinstance(word, str):
                    raise TokenizationError(f"{where}[{j}] must be a str, got {_text_kind(word)}")
        elif not isinstance(value, str):
            hint = " (for pretokenized input pass is_split_into_words=True)" if isinstance(value, (list, tuple)) else ""
            raise TokenizationError(f"{where} must be a str, got {_text_kind(value)}{hint}")

    @classmethod
    def _check_batch(cls, batch, is_split_into_words: bool, name: str, allow_pairs: bool = False) -> None:
        for i, item in enumerate(batch):
            if allow_pairs and isinstance(item, (list, tuple)):
                if len(item) != 2:
                    raise TokenizationError(
                        f"{name}[{i}] must be a str or a (text, text_pair) pair, "
                        f"got a {_text_kind(item)} of length {len(item)}"
                    )
                cls._check_sequence(item[0], False, f"{name}[{i}]", 0)
                cls._check_sequence(item[1], False, f"{name}[{i}]", 1)
            else:
                cls._check_sequence(item, is_split_into_words, name, i)

    def _configure_backend(
        self, padding_strategy, truncation_strategy, max_length, stride, pad_to_multiple_of, padding_side
    ) -> tuple:
        """Set the backend's padding and truncation for one call (only when they change)."""
        if truncation_strategy == "do_not_truncate":
            truncation = None
        else:
            truncation = (max_length, stride, truncation_strategy, self.truncation_side)
        if padding_strategy == "do_not_pad":
            pad = None
        else:
            pad = (
                padding_side or self.padding_side,
                self.pad_token_id,
                self.pad_token_type_id,
                self.pad_token,
                max_length if padding_strategy == "max_length" else None,
                pad_to_multiple_of,
            )
        settings = (truncation, pad)
        self._apply_backend_settings(settings)
        return settings

    def _apply_backend_settings(self, settings: tuple) -> None:
        if settings == self._backend_settings:
            return
        truncation, pad = settings
        if truncation is None:
            self._tokenizer.no_truncation()
        else:
            max_length, stride, strategy, direction = truncation
            self._tokenizer.enable_truncation(max_length, stride=stride, strategy=strategy, direction=direction)
        if pad is None:
            self._tokenizer.no_padding()
        else:
            direction, pad_id, pad_type_id, pad_token, length, multiple = pad
            self._tokenizer.enable_padding(
                direction=direction,
                pad_id=pad_id,
                pad_type_id=pad_type_id,
                pad_token=pad_token,
                length=length,
                pad_to_multiple_of=multiple,
            )
        self._backend_settings = settings

    @property
    def _backend_lock(self) -> threading.RLock:
        """Held from setting the backend's padding/truncation to the end of the encode that uses them.

        The Rust tokenizer keeps padding and truncation as state (tokenizers' interface); without the
        lock, a thread calling with `padding=True` could change it under another thread's encode, which
        gets the wrong padding, or an "Already borrowed" RuntimeError from the binding. Created lazily:
        unpickled instances and subclasses that skip `__init__` get one too (`setdefault` is atomic)."""
        return self.__dict__.setdefault("_backend_lock_instance", threading.RLock())

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop("_backend_lock_instance", None)  # locks do not pickle; the copy makes its own
        return state

    def _encode(self, *args, **kwargs) -> BatchEncoding:
        with self._backend_lock:
            return self._encode_with_backend_settings(*args, **kwargs)

    def _encode_with_backend_settings(
        self,
        text,
        text_pair,
        *,
        add_special_tokens,
        padding_strategy,
        truncation_strategy,
        max_length,
        stride,
        is_split_into_words,
        pad_to_multiple_of,
        padding_side,
        return_tensors,
        return_token_type_ids,
        return_attention_mask,
        return_overflowing_tokens,
        return_special_tokens_mask,
        return_offsets_mapping,
        return_length,
        verbose,
    ) -> BatchEncoding:
        return_tensors = check_tensor_type(return_tensors)
        if padding_side is not None and padding_side not in ("left", "right"):
            raise ValueError(f"padding_side must be 'left' or 'right', got {padding_side!r}")
        inputs, is_batched = self._batch_inputs(text, text_pair, is_split_into_words)
        settings = self._configure_backend(
            padding_strategy, truncation_strategy, max_length, stride, pad_to_multiple_of, padding_side
        )
        if return_token_type_ids is None:
            return_token_type_ids = "token_type_ids" in self.model_input_names
        if return_attention_mask is None:
            return_attention_mask = "attention_mask" in self.model_input_names
        fields = ["input_ids"]
        if return_token_type_ids:
            fields.append("token_type_ids")
        if return_attention_mask:
            fields.append("attention_mask")
        if return_special_tokens_mask:
            fields.append("special_tokens_mask")
        if return_offsets_mapping:
            fields.append("offset_mapping")
        if is_split_into_words:  # the items are word lists: a pair comes only as `text_pair`
            n_sequences = 2 if text_pair else 1
        else:
            n_sequences = 2 if inputs and isinstance(inputs[0], (list, tuple)) else 1

        def encodings_factory():
            with self._backend_lock:  # may run later, from BatchEncoding.encodings, on another thread
                self._apply_backend_settings(settings)
                try:
                    return self._tokenizer.encode_batch(
                        inputs, is_pretokenized=is_split_into_words, add_special_tokens=add_special_tokens
                    )
                except TypeError:
                    self._explain_bad_batch(text, is_split_into_words)
                    raise

        if return_tensors is not None and padding_strategy != "do_not_pad" and not return_overflowing_tokens:
            # Fast path: the backend writes each padded field into one int64 array.
            try:
                arrays = self._tokenizer.encode_batch_arrays(
                    inputs,
                    is_pretokenized=is_split_into_words,
                    add_special_tokens=add_special_tokens,
                    fields=tuple(fields),
                )
            except TypeError:
                self._explain_bad_batch(text, is_split_into_words)
                raise
            except ValueError as err:
                if "length" in str(err):
                    raise RaggedBatchError(
                        "Unable to create tensor, you should probably activate truncation and/or padding with "
                        "'padding=True' 'truncation=True' to have batched tensors with the same length "
                        f"(some rows are longer than max_length={max_length} and truncation is off)."
                    ) from err
                raise
            data = {f: arrays[f] for f in fields}
            if return_length:
                import numpy as np

                rows, width = data["input_ids"].shape
                data["length"] = np.full(rows, width, dtype=np.int64)
            if max_length is None:
                self._warn_if_too_long(data["input_ids"].shape[1], verbose)
            if return_tensors == "pt":
                import torch

                data = {k: torch.from_numpy(v) for k, v in data.items()}
            return BatchEncoding(data, n_sequences=n_sequences, encodings_factory=encodings_factory)

        encodings = encodings_factory()
        if return_overflowing_tokens:
            rows, sample_of_row = [], []
            for i, e in enumerate(encodings):
                group = [e] + list(e.overflowing)
                rows += group
                sample_of_row += [i] * len(group)
        else:
            rows = encodings
        data = {"input_ids": [e.ids for e in rows]}
        if return_token_type_ids:
            data["token_type_ids"] = [e.type_ids for e in rows]
        if return_attention_mask:
            data["attention_mask"] = [e.attention_mask for e in rows]
        if return_special_tokens_mask:
            data["special_tokens_mask"] = [e.special_tokens_mask for e in rows]
        if return_offsets_mapping:
            data["offset_mapping"] = [e.offsets for e in rows]
        if return_length:
            data["length"] = [len(ids) for ids in data["input_ids"]]
        if return_overflowing_tokens:
            data["overflow_to_sample_mapping"] = sample_of_row
        if max_length is None:
            self._warn_if_too_long(max(map(len, data["input_ids"])), verbose)
        if not is_batched and return_tensors is None and not return_overflowing_tokens:
            # transformers drops the batch axis only of per-token fields: `length` stays a list
            data = {k: (v[0] if v and isinstance(v[0], list) else v) for k, v in data.items()}
        if return_tensors is not None:
            data = {k: as_array(k, v, return_tensors) for k, v in data.items()}
        return BatchEncoding(data, rows, n_sequences=n_sequences)

    def _warn_if_too_long(self, longest: int, verbose: bool) -> None:
        if verbose and not self._warned_too_long and self.model_max_length and longest > self.model_max_length:
            logger.warning(
                "Token indices sequence length is longer than the specified maximum sequence length for "
                f"this model ({longest} > {self.model_max_length}). Running this sequence through the model "
                "will result in indexing errors"
            )
            self._warned_too_long = True

    # -- chat templates ----------------------------------------------------------------------
    def apply_chat_template(
        self,
        conversation,
        tools: list | None = None,
        documents: list[dict] | None = None,
        chat_template: str | None = None,
        add_generation_prompt: bool = False,
        continue_final_message: bool | str = False,
        tokenize: bool = True,
        sanitize_control_tokens: bool = False,
        padding: bool | str = False,
        truncation: bool = False,
        max_length: int | None = None,
        return_tensors: str | None = None,
        return_dict: bool = True,
        return_assistant_tokens_mask: bool = False,
        tokenizer_kwargs: dict | None = None,
        **kwargs,
    ):
        """Render a conversation (or a batch of them) with the chat template and tokenize it.

        `conversation` is a list of `{"role": ..., "content": ...}` messages, or a list of such lists.
        `tools` are JSON-schema dicts or functions with type hints and Google-style docstrings;
        `chat_template` is a template name ("tool_use") or Jinja source; `continue_final_message` (True or
        the field name) leaves the last message open instead of closing it; other keywords are passed to
        the template. Returns the text (`tokenize=False`), a `BatchEncoding` (`return_dict=True`, the
        default, with `assistant_masks` when asked), or the input ids. The template writes the special
        tokens, so the text is tokenized with `add_special_tokens=False`.

        >>> tok.apply_chat_template([{"role": "user", "content": "Hi"}], add_generation_prompt=True,
        ...                         return_tensors="pt")["input_ids"].shape              # doctest: +SKIP
        torch.Size([1, 9])
        """
        return apply_chat_template(
            self,
            conversation,
            tools=tools,
            documents=documents,
            chat_template=chat_template,
            add_generation_prompt=add_generation_prompt,
            continue_final_message=continue_final_message,
            tokenize=tokenize,
            sanitize_control_tokens=sanitize_control_tokens,
            padding=padding,
            truncation=truncation,
            max_length=max_length,
            return_tensors=return_tensors,
            return_dict=return_dict,
            return_assistant_tokens_mask=return_assistant_tokens_mask,
            tokenizer_kwargs=tokenizer_kwargs,
            template_kwargs=kwargs,
        )

    def get_chat_template(self, chat_template: str | None = None, tools: list | None = None) -> str:
        """The Jinja source `apply_chat_template` would use: `chat_template` (a name or Jinja source),
        else this tokenizer's template ("tool_use" when tools are given and there is one, else "default")."""
        return select_template(self.chat_template, chat_template, tools)

    # -- decoding ----------------------------------------------------------------------------
    @staticmethod
    def _as_id_list(ids) -> list:
        if hasattr(ids, "tolist"):  # numpy arrays, torch tensors
            return ids.tolist()
        if isinstance(ids, dict) or isinstance(ids, BatchEncoding):
            ids = ids["input_ids"]
            return ids.tolist() if hasattr(ids, "tolist") else list(ids)
        return list(ids)

    def _check_ids(self, ids: list[int]) -> None:
        if not ids:
            return
        size = len(self)
        low, high = min(ids), max(ids)
        if low < 0 or high >= size:
            bad = low if low < 0 else high
            raise InvalidTokenIdError(
                f"Token id {bad} is out of range: ids must be in [0, {size}) for this "
                f"tokenizer (vocabulary with added tokens)."
            )

    def decode(
        self, token_ids, skip_special_tokens: bool = False, clean_up_tokenization_spaces: bool | None = None
    ) -> str | list[str]:
        """Text of a sequence of ids (or a list of texts for a batch of sequences).

        >>> tok.decode(tok("Hello world")["input_ids"], skip_special_tokens=True)   # doctest: +SKIP
        'Hello world'
        """
        if isinstance(token_ids, int) or (hasattr(token_ids, "__index__") and not hasattr(token_ids, "__len__")):
            ids = [int(token_ids)]
        else:
            ids = self._as_id_list(token_ids)
        if ids and isinstance(ids[0], (list, tuple)):
            return self.batch_decode(
                ids, skip_special_tokens=skip_special_tokens, clean_up_tokenization_spaces=clean_up_tokenization_spaces
            )
        self._check_ids(ids)
        with self._backend_lock:  # the Rust decode runs without the GIL: keep set_*/add_* out meanwhile
            text = self._tokenizer.decode(ids, skip_special_tokens=skip_special_tokens)
        return self._clean_up(text, clean_up_tokenization_spaces)

    def batch_decode(
        self, sequences, skip_special_tokens: bool = False, clean_up_tokenization_spaces: bool | None = None
    ) -> list[str]:
        """Texts of a batch of id sequences."""
        sequences = self._as_id_list(sequences)
        if not sequences:
            return []
        if not isinstance(sequences[0], (list, tuple)):
            return [self.decode(sequences, skip_special_tokens, clean_up_tokenization_spaces)]
        sequences = [list(s) for s in sequences]
        for s in sequences:
            self._check_ids(s)
        with self._backend_lock:
            texts = self._tokenizer.decode_batch(sequences, skip_special_tokens=skip_special_tokens)
        return [self._clean_up(t, clean_up_tokenization_spaces) for t in texts]

    def _clean_up(self, text: str, clean_up: bool | None) -> str:
        clean_up = self.clean_up_tokenization_spaces if clean_up is None else clean_up
        # transformers skips the cleanup for BPE models: it removes real spaces before punctuation.
        if not clean_up or self._model_type == "BPE":
            return text
        return self.clean_up_tokenization(text)

    @staticmethod
    def clean_up_tokenization(text: str) -> str:
        """Remove the spaces a WordPiece decode leaves before punctuation and contractions."""
        for before, after in (
            (" .", "."),
            (" ?", "?"),
            (" !", "!"),
            (" ,", ","),
            (" ' ", "'"),
            (" n't", "n't"),
            (" 'm", "'m"),
            (" 's", "'s"),
            (" 've", "'ve"),
            (" 're", "'re"),
        ):
            text = text.replace(before, after)
        return text

    def convert_tokens_to_string(self, tokens: list[str]) -> str:
        """Text of token strings, through the tokenizer's decoder only (as transformers): the strings need
        not be vocabulary tokens, and no cleanup beyond the decoder's own is applied."""
        with self._backend_lock:
            return self._tokenizer.decode_tokens(list(tokens))

    # -- saving ------------------------------------------------------------------------------
    def save_pretrained(self, save_directory: str | os.PathLike) -> tuple[str, ...]:
        """Write tokenizer.json, tokenizer_config.json (special tokens, limits, sides, added_tokens_decoder),
        special_tokens_map.json and the chat templates (chat_template.jinja,
        additional_chat_templates/<name>.jinja), all loadable by transformers."""
        folder = Path(save_directory)
        if folder.exists() and not folder.is_dir():
            raise NotADirectoryError(f"save_pretrained: {str(folder)!r} is a file, not a folder")
        folder.mkdir(parents=True, exist_ok=True)
        template_files = save_chat_templates(folder, self.chat_template)
        tokenizer_file = folder / "tokenizer.json"
        with self._backend_lock:
            self._tokenizer.no_padding()
            self._tokenizer.no_truncation()
            self._backend_settings = (None, None)
            self._tokenizer.save(str(tokenizer_file))
        config = {
            k: v
            for k, v in self._config.items()
            if k not in ("added_tokens_decoder", "name_or_path", "tokenizer_file", "auto_map")
        }
        config.update({k: self._special_tokens[k] for k in SPECIAL_TOKENS_ATTRIBUTES})
        if self._extra_special_tokens:
            config["extra_special_tokens"] = list(self._extra_special_tokens)
        config.pop("additional_special_tokens", None)
        # Written as transformers 4 did (transformers 5 reads it, and then skips special_tokens_map.json).
        config["added_tokens_decoder"] = {
            str(i): {
                "content": t.content,
                "lstrip": t.lstrip,
                "normalized": t.normalized,
                "rstrip": t.rstrip,
                "single_word": t.single_word,
                "special": t.special,
            }
            for i, t in self.added_tokens_decoder.items()
        }
        config.update(
            tokenizer_class=self._profile.name,
            model_max_length=self.model_max_length,
            padding_side=self.padding_side,
            truncation_side=self.truncation_side,
            clean_up_tokenization_spaces=self.clean_up_tokenization_spaces,
            backend="tokenizers",
        )
        config_file = folder / "tokenizer_config.json"
        config_file.write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        map_file = folder / "special_tokens_map.json"
        map_file.write_text(json.dumps(self.special_tokens_map, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return str(config_file), *template_files, str(map_file), str(tokenizer_file)

    def __repr__(self) -> str:
        return (
            f"{self._profile.name}(name_or_path={self.name_or_path!r}, vocab_size={self.vocab_size}, "
            f"model_max_length={self.model_max_length}, padding_side={self.padding_side!r}, "
            f"truncation_side={self.truncation_side!r}, special_tokens={self.special_tokens_map})"
        )


def _special_token_property(name: str):
    def get_token(self) -> str | None:
        return self._special_tokens.get(name)

    def set_token(self, value) -> None:
        if value is not None and not isinstance(value, str):
            value = str(value)  # AddedToken-like objects
        self._special_tokens[name] = value

    def get_id(self) -> int | None:
        token = self._special_tokens.get(name)
        return None if token is None else self._token_to_id(token)

    def set_id(self, value) -> None:
        self._special_tokens[name] = None if value is None else self.convert_ids_to_tokens(int(value))

    return (
        property(get_token, set_token, doc=f"The {name.replace('_', ' ')} (str or None); settable."),
        property(get_id, set_id, doc=f"The id of the {name.replace('_', ' ')} (None when unset); settable."),
    )


for _name in SPECIAL_TOKENS_ATTRIBUTES:
    _token_prop, _id_prop = _special_token_property(_name)
    setattr(PreTrainedTokenizerFast, _name, _token_prop)
    setattr(PreTrainedTokenizerFast, _name + "_id", _id_prop)
del _name, _token_prop, _id_prop
