"""feature-extraction: the model's hidden states for each input, as transformers' pipeline returns them."""

from __future__ import annotations

from typing import Any

from .base import Pipeline


class FeatureExtractionPipeline(Pipeline):
    """`pipe("text")` -> nested lists of shape [1, T, H] (the first output of the model, usually
    `last_hidden_state`); a list of texts -> one such list per text. `return_tensors=True` gives torch
    tensors instead; `tokenize_kwargs` (and `truncation`) go to the tokenizer.

    With `batch_size` > 1 each input's features are cut back to its own tokens, so a batched call returns
    exactly what one-by-one calls return (transformers' pipeline keeps the padded positions instead).
    """

    task = "feature-extraction"
    _sort_by_length = True

    def _sanitize_parameters(
        self, truncation: Any = None, tokenize_kwargs: dict | None = None, return_tensors: Any = None, **kwargs: Any
    ):
        self._refuse_unknown(kwargs, {"truncation", "tokenize_kwargs", "return_tensors"}, "feature-extraction pipeline")
        tokenize_kwargs = dict(tokenize_kwargs or {})
        if truncation is not None:
            if "truncation" in tokenize_kwargs:
                raise ValueError("truncation is given twice: as a keyword and in tokenize_kwargs")
            tokenize_kwargs["truncation"] = truncation
        post = {} if return_tensors is None else {"return_tensors": bool(return_tensors)}
        return tokenize_kwargs, {}, post

    def preprocess(self, inputs: Any, **tokenize_kwargs: Any) -> dict[str, Any]:
        if not isinstance(inputs, str):
            raise TypeError(f"feature-extraction takes a text or a list of texts, got {type(inputs).__name__}")
        return dict(self.tokenizer(inputs, return_tensors="pt", **tokenize_kwargs))

    def _forward(self, model_inputs: dict[str, Any]):
        return self.model(**model_inputs)[0]

    def _unbatch(self, outputs, batch, n):
        mask = batch.get("attention_mask")
        if n == 1 or mask is None:
            return [outputs[i : i + 1] for i in range(n)]
        mask = mask.to(outputs.device).bool()
        return [outputs[i : i + 1][:, mask[i]] for i in range(n)]

    def postprocess(self, features, return_tensors: bool = False):
        if return_tensors:
            return features.cpu()
        return features.float().cpu().tolist()
