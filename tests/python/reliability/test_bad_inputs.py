"""Bad inputs across the public API: each case ends in a documented exception with a message that says
what to do, never a crash, a hang or a traceback from deep inside.

The matrix: tokenizers (wrong types, None, empty and nested lists, lone surrogates, out-of-range ids even
past 64 bits, a folder given as the tokenizer file, a 4 MB text and a 100 MB one through the ids-only path),
model loading (malformed config.json, truncated or lying safetensors, missing files, paths that do not
exist, remote code, an unknown dtype), generate (NaN / inf logits, bad options, ids outside the
vocabulary), pipeline (no task or model, unknown task, wrong input types), TrainingArguments (values out
of range, named with their range) / Trainer and the command line. Cases that could take the interpreter
down (the huge texts) run in a subprocess.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import transformers

import ferroformers as ff
from ferroformers.errors import (
    CheckpointNotFoundError,
    FerroformersError,
    GenerationError,
    InvalidArgumentError,
    InvalidTokenIdError,
    ModelFileError,
    ModelNotFoundError,
    PipelineError,
    TokenizationError,
    TokenizerFileError,
    TokenizerFileIsADirectoryError,
    TokenizerFileNotFoundError,
    TrainerError,
    UnsupportedModelError,
)


@pytest.fixture(scope="module")
def tok(tokenizers_dir):
    return ff.Tokenizer.from_file(str(tokenizers_dir / "gpt2" / "tokenizer.json"))


@pytest.fixture(scope="module")
def auto_tok(tokenizers_dir):
    return ff.AutoTokenizer.from_pretrained(tokenizers_dir / "gpt2")


FUZZ_REGRESSIONS = Path(__file__).resolve().parents[3] / "fuzz" / "regressions"

# (case id, call on the low-level Tokenizer, exception type, message fragment)
TOKENIZER_CASES = [
    ("encode-None", lambda t: t.encode(None), TypeError, "pass a str"),
    ("encode-int", lambda t: t.encode(5), TypeError, "must be a str, got int"),
    ("encode-bytes", lambda t: t.encode(b"abc"), TypeError, "got bytes"),
    ("encode-list", lambda t: t.encode(["a"]), TypeError, "got list"),
    ("encode-lone-surrogate", lambda t: t.encode("a\ud800b"), TokenizationError, "lone surrogates"),
    ("encode_batch-None", lambda t: t.encode_batch(None), TypeError, "expects a list of texts"),
    ("encode_batch-[None]", lambda t: t.encode_batch([None]), TypeError, "batch item 0 is None"),
    ("encode_batch-nested", lambda t: t.encode_batch([[[["a"]]]]), TypeError, "a pair must have exactly 2"),
    ("encode_batch-deep", lambda t: t.encode_batch([[[[[[[[[[["a"]]]]]]]]]]]), TypeError, "batch item 0"),
    ("encode_batch-surrogate", lambda t: t.encode_batch(["ok", "\udfff"]), TokenizationError, "batch item 1"),
    ("decode-negative", lambda t: t.decode([-1]), InvalidTokenIdError, "token id -1 is out of range"),
    ("decode-too-large", lambda t: t.decode([10**6]), InvalidTokenIdError, "the vocabulary has 50257 tokens"),
    ("decode-2**70", lambda t: t.decode([5, 2**70]), InvalidTokenIdError, f"token id {2**70} is out of range"),
    ("decode-str", lambda t: t.decode("abc"), TypeError, "ids"),
    ("decode-None", lambda t: t.decode(None), TypeError, "ids"),
    ("decode-float", lambda t: t.decode([1.5]), TypeError, "integer"),
    ("decode_batch-negative", lambda t: t.decode_batch([[1], [-1]]), InvalidTokenIdError, "out of range"),
    ("decode_batch-2**70", lambda t: t.decode_batch([[1], [-(2**70)]]), InvalidTokenIdError, "out of range"),
    ("decode_batch-float", lambda t: t.decode_batch([[1], [0.5]]), TypeError, "sequences[1] must be a list of integer"),
    ("enable_padding-huge-length", lambda t: t.enable_padding(length=2**40), TokenizationError, "larger than"),
    (
        "enable_padding-huge-multiple",
        lambda t: t.enable_padding(pad_to_multiple_of=2**64 - 1),
        TokenizationError,
        "pad_to_multiple_of 18446744073709551615 is larger than",
    ),
    (
        "from_file-huge-padding",  # found by the fuzzer: it made encode abort on allocation
        lambda t: ff.Tokenizer.from_file(str(FUZZ_REGRESSIONS / "tokenizer_json-pad-to-multiple-of-u64-max.json")),
        TokenizerFileError,
        "padding",
    ),
    ("from_str-truncated", lambda t: ff.Tokenizer.from_str('{"model": '), TokenizerFileError, "truncated"),
    ("from_str-None", lambda t: ff.Tokenizer.from_str(None), TypeError, "json"),
    (
        "from_file-missing",
        lambda t: ff.Tokenizer.from_file("/does/not/exist/tokenizer.json"),
        TokenizerFileNotFoundError,
        "No such file",
    ),
]

AUTO_TOKENIZER_CASES = [
    ("call-None", lambda t: t(None), TokenizationError, "You need to specify `text`"),
    ("call-int", lambda t: t(5), TokenizationError, "text must be a str, got int"),
    ("call-empty-list", lambda t: t([]), TokenizationError, "Pass at least one text"),
    ("call-nested", lambda t: t([[["a"]]]), TokenizationError, "(text, text_pair) pair"),
    ("call-surrogate", lambda t: t("\ud800"), TokenizationError, "lone surrogates"),
    ("call-padding", lambda t: t("a", padding="bogus"), TokenizationError, "not a valid PaddingStrategy"),
    ("call-truncation", lambda t: t("a", truncation="bogus"), TokenizationError, "not a valid TruncationStrategy"),
    ("call-max_length", lambda t: t("a", truncation=True, max_length=-1), TokenizationError, "non-negative int"),
    ("call-max_length-str", lambda t: t("a", max_length="8"), TokenizationError, "non-negative int"),
    ("call-return_tensors", lambda t: t("a", return_tensors="tf"), TokenizationError, "'pt', 'np' or None"),
    ("call-unknown-kwarg", lambda t: t("a", bogus=1), TypeError, "unexpected keyword argument 'bogus'"),
    ("decode-negative", lambda t: t.decode([-1]), InvalidTokenIdError, "ids must be in [0, 50257)"),
    ("decode-too-large", lambda t: t.decode([10**9]), InvalidTokenIdError, "out of range"),
    (
        "from_pretrained-missing",
        lambda t: ff.AutoTokenizer.from_pretrained("/does/not/exist"),
        ModelNotFoundError,
        "not a local folder",
    ),
    (
        "from_pretrained-dotdot",
        lambda t: ff.AutoTokenizer.from_pretrained("../../does-not-exist"),
        ModelNotFoundError,
        "not a local folder",
    ),
]


def check(call, arg, exc_type, fragment):
    with pytest.raises(exc_type) as info:
        call(arg)
    assert fragment in str(info.value)
    return info.value


@pytest.mark.parametrize(
    "call,exc_type,fragment", [c[1:] for c in TOKENIZER_CASES], ids=[c[0] for c in TOKENIZER_CASES]
)
def test_tokenizer_bad_input(tok, call, exc_type, fragment):
    check(call, tok, exc_type, fragment)


@pytest.mark.parametrize(
    "call,exc_type,fragment", [c[1:] for c in AUTO_TOKENIZER_CASES], ids=[c[0] for c in AUTO_TOKENIZER_CASES]
)
def test_auto_tokenizer_bad_input(auto_tok, call, exc_type, fragment):
    error = check(call, auto_tok, exc_type, fragment)
    if exc_type is not TypeError:  # wrong argument types stay plain TypeErrors, as in Python itself
        assert isinstance(error, FerroformersError)


def test_auto_tokenizer_refuses_remote_code(tokenizers_dir):
    with pytest.raises(UnsupportedModelError, match="does not run remote code") as info:
        ff.AutoTokenizer.from_pretrained(tokenizers_dir / "gpt2", trust_remote_code=True)
    assert isinstance(info.value, ValueError)


def test_empty_batch_encodes_to_nothing(tok):
    assert tok.encode_batch([]) == []


def test_tokenizer_from_file_on_a_folder(tokenizers_dir):
    folder = tokenizers_dir / "gpt2"
    with pytest.raises(TokenizerFileIsADirectoryError) as info:
        ff.Tokenizer.from_file(str(folder))
    assert isinstance(info.value, IsADirectoryError) and isinstance(info.value, FerroformersError)
    assert str(folder / "tokenizer.json") in str(info.value) and "AutoTokenizer.from_pretrained" in str(info.value)


def test_id_to_token_past_64_bits_is_no_token(tok):
    assert tok.id_to_token(2**70) is None and tok.id_to_token(-1) is None and tok.id_to_token(50256) == "<|endoftext|>"


# The peak resident memory of this process image: VmHWM of /proc/self/status. (`ru_maxrss` is not
# used: on Linux it keeps the high-water mark of the process before exec, i.e. of a big forked
# test runner.)
PEAK_RSS_MB = """
def peak_rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) // 1024
    raise RuntimeError("no VmHWM in /proc/self/status")
