"""Model configurations: `PretrainedConfig`, the base of every architecture's config class.

A config is a bag of attributes read from and written to `config.json` in the format transformers
uses, so a folder saved by one library loads in the other. The base class holds the fields every
model shares (labels, special token ids, output switches, `dtype`); an architecture's subclass adds
its own with their defaults (`BertConfig` lives in `bert.py`). Keys a class does not know are kept
as attributes and written back, as transformers does.

    >>> from ferroformers.models.bert import BertConfig
    >>> config = BertConfig(hidden_size=64, num_labels=3)
    >>> config.id2label
    {0: 'LABEL_0', 1: 'LABEL_1', 2: 'LABEL_2'}
    >>> BertConfig.from_dict(config.to_dict()).hidden_size
    64
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any, ClassVar

from ..errors import ModelFileError, UnsupportedModelError

CONFIG_NAME = "config.json"

_PROBLEM_TYPES = ("regression", "single_label_classification", "multi_label_classification")

# Keys transformers writes that describe the file rather than the model; not kept as attributes.
_NOT_ATTRIBUTES = ("model_type", "transformers_version", "_commit_hash", "_name_or_path", "name_or_path")


class PretrainedConfig:
    """Common fields of every model configuration, with transformers' names and defaults.

    Subclasses set `model_type`, declare their own fields in `__init__` and pass the rest on:

        class TinyConfig(PretrainedConfig):
            model_type = "tiny"

            def __init__(self, hidden_size=64, pad_token_id=0, **kwargs):
                self.hidden_size = hidden_size
                super().__init__(pad_token_id=pad_token_id, **kwargs)

    `attribute_map` gives aliases (`{"hidden_size": "n_embd"}` lets GPT-2 answer `config.hidden_size`).
    """

    model_type: ClassVar[str] = ""
    attribute_map: ClassVar[dict[str, str]] = {}

    def __init__(
        self,
        *,
        num_labels: int | None = None,
        id2label: dict[int, str] | dict[str, str] | None = None,
        label2id: dict[str, int] | None = None,
        problem_type: str | None = None,
        pad_token_id: int | None = None,
        bos_token_id: int | None = None,
        eos_token_id: int | list[int] | None = None,
        tie_word_embeddings: bool = True,
        architectures: list[str] | None = None,
        dtype: Any = None,
        output_hidden_states: bool = False,
        output_attentions: bool = False,
        return_dict: bool = True,
        is_encoder_decoder: bool = False,
        chunk_size_feed_forward: int = 0,
        **kwargs: Any,
    ) -> None:
        # Legacy spelling, still in most configs on the Hub; `dtype` wins when both are given.
        torch_dtype = kwargs.pop("torch_dtype", None)
        if dtype is None:
            dtype = torch_dtype
        self.name_or_path = str(kwargs.pop("name_or_path", kwargs.pop("_name_or_path", "")))
        for key in _NOT_ATTRIBUTES:
            kwargs.pop(key, None)

        self.architectures = list(architectures) if architectures is not None else None
        self.dtype = _dtype_from_any(dtype)
        self.output_hidden_states = output_hidden_states
        self.output_attentions = output_attentions
        self.return_dict = return_dict
        self.is_encoder_decoder = is_encoder_decoder
        self.chunk_size_feed_forward = chunk_size_feed_forward
        self.pad_token_id = pad_token_id
        self.bos_token_id = bos_token_id
        self.eos_token_id = eos_token_id
        self.tie_word_embeddings = tie_word_embeddings

        # id2label is the source of truth; num_labels only builds a default map (LABEL_0, ...), 2 labels if
        # nothing is given, as transformers does (older configs omit id2label for the default of 2).
        if id2label is not None:
            id2label = {int(k): v for k, v in id2label.items()}  # JSON object keys are strings
            if num_labels is not None and num_labels != len(id2label):
                raise ValueError(f"num_labels={num_labels} does not match id2label, which has {len(id2label)} labels")
            self.id2label = id2label
            if label2id is None:
                label2id = {v: k for k, v in id2label.items()}
            self.label2id = {k: int(v) for k, v in label2id.items()}
        else:
            self.id2label, self.label2id = {}, {}
            self.num_labels = 2 if num_labels is None else num_labels
            if label2id is not None:
                self.label2id = {k: int(v) for k, v in label2id.items()}
        if problem_type is not None and problem_type not in _PROBLEM_TYPES:
            raise ValueError(f"problem_type must be one of {', '.join(_PROBLEM_TYPES)} or None, got {problem_type!r}")
        if problem_type == "single_label_classification" and self.num_labels == 1:
            raise ValueError(
                'problem_type="single_label_classification" needs num_labels > 1: use num_labels=2 for binary '
                'classification, or problem_type="regression" for one output'
            )
        self.problem_type = problem_type

        # Unknown keys are kept (and saved again): configs carry fields of other versions and tools.
        for key, value in kwargs.items():
            setattr(self, key, value)

    # --- aliases and derived fields -------------------------------------------------------------------------

    def __setattr__(self, key: str, value: Any) -> None:
        key = type(self).attribute_map.get(key, key)
        super().__setattr__(key, value)

    def __getattr__(self, key: str) -> Any:
        # Only called when normal lookup failed: try the alias, else a plain AttributeError.
        target = type(self).attribute_map.get(key)
        if target is not None and target != key:
            return getattr(self, target)
        raise AttributeError(f"{type(self).__name__} has no attribute {key!r}")

    @property
    def num_labels(self) -> int:
        """How many labels a classification head predicts: the size of `id2label`."""
        return len(self.id2label)

    @num_labels.setter
    def num_labels(self, num_labels: int) -> None:
        num_labels = int(num_labels)
        if num_labels < 0:
            raise ValueError(f"num_labels must be >= 0, got {num_labels}")
        if len(self.id2label) != num_labels:
            self.id2label = {i: f"LABEL_{i}" for i in range(num_labels)}
            self.label2id = {v: k for k, v in self.id2label.items()}

    @property
    def use_return_dict(self) -> bool:
        return bool(self.return_dict)

    @property
    def torch_dtype(self):
        """Legacy name of `dtype`."""
        return self.dtype

    @torch_dtype.setter
    def torch_dtype(self, value) -> None:
        self.dtype = _dtype_from_any(value)

    # --- (de)serialisation ----------------------------------------------------------------------------------

    @classmethod
    def from_dict(cls, config_dict: dict[str, Any], **kwargs: Any) -> PretrainedConfig:
        """Build a config from a `config.json` dict; `kwargs` override its keys (`num_labels=5`)."""
        config_dict = dict(config_dict)
        num_labels = kwargs.pop("num_labels", None)
        if num_labels is not None and "id2label" not in kwargs:
            # An explicit num_labels replaces the checkpoint's label map, as transformers does.
            if len(config_dict.get("id2label") or {}) != num_labels:
                config_dict.pop("id2label", None)
                config_dict.pop("label2id", None)
            config_dict["num_labels"] = num_labels
        if "id2label" in kwargs and "label2id" not in kwargs:
            config_dict.pop("label2id", None)  # the checkpoint's would contradict the new labels
        config_dict.update(kwargs)
        model_type = config_dict.get("model_type")
        if cls.model_type and model_type and model_type != cls.model_type:
            # transformers only warns here; loading BERT weights into a GPT-2 config is never what was meant.
            raise UnsupportedModelError(
                f"config.json has model_type {model_type!r}, but {cls.__name__} is for {cls.model_type!r}: "
                f"use AutoConfig / the Auto model classes, or the matching config class"
            )
        return cls(**config_dict)

    @classmethod
    def from_json_file(cls, path: str | os.PathLike, **kwargs: Any) -> PretrainedConfig:
        return cls.from_dict(read_config_dict(path), **kwargs)

    @classmethod
    def from_pretrained(
        cls,
        name_or_path: str | os.PathLike,
        *,
        revision: str | None = None,
        cache_dir: str | os.PathLike | None = None,
        local_files_only: bool = False,
        token: str | bool | None = None,
        **kwargs: Any,
    ) -> PretrainedConfig:
        """Read `config.json` from a folder, a file path, or a Hub repository id (through the hub cache)."""
        path = find_config_file(
            name_or_path, revision=revision, cache_dir=cache_dir, local_files_only=local_files_only, token=token
        )
        config = cls.from_json_file(path, **kwargs)
        config.name_or_path = str(name_or_path)
        return config

    def to_dict(self) -> dict[str, Any]:
        """Every field, defaults included, in `config.json` form (`dtype` as a string, label ids as ints)."""
        out = {k: copy.deepcopy(v) for k, v in self.__dict__.items() if not k.startswith("_") and k != "name_or_path"}
        out["model_type"] = type(self).model_type
        if self.dtype is not None:
            out["dtype"] = str(self.dtype).removeprefix("torch.")
        return out

    def to_json_string(self) -> str:
        # Sorted keys and 2-space indent: the layout transformers writes, so diffs between the two stay small.
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"

    def save_pretrained(self, save_directory: str | os.PathLike) -> Path:
        """Write `config.json` into `save_directory` (created if needed); returns the file's path."""
        folder = Path(save_directory)
        if folder.is_file():
            raise ValueError(f"save_pretrained needs a directory, but {str(folder)!r} is a file")
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / CONFIG_NAME
        path.write_text(self.to_json_string(), encoding="utf-8")
        return path

    def update(self, values: dict[str, Any]) -> None:
        for key, value in values.items():
            setattr(self, key, value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PretrainedConfig) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        return f"{type(self).__name__} {self.to_json_string()}"


