"""Inputs that are not text: image processors (pixels for vision models) and audio feature extractors.

Each reads the `preprocessor_config.json` transformers writes next to a checkpoint and reproduces
transformers' numbers exactly: same resampling filter, same float precision at each step.

    >>> from ferroformers import AutoImageProcessor
    >>> processor = AutoImageProcessor.from_pretrained("path/to/vit")      # doctest: +SKIP
    >>> processor(image, return_tensors="pt")["pixel_values"].shape       # doctest: +SKIP
    torch.Size([1, 3, 224, 224])
"""

from __future__ import annotations

from .audio import load_audio, resample
from .feature_extraction import AutoFeatureExtractor, Wav2Vec2FeatureExtractor
from .image_processing import AutoImageProcessor, ImageProcessor, SegformerImageProcessor, ViTImageProcessor, load_image

__all__ = [
    "AutoFeatureExtractor",
    "AutoImageProcessor",
    "ImageProcessor",
    "SegformerImageProcessor",
    "ViTImageProcessor",
    "Wav2Vec2FeatureExtractor",
    "load_audio",
    "load_image",
    "resample",
]
