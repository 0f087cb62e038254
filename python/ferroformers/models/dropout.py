"""Dropout whose mask comes from the Rust core: the same inverted dropout as `torch.nn.Dropout`, faster on CPU.

torch fills a CPU dropout mask from its generator one element after another (`bernoulli_`), which
takes about 15% of a small BERT's training step. Here the mask is filled in parallel by
`ferroformers._core.fill_dropout_mask` from a seed, and the seed is one draw from torch's global CPU
generator: `torch.manual_seed` (and the Trainer's saved RNG state) still make training reproducible,
and the mask does not depend on the number of threads. The masks differ from torch's (another
generator), so a model in training mode gives other numbers than transformers' under the same seed,
with the same distribution.

The fast path covers float32 CPU tensors in training mode with 0 < p < 1; everything else (eval mode,
p = 0 or 1, CUDA, other dtypes such as bf16 under autocast, torch.compile) is
`torch.nn.functional.dropout` unchanged.

    >>> import torch
    >>> x = torch.ones(2, 4)
    >>> y = dropout(x, p=0.5, training=True)
    >>> sorted(set(y.flatten().tolist())) in ([0.0, 2.0], [0.0], [2.0])
    True
    >>> dropout(x, p=0.5, training=False) is x
    True
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .. import _core

try:
    from torch.compiler import is_compiling
except ImportError:  # torch < 2.3 has no public check; a compiled graph then breaks at the seed's .item()

    def is_compiling() -> bool:
        return False


# Seeds are drawn in [0, 2**63 - 1): the widest range torch.randint gives for int64.
_SEED_BOUND = 2**63 - 1


def uses_rust_mask(x: torch.Tensor, p: float, training: bool) -> bool:
    """Whether `dropout(x, p, training)` takes the Rust-mask path (float32 CPU, training, 0 < p < 1)."""
    return (
        training
        and 0.0 < p < 1.0
        and x.dtype == torch.float32
        and x.device.type == "cpu"
        and not is_compiling()  # a graph would break on the seed's .item()
    )


def dropout_mask(shape: torch.Size | tuple[int, ...], p: float) -> torch.Tensor:
    """A float32 CPU mask of `shape`: each element 1 / (1 - p) with probability 1 - p, else 0.

    Seeded by one draw from torch's default CPU generator, so `torch.manual_seed` reproduces it.
    """
    seed = int(torch.randint(0, _SEED_BOUND, (), dtype=torch.int64))
    # torch allocates (its allocator reuses freed blocks; a fresh allocation would page-fault) and
    # Rust fills the same memory through the numpy view.
    mask = torch.empty(shape, dtype=torch.float32)
    _core.fill_dropout_mask(mask.numpy(), p, seed)
    return mask


def dropout(x: torch.Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> torch.Tensor:
    """`torch.nn.functional.dropout` with the mask from the Rust core on float32 CPU tensors.

    Autograd keeps the mask (the other factor of the product), so the gradient is `grad * mask`.
    """
    if not uses_rust_mask(x, p, training):
        return F.dropout(x, p=p, training=training, inplace=inplace)
    mask = dropout_mask(x.shape, p)
    return x.mul_(mask) if inplace else x * mask


class Dropout(nn.Dropout):
    """`torch.nn.Dropout` (same arguments, no parameters, same state dict) using `dropout` above."""

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return dropout(input, self.p, self.training, self.inplace)


__all__ = ["Dropout", "dropout", "dropout_mask", "uses_rust_mask"]
