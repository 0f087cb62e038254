"""Tokenizers: the low-level `Tokenizer` (drop-in for `tokenizers.Tokenizer`, implemented in Rust)
and the transformers-compatible layer on top (`AutoTokenizer`, `PreTrainedTokenizerFast`, `BatchEncoding`)."""

from __future__ import annotations

from .auto import AutoTokenizer
from .backend import AddedToken, Encoding, Tokenizer
from .batch_encoding import BatchEncoding
from .tokenizer import PreTrainedTokenizerFast

__all__ = ["AddedToken", "AutoTokenizer", "BatchEncoding", "Encoding", "PreTrainedTokenizerFast", "Tokenizer"]
