"""PyTorch models with Hugging Face weight names: configs, Auto classes, and one file per architecture.

Names are imported on first access (importing torch takes seconds; tokenizer-only users never pay it).

    >>> from ferroformers.models import AutoModel
    >>> model = AutoModel.from_pretrained("path/or/hub-id")      # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import Any

# public name -> the submodule defining it
_LAZY: dict[str, str] = {
    "PretrainedConfig": "configuration",
    "PreTrainedModel": "modeling_utils",
    "ModelOutput": "modeling_outputs",
    "BaseModelOutput": "modeling_outputs",
    "BaseModelOutputWithPooling": "modeling_outputs",
    "BaseModelOutputWithPast": "modeling_outputs",
    "CausalLMOutputWithPast": "modeling_outputs",
    "MaskedLMOutput": "modeling_outputs",
    "SequenceClassifierOutput": "modeling_outputs",
    "SequenceClassifierOutputWithPast": "modeling_outputs",
    "TokenClassifierOutput": "modeling_outputs",
    "QuestionAnsweringModelOutput": "modeling_outputs",
    "AutoConfig": "auto",
    "AutoModel": "auto",
    "AutoModelForCausalLM": "auto",
    "AutoModelForMaskedLM": "auto",
    "AutoModelForSequenceClassification": "auto",
    "AutoModelForTokenClassification": "auto",
    "AutoModelForQuestionAnswering": "auto",
    "AutoModelForImageClassification": "auto",
    "AutoModelForSemanticSegmentation": "auto",
    "AutoModelForAudioClassification": "auto",
    "ImageClassifierOutput": "modeling_outputs",
    "SemanticSegmenterOutput": "modeling_outputs",
    "Wav2Vec2BaseModelOutput": "modeling_outputs",
}


def _architecture_names() -> dict[str, str]:
    from .auto import MODEL_REGISTRY

    return {
        cls_name: module.rpartition(".")[2]
        for module, classes in MODEL_REGISTRY.values()
        for cls_name in classes.values()
        if module.startswith("ferroformers.models.")
    }


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name) or _architecture_names().get(name)
    if module is None:
        raise AttributeError(f"module 'ferroformers.models' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | set(_architecture_names()))


__all__ = sorted(_LAZY)
