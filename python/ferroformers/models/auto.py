"""Auto classes: pick the config and model class from a checkpoint's `config.json`.

`MODEL_REGISTRY` maps each `model_type` (the key transformers writes into config.json) to the module
implementing it and its class for each task. Modules are imported on first use, so listing an
architecture costs nothing until it is loaded; adding one is one entry here.

    >>> from ferroformers import AutoConfig, AutoModelForSequenceClassification
    >>> config = AutoConfig.for_model("bert", hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
    ...                               intermediate_size=37, vocab_size=99, num_labels=3)
    >>> type(AutoModelForSequenceClassification.from_config(config)).__name__
    'BertForSequenceClassification'
"""

from __future__ import annotations

import importlib
import os
from typing import Any

from ..errors import UnsupportedModelError
from .configuration import PretrainedConfig, find_config_file, read_config_dict

CONFIG = "config"
BASE = "base"
CAUSAL_LM = "causal_lm"
MASKED_LM = "masked_lm"
SEQUENCE_CLASSIFICATION = "sequence_classification"
TOKEN_CLASSIFICATION = "token_classification"
QUESTION_ANSWERING = "question_answering"
IMAGE_CLASSIFICATION = "image_classification"
SEMANTIC_SEGMENTATION = "semantic_segmentation"
AUDIO_CLASSIFICATION = "audio_classification"


def _encoder(module: str, prefix: str) -> tuple[str, dict[str, str]]:
    """The classes of an encoder architecture, named as transformers names them (`BertForMaskedLM`, ...)."""
    return module, {
        CONFIG: f"{prefix}Config",
        BASE: f"{prefix}Model",
        MASKED_LM: f"{prefix}ForMaskedLM",
        SEQUENCE_CLASSIFICATION: f"{prefix}ForSequenceClassification",
        TOKEN_CLASSIFICATION: f"{prefix}ForTokenClassification",
        QUESTION_ANSWERING: f"{prefix}ForQuestionAnswering",
    }


def _decoder(module: str, prefix: str) -> tuple[str, dict[str, str]]:
    return module, {
        CONFIG: f"{prefix}Config",
        BASE: f"{prefix}Model",
        CAUSAL_LM: f"{prefix}ForCausalLM",
        SEQUENCE_CLASSIFICATION: f"{prefix}ForSequenceClassification",
    }


# model_type -> (module, {task: class name})
MODEL_REGISTRY: dict[str, tuple[str, dict[str, str]]] = {
    "bert": _encoder("ferroformers.models.bert", "Bert"),
    "distilbert": _encoder("ferroformers.models.distilbert", "DistilBert"),
    "roberta": _encoder("ferroformers.models.roberta", "Roberta"),
    "gpt2": (
        "ferroformers.models.gpt2",
        {
            CONFIG: "GPT2Config",
            BASE: "GPT2Model",
            CAUSAL_LM: "GPT2LMHeadModel",
            SEQUENCE_CLASSIFICATION: "GPT2ForSequenceClassification",
        },
    ),
    "llama": _decoder("ferroformers.models.llama", "Llama"),
    "mistral": _decoder("ferroformers.models.llama", "Mistral"),
    "qwen2": _decoder("ferroformers.models.llama", "Qwen2"),
    "vit": (
        "ferroformers.models.vit",
        {CONFIG: "ViTConfig", BASE: "ViTModel", IMAGE_CLASSIFICATION: "ViTForImageClassification"},
    ),
    "segformer": (
        "ferroformers.models.segformer",
        {CONFIG: "SegformerConfig", BASE: "SegformerModel", SEMANTIC_SEGMENTATION: "SegformerForSemanticSegmentation"},
    ),
    "wav2vec2": (
        "ferroformers.models.wav2vec2",
        {
            CONFIG: "Wav2Vec2Config",
            BASE: "Wav2Vec2Model",
            # transformers' audio classifier is a sequence classifier over frames: both Auto classes find it
            AUDIO_CLASSIFICATION: "Wav2Vec2ForSequenceClassification",
            SEQUENCE_CLASSIFICATION: "Wav2Vec2ForSequenceClassification",
        },
    ),
}


def register(model_type: str, module: str, classes: dict[str, str]) -> None:
    """Add (or replace) an architecture: `register("tiny", "my_pkg.tiny", {"config": "TinyConfig", "base": ...})`."""
    if CONFIG not in classes:
        raise ValueError("register() needs at least the config class: classes={'config': 'MyConfig', ...}")
    MODEL_REGISTRY[model_type] = (module, dict(classes))


def supported_model_types(task: str | None = None) -> list[str]:
    return sorted(t for t, (_, classes) in MODEL_REGISTRY.items() if task is None or task in classes)


def _lookup(model_type: str, task: str, who: str) -> type:
    if model_type not in MODEL_REGISTRY:
        raise UnsupportedModelError(
            f"Unknown model_type {model_type!r}: ferroformers supports {', '.join(supported_model_types())}"
        )
    module, classes = MODEL_REGISTRY[model_type]
    if task not in classes:
        raise UnsupportedModelError(
            f"{who} does not support model_type {model_type!r}; it supports {', '.join(supported_model_types(task))}"
        )
    return getattr(importlib.import_module(module), classes[task])


