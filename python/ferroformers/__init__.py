"""ferroformers: a Rust-accelerated, Hugging Face-compatible transformers library.

>>> from ferroformers import AutoTokenizer
>>> tok = AutoTokenizer.from_pretrained("path/to/tokenizer_folder")   # doctest: +SKIP
>>> tok(["Hello world", "Hi"], padding=True, return_tensors="pt")     # doctest: +SKIP
"""

from __future__ import annotations

import os as _os
import sys as _sys

# torch's OpenMP threads spin-wait after every parallel region (libgomp's default spins for millions
# of pause instructions: milliseconds at full CPU), which starves the Rust work ferroformers does
# between torch calls (the sampling step of generate()). Unless the user chose a policy, and only if
# torch (hence libgomp, which reads this once when it loads) is not loaded yet, spin far less.
# Measured on 2 cores: top-p sampling step 5.5 ms -> 2.9 ms for 8 rows; model forwards unchanged.
if "torch" not in _sys.modules and "OMP_WAIT_POLICY" not in _os.environ:
    _os.environ.setdefault("GOMP_SPINCOUNT", "20000")

from . import _core
from .errors import (
    ChatTemplateError,
    ChatTemplateSecurityError,
    CheckpointNotFoundError,
    FerroformersError,
    GenerationError,
    HubError,
    InvalidArgumentError,
    InvalidAudioError,
    InvalidImageError,
    InvalidTokenIdError,
    ModelFileError,
    ModelNotFoundError,
    PipelineError,
    TokenizationError,
    TokenizerFileError,
    TokenizerFileIsADirectoryError,
    TokenizerFileNotFoundError,
    TokenizerFileReadError,
    TrainerError,
    UnsupportedComponentError,
    UnsupportedModelError,
    WeightShapeMismatchError,
)
from .tokenization import AddedToken, AutoTokenizer, BatchEncoding, Encoding, PreTrainedTokenizerFast, Tokenizer

__version__: str = _core.__version__

# Model names resolve on first access: they import torch, which tokenizer-only users should not wait for.
_MODEL_NAMES = (
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
    "PretrainedConfig",
    "PreTrainedModel",
)
# Image processors and audio feature extractors (numpy and Pillow; torch only for return_tensors="pt").
_PROCESSING_NAMES = (
    "AutoImageProcessor",
    "AutoFeatureExtractor",
    "ViTImageProcessor",
    "SegformerImageProcessor",
    "Wav2Vec2FeatureExtractor",
)
# Generation names, also resolved on first access (they import torch too).
_GENERATION_NAMES = (
    "GenerationConfig",
    "TextStreamer",
    "TextIteratorStreamer",
    "set_seed",
)
# pipeline(), also resolved on first access (its tasks import torch).
_PIPELINE_NAMES = ("pipeline",)
# Fine-tuning, also resolved on first access.
_TRAINER_NAMES = (
    "EarlyStoppingCallback",
    "EvalPrediction",
    "Trainer",
    "TrainerCallback",
    "TrainerControl",
    "TrainerState",
    "TrainingArguments",
    "get_scheduler",
)
# Data collators, resolved on first access (they build torch tensors).
_DATA_NAMES = (
    "default_data_collator",
    "DefaultDataCollator",
    "DataCollatorWithPadding",
    "DataCollatorForLanguageModeling",
    "DataCollatorForTokenClassification",
)
# Submodules loaded on first access: `ferroformers.metrics` (numpy only) and `ferroformers.data`.
_LAZY_MODULES = ("data", "metrics")


def __getattr__(name: str):
    if name in _MODEL_NAMES:
        from . import models

        value = getattr(models, name)
        globals()[name] = value
        return value
    if name in _PROCESSING_NAMES:
        from . import processing

        value = getattr(processing, name)
        globals()[name] = value
        return value
    if name in _GENERATION_NAMES:
        from . import generation

        value = getattr(generation, name)
        globals()[name] = value
        return value
    if name in _PIPELINE_NAMES:
        from . import pipelines

        value = getattr(pipelines, name)
        globals()[name] = value
        return value
    if name in _TRAINER_NAMES:
        from . import trainer

        value = getattr(trainer, name)
        globals()[name] = value
        return value
    if name in _DATA_NAMES:
        from . import data

        value = getattr(data, name)
        globals()[name] = value
        return value
    if name in _LAZY_MODULES:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")  # importing a submodule sets it as our attribute
    raise AttributeError(f"module 'ferroformers' has no attribute {name!r}")


def set_num_threads(n: int) -> None:
    """Set how many threads the Rust core uses for batch work (0 = one per CPU core)."""
    if int(n) < 0:
        raise ValueError(f"set_num_threads: n must be >= 0, got {n}")
    _core.set_num_threads(int(n))


def get_num_threads() -> int:
    """How many threads the Rust core uses for batch work."""
    return _core.get_num_threads()


__all__ = [
    "__version__",
    "AddedToken",
    "AutoTokenizer",
    "BatchEncoding",
    "Encoding",
    "PreTrainedTokenizerFast",
    "Tokenizer",
    "FerroformersError",
    "ChatTemplateError",
    "ChatTemplateSecurityError",
    "GenerationError",
    "HubError",
    "InvalidTokenIdError",
    "InvalidImageError",
    "InvalidAudioError",
    "ModelNotFoundError",
    "TokenizationError",
    "TokenizerFileError",
    "TokenizerFileNotFoundError",
    "TokenizerFileReadError",
    "TokenizerFileIsADirectoryError",
    "InvalidArgumentError",
    "PipelineError",
    "UnsupportedComponentError",
    "ModelFileError",
    "UnsupportedModelError",
    "WeightShapeMismatchError",
    "TrainerError",
    "CheckpointNotFoundError",
    *_MODEL_NAMES,
    *_PROCESSING_NAMES,
    *_GENERATION_NAMES,
    *_PIPELINE_NAMES,
    *_TRAINER_NAMES,
    *_DATA_NAMES,
    *_LAZY_MODULES,
    "get_num_threads",
    "set_num_threads",
]
