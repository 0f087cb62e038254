"""text-classification / sentiment-analysis: labels and scores of a sequence classification model."""

from __future__ import annotations

from typing import Any

import torch

from .base import Pipeline

_FUNCTIONS = ("sigmoid", "softmax", "none")
_UNSET = object()


class TextClassificationPipeline(Pipeline):
    """`pipe("text")` -> `[{"label", "score"}]`; `pipe(["a", "b"])` -> one `{"label", "score"}` per text.

    `top_k=k` gives the k best labels per text, sorted by score (`top_k=None`: all labels); a single text
    then gives that list. `function_to_apply`: "softmax", "sigmoid" or "none"; by default "none" for
    regression, "sigmoid" for multi-label or one-label models, "softmax" otherwise (as transformers).
    A text pair is a dict `{"text": ..., "text_pair": ...}`. Other keywords go to the tokenizer.
    """

    task = "text-classification"
    _sort_by_length = True
    _TOKENIZER_KEYS = frozenset({"truncation", "max_length", "padding", "add_special_tokens", "stride"})

    def _sanitize_parameters(self, function_to_apply: Any = None, top_k: Any = _UNSET, **tokenizer_kwargs: Any):
        self._refuse_unknown(
            tokenizer_kwargs, self._TOKENIZER_KEYS | {"function_to_apply", "top_k"}, "text-classification pipeline"
        )
        post: dict[str, Any] = {}
        if top_k is not _UNSET:
            if top_k is not None and (not isinstance(top_k, int) or top_k < 1):
                raise ValueError(f"top_k must be a positive int or None, got {top_k!r}")
            post["top_k"] = top_k
            post["_legacy"] = False
        if function_to_apply is not None:
            name = str(getattr(function_to_apply, "value", function_to_apply)).lower()
            if name not in _FUNCTIONS:
                raise ValueError(f"function_to_apply must be one of {', '.join(_FUNCTIONS)}, got {function_to_apply!r}")
            post["function_to_apply"] = name
        return dict(tokenizer_kwargs), {}, post

    def preprocess(self, inputs: Any, **tokenizer_kwargs: Any) -> dict[str, Any]:
        if isinstance(inputs, dict):
            unknown = set(inputs) - {"text", "text_pair"}
            if "text" not in inputs or unknown:
                raise ValueError('a text pair is given as {"text": ..., "text_pair": ...}')
            return dict(
                self.tokenizer(inputs["text"], inputs.get("text_pair"), return_tensors="pt", **tokenizer_kwargs)
            )
        if not isinstance(inputs, str):
            raise TypeError(
                "text-classification takes a text, a list of texts, or {'text': ..., 'text_pair': ...} dicts; "
                f"got {type(inputs).__name__}"
            )
        return dict(self.tokenizer(inputs, return_tensors="pt", **tokenizer_kwargs))

    def _forward(self, model_inputs: dict[str, Any]):
        return self.model(**model_inputs).logits

    def _default_function(self) -> str:
        config = self.model.config
        if config.problem_type == "regression":
            return "none"
        if config.problem_type == "multi_label_classification" or config.num_labels == 1:
            return "sigmoid"
        if config.problem_type == "single_label_classification" or config.num_labels > 1:
            return "softmax"
        return getattr(config, "function_to_apply", None) or "none"

    def postprocess(self, logits, function_to_apply: str | None = None, top_k: int | None = 1, _legacy: bool = True):
        function_to_apply = function_to_apply or self._default_function()
        outputs = logits[0].float().cpu()
        if function_to_apply == "sigmoid":
            scores = torch.sigmoid(outputs)
        elif function_to_apply == "softmax":
            scores = torch.softmax(outputs, dim=-1)
        else:
            scores = outputs
        id2label = self.model.config.id2label
        if top_k == 1 and _legacy:
            best = int(scores.argmax())
            return {"label": id2label[best], "score": float(scores[best])}
        ranked = [{"label": id2label[i], "score": float(s)} for i, s in enumerate(scores.tolist())]
        if not _legacy:
            ranked.sort(key=lambda d: d["score"], reverse=True)
            if top_k is not None:
                ranked = ranked[:top_k]
        return ranked

    def _is_single(self, inputs: Any) -> bool:
        return isinstance(inputs, (str, dict))

    def __call__(self, inputs: Any = None, *args: Any, **kwargs: Any) -> Any:
        result = super().__call__(inputs, *args, **kwargs)
        # As transformers: a single text without top_k gives a one-element list.
        # (transformers looks at the call's keywords only, so a top_k given at construction still wraps.)
        # A text pair dict is not wrapped (transformers wraps only a plain text).
        if isinstance(inputs, str) and "top_k" not in kwargs:
            return [result]
        return result
