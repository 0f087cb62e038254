"""Audio in: decoding files and bytes to a waveform, and resampling it to the rate a model was trained at.

`load_audio` decodes with soundfile (WAV, FLAC, OGG, ...) to float32 mono. `resample` is band-limited
interpolation with a Hann-windowed sinc kernel, the method (and the defaults: 6 zero crossings, roll-off
0.99) of torchaudio's `resample`, which transformers' audio pipelines call; it is written here with torch
ops, so torchaudio (which has no release for current torch) is not needed, and gives torchaudio's samples.

    >>> import numpy as np
    >>> resample(np.zeros(22050, dtype=np.float32), 22050, 16000).shape
    (16000,)
"""

from __future__ import annotations

import io
import math
import os
from typing import Any

import numpy as np

from ..errors import InvalidAudioError
from .image_processing import fetch_url


def load_audio(source: str | os.PathLike | bytes, timeout: float | None = None) -> tuple[np.ndarray, int]:
    """A path, a http(s) URL (only online) or the bytes of an audio file -> (float32 mono waveform, sampling rate).

    Several channels are averaged into one, as transformers' ffmpeg decoding (`-ac 1`) does.
    """
    try:
        import soundfile
    except ImportError as err:  # pragma: no cover - soundfile comes with the audio extras
        raise ImportError("reading audio files needs soundfile: pip install soundfile") from err
    if isinstance(source, (bytes, bytearray)):
        name, handle = "the bytes given", io.BytesIO(source)
    else:
        name = str(source)
        if name.startswith(("http://", "https://")):
            handle = io.BytesIO(fetch_url(name, timeout, InvalidAudioError, "a local file or an array"))
        elif os.path.isfile(name):
            handle = name
        else:
            raise InvalidAudioError(f"{name!r} is neither an existing audio file nor a http(s) URL")
    try:
        data, rate = soundfile.read(handle, dtype="float32", always_2d=True)  # (T, channels)
    except (RuntimeError, soundfile.LibsndfileError, TypeError, ValueError) as err:
        raise InvalidAudioError(f"cannot read audio from {name}: {err}") from err
    if data.shape[0] == 0:
        raise InvalidAudioError(f"{name} holds no audio samples")
    waveform = data[:, 0] if data.shape[1] == 1 else data.mean(axis=1, dtype=np.float32)
    return np.ascontiguousarray(waveform), int(rate)


def resample(
    waveform: np.ndarray, orig_rate: int, new_rate: int, lowpass_filter_width: int = 6, rolloff: float = 0.99
) -> np.ndarray:
    """Resample a 1-D waveform from `orig_rate` to `new_rate` Hz; the result keeps the input's float dtype.

    The rates are reduced by their gcd to orig/new phases; output sample j of each block of `new` is a dot
    product of the input around its position with a low-pass sinc (cut-off at `rolloff` of the lower Nyquist
    frequency) tapered by a Hann window `lowpass_filter_width` zero crossings wide. One strided convolution
    with `new` kernels computes every output.
    """
    import torch
    import torch.nn.functional as F

    if orig_rate <= 0 or new_rate <= 0:
        raise InvalidAudioError(f"sampling rates must be positive, got {orig_rate} and {new_rate}")
    if orig_rate == new_rate:
        return waveform
    x = torch.from_numpy(np.ascontiguousarray(waveform))
    if not x.is_floating_point():
        x = x.to(torch.float32)
    gcd = math.gcd(int(orig_rate), int(new_rate))
    orig, new = int(orig_rate) // gcd, int(new_rate) // gcd

    # The kernels, in the waveform's dtype: kernel j (one per output phase) sampled at the input positions.
    cutoff = min(orig, new) * rolloff  # in units of the reduced rates
    width = math.ceil(lowpass_filter_width * orig / cutoff)  # input samples on each side
    taps = torch.arange(-width, width + orig, dtype=x.dtype)[None, None] / orig  # (1, 1, K) input times
    phases = torch.arange(0, -new, -1, dtype=x.dtype)[:, None, None] / new  # (new, 1, 1) output times
    t = ((phases + taps) * cutoff).clamp_(-lowpass_filter_width, lowpass_filter_width)  # (new, 1, K)
    window = torch.cos(t * math.pi / lowpass_filter_width / 2) ** 2  # Hann, zero at the clamp
    t = t * math.pi
    sinc = torch.where(t == 0, torch.tensor(1.0, dtype=x.dtype), torch.sin(t) / t)
    kernels = sinc * (window * (cutoff / orig))  # unit gain at DC

    length = x.shape[-1]
    padded = F.pad(x[None, None], (width, width + orig))  # (1, 1, T + 2w + orig)
    out = F.conv1d(padded, kernels, stride=orig)  # (1, new, blocks): phase j of each block of `new` outputs
    out = out.transpose(1, 2).reshape(-1)  # interleave the phases in time order
    target = math.ceil(new * length / orig)
    return out[:target].numpy()


def as_waveform(array: Any, name: str = "the audio") -> np.ndarray:
    """A 1-D numpy array from a numpy array, a torch tensor or a list of floats; other shapes are errors."""
    if type(array).__module__.startswith("torch"):
        array = array.detach().cpu().numpy()
    if isinstance(array, (list, tuple)):
        array = np.asarray(array, dtype=np.float32)
    if not isinstance(array, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, a torch tensor or a file; got {type(array).__name__}")
    if array.ndim != 1:
        raise InvalidAudioError(
            f"{name} must be one channel, a 1-D array of samples; got shape {array.shape} (average the channels "
            f"first, e.g. array.mean(axis=-1))"
        )
    if array.shape[0] == 0:
        raise InvalidAudioError(f"{name} is empty (0 samples)")
    if not np.issubdtype(array.dtype, np.number) or array.dtype == bool:
        raise InvalidAudioError(f"{name} must hold numbers, got dtype {array.dtype}")
    return array


__all__ = ["load_audio", "resample", "as_waveform"]
