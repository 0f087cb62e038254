"""Data collators: turn a list of dataset examples into one batch of tensors, as transformers 5.24's do.

A collator is what a `torch.utils.data.DataLoader` (or the `Trainer`) calls as `collate_fn` on the examples of
one batch. Each example is a dict (a `datasets` row, a tokenizer output) of token ids and labels:

    >>> collator = DataCollatorWithPadding(tokenizer)                        # doctest: +SKIP
    >>> collator([{"input_ids": [101, 7592, 102], "label": 1}, {"input_ids": [101, 102], "label": 0}])  # doctest: +SKIP
    {'input_ids': tensor([[101, 7592, 102], [101, 102, 0]]), 'attention_mask': ..., 'labels': tensor([1, 0])}

- `default_data_collator`: examples already of equal length; `label` / `label_ids` become `labels`.
- `DataCollatorWithPadding`: pads the token fields with `tokenizer.pad` (sequence classification).
- `DataCollatorForTokenClassification`: pads the per-token `labels` too, with -100 (ignored by the loss).
- `DataCollatorForLanguageModeling`: masked LM (BERT's 80/10/10 masking) or causal LM (labels = inputs).

Every collator returns torch tensors by default and numpy arrays with `return_tensors="np"`. Masking draws
from torch's global RNG (or numpy's, for "np"), in the same order and the same way as transformers, so the
same `torch.manual_seed` gives the same masks; `seed=` gives the collator its own generator instead.
"""

from __future__ import annotations

import multiprocessing
import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

_LABEL_KEYS = ("label", "label_ids")


def _check_return_tensors(return_tensors) -> str:
    name = getattr(return_tensors, "value", return_tensors)  # transformers' TensorType members
    if name not in ("pt", "np"):
        raise ValueError(f"return_tensors must be 'pt' (torch tensors) or 'np' (numpy arrays), got {return_tensors!r}")
    return name


def _is_torch_tensor(value) -> bool:
    return type(value).__module__.startswith("torch") and hasattr(value, "dtype") and hasattr(value, "shape")


def _as_dicts(features, who: str) -> list[Mapping]:
    """The examples as mappings: dicts pass through, dataclass-like objects give their attributes."""
    if isinstance(features, Mapping):
        raise TypeError(
            f"{who} expects a list of examples (one dict per example), got a single {type(features).__name__}; "
            "wrap it in a list."
        )
    try:
        features = list(features)
    except TypeError:
        raise TypeError(f"{who} expects a list of examples, got {type(features).__name__}") from None
    if not features:
        raise ValueError(f"{who} got no examples: a batch needs at least one.")
    if isinstance(features[0], Mapping):
        return features
    try:
        return [vars(f) for f in features]
    except TypeError:
        raise TypeError(
            f"{who} expects each example to be a dict (or an object with attributes), got {type(features[0]).__name__}."
        ) from None


def _column(features: list[Mapping], key: str, who: str) -> list:
    """The values of `key` in every example, with a clear error for an example that lacks it or has None."""
    values = []
    for i, example in enumerate(features):
        if key not in example:
            raise ValueError(
                f"{who}: example {i} has no `{key}` but example 0 has; every example of a batch needs the same fields "
                f"(example {i} has {sorted(example.keys())})."
            )
        if example[key] is None:
            raise ValueError(f"{who}: `{key}` is None in example {i} but not in example 0.")
        values.append(example[key])
    return values


def _stack(key: str, values: list, return_tensors: str, dtype=None):
    """One tensor of a field's values, with transformers' conversions: tensors are stacked, numpy arrays are
    stacked then wrapped, python values go through torch.tensor / np.array (which infer the dtype unless
    `dtype` is given)."""
    first = values[0]
    try:
        if return_tensors == "pt":
            import torch

            if _is_torch_tensor(first):
                stacked = torch.stack(values)
            elif isinstance(first, np.ndarray):
                stacked = torch.from_numpy(np.stack(values))
            else:
                return torch.tensor(values, dtype=dtype)
            return stacked if dtype is None else stacked.to(dtype)
        if isinstance(first, np.ndarray):
            stacked = np.stack(values)
            return stacked if dtype is None else stacked.astype(dtype)
        array = np.array(values, dtype=dtype)
    except (ValueError, TypeError, RuntimeError) as err:
        raise ValueError(
            f"default_data_collator cannot stack `{key}` into one tensor ({err}). Its values must be numbers or "
            "sequences of the same length in every example: pad them first (DataCollatorWithPadding pads token "
            "fields) or drop that field."
        ) from err
    if array.dtype == object:
        raise ValueError(
            f"default_data_collator cannot stack `{key}` into one tensor: its values have different lengths. "
            "Pad them first (DataCollatorWithPadding pads token fields) or drop that field."
        )
    return array


