"""Text generation: `GenerationConfig`, the `generate()` loop (`GenerationMixin`), streamers, `set_seed`.

The loop runs the model in Python (one forward per step, with the KV cache) and leaves the token choice to
the Rust sampler `ferroformers._core.Generator`. Importing this package imports torch.

    >>> from ferroformers.generation import GenerationConfig, TextStreamer
"""

from .configuration import GenerationConfig
from .streamers import BaseStreamer, TextIteratorStreamer, TextStreamer
from .utils import GenerateOutput, GenerationMixin, set_seed

__all__ = [
    "BaseStreamer",
    "GenerateOutput",
    "GenerationConfig",
    "GenerationMixin",
    "TextIteratorStreamer",
    "TextStreamer",
    "set_seed",
]
