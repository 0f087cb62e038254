"""The shared pipeline machinery: split call keywords by stage, tokenize, pad batches, run, unbatch.

A pipeline turns inputs into outputs in three stages, as transformers' pipelines do:
`preprocess` (text -> tensors, one input at a time), `_forward` (a padded batch through the model) and
`postprocess` (one input's model output -> Python values). Subclasses name the keywords each stage
takes in `_sanitize_parameters`; a keyword no stage takes is a TypeError naming it.
"""

from __future__ import annotations

import inspect
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any

import torch

from ..errors import PipelineError

# How many batches of a list are read ahead and sorted by length at a time (bounds memory on huge lists).
_SORT_WINDOW_BATCHES = 64


class Pipeline:
    """Base class of the task pipelines: `pipe(inputs, **call_kwargs)`."""

    task: str = ""
    # Whether a list's inputs may be batched in order of length: true where each input's result does not
    # depend on which other inputs share its batch (padding is masked and cut away).
    _sort_by_length: bool = False

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
            self.model.to(resolve_device(device))
        self.model.eval()
        self.batch_size = _check_batch_size(batch_size) if batch_size is not None else 1
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
            raise PipelineError(
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
        if "token_type_ids" in model_inputs and not self._model_takes("token_type_ids"):
            # A BERT tokenizer in front of a DistilBERT model: the segment ids mean nothing to it.
            model_inputs = {k: v for k, v in model_inputs.items() if k != "token_type_ids"}
        return {k: (v.to(device) if isinstance(v, torch.Tensor) else v) for k, v in model_inputs.items()}

    def _model_takes(self, name: str) -> bool:
        parameters = inspect.signature(self.model.forward).parameters
        return name in parameters or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())

    # -- the loop ----------------------------------------------------------------------------------
    def _chunks(self, inputs: Any, preprocess_params: dict) -> list[dict[str, Any]]:
        """The model inputs of one pipeline input: one for most tasks, several for `ChunkPipeline`s."""
        return [self.preprocess(inputs, **preprocess_params)]

    def _finish(self, outputs: list[Any], postprocess_params: dict) -> Any:
        """One pipeline result from the model outputs of one input's chunks."""
        return self.postprocess(outputs[0], **postprocess_params)

    def _run_batch(self, items: list[dict[str, Any]], forward_params: dict) -> list[Any]:
        batch = self._collate(items)
        with torch.inference_mode():
            outputs = self._forward(self._to_device(batch), **forward_params)
        return self._unbatch(outputs, batch, len(items))

    def iterate(
        self,
        inputs: Iterable[Any],
        preprocess_params: dict,
        forward_params: dict,
        postprocess_params: dict,
        batch_size: int | None = None,
    ) -> Iterator[Any]:
        """Results of `inputs`, lazily and in order: each is yielded once all its chunks went through the
        model. Chunks of consecutive inputs share batches of `batch_size` model inputs."""
        pending: list[tuple[list[Any], dict[str, Any]]] = []  # (owner's outputs list, model input)
        owners: deque[tuple[int, list[Any]]] = deque()  # (number of chunks, outputs so far), in input order
        batch_size = batch_size or self.batch_size

        def ready():
            while owners and len(owners[0][1]) == owners[0][0]:
                _, outputs = owners.popleft()
                yield self._finish(outputs, postprocess_params)

        for item in inputs:
            chunks = self._chunks(item, preprocess_params)
            outputs: list[Any] = []
            owners.append((len(chunks), outputs))
            for chunk in chunks:
                pending.append((outputs, chunk))
                if len(pending) >= batch_size:
                    self._dispatch(pending, forward_params)
                    pending = []
            yield from ready()
        if pending:
            self._dispatch(pending, forward_params)
        yield from ready()

    def _dispatch(self, pending: list[tuple[list[Any], dict[str, Any]]], forward_params: dict) -> None:
        results = self._run_batch([chunk for _, chunk in pending], forward_params)
        for (outputs, _), result in zip(pending, results):
            outputs.append(result)

    def run(
        self,
        inputs: list[Any],
        preprocess_params: dict,
        forward_params: dict,
        postprocess_params: dict,
        batch_size: int | None = None,
    ) -> list[Any]:
        batch_size = batch_size or self.batch_size
        if not self._sort_by_length or batch_size == 1 or len(inputs) <= batch_size:
            return list(self.iterate(inputs, preprocess_params, forward_params, postprocess_params, batch_size))
        # A list is known in advance: batch inputs of similar lengths together so that little of each batch
        # is padding (transformers batches them in the order given). Results come back in the input order.
        results: list[Any] = [None] * len(inputs)
        window = batch_size * _SORT_WINDOW_BATCHES
        for start in range(0, len(inputs), window):
            items = [self.preprocess(x, **preprocess_params) for x in inputs[start : start + window]]
            order = sorted(range(len(items)), key=lambda i: items[i]["input_ids"].shape[-1])
            for first in range(0, len(order), batch_size):
                chosen = order[first : first + batch_size]
                outputs = self._run_batch([items[i] for i in chosen], forward_params)
                for i, output in zip(chosen, outputs):
                    results[start + i] = self._finish([output], postprocess_params)
        return results

    def _is_single(self, inputs: Any) -> bool:
        return not isinstance(inputs, (list, tuple))

    def __call__(self, inputs: Any = None, *args: Any, **kwargs: Any) -> Any:
        """Run the pipeline on one input, a list (-> a list of results), or an iterable such as a
        generator, a `datasets.Dataset` or a `KeyDataset` (-> an iterator that yields results lazily)."""
        if args:
            # transformers logs and ignores extra positional arguments; losing inputs silently is worse
            raise TypeError(
                f"{self.task} pipeline takes one positional input, got {1 + len(args)}: pass several inputs as a list"
            )
        if inputs is None:
            raise PipelineError(f"{self.task} pipeline needs an input: a text, a list of texts or an iterable")
        batch_size = self.batch_size if kwargs.get("batch_size") is None else _check_batch_size(kwargs["batch_size"])
        kwargs.pop("batch_size", None)
        kwargs.pop("num_workers", None)  # transformers' DataLoader workers: our loop runs in this process
        pre, fwd, post = self._sanitize_parameters(**kwargs)
        params = (
            {**self._preprocess_params, **pre},
            {**self._forward_params, **fwd},
            {**self._postprocess_params, **post},
        )
        if self._is_single(inputs) and not _is_lazy_iterable(inputs):
            return self.run([inputs], *params, batch_size=batch_size)[0]
        if isinstance(inputs, (list, tuple)):
            return self.run(list(inputs), *params, batch_size=batch_size)
        try:
            stream = iter(inputs)
        except TypeError:
            # an int or another object that is neither an input nor a collection of inputs: say what fits
            raise TypeError(
                f"{self.task} pipeline cannot take a {type(inputs).__name__}: pass one input, a list of inputs "
                "or an iterable (a generator, a dataset) of inputs"
            ) from None
        return self.iterate(stream, *params, batch_size=batch_size)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(task={self.task!r}, model={type(self.model).__name__})"


