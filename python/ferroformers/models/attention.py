"""Attention shared by every architecture: masks, and `torch.nn.functional.scaled_dot_product_attention`.

Masks are additive float tensors broadcastable to (B, nh, Tq, Tk): 0 where a query may look, the
dtype's most negative value where it may not. Additive masks (not -inf) keep a fully masked row
finite, and give the same softmax as transformers' masks to the last bit.

    >>> import torch
    >>> mask = padding_mask(torch.tensor([[1, 1, 0]]), torch.float32)
    >>> mask.shape, bool(mask[0, 0, 0, 2] < -1e30)
    (torch.Size([1, 1, 1, 3]), True)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def padding_mask(attention_mask: torch.Tensor | None, dtype: torch.dtype) -> torch.Tensor | None:
    """(B, Tk) of 1 (token) / 0 (padding) -> additive (B, 1, 1, Tk); None when nothing is masked.

    Returning None for an all-ones mask lets SDPA pick its fastest kernel.
    """
    if attention_mask is None or bool(attention_mask.all()):
        return None
    keep = attention_mask[:, None, None, :].to(torch.bool)  # (B, 1, 1, Tk)
    return torch.zeros(keep.shape, dtype=dtype, device=attention_mask.device).masked_fill(~keep, torch.finfo(dtype).min)


def causal_mask(
    attention_mask: torch.Tensor | None,
    query_length: int,
    key_length: int,
    dtype: torch.dtype,
    device: torch.device,
    sliding_window: int | None = None,
) -> torch.Tensor:
    """Additive (B or 1, 1, Tq, Tk) mask for decoders: query i (at absolute position Tk - Tq + i) sees keys
    j <= its position, within `sliding_window` positions when given, and never a padded key.

    `attention_mask` is (B, Tk), covering the cached keys too.
    """
    offset = key_length - query_length  # the number of cached positions before these queries
    q = torch.arange(query_length, device=device)[:, None] + offset  # (Tq, 1)
    k = torch.arange(key_length, device=device)[None, :]  # (1, Tk)
    allowed = k <= q  # (Tq, Tk)
    if sliding_window is not None:
        allowed = allowed & (q - k < sliding_window)
    allowed = allowed[None, None]  # (1, 1, Tq, Tk)
    if attention_mask is not None:
        allowed = allowed & attention_mask[:, None, None, :].to(device=device, dtype=torch.bool)
    return torch.zeros(allowed.shape, dtype=dtype, device=device).masked_fill(~allowed, torch.finfo(dtype).min)


def attend(
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    mask: torch.Tensor | None,
    *,
    dropout: float = 0.0,
    scale: float | None = None,
    need_weights: bool = False,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Attention of (B, nh, Tq, hs) queries over (B, nh, Tk, hs) keys/values -> ((B, nh, Tq, hs), weights).

    SDPA computes no weights, so when they are asked for (`output_attentions=True`) the same product is
    written out: the weights returned are the ones that produced the output.
    """
    if not need_weights:
        out = F.scaled_dot_product_attention(query, key, value, attn_mask=mask, dropout_p=dropout, scale=scale)
        return out, None
    scale = query.size(-1) ** -0.5 if scale is None else scale
    scores = torch.matmul(query, key.transpose(-2, -1)) * scale  # (B, nh, Tq, Tk)
    if mask is not None:
        scores = scores + mask
    weights = torch.softmax(scores, dim=-1, dtype=torch.float32).to(query.dtype)
    weights = F.dropout(weights, p=dropout, training=dropout > 0)
    return torch.matmul(weights, value), weights


__all__ = ["padding_mask", "causal_mask", "attend"]