def _model_type_of(config_dict: dict[str, Any], source: str) -> str:
    """config.json's model_type; for configs without one, the architecture class names tell."""
    if config_dict.get("model_type"):
        return config_dict["model_type"]
    for arch in config_dict.get("architectures") or []:
        for model_type, (_, classes) in MODEL_REGISTRY.items():
            if arch in classes.values():
                return model_type
    raise UnsupportedModelError(
        f"The config.json of {source!r} has no model_type (nor an architecture ferroformers knows): "
        f"ferroformers supports {', '.join(supported_model_types())}"
    )


_HUB_KEYS = ("revision", "cache_dir", "local_files_only", "token")


def _refuse_remote_code(kwargs: dict[str, Any]) -> None:
    if kwargs.pop("trust_remote_code", False):
        from .modeling_utils import _REMOTE_CODE_REFUSED

        raise UnsupportedModelError(_REMOTE_CODE_REFUSED)


class AutoConfig:
    """The config class of a checkpoint, chosen by its `model_type`."""

    def __init__(self) -> None:
        raise TypeError("AutoConfig is not instantiated: use AutoConfig.from_pretrained() or AutoConfig.for_model()")

    @staticmethod
    def for_model(model_type: str, /, **kwargs: Any) -> PretrainedConfig:
        """A config of `model_type` with the given fields (defaults for the rest)."""
        return _lookup(model_type, CONFIG, "AutoConfig")(**kwargs)

    @staticmethod
    def from_pretrained(name_or_path: str | os.PathLike, **kwargs: Any) -> PretrainedConfig:
        _refuse_remote_code(kwargs)
        hub = {k: kwargs.pop(k) for k in _HUB_KEYS if k in kwargs}
        path = find_config_file(name_or_path, **hub)
        config_dict = read_config_dict(path)
        config_cls = _lookup(_model_type_of(config_dict, str(name_or_path)), CONFIG, "AutoConfig")
        config = config_cls.from_dict(config_dict, **kwargs)
        config.name_or_path = str(name_or_path)
        return config


class _AutoModel:
    """Shared by the AutoModelFor* classes: each names its task."""

    _task: str = BASE

    def __init__(self) -> None:
        raise TypeError(f"{type(self).__name__} is not instantiated: use .from_pretrained() or .from_config()")

    @classmethod
    def model_class(cls, model_type: str) -> type:
        """The class this Auto class builds for `model_type` (`AutoModel.model_class("bert")` -> BertModel)."""
        return _lookup(model_type, cls._task, cls.__name__)

    @classmethod
    def from_config(cls, config: PretrainedConfig, **kwargs: Any):
        """A randomly initialised model of the class matching `config`."""
        return cls.model_class(type(config).model_type).from_config(config, **kwargs)

    @classmethod
    def from_pretrained(cls, name_or_path: str | os.PathLike, *args: Any, **kwargs: Any):
        """Load the model class for the checkpoint's model_type; keyword arguments as
        `PreTrainedModel.from_pretrained` (num_labels=, dtype=, device=, revision=, ...)."""
        if args:
            raise TypeError(f"{cls.__name__}.from_pretrained takes the name or path, then keyword arguments only")
        _refuse_remote_code(kwargs)
        config = kwargs.get("config")
        if config is not None:
            model_type = type(config).model_type
        else:
            hub = {k: kwargs[k] for k in _HUB_KEYS if k in kwargs}
            config_dict = read_config_dict(find_config_file(name_or_path, **hub))
            model_type = _model_type_of(config_dict, str(name_or_path))
        return cls.model_class(model_type).from_pretrained(name_or_path, **kwargs)


class AutoModel(_AutoModel):
    """The base model (hidden states, no head)."""

    _task = BASE


class AutoModelForCausalLM(_AutoModel):
    _task = CAUSAL_LM


class AutoModelForMaskedLM(_AutoModel):
    _task = MASKED_LM


class AutoModelForSequenceClassification(_AutoModel):
    _task = SEQUENCE_CLASSIFICATION


class AutoModelForTokenClassification(_AutoModel):
    _task = TOKEN_CLASSIFICATION


class AutoModelForQuestionAnswering(_AutoModel):
    _task = QUESTION_ANSWERING


class AutoModelForImageClassification(_AutoModel):
    _task = IMAGE_CLASSIFICATION


class AutoModelForSemanticSegmentation(_AutoModel):
    _task = SEMANTIC_SEGMENTATION


class AutoModelForAudioClassification(_AutoModel):
    _task = AUDIO_CLASSIFICATION


__all__ = [
    "AutoConfig",
    "AutoModel",
    "AutoModelForCausalLM",
    "AutoModelForMaskedLM",
    "AutoModelForSequenceClassification",
    "AutoModelForTokenClassification",
    "AutoModelForQuestionAnswering",
    "AutoModelForImageClassification",
    "AutoModelForSemanticSegmentation",
    "AutoModelForAudioClassification",
    "MODEL_REGISTRY",
    "register",
    "supported_model_types",
]
