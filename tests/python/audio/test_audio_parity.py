"""Wav2Vec2, its feature extractor, resampling and the audio-classification pipeline against transformers.

Tiny random Wav2Vec2 classifiers are saved by transformers (the test-only reference) with `id2label` and
the `preprocessor_config.json` of transformers' Wav2Vec2FeatureExtractor: the base models' kind ("group"
feature norm, no attention mask) and the large models' kind ("layer" norm, stable layer norm, attention
masks, weighted layer sum). The speech is real: sentences synthesized by espeak-ng, which writes 22050 Hz
WAV files, so the pipeline must resample to the model's 16 kHz.

transformers resamples with torchaudio, which has no release for the torch we test with, so transformers is
given the 16 kHz samples of `ferroformers.processing.resample`, and that function is checked on its own:
against a direct evaluation of the windowed-sinc sum, and against samples recorded from torchaudio 2.11's
`resample` (they were equal to the last bit when recorded).
"""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
import soundfile
import torch
import transformers

import ferroformers
from ferroformers import InvalidAudioError, pipeline
from ferroformers.pipelines import KeyDataset
from ferroformers.processing import AutoFeatureExtractor, Wav2Vec2FeatureExtractor, load_audio, resample

ATOL = 1e-5
SENTENCES = (
    "The quick brown fox jumps over the lazy dog.",
    "Turn the lights off in the kitchen, please.",
    "Yes.",
)
LABELS = {i: word for i, word in enumerate(["yes", "no", "up", "down", "left", "right", "stop", "go"])}

transformers.logging.set_verbosity_error()


@pytest.fixture(scope="session")
def speech_files(tmp_path_factory) -> list[str]:
    """WAV files of synthesized speech, one per sentence (espeak-ng must be installed: see .ci/run)."""
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        raise FileNotFoundError("espeak-ng is not installed: apt-get install espeak-ng (the CI script does)")
    folder = tmp_path_factory.mktemp("speech")
    paths = []
    for i, sentence in enumerate(SENTENCES):
        path = folder / f"sentence{i}.wav"
        subprocess.run([espeak, "-w", str(path), sentence], check=True, capture_output=True)
        paths.append(str(path))
    return paths


def _read(path: str) -> tuple[np.ndarray, int]:
    samples, rate = soundfile.read(path, dtype="float32")
    return samples, rate


def _checkpoint(folder, layer_norm: bool) -> str:
    torch.manual_seed(0)
    config = transformers.Wav2Vec2Config(
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=37,
        conv_dim=(16, 16, 16),
        conv_stride=(5, 4, 4),
        conv_kernel=(10, 4, 4),
        num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=4,
        classifier_proj_size=24,
        feat_extract_norm="layer" if layer_norm else "group",
        do_stable_layer_norm=layer_norm,
        use_weighted_layer_sum=layer_norm,
        id2label=LABELS,
        label2id={v: k for k, v in LABELS.items()},
    )
    model = transformers.Wav2Vec2ForSequenceClassification(config).eval()
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for module in model.modules():  # norms that are not the identity, so a misplaced one shows
            if isinstance(module, (torch.nn.LayerNorm, torch.nn.GroupNorm)):
                module.weight.copy_(torch.rand(module.weight.shape, generator=g) + 0.5)
                module.bias.copy_(torch.rand(module.bias.shape, generator=g) * 0.2 - 0.1)
        model.classifier.weight.mul_(20.0)  # spread the scores: a ranking that means something
        if layer_norm:
            model.layer_weights.copy_(torch.rand(model.layer_weights.shape, generator=g))
    model.save_pretrained(folder)
    transformers.Wav2Vec2FeatureExtractor(return_attention_mask=layer_norm).save_pretrained(folder)
    return str(folder)


@pytest.fixture(scope="module")
def base_folder(tmp_path_factory) -> str:
    return _checkpoint(tmp_path_factory.mktemp("w2v_base"), layer_norm=False)


@pytest.fixture(scope="module")
def large_folder(tmp_path_factory) -> str:
    return _checkpoint(tmp_path_factory.mktemp("w2v_large"), layer_norm=True)


# --- model, resampling, feature extractor ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["base_folder", "large_folder"])
def test_wav2vec2_logits_match_transformers(kind, request, speech_files):
    folder = request.getfixturevalue(kind)
    waves = [resample(*_read(path), 16000) for path in speech_files]
    features = transformers.AutoFeatureExtractor.from_pretrained(folder)(
        waves, sampling_rate=16000, padding=True, return_attention_mask=True, return_tensors="pt"
    )
    reference = transformers.Wav2Vec2ForSequenceClassification.from_pretrained(folder).eval()
    model = ferroformers.AutoModelForAudioClassification.from_pretrained(folder)
    assert type(model).__name__ == "Wav2Vec2ForSequenceClassification"
    with torch.no_grad():
        for inputs in (features, {"input_values": features["input_values"][:1, :12000]}):
            want, got = reference(**inputs), model(**inputs, output_hidden_states=True)
            assert (got.logits - want.logits).abs().max().item() <= ATOL
        base = ferroformers.AutoModel.from_pretrained(folder)
        want = transformers.Wav2Vec2Model.from_pretrained(folder).eval()(**features).last_hidden_state
        assert (base(**features).last_hidden_state - want).abs().max().item() <= ATOL


