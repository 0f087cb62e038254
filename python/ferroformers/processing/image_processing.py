"""Image processors: images in, `pixel_values` (B, C, H, W) float32 out, as transformers' Pillow backend makes them.

The steps, each switched by `preprocessor_config.json`: resize (Pillow's own filter, `resample`, 2 = bilinear),
center crop, rescale (x · 1/255, computed in float64 then stored as float32), normalize ((x - mean) / std in
float32), channels first, then the batch stacked. Doing each step in the same precision as transformers is
what makes the pixels equal, not just close: a uint8 image is resized as uint8 by Pillow, so rounding happens
in the same place.

`load_image` reads what pipelines accept: a path, bytes, a base64 string, a PIL image (URLs only online).

    >>> import numpy as np
    >>> processor = ViTImageProcessor(size={"height": 32, "width": 32})
    >>> processor(np.zeros((40, 50, 3), dtype=np.uint8))["pixel_values"].shape
    (1, 3, 32, 32)
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InvalidImageError, ModelFileError, UnsupportedModelError

PREPROCESSOR_NAME = "preprocessor_config.json"

IMAGENET_STANDARD_MEAN = [0.5, 0.5, 0.5]
IMAGENET_STANDARD_STD = [0.5, 0.5, 0.5]
IMAGENET_DEFAULT_MEAN = [0.485, 0.456, 0.406]
IMAGENET_DEFAULT_STD = [0.229, 0.224, 0.225]

_BILINEAR = 2  # PIL.Image.Resampling.BILINEAR: configs store the filter as Pillow's integer


def _pil():
    try:
        from PIL import Image, ImageOps
    except ImportError as err:  # pragma: no cover - Pillow is a dependency of the vision extras
        raise ImportError("image processing needs Pillow: pip install pillow") from err
    return Image, ImageOps


class PreprocessorConfigLoading:
    """`from_dict` / `from_pretrained` from a `preprocessor_config.json` (a folder or a Hub id), shared by the
    image processors and the audio feature extractors: the file's fields are the constructor's keywords."""

    @classmethod
    def from_dict(cls, config: dict[str, Any], **overrides: Any):
        return cls(**{**config, **overrides})

    @classmethod
    def from_pretrained(cls, name_or_path: str | os.PathLike, **kwargs: Any):
        config, _ = read_preprocessor_config(name_or_path, **_hub_kwargs(kwargs))
        return cls.from_dict(config, **kwargs)


class ImageProcessor(PreprocessorConfigLoading):
    """resize -> center crop -> rescale -> normalize, for one image or a list (same size after processing).

    Fields are those of `preprocessor_config.json`: `do_resize`, `size` ({"height", "width"} or
    {"shortest_edge"}), `resample`, `do_center_crop`, `crop_size`, `do_rescale`, `rescale_factor`,
    `do_normalize`, `image_mean`, `image_std`. Subclasses set transformers' defaults per model family.
    """

    model_input_names = ["pixel_values"]
    # per-class defaults (transformers' class attributes); a config file overrides them
    do_resize = True
    size: dict[str, int] = {"height": 224, "width": 224}
    resample = _BILINEAR
    do_center_crop = False
    crop_size: dict[str, int] | None = None
    do_rescale = True
    rescale_factor = 1 / 255
    do_normalize = True
    image_mean = IMAGENET_STANDARD_MEAN
    image_std = IMAGENET_STANDARD_STD
    do_convert_rgb = False

    _FIELDS = (
        "do_resize",
        "size",
        "resample",
        "do_center_crop",
        "crop_size",
        "do_rescale",
        "rescale_factor",
        "do_normalize",
        "image_mean",
        "image_std",
        "do_convert_rgb",
    )
    # fields transformers writes that do not change what this class computes on images
    _INERT = {"image_processor_type", "feature_extractor_type", "processor_class", "do_reduce_labels", "backend"}

    def __init__(self, **kwargs: Any) -> None:
        for name in self._FIELDS:
            if name in kwargs and kwargs[name] is not None:
                setattr(self, name, kwargs.pop(name))
        for name in list(kwargs):
            if name in self._INERT:
                setattr(self, name, kwargs.pop(name))
        if kwargs:
            raise TypeError(
                f"{type(self).__name__} got unexpected field(s) {sorted(kwargs)}; it takes {', '.join(self._FIELDS)}"
            )
        self.size = _size_dict(self.size, "size")
        if self.crop_size is not None:
            self.crop_size = _size_dict(self.crop_size, "crop_size")
        if self.do_center_crop and self.crop_size is None:
            raise ValueError("do_center_crop=True needs crop_size={'height': ..., 'width': ...}")

    # --- loading and saving -------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        out = {name: getattr(self, name) for name in self._FIELDS if getattr(self, name) is not None}
        out["image_processor_type"] = type(self).__name__
        return out

    def save_pretrained(self, folder: str | os.PathLike) -> Path:
        path = Path(folder) / PREPROCESSOR_NAME
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
        return path

    def __repr__(self) -> str:
        return f"{type(self).__name__}({json.dumps(self.to_dict(), sort_keys=True)})"

    # --- the steps ----------------------------------------------------------------------------------------

    def __call__(self, images: Any, return_tensors: str | None = None) -> dict[str, Any]:
        """`{"pixel_values": (B, C, H, W) float32}`: a numpy array, or a torch tensor with return_tensors="pt"."""
        if return_tensors not in (None, "np", "pt"):
            raise ValueError(f"return_tensors must be None, 'np' or 'pt', got {return_tensors!r}")
        batch = images if isinstance(images, (list, tuple)) else [images]
        if not batch:
            raise InvalidImageError("no images were given")
        processed = [self.preprocess_one(image) for image in batch]
        shapes = {p.shape for p in processed}
        if len(shapes) > 1:
            raise InvalidImageError(f"the processed images differ in shape ({sorted(shapes)}): they cannot be stacked")
        pixel_values = np.stack(processed)  # (B, C, H, W)
        if return_tensors == "pt":
            import torch

            pixel_values = torch.from_numpy(pixel_values)
        return {"pixel_values": pixel_values}

    def preprocess_one(self, image: Any) -> np.ndarray:
        """One image -> (C, H, W) float32 (or the input dtype when no step converts it)."""
        x = to_channels_first(image, convert_rgb=self.do_convert_rgb)  # (C, H, W)
        if self.do_normalize and len(self.image_mean) != x.shape[0]:
            raise InvalidImageError(
                f"the image has {x.shape[0]} channel(s) but the processor normalizes {len(self.image_mean)}: "
                f"convert it first (e.g. PIL's image.convert('RGB'))"
            )
        if self.do_resize:
            x = resize(x, self._output_size(x), self.resample)
        if self.do_center_crop:
            x = center_crop(x, (self.crop_size["height"], self.crop_size["width"]))
        if self.do_rescale:
            x = (x.astype(np.float64) * self.rescale_factor).astype(np.float32)
        if self.do_normalize:
            x = normalize(x, self.image_mean, self.image_std)
        return x

    def _output_size(self, x: np.ndarray) -> tuple[int, int]:
        if "height" in self.size:
            return self.size["height"], self.size["width"]
        # shortest_edge: the short side becomes that long, the long side keeps the aspect ratio (rounded down)
        h, w = x.shape[-2:]
        short, long = (h, w) if h <= w else (w, h)
        new_short, new_long = self.size["shortest_edge"], int(self.size["shortest_edge"] * long / short)
        return (new_short, new_long) if h <= w else (new_long, new_short)


class ViTImageProcessor(ImageProcessor):
    """ViT: 224x224 bilinear, pixels to [-1, 1] (mean = std = 0.5)."""


class SegformerImageProcessor(ImageProcessor):
    """SegFormer: 512x512 bilinear, ImageNet mean and std; upsamples the logits back to each image's size."""

    size = {"height": 512, "width": 512}
    image_mean = IMAGENET_DEFAULT_MEAN
    image_std = IMAGENET_DEFAULT_STD
    do_reduce_labels = False  # a training option for segmentation maps; images are unaffected

    def post_process_semantic_segmentation(self, logits, target_sizes: list[tuple[int, int]] | None = None) -> list:
        """(B, num_labels, h, w) logits -> one (H, W) map of class ids per image, at `target_sizes` if given."""
        import torch
        import torch.nn.functional as F

        if target_sizes is not None and len(target_sizes) != len(logits):
            raise ValueError(f"{len(target_sizes)} target sizes for a batch of {len(logits)} logits")
        maps = []
        for i in range(len(logits)):
            scores = logits[i][None]  # (1, num_labels, h, w)
            if target_sizes is not None:
                scores = F.interpolate(scores, size=tuple(target_sizes[i]), mode="bilinear", align_corners=False)
            maps.append(scores[0].argmax(dim=0).to(torch.int64))  # (H, W)
        return maps


