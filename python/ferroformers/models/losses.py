"""The losses the task heads compute when given labels, with transformers' conventions.

Label value -100 means "ignore this position" for token-level losses. Sequence classification picks
its loss from `config.problem_type`, inferring it (and writing it back to the config, as transformers
does, so a saved fine-tuned model remembers it) when unset: one label -> regression, integer labels ->
single-label cross-entropy, float labels -> multi-label binary cross-entropy.

    >>> import torch
    >>> from ferroformers.models.losses import token_classification_loss
    >>> token_classification_loss(torch.zeros(1, 2, 3), torch.tensor([[0, -100]])).item()  # log(3)
    1.0986...
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

IGNORE_INDEX = -100


def sequence_classification_loss(logits: torch.Tensor, labels: torch.Tensor, config) -> torch.Tensor:
    """logits (B, num_labels); labels (B,) ints, (B,) / (B, num_labels) floats."""
    num_labels = config.num_labels
    if config.problem_type is None:
        if num_labels == 1:
            config.problem_type = "regression"
        elif labels.dtype in (torch.long, torch.int):
            config.problem_type = "single_label_classification"
        else:
            config.problem_type = "multi_label_classification"
    labels = labels.to(logits.device)
    if config.problem_type == "regression":
        if num_labels == 1:
            return F.mse_loss(logits.squeeze(), labels.squeeze().to(logits.dtype))
        return F.mse_loss(logits, labels.to(logits.dtype))
    if config.problem_type == "single_label_classification":
        return F.cross_entropy(logits.view(-1, num_labels), labels.view(-1), ignore_index=IGNORE_INDEX)
    if config.problem_type == "multi_label_classification":
        return F.binary_cross_entropy_with_logits(logits, labels.to(logits.dtype))
    raise ValueError(f"unknown problem_type {config.problem_type!r}")


def token_classification_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over positions whose label is not -100. logits (B, T, N); labels (B, T)."""
    return F.cross_entropy(
        logits.reshape(-1, logits.size(-1)), labels.to(logits.device).reshape(-1), ignore_index=IGNORE_INDEX
    )


# Masked LM: the same per-position cross-entropy over the vocabulary.
masked_lm_loss = token_classification_loss


def causal_lm_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Next-token cross-entropy: position t predicts labels[t + 1]. logits (B, T, V); labels (B, T), -100 ignored.

    Computed in float32 whatever the model dtype, as transformers does, so half-precision losses stay comparable.
    """
    labels = labels.to(logits.device)
    # Shift by padding the labels with one ignored position at the end instead of slicing the logits,
    # which would copy the (B, T, V) tensor.
    shifted = F.pad(labels, (0, 1), value=IGNORE_INDEX)[..., 1:]  # (B, T)
    return F.cross_entropy(logits.float().reshape(-1, logits.size(-1)), shifted.reshape(-1), ignore_index=IGNORE_INDEX)


def question_answering_loss(
    start_logits: torch.Tensor, end_logits: torch.Tensor, start_positions: torch.Tensor, end_positions: torch.Tensor
) -> torch.Tensor:
    """Mean of the start and end cross-entropies. logits (B, T); positions (B,) or (B, 1).

    Positions outside the sequence (answers truncated away) are clamped to T and ignored.
    """
    if start_positions.dim() > 1:
        start_positions = start_positions.squeeze(-1)
    if end_positions.dim() > 1:
        end_positions = end_positions.squeeze(-1)
    ignored = start_logits.size(1)
    start_positions = start_positions.to(start_logits.device).clamp(0, ignored)
    end_positions = end_positions.to(end_logits.device).clamp(0, ignored)
    start_loss = F.cross_entropy(start_logits, start_positions, ignore_index=ignored)
    end_loss = F.cross_entropy(end_logits, end_positions, ignore_index=ignored)
    return (start_loss + end_loss) / 2


__all__ = [
    "IGNORE_INDEX",
    "sequence_classification_loss",
    "token_classification_loss",
    "masked_lm_loss",
    "causal_lm_loss",
    "question_answering_loss",
]