"""

HUGE_TEXT_SCRIPT = (
    PEAK_RSS_MB
    + """
import sys, time
import ferroformers as ff
tok = ff.Tokenizer.from_file(sys.argv[1])
paragraph = open(sys.argv[2], encoding="utf-8").read()[:100_000]
size = int(sys.argv[3])
text = (paragraph * (size // len(paragraph) + 1))[:size]
start = time.perf_counter()
encoding = tok.encode(text)
elapsed = time.perf_counter() - start
assert encoding.offsets[-1][1] <= len(text) and len(encoding.ids) > size // 10
print(elapsed, peak_rss_mb())
"""
)


def run_big_text_script(script, size, tokenizers_dir, shared_dir, timeout):
    """Runs `script` on GPT-2 and `size` bytes of repeated en text in a subprocess (an abort would not take
    the test run down); returns the (seconds, peak MB) it prints."""
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            script,
            str(tokenizers_dir / "gpt2" / "tokenizer.json"),
            str(shared_dir / "corpus" / "en.txt"),
            str(size),
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stderr
    elapsed, peak_mb = result.stdout.split()
    return float(elapsed), int(peak_mb)


def test_multi_megabyte_text_encodes_in_bounded_time_and_memory(tokenizers_dir, shared_dir):
    """4 MB in one string (a subprocess: an abort would not take the test run down). Measured on 2 cores:
    20 MB takes ~16 s and ~2.7 GB peak (mostly the per-token strings of the Encoding); 4 MB ~3 s."""
    size = 4_000_000
    elapsed, peak_mb = run_big_text_script(HUGE_TEXT_SCRIPT, size, tokenizers_dir, shared_dir, timeout=120)
    assert elapsed < 60
    assert peak_mb < 1500, f"peak RSS {peak_mb} MB for a {size // 10**6} MB text"


IDS_ONLY_SCRIPT = (
    PEAK_RSS_MB
    + """
import sys, time
import ferroformers as ff
tok = ff.Tokenizer.from_file(sys.argv[1])
paragraph = open(sys.argv[2], encoding="utf-8").read()[:100_000]
size = int(sys.argv[3])
text = (paragraph * (size // len(paragraph) + 1))[:size]
before = peak_rss_mb()
start = time.perf_counter()
ids, offsets = tok.encode_batch_flat([text])
elapsed = time.perf_counter() - start
assert offsets.tolist() == [0, len(ids)] and len(ids) > size // 10
assert ids[:50].tolist() == tok.encode(text[:1000]).ids[:50]
print(elapsed, peak_rss_mb() - before)
"""
)


def test_hundred_megabyte_text_through_the_ids_only_path(tokenizers_dir, shared_dir):
    """One 100 MB string through `encode_batch_flat` (no per-token strings or offsets), in a subprocess.
    Measured on 2 shared cores: ~3.7 s and ~1.0 GB above the interpreter's baseline (30 M ids); before the
    ids-only path's latest speed work it was 13.8 s and 3.2 GB."""
    size = 100_000_000
    elapsed, peak_mb = run_big_text_script(IDS_ONLY_SCRIPT, size, tokenizers_dir, shared_dir, timeout=180)
    assert elapsed < 90
    assert peak_mb < 2000, f"peak RSS {peak_mb} MB above the baseline for a {size // 10**6} MB text"


# ---------------------------------------------------------------------------------------------- models


@pytest.fixture(scope="module")
def gpt2_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("bad-inputs-gpt2")
    torch.manual_seed(0)
    config = transformers.GPT2Config(
        vocab_size=100, n_embd=16, n_layer=1, n_head=2, n_positions=64, bos_token_id=1, eos_token_id=2
    )
    transformers.GPT2LMHeadModel(config).save_pretrained(folder)
    return folder


def _safetensors_header(data: bytes) -> tuple[int, dict]:
    (length,) = struct.unpack("<Q", data[:8])
    return length, json.loads(data[8 : 8 + length])


def _lying_sizes(folder: Path) -> None:
    data = (folder / "model.safetensors").read_bytes()
    length, header = _safetensors_header(data)
    name = next(k for k in header if k != "__metadata__")
    header[name]["data_offsets"][1] += 10**9  # claims a gigabyte the file does not have
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    (folder / "model.safetensors").write_bytes(struct.pack("<Q", len(raw)) + raw + data[8 + length :])


def _huge_header(folder: Path) -> None:
    data = (folder / "model.safetensors").read_bytes()
    (folder / "model.safetensors").write_bytes(struct.pack("<Q", 2**62) + data[8:])


def _truncate(name: str, keep: float):
    def mutate(folder: Path) -> None:
        data = (folder / name).read_bytes()
        (folder / name).write_bytes(data[: int(len(data) * keep)])

    return mutate


MODEL_FILE_CASES = [
    ("config-truncated", _truncate("config.json", 0.3), ModelFileError, "is not valid JSON"),
    ("config-list", lambda f: (f / "config.json").write_text("[1, 2]"), ModelFileError, "must hold a JSON object"),
    ("config-empty-object", lambda f: (f / "config.json").write_text("{}"), UnsupportedModelError, "no model_type"),
    ("config-missing", lambda f: (f / "config.json").unlink(), ModelFileError, "has no config.json"),
    ("safetensors-truncated", _truncate("model.safetensors", 0.5), ModelFileError, "corrupt or truncated"),
    ("safetensors-empty", _truncate("model.safetensors", 0), ModelFileError, "header too small"),
    ("safetensors-huge-header", _huge_header, ModelFileError, "header too large"),
    ("safetensors-lying-sizes", _lying_sizes, ModelFileError, "invalid shape, data type, or offset"),
    (
        "config-wrong-field-type",
        lambda f: (f / "config.json").write_text('{"model_type": "gpt2", "n_embd": "big"}'),
        ModelFileError,
        "Check the config.json fields' types",
    ),
    (
        "weights-missing",
        lambda f: (f / "model.safetensors").unlink(),
        ModelFileError,
        "expected one of model.safetensors",
    ),
]


@pytest.mark.parametrize(
    "mutate,exc_type,fragment", [c[1:] for c in MODEL_FILE_CASES], ids=[c[0] for c in MODEL_FILE_CASES]
)
def test_model_bad_files(gpt2_dir, tmp_path, mutate, exc_type, fragment):
    import shutil

    folder = tmp_path / "model"
    shutil.copytree(gpt2_dir, folder)
    mutate(folder)
    with pytest.raises(exc_type) as info:
        ff.AutoModelForCausalLM.from_pretrained(folder)
    assert fragment in str(info.value)
    assert isinstance(info.value, FerroformersError) and isinstance(info.value, ValueError)


@pytest.mark.parametrize("name", ["../../does-not-exist", "/does/not/exist", "a/../../b"])
def test_model_paths_that_do_not_exist(name):
    with pytest.raises(ModelNotFoundError, match="not a local folder") as info:
        ff.AutoModelForCausalLM.from_pretrained(name, local_files_only=True)
    assert isinstance(info.value, OSError)


@pytest.mark.parametrize("load", [ff.AutoModelForCausalLM.from_pretrained, ff.AutoConfig.from_pretrained])
def test_model_refuses_remote_code(gpt2_dir, load):
    with pytest.raises(UnsupportedModelError, match="never executes Python code"):
        load(gpt2_dir, trust_remote_code=True)


def test_model_unknown_dtype(gpt2_dir):
    with pytest.raises(InvalidArgumentError, match="'float32', 'float16', 'bfloat16'") as info:
        ff.AutoModelForCausalLM.from_pretrained(gpt2_dir, dtype="float99")
    assert isinstance(info.value, ValueError) and "float99" in str(info.value)


def test_model_unknown_option(gpt2_dir):
    with pytest.raises(TypeError, match="unexpected keyword argument 'bogus'"):
        ff.AutoModelForCausalLM.from_pretrained(gpt2_dir, bogus=1)


# ------------------------------------------------------------------------------------------- generate


@pytest.fixture(scope="module")
def nan_models(gpt2_dir):
    """The same tiny GPT-2 in ferroformers and transformers, its tied embeddings/head poisoned with NaN."""
    ours = ff.AutoModelForCausalLM.from_pretrained(gpt2_dir)
    theirs = transformers.GPT2LMHeadModel.from_pretrained(gpt2_dir).eval()
    with torch.no_grad():
        ours.lm_head.weight.fill_(float("nan"))
        theirs.lm_head.weight.fill_(float("nan"))
    return ours, theirs


def test_generate_greedy_with_nan_logits_behaves_as_transformers(nan_models):
    ours, theirs = nan_models
    prompt = torch.tensor([[5, 6, 7]])
    expected = theirs.generate(prompt, max_new_tokens=4, do_sample=False, pad_token_id=0)
    assert torch.equal(ours.generate(prompt, max_new_tokens=4, do_sample=False, pad_token_id=0), expected)


@pytest.mark.parametrize("options", [dict(), dict(top_k=5), dict(top_p=0.9), dict(temperature=0.5)])
def test_generate_sampling_nan_logits_is_a_clear_error(nan_models, options):
    ours, _ = nan_models
    with pytest.raises(GenerationError, match="contain NaN"):
        ours.generate(torch.tensor([[5, 6]]), max_new_tokens=3, do_sample=True, pad_token_id=0, **options)


def test_generate_sampling_inf_logits_is_a_clear_error(gpt2_dir):
    model = ff.AutoModelForCausalLM.from_pretrained(gpt2_dir)
    with torch.no_grad():
        model.lm_head.weight.fill_(float("inf"))
    with pytest.raises(GenerationError, match="probability zero"):
        model.generate(torch.tensor([[5, 6]]), max_new_tokens=3, do_sample=True, pad_token_id=0)


GENERATE_CASES = [
    ("temperature-0", dict(do_sample=True, temperature=0.0), "temperature must be > 0"),
    ("max_new_tokens-negative", dict(max_new_tokens=-1), "max_new_tokens must be >= 0"),
    ("top_p-2", dict(do_sample=True, top_p=2.0), "top_p must be in [0, 1]"),
    ("misspelled-option", dict(max_newtokens=2), "did you mean"),
    ("logits_processor", dict(logits_processor=[]), "unknown keyword arguments: ['logits_processor']"),
    ("ids-out-of-vocab", dict(input_ids=torch.tensor([[5, 1000]])), "token id 1000, outside the model's vocabulary"),
    ("ids-negative", dict(input_ids=torch.tensor([[-3]])), "token id -3"),
    ("ids-float", dict(input_ids=torch.tensor([[1.0]])), "must be integer token ids"),
]


@pytest.mark.parametrize("options,fragment", [c[1:] for c in GENERATE_CASES], ids=[c[0] for c in GENERATE_CASES])
def test_generate_bad_options(gpt2_dir, options, fragment):
    model = ff.AutoModelForCausalLM.from_pretrained(gpt2_dir)
    options = {"input_ids": torch.tensor([[5, 6]]), "max_new_tokens": 2, "pad_token_id": 0, **options}
    with pytest.raises(GenerationError) as info:
        model.generate(**options)
    assert fragment in str(info.value)
    assert isinstance(info.value, ValueError)


# ------------------------------------------------------------------------------------------- pipeline


def test_pipeline_unknown_task(gpt2_dir):
    with pytest.raises(UnsupportedModelError, match="Unknown task 'bogus-task': ferroformers supports"):
        ff.pipeline("bogus-task", model=str(gpt2_dir))


def test_pipeline_without_task_or_model():
    with pytest.raises(PipelineError, match="needs a task or a model") as info:
        ff.pipeline(None)
    assert isinstance(info.value, ValueError)


@pytest.fixture(scope="module")
def generator(gpt2_dir, tokenizers_dir):
    return ff.pipeline("text-generation", model=str(gpt2_dir), tokenizer=str(tokenizers_dir / "gpt2"))


@pytest.mark.parametrize(
    "inputs,exc_type,fragment",
    [
        (None, PipelineError, "needs an input"),
        (5, TypeError, "cannot take a int: pass one input, a list of inputs"),
        ([None], TypeError, "takes a prompt, a chat"),
    ],
    ids=["None", "int", "[None]"],
)
def test_pipeline_wrong_inputs(generator, inputs, exc_type, fragment):
    with pytest.raises(exc_type) as info:
        generator(inputs)
    assert fragment in str(info.value)


def test_pipeline_refuses_remote_code(gpt2_dir):
    with pytest.raises(UnsupportedModelError):
        ff.pipeline("text-generation", model=str(gpt2_dir), trust_remote_code=True)


# -------------------------------------------------------------------------------------------- trainer

TRAINING_ARGUMENT_CASES = [
    ("batch-size-0", dict(per_device_train_batch_size=0), TrainerError, "per_device_train_batch_size must be >= 1"),
    ("scheduler", dict(lr_scheduler_type="bogus"), TrainerError, "lr_scheduler_type must be one of linear"),
    ("eval-strategy", dict(eval_strategy="bogus"), TrainerError, "eval_strategy must be one of no, steps, epoch"),
    ("learning-rate-negative", dict(learning_rate=-1), TrainerError, "learning_rate must be >= 0, got -1"),
    ("learning-rate-nan", dict(learning_rate=float("nan")), TrainerError, "learning_rate must be >= 0, got nan"),
    ("learning-rate-str", dict(learning_rate="1e-3"), TypeError, "learning_rate must be a number, got str"),
    ("epochs-negative", dict(num_train_epochs=-1), TrainerError, "num_train_epochs must be >= 0, got -1"),
    ("max-steps-0", dict(max_steps=0), TrainerError, "max_steps must be a positive number of steps, or -1"),
    ("warmup-negative", dict(warmup_steps=-5), TrainerError, "warmup_steps must be >= 0"),
    ("warmup-ratio", dict(warmup_ratio=1.5), TrainerError, "warmup_ratio must be in [0, 1]"),
    ("adam-beta2", dict(adam_beta2=1.0), TrainerError, "adam_beta2 must be in [0, 1)"),
    ("weight-decay", dict(weight_decay=-0.1), TrainerError, "weight_decay must be >= 0"),
    ("unknown-argument", dict(bogus=1), TypeError, "does not support: bogus. Supported:"),
]


@pytest.mark.parametrize(
    "kwargs,exc_type,fragment",
    [c[1:] for c in TRAINING_ARGUMENT_CASES],
    ids=[c[0] for c in TRAINING_ARGUMENT_CASES],
)
def test_training_arguments_bad_values(tmp_path, kwargs, exc_type, fragment):
    with pytest.raises(exc_type) as info:
        ff.TrainingArguments(output_dir=str(tmp_path), **kwargs)
    assert fragment in str(info.value)
    if exc_type is not TypeError:
        assert isinstance(info.value, FerroformersError) and isinstance(info.value, ValueError)


def test_trainer_bad_arguments(gpt2_dir, tmp_path):
    model = ff.AutoModelForCausalLM.from_pretrained(gpt2_dir)
    args = ff.TrainingArguments(output_dir=str(tmp_path), report_to=[])
    with pytest.raises(TrainerError, match="Trainer needs a model"):
        ff.Trainer(model=None, args=args)
    with pytest.raises(TypeError, match="args must be a TrainingArguments, got str"):
        ff.Trainer(model=model, args="x")
    with pytest.raises(TrainerError, match="needs a training dataset"):
        ff.Trainer(model=model, args=args).train()
    trainer = ff.Trainer(model=model, args=args, train_dataset=[{"input_ids": [1, 2], "labels": [1, 2]}])
    with pytest.raises(CheckpointNotFoundError, match="is not a checkpoint") as info:
        trainer.train(resume_from_checkpoint=str(tmp_path / "missing"))
    assert isinstance(info.value, FileNotFoundError) and isinstance(info.value, FerroformersError)


# ------------------------------------------------------------------------------------------------ CLI


def ferro(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ferroformers", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )


CLI_CASES = [
    ("no-command", ["--bogus"], 2, "the following arguments are required: COMMAND"),
    ("unknown-command", ["nosuch"], 2, "invalid choice: 'nosuch'"),
    ("generate-missing-flags", ["generate"], 2, "required: --model, --prompt"),
    ("generate-bad-int", ["generate", "--model", "m", "--prompt", "x", "--max-new-tokens", "abc"], 2, "invalid int"),
    ("generate-missing-model", ["generate", "--model", "/does/not/exist", "--prompt", "x"], 1, "ModelNotFoundError"),
    ("tokenize-missing-flags", ["tokenize", "--bogus"], 2, "required: --tokenizer, --input, --output"),
    ("pipeline-unknown-task", ["pipeline", "bogus-task", "--model", "m"], 1, "Unknown task 'bogus-task'"),
]


@pytest.mark.parametrize("args,status,fragment", [c[1:] for c in CLI_CASES], ids=[c[0] for c in CLI_CASES])
def test_cli_bad_invocations(args, status, fragment):
    result = ferro(*args)
    assert result.returncode == status, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    assert fragment in result.stderr


def test_cli_tokenize_missing_input(tokenizers_dir, tmp_path):
    result = ferro(
        "tokenize",
        "--tokenizer",
        str(tokenizers_dir / "gpt2"),
        "--input",
        str(tmp_path / "missing.txt"),
        "--output",
        str(tmp_path / "out"),
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "input not found" in result.stderr
