"""What models return: small dataclasses that also behave like the tuples older code expects.

Every field defaults to None; fields a forward pass did not compute (no labels, so no `loss`) stay
None and are skipped by the tuple view, as in transformers:

    >>> import torch
    >>> out = SequenceClassifierOutput(logits=torch.zeros(2, 3))
    >>> out[0] is out.logits is out["logits"]        # no loss, so logits comes first
    True
    >>> list(out.keys())
    ['logits']
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields
from typing import Any, Optional

import torch

# `Optional[...]` rather than `X | None`: dataclass annotations are evaluated by tools that run on Python 3.9.
Tensor = Optional[torch.Tensor]
Tensors = Optional[tuple[torch.Tensor, ...]]


@dataclass
class ModelOutput:
    """Base of the output classes: attribute access, `out["name"]`, and `out[i]` / iteration over the fields
    that are set, in declaration order (`to_tuple()`)."""

    def to_tuple(self) -> tuple[Any, ...]:
        return tuple(v for v in (getattr(self, f.name) for f in fields(self)) if v is not None)

    def keys(self) -> list[str]:
        return [f.name for f in fields(self) if getattr(self, f.name) is not None]

    def values(self) -> list[Any]:
        return list(self.to_tuple())

    def items(self) -> list[tuple[str, Any]]:
        return [(k, getattr(self, k)) for k in self.keys()]

    def get(self, key: str, default: Any = None) -> Any:
        value = getattr(self, key, None) if isinstance(key, str) else None
        return default if value is None else value

    def __getitem__(self, key: int | slice | str) -> Any:
        if isinstance(key, str):
            # Like transformers' dict view: only fields that are set can be looked up by name.
            if key not in self.keys():
                raise KeyError(f"{type(self).__name__} has no field {key!r} set (set fields: {self.keys()})")
            return getattr(self, key)
        return self.to_tuple()[key]

    def __contains__(self, key: object) -> bool:
        return key in self.keys()

    def __iter__(self) -> Iterator[Any]:
        return iter(self.to_tuple())

    def __len__(self) -> int:
        return len(self.to_tuple())


@dataclass
class BaseModelOutput(ModelOutput):
    last_hidden_state: Tensor = None  # (B, T, C)
    hidden_states: Tensors = None  # embeddings output, then one per layer: each (B, T, C)
    attentions: Tensors = None  # one per layer: (B, nh, T, T)


@dataclass
class BaseModelOutputWithPooling(ModelOutput):
    last_hidden_state: Tensor = None  # (B, T, C)
    pooler_output: Tensor = None  # (B, C)
    hidden_states: Tensors = None
    attentions: Tensors = None


@dataclass
class BaseModelOutputWithPast(ModelOutput):
    last_hidden_state: Tensor = None  # (B, T, C)
    past_key_values: Any = None  # the KV cache after this step
    hidden_states: Tensors = None
    attentions: Tensors = None


@dataclass
class CausalLMOutputWithPast(ModelOutput):
    loss: Tensor = None  # ()
    logits: Tensor = None  # (B, T, V)
    past_key_values: Any = None
    hidden_states: Tensors = None
    attentions: Tensors = None


@dataclass
class MaskedLMOutput(ModelOutput):
    loss: Tensor = None
    logits: Tensor = None  # (B, T, V)
    hidden_states: Tensors = None
    attentions: Tensors = None


@dataclass
class SequenceClassifierOutput(ModelOutput):
    loss: Tensor = None
    logits: Tensor = None  # (B, num_labels)
    hidden_states: Tensors = None
    attentions: Tensors = None


@dataclass
class SequenceClassifierOutputWithPast(ModelOutput):
    loss: Tensor = None
    logits: Tensor = None  # (B, num_labels)
    past_key_values: Any = None
    hidden_states: Tensors = None
    attentions: Tensors = None


@dataclass
class TokenClassifierOutput(ModelOutput):
    loss: Tensor = None
    logits: Tensor = None  # (B, T, num_labels)
    hidden_states: Tensors = None
    attentions: Tensors = None


@dataclass
class QuestionAnsweringModelOutput(ModelOutput):
    loss: Tensor = None
    start_logits: Tensor = None  # (B, T)
    end_logits: Tensor = None  # (B, T)
    hidden_states: Tensors = None
    attentions: Tensors = None


@dataclass
class ImageClassifierOutput(ModelOutput):
    loss: Tensor = None
    logits: Tensor = None  # (B, num_labels)
    hidden_states: Tensors = None  # embeddings output, then one per layer
    attentions: Tensors = None


@dataclass
class SemanticSegmenterOutput(ModelOutput):
    loss: Tensor = None
    logits: Tensor = None  # (B, num_labels, H / 4, W / 4): a score per class per pixel of the coarsest map
    hidden_states: Tensors = None  # one per encoder stage: (B, C_i, H_i, W_i)
    attentions: Tensors = None


@dataclass
class Wav2Vec2BaseModelOutput(ModelOutput):
    last_hidden_state: Tensor = None  # (B, T_frames, C)
    extract_features: Tensor = None  # (B, T_frames, conv_dim[-1]): the convolutional features, normalized
    hidden_states: Tensors = None
    attentions: Tensors = None


__all__ = [
    "ModelOutput",
    "BaseModelOutput",
    "BaseModelOutputWithPooling",
    "BaseModelOutputWithPast",
    "CausalLMOutputWithPast",
    "MaskedLMOutput",
    "SequenceClassifierOutput",
    "SequenceClassifierOutputWithPast",
    "TokenClassifierOutput",
    "QuestionAnsweringModelOutput",
    "ImageClassifierOutput",
    "SemanticSegmenterOutput",
    "Wav2Vec2BaseModelOutput",
]
