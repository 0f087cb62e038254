"""Pooling and losses shared by the decoder models' task heads (GPT-2, Llama, Mistral, Qwen2).

- ``last_token_index``: the rightmost non-padding position per row, which sequence classification
  pools (left or right padding alike), found from ``input_ids`` and ``pad_token_id`` as transformers does.
- ``causal_lm_loss``: next-token cross-entropy; ``labels`` are the inputs, shifted here, -100 ignored.
- ``sequence_classification_loss``: MSE, cross-entropy or BCE-with-logits, chosen by ``config.problem_type``
  or, when that is unset, inferred as transformers does (one label: regression; integer labels:
  single-label; otherwise multi-label).

Example:
    >>> loss = causal_lm_loss(logits, labels=input_ids)      # logits (B, T, V)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


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


def causal_lm_loss(logits: torch.Tensor, labels: torch.Tensor, ignore_index: int = -100) -> torch.Tensor:
    """Mean cross-entropy of ``logits`` (B, T, V) at position t against ``labels`` (B, T) at t + 1."""
    shifted = F.pad(labels, (0, 1), value=ignore_index)[..., 1:]  # (B, T): the last position predicts nothing
    return F.cross_entropy(
        logits.float().reshape(-1, logits.shape[-1]), shifted.reshape(-1).to(logits.device), ignore_index=ignore_index
    )


def sequence_classification_loss(pooled_logits: torch.Tensor, labels: torch.Tensor, config) -> torch.Tensor:
    """Loss of ``pooled_logits`` (B, num_labels) for ``labels``, by ``config.problem_type`` (inferred if unset)."""
    num_labels = config.num_labels
    problem_type = config.problem_type
    if problem_type is None:
        if num_labels == 1:
            problem_type = "regression"
        elif labels.dtype in (torch.long, torch.int):
            problem_type = "single_label_classification"
        else:
            problem_type = "multi_label_classification"
    labels = labels.to(pooled_logits.device)
    if problem_type == "regression":
        if num_labels == 1:
            return F.mse_loss(pooled_logits.squeeze(), labels.squeeze())
        return F.mse_loss(pooled_logits, labels)
    if problem_type == "single_label_classification":
        return F.cross_entropy(pooled_logits.view(-1, num_labels), labels.view(-1))
    if problem_type == "multi_label_classification":
        return F.binary_cross_entropy_with_logits(pooled_logits, labels)
    raise ValueError(
        f"unknown problem_type {problem_type!r}: expected 'regression', 'single_label_classification' "
        "or 'multi_label_classification'"
    )
