"""audio-classification: the labels an audio classifier gives a clip, best first, as transformers' pipeline.

A clip recorded at another rate than the model's is resampled first (windowed sinc, the same samples as
torchaudio's `resample`, which transformers uses); the feature extractor then normalizes it.

    >>> from ferroformers import pipeline
    >>> classify = pipeline("audio-classification", model="path/to/wav2vec2")   # doctest: +SKIP
    >>> classify("yes.wav", top_k=1)                                             # doctest: +SKIP
    [{'score': 0.98, 'label': 'yes'}]
"""

from __future__ import annotations

from typing import Any

import torch

from ..errors import InvalidAudioError
from ..processing.audio import as_waveform, load_audio, resample
from .base import Pipeline
from .image_classification import check_top_k

_FUNCTIONS = ("softmax", "sigmoid", "none")
_DICT_KEYS = {"raw", "array", "sampling_rate", "path"}


class AudioClassificationPipeline(Pipeline):
    """`pipe(audio)` -> `[{"score", "label"}]`, every label by default, best first (`top_k=k`: the k best).

    An input is a file path or http(s) URL (online only), the bytes of an audio file, a dict
    `{"raw" or "array": samples, "sampling_rate": rate}` (a `datasets` Audio record), or a 1-D numpy array /
    torch tensor of samples at the model's rate, or at `sampling_rate=` given to the call. Lists give lists of
    results; a dataset column (`KeyDataset`) or a generator an iterator. `function_to_apply`: "softmax"
    (default), "sigmoid" (default for multi-label models) or "none".
    """

    task = "audio-classification"

    def __init__(self, model: Any, tokenizer: Any = None, *, feature_extractor: Any, **kwargs: Any) -> None:
        if feature_extractor is None:
            raise ValueError("the audio-classification pipeline needs a feature extractor: pass feature_extractor=")
        self.feature_extractor = feature_extractor
        super().__init__(model, tokenizer, **kwargs)

    def _sanitize_parameters(
        self, top_k: Any = None, function_to_apply: Any = None, sampling_rate: Any = None, timeout: Any = None
    ):
        pre: dict[str, Any] = {}
        if sampling_rate is not None:
            if isinstance(sampling_rate, bool) or not isinstance(sampling_rate, int) or sampling_rate <= 0:
                raise ValueError(f"sampling_rate must be a positive int (Hz), got {sampling_rate!r}")
            pre["sampling_rate"] = sampling_rate
        if timeout is not None:
            pre["timeout"] = timeout
        post: dict[str, Any] = {}
        if top_k is not None:
            post["top_k"] = check_top_k(top_k)
        if function_to_apply is not None:
            if function_to_apply not in _FUNCTIONS:
                raise ValueError(f"function_to_apply must be one of {', '.join(_FUNCTIONS)}, got {function_to_apply!r}")
            post["function_to_apply"] = function_to_apply
        return pre, {}, post

    def _is_single(self, inputs: Any) -> bool:
        return not isinstance(inputs, (list, tuple))

    def preprocess(self, audio: Any, sampling_rate: int | None = None, timeout: float | None = None) -> dict:
        target = self.feature_extractor.sampling_rate
        rate = sampling_rate
        if isinstance(audio, (str, bytes, bytearray)) or hasattr(audio, "__fspath__"):
            if sampling_rate is not None:
                raise ValueError("sampling_rate= is for arrays: a file records its own rate")
            audio, rate = load_audio(audio, timeout=timeout)
        elif isinstance(audio, dict):
            unknown = set(audio) - _DICT_KEYS
            samples = audio.get("raw", audio.get("array"))
            if samples is None or "sampling_rate" not in audio or unknown:
                raise InvalidAudioError(
                    f'an audio dict is {{"raw" (or "array"): samples, "sampling_rate": rate}}; got keys {sorted(audio)}'
                )
            audio, rate = samples, audio["sampling_rate"]
        audio = as_waveform(audio)
        rate = target if rate is None else int(rate)
        if rate != target:
            audio = resample(audio, rate, target)
        return self.feature_extractor(audio, sampling_rate=target, return_tensors="pt")

    def _collate(self, items: list[dict[str, Any]]) -> dict[str, Any]:
        if len(items) == 1:
            return dict(items[0])
        # As transformers' batching: waveforms padded on the extractor's side with its padding value,
        # attention masks (when the extractor makes them) with 0.
        length = max(item["input_values"].shape[-1] for item in items)
        left = self.feature_extractor.padding_side == "left"
        batch: dict[str, Any] = {}
        for key in items[0]:
            fill = self.feature_extractor.padding_value if key == "input_values" else 0
            rows = torch.full((len(items), length), fill, dtype=items[0][key].dtype)
            for i, item in enumerate(items):
                n = item[key].shape[-1]
                if left:
                    rows[i, length - n :] = item[key][0]
                else:
                    rows[i, :n] = item[key][0]
            batch[key] = rows
        return batch

    def _forward(self, model_inputs: dict[str, Any]):
        return self.model(**model_inputs).logits

    def postprocess(self, logits, top_k: int | None = None, function_to_apply: str | None = None):
        config = self.model.config
        if function_to_apply is None:
            function_to_apply = {"regression": "none", "multi_label_classification": "sigmoid"}.get(
                config.problem_type, "softmax"
            )
        x = logits[0].float().cpu()
        if function_to_apply == "softmax":
            scores = x.softmax(-1)
        elif function_to_apply == "sigmoid":
            scores = x.sigmoid()
        else:
            scores = x
        k = config.num_labels if top_k is None else min(top_k, config.num_labels)
        best, ids = scores.topk(k)
        return [{"score": s, "label": config.id2label[i]} for s, i in zip(best.tolist(), ids.tolist())]


__all__ = ["AudioClassificationPipeline"]
