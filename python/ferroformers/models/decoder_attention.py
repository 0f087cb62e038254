"""Causal self-attention shared by the decoder models (GPT-2, Llama, Mistral, Qwen2): the mask and the kernel.

``causal_mask`` turns a 2-D padding mask ``(B, T_past + T)`` (1 = real token, 0 = padding) into a boolean
``(B, 1, T, T_past + T)`` mask, True where a query may look, optionally limited to a sliding window. It
follows transformers' semantics exactly: a query at absolute position ``i`` sees key ``j`` when
``j <= i``, ``j > i - window`` and key ``j`` is not padding. When nothing is masked beyond plain
causality it returns ``None``, and ``attend`` asks SDPA for ``is_causal`` instead.

``attend`` runs ``torch.nn.functional.scaled_dot_product_attention``, or an explicit softmax when the
attention probabilities are asked for (``output_attentions``). Rows with nothing to attend to (a left
padding query) come out as zeros from SDPA and as a uniform average from the explicit path, as in
transformers' ``sdpa`` and ``eager`` implementations; never NaN.

Example:
    >>> mask = causal_mask(attention_mask, batch_size=2, q_len=5, past_len=0)
    >>> out, probs = attend(q, k, v, mask, scaling=hs**-0.5)        # (B, T, nh, hs), None
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def causal_mask(
    attention_mask: torch.Tensor | None,
    batch_size: int,
    q_len: int,
    past_len: int,
    sliding_window: int | None = None,
    device: torch.device | None = None,
) -> torch.Tensor | None:
    """Boolean mask (B, 1, T, T_past + T), True where attention is allowed; None when plain causal is exact."""
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
    """(B, n_kv, S, hs) -> (B, n_kv * n_rep, S, hs): each key/value head serves ``n_rep`` query heads (GQA)."""
    if n_rep == 1:
        return x
    b, n_kv, s, hs = x.shape
    return x[:, :, None].expand(b, n_kv, n_rep, s, hs).reshape(b, n_kv * n_rep, s, hs)


def attend(
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    mask: torch.Tensor | None,
    scaling: float,
    dropout: float = 0.0,
    output_attentions: bool = False,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Attention of ``query`` (B, nh, T, hs) over ``key``/``value`` (B, n_kv, S, hs).

    ``mask`` comes from ``causal_mask`` (None = plain causal). Returns the output (B, T, nh, hs) and,
    when ``output_attentions``, the probabilities (B, nh, T, S).
    """
    n_rep = query.shape[1] // key.shape[1]
    key, value = repeat_kv(key, n_rep), repeat_kv(value, n_rep)  # (B, nh, S, hs)
    q_len, kv_len = query.shape[-2], key.shape[-2]

    if not output_attentions:
        out = F.scaled_dot_product_attention(
            query, key, value, attn_mask=mask, dropout_p=dropout, is_causal=mask is None and q_len > 1, scale=scaling
        )  # (B, nh, T, hs)
        return out.transpose(1, 2), None

    scores = torch.matmul(query, key.transpose(-1, -2)) * scaling  # (B, nh, T, S)
    if mask is None and q_len > 1:
        mask = torch.ones(q_len, kv_len, dtype=torch.bool, device=query.device).tril(kv_len - q_len)
    if mask is not None:
        # The dtype's minimum, not -inf: a row with nothing to attend to softmaxes to a uniform row, not NaN.
        scores = scores.masked_fill(~mask, torch.finfo(scores.dtype).min)
    probs = F.softmax(scores, dim=-1, dtype=torch.float32).to(query.dtype)
    out = torch.matmul(F.dropout(probs, p=dropout), value)  # (B, nh, T, hs)
    return out.transpose(1, 2), probs
