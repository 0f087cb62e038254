"""The one place that imports the Rust tokenizer backend."""

from __future__ import annotations

from .._core import AddedToken, Encoding, Tokenizer

__all__ = ["AddedToken", "Encoding", "Tokenizer"]
