"""`tokenizer.pad(...)`: pad already-encoded inputs, with transformers' `PreTrainedTokenizerBase.pad` semantics.

Data collators call it on a list of features (dicts of token ids from a dataset or from earlier tokenizer
calls). Only the fields a tokenizer knows how to pad are padded: the main input (`input_ids`) with the pad
token, `attention_mask` with 0 (created as all ones when missing and the model takes one),
`token_type_ids` with the pad type id and `special_tokens_mask` with 1 (padding is special). Other fields
(labels, ids) pass through unchanged, so a per-token field of ragged rows fails at tensor conversion, as
in transformers.

    >>> tok.pad([{"input_ids": [5, 6, 7]}, {"input_ids": [8]}], return_tensors="pt")   # doctest: +SKIP
    {'input_ids': tensor([[5, 6, 7], [8, 0, 0]]), 'attention_mask': tensor([[1, 1, 1], [1, 0, 0]])}
"""

from __future__ import annotations

from collections.abc import Mapping, Sized

from .batch_encoding import BatchEncoding, check_tensor_type


def _columns(encoded_inputs) -> dict:
    """A dict of fields from one encoding (a mapping) or a batch (a mapping of lists, or a list of mappings)."""
    if isinstance(encoded_inputs, Mapping):
        return dict(encoded_inputs)
    if isinstance(encoded_inputs, (list, tuple)):
        if not encoded_inputs:
            raise ValueError(
                "tokenizer.pad got an empty list: pass at least one encoded example (a dict of token ids)."
            )
        if not isinstance(encoded_inputs[0], Mapping):
            raise TypeError(
                "tokenizer.pad expects a dict of token-id lists, or a list of such dicts (one per example); got a "
                f"list of {type(encoded_inputs[0]).__name__}."
            )
        keys = list(encoded_inputs[0].keys())
        for i, example in enumerate(encoded_inputs):
            if not isinstance(example, Mapping):
                raise TypeError(f"tokenizer.pad: example {i} is a {type(example).__name__}, not a dict like example 0.")
            if set(example.keys()) != set(keys):
                missing = sorted(set(keys) - set(example.keys()))
                extra = sorted(set(example.keys()) - set(keys))
                raise ValueError(
                    f"tokenizer.pad: example {i} has other fields than example 0 (missing {missing}, extra {extra}); "
                    "every example of a batch must have the same fields."
                )
        return {key: [example[key] for example in encoded_inputs] for key in keys}
    raise TypeError(
        "tokenizer.pad expects a BatchEncoding, a dict of token-id lists, or a list of such dicts; "
        f"got {type(encoded_inputs).__name__}."
    )


def _tensor_kind(value) -> str | None:
    """'pt' or 'np' when a field holds torch tensors or numpy arrays (transformers then returns the same kind)."""
    import numpy as np

    if isinstance(value, np.ndarray):
        return "np"
    if type(value).__module__.startswith("torch"):
        return "pt"
    return None


def _first_token(rows):
    """The first element of the main field, looking past empty rows: tells lists of ids from tensors."""
    first = rows[0]
    if isinstance(first, (list, tuple)):
        for row in rows:
            if len(row) != 0:
                return row[0]
    return first


def _to_python(value):
    """Tensors and arrays (also inside lists) become python lists; numpy scalars become python numbers."""
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if hasattr(value, "tolist") and _tensor_kind(value) is not None:
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [_to_python(v) for v in value]
    return value


