"""image-segmentation (semantic): one mask per class present in the image, as transformers' pipeline gives them.

Each result is `{"score": None, "label": ..., "mask": PIL image}`: the mask is mode "L", the input's size,
255 where the class wins the pixel and 0 elsewhere (semantic segmentation has no per-segment score). The
class scores are upsampled bilinearly from the model's 1/4-resolution map to the input's size first, then
each pixel takes its best class.

    >>> from ferroformers import pipeline
    >>> segment = pipeline("image-segmentation", model="path/to/segformer")   # doctest: +SKIP
    >>> [r["label"] for r in segment("street.jpg")]                            # doctest: +SKIP
    ['road', 'sky', 'car']
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..processing.image_processing import load_image, to_channels_first
from .image_classification import ImagePipeline

_SUBTASKS = (None, "semantic")


class ImageSegmentationPipeline(ImagePipeline):
    """`pipe(image)` -> `[{"score": None, "label", "mask"}]`, one per class present, in class-id order; a list of
    images -> a list of such lists. `subtask`: "semantic" (the only kind the implemented models give).
    Inputs as for image-classification; a numpy array is read as an 8-bit image, (H, W, C) or (H, W).
    """

    task = "image-segmentation"

    def _sanitize_parameters(self, subtask: Any = None, timeout: Any = None, **kwargs: Any):
        if subtask not in _SUBTASKS:
            raise ValueError(
                f"subtask={subtask!r} is not supported: {type(self.model).__name__} does semantic segmentation"
            )
        if kwargs:
            unknown = ", ".join(sorted(kwargs))
            raise TypeError(
                f"image-segmentation pipeline got unexpected keyword argument(s) {unknown}; semantic segmentation "
                f"takes subtask and timeout (threshold, mask_threshold, ... apply to instance/panoptic models)"
            )
        return ({"timeout": timeout} if timeout is not None else {}), {}, {}

    def preprocess(self, image: Any, timeout: float | None = None) -> dict[str, Any]:
        if isinstance(image, (np.ndarray, torch.Tensor)):
            image = _array_to_pil(image)
        image = load_image(image, timeout=timeout)
        inputs = dict(self.image_processor(image, return_tensors="pt"))
        inputs["target_size"] = (image.height, image.width)
        return inputs

    def _forward(self, model_inputs: dict[str, Any]):
        logits = self.model(pixel_values=model_inputs["pixel_values"]).logits  # (B, num_labels, h, w)
        return {"logits": logits, "target_size": model_inputs["target_size"]}

    def _unbatch(self, outputs: Any, batch: dict[str, Any], n: int) -> list[Any]:
        return [{"logits": outputs["logits"][i : i + 1], "target_size": outputs["target_size"][i]} for i in range(n)]

    def postprocess(self, outputs: dict[str, Any]) -> list[dict[str, Any]]:
        from PIL import Image

        (segmentation,) = self.image_processor.post_process_semantic_segmentation(
            outputs["logits"].float(), target_sizes=[outputs["target_size"]]
        )
        segmentation = segmentation.cpu().numpy()  # (H, W) class ids
        results = []
        for label in np.unique(segmentation):
            mask = ((segmentation == label) * 255).astype(np.uint8)
            results.append(
                {"score": None, "label": self.model.config.id2label[int(label)], "mask": Image.fromarray(mask)}
            )
        return results


def _array_to_pil(array: Any):
    """A pixel array (8-bit values; channels first or last) -> a PIL image."""
    from PIL import Image

    chw = to_channels_first(array)
    hwc = np.moveaxis(chw, 0, -1)
    if hwc.shape[-1] == 1:
        hwc = hwc[..., 0]
    if hwc.dtype != np.uint8:
        if not np.allclose(hwc, np.round(hwc)) or hwc.min() < 0 or hwc.max() > 255:
            from ..errors import InvalidImageError

            raise InvalidImageError("image-segmentation takes arrays of 8-bit pixel values (0..255)")
        hwc = hwc.astype(np.uint8)
    return Image.fromarray(np.ascontiguousarray(hwc))


__all__ = ["ImageSegmentationPipeline"]
