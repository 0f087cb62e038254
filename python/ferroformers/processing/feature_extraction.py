"""Audio feature extractors: waveforms in, `input_values` (B, T) out, as transformers' Wav2Vec2FeatureExtractor.

Wav2Vec2 reads raw samples, so "features" are the samples themselves: float32, each waveform normalized to
zero mean and unit variance (over its real samples, not its padding) when `do_normalize`, then padded with
`padding_value` to one length, with an attention mask (1 = sample, 0 = padding) when
`return_attention_mask`. The extractor does not resample: a waveform at another rate than the model's is an
error here (pipelines resample first, see `ferroformers.processing.audio.resample`).

    >>> import numpy as np
    >>> fe = Wav2Vec2FeatureExtractor(return_attention_mask=True)
    >>> out = fe([np.ones(5), np.arange(3.0)], sampling_rate=16000, padding=True)
    >>> out["input_values"].shape, out["attention_mask"].tolist()
    ((2, 5), [[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]])
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InvalidAudioError, UnsupportedModelError
from .audio import as_waveform
from .image_processing import (
    PREPROCESSOR_NAME,
    PreprocessorConfigLoading,
    _hub_kwargs,
    _model_type,
    read_preprocessor_config,
)

_PADDING = (False, True, "longest", "max_length", "do_not_pad")


class Wav2Vec2FeatureExtractor(PreprocessorConfigLoading):
    """Normalize, pad and batch raw waveforms for Wav2Vec2 (fields as in `preprocessor_config.json`)."""

    model_input_names = ["input_values", "attention_mask"]
    _INERT = {"feature_extractor_type", "processor_class"}

    def __init__(
        self,
        feature_size: int = 1,
        sampling_rate: int = 16000,
        padding_value: float = 0.0,
        return_attention_mask: bool = False,
        do_normalize: bool = True,
        padding_side: str = "right",
        **kwargs: Any,
    ) -> None:
        unknown = set(kwargs) - self._INERT
        if unknown:
            raise TypeError(f"Wav2Vec2FeatureExtractor got unexpected field(s) {sorted(unknown)}")
        if feature_size != 1:
            raise ValueError(f"Wav2Vec2 reads one value per sample: feature_size must be 1, got {feature_size}")
        if padding_side not in ("right", "left"):
            raise ValueError(f"padding_side must be 'right' or 'left', got {padding_side!r}")
        self.feature_size = feature_size
        self.sampling_rate = int(sampling_rate)
        self.padding_value = float(padding_value)
        self.return_attention_mask = bool(return_attention_mask)
        self.do_normalize = bool(do_normalize)
        self.padding_side = padding_side

    def to_dict(self) -> dict[str, Any]:
        return {
            "feature_extractor_type": type(self).__name__,
            "feature_size": self.feature_size,
            "sampling_rate": self.sampling_rate,
            "padding_value": self.padding_value,
            "return_attention_mask": self.return_attention_mask,
            "do_normalize": self.do_normalize,
            "padding_side": self.padding_side,
        }

    def save_pretrained(self, folder: str | os.PathLike) -> Path:
        path = Path(folder) / PREPROCESSOR_NAME
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
        return path

    def __repr__(self) -> str:
        return f"{type(self).__name__}({json.dumps(self.to_dict(), sort_keys=True)})"

    def __call__(
        self,
        raw_speech: Any,
        sampling_rate: int | None = None,
        padding: bool | str = False,
        max_length: int | None = None,
        truncation: bool = False,
        pad_to_multiple_of: int | None = None,
        return_attention_mask: bool | None = None,
        return_tensors: str | None = None,
    ) -> dict[str, Any]:
        """One waveform (1-D) or a batch (a list of them, or a 2-D array) -> `{"input_values", ["attention_mask"]}`.

        `padding`: False (equal lengths only), True / "longest", or "max_length" (with `max_length`);
        `truncation` cuts waveforms longer than `max_length`.
        """
        if sampling_rate is not None and int(sampling_rate) != self.sampling_rate:
            raise InvalidAudioError(
                f"this feature extractor takes audio sampled at {self.sampling_rate} Hz, got {sampling_rate} Hz: "
                f"resample first (ferroformers.processing.resample), as the audio-classification pipeline does"
            )
        if padding not in _PADDING:
            raise ValueError(f"padding must be one of {_PADDING}, got {padding!r}")
        if return_tensors not in (None, "np", "pt"):
            raise ValueError(f"return_tensors must be None, 'np' or 'pt', got {return_tensors!r}")
        if isinstance(raw_speech, np.ndarray) and raw_speech.ndim == 2:
            batch = list(raw_speech)
        elif isinstance(raw_speech, (list, tuple)) and raw_speech and not np.isscalar(raw_speech[0]):
            batch = list(raw_speech)
        else:
            batch = [raw_speech]
        waves = [as_waveform(w, f"waveform {i}").astype(np.float32, copy=False) for i, w in enumerate(batch)]

        if truncation:
            if max_length is None:
                raise ValueError("truncation=True needs max_length")
            waves = [w[:max_length] for w in waves]
        lengths = [len(w) for w in waves]
        pad = padding not in (False, "do_not_pad")
        if padding == "max_length":
            if max_length is None:
                raise ValueError("padding='max_length' needs max_length")
            target = max_length
        else:
            target = max(lengths)
        if pad and pad_to_multiple_of:
            target = -(-target // pad_to_multiple_of) * pad_to_multiple_of
        if not pad and len(set(lengths)) > 1:
            raise ValueError(f"waveforms of different lengths {lengths} need padding=True to be batched")
        want_mask = self.return_attention_mask if return_attention_mask is None else return_attention_mask

        values = np.full((len(waves), target if pad else lengths[0]), self.padding_value, dtype=np.float32)
        mask = np.zeros(values.shape, dtype=np.int32)
        for i, w in enumerate(waves):
            start = target - len(w) if (pad and self.padding_side == "left") else 0
            values[i, start : start + len(w)] = w
            mask[i, start : start + len(w)] = 1
            if not self.do_normalize:
                continue
            # Statistics in float32 with numpy's pairwise sums, as transformers computes them. They cover the
            # real samples only; without an attention mask transformers cannot tell padding apart and
            # normalizes the padded row as a whole, and so do we.
            if pad and not want_mask:
                row = values[i]
                values[i] = (row - row.mean()) / np.sqrt(row.var() + 1e-7)
            else:
                values[i, start : start + len(w)] = (w - w.mean()) / np.sqrt(w.var() + 1e-7)
        out: dict[str, Any] = {"input_values": values}
        if want_mask:
            out["attention_mask"] = mask
        if return_tensors == "pt":
            import torch

            out = {k: torch.from_numpy(v) for k, v in out.items()}
        return out


_BY_CLASS_NAME = {"Wav2Vec2FeatureExtractor": Wav2Vec2FeatureExtractor}
_BY_MODEL_TYPE = {"wav2vec2": Wav2Vec2FeatureExtractor}


class AutoFeatureExtractor:
    """The audio feature extractor of a checkpoint, by `feature_extractor_type` in `preprocessor_config.json`
    (else by the model_type of its config.json)."""

    def __init__(self) -> None:
        raise TypeError("AutoFeatureExtractor is not instantiated: use AutoFeatureExtractor.from_pretrained()")

    @staticmethod
    def from_pretrained(name_or_path: str | os.PathLike, **kwargs: Any) -> Wav2Vec2FeatureExtractor:
        hub = _hub_kwargs(kwargs)
        config, source = read_preprocessor_config(name_or_path, **hub)
        name = config.get("feature_extractor_type") or ""
        if name:
            cls, what = _BY_CLASS_NAME.get(name), f"names feature extractor {name!r}"
        else:
            model_type = _model_type(name_or_path, hub)
            cls, what = _BY_MODEL_TYPE.get(model_type), f"names no feature extractor (model_type {model_type!r})"
        if cls is None:
            raise UnsupportedModelError(
                f"{source} {what}: ferroformers implements the audio feature extractors "
                f"{', '.join(sorted(_BY_CLASS_NAME))}"
            )
        return cls.from_dict(config, **kwargs)


__all__ = ["AutoFeatureExtractor", "Wav2Vec2FeatureExtractor"]
