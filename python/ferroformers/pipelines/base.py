"""The shared pipeline machinery: split call keywords by stage, tokenize, pad batches, run, unbatch.

A pipeline turns inputs into outputs in three stages, as transformers' pipelines do:
`preprocess` (text -> tensors, one input at a time), `_forward` (a padded batch through the model) and
`postprocess` (one input's model output -> Python values). Subclasses name the keywords each stage
takes in `_sanitize_parameters`; a keyword no stage takes is a TypeError naming it.
"""

from __future__ import annotations

from typing import Any

import torch


class Pipeline:
    """Base class of the task pipelines: `pipe(inputs, **call_kwargs)`."""

    task: str = ""

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        task: str = "",
        device: Any = None,
        batch_size: int | None = None,
        **kwargs: Any,
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        if task:
            self.task = task
        if device is not None:
            self.model.to(device)
        self.model.eval()
        if batch_size is not None and int(batch_size) < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.batch_size = int(batch_size) if batch_size is not None else 1
        # Keywords given at construction are the defaults of every call.
        self._preprocess_params, self._forward_params, self._postprocess_params = self._sanitize_parameters(**kwargs)

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    # -- to override -------------------------------------------------------------------------------
    def _sanitize_parameters(self, **kwargs: Any) -> tuple[dict, dict, dict]:
        raise NotImplementedError

    def preprocess(self, inputs: Any, **params: Any) -> dict[str, Any]:
        raise NotImplementedError

    def _forward(self, model_inputs: dict[str, Any], **params: Any) -> Any:
        raise NotImplementedError

    def postprocess(self, model_outputs: Any, **params: Any) -> Any:
        raise NotImplementedError

    # -- shared ------------------------------------------------------------------------------------
    @staticmethod
    def _refuse_unknown(kwargs: dict[str, Any], accepted: set[str] | frozenset[str], who: str) -> None:
        unknown = sorted(set(kwargs) - set(accepted))
        if unknown:
            raise TypeError(
                f"{who} got unexpected keyword argument(s): {', '.join(repr(k) for k in unknown)}; "
                f"it accepts {', '.join(sorted(accepted))}"
            )

    def _pad_token_id(self) -> int | None:
        return getattr(self.tokenizer, "pad_token_id", None)

    def _padding_side(self) -> str:
        return getattr(self.tokenizer, "padding_side", "right")

    def _collate(self, items: list[dict[str, Any]]) -> dict[str, Any]:
        """Pad the preprocessed inputs (each (1, T) tensors) into one batch, on the tokenizer's side."""
        if len(items) == 1:
            return dict(items[0])
        pad_id = self._pad_token_id()
        if pad_id is None:
            raise ValueError(
                "this tokenizer has no pad token, so inputs cannot be batched: set tokenizer.pad_token "
                "(for example to the eos token) or use batch_size=1"
            )
        left = self._padding_side() == "left"
        batch: dict[str, Any] = {}
        for key in items[0]:
            values = [item[key] for item in items]
            if not isinstance(values[0], torch.Tensor) or values[0].dim() < 2:
                batch[key] = values
                continue
            length = max(v.shape[1] for v in values)
            fill = pad_id if key == "input_ids" else 0
            padded = torch.full((len(values), length), fill, dtype=values[0].dtype)
            for i, v in enumerate(values):
                n = v.shape[1]
                if left:
                    padded[i, length - n :] = v[0]
                else:
                    padded[i, :n] = v[0]
            batch[key] = padded
        return batch

    def _unbatch(self, outputs: Any, batch: dict[str, Any], n: int) -> list[Any]:
        """Per-input model outputs of a batch: subclasses slice their own output (default: the rows)."""
        return [outputs[i : i + 1] for i in range(n)]

    def _to_device(self, model_inputs: dict[str, Any]) -> dict[str, Any]:
        device = self.device
        return {k: (v.to(device) if isinstance(v, torch.Tensor) else v) for k, v in model_inputs.items()}

    def run(self, inputs: list[Any], preprocess_params: dict, forward_params: dict, postprocess_params: dict):
        results: list[Any] = []
        for start in range(0, len(inputs), self.batch_size):
            chunk = inputs[start : start + self.batch_size]
            items = [self.preprocess(x, **preprocess_params) for x in chunk]
            batch = self._collate(items)
            with torch.inference_mode():
                outputs = self._forward(self._to_device(batch), **forward_params)
            for per_input in self._unbatch(outputs, batch, len(chunk)):
                results.append(self.postprocess(per_input, **postprocess_params))
        return results

    def _is_single(self, inputs: Any) -> bool:
        return not isinstance(inputs, (list, tuple))

    def __call__(self, inputs: Any, **kwargs: Any) -> Any:
        pre, fwd, post = self._sanitize_parameters(**kwargs)
        pre = {**self._preprocess_params, **pre}
        fwd = {**self._forward_params, **fwd}
        post = {**self._postprocess_params, **post}
        single = self._is_single(inputs)
        items = [inputs] if single else list(inputs)
        results = self.run(items, pre, fwd, post)
        return results[0] if single else results

    def __repr__(self) -> str:
        return f"{type(self).__name__}(task={self.task!r}, model={type(self.model).__name__})"