# model_type -> image processor class, for checkpoints whose preprocessor_config.json names no class
_BY_MODEL_TYPE = {"vit": ViTImageProcessor, "segformer": SegformerImageProcessor}
_BY_CLASS_NAME = {
    "ViTImageProcessor": ViTImageProcessor,
    "ViTFeatureExtractor": ViTImageProcessor,
    "SegformerImageProcessor": SegformerImageProcessor,
    "SegformerFeatureExtractor": SegformerImageProcessor,
}


class AutoImageProcessor:
    """The image processor of a checkpoint, chosen by `image_processor_type` in `preprocessor_config.json`
    (transformers' "Pil" and "Fast" variants compute the same thing and map to the same class), else by the
    model_type of its config.json."""

    def __init__(self) -> None:
        raise TypeError("AutoImageProcessor is not instantiated: use AutoImageProcessor.from_pretrained()")

    @staticmethod
    def from_pretrained(name_or_path: str | os.PathLike, **kwargs: Any) -> ImageProcessor:
        kwargs.pop("use_fast", None)  # one implementation here: both of transformers' backends give its numbers
        hub = _hub_kwargs(kwargs)
        config, source = read_preprocessor_config(name_or_path, **hub)
        name = config.get("image_processor_type") or config.get("feature_extractor_type") or ""
        for suffix in ("Fast", "Pil"):
            if name.endswith(suffix):
                name = name[: -len(suffix)]
        cls = _BY_CLASS_NAME.get(name)
        if cls is None and not name:
            cls = _BY_MODEL_TYPE.get(_model_type(name_or_path, hub))
        if cls is None:
            raise UnsupportedModelError(
                f"{source} names image processor {name!r}, which ferroformers does not implement; it implements "
                f"{', '.join(sorted(c.__name__ for c in set(_BY_CLASS_NAME.values())))}"
            )
        return cls.from_dict(config, **kwargs)


