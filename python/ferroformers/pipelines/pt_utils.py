"""Views of a dataset as pipeline inputs, named as transformers names them
(`from transformers.pipelines.pt_utils import KeyDataset`).

    >>> from ferroformers.pipelines import KeyDataset                  # doctest: +SKIP
    >>> for result in classifier(KeyDataset(dataset, "text"), batch_size=32):   # doctest: +SKIP
    ...     print(result)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


class KeyDataset:
    """The column `key` of a dataset of records (`datasets.Dataset`, a list of dicts, any indexable):
    `KeyDataset(ds, "text")[i] == ds[i]["text"]`. A pipeline called on it yields results lazily."""

    def __init__(self, dataset: Any, key: str) -> None:
        self.dataset = dataset
        self.key = key

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> Any:
        record = self.dataset[index]
        try:
            return record[self.key]
        except (KeyError, TypeError, IndexError):
            raise KeyError(f"record {index} of the dataset has no field {self.key!r}") from None

    def __iter__(self) -> Iterator[Any]:
        for index in range(len(self)):
            yield self[index]


class KeyPairDataset(KeyDataset):
    """Two columns of a dataset as text pairs: `{"text": ds[i][key1], "text_pair": ds[i][key2]}`."""

    def __init__(self, dataset: Any, key1: str, key2: str) -> None:
        super().__init__(dataset, key1)
        self.key2 = key2

    def __getitem__(self, index: int) -> dict[str, Any]:
        record = self.dataset[index]
        try:
            return {"text": record[self.key], "text_pair": record[self.key2]}
        except (KeyError, TypeError, IndexError):
            raise KeyError(f"record {index} of the dataset lacks field {self.key!r} or {self.key2!r}") from None
