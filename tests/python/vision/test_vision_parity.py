"""ViT and SegFormer, their image processors and the image pipelines against transformers, on real photographs.

Tiny random checkpoints are saved by transformers (the test-only reference) with `id2label` and the
`preprocessor_config.json` of transformers' own image processor; ferroformers loads the folders. The inputs
are the sample photographs scikit-image ships (astronaut, coffee, chelsea, rocket, camera), as files, PIL
images and numpy arrays. Logits and pixels must agree within 1e-5, labels exactly, masks pixel for pixel.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
import skimage.data
import torch
import transformers
from PIL import Image

import ferroformers
from ferroformers import InvalidImageError, pipeline
from ferroformers.pipelines import KeyDataset
from ferroformers.processing import AutoImageProcessor, ImageProcessor, SegformerImageProcessor, ViTImageProcessor

ATOL = 1e-5
PHOTOS = ("astronaut", "coffee", "chelsea", "rocket")
LABELS = {i: name for i, name in enumerate(["person", "cup", "cat", "rocket", "sky", "ground"])}

transformers.logging.set_verbosity_error()


def _photo(name: str) -> np.ndarray:
    return getattr(skimage.data, name)()  # (H, W, 3) uint8


@pytest.fixture(scope="module")
def photos() -> dict[str, np.ndarray]:
    return {name: _photo(name) for name in PHOTOS}


@pytest.fixture(scope="module")
def photo_files(tmp_path_factory, photos) -> list[str]:
    """The photographs as files: PNG (lossless) and JPEG, which both libraries decode with Pillow."""
    folder = tmp_path_factory.mktemp("photos")
    paths = []
    for i, (name, pixels) in enumerate(photos.items()):
        path = folder / f"{name}.{'png' if i % 2 == 0 else 'jpg'}"
        Image.fromarray(pixels).save(path)
        paths.append(str(path))
    return paths


def _label_kwargs() -> dict:
    return {"id2label": LABELS, "label2id": {v: k for k, v in LABELS.items()}}


@pytest.fixture(scope="module")
def vit_folder(tmp_path_factory) -> str:
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("vit")
    config = transformers.ViTConfig(
        image_size=64,
        patch_size=8,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=37,
        **_label_kwargs(),
    )
    model = transformers.ViTForImageClassification(config).eval()
    _perturb_norms(model)
    model.save_pretrained(folder)
    transformers.ViTImageProcessorPil(size={"height": 64, "width": 64}).save_pretrained(folder)
    return str(folder)


@pytest.fixture(scope="module")
def segformer_folder(tmp_path_factory) -> str:
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("segformer")
    config = transformers.SegformerConfig(
        hidden_sizes=[8, 16, 24, 32],
        num_attention_heads=[1, 2, 2, 4],
        depths=[1, 2, 1, 1],
        decoder_hidden_size=16,
        **_label_kwargs(),
    )
    model = transformers.SegformerForSemanticSegmentation(config).eval()
    _perturb_norms(model)
    with torch.no_grad():
        # a classifier with a strong spread, so several classes win pixels and masks have shapes
        model.decode_head.classifier.weight.mul_(40.0)
    model.save_pretrained(folder)
    transformers.SegformerImageProcessorPil(size={"height": 128, "width": 128}).save_pretrained(folder)
    return str(folder)


def _perturb_norms(model) -> None:
    """Random LayerNorm / BatchNorm statistics and affine weights: a fresh model's are 1 and 0, which would
    hide a norm applied in the wrong place."""
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, (torch.nn.LayerNorm, torch.nn.BatchNorm2d)):
                module.weight.copy_(torch.rand(module.weight.shape, generator=g) + 0.5)
                module.bias.copy_(torch.rand(module.bias.shape, generator=g) * 0.2 - 0.1)
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.copy_(torch.rand(module.running_mean.shape, generator=g) * 0.2 - 0.1)
                module.running_var.copy_(torch.rand(module.running_var.shape, generator=g) + 0.5)


# --- models ----------------------------------------------------------------------------------------------------


def test_vit_logits_match_transformers(vit_folder, photos):
    pixels = transformers.AutoImageProcessor.from_pretrained(vit_folder)(list(photos.values()), return_tensors="pt")
    reference = transformers.ViTForImageClassification.from_pretrained(vit_folder).eval()
    model = ferroformers.AutoModelForImageClassification.from_pretrained(vit_folder)
    assert type(model).__name__ == "ViTForImageClassification"
    with torch.no_grad():
        want = reference(**pixels, output_hidden_states=True)
        got = model(**pixels, output_hidden_states=True)
    assert (got.logits - want.logits).abs().max().item() <= ATOL
    assert len(got.hidden_states) == len(want.hidden_states)
    for a, b in zip(got.hidden_states, want.hidden_states):
        assert (a - b).abs().max().item() <= ATOL


def test_vit_base_model_and_save_round_trip(vit_folder, tmp_path, photos):
    pixels = ViTImageProcessor(size={"height": 64, "width": 64})(photos["chelsea"], return_tensors="pt")
    base = ferroformers.AutoModel.from_pretrained(vit_folder)  # the classifier's checkpoint, its ViT part
    reference_base = transformers.ViTModel.from_pretrained(vit_folder).eval()  # pooler newly initialised there
    with torch.no_grad():
        got, want = base(**pixels).last_hidden_state, reference_base(**pixels).last_hidden_state
    assert type(base).__name__ == "ViTModel"
    assert (got - want).abs().max().item() <= ATOL

    model = ferroformers.AutoModelForImageClassification.from_pretrained(vit_folder)
    model.save_pretrained(tmp_path)
    reloaded, info = transformers.ViTForImageClassification.from_pretrained(tmp_path, output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"]
    with torch.no_grad():
        assert (reloaded.eval()(**pixels).logits - model(**pixels).logits).abs().max().item() <= ATOL


def test_segformer_logits_match_transformers(segformer_folder, photos):
    processor = transformers.AutoImageProcessor.from_pretrained(segformer_folder)
    pixels = processor(list(photos.values()), return_tensors="pt")
    reference = transformers.SegformerForSemanticSegmentation.from_pretrained(segformer_folder).eval()
    model = ferroformers.AutoModelForSemanticSegmentation.from_pretrained(segformer_folder)
    with torch.no_grad():
        want, got = reference(**pixels).logits, model(**pixels).logits
    assert got.shape == want.shape == (len(photos), len(LABELS), 32, 32)
    assert (got - want).abs().max().item() <= ATOL


def test_segformer_save_round_trip(segformer_folder, tmp_path, photos):
    model = ferroformers.AutoModelForSemanticSegmentation.from_pretrained(segformer_folder)
    model.save_pretrained(tmp_path)
    reloaded, info = transformers.SegformerForSemanticSegmentation.from_pretrained(tmp_path, output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"]
    pixels = SegformerImageProcessor(size=128)(photos["coffee"], return_tensors="pt")
    with torch.no_grad():
        assert (reloaded.eval()(**pixels).logits - model(**pixels).logits).abs().max().item() <= ATOL


# --- image processors ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("folder_fixture", ["vit_folder", "segformer_folder"])
def test_image_processor_pixels_match_transformers(folder_fixture, request, photos):
    folder = request.getfixturevalue(folder_fixture)
    reference = transformers.AutoImageProcessor.from_pretrained(folder)
    ours = AutoImageProcessor.from_pretrained(folder)
    pil = Image.fromarray(photos["astronaut"])
    as_float = photos["coffee"].astype(np.float32) / 255  # floats in [0, 1], resized through 8 bits
    channels_first = np.moveaxis(photos["rocket"], -1, 0).copy()
    for image in (pil, photos["chelsea"], as_float, channels_first, torch.from_numpy(photos["astronaut"])):
        want = reference(image, return_tensors="np")["pixel_values"]
        got = ours(image)["pixel_values"]
        assert got.dtype == np.float32 and got.shape == want.shape
        assert np.abs(got - want).max() <= ATOL
    batch = ours(list(photos.values()), return_tensors="pt")["pixel_values"]
    assert isinstance(batch, torch.Tensor) and batch.shape[0] == len(photos)


def test_center_crop_and_shortest_edge_match_transformers(photos):
    """Steps ViT does not use: resize of the short side, then a center crop (DeiT's and CLIP's recipes)."""
    deit = transformers.DeiTImageProcessorPil()  # 256x256 bicubic, center crop 224
    ours = ImageProcessor(**{k: v for k, v in deit.to_dict().items() if k in ImageProcessor._FIELDS})
    clip = transformers.CLIPImageProcessorPil(do_convert_rgb=False)  # shortest edge 224, crop 224, bicubic
    ours_clip = ImageProcessor(**{k: v for k, v in clip.to_dict().items() if k in ImageProcessor._FIELDS})
    for name in ("coffee", "chelsea"):
        for reference, processor in ((deit, ours), (clip, ours_clip)):
            want = reference(photos[name], return_tensors="np")["pixel_values"]
            got = processor(photos[name])["pixel_values"]
            assert got.shape == want.shape == (1, 3, 224, 224)
            assert np.abs(got - want).max() <= ATOL
    small = np.full((100, 90, 3), 200, dtype=np.uint8)  # smaller than the crop: zero padding around it
    want = deit.center_crop(
        np.moveaxis(small, -1, 0), size=transformers.image_processing_backends.SizeDict(height=120, width=110)
    )
    from ferroformers.processing.image_processing import center_crop

    assert np.array_equal(center_crop(np.moveaxis(small, -1, 0), (120, 110)), want)


# --- pipelines -------------------------------------------------------------------------------------------------


def _same_classification(got, want) -> None:
    assert [d["label"] for d in got] == [d["label"] for d in want]
    for a, b in zip(got, want):
        assert abs(a["score"] - b["score"]) <= ATOL


def test_image_classification_pipeline_matches_transformers(vit_folder, photo_files, photos):
    reference = transformers.pipeline("image-classification", model=vit_folder)
    classify = pipeline("image-classification", model=vit_folder)
    pils = [Image.open(p) for p in photo_files]

    for got, want in zip(classify(photo_files), reference(photo_files)):
        assert len(got) == 5  # the default top_k
        _same_classification(got, want)
    for got, want in zip(classify(pils, batch_size=3, top_k=2), reference(pils, batch_size=3, top_k=2)):
        _same_classification(got, want)
    one = classify(photos["chelsea"], top_k=10)  # a numpy array; top_k beyond the labels gives them all
    assert len(one) == len(LABELS)
    _same_classification(one, reference(photos["chelsea"], top_k=10))
    _same_classification(
        classify(photo_files[0], function_to_apply="sigmoid"), reference(photo_files[0], function_to_apply="sigmoid")
    )


def test_image_classification_over_a_dataset_column(vit_folder, photo_files):
    import datasets

    dataset = datasets.Dataset.from_dict({"image": photo_files, "id": list(range(len(photo_files)))})
    classify = pipeline("image-classification", model=vit_folder, batch_size=2)
    streamed = list(classify(KeyDataset(dataset, "image"), top_k=2))
    assert len(streamed) == len(photo_files)
    for got, path in zip(streamed, photo_files):  # batched rows round differently in the last bits
        _same_classification(got, classify(path, top_k=2))


def test_image_segmentation_pipeline_matches_transformers(segformer_folder, photo_files):
    reference = transformers.pipeline("image-segmentation", model=segformer_folder)
    segment = pipeline("image-segmentation", model=segformer_folder)
    for got, want in zip(segment(photo_files, batch_size=2), reference(photo_files)):
        assert [r["label"] for r in got] == [r["label"] for r in want]
        assert len(got) > 1  # several classes win pixels: the masks have real shapes
        for a, b in zip(got, want):
            assert a["score"] is None and b["score"] is None
            assert a["mask"].mode == b["mask"].mode == "L" and a["mask"].size == b["mask"].size
            assert np.array_equal(np.array(a["mask"]), np.array(b["mask"]))
    photo = Image.open(photo_files[1])
    from_array = segment(np.array(photo))  # a numpy array: read as the same 8-bit image
    assert [r["label"] for r in from_array] == [r["label"] for r in segment(photo)]
    assert from_array[0]["mask"].size == photo.size  # masks at the input's size, not the model's


def test_pipeline_infers_vision_tasks_and_loads_the_processor(vit_folder, segformer_folder):
    classify = pipeline(model=vit_folder)
    assert classify.task == "image-classification" and type(classify.image_processor) is ViTImageProcessor
    segment = pipeline(model=segformer_folder)
    assert segment.task == "image-segmentation" and type(segment.image_processor) is SegformerImageProcessor
    assert segment.image_processor.size == {"height": 128, "width": 128}
    given = ViTImageProcessor(size={"height": 64, "width": 64})
    assert pipeline("image-classification", model=vit_folder, image_processor=given).image_processor is given
    with pytest.raises(ValueError, match="image_processor="):
        pipeline("image-classification", model=vit_folder, tokenizer=vit_folder)


# --- bad input -------------------------------------------------------------------------------------------------


def test_bad_images_raise_clear_errors(vit_folder, segformer_folder, tmp_path, monkeypatch):
    classify = pipeline("image-classification", model=vit_folder)
    not_an_image = tmp_path / "notes.png"
    not_an_image.write_text("this is text, not a PNG")
    with pytest.raises(InvalidImageError, match="cannot read an image"):
        classify(str(not_an_image))
    with pytest.raises(InvalidImageError, match="cannot read an image"):
        classify(b"\x89PNG but truncated")
    with pytest.raises(InvalidImageError, match="not an image"):
        classify("no/such/file.jpg")
    with pytest.raises(InvalidImageError, match="empty"):
        classify(np.zeros((0, 10, 3), dtype=np.uint8))
    with pytest.raises(InvalidImageError, match="channel"):
        classify(np.zeros((32, 32, 4), dtype=np.uint8))  # RGBA pixels for an RGB model
    with pytest.raises(InvalidImageError, match="channels"):
        classify(np.zeros((32, 32, 5), dtype=np.uint8))
    with pytest.raises(InvalidImageError, match=r"\[0, 1\]"):
        classify(np.full((32, 32, 3), 3.5, dtype=np.float32))
    assert issubclass(InvalidImageError, ValueError)

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(InvalidImageError, match="HF_HUB_OFFLINE"):
        classify("https://example.com/cat.png")
    segment = pipeline("image-segmentation", model=segformer_folder)
    with pytest.raises(ValueError, match="subtask"):
        segment(str(not_an_image), subtask="panoptic")
    with pytest.raises(TypeError, match="threshold"):
        segment(np.zeros((32, 32, 3), dtype=np.uint8), threshold=0.5)


def test_image_bytes_and_grayscale_inputs(vit_folder, photos):
    classify = pipeline("image-classification", model=vit_folder)
    buffer = io.BytesIO()
    Image.fromarray(photos["astronaut"]).save(buffer, format="PNG")
    assert classify(buffer.getvalue()) == classify(Image.fromarray(photos["astronaut"]))
    # a grayscale photograph given as a PIL image is converted to RGB, as transformers' load_image does
    camera = Image.fromarray(skimage.data.camera())
    reference = transformers.pipeline("image-classification", model=vit_folder)
    _same_classification(classify(camera), reference(camera))