# --- steps, usable on their own ----------------------------------------------------------------------------


def to_channels_first(image: Any, convert_rgb: bool = False) -> np.ndarray:
    """A PIL image, a numpy array (H, W), (H, W, C) or (C, H, W), or a torch tensor -> a (C, H, W) array.

    Channels are found as transformers finds them: first if the first axis has 1, 3 or 4 entries, else last.
    """
    Image, _ = _pil()
    if isinstance(image, Image.Image):
        if convert_rgb and image.mode != "RGB":
            image = image.convert("RGB")
        x = np.array(image)
        if x.size == 0:
            raise InvalidImageError("the image is empty (0 pixels)")
        return x[None] if x.ndim == 2 else np.moveaxis(x, -1, 0)
    if type(image).__module__.startswith("torch"):
        image = image.detach().cpu().numpy()
    if not isinstance(image, np.ndarray):
        raise TypeError(
            "an image is a path, a URL, bytes, a PIL image, a numpy array or a torch tensor; "
            f"got {type(image).__name__}"
        )
    if image.size == 0:
        raise InvalidImageError(f"the image array is empty (shape {image.shape})")
    if image.dtype == bool or not (np.issubdtype(image.dtype, np.number)):
        raise InvalidImageError(f"image arrays hold numbers, got dtype {image.dtype}")
    if image.ndim == 2:
        return image[None]
    if image.ndim != 3:
        raise InvalidImageError(f"an image array is (H, W), (H, W, C) or (C, H, W); got shape {image.shape}")
    if image.shape[0] in (1, 3, 4):
        return image
    if image.shape[-1] in (1, 3, 4):
        return np.moveaxis(image, -1, 0)
    raise InvalidImageError(
        f"cannot find the channels of an image of shape {image.shape}: 1, 3 or 4 channels, first or last"
    )