def _scalar(value):
    """A 0-d tensor / array or numpy scalar as a python number (other values unchanged)."""
    return value.item() if hasattr(value, "item") and getattr(value, "ndim", 1) == 0 else value


def default_data_collator(features, return_tensors: str = "pt") -> dict[str, Any]:
    """Stack examples whose fields already have equal lengths into a batch.

    `label` (one number per example) and `label_ids` (a list per example) become `labels`: int64 for integer
    labels, float32 for float labels (regression). A field that is None or a string in the first example is
    dropped (it cannot be a tensor); every other field of the first example must be in all examples.

        >>> batch = default_data_collator([{"input_ids": [1, 2], "label": 0}, {"input_ids": [3, 4], "label": 1}])
        >>> batch["labels"], batch["input_ids"].tolist()
        (tensor([0, 1]), [[1, 2], [3, 4]])
    """
    return_tensors = _check_return_tensors(return_tensors)
    who = "default_data_collator"
    features = _as_dicts(features, who)
    first = features[0]
    batch: dict[str, Any] = {}
    long_type, float_type = _label_dtypes(return_tensors)
    if first.get("label") is not None:
        # One number per example: int64 for class ids, float32 for regression targets.
        labels = [_scalar(v) for v in _column(features, "label", who)]
        dtype = long_type if isinstance(labels[0], (int, np.integer)) else float_type
        batch["labels"] = _stack("label", labels, return_tensors, dtype)
    elif first.get("label_ids") is not None:
        label_ids = _column(features, "label_ids", who)
        native = _is_torch_tensor if return_tensors == "pt" else (lambda v: isinstance(v, np.ndarray))
        if native(label_ids[0]):
            batch["labels"] = _stack("label_ids", label_ids, return_tensors)  # already tensors: keep their dtype
        else:
            integer = len(label_ids[0]) == 0 or isinstance(_scalar(label_ids[0][0]), (int, np.integer))
            batch["labels"] = _stack("label_ids", label_ids, return_tensors, long_type if integer else float_type)
    for key, value in first.items():
        if key in _LABEL_KEYS or value is None or isinstance(value, str):
            continue
        batch[key] = _stack(key, _column(features, key, who), return_tensors)
    return batch


def _label_dtypes(return_tensors: str):
    if return_tensors == "pt":
        import torch

        return torch.long, torch.float
    return np.int64, np.float32


@dataclass
class DefaultDataCollator:
    """`default_data_collator` as an object, with the tensor type chosen once: `DefaultDataCollator("np")(examples)`."""

    return_tensors: str = "pt"

    def __call__(self, features, return_tensors: str | None = None) -> dict[str, Any]:
        return default_data_collator(features, return_tensors or self.return_tensors)


def _rename_labels(batch) -> None:
    for key in _LABEL_KEYS:
        if key in batch:
            batch["labels"] = batch.pop(key)


def _check_tokenizer(tokenizer, who: str) -> None:
    if not callable(getattr(tokenizer, "pad", None)):
        raise TypeError(f"{who} needs a tokenizer with a `pad` method (ferroformers.AutoTokenizer), got {tokenizer!r}")


@dataclass
class DataCollatorWithPadding:
    """Pad examples to the longest one (or `max_length`, rounded up to `pad_to_multiple_of`) with `tokenizer.pad`.

    Token fields (`input_ids`, `attention_mask`, `token_type_ids`, `special_tokens_mask`) are padded on the
    tokenizer's padding side; `label` / `label_ids` become `labels`; other fields are stacked as they are.

        >>> collator = DataCollatorWithPadding(tokenizer, pad_to_multiple_of=8)      # doctest: +SKIP
        >>> batch = collator([tokenizer("a short text"), tokenizer("and a somewhat longer one")])  # doctest: +SKIP
        >>> batch["input_ids"].shape                                                    # doctest: +SKIP
        torch.Size([2, 8])
    """

    tokenizer: Any
    padding: bool | str = True
    max_length: int | None = None
    pad_to_multiple_of: int | None = None
    return_tensors: str = "pt"

    def __post_init__(self):
        _check_tokenizer(self.tokenizer, type(self).__name__)
        _check_return_tensors(self.return_tensors)

    def __call__(self, features) -> dict[str, Any]:
        features = _as_dicts(features, type(self).__name__)
        batch = self.tokenizer.pad(
            features,
            padding=self.padding,
            max_length=self.max_length,
            pad_to_multiple_of=self.pad_to_multiple_of,
            return_tensors=self.return_tensors,
        )
        _rename_labels(batch)
        return batch


