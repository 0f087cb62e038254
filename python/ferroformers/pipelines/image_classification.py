"""image-classification: the labels an image classifier gives an image, best first, as transformers' pipeline.

>>> from ferroformers import pipeline
>>> classify = pipeline("image-classification", model="path/to/vit")     # doctest: +SKIP
>>> classify("cat.png", top_k=2)                                          # doctest: +SKIP
[{'label': 'tabby', 'score': 0.71}, {'label': 'tiger cat', 'score': 0.2}]
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..processing.image_processing import load_image
from .base import Pipeline

_FUNCTIONS = ("sigmoid", "softmax", "none")


class ImagePipeline(Pipeline):
    """Shared by the image tasks: an image processor instead of a tokenizer, and batches of equal-size pixels.

    An input is a path, a http(s) URL (online only), bytes, a base64 string, a PIL image or a numpy array /
    torch tensor of pixels; a list of them gives a list of results, a dataset column (`KeyDataset`) or a
    generator an iterator of results.
    """

    def __init__(self, model: Any, tokenizer: Any = None, *, image_processor: Any, **kwargs: Any) -> None:
        if image_processor is None:
            raise ValueError(f"the {self.task} pipeline needs an image processor: pass image_processor=")
        self.image_processor = image_processor
        super().__init__(model, tokenizer, **kwargs)

    def _collate(self, items: list[dict[str, Any]]) -> dict[str, Any]:
        # Every image is processed to the same size, so a batch is a concatenation (nothing to pad).
        batch: dict[str, Any] = {}
        for key in items[0]:
            values = [item[key] for item in items]
            batch[key] = torch.cat(values) if isinstance(values[0], torch.Tensor) else values
        return batch

    def _is_single(self, inputs: Any) -> bool:
        return not isinstance(inputs, (list, tuple))


class ImageClassificationPipeline(ImagePipeline):
    """`pipe(image)` -> `[{"label", "score"}]`, the `top_k` (default 5) best labels; a list of images -> a list
    of such lists. `function_to_apply`: "softmax", "sigmoid" or "none" (default as transformers: none for
    regression, sigmoid for multi-label or one-label models, softmax otherwise). `timeout`: for URLs.
    """

    task = "image-classification"

    def _sanitize_parameters(self, top_k: Any = None, function_to_apply: Any = None, timeout: Any = None):
        pre: dict[str, Any] = {}
        if timeout is not None:
            pre["timeout"] = timeout
        post: dict[str, Any] = {}
        if top_k is not None:
            post["top_k"] = check_top_k(top_k)
        if function_to_apply is not None:
            name = str(getattr(function_to_apply, "value", function_to_apply)).lower()
            if name not in _FUNCTIONS:
                raise ValueError(f"function_to_apply must be one of {', '.join(_FUNCTIONS)}, got {function_to_apply!r}")
            post["function_to_apply"] = name
        return pre, {}, post

    def preprocess(self, image: Any, timeout: float | None = None) -> dict[str, Any]:
        # As transformers: arrays and tensors go to the processor as they are (their channels as given);
        # anything else is loaded as an RGB image.
        if not (isinstance(image, np.ndarray) or isinstance(image, torch.Tensor)):
            image = load_image(image, timeout=timeout)
        return self.image_processor(image, return_tensors="pt")

    def _forward(self, model_inputs: dict[str, Any]):
        return self.model(pixel_values=model_inputs["pixel_values"]).logits

    def postprocess(self, logits, top_k: int = 5, function_to_apply: str | None = None):
        return ranked_labels(logits[0], self.model.config, top_k, function_to_apply or default_function(self.model))


def check_top_k(top_k: Any) -> int:
    if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
        raise ValueError(f"top_k must be a positive int, got {top_k!r}")
    return top_k


def default_function(model: Any) -> str:
    """transformers' choice of score function from the config (problem type, number of labels)."""
    config = model.config
    if config.problem_type == "regression":
        return "none"
    if config.problem_type == "multi_label_classification" or config.num_labels == 1:
        return "sigmoid"
    return "softmax"


def ranked_labels(logits: torch.Tensor, config: Any, top_k: int, function: str) -> list[dict[str, Any]]:
    """One input's (num_labels,) logits -> the `top_k` best `{"label", "score"}`, scores as transformers computes
    them (numpy, float32, the softmax shifted by its maximum)."""
    x = logits.float().cpu().numpy()
    if function == "sigmoid":
        scores = 1.0 / (1.0 + np.exp(-x))
    elif function == "softmax":
        shifted = np.exp(x - np.max(x, axis=-1, keepdims=True))
        scores = shifted / shifted.sum(axis=-1, keepdims=True)
    else:
        scores = x
    ranked = [{"label": config.id2label[i], "score": score.item()} for i, score in enumerate(scores)]
    ranked.sort(key=lambda d: d["score"], reverse=True)
    return ranked[: min(top_k, config.num_labels)]


__all__ = ["ImageClassificationPipeline", "ImagePipeline"]
