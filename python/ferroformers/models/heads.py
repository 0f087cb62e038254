"""Pooling shared by the decoder models' sequence-classification heads (GPT-2, Llama, Mistral, Qwen2).

``last_token_index`` finds the rightmost non-padding position of each row (left or right padding alike)
from ``input_ids`` and ``pad_token_id``, as transformers does; the head scores that position.

Example:
    >>> last = last_token_index(input_ids, config.pad_token_id, batch_size)    # (B,)
    >>> pooled = logits[torch.arange(batch_size), last]                          # (B, num_labels)
"""

from __future__ import annotations

import torch


def last_token_index(input_ids: torch.Tensor | None, pad_token_id: int | None, batch_size: int) -> torch.Tensor | int:
    """Index of the last non-padding token in each row of ``input_ids`` (B, T), or -1 when padding is unknown."""
    if pad_token_id is None:
        if batch_size != 1:
            raise ValueError("sequence classification of a batch needs config.pad_token_id to find each row's end")
        return -1
    if input_ids is None:
        # Padding cannot be seen in inputs_embeds: like transformers, take the last position.
        return -1
    not_pad = (input_ids != pad_token_id).to(torch.int32)
    positions = torch.arange(input_ids.shape[-1], device=input_ids.device, dtype=torch.int32)
    return (positions * not_pad).argmax(-1)  # (B,)