@dataclass
class DataCollatorForTokenClassification:
    """Pad examples with `tokenizer.pad` and their per-token labels with `label_pad_token_id` (-100: the loss
    ignores it), on the tokenizer's padding side, so labels stay aligned with their tokens.

        >>> collator = DataCollatorForTokenClassification(tokenizer)                    # doctest: +SKIP
        >>> collator([{"input_ids": [101, 2, 102], "labels": [-100, 3, -100]}, {"input_ids": [101, 102],
        ...           "labels": [-100, -100]}])["labels"]                               # doctest: +SKIP
        tensor([[-100, 3, -100], [-100, -100, -100]])
    """

    tokenizer: Any
    padding: bool | str = True
    max_length: int | None = None
    pad_to_multiple_of: int | None = None
    label_pad_token_id: int = -100
    return_tensors: str = "pt"

    def __post_init__(self):
        _check_tokenizer(self.tokenizer, type(self).__name__)
        _check_return_tensors(self.return_tensors)

    def __call__(self, features, return_tensors: str | None = None) -> dict[str, Any]:
        return_tensors = _check_return_tensors(return_tensors or self.return_tensors)
        who = type(self).__name__
        features = _as_dicts(features, who)
        label_name = "label" if "label" in features[0] else "labels"
        if label_name not in features[0]:
            return self.tokenizer.pad(features, **self._pad_kwargs(return_tensors))
        labels = [_as_list(v) for v in _column(features, label_name, who)]
        main = self.tokenizer.model_input_names[0]
        for i, (example, row) in enumerate(zip(features, labels)):
            if main in example and len(row) != len(example[main]):
                raise ValueError(
                    f"{who}: example {i} has {len(row)} labels for {len(example[main])} tokens in `{main}`; "
                    "token classification needs one label per token (-100 for tokens the loss should ignore)."
                )
        without_labels = [{k: v for k, v in example.items() if k != label_name} for example in features]
        batch = self.tokenizer.pad(without_labels, **self._pad_kwargs(return_tensors))
        length = np.shape(batch[main])[1]
        fill = self.label_pad_token_id
        if self.tokenizer.padding_side == "right":
            padded = [row + [fill] * (length - len(row)) for row in labels]
        else:
            padded = [[fill] * (length - len(row)) + row for row in labels]
        if return_tensors == "pt":
            import torch

            batch[label_name] = torch.tensor(padded, dtype=torch.int64)
        else:
            batch[label_name] = np.array(padded, dtype=np.int64)
        return batch

    def _pad_kwargs(self, return_tensors: str) -> dict:
        return dict(
            padding=self.padding,
            max_length=self.max_length,
            pad_to_multiple_of=self.pad_to_multiple_of,
            return_tensors=return_tensors,
        )


def _as_list(value) -> list:
    return value.tolist() if hasattr(value, "tolist") else list(value)


