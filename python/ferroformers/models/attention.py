"""Attention shared by every architecture: masks, grouped key/value heads, and
`torch.nn.functional.scaled_dot_product_attention` (written out when training on float32 CPU tensors, see `attend`).

Two kinds of masks, each matching what transformers does for that family to the last bit:

- encoders (BERT, DistilBERT, RoBERTa): `padding_mask` gives an additive float (B, 1, 1, Tk) mask,
  0 where a query may look and the dtype's most negative value where it may not;
- decoders (GPT-2, Llama, Mistral, Qwen2): `causal_mask` gives a boolean (B, 1, Tq, Tk) mask, True where
  a query may look (causal, optional sliding window, never a padded key), or None when plain causality
  is exact, so `attend(..., causal=True)` can ask SDPA for its `is_causal` kernel.

`attend` takes either kind. A row with nothing to attend to (a left-padding query) never gives NaN.

    >>> import torch
    >>> mask = padding_mask(torch.tensor([[1, 1, 0]]), torch.float32)
    >>> mask.shape, bool(mask[0, 0, 0, 2] < -1e30)
    (torch.Size([1, 1, 1, 3]), True)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .dropout import dropout as fast_dropout
from .dropout import uses_rust_mask


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
    batch_size: int,
    q_len: int,
    past_len: int,
    sliding_window: int | None = None,
    device: torch.device | None = None,
) -> torch.Tensor | None:
    """Boolean mask (B, 1, T, T_past + T), True where attention is allowed; None when plain causal is exact.

    A query at absolute position i sees key j when j <= i, j > i - sliding_window, and key j is not padding.
    `attention_mask` is (B, T_past + T): it covers the cached keys too.
    """
    kv_len = past_len + q_len
    padding = None
    if attention_mask is not None:
        if attention_mask.dim() != 2 or attention_mask.shape[-1] != kv_len:
            raise ValueError(
                f"attention_mask must have shape (batch, past + new tokens) = ({batch_size}, {kv_len}), "
                f"got {tuple(attention_mask.shape)}"
            )
        padding = attention_mask.to(device=device, dtype=torch.bool)
        if bool(padding.all()):
            padding = None
    window_bites = sliding_window is not None and kv_len > sliding_window
    if padding is None and not window_bites and (q_len == 1 or past_len == 0):
        return None

    q_pos = torch.arange(past_len, kv_len, device=device)[:, None]  # (T, 1) absolute positions
    kv_pos = torch.arange(kv_len, device=device)[None, :]  # (1, S)
    allowed = kv_pos <= q_pos
    if sliding_window is not None:
        allowed = allowed & (kv_pos > q_pos - sliding_window)
    allowed = allowed[None, None]  # (1, 1, T, S)
    if padding is not None:
        allowed = allowed & padding[:, None, None, :]  # (B, 1, T, S)
    return allowed.expand(batch_size, 1, q_len, kv_len)


def repeat_kv(x: torch.Tensor, n_rep: int) -> torch.Tensor:
    """(B, n_kv, S, hs) -> (B, n_kv * n_rep, S, hs): each key/value head serves `n_rep` query heads (GQA)."""
    if n_rep == 1:
        return x
    b, n_kv, s, hs = x.shape
    return x[:, :, None].expand(b, n_kv, n_rep, s, hs).reshape(b, n_kv * n_rep, s, hs)


def attend(
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    mask: torch.Tensor | None,
    *,
    scale: float | None = None,
    dropout: float = 0.0,
    need_weights: bool = False,
    causal: bool = False,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Attention of (B, nh, Tq, hs) queries over (B, n_kv, Tk, hs) keys/values -> ((B, nh, Tq, hs), weights).

    `mask` is additive (float) or boolean (True = may look); `causal=True` with `mask=None` means plain
    causal attention. SDPA computes no weights, so when they are asked for (`output_attentions=True`)
    the same product is written out: the weights returned are the ones that produced the output.
    `dropout` (the probability, 0 in eval mode) drops attention weights; on float32 CPU tensors the
    product is written out too, with the mask from `ferroformers.models.dropout`.
    """
    n_rep = query.shape[1] // key.shape[1]
    key, value = repeat_kv(key, n_rep), repeat_kv(value, n_rep)  # (B, nh, Tk, hs)
    q_len, kv_len = query.shape[-2], key.shape[-2]
    plain_causal = causal and mask is None and q_len > 1
    # With dropout on float32 CPU tensors the product is written out below so the weights' mask comes
    # from the Rust core: SDPA's CPU training path with dropout is this same product with torch's
    # serial mask, and the written-out one is faster (measured at (16, 12, 128, 32), forward + backward).
    if not need_weights and not uses_rust_mask(query, dropout, training=True):
        out = F.scaled_dot_product_attention(
            query, key, value, attn_mask=mask, dropout_p=dropout, is_causal=plain_causal, scale=scale
        )
        return out, None
    scale = query.size(-1) ** -0.5 if scale is None else scale
    scores = torch.matmul(query, key.transpose(-2, -1)) * scale  # (B, nh, Tq, Tk)
    if plain_causal:
        mask = torch.ones(q_len, kv_len, dtype=torch.bool, device=query.device).tril(kv_len - q_len)
    if mask is not None and mask.dtype == torch.bool:
        # The dtype's minimum, not -inf: a row with nothing to attend to softmaxes to a uniform row, not NaN.
        scores = scores.masked_fill(~mask, torch.finfo(scores.dtype).min)
    elif mask is not None:
        scores = scores + mask
    weights = torch.softmax(scores, dim=-1, dtype=torch.float32).to(query.dtype)
    weights = fast_dropout(weights, p=dropout, training=dropout > 0)
    return torch.matmul(weights, value), weights if need_weights else None


__all__ = ["padding_mask", "causal_mask", "repeat_kv", "attend"]
