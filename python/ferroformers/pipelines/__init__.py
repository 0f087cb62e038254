"""`pipeline()`: a model and its tokenizer behind one call, as transformers' `pipeline()`.

    >>> from ferroformers import pipeline
    >>> classify = pipeline("text-classification", model="path/to/folder")   # doctest: +SKIP
    >>> classify("I love this")                                              # doctest: +SKIP
    [{'label': 'POSITIVE', 'score': 0.99}]

Tasks: text-generation, text-classification (alias sentiment-analysis), token-classification (alias ner),
fill-mask, feature-extraction, zero-shot-classification, question-answering (transformers 4's extractive
pipeline); beyond text: image-classification, image-segmentation (semantic) and audio-classification, which
load the checkpoint's image processor or feature extractor (`preprocessor_config.json`) instead of a tokenizer.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from ..errors import ModelNotFoundError, PipelineError, UnsupportedModelError
from .audio_classification import AudioClassificationPipeline
from .base import ChunkPipeline, Pipeline, resolve_device
from .defaults import DEFAULT_MODELS
from .feature_extraction import FeatureExtractionPipeline
from .fill_mask import FillMaskPipeline
from .image_classification import ImageClassificationPipeline
from .image_segmentation import ImageSegmentationPipeline
from .pt_utils import KeyDataset, KeyPairDataset
from .question_answering import QuestionAnsweringPipeline
from .text_classification import TextClassificationPipeline
from .text_generation import TextGenerationPipeline
from .token_classification import AggregationStrategy, TokenClassificationPipeline
from .zero_shot_classification import ZeroShotClassificationPipeline

logger = logging.getLogger("ferroformers.pipelines")

# task -> (pipeline class, Auto model class name)
SUPPORTED_TASKS: dict[str, tuple[type[Pipeline], str]] = {
    "text-generation": (TextGenerationPipeline, "AutoModelForCausalLM"),
    "text-classification": (TextClassificationPipeline, "AutoModelForSequenceClassification"),
    "feature-extraction": (FeatureExtractionPipeline, "AutoModel"),
    "fill-mask": (FillMaskPipeline, "AutoModelForMaskedLM"),
    # never inferred from architectures: an NLI model is a sequence classifier, the task must be named
    "zero-shot-classification": (ZeroShotClassificationPipeline, "AutoModelForSequenceClassification"),
    "question-answering": (QuestionAnsweringPipeline, "AutoModelForQuestionAnswering"),
    "token-classification": (TokenClassificationPipeline, "AutoModelForTokenClassification"),
    "image-classification": (ImageClassificationPipeline, "AutoModelForImageClassification"),
    "image-segmentation": (ImageSegmentationPipeline, "AutoModelForSemanticSegmentation"),
    "audio-classification": (AudioClassificationPipeline, "AutoModelForAudioClassification"),
}
# What a task's pipeline reads its inputs with, when not a tokenizer: the keyword it takes and the Auto class
# (in ferroformers.processing) that loads it from the model's folder.
_INPUT_PROCESSORS = {
    "image-classification": ("image_processor", "AutoImageProcessor"),
    "image-segmentation": ("image_processor", "AutoImageProcessor"),
    "audio-classification": ("feature_extractor", "AutoFeatureExtractor"),
}
# Sequence classifiers over audio rather than text: their checkpoints name audio-classification.
_AUDIO_ARCHITECTURE_PREFIXES = ("Wav2Vec2",)
TASK_ALIASES = {"sentiment-analysis": "text-classification", "ner": "token-classification"}


def _supported() -> str:
    return ", ".join(sorted([*SUPPORTED_TASKS, *TASK_ALIASES]))


def _task_of_architectures(architectures: list[str] | None, source: str) -> str:
    for arch in architectures or []:
        if arch.endswith("ForImageClassification"):
            return "image-classification"
        if arch.endswith("ForSemanticSegmentation"):
            return "image-segmentation"
        if arch.endswith(("ForAudioClassification", "ForSequenceClassification")) and arch.startswith(
            _AUDIO_ARCHITECTURE_PREFIXES
        ):
            return "audio-classification"
        if arch.endswith("ForCausalLM") or arch.endswith("LMHeadModel"):
            return "text-generation"
        if arch.endswith("ForSequenceClassification"):
            return "text-classification"
        if arch.endswith("ForMaskedLM"):
            return "fill-mask"
        if arch.endswith("ForQuestionAnswering"):
            return "question-answering"
        if arch.endswith("ForTokenClassification"):
            return "token-classification"
        if arch.endswith("Model"):
            return "feature-extraction"
    raise PipelineError(
        f"cannot infer the task of {source} from its architectures {architectures!r}: give task=, one of {_supported()}"
    )


def pipeline(
    task: str | None = None,
    model: Any = None,
    tokenizer: Any = None,
    config: Any = None,
    device: Any = None,
    dtype: Any = None,
    batch_size: int | None = None,
    image_processor: Any = None,
    feature_extractor: Any = None,
    **kwargs: Any,
) -> Pipeline:
    """Build the pipeline for `task` around `model` (a local folder, a Hub id, or a loaded model).

    The tokenizer is loaded from the model's folder unless given (a folder/Hub id or a tokenizer).
    Without `task`, the config's `architectures` choose it; without `model`, the task's default Hub model
    (`DEFAULT_MODELS`, Hugging Face's choice) is loaded from the Hub cache or downloaded. `device` and
    `dtype` place the model; `batch_size` groups inputs into padded batches. Other keywords are defaults of
    every call (`max_new_tokens=`, `top_k=`, ...); one the task does not take is a TypeError. The image and
    audio tasks take `image_processor=` / `feature_extractor=` (a folder, a Hub id or a loaded one) in place
    of a tokenizer, by default the model's own.
    """
    from ..models import auto as _auto  # imports torch: only when a pipeline is built

    if device is not None:
        device = resolve_device(device)

    if task is None and model is None:
        raise PipelineError(
            "pipeline() needs a task or a model: pipeline('text-classification'), or model= a local folder, "
            "a Hub id or a loaded model"
        )
    if task is not None:
        task = TASK_ALIASES.get(task, task)
        if task not in SUPPORTED_TASKS:
            raise UnsupportedModelError(f"Unknown task {task!r}: ferroformers supports {_supported()}")
    default_model = None
    if model is None:
        if tokenizer is not None and not isinstance(tokenizer, (str, os.PathLike)):
            raise PipelineError("a loaded tokenizer needs its model: pass model= too")
        default_model = model = DEFAULT_MODELS[task]
        logger.warning(
            "No model was supplied, defaulted to %s for %s. Pass model= in production: the default may change.",
            model,
            task,
        )
    trust_remote_code = kwargs.pop("trust_remote_code", False)
    model_kwargs = dict(kwargs.pop("model_kwargs", None) or {})
    if trust_remote_code:
        model_kwargs["trust_remote_code"] = True

    if isinstance(config, (str, os.PathLike)):
        config = _auto.AutoConfig.from_pretrained(config)

    if isinstance(model, (str, os.PathLike)):
        source = str(model)
        if task is None:
            architectures = (config or _auto.AutoConfig.from_pretrained(source)).architectures
            task = _task_of_architectures(architectures, repr(source))
        auto_cls = getattr(_auto, SUPPORTED_TASKS[task][1])
        load = dict(model_kwargs)
        if config is not None:
            load["config"] = config
        if dtype is not None:
            load["dtype"] = dtype
        if device is not None:
            load["device"] = device
        try:
            model = auto_cls.from_pretrained(source, **load)
        except ModelNotFoundError as err:
            if default_model is None:
                raise
            raise ModelNotFoundError(
                f"pipeline({task!r}) without model= loads Hugging Face's default model {default_model!r}, which "
                f"is not in the local Hub cache and cannot be downloaded now ({err}). Pass model= a local folder "
                f"(or a loaded model), e.g. pipeline({task!r}, model='path/to/model')"
            ) from err
    else:
        if model_kwargs:
            raise PipelineError("model_kwargs only apply when model is a folder or Hub id")
        if task is None:
            architectures = [type(model).__name__, *(getattr(model.config, "architectures", None) or [])]
            task = _task_of_architectures(architectures, type(model).__name__)
        if dtype is not None:
            from ..models.modeling_utils import _resolve_dtype

            model.to(dtype=_resolve_dtype(dtype, model.config))

    pipeline_cls = SUPPORTED_TASKS[task][0]
    if task in _INPUT_PROCESSORS:
        keyword, auto_name = _INPUT_PROCESSORS[task]
        given = {"image_processor": image_processor, "feature_extractor": feature_extractor}
        if tokenizer is not None or given[_other(keyword)] is not None:
            raise PipelineError(
                f"the {task} pipeline reads its inputs with {keyword}=, not a tokenizer or {_other(keyword)}="
            )
        processor = given[keyword]
        if processor is None:
            processor = getattr(model.config, "name_or_path", "")
            if not processor:
                raise PipelineError(f"the model does not record the folder it came from: pass {keyword}=")
        if isinstance(processor, (str, os.PathLike)):
            from .. import processing

            processor = getattr(processing, auto_name).from_pretrained(processor)
        return pipeline_cls(
            model, None, task=task, device=device, batch_size=batch_size, **{keyword: processor}, **kwargs
        )
    if image_processor is not None or feature_extractor is not None:
        raise PipelineError(
            f"the {task} pipeline reads text with a tokenizer: image_processor= / feature_extractor= do not apply"
        )

    if tokenizer is None:
        source = getattr(model.config, "name_or_path", "")
        if not source:
            raise PipelineError("the model does not record the folder it came from: pass tokenizer=")
        tokenizer = source
    if isinstance(tokenizer, (str, os.PathLike)):
        from ..tokenization import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(tokenizer)

    return pipeline_cls(model, tokenizer, task=task, device=device, batch_size=batch_size, **kwargs)


def _other(keyword: str) -> str:
    return "feature_extractor" if keyword == "image_processor" else "image_processor"


__all__ = [
    "AggregationStrategy",
    "AudioClassificationPipeline",
    "ImageClassificationPipeline",
    "ImageSegmentationPipeline",
    "ChunkPipeline",
    "DEFAULT_MODELS",
    "KeyDataset",
    "KeyPairDataset",
    "FeatureExtractionPipeline",
    "FillMaskPipeline",
    "Pipeline",
    "QuestionAnsweringPipeline",
    "SUPPORTED_TASKS",
    "TextClassificationPipeline",
    "TextGenerationPipeline",
    "ZeroShotClassificationPipeline",
    "TokenClassificationPipeline",
    "pipeline",
]