def resize(x: np.ndarray, size: tuple[int, int], resample: int = _BILINEAR) -> np.ndarray:
    """(C, H, W) -> (C, height, width) with Pillow's filter, through an 8-bit image as transformers does.

    Integer-valued arrays in [0, 255] go through as they are; float arrays in [0, 1] are scaled to [0, 255],
    truncated to 8 bits, resized and scaled back (float32).
    """
    Image, _ = _pil()
    scaled = False
    if x.dtype != np.uint8:
        if np.allclose(x, x.astype(int)):
            if x.min() < 0 or x.max() > 255:
                raise InvalidImageError(f"image values must lie in [0, 255], got [{x.min()}, {x.max()}]")
        elif x.min() >= 0 and x.max() <= 1:
            scaled = True
            x = (x.astype(np.float64) * 255).astype(np.float32)
        else:
            raise InvalidImageError(
                f"float image values must lie in [0, 1] (or be whole numbers in [0, 255]), got [{x.min()}, {x.max()}]"
            )
    hwc = np.moveaxis(x, 0, -1)
    if hwc.shape[-1] == 1:
        hwc = hwc[..., 0]  # Pillow has no (H, W, 1) images
    height, width = size
    resized = np.array(Image.fromarray(hwc.astype(np.uint8)).resize((width, height), resample=resample))
    out = resized[None] if resized.ndim == 2 else np.moveaxis(resized, -1, 0)
    return (out.astype(np.float64) * (1 / 255)).astype(np.float32) if scaled else out