def _collate_id_sequences(examples: list, tokenizer, pad_to_multiple_of: int | None, return_tensors: str):
    """Stack plain sequences of token ids (not dicts) into a (batch, length) tensor, padding with the
    tokenizer's pad token on its padding side when lengths differ or are not a multiple of `pad_to_multiple_of`."""
    if return_tensors == "pt":
        import torch

        rows = [torch.tensor(e, dtype=torch.long) if not _is_torch_tensor(e) else e for e in examples]
    else:
        rows = [np.asarray(e, dtype=np.int64) if isinstance(e, (list, tuple)) else np.asarray(e) for e in examples]
    if any(len(row.shape) != 1 for row in rows):
        raise ValueError(
            "DataCollatorForLanguageModeling: each example must be one sequence of token ids (a 1-d list, array or "
            f"tensor) or a dict with `input_ids`; got shapes {[tuple(row.shape) for row in rows]}."
        )
    longest = max(row.shape[0] for row in rows)
    if pad_to_multiple_of is not None and longest % pad_to_multiple_of:
        longest = (longest // pad_to_multiple_of + 1) * pad_to_multiple_of
    if all(row.shape[0] == longest for row in rows):
        return torch.stack(rows) if return_tensors == "pt" else np.stack(rows)
    if tokenizer.pad_token is None:
        raise ValueError(
            "You are attempting to pad samples but the tokenizer you are using "
            f"({type(tokenizer).__name__}) does not have a pad token: set one (tokenizer.pad_token = "
            "tokenizer.eos_token, e.g.) or give the collator examples of equal length."
        )
    if return_tensors == "pt":
        batch = rows[0].new_full((len(rows), longest), tokenizer.pad_token_id)
    else:
        batch = np.full((len(rows), longest), tokenizer.pad_token_id, dtype=rows[0].dtype)
    for i, row in enumerate(rows):
        if tokenizer.padding_side == "right":
            batch[i, : row.shape[0]] = row
        else:
            batch[i, longest - row.shape[0] :] = row
    return batch


@dataclass
class DataCollatorForLanguageModeling:
    """Batches for language modeling: padded inputs and the `labels` the model learns to predict.

    - `mlm=True` (masked LM): each token other than special tokens and padding is picked with probability
      `mlm_probability`; a picked token becomes the mask token (`mask_replace_prob`, 80%), a random token
      (`random_replace_prob`, 10%) or stays (the rest). `labels` hold the original id at picked positions and
      -100 elsewhere. `whole_word_mask=True` picks whole words (needs `offset_mapping` in the examples).
    - `mlm=False` (causal LM): `labels` are the input ids with the pad token's positions set to -100 (the model
      shifts them itself).

    Examples are dicts (padded with `tokenizer.pad`) or plain sequences of ids. Draws use torch's global RNG
    (numpy's for `return_tensors="np"`), or a generator of the collator's own seeded with `seed` (plus the
    worker id in DataLoader workers).

        >>> collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.15)  # doctest: +SKIP
        >>> batch = collator([tokenizer(t, return_special_tokens_mask=True) for t in texts])  # doctest: +SKIP
        >>> sorted(batch)                                                                # doctest: +SKIP
        ['attention_mask', 'input_ids', 'labels', 'token_type_ids']
    """

    tokenizer: Any
    mlm: bool = True
    whole_word_mask: bool = False
    mlm_probability: float | None = 0.15
    mask_replace_prob: float = 0.8
    random_replace_prob: float = 0.1
    pad_to_multiple_of: int | None = None
    return_tensors: str = "pt"
    seed: int | None = None
    generator: Any = field(default=None, init=False, repr=False, compare=False)
    _generator_pid: int | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self):
        _check_tokenizer(self.tokenizer, type(self).__name__)
        _check_return_tensors(self.return_tensors)
        if self.mlm:
            if self.tokenizer.mask_token is None:
                raise ValueError(
                    "This tokenizer does not have a mask token which is necessary for masked language modeling. "
                    "You should pass `mlm=False` to train on causal language modeling instead."
                )
            if self.mlm_probability is None or not 0 <= self.mlm_probability <= 1:
                raise ValueError(f"mlm_probability should be between 0 and 1, got {self.mlm_probability!r}.")
            self.mlm_probability = float(self.mlm_probability)
        elif self.whole_word_mask:
            raise ValueError("Whole word masking can only be used with mlm=True; set mlm=True to use it.")
        if self.mask_replace_prob + self.random_replace_prob > 1:
            raise ValueError(
                "The sum of mask_replace_prob and random_replace_prob should not exceed 1 "
                f"(got {self.mask_replace_prob} + {self.random_replace_prob})."
            )
        if not 0 <= self.mask_replace_prob <= 1:
            raise ValueError(f"mask_replace_prob should be between 0 and 1, got {self.mask_replace_prob}.")
        if not 0 <= self.random_replace_prob <= 1:
            raise ValueError(f"random_replace_prob should be between 0 and 1, got {self.random_replace_prob}.")
        if self.whole_word_mask and self.mask_replace_prob < 1:
            # A random token inside a word would need a random word piece: transformers masks whole words only.
            warnings.warn(
                "Random token replacement is not supported with whole word masking. Setting mask_replace_prob to 1.",
                stacklevel=3,
            )
            self.mask_replace_prob, self.random_replace_prob = 1, 0
        self.mask_replace_prob = float(self.mask_replace_prob)
        self.random_replace_prob = float(self.random_replace_prob)

    # -- random numbers ----------------------------------------------------------------------
    def _rng(self, return_tensors: str):
        """The generator draws come from: None (the global RNG) without a seed; else one of our own, made on
        first use in each process (DataLoader workers add their id to the seed so they do not repeat masks)."""
        if self.seed is None:
            return None
        if return_tensors == "pt":
            import torch

            usable = isinstance(self.generator, torch.Generator)
        else:
            usable = isinstance(self.generator, np.random.Generator)
        if not usable or self._generator_pid != os.getpid():
            seed = self.seed
            if multiprocessing.current_process().name != "MainProcess":
                import torch.utils.data

                worker = torch.utils.data.get_worker_info()
                if worker is None:
                    raise ValueError(
                        "DataCollatorForLanguageModeling(seed=...) runs in a child process that is not a PyTorch "
                        "DataLoader worker, so it cannot give each process its own seed. Use it in the main process "
                        "or in DataLoader workers, or leave seed=None."
                    )
                seed += worker.id
            if return_tensors == "pt":
                self.generator = torch.Generator().manual_seed(seed)
            else:
                self.generator = np.random.default_rng(seed)
            self._generator_pid = os.getpid()
        return self.generator

    # -- collation ---------------------------------------------------------------------------
    def __call__(self, examples, return_tensors: str | None = None) -> dict[str, Any]:
        return_tensors = _check_return_tensors(return_tensors or self.return_tensors)
        who = type(self).__name__
        if isinstance(examples, Mapping):
            raise TypeError(
                f"{who} expects a list of examples, got a single {type(examples).__name__}; wrap it in a list."
            )
        examples = list(examples)
        if not examples:
            raise ValueError(f"{who} got no examples: a batch needs at least one.")
        rng = self._rng(return_tensors)
        if isinstance(examples[0], Mapping):
            offsets = None
            if "offset_mapping" in examples[0]:
                offsets = [_as_list(v) for v in _column(examples, "offset_mapping", who)]
                examples = [{k: v for k, v in e.items() if k != "offset_mapping"} for e in examples]
            batch = self.tokenizer.pad(
                examples, return_tensors=return_tensors, pad_to_multiple_of=self.pad_to_multiple_of
            )
            if offsets is not None:
                batch["offset_mapping"] = self._pad_offsets(offsets, np.shape(batch["input_ids"])[1])
        else:
            batch = {
                "input_ids": _collate_id_sequences(examples, self.tokenizer, self.pad_to_multiple_of, return_tensors)
            }
        special_tokens_mask = batch.pop("special_tokens_mask", None)
        offset_mapping = batch.pop("offset_mapping", None)
        if self.mlm:
            mask = self._torch_mask_tokens if return_tensors == "pt" else self._numpy_mask_tokens
            batch["input_ids"], batch["labels"] = mask(batch["input_ids"], special_tokens_mask, offset_mapping, rng)
        else:
            labels = batch["input_ids"].clone() if return_tensors == "pt" else np.copy(batch["input_ids"])
            if self.tokenizer.pad_token_id is not None:
                labels[labels == self.tokenizer.pad_token_id] = -100
            batch["labels"] = labels
        return batch

    def _pad_offsets(self, offsets: list, length: int):
        """Pad (start, end) offsets to the padded length with (0, 0), on the padding side: padding is special, so
        whole-word masking never treats it as a word. (transformers leaves offsets unpadded and so needs
        examples of equal length.)"""
        padded = []
        for row in offsets:
            fill = [[0, 0]] * (length - len(row))
            padded.append(list(row) + fill if self.tokenizer.padding_side == "right" else fill + list(row))
        return np.asarray(padded, dtype=np.int64).reshape(len(offsets), length, 2)

    def _special_tokens_mask(self, input_ids, special_tokens_mask) -> np.ndarray:
        """Which positions are never masked: the given special-tokens mask, else the ids that are special tokens
        (the pad token among them, so padding is never masked)."""
        if special_tokens_mask is None:
            rows = input_ids.tolist()
            return np.array(
                [self.tokenizer.get_special_tokens_mask(row, already_has_special_tokens=True) for row in rows],
                dtype=bool,
            ).reshape(np.shape(input_ids))
        return _to_numpy(special_tokens_mask).astype(bool)

    def _word_ids(self, offset_mapping, special: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Word index of each token (-1 for special tokens) and where a word starts, from character offsets: a
        token starts a word when it does not begin where the previous token ended, or follows a special token."""
        if offset_mapping is None:
            raise ValueError(
                "whole_word_mask=True needs `offset_mapping` in the examples: tokenize with "
                "return_offsets_mapping=True."
            )
        offsets = _to_numpy(offset_mapping)
        starts, ends = offsets[:, :, 0], offsets[:, :, 1]
        previous_end = np.roll(ends, 1, axis=1)
        previous_end[:, 0] = -1
        previous_special = np.roll(special, 1, axis=1)
        previous_special[:, 0] = False
        starts_word = ~special & ((starts != previous_end) | previous_special)
        word_ids = np.cumsum(starts_word, axis=1)
        word_ids[special] = -1
        return word_ids, starts_word

    @staticmethod
    def _spread_to_words(word_ids: np.ndarray, picked) -> np.ndarray:
        """A token is masked when any token of its word was picked."""
        picked = _to_numpy(picked).astype(bool)
        valid = word_ids != -1
        same_word = (word_ids[:, :, None] == word_ids[:, None, :]) & valid[:, :, None] & valid[:, None, :]
        return np.any(same_word & picked[:, None, :], axis=2)

    def _torch_mask_tokens(self, inputs, special_tokens_mask, offset_mapping, rng):
        import torch

        labels = inputs.clone()
        # Draw order and shapes follow transformers, so the same seed gives the same masks.
        probability = torch.full(labels.shape, self.mlm_probability)
        special = self._special_tokens_mask(inputs, special_tokens_mask)
        if self.whole_word_mask:
            word_ids, starts_word = self._word_ids(offset_mapping, special)
            never = torch.from_numpy(~starts_word)  # only word starts are drawn; the rest of the word follows
        else:
            never = torch.from_numpy(special)
        probability.masked_fill_(never, value=0.0)
        picked = torch.bernoulli(probability, generator=rng).bool()
        if self.whole_word_mask:
            picked = torch.from_numpy(self._spread_to_words(word_ids, picked))
        labels[~picked] = -100  # the loss only looks at picked tokens

        to_mask = torch.bernoulli(torch.full(labels.shape, self.mask_replace_prob), generator=rng).bool() & picked
        inputs[to_mask] = self.tokenizer.mask_token_id
        if self.mask_replace_prob == 1 or self.random_replace_prob == 0:
            return inputs, labels
        # Of the picked tokens not masked, the share to randomize: 0.1 / (1 - 0.8) = half of them by default.
        share = self.random_replace_prob / (1 - self.mask_replace_prob)
        to_randomize = torch.bernoulli(torch.full(labels.shape, share), generator=rng).bool() & picked & ~to_mask
        random_ids = torch.randint(len(self.tokenizer), labels.shape, dtype=torch.long, generator=rng)
        inputs[to_randomize] = random_ids[to_randomize]
        return inputs, labels

    def _numpy_mask_tokens(self, inputs, special_tokens_mask, offset_mapping, rng):
        draw = rng if rng is not None else np.random  # numpy has no bernoulli: binomial with one trial
        labels = np.copy(inputs)
        probability = np.full(labels.shape, self.mlm_probability)
        special = self._special_tokens_mask(inputs, special_tokens_mask)
        if self.whole_word_mask:
            word_ids, starts_word = self._word_ids(offset_mapping, special)
            probability[~starts_word] = 0
        else:
            probability[special] = 0
        picked = draw.binomial(1, probability, size=probability.shape).astype(bool)
        if self.whole_word_mask:
            picked = self._spread_to_words(word_ids, picked)
        labels[~picked] = -100

        to_mask = draw.binomial(1, self.mask_replace_prob, size=labels.shape).astype(bool) & picked
        inputs[to_mask] = self.tokenizer.mask_token_id
        if self.mask_replace_prob == 1 or self.random_replace_prob == 0:
            return inputs, labels
        share = self.random_replace_prob / (1 - self.mask_replace_prob)
        to_randomize = draw.binomial(1, share, size=labels.shape).astype(bool) & picked & ~to_mask
        count = np.count_nonzero(to_randomize)
        if rng is not None:
            random_ids = rng.integers(low=0, high=len(self.tokenizer), size=count, dtype=np.int64)
        else:
            random_ids = np.random.randint(low=0, high=len(self.tokenizer), size=count, dtype=np.int64)
        inputs[to_randomize] = random_ids
        return inputs, labels


def _to_numpy(value) -> np.ndarray:
    if isinstance(value, np.ndarray):
        return value
    if hasattr(value, "detach"):
        return value.detach().cpu().numpy()
    return np.asarray(value)