def _pad_one(
    tokenizer, example: dict, max_length: int | None, strategy: str, pad_to_multiple_of, padding_side, return_mask
):
    """Pad one example's fields to `max_length` (rounded up to `pad_to_multiple_of`) on `padding_side`."""
    main = tokenizer.model_input_names[0]
    ids = list(example[main])
    if strategy == "longest":
        max_length = len(ids)
    if max_length is not None and pad_to_multiple_of is not None and max_length % pad_to_multiple_of:
        max_length = (max_length // pad_to_multiple_of + 1) * pad_to_multiple_of
    if return_mask and "attention_mask" not in example:
        example["attention_mask"] = [1] * len(ids)
    missing = 0 if strategy == "do_not_pad" or max_length is None else max(0, max_length - len(ids))
    if not missing:
        return example
    fills = {main: tokenizer.pad_token_id, "token_type_ids": tokenizer.pad_token_type_id, "special_tokens_mask": 1}
    if return_mask:
        fills["attention_mask"] = 0
    side = padding_side or tokenizer.padding_side
    for key, fill in fills.items():
        if key not in example:
            continue
        row = list(example[key])
        if len(row) != len(ids):
            raise ValueError(
                f"tokenizer.pad: `{key}` has {len(row)} values but `{main}` has {len(ids)} in the same example; "
                "per-token fields must be as long as the token ids."
            )
        example[key] = row + [fill] * missing if side == "right" else [fill] * missing + row
    return example


def pad_encoded_inputs(
    tokenizer,
    encoded_inputs,
    *,
    padding=True,
    max_length: int | None = None,
    pad_to_multiple_of: int | None = None,
    padding_side: str | None = None,
    return_attention_mask: bool | None = None,
    return_tensors=None,
    verbose: bool = True,
) -> BatchEncoding:
    """See `PreTrainedTokenizerFast.pad`."""
    return_tensors = check_tensor_type(return_tensors)
    if padding_side is not None and padding_side not in ("left", "right"):
        raise ValueError(f"padding_side must be 'left' or 'right', got {padding_side!r}")
    if pad_to_multiple_of is not None and (not isinstance(pad_to_multiple_of, int) or pad_to_multiple_of < 1):
        raise ValueError(f"pad_to_multiple_of must be a positive int or None, got {pad_to_multiple_of!r}")
    columns = _columns(encoded_inputs)
    main = tokenizer.model_input_names[0]
    if main not in columns:
        raise ValueError(
            f"You should supply an encoding or a list of encodings to this method that includes {main}, "
            f"but you provided {list(columns.keys())}"
        )
    if return_attention_mask is None:
        return_attention_mask = "attention_mask" in tokenizer.model_input_names
    rows = columns[main]
    if rows is None or (isinstance(rows, Sized) and len(rows) == 0):
        if return_attention_mask:
            columns["attention_mask"] = []
        return BatchEncoding(columns)

    if not isinstance(rows, (list, tuple)) or not isinstance(_first_token(rows), (int, list, tuple)):
        # Tensors or arrays in: padding works on python lists, and the result is the same kind of tensor
        kind = _tensor_kind(rows) or _tensor_kind(_first_token(rows))
        if kind is None and not hasattr(_first_token(rows), "__index__"):
            first = _first_token(rows)
            raise TypeError(
                f"tokenizer.pad: `{main}` holds {type(first).__name__} values; token ids must be ints, "
                "lists of ints, numpy arrays or torch tensors."
            )
        return_tensors = return_tensors or kind
        columns = {key: _to_python(value) for key, value in columns.items()}
        rows = columns[main]

    padding_strategy, _, max_length = tokenizer._strategies(padding, None, max_length, None, verbose)

    if not isinstance(rows[0], (list, tuple)):  # one example, not a batch
        padded = _pad_one(
            tokenizer, columns, max_length, padding_strategy, pad_to_multiple_of, padding_side, return_attention_mask
        )
        return BatchEncoding(padded, tensor_type=return_tensors)

    batch_size = len(rows)
    uneven = {
        key: len(value) if isinstance(value, Sized) else type(value).__name__
        for key, value in columns.items()
        if not isinstance(value, Sized) or len(value) != batch_size
    }
    if uneven:
        raise ValueError(
            f"tokenizer.pad: `{main}` has {batch_size} examples but {uneven} (field: length) do not; every field "
            "must have one value per example."
        )
    if padding_strategy == "longest":
        max_length = max(len(row) for row in rows)
        padding_strategy = "max_length"
    out: dict[str, list] = {}
    for i in range(batch_size):
        example = {key: value[i] for key, value in columns.items()}
        padded = _pad_one(
            tokenizer, example, max_length, padding_strategy, pad_to_multiple_of, padding_side, return_attention_mask
        )
        for key, value in padded.items():
            out.setdefault(key, []).append(value)
    return BatchEncoding(out, tensor_type=return_tensors)