def test_wav2vec2_save_round_trip_and_legacy_weight_norm_names(large_folder, tmp_path):
    model = ferroformers.AutoModelForAudioClassification.from_pretrained(large_folder)
    model.save_pretrained(tmp_path / "saved")
    reloaded, info = transformers.Wav2Vec2ForSequenceClassification.from_pretrained(
        tmp_path / "saved", output_loading_info=True
    )
    assert not info["missing_keys"] and not info["unexpected_keys"]
    x = torch.randn(1, 8000, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert (reloaded.eval()(x).logits - model(x).logits).abs().max().item() <= ATOL

    # Older checkpoints store the positional convolution's weight norm as weight_g / weight_v.
    from safetensors.torch import load_file, save_file

    state = load_file(tmp_path / "saved" / "model.safetensors")
    names = {"parametrizations.weight.original0": "weight_g", "parametrizations.weight.original1": "weight_v"}
    legacy = {}
    for key, value in state.items():
        for new, old in names.items():
            key = key.replace(new, old)
        legacy[key] = value
    assert any(k.endswith("weight_g") for k in legacy)
    save_file(legacy, tmp_path / "saved" / "model.safetensors", metadata={"format": "pt"})
    with torch.no_grad():
        again = ferroformers.AutoModelForAudioClassification.from_pretrained(tmp_path / "saved")
        assert torch.equal(again(x).logits, model(x).logits)


def _windowed_sinc_reference(x: np.ndarray, orig_rate: int, new_rate: int, zeros: int = 6) -> np.ndarray:
    """Each output sample as the plain sum: y(t) = Σ_n x[n] · c·sinc(c·(n/orig − t)) · hann, in float64, where c is
    0.99 of the lower rate (the low-pass cut-off) and the Hann window spans `zeros` zero crossings each side."""
    cutoff = min(orig_rate, new_rate) * 0.99
    out = np.empty(int(np.ceil(len(x) * new_rate / orig_rate)))
    n = np.arange(len(x))
    for m in range(len(out)):
        u = (n / orig_rate - m / new_rate) * cutoff  # distance in zero crossings
        near = np.abs(u) < zeros
        w = np.cos(np.pi * u[near] / zeros / 2) ** 2
        out[m] = np.sum(x[near] * np.sinc(u[near]) * w) * cutoff / orig_rate
    return out


def test_resample_is_the_windowed_sinc_sum(speech_files):
    samples, rate = _read(speech_files[2])
    assert rate == 22050  # espeak-ng's rate: the pipeline has to resample
    x = samples[:3000].astype(np.float64)
    for new_rate in (16000, 8000, 44100):
        got = resample(x, rate, new_rate)
        want = _windowed_sinc_reference(x, rate, new_rate)
        assert got.dtype == np.float64 and got.shape == want.shape
        assert np.abs(got - want).max() <= 1e-9
    assert resample(samples, rate, 16000).dtype == np.float32  # the input's precision is kept
    assert resample(samples, rate, rate) is samples


def test_resample_matches_recorded_torchaudio_samples():
    """torchaudio.functional.resample(chirp, 22050, 16000) in float32, recorded at eight output positions."""
    n = np.arange(4410)
    chirp = (np.sin(2 * np.pi * (200 + 0.5 * n) * n / 22050) * 0.5).astype(np.float32)
    recorded = {
        0: 0.0022587780840694904,
        1: 0.03896920755505562,
        7: 0.2669733762741089,
        100: -0.45344066619873047,
        1000: -0.20251666009426117,
        1599: 0.2934363782405853,
        2500: 0.254027783870697,
        3199: -0.4677391052246094,
    }
    got = resample(chirp, 22050, 16000)
    assert got.shape == (3200,)
    for index, value in recorded.items():
        assert abs(float(got[index]) - value) <= 1e-7


def test_feature_extractor_matches_transformers(base_folder, large_folder, speech_files):
    waves = [resample(*_read(path), 16000) for path in speech_files]
    for folder in (base_folder, large_folder):
        reference = transformers.AutoFeatureExtractor.from_pretrained(folder)
        ours = AutoFeatureExtractor.from_pretrained(folder)
        assert type(ours) is Wav2Vec2FeatureExtractor
        for call in (
            dict(raw_speech=waves[0]),
            dict(raw_speech=waves, padding=True),
            dict(raw_speech=waves, padding="max_length", max_length=40000, truncation=True),
            dict(raw_speech=[w.astype(np.float64) for w in waves], padding=True, return_attention_mask=True),
        ):
            want = reference(**call, sampling_rate=16000, return_tensors="np")
            got = ours(**call, sampling_rate=16000)
            assert sorted(got) == sorted(want)
            for key in got:
                assert got[key].shape == want[key].shape
                assert np.abs(got[key] - want[key]).max() <= ATOL
    with pytest.raises(InvalidAudioError, match="22050 Hz"):
        ours(waves[0], sampling_rate=22050)  # as transformers: the extractor itself never resamples


# --- pipeline --------------------------------------------------------------------------------------------------


def _same(got, want) -> None:
    assert [d["label"] for d in got] == [d["label"] for d in want]
    for a, b in zip(got, want):
        assert abs(a["score"] - b["score"]) <= ATOL


@pytest.mark.parametrize("kind", ["base_folder", "large_folder"])
def test_audio_classification_pipeline_matches_transformers(kind, request, speech_files):
    folder = request.getfixturevalue(kind)
    reference = transformers.pipeline("audio-classification", model=folder)
    classify = pipeline("audio-classification", model=folder)
    # transformers decodes files with ffmpeg and resamples with torchaudio: it is given the samples soundfile
    # reads, resampled to 16 kHz; ferroformers reads the 22050 Hz files and resamples itself.
    records = [dict(zip(("array", "sampling_rate"), _read(path))) for path in speech_files]
    at_16k = [{"array": resample(r["array"], r["sampling_rate"], 16000), "sampling_rate": 16000} for r in records]
    wanted = reference(at_16k)
    for got, want in zip(classify(speech_files), wanted):
        assert len(got) == len(LABELS)  # every label by default, best first
        _same(got, want)
    for got, want in zip(classify(records, batch_size=2, top_k=3), reference(at_16k, batch_size=2, top_k=3)):
        assert len(got) == 3
        _same(got, want)

    samples, rate = _read(speech_files[1])
    with open(speech_files[1], "rb") as f:
        _same(classify(f.read()), wanted[1])  # the bytes of the file
    _same(classify({"raw": samples, "sampling_rate": rate}), wanted[1])
    _same(classify(samples, sampling_rate=rate), wanted[1])  # an array and its rate
    _same(classify(torch.from_numpy(at_16k[1]["array"])), wanted[1])  # at the model's rate already
    _same(classify(records[0], function_to_apply="sigmoid"), reference(at_16k[0], function_to_apply="sigmoid"))


def test_audio_pipeline_over_a_dataset_column_and_task_inference(base_folder, speech_files):
    import datasets

    dataset = datasets.Dataset.from_dict({"file": speech_files})
    classify = pipeline(model=base_folder, top_k=2)
    assert classify.task == "audio-classification"
    assert type(classify.feature_extractor) is Wav2Vec2FeatureExtractor
    streamed = list(classify(KeyDataset(dataset, "file")))
    assert len(streamed) == len(speech_files)
    for got, path in zip(streamed, speech_files):
        assert got == classify(path)
    waveform, rate = load_audio(speech_files[2])
    assert rate == 22050 and waveform.dtype == np.float32 and waveform.ndim == 1


def test_bad_audio_raises_clear_errors(base_folder, tmp_path, monkeypatch):
    classify = pipeline("audio-classification", model=base_folder)
    not_audio = tmp_path / "notes.wav"
    not_audio.write_text("this is text, not a WAV file")
    with pytest.raises(InvalidAudioError, match="cannot read audio"):
        classify(str(not_audio))
    with pytest.raises(InvalidAudioError, match="cannot read audio"):
        classify(b"RIFF....WAVEfmt truncated")
    with pytest.raises(InvalidAudioError, match="neither an existing audio file"):
        classify("no/such/file.wav")
    with pytest.raises(InvalidAudioError, match="empty"):
        classify(np.zeros(0, dtype=np.float32))
    with pytest.raises(InvalidAudioError, match="one channel"):
        classify(np.zeros((16000, 2), dtype=np.float32))
    with pytest.raises(InvalidAudioError, match="sampling_rate"):
        classify({"array": np.zeros(16000, dtype=np.float32)})
    with pytest.raises(ValueError, match="sampling_rate"):
        classify(np.zeros(16000, dtype=np.float32), sampling_rate=0)
    stereo = tmp_path / "stereo.wav"
    soundfile.write(stereo, np.zeros((16000, 2), dtype=np.float32), 16000)
    assert len(classify(str(stereo))) == len(LABELS)  # a file's channels are averaged, as ffmpeg's -ac 1 does
    assert issubclass(InvalidAudioError, ValueError)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(InvalidAudioError, match="HF_HUB_OFFLINE"):
        classify("https://example.com/speech.wav")
