"""The key/value cache the decoder models (GPT-2, Llama, Mistral, Qwen2) fill while generating.

One ``DynamicCache`` holds, per layer, the keys and values of every position seen so far, shaped
``(B, n_kv_heads, T_past, head_dim)`` and grown along the sequence axis. The models also accept the
legacy format (a tuple with one ``(key, value)`` pair per layer) and turn it into a ``DynamicCache``.

Example:
    >>> cache = DynamicCache()
    >>> out = model(input_ids, past_key_values=cache, use_cache=True)       # prefill
    >>> out = model(next_ids, past_key_values=out.past_key_values, use_cache=True)  # one step
    >>> cache.get_seq_length()
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import torch

LegacyCache = Sequence[tuple[torch.Tensor, torch.Tensor]]


class DynamicCache:
    """Keys and values per layer, concatenated along the sequence axis as decoding goes on."""

    def __init__(self) -> None:
        self.keys: list[torch.Tensor] = []
        self.values: list[torch.Tensor] = []

    def update(self, layer_idx: int, key: torch.Tensor, value: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Append ``key``/``value`` (B, n_kv, T_new, hs) to layer ``layer_idx``; return all keys and values of it."""
        if layer_idx < len(self.keys):
            self.keys[layer_idx] = torch.cat([self.keys[layer_idx], key], dim=-2)
            self.values[layer_idx] = torch.cat([self.values[layer_idx], value], dim=-2)
        elif layer_idx == len(self.keys):
            self.keys.append(key)
            self.values.append(value)
        else:
            raise ValueError(f"cache layers must be filled in order: got layer {layer_idx}, have {len(self.keys)}")
        return self.keys[layer_idx], self.values[layer_idx]

    def get_seq_length(self, layer_idx: int = 0) -> int:
        """How many positions layer ``layer_idx`` holds (0 for an empty cache)."""
        return self.keys[layer_idx].shape[-2] if layer_idx < len(self.keys) else 0

    def reorder_cache(self, beam_idx: torch.LongTensor) -> None:
        """Keep the batch rows ``beam_idx`` (in that order) in every layer: beam search picks its survivors so."""
        for i in range(len(self.keys)):
            self.keys[i] = self.keys[i].index_select(0, beam_idx.to(self.keys[i].device))
            self.values[i] = self.values[i].index_select(0, beam_idx.to(self.values[i].device))

    def crop(self, max_length: int) -> None:
        """Forget every position from ``max_length`` on (assisted decoding rolls rejected tokens back so)."""
        self.keys = [k[..., :max_length, :] for k in self.keys]
        self.values = [v[..., :max_length, :] for v in self.values]

    def to_legacy_cache(self) -> tuple[tuple[torch.Tensor, torch.Tensor], ...]:
        return tuple(zip(self.keys, self.values))

    @classmethod
    def from_legacy_cache(cls, past: LegacyCache | None) -> DynamicCache:
        cache = cls()
        for layer_idx, (key, value) in enumerate(past or ()):
            cache.update(layer_idx, key, value)
        return cache

    def __len__(self) -> int:
        return len(self.keys)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        return iter(zip(self.keys, self.values))

    def __getitem__(self, layer_idx: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.keys[layer_idx], self.values[layer_idx]


def as_cache(past_key_values: DynamicCache | LegacyCache | None, use_cache: bool) -> DynamicCache | None:
    """The cache a forward pass writes to: the one given, one built from a legacy tuple, or a new one."""
    if past_key_values is None:
        return DynamicCache() if use_cache else None
    if isinstance(past_key_values, DynamicCache):
        return past_key_values
    if isinstance(past_key_values, (tuple, list)):
        return DynamicCache.from_legacy_cache(past_key_values)
    raise TypeError(
        f"past_key_values must be a DynamicCache or a tuple of (key, value) per layer, got {type(past_key_values)}"
    )