def center_crop(x: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(C, H, W) -> (C, height, width) around the centre; an image smaller than the crop is padded with zeros."""
    height, width = size
    h, w = x.shape[-2:]
    if h < height or w < width:
        padded = np.zeros(x.shape[:-2] + (max(h, height), max(w, width)), dtype=x.dtype)
        top, left = (padded.shape[-2] - h + 1) // 2, (padded.shape[-1] - w + 1) // 2  # ceil: the extra row on top
        padded[..., top : top + h, left : left + w] = x
        x, h, w = padded, padded.shape[-2], padded.shape[-1]
    top, left = (h - height) // 2, (w - width) // 2
    return x[..., top : top + height, left : left + width]


def normalize(x: np.ndarray, mean: list[float], std: list[float]) -> np.ndarray:
    """(x - mean) / std per channel of (C, H, W), in float32 (float inputs keep their dtype)."""
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float32)
    mean = np.asarray(mean, dtype=x.dtype)[:, None, None]
    std = np.asarray(std, dtype=x.dtype)[:, None, None]
    return (x - mean) / std


def load_image(image: Any, timeout: float | None = None) -> Any:
    """A path, URL, bytes, base64 string or PIL image -> an RGB PIL image (EXIF orientation applied).

    URLs are fetched only when the Hub is not set offline (`HF_HUB_OFFLINE`); an unreadable source raises
    InvalidImageError naming it.
    """
    Image, ImageOps = _pil()
    if isinstance(image, Image.Image):
        pass
    elif isinstance(image, (str, os.PathLike)):
        text = str(image)
        if text.startswith(("http://", "https://")):
            fetched = fetch_url(text, timeout, InvalidImageError, "a local path or a PIL image")
            image = _open_image(io.BytesIO(fetched), text)
        elif os.path.isfile(text):
            image = _open_image(text, text)
        else:
            data = text.split(",", 1)[1] if text.startswith("data:image/") else text
            try:
                raw = base64.b64decode(data, validate=True)
            except (binascii.Error, ValueError):
                raise InvalidImageError(
                    f"{text[:80]!r} is not an image: not an existing file, a http(s) URL, or base64 image data"
                ) from None
            image = _open_image(io.BytesIO(raw), "the base64 data")
    elif isinstance(image, (bytes, bytearray)):
        image = _open_image(io.BytesIO(image), "the bytes given")
    else:
        raise TypeError(f"load_image takes a path, a URL, bytes or a PIL image; got {type(image).__name__}")
    image = ImageOps.exif_transpose(image)
    return image.convert("RGB")


def _open_image(source: Any, name: str):
    Image, _ = _pil()
    try:
        image = Image.open(source)
        image.load()
    except (OSError, Image.UnidentifiedImageError, SyntaxError) as err:
        raise InvalidImageError(f"cannot read an image from {name}: {err}") from err
    return image


def fetch_url(url: str, timeout: float | None, error: type[Exception], instead: str) -> bytes:
    """The bytes at `url` (images and audio given as URLs); offline or unreachable -> `error`, whose message
    suggests `instead` ("a local path or a PIL image")."""
    from ..hub import is_offline

    if is_offline():
        raise error(f"cannot fetch {url}: HF_HUB_OFFLINE is set; pass {instead}")
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - a URL the caller gave
            return response.read()
    except OSError as err:
        raise error(f"cannot fetch {url}: {err}. Offline? Pass {instead}") from err


def read_preprocessor_config(name_or_path: str | os.PathLike, **hub: Any) -> tuple[dict[str, Any], str]:
    """The parsed `preprocessor_config.json` of a folder or Hub id, and its path (for messages)."""
    from ..hub import resolve_files

    found = resolve_files(name_or_path, [PREPROCESSOR_NAME], what="preprocessor", **hub)
    if PREPROCESSOR_NAME not in found:
        raise ModelFileError(
            f"{str(name_or_path)!r} has no {PREPROCESSOR_NAME}: it says how to prepare inputs for the model "
            f"(save one with the processor's save_pretrained)"
        )
    path = found[PREPROCESSOR_NAME]
    try:
        config = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ModelFileError(f"{str(path)!r} is not valid JSON: {err}") from None
    if not isinstance(config, dict):
        raise ModelFileError(f"{str(path)!r} must hold a JSON object")
    return config, str(path)


_HUB_KEYS = ("revision", "cache_dir", "local_files_only", "token")


def _hub_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {k: kwargs.pop(k) for k in _HUB_KEYS if k in kwargs}


def _model_type(name_or_path: str | os.PathLike, hub: dict[str, Any]) -> str | None:
    from ..models.configuration import find_config_file, read_config_dict

    try:
        return read_config_dict(find_config_file(name_or_path, **hub)).get("model_type")
    except (OSError, ValueError):
        return None


def _size_dict(size: Any, name: str) -> dict[str, int]:
    if isinstance(size, int):
        return {"height": size, "width": size}
    if isinstance(size, dict) and ("height" in size and "width" in size):
        return {"height": int(size["height"]), "width": int(size["width"])}
    if isinstance(size, dict) and set(size) == {"shortest_edge"}:
        return {"shortest_edge": int(size["shortest_edge"])}
    raise ValueError(f"{name} must be an int, {{'height': h, 'width': w}} or {{'shortest_edge': n}}; got {size!r}")


__all__ = [
    "AutoImageProcessor",
    "ImageProcessor",
    "ViTImageProcessor",
    "SegformerImageProcessor",
    "load_image",
    "to_channels_first",
    "resize",
    "center_crop",
    "normalize",
]