class ChunkPipeline(Pipeline):
    """A pipeline whose input becomes several model inputs (long contexts split with a stride, one
    premise/hypothesis pair per candidate label): `preprocess` returns the list of chunks and
    `postprocess` receives the list of their model outputs, in order."""

    def _chunks(self, inputs: Any, preprocess_params: dict) -> list[dict[str, Any]]:
        return list(self.preprocess(inputs, **preprocess_params))

    def _finish(self, outputs: list[Any], postprocess_params: dict) -> Any:
        return self.postprocess(outputs, **postprocess_params)


def _check_batch_size(batch_size: Any) -> int:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise PipelineError(f"batch_size must be a positive int, got {batch_size!r}")
    return batch_size


def _is_lazy_iterable(inputs: Any) -> bool:
    """Generators, datasets and other iterables that are not a text, a dict, a list or a tensor."""
    if isinstance(inputs, (str, bytes, dict, list, tuple, torch.Tensor)):
        return False
    if type(inputs).__module__ == "numpy":  # an array is one image or one waveform, not a stream of inputs
        return False
    return isinstance(inputs, Iterable)


def resolve_device(device: Any) -> torch.device:
    """transformers' device conventions: -1 is the CPU, a non-negative int an accelerator index ("cuda:0"),
    otherwise a name ("cpu", "cuda", "cuda:1", "mps") or a `torch.device`. An accelerator that is not there is
    a clear error now rather than a failure at the first call."""
    if isinstance(device, bool):
        raise TypeError(f"device must be an int, a str or a torch.device, got {device!r}")
    if isinstance(device, int):
        if device < -1:
            raise PipelineError(f"device must be -1 (CPU) or an accelerator index >= 0, got {device}")
        device = "cpu" if device == -1 else f"cuda:{device}"
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise PipelineError(f"unknown device {device!r}: use 'cpu', 'cuda', 'cuda:<index>', an int or -1") from err
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise PipelineError(f"device {device!r} asks for CUDA, which is not available here: use device='cpu' or -1")
        if resolved.index is not None and resolved.index >= torch.cuda.device_count():
            raise PipelineError(
                f"device {device!r}: there are only {torch.cuda.device_count()} CUDA device(s) (indices from 0)"
            )
    return resolved
