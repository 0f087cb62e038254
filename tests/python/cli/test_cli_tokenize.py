"""`ferroformers tokenize`: every document's ids, resuming, and the errors a user can make.

Every document's ids equal the library's (``AutoTokenizer(...)(docs)["input_ids"]``) for .txt (both splits),
.jsonl and .parquet inputs built from the shared corpus and fortune_topics; a run stopped by SIGKILL and then by
Ctrl-C, each time at the point where a shard is on disk but not yet in the manifest, and then resumed, ends byte
for byte as one uninterrupted run; bad command lines and bad inputs end with the documented exit status and a
one-line message, never a traceback. The documents the tests expect are read by their own simple code, not by
the command's readers.

The runs that matter as a user makes them (the ids, the interruptions, a few exit statuses) are subprocesses;
the many small checks of reruns and bad inputs call ``ferroformers.cli.main``, the console script's function,
in this process, since starting Python and importing the package a few dozen times would take minutes.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import ferroformers
from ferroformers.cli import main
from ferroformers.cli.tokenize import TEST_PAUSE_ENV, load_documents

# A word that only the big-vocabulary tokenizer below knows, with an id above the uint16 range.
BIG_WORD = "zzzbig"


def tokenize(*args: str | Path, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ferroformers", "tokenize", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})},
    )


def tokenize_here(capsys, *args: str | Path) -> tuple[int, str]:
    """``ferroformers tokenize ARGS`` in this process: (exit status, stderr)."""
    capsys.readouterr()
    try:
        status = main(["tokenize", *map(str, args)])
    except SystemExit as exit:  # argparse's errors
        status = exit.code
    return status, capsys.readouterr().err


def assert_clean_error(status: int, stderr: str, expected_status: int, *fragments: str) -> None:
    """Failed with `expected_status` and a message (its last line) naming what was wrong, without a traceback."""
    assert status == expected_status, (status, stderr)
    assert "Traceback" not in stderr, stderr
    assert stderr.strip().splitlines()[-1].startswith("ferroformers tokenize: error: "), stderr
    for fragment in fragments:
        assert fragment in stderr, stderr


# -- inputs and what they hold --------------------------------------------------------------------------------


def txt_documents(path: Path, split: str) -> list[str]:
    lines = path.read_text(encoding="utf-8-sig").replace("\r\n", "\n").split("\n")
    if split == "line":
        return [line for line in lines if line.strip(" \t")]
    # Paragraphs: the runs of lines that are not blank (empty or only spaces and tabs).
    runs = itertools.groupby(lines, key=lambda line: bool(line.strip(" \t")))
    return ["\n".join(run) for not_blank, run in runs if not_blank]


def documents_of(path: Path, split: str, field: str = "text") -> list[str]:
    if path.suffix == ".txt":
        return txt_documents(path, split)
    if path.suffix == ".jsonl":
        return [json.loads(line)[field] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return pq.read_table(path)[field].to_pylist()


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, shared_dir) -> dict[str, Path]:
    """A .txt with the corpus' awkward corners (byte-order mark, CRLF, blank lines of spaces, several blank
    lines, no final newline), fortune_topics' train.jsonl with an empty text added, and a .parquet of Russian
    and Chinese paragraphs beside an integer column."""
    folder = tmp_path_factory.mktemp("tokenize-inputs")
    corpus = shared_dir / "corpus"
    en = corpus.joinpath("en.txt").read_text(encoding="utf-8").split("\n\n")[:700]
    de = corpus.joinpath("de.txt").read_text(encoding="utf-8").split("\n\n")[:200]
    body = "\n\n".join(en[:300]) + "\n \t\n\n\n" + "\r\n".join(de[0].split("\n")) + "\r\n\r\n"
    body += f"A paragraph with the {BIG_WORD} word.\n\n" + "\n\n".join(en[300:] + de[1:])
    txt = folder / "mixed.txt"
    txt.write_bytes(b"\xef\xbb\xbf" + body.encode("utf-8"))

    jsonl = folder / "fortunes.jsonl"
    records = (shared_dir / "datasets" / "fortune_topics" / "train.jsonl").read_text(encoding="utf-8")
    jsonl.write_text(records + "\n" + json.dumps({"text": "", "label": 0}) + "\n", encoding="utf-8")

    ru = corpus.joinpath("ru.txt").read_text(encoding="utf-8").split("\n\n")[:300]
    zh = corpus.joinpath("zh.txt").read_text(encoding="utf-8").split("\n\n")[:300]
    texts = [t for pair in zip(ru, zh) for t in pair]
    parquet = folder / "ru_zh.parquet"
    pq.write_table(pa.table({"id": list(range(len(texts))), "text": texts}), parquet, row_group_size=128)
    return {"txt": txt, "jsonl": jsonl, "parquet": parquet}


@pytest.fixture(scope="module")
def big_vocab_bert(tmp_path_factory, tokenizers_dir) -> Path:
    """bert-uncased with 40,000 more vocabulary entries, the last of them BIG_WORD: ids above 65535."""
    folder = tmp_path_factory.mktemp("big-vocab-bert")
    tokenizer = json.loads((tokenizers_dir / "bert-uncased" / "tokenizer.json").read_text(encoding="utf-8"))
    vocab = tokenizer["model"]["vocab"]
    words = [f"zzzfill{i}" for i in range(39_999)] + [BIG_WORD]
    vocab.update({word: len(vocab) + i for i, word in enumerate(words)})
    (folder / "tokenizer.json").write_text(json.dumps(tokenizer), encoding="utf-8")
    shutil.copy(tokenizers_dir / "bert-uncased" / "tokenizer_config.json", folder)
    return folder


def library_ids(tokenizer: Path, docs: list[str], add_special_tokens: bool, max_length: int | None) -> list[list[int]]:
    tok = ferroformers.AutoTokenizer.from_pretrained(tokenizer)
    encoded = tok(docs, add_special_tokens=add_special_tokens, truncation=max_length is not None, max_length=max_length)
    return encoded["input_ids"]


def read_output(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def manifest_of(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))


# -- ids ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tokenizer,order,options",
    [
        ("gpt2", ["txt", "jsonl", "parquet"], ["--txt-split", "line", "--shard-size", "40000", "--workers", "2"]),
        (
            "big-vocab-bert",
            ["parquet", "txt", "jsonl"],
            ["--txt-split", "paragraph", "--add-special-tokens", "--max-length", "48", "--shard-size", "15000"],
        ),
    ],
)
def test_ids_equal_the_library_for_every_document(
    tmp_path, inputs, tokenizers_dir, big_vocab_bert, tokenizer, order, options
):
    tokenizer_dir = big_vocab_bert if tokenizer == "big-vocab-bert" else tokenizers_dir / tokenizer
    split = options[options.index("--txt-split") + 1]
    add_special_tokens = "--add-special-tokens" in options
    max_length = int(options[options.index("--max-length") + 1]) if "--max-length" in options else None
    shard_size = int(options[options.index("--shard-size") + 1])
    paths = [inputs[kind] for kind in order]
    out = tmp_path / "out"

    result = tokenize("--tokenizer", tokenizer_dir, "--input", *paths, "--output", out, *options)
    assert result.returncode == 0, result.stderr

    per_input = [documents_of(path, split) for path in paths]
    docs = [doc for input_docs in per_input for doc in input_docs]
    expected = library_ids(tokenizer_dir, docs, add_special_tokens, max_length)
    assert [d.tolist() for d in load_documents(out)] == expected

    manifest = manifest_of(out)
    big = tokenizer == "big-vocab-bert"
    assert manifest["complete"] is True
    assert manifest["dtype"] == ("uint32" if big else "uint16")
    largest_id = max(i for ids in expected for i in ids)
    assert (largest_id > 65535) == big
    assert [item["documents"] for item in manifest["inputs"]] == [len(d) for d in per_input]
    assert [item["path"] for item in manifest["inputs"]] == [str(p.resolve()) for p in paths]
    assert manifest["documents"] == len(docs)
    assert manifest["tokens"] == sum(map(len, expected))
    assert manifest["bytes"] == sum(len(doc.encode("utf-8")) for doc in docs)
    assert manifest["options"] == {
        "field": "text",
        "txt_split": split,
        "max_length": max_length,
        "add_special_tokens": add_special_tokens,
        "shard_size": shard_size,
    }
    shards = manifest["shards"]
    assert len(shards) > 2
    assert all(s["tokens"] >= shard_size for s in shards[:-1]) and 0 < shards[-1]["tokens"]
    # The layout as the module docstring documents it, read with NumPy alone.
    first = 0
    for shard in shards:
        ids = np.load(out / shard["ids"])
        offsets = np.load(out / shard["offsets"])
        assert ids.dtype == manifest["dtype"] and offsets.dtype == np.int64
        assert len(offsets) == shard["documents"] + 1 and offsets[0] == 0 and offsets[-1] == len(ids) == shard["tokens"]
        # Documents are never split: a shard is closed by the document that brings it to shard_size tokens.
        assert offsets[-2] < shard_size
        got = [ids[a:b].tolist() for a, b in zip(offsets[:-1], offsets[1:])]
        assert got == expected[first : first + shard["documents"]]
        first += shard["documents"]


# -- resuming -------------------------------------------------------------------------------------------------


def start_paused(*args: str | Path, at_shard: int) -> subprocess.Popen:
    """A run that stops for a minute once shard `at_shard`'s files are published, before the manifest lists it."""
    return subprocess.Popen(
        [sys.executable, "-m", "ferroformers", "tokenize", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1", TEST_PAUSE_ENV: str(at_shard)},
        # A shell without job control starts background jobs with SIGINT ignored, and Python then installs no
        # KeyboardInterrupt handler: give the run Ctrl-C's default, as a terminal would, whoever started the suite.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def wait_for(path: Path, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if process.poll() is not None:
            raise AssertionError(f"the run ended (status {process.returncode}) before {path.name}: {process.stderr}")
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"{path.name} did not appear within {timeout} s")
        time.sleep(0.01)


def test_interrupted_runs_resume_to_the_bytes_of_one_run(tmp_path, capsys, inputs, tokenizers_dir):
    gpt2 = tokenizers_dir / "gpt2"
    args = ["--tokenizer", gpt2, "--input", inputs["txt"], inputs["jsonl"], "--shard-size", "25000"]
    out = tmp_path / "resumed"

    # 1. SIGKILL while shard 1 is on disk but not in the manifest yet.
    run = start_paused(*args, "--output", out, at_shard=1)
    wait_for(out / "shard-00001.offsets.npy", run)
    run.send_signal(signal.SIGKILL)
    run.communicate(timeout=60)
    assert run.returncode == -signal.SIGKILL
    killed = manifest_of(out)
    assert killed["complete"] is False and [s["ids"] for s in killed["shards"]] == ["shard-00000.ids.npy"]
    # What a run killed while writing leaves: a temporary file, written again from scratch.
    (out / ".shard-00002.ids.npy.tmp").write_bytes(b"half a shard")

    # 2. Ctrl-C at the same point of shard 3: exit status 130, the finished shards kept.
    run = start_paused(*args, "--output", out, at_shard=3)
    wait_for(out / "shard-00003.offsets.npy", run)
    run.send_signal(signal.SIGINT)
    _, stderr = run.communicate(timeout=60)
    assert run.returncode == 130, stderr
    assert "ferroformers tokenize: interrupted" in stderr and "Traceback" not in stderr
    assert len(manifest_of(out)["shards"]) == 3

    # 3. The same command once more finishes the work, from shard 3 on.
    finished = tokenize(*args, "--output", out)
    assert finished.returncode == 0, finished.stderr
    assert "resumed at shard 3" in finished.stderr

    # One uninterrupted run into a new folder: the same files, byte for byte.
    fresh = tmp_path / "fresh"
    assert tokenize_here(capsys, *args, "--output", fresh)[0] == 0
    resumed_files, fresh_files = read_output(out), read_output(fresh)
    resumed_manifest, fresh_manifest = manifest_of(out), manifest_of(fresh)
    del resumed_files["manifest.json"], fresh_files["manifest.json"]
    assert resumed_files.keys() == fresh_files.keys() and len(resumed_files) == 2 * len(fresh_manifest["shards"])
    assert resumed_files == fresh_files
    runs = resumed_manifest.pop("runs")
    fresh_manifest.pop("runs")
    assert resumed_manifest == fresh_manifest
    # Each run started where the manifest it found ended; the last one tokenized only the remaining documents.
    assert [r["first_shard"] for r in runs] == [0, 1, 3]
    shards = resumed_manifest["shards"]
    assert runs[-1]["documents"] == resumed_manifest["documents"] - sum(s["documents"] for s in shards[:3]) > 0

    docs = documents_of(inputs["txt"], "line") + documents_of(inputs["jsonl"], "line")
    assert [d.tolist() for d in load_documents(out)] == library_ids(gpt2, docs, False, None)


def test_reruns_refuse_another_run_unless_overwrite(tmp_path, capsys, inputs, tokenizers_dir):
    source = tmp_path / "small.txt"
    source.write_text("\n".join(inputs["txt"].read_text(encoding="utf-8-sig").splitlines()[:60]), encoding="utf-8")
    out = tmp_path / "out"
    args = ["--tokenizer", tokenizers_dir / "gpt2", "--input", source, "--output", out]
    assert tokenize_here(capsys, *args)[0] == 0
    first = read_output(out)

    status, stderr = tokenize_here(capsys, *args)
    assert status == 0 and "already complete" in stderr
    assert read_output(out) == first

    other = tokenize_here(capsys, *args, "--max-length", "8")
    assert_clean_error(*other, 1, "another tokenize run", "--max-length (None then, 8 now)", "--overwrite")
    other_tokenizer = tokenize_here(capsys, args[0], tokenizers_dir / "roberta-style-bpe", *args[2:])
    assert_clean_error(*other_tokenizer, 1, "different tokenizer", "use a new folder or --overwrite")
    assert read_output(out) == first

    assert tokenize_here(capsys, *args, "--max-length", "8", "--overwrite")[0] == 0
    assert manifest_of(out)["options"]["max_length"] == 8
    assert all(len(doc) <= 8 for doc in load_documents(out))

    os.utime(source, ns=(time.time_ns(), time.time_ns() + 10**9))
    changed = tokenize_here(capsys, *args, "--max-length", "8")
    assert_clean_error(*changed, 1, "input files changed since", str(source.resolve()))

    # A folder another run is writing to (it holds the folder's lock) is left alone.
    import fcntl

    folder = os.open(out, os.O_RDONLY)
    try:
        fcntl.flock(folder, fcntl.LOCK_EX)
        busy = tokenize_here(capsys, *args, "--overwrite")
    finally:
        os.close(folder)
    assert_clean_error(*busy, 1, "another `ferroformers tokenize` is writing to")
    assert manifest_of(out)["options"]["max_length"] == 8


def test_empty_documents_and_inputs(tmp_path, capsys, tokenizers_dir):
    """Empty texts are documents without tokens (record i stays document i); inputs without documents make
    no shard, and the run is still complete."""
    records = tmp_path / "empty_texts.jsonl"
    records.write_text("".join(json.dumps({"text": t}) + "\n" for t in ["", "", "Hello world", ""]))
    blank = tmp_path / "blank.txt"
    blank.write_text("\n \t\n\n")
    out = tmp_path / "out"
    gpt2 = tokenizers_dir / "gpt2"
    args = ["--tokenizer", gpt2, "--input", blank, records, "--output", out, "--shard-size", "1"]
    status, stderr = tokenize_here(capsys, *args)
    assert status == 0, stderr
    assert [d.tolist() for d in load_documents(out)] == [[], [], [15496, 995], []]
    manifest = manifest_of(out)
    assert [item["documents"] for item in manifest["inputs"]] == [0, 4]
    # "Hello world" closes the first shard; the last one holds an empty text only.
    assert [(s["documents"], s["tokens"]) for s in manifest["shards"]] == [(3, 2), (1, 0)]

    nothing = tmp_path / "nothing"
    assert tokenize_here(capsys, "--tokenizer", gpt2, "--input", blank, "--output", nothing)[0] == 0
    manifest = manifest_of(nothing)
    assert manifest["complete"] is True and manifest["shards"] == [] and manifest["documents"] == 0
    assert load_documents(nothing) == []


# -- bad command lines and bad inputs -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bad_inputs(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("tokenize-bad")
    files = {
        "csv": folder / "table.csv",
        "latin1": folder / "latin1.txt",
        "array": folder / "array.jsonl",
        "surrogate": folder / "surrogate.jsonl",
        "broken": folder / "broken.jsonl",
        "not_empty": folder / "not_empty",
        "a_file": folder / "a_file",
        "no_tokenizer": folder / "no_tokenizer",
        "broken_tokenizer": folder / "broken_tokenizer",
    }
    files["csv"].write_text("text\nhello\n")
    files["latin1"].write_bytes("fine\ncaf\xe9\n".encode("latin-1"))
    files["array"].write_text('{"text": "ok"}\n["text"]\n')
    files["surrogate"].write_text('{"text": "ok"}\n{"text": "bad \\ud800 text"}\n')
    files["broken"].write_text('{"text": "ok"}\n{"text": \n')
    files["not_empty"].mkdir()
    (files["not_empty"] / "notes.md").write_text("someone else's file")
    files["a_file"].write_text("")
    files["no_tokenizer"].mkdir()
    files["broken_tokenizer"].mkdir()
    (files["broken_tokenizer"] / "tokenizer.json").write_text('{"model": {"type": "BPE", "vocab": ')
    return files


ERRORS = [
    # (name, extra arguments with {placeholders}, exit status, fragments of the message)
    ("missing input", ["--input", "{tmp}/nope.txt"], 1, ["input not found", "nope.txt"]),
    ("unknown extension", ["--input", "{csv}"], 2, ["unknown input format '.csv'", ".txt, .jsonl or .parquet"]),
    ("shard size 0", ["--input", "{txt}", "--shard-size", "0"], 2, ["--shard-size", "must be >= 1"]),
    ("workers 0", ["--input", "{txt}", "--workers", "0"], 2, ["--workers", "must be >= 1"]),
    ("bad split", ["--input", "{txt}", "--txt-split", "word"], 2, ["--txt-split", "invalid choice"]),
    ("field without json", ["--input", "{txt}", "--field", "body"], 2, ["--field applies to .jsonl and .parquet"]),
    ("split without txt", ["--input", "{jsonl}", "--txt-split", "line"], 2, ["--txt-split applies to .txt"]),
    ("jsonl field missing", ["--input", "{jsonl}", "--field", "body"], 1, ["fortunes.jsonl:1: no field 'body'"]),
    ("jsonl not a string", ["--input", "{jsonl}", "--field", "label"], 1, [":1: field 'label' is a number"]),
    ("jsonl not an object", ["--input", "{array}"], 1, ["array.jsonl:2: expected a JSON object, got an array"]),
    ("jsonl bad json", ["--input", "{broken}"], 1, ["broken.jsonl:2: not a JSON line"]),
    ("jsonl surrogate", ["--input", "{surrogate}"], 1, ["surrogate.jsonl:2: the text is not valid Unicode"]),
    ("txt not utf-8", ["--input", "{latin1}"], 1, ["latin1.txt:2: not UTF-8 text"]),
    ("parquet column", ["--input", "{parquet}", "--field", "body"], 1, ["no column 'body'", "it has: id, text"]),
    ("parquet ints", ["--input", "{parquet}", "--field", "id"], 1, ["column 'id' holds int64, not strings"]),
    ("no pyarrow", ["--input", "{parquet}"], 1, ["needs pyarrow: pip install pyarrow"]),
    ("no tokenizer", ["--input", "{txt}", "--tokenizer", "{no_tokenizer}"], 1, ["cannot load the tokenizer"]),
    ("bad tokenizer", ["--input", "{txt}", "--tokenizer", "{broken_tokenizer}"], 1, ["cannot load the tokenizer"]),
    (
        "max length below specials",
        ["--input", "{txt}", "--tokenizer", "{bert}", "--add-special-tokens", "--max-length", "1"],
        2,
        ["--max-length 1 is less than the 2 special tokens"],
    ),
    ("output not empty", ["--input", "{txt}", "--output", "{not_empty}"], 1, ["is not empty", "holds no manifest"]),
    ("output a file", ["--input", "{txt}", "--output", "{a_file}"], 1, ["exists and is not a folder"]),
]


@pytest.mark.parametrize("name,extra,status,fragments", ERRORS, ids=[e[0] for e in ERRORS])
def test_bad_inputs_exit_with_a_message(
    tmp_path, capsys, monkeypatch, inputs, bad_inputs, tokenizers_dir, name, extra, status, fragments
):
    places = {
        "tmp": tmp_path,
        "bert": tokenizers_dir / "bert-uncased",
        **{k: str(v) for k, v in inputs.items()},
        **{k: str(v) for k, v in bad_inputs.items()},
    }
    args = [arg.format(**places) for arg in extra]
    if "--tokenizer" not in args:
        args += ["--tokenizer", str(tokenizers_dir / "gpt2")]
    if "--output" not in args:
        args += ["--output", str(tmp_path / "out")]
    if name == "no pyarrow":
        for module in ("pyarrow", "pyarrow.parquet"):
            monkeypatch.setitem(sys.modules, module, None)  # importing it raises ImportError
    assert_clean_error(*tokenize_here(capsys, *args), status, *fragments)


def test_exit_statuses_of_the_real_command(tmp_path, inputs, tokenizers_dir):
    """The statuses above, as a shell sees them: 2 for a bad command line, 1 for a bad input."""
    gpt2 = str(tokenizers_dir / "gpt2")
    bad_flag = tokenize("--tokenizer", gpt2, "--input", inputs["txt"], "--output", tmp_path, "--shard-size", "0")
    assert_clean_error(bad_flag.returncode, bad_flag.stderr, 2, "argument --shard-size: must be >= 1, got 0")
    assert bad_flag.stderr.startswith("usage: ferroformers tokenize")
    missing = tokenize("--tokenizer", gpt2, "--input", tmp_path / "nope.jsonl", "--output", tmp_path / "out")
    assert_clean_error(missing.returncode, missing.stderr, 1, "input not found")
    assert missing.stderr.count("\n") == 1
