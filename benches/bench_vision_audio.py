"""Image-classification, image-segmentation and audio-classification throughput: ferroformers beside
transformers, same models, same inputs.

No pretrained vision or audio checkpoint ships in a package, so each model is randomly initialised at a real
size by transformers (seeded) and saved with transformers' image processor or feature extractor: ViT-S/16
(22 M parameters, 224x224), SegFormer-B0 (3.7 M, 512x512) and a 4-layer Wav2Vec2 (the base model's
convolutional front end, 256 wide). The inputs are real: scikit-image's sample photographs as files, and
sentences synthesized by espeak-ng. Both audio pipelines get the same 16 kHz samples (`{"array",
"sampling_rate"}` dicts): transformers decodes files with ffmpeg and resamples with torchaudio, neither of
which the test environment has; an extra row times ferroformers on the 22050 Hz WAV files themselves
(decoding and resampling included). Each side runs ``--runs`` times, alternating, after a warm-up, and the
best run counts; outputs are checked to agree before any figure is printed.

    python benches/bench_vision_audio.py                 # about three minutes on two cores
    python benches/bench_vision_audio.py --images 8 --clips 6 --runs 1
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import transformers

SENTENCES = (
    "The quick brown fox jumps over the lazy dog.",
    "Turn the lights off in the kitchen, please.",
    "Set a timer for ten minutes.",
    "What is the weather like tomorrow?",
)
LABELS = [f"class_{i}" for i in range(10)]


def label_kwargs() -> dict:
    return {"id2label": dict(enumerate(LABELS)), "label2id": {label: i for i, label in enumerate(LABELS)}}


def build_models(root: Path) -> dict[str, Path]:
    torch.manual_seed(0)
    folders = {name: root / name for name in ("vit", "segformer", "wav2vec2")}
    vit = transformers.ViTConfig(
        hidden_size=384, num_hidden_layers=12, num_attention_heads=6, intermediate_size=1536, **label_kwargs()
    )
    transformers.ViTForImageClassification(vit).save_pretrained(folders["vit"])
    transformers.ViTImageProcessorPil().save_pretrained(folders["vit"])
    transformers.SegformerForSemanticSegmentation(transformers.SegformerConfig(**label_kwargs())).save_pretrained(
        folders["segformer"]
    )
    transformers.SegformerImageProcessorPil().save_pretrained(folders["segformer"])
    wav2vec2 = transformers.Wav2Vec2Config(
        hidden_size=256, num_hidden_layers=4, num_attention_heads=4, intermediate_size=1024, **label_kwargs()
    )
    transformers.Wav2Vec2ForSequenceClassification(wav2vec2).save_pretrained(folders["wav2vec2"])
    transformers.Wav2Vec2FeatureExtractor().save_pretrained(folders["wav2vec2"])
    return folders


def photo_files(folder: Path, count: int) -> list[str]:
    import skimage.data
    from PIL import Image

    names = ("astronaut", "coffee", "chelsea", "rocket", "immunohistochemistry")
    paths = []
    for i in range(count):
        path = folder / f"photo{i}.png"
        Image.fromarray(getattr(skimage.data, names[i % len(names)])()).save(path)
        paths.append(str(path))
    return paths


def speech_clips(folder: Path, count: int) -> list[str]:
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        raise SystemExit("espeak-ng is needed for the audio inputs: apt-get install espeak-ng")
    paths = []
    for i in range(count):
        path = folder / f"clip{i}.wav"
        subprocess.run([espeak, "-w", str(path), SENTENCES[i % len(SENTENCES)]], check=True, capture_output=True)
        paths.append(str(path))
    return paths


def check_classification(ours: list, theirs: list) -> None:
    worst = 0.0
    for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        if [d["label"] for d in a] != [d["label"] for d in b]:
            raise AssertionError(f"input {i}: labels differ")
        worst = max([worst, *(abs(x["score"] - y["score"]) for x, y in zip(a, b))])
    if worst > 1e-4:
        raise AssertionError(f"scores differ by up to {worst:.2e}")


def check_segmentation(ours: list, theirs: list) -> None:
    for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        if [r["label"] for r in a] != [r["label"] for r in b]:
            raise AssertionError(f"image {i}: labels differ")
        if not all(np.array_equal(np.array(x["mask"]), np.array(y["mask"])) for x, y in zip(a, b)):
            raise AssertionError(f"image {i}: masks differ")


def time_pair(ours, theirs, our_inputs, their_inputs, runs: int, batch_size: int) -> tuple[float, float, list, list]:
    results = [ours(our_inputs[:2], batch_size=batch_size), theirs(their_inputs[:2], batch_size=batch_size)]
    best = [float("inf"), float("inf")]
    for run in range(runs):
        order = (0, 1) if run % 2 == 0 else (1, 0)
        for side in order:
            pipe, inputs = (ours, our_inputs) if side == 0 else (theirs, their_inputs)
            start = time.perf_counter()
            results[side] = pipe(inputs, batch_size=batch_size)
            best[side] = min(best[side], time.perf_counter() - start)
    return best[0], best[1], results[0], results[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=16)
    parser.add_argument("--clips", type=int, default=16)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()

    import soundfile

    import ferroformers
    from ferroformers.processing import resample

    transformers.logging.set_verbosity_error()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        folders = build_models(root)
        images = photo_files(root, args.images)
        clips = speech_clips(root, args.clips)
        decoded = []
        for path in clips:
            samples, rate = soundfile.read(path, dtype="float32")
            decoded.append({"array": resample(samples, rate, 16000), "sampling_rate": 16000})

        # (row name, task, model, folder, ferroformers' inputs, transformers' inputs, agreement check, unit)
        image, segment, audio = "image-classification", "image-segmentation", "audio-classification"
        w2v = "Wav2Vec2, 4 layers"
        cases = [
            (image, image, "ViT-S/16", "vit", images, images, check_classification),
            (segment, segment, "SegFormer-B0", "segformer", images, images, check_segmentation),
            (audio, audio, w2v, "wav2vec2", decoded, decoded, check_classification),
            (f"{audio}, ours from WAV", audio, w2v, "wav2vec2", clips, decoded, check_classification),
        ]
        for row, task, model_name, key, our_inputs, their_inputs, check in cases:
            ours = ferroformers.pipeline(task, model=folders[key])
            theirs = transformers.pipeline(task, model=str(folders[key]), device="cpu")
            mine, reference, a, b = time_pair(ours, theirs, our_inputs, their_inputs, args.runs, args.batch_size)
            check(a, b)
            unit = "clips" if task.startswith("audio") else "images"
            rows.append((row, model_name, len(our_inputs), unit, mine, reference))

    print(
        f"vision and audio pipelines, random-weight models at real sizes, batch_size={args.batch_size}, "
        f"{torch.get_num_threads()} threads, best of {args.runs}; outputs agree (same labels, identical masks)\n"
    )
    print("| task | model | inputs | transformers s | ferroformers s | ferroformers inputs/s | vs transformers |")
    print("|---|---|---|---|---|---|---|")
    for task, model_name, n, unit, mine, reference in rows:
        print(
            f"| {task} | {model_name} | {n} {unit} | {reference:.2f} | {mine:.2f} | {n / mine:.1f} | "
            f"{reference / mine:.2f}x |"
        )


if __name__ == "__main__":
    main()
