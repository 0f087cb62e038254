"""Data utilities for training: the data collators that batch dataset examples (transformers' names).

>>> from ferroformers.data import DataCollatorWithPadding        # doctest: +SKIP
"""

from __future__ import annotations

from .data_collator import (
    DataCollatorForLanguageModeling,
    DataCollatorForTokenClassification,
    DataCollatorWithPadding,
    DefaultDataCollator,
    default_data_collator,
)

__all__ = [
    "DataCollatorForLanguageModeling",
    "DataCollatorForTokenClassification",
    "DataCollatorWithPadding",
    "DefaultDataCollator",
    "default_data_collator",
]