def _dtype_from_any(value: Any):
    """`"float32"`, `"torch.float32"` or a `torch.dtype` -> `torch.dtype`; None and "auto" pass through."""
    if value is None or value == "auto":
        return value
    import torch

    if isinstance(value, torch.dtype):
        return value
    name = str(value).removeprefix("torch.")
    dtype = getattr(torch, name, None)
    if not isinstance(dtype, torch.dtype):
        raise ValueError(f"{value!r} is not a torch dtype name (float32, bfloat16, float16, ...)")
    return dtype


def read_config_dict(path: str | os.PathLike) -> dict[str, Any]:
    """Parse a `config.json`; a malformed file raises `ModelFileError` naming it."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except json.JSONDecodeError as err:
        raise ModelFileError(f"{str(path)!r} is not valid JSON: {err}") from None
    if not isinstance(data, dict):
        raise ModelFileError(f"{str(path)!r} must hold a JSON object, found {type(data).__name__}")
    return data


def find_config_file(
    name_or_path: str | os.PathLike,
    *,
    revision: str | None = None,
    cache_dir: str | os.PathLike | None = None,
    local_files_only: bool = False,
    token: str | bool | None = None,
) -> Path:
    """The path of `config.json` for a folder, a direct file path or a Hub id."""
    from ..hub import resolve_files

    direct = Path(name_or_path).expanduser()
    if direct.is_file():
        return direct
    found = resolve_files(
        name_or_path,
        [CONFIG_NAME],
        revision=revision,
        cache_dir=cache_dir,
        local_files_only=local_files_only,
        token=token,
        what="model",
    )
    if CONFIG_NAME not in found:
        raise ModelFileError(f"{str(name_or_path)!r} has no {CONFIG_NAME}: it is needed to know which model to build")
    return found[CONFIG_NAME]


__all__ = ["PretrainedConfig", "CONFIG_NAME", "read_config_dict", "find_config_file"]
