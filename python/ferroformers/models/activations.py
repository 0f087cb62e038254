"""Activation functions by the names configs use (`hidden_act`, `activation_function`, `activation`).

>>> import torch
>>> get_activation("gelu")(torch.zeros(1)).item()
0.0
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import torch
import torch.nn.functional as F

_ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "gelu": F.gelu,  # the exact, erf-based GELU (BERT)
    # The tanh approximation: GPT-2's "gelu_new" and its later names.
    "gelu_new": partial(F.gelu, approximate="tanh"),
    "gelu_pytorch_tanh": partial(F.gelu, approximate="tanh"),
    "gelu_fast": partial(F.gelu, approximate="tanh"),
    "relu": F.relu,
    "silu": F.silu,
    "swish": F.silu,
    "tanh": torch.tanh,
}


def get_activation(name: str) -> Callable[[torch.Tensor], torch.Tensor]:
    """The function for an activation name; an unknown name raises ValueError listing the known ones."""
    try:
        return _ACTIVATIONS[name]
    except KeyError:
        raise ValueError(f"unknown activation {name!r}; supported: {', '.join(sorted(_ACTIVATIONS))}") from None


__all__ = ["get_activation"]
