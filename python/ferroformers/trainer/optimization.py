"""Optimizer parameter groups and learning-rate schedules, as transformers names them.

    >>> scheduler = get_scheduler("linear", optimizer, num_warmup_steps=10, num_training_steps=100)  # doctest: +SKIP

Every schedule is a `LambdaLR` over a module-level function (a `functools.partial`), so its state saves
and loads with the optimizer's and a resumed run continues on the same curve.
"""

from __future__ import annotations

import functools
import math
import re
from typing import Any

import torch
from torch import nn
from torch.optim.lr_scheduler import LambdaLR

# Parameters that are not decayed: biases and normalization weights (decay would pull them towards 0,
# which for a norm's scale means towards switching the layer off).
_NO_DECAY_NAMES = [
    re.compile(p) for p in (r"bias", r"layernorm", r"rmsnorm", r"(?:^|\.)norm(?:$|\.)", r"_norm(?:$|\.)")
]


def _is_norm_module(module: nn.Module) -> bool:
    return isinstance(module, (nn.LayerNorm, nn.GroupNorm)) or type(module).__name__.endswith("RMSNorm")


def decay_parameter_names(model: nn.Module) -> list[str]:
    """Names of the parameters weight decay applies to: all but biases and normalization weights."""
    inside_norm = {
        f"{module_name}.{param_name}" if module_name else param_name
        for module_name, module in model.named_modules()
        if _is_norm_module(module)
        for param_name, _ in module.named_parameters(recurse=False)
    }
    return [
        name
        for name, _ in model.named_parameters()
        if name not in inside_norm and not any(p.search(name.lower()) for p in _NO_DECAY_NAMES)
    ]


def parameter_groups(model: nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    """Two optimizer groups: decayed parameters with `weight_decay`, the others with none (frozen ones left out)."""
    decay = set(decay_parameter_names(model))
    trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    return [
        {"params": [p for n, p in trainable if n in decay], "weight_decay": weight_decay},
        {"params": [p for n, p in trainable if n not in decay], "weight_decay": 0.0},
    ]


# -- schedules: each maps an optimizer step to a multiplier of the base learning rate -------------------------
def _constant(step: int) -> float:
    return 1.0


def _constant_with_warmup(step: int, *, num_warmup_steps: int) -> float:
    return step / max(1, num_warmup_steps) if step < num_warmup_steps else 1.0


def _linear(step: int, *, num_warmup_steps: int, num_training_steps: int) -> float:
    if step < num_warmup_steps:
        return step / max(1, num_warmup_steps)
    return max(0.0, (num_training_steps - step) / max(1, num_training_steps - num_warmup_steps))


def _cosine(step: int, *, num_warmup_steps: int, num_training_steps: int, num_cycles: float) -> float:
    if step < num_warmup_steps:
        return step / max(1, num_warmup_steps)
    progress = (step - num_warmup_steps) / max(1, num_training_steps - num_warmup_steps)
    return max(0.0, 0.5 * (1.0 + math.cos(math.pi * num_cycles * 2.0 * progress)))


def _cosine_with_restarts(step: int, *, num_warmup_steps: int, num_training_steps: int, num_cycles: int) -> float:
    if step < num_warmup_steps:
        return step / max(1, num_warmup_steps)
    progress = (step - num_warmup_steps) / max(1, num_training_steps - num_warmup_steps)
    if progress >= 1.0:
        return 0.0
    return max(0.0, 0.5 * (1.0 + math.cos(math.pi * ((num_cycles * progress) % 1.0))))


def _polynomial(
    step: int, *, num_warmup_steps: int, num_training_steps: int, lr_end: float, power: float, lr_init: float
) -> float:
    if step < num_warmup_steps:
        return step / max(1, num_warmup_steps)
    if step > num_training_steps:
        return lr_end / lr_init
    remaining = 1 - (step - num_warmup_steps) / max(1, num_training_steps - num_warmup_steps)
    return ((lr_init - lr_end) * remaining**power + lr_end) / lr_init


def get_scheduler(
    name: str,
    optimizer: torch.optim.Optimizer,
    num_warmup_steps: int | None = None,
    num_training_steps: int | None = None,
    scheduler_specific_kwargs: dict | None = None,
) -> LambdaLR:
    """The schedule `name` (linear, cosine, cosine_with_restarts, polynomial, constant, constant_with_warmup)
    over `num_training_steps` optimizer steps, rising linearly for the first `num_warmup_steps`."""
    name = str(getattr(name, "value", name))
    extra = dict(scheduler_specific_kwargs or {})
    if name == "constant":
        return LambdaLR(optimizer, _constant)
    if num_warmup_steps is None:
        raise ValueError(f"the {name!r} schedule needs num_warmup_steps")
    if name == "constant_with_warmup":
        return LambdaLR(optimizer, functools.partial(_constant_with_warmup, num_warmup_steps=num_warmup_steps))
    if num_training_steps is None:
        raise ValueError(f"the {name!r} schedule needs num_training_steps")
    steps = {"num_warmup_steps": num_warmup_steps, "num_training_steps": num_training_steps}
    if name == "linear":
        schedule = functools.partial(_linear, **steps)
    elif name == "cosine":
        schedule = functools.partial(_cosine, num_cycles=extra.get("num_cycles", 0.5), **steps)
    elif name == "cosine_with_restarts":
        schedule = functools.partial(_cosine_with_restarts, num_cycles=extra.get("num_cycles", 1), **steps)
    elif name == "polynomial":
        lr_init = optimizer.defaults["lr"]
        lr_end = extra.get("lr_end", 1e-7)
        if lr_end > lr_init:
            raise ValueError(f"polynomial schedule: lr_end ({lr_end}) must not exceed the learning rate ({lr_init})")
        schedule = functools.partial(
            _polynomial, lr_end=lr_end, power=extra.get("power", 1.0), lr_init=lr_init, **steps
        )
    else:
        raise ValueError(
            f"unknown schedule {name!r}: use linear, cosine, cosine_with_restarts, polynomial, constant or "
            "constant_with_warmup"
        )
    return LambdaLR(optimizer, schedule)
