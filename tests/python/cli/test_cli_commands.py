"""The command line's `generate`, `pipeline` and `bench` subcommands, run as a user runs them (subprocesses).

Outputs are checked against transformers' pipelines on the same saved folders (greedy text identical,
scores within 1e-5); bad command lines and bad inputs end with the documented exit status and a one-line
message, never a traceback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import transformers

from ferroformers.cli import bench as bench_command
from ferroformers.cli import pipeline as pipeline_command

PROMPTS = ["The quick brown fox", "Once upon a time there"]
TEXTS = ["The quick brown fox jumps over the lazy dog.", "Hello world", "Pipelines batch inputs, padded."]


def ferro(*args: str, stdin: str | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ferroformers", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )


def assert_clean_error(result: subprocess.CompletedProcess, status: int, *fragments: str) -> None:
    """Failed with `status`, a message naming what was wrong, and no traceback."""
    assert result.returncode == status, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


@pytest.fixture(scope="module")
def gpt2_dir(tmp_path_factory, tokenizers_dir) -> Path:
    """A tiny random GPT-2 with the real GPT-2 vocabulary."""
    folder = tmp_path_factory.mktemp("cli-gpt2")
    tok = transformers.AutoTokenizer.from_pretrained(tokenizers_dir / "gpt2")
    torch.manual_seed(5)
    config = transformers.GPT2Config(vocab_size=len(tok), n_embd=32, n_layer=2, n_head=2, initializer_range=0.3)
    transformers.GPT2LMHeadModel(config).save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


def _tiny_bert(folder: Path, tokenizers_dir: Path, model_cls, **config_kwargs) -> Path:
    tok = transformers.AutoTokenizer.from_pretrained(tokenizers_dir / "bert-uncased")
    torch.manual_seed(1)
    config = transformers.BertConfig(
        vocab_size=len(tok),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=37,
        **config_kwargs,
    )
    model = model_cls(config)
    with torch.no_grad():  # spread the random head's outputs so rankings are not near-ties
        for name, param in model.named_parameters():
            if name.startswith(("classifier", "qa_outputs")):
                param.mul_(20)
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def classifier_dir(tmp_path_factory, tokenizers_dir) -> Path:
    labels = {0: "NEGATIVE", 1: "NEUTRAL", 2: "POSITIVE"}
    return _tiny_bert(
        tmp_path_factory.mktemp("cli-clf"), tokenizers_dir, transformers.BertForSequenceClassification, id2label=labels
    )


@pytest.fixture(scope="module")
def qa_dir(tmp_path_factory, tokenizers_dir) -> Path:
    return _tiny_bert(tmp_path_factory.mktemp("cli-qa"), tokenizers_dir, transformers.BertForQuestionAnswering)


# -- generate ----------------------------------------------------------------------------------------------


def test_generate_greedy_equals_transformers(gpt2_dir):
    result = ferro("generate", "--model", str(gpt2_dir), *[a for p in PROMPTS for a in ("--prompt", p)],
                   "--max-new-tokens", "12", "--greedy", "--json")  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    reference = transformers.pipeline("text-generation", model=str(gpt2_dir), device="cpu")
    for prompt, line in zip(PROMPTS, lines, strict=True):
        expected = reference(prompt, max_new_tokens=12, do_sample=False)
        assert line["prompt"] == prompt
        assert line["results"] == expected
        assert len(line["results"][0]["generated_text"]) > len(prompt)


def test_generate_stream_prints_the_same_text(gpt2_dir):
    args = ("generate", "--model", str(gpt2_dir), "--prompt", PROMPTS[0], "--max-new-tokens", "10", "--greedy")
    plain = ferro(*args)
    streamed = ferro(*args, "--stream")
    assert plain.returncode == 0 and streamed.returncode == 0, (plain.stderr, streamed.stderr)
    assert streamed.stdout.strip() == plain.stdout.strip()
    assert streamed.stdout.startswith(PROMPTS[0])
    new_only = ferro(*args, "--new-text-only")
    assert plain.stdout.strip() == (PROMPTS[0] + new_only.stdout.rstrip("\n")).strip()


def test_generate_sampling_is_reproducible_with_a_seed(gpt2_dir):
    args = ("generate", "--model", str(gpt2_dir), "--prompt", "-", "--max-new-tokens", "16", "--do-sample",
            "--top-p", "0.9", "--temperature", "0.8", "--num-return-sequences", "2")  # fmt: skip
    first = ferro(*args, "--seed", "3", stdin="Hello there\n")
    again = ferro(*args, "--seed", "3", stdin="Hello there\n")
    other = ferro(*args, "--seed", "4", stdin="Hello there\n")
    assert first.returncode == 0, first.stderr
    assert first.stdout == again.stdout
    assert first.stdout != other.stdout
    assert len(first.stdout.splitlines()) >= 2  # two sequences (each may span lines)
    assert first.stdout.startswith("Hello there")


def test_generate_errors(gpt2_dir, tmp_path):
    assert_clean_error(ferro("generate", "--model", str(tmp_path / "missing"), "--prompt", "x"), 1, "missing")
    two = ferro("generate", "--model", str(gpt2_dir), "--prompt", "a", "--prompt", "b", "--stream")
    assert_clean_error(two, 1, "--stream")
    assert_clean_error(ferro("generate", "--model", str(gpt2_dir), "--prompt", "a", "--top-k", "-1"), 1, "--top-k")
    assert_clean_error(ferro("generate", "--model", str(gpt2_dir)), 2, "--prompt")
    assert_clean_error(ferro("generate", "--model", str(gpt2_dir), "--prompt", "a", "--bogus"), 2, "--bogus")
    assert_clean_error(ferro("generate", "--model", str(gpt2_dir), "--prompt", "a", "--max-new-tokens", "x"), 2)


# -- pipeline ----------------------------------------------------------------------------------------------


def test_pipeline_text_classification_equals_transformers(classifier_dir):
    stdin = "".join(json.dumps(t) + "\n" for t in TEXTS)
    result = ferro("pipeline", "text-classification", "--model", str(classifier_dir), "--batch-size", "2",
                   "--arg", "top_k=2", stdin=stdin)  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    reference = transformers.pipeline("text-classification", model=str(classifier_dir), device="cpu")
    assert [line["input"] for line in lines] == TEXTS
    for text, line in zip(TEXTS, lines, strict=True):
        expected = reference(text, top_k=2)
        assert [r["label"] for r in line["result"]] == [r["label"] for r in expected]
        for ours, theirs in zip(line["result"], expected):
            assert abs(ours["score"] - theirs["score"]) <= 1e-5
    # --text reads plain lines: the same results
    plain = ferro("pipeline", "sentiment-analysis", "--model", str(classifier_dir), "--text", "--arg", "top_k=2",
                  stdin="\n".join(TEXTS) + "\n")  # fmt: skip
    assert plain.returncode == 0, plain.stderr
    assert [json.loads(line)["result"] for line in plain.stdout.splitlines()] == [line["result"] for line in lines]


def test_pipeline_question_answering_objects(qa_dir):
    examples = [
        {"question": "Who played the cello?", "context": "The penguin played the cello at noon."},
        {"question": "Where is the house?", "context": "The house stands on a hill by the river."},
    ]
    stdin = "".join(json.dumps(e) + "\n" for e in examples)
    result = ferro("pipeline", "question-answering", "--model", str(qa_dir), stdin=stdin)
    assert result.returncode == 0, result.stderr
    from ferroformers import pipeline

    qa = pipeline("question-answering", model=qa_dir)
    for example, line in zip(examples, result.stdout.splitlines(), strict=True):
        answer = json.loads(line)["result"]
        expected = qa(question=example["question"], context=example["context"])
        assert answer["answer"] == expected["answer"] == example["context"][answer["start"] : answer["end"]]
        assert abs(answer["score"] - expected["score"]) <= 1e-6


def test_pipeline_feature_extraction_writes_vectors(classifier_dir):
    result = ferro("pipeline", "feature-extraction", "--model", str(classifier_dir), stdin='"Hello world"\n')
    assert result.returncode == 0, result.stderr
    vectors = json.loads(result.stdout)["result"]
    assert len(vectors) == 1 and len(vectors[0]) == 4 and len(vectors[0][0]) == 32  # [1, T, H]: [CLS] hello world [SEP]


def test_pipeline_errors_keep_earlier_results(classifier_dir):
    bad_line = ferro("pipeline", "text-classification", "--model", str(classifier_dir),
                     stdin='"fine"\nnot json\n"never read"\n')  # fmt: skip
    assert_clean_error(bad_line, 1, "line 2", "--text")
    assert len(bad_line.stdout.splitlines()) == 1  # the first result was written before the bad line stopped it
    assert json.loads(bad_line.stdout)["input"] == "fine"
    assert_clean_error(ferro("pipeline", "translation", "--model", str(classifier_dir), stdin=""), 1, "text-generation")
    bad_arg = ferro("pipeline", "text-classification", "--model", str(classifier_dir), "--arg", "top k", stdin="")
    assert_clean_error(bad_arg, 2, "NAME=VALUE")
    unknown_kwarg = ferro("pipeline", "text-classification", "--model", str(classifier_dir), "--arg", "colour=1")
    assert_clean_error(unknown_kwarg, 1, "colour")
    wrong_input = ferro("pipeline", "text-classification", "--model", str(classifier_dir), stdin="42\n")
    assert_clean_error(wrong_input, 1)
    zero = ferro("pipeline", "text-classification", "--model", str(classifier_dir), "--batch-size", "0", stdin="")
    assert_clean_error(zero, 2, "--batch-size")


def test_pipeline_image_segmentation_writes_masks(tmp_path):
    """Image tasks take file paths as inputs; a segmentation mask comes out as rows of 0/255 pixels."""
    import numpy as np
    import skimage.data
    from PIL import Image

    from ferroformers import pipeline

    folder = tmp_path / "segformer"
    torch.manual_seed(0)
    labels = {0: "sky", 1: "ground", 2: "thing"}
    config = transformers.SegformerConfig(
        hidden_sizes=[8, 16, 24, 32], num_attention_heads=[1, 2, 2, 4], depths=[1, 1, 1, 1],
        decoder_hidden_size=16, id2label=labels, label2id={v: k for k, v in labels.items()},
    )  # fmt: skip
    model = transformers.SegformerForSemanticSegmentation(config).eval()
    with torch.no_grad():
        model.decode_head.classifier.weight.mul_(40.0)  # several classes win pixels
    model.save_pretrained(folder)
    transformers.SegformerImageProcessorPil(size={"height": 64, "width": 64}).save_pretrained(folder)
    photo = tmp_path / "coffee.png"
    Image.fromarray(skimage.data.coffee()[::4, ::4]).save(photo)

    result = ferro("pipeline", "image-segmentation", "--model", str(folder), stdin=json.dumps(str(photo)) + "\n")
    assert result.returncode == 0, result.stderr
    segments = json.loads(result.stdout)["result"]
    expected = pipeline("image-segmentation", model=folder)(str(photo))
    assert [s["label"] for s in segments] == [s["label"] for s in expected]
    for ours, theirs in zip(segments, expected):
        assert np.array_equal(np.array(ours["mask"], dtype=np.uint8), np.asarray(theirs["mask"]))


# -- bench and the entry points -----------------------------------------------------------------------------


def test_bench_runs_a_benchmark_and_prints_its_table():
    result = ferro("bench", "--only", "generate", "--quick", timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    tables = result.stdout.split("# Benchmark tables", 1)[1]
    assert "## generate" in tables
    header = next(line for line in tables.splitlines() if line.startswith("| model"))
    assert "transformers" in header
    rows = [line for line in tables.splitlines() if line.startswith("| tiny GPT-2")]
    assert len(rows) == 4  # greedy and top-p, batch 1 and 8
    ratio_column = [cell.strip() for cell in header.split("|")].index("ours / transformers")
    ratios = [row.split("|")[ratio_column].strip() for row in rows]
    assert all(ratio.endswith("x") and float(ratio[:-1]) > 0 for ratio in ratios), ratios


def test_bench_list_and_errors(tmp_path):
    listed = ferro("bench", "--list")
    assert listed.returncode == 0
    assert [line.split()[0] for line in listed.stdout.splitlines()] == list(bench_command.BENCHMARKS)
    for name, (script, _, _) in bench_command.BENCHMARKS.items():
        assert (Path(__file__).resolve().parents[3] / "benches" / script).is_file(), name
    assert_clean_error(ferro("bench", "--benches", str(tmp_path)), 1, "benches")
    assert_clean_error(ferro("bench", "--only", "nothing"), 2, "invalid choice")


def test_tables_of_keeps_markdown_blocks():
    output = "warming up\n| a | b |\n|---|---|\n| 1 | 2 |\ndone\n| c |\n|---|\n"
    assert bench_command.tables_of(output) == "| a | b |\n|---|---|\n| 1 | 2 |\n\n| c |\n|---|"


def test_console_script_and_version():
    script = Path(sys.executable).parent / "ferroformers"
    assert script.is_file(), "the ferroformers console script is installed beside the interpreter"
    result = subprocess.run([str(script), "--version"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.startswith("ferroformers ")
    no_command = ferro()
    assert_clean_error(no_command, 2, "COMMAND")


def test_pipeline_task_list_matches_the_library():
    from ferroformers.pipelines import SUPPORTED_TASKS, TASK_ALIASES

    assert pipeline_command.TASKS == tuple(sorted([*SUPPORTED_TASKS, *TASK_ALIASES]))


def test_cli_does_not_import_torch_before_it_needs_it():
    probe = "import sys; from ferroformers.cli import build_parser; build_parser(); print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "False", result.stderr
