"""``ferroformers tokenize``: text corpora into sharded NumPy arrays of token ids, for training; resumable.

    $ ferroformers tokenize --tokenizer ../shared/tokenizers/gpt2 --input ../shared/corpus/en.txt --output tok/
    $ ferroformers tokenize --tokenizer path/to/bert --input train.jsonl extra.parquet --field text \\
          --max-length 512 --add-special-tokens --shard-size 50000000 --workers 8 --output tok/

**Inputs.** The files given to ``--input`` make one stream of documents, in the order given:

- ``.txt`` (UTF-8): one document per line (``--txt-split line``, the default), or per paragraph
  (``--txt-split paragraph``: the lines up to a blank line, joined with ``"\\n"``). Blank lines (empty or only
  spaces and tabs) are never documents; line ends (``"\\n"``, ``"\\r\\n"``) and a leading byte-order mark are not
  part of the text.
- ``.jsonl``: one JSON object per non-blank line; its ``--field`` (default ``text``) must be a string. Every
  record is a document, an empty string too, so document ``i`` is record ``i``.
- ``.parquet``: the ``--field`` column, which must be a string column without nulls; every row is a document.
  Reading Parquet needs ``pyarrow``.

**Ids.** Each document is tokenized exactly as the library does it:
``AutoTokenizer.from_pretrained(TOKENIZER)(texts, add_special_tokens=..., truncation=..., max_length=...)``
gives the same ``input_ids`` (special tokens only with ``--add-special-tokens``; truncation only with
``--max-length``). The work is ``Tokenizer.encode_batch_flat``: batches of about a megabyte of text encoded by
the Rust thread pool (``--workers`` threads) while the next batch is read, the ids coming back as one flat array.

**Output layout** (in ``--output``)::

    manifest.json
    shard-00000.ids.npy        1-D: the shard's documents' ids one after another; uint16 when every id of the
                               vocabulary is below 65536, else uint32 (the manifest's "dtype")
    shard-00000.offsets.npy    1-D int64, the shard's documents + 1 entries, starting at 0: document j of the
                               shard is ids[offsets[j]:offsets[j + 1]]
    shard-00001.ids.npy  ...

A shard is closed by the document that brings it to ``--shard-size`` tokens or more (documents are never split;
the last shard holds what is left). Reading the shards in order gives the documents in input order.
``manifest.json`` holds ``"complete"`` (false while a run is under way or was interrupted); ``"documents"``,
``"tokens"`` and ``"bytes"`` (UTF-8 bytes of the documents' text) in total and per shard (``"shards"``, each with
its two file names); ``"dtype"``; ``"tokenizer"`` (``name_or_path``, ``sha256`` of the ``tokenizer.json`` text
the library writes for it, ``vocab_size``); ``"options"``; ``"inputs"`` (absolute path, format, size,
modification time, documents); and ``"runs"`` (when each run started, its seconds, threads, the first shard it
wrote and the documents it tokenized). A reader needs NumPy only::

    import json, numpy as np
    manifest = json.load(open("tok/manifest.json"))
    for shard in manifest["shards"]:
        ids = np.load("tok/" + shard["ids"], mmap_mode="r")
        offsets = np.load("tok/" + shard["offsets"])
        for start, end in zip(offsets[:-1], offsets[1:]):
            document = ids[start:end]            # one document's token ids

``load_documents("tok/")`` below does the same and returns every document's ids in order.

**Resuming.** Each shard file is written under a temporary name, flushed and fsynced, then renamed; only then is
the shard recorded in ``manifest.json``, which is replaced the same way. A run that is interrupted (Ctrl-C, a
kill, a crash) leaves the shards it finished; rerunning the same command reads past the documents of those
shards without tokenizing them and goes on, and the result is byte for byte that of one uninterrupted run (the
manifest's ``"runs"`` apart). The tokenizer (by content), the options and the inputs (path, size, modification
time) must be those of the first run; otherwise the command stops and asks for a new folder or ``--overwrite``.
``--workers`` may change between runs: it changes the speed, never the output. A finished folder is left as it is.

Test hook, not for other uses: ``FERROFORMERS_TOKENIZE_TEST_PAUSE_AT_SHARD=N`` makes the run wait a minute once
shard N's files are published, before the manifest records the shard, so that a test can stop the run exactly
where the folder holds a shard that the manifest does not list yet.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import sys
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from . import CliError

FORMAT = "ferroformers-tokenize"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
INPUT_FORMATS = {".txt": "txt", ".jsonl": "jsonl", ".parquet": "parquet"}
DEFAULT_FIELD = "text"
DEFAULT_TXT_SPLIT = "line"
DEFAULT_SHARD_SIZE = 100_000_000  # tokens: 200 MB of uint16 per shard, held in memory until it is written
# A batch is about this much text: enough work for the thread pool to spread, little memory, frequent progress.
BATCH_BYTES = 1 << 20
BATCH_DOCUMENTS = 16_384
PARQUET_ROWS = 8_192
TEST_PAUSE_ENV = "FERROFORMERS_TOKENIZE_TEST_PAUSE_AT_SHARD"
TEST_PAUSE_SECONDS = 60
OUTPUT_LAYOUT = """output (in --output):
  shard-00000.ids.npy      the shard's documents' token ids one after another (uint16, or uint32 for big vocabularies)
  shard-00000.offsets.npy  int64, documents + 1 entries: document j is ids[offsets[j]:offsets[j + 1]]
  ...
  manifest.json            counts per shard and in total, dtype, tokenizer, inputs, options; "complete"
Reader: ferroformers.cli.tokenize.load_documents(DIR), or see that module's docstring for NumPy-only code."""


# --------------------------------------------------------------------------- command line


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "tokenize",
        help="tokenize .txt/.jsonl/.parquet files into sharded .npy token arrays (resumable)",
        description="Tokenize text files into sharded NumPy arrays of token ids with an offsets index and a "
        "manifest.json, for training. Rerun the same command to resume an interrupted run.",
        epilog=OUTPUT_LAYOUT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--tokenizer", required=True, help="tokenizer folder or Hub id (as AutoTokenizer loads it)")
    parser.add_argument(
        "--input", nargs="+", required=True, type=Path, metavar="FILE", help="input files: .txt, .jsonl, .parquet"
    )
    parser.add_argument("--output", required=True, type=Path, metavar="DIR", help="folder for the shards")
    parser.add_argument(
        "--field", help=f"the text's field in .jsonl records / column in .parquet files (default: {DEFAULT_FIELD})"
    )
    parser.add_argument(
        "--txt-split",
        choices=["line", "paragraph"],
        help=f"a .txt document is a line or a blank-line separated paragraph (default: {DEFAULT_TXT_SPLIT})",
    )
    parser.add_argument("--max-length", type=_positive_int, metavar="N", help="truncate each document to N tokens")
    parser.add_argument(
        "--add-special-tokens", action="store_true", help="add the tokenizer's special tokens ([CLS] ... [SEP])"
    )
    parser.add_argument(
        "--shard-size",
        type=_positive_int,
        default=DEFAULT_SHARD_SIZE,
        metavar="N",
        help=f"close a shard once it holds N tokens or more (default: {DEFAULT_SHARD_SIZE:,})",
    )
    parser.add_argument(
        "--workers",
        type=_positive_int,
        metavar="N",
        help="threads of the Rust tokenizer pool (default: $FERROFORMERS_NUM_THREADS, else all cores)",
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="delete a previous tokenize output in --output and start over"
    )
    return parser


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class InputFile:
    path: Path  # absolute
    format: str  # "txt", "jsonl" or "parquet"
    size: int
    mtime_ns: int

    def identity(self) -> dict[str, Any]:
        """What must not change for a run to be resumed."""
        return {"path": str(self.path), "format": self.format, "size": self.size, "mtime_ns": self.mtime_ns}


def _check_inputs(paths: list[Path]) -> list[InputFile]:
    """The input files, checked before any work: they exist and have a known format."""
    inputs = []
    for path in paths:
        kind = INPUT_FORMATS.get(path.suffix.lower())
        if kind is None:
            raise CliError(
                f"{path}: unknown input format {path.suffix or '(no extension)'!r}; use .txt, .jsonl or .parquet",
                status=2,
            )
        try:
            stat = path.stat()
        except FileNotFoundError:
            raise CliError(f"input not found: {path}") from None
        if not path.is_file():
            raise CliError(f"input is not a file: {path}")
        inputs.append(InputFile(path.resolve(), kind, stat.st_size, stat.st_mtime_ns))
    return inputs


def _pyarrow_parquet():
    try:
        import pyarrow.parquet
    except ImportError:
        raise CliError("reading .parquet files needs pyarrow: pip install pyarrow") from None
    return pyarrow.parquet


def _check_parquet_column(path: Path, field: str):
    """The Parquet file, opened, once its ``field`` column is known to exist and hold strings."""
    parquet_module = _pyarrow_parquet()
    import pyarrow as pa

    try:
        parquet = parquet_module.ParquetFile(path)
    except (OSError, pa.ArrowException) as err:
        raise CliError(f"{path}: cannot read it as Parquet: {err}") from None
    schema = parquet.schema_arrow
    if field not in schema.names:
        raise CliError(f"{path}: no column {field!r} (it has: {', '.join(schema.names)}); pick one with --field")
    kind = schema.field(field).type
    is_string_view = getattr(pa.types, "is_string_view", lambda _: False)  # pyarrow >= 16
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind) or is_string_view(kind)):
        raise CliError(f"{path}: column {field!r} holds {kind}, not strings")
    return parquet


def _utf8_length(text: str, where: str) -> int:
    if text.isascii():  # O(1) for CPython's compact strings, and the common case
        return len(text)
    try:
        return len(text.encode("utf-8"))
    except UnicodeEncodeError as err:  # a lone surrogate, which a JSON escape such as "\ud800" can produce
        raise CliError(f"{where}: the text is not valid Unicode ({err.reason} at character {err.start})") from None


def _line_text(raw: bytes) -> bytes:
    if raw.endswith(b"\n"):
        raw = raw[:-1]
    if raw.endswith(b"\r"):
        raw = raw[:-1]
    return raw


def _decode(data: bytes, where: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise CliError(f"{where}: not UTF-8 text ({err.reason} at byte {err.start} of the document)") from None


# Each reader yields, per document, (text, UTF-8 bytes, bytes of the file read so far). The first `skip`
# documents are yielded as (None, 0, position): counted, but neither decoded nor checked, since a run that
# resumes has already tokenized them (and the file is the one that run read: same size and modification time).


def _read_txt(path: Path, split: str, skip: int) -> Iterator[tuple[str | None, int, int]]:
    position = index = 0
    lines: list[bytes] = []
    first_line = 0
    with open(path, "rb") as f:
        for number, raw in enumerate(f, 1):
            position += len(raw)
            if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            line = _line_text(raw)
            blank = not line.strip(b" \t")
            if split == "paragraph":
                if not blank:
                    if not lines:
                        first_line = number
                    lines.append(line)
                    continue
                if not lines:
                    continue
                data, where, lines = b"\n".join(lines), f"{path}:{first_line}", []
            else:
                if blank:
                    continue
                data, where = line, f"{path}:{number}"
            index += 1
            if index <= skip:
                yield None, 0, position
            else:
                yield _decode(data, where), len(data), position
        if lines:
            index += 1
            if index <= skip:
                yield None, 0, position
            else:
                data = b"\n".join(lines)
                yield _decode(data, f"{path}:{first_line}"), len(data), position


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "an array", bool: "a boolean", int: "a number", float: "a number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def _read_jsonl(path: Path, field: str, skip: int) -> Iterator[tuple[str | None, int, int]]:
    position = index = 0
    with open(path, "rb") as f:
        for number, raw in enumerate(f, 1):
            position += len(raw)
            if not raw.strip():
                continue
            index += 1
            if index <= skip:
                yield None, 0, position
                continue
            where = f"{path}:{number}"
            try:
                record = json.loads(raw)
            except ValueError as err:  # JSONDecodeError and UnicodeDecodeError both are ValueErrors
                raise CliError(f"{where}: not a JSON line: {err}") from None
            if not isinstance(record, dict):
                raise CliError(f"{where}: expected a JSON object, got {_json_type(record)}")
            if field not in record:
                fields = ", ".join(repr(k) for k in record) or "no fields"
                raise CliError(f"{where}: no field {field!r} (the record has {fields}); pick one with --field")
            text = record[field]
            if not isinstance(text, str):
                raise CliError(f"{where}: field {field!r} is {_json_type(text)}, not a string")
            yield text, _utf8_length(text, where), position


def _read_parquet(source: InputFile, field: str, skip: int) -> Iterator[tuple[str | None, int, int]]:
    parquet = _check_parquet_column(source.path, field)
    rows = parquet.metadata.num_rows
    done = 0
    for batch in parquet.iter_batches(batch_size=PARQUET_ROWS, columns=[field]):
        column = batch.column(0)
        n = len(column)
        # Parquet is compressed and columnar: progress is the file's size pro rata of the rows read.
        positions = [source.size * (done + i + 1) // rows for i in range(n)]
        if done + n <= skip:
            for position in positions:
                yield None, 0, position
            done += n
            continue
        if column.null_count:
            first_null = next(i for i, valid in enumerate(column.is_valid().to_pylist()) if not valid)
            raise CliError(f"{source.path}: row {done + first_null}: column {field!r} is null, not a string")
        for i, (text, position) in enumerate(zip(column.to_pylist(), positions)):
            if done + i < skip:
                yield None, 0, position
            else:
                yield text, _utf8_length(text, f"{source.path}: row {done + i}"), position
        done += n


class DocumentStream:
    """The documents of all the inputs, in order, the first ``skip`` of them counted but not read.

    Iterating yields ``(text, utf8_bytes)`` for each document after the skipped ones; meanwhile ``position``
    is the number of input file bytes read so far (for the progress bar), ``resumed_at`` the position where
    the first document that is not skipped begins, and ``documents[i]`` the number of documents of input
    ``i`` seen so far, skipped ones included."""

    def __init__(self, inputs: list[InputFile], field: str | None, txt_split: str | None, skip: int):
        self.inputs = inputs
        self.field = field
        self.txt_split = txt_split
        self.skip = skip
        self.position = 0
        self.resumed_at: int | None = None
        self.documents = [0] * len(inputs)

    def _read(self, source: InputFile, skip: int) -> Iterator[tuple[str | None, int, int]]:
        if source.format == "txt":
            return _read_txt(source.path, self.txt_split, skip)
        if source.format == "jsonl":
            return _read_jsonl(source.path, self.field, skip)
        return _read_parquet(source, self.field, skip)

    def __iter__(self) -> Iterator[tuple[str, int]]:
        base = 0
        skip = self.skip
        for i, source in enumerate(self.inputs):
            for text, nbytes, position in self._read(source, skip):
                self.documents[i] += 1
                if text is not None and self.resumed_at is None:
                    self.resumed_at = self.position
                self.position = base + position
                if text is not None:
                    yield text, nbytes
            skip = max(0, skip - self.documents[i])
            base += source.size
            self.position = base


def _batches(documents: Iterator[tuple[str, int]]) -> Iterator[tuple[list[str], list[int]]]:
    texts: list[str] = []
    sizes: list[int] = []
    total = 0
    for text, nbytes in documents:
        texts.append(text)
        sizes.append(nbytes)
        total += nbytes
        if total >= BATCH_BYTES or len(texts) >= BATCH_DOCUMENTS:
            yield texts, sizes
            texts, sizes, total = [], [], 0
    if texts:
        yield texts, sizes


# --------------------------------------------------------------------------- output


def _fsync_folder(folder: Path) -> None:
    """Make the renames in ``folder`` durable (POSIX: a rename lives in the folder's own metadata)."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _temporary(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp")


def _publish_npy(path: Path, chunks: list[np.ndarray], dtype: np.dtype) -> None:
    """Write the concatenation of ``chunks`` as ``path`` (the bytes ``np.save`` writes), atomically: under a
    temporary name, flushed and fsynced, then renamed. The chunks go to disk one by one: no concatenated copy."""
    length = sum(len(c) for c in chunks)
    header = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": (length,)}
    temporary = _temporary(path)
    with open(temporary, "wb") as f:
        np.lib.format.write_array_header_1_0(f, header)
        for chunk in chunks:
            f.write(np.ascontiguousarray(chunk, dtype=dtype).data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temporary, path)


def _publish_json(path: Path, value: dict) -> None:
    temporary = _temporary(path)
    with open(temporary, "w", encoding="utf-8") as f:
        f.write(json.dumps(value, indent=2) + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(temporary, path)
    _fsync_folder(path.parent)


def _is_ours(name: str) -> bool:
    """Files this command writes in its output folder (what ``--overwrite`` may delete)."""
    bare = name[1:-4] if name.startswith(".") and name.endswith(".tmp") else name
    return bare == MANIFEST or (bare.startswith("shard-") and bare.endswith((".ids.npy", ".offsets.npy")))


class ShardWriter:
    """Gathers tokenized documents and publishes a shard each time one reaches ``shard_size`` tokens.

    ``add`` takes a batch as ``encode_batch_flat`` returns it. Where a shard ends depends only on the
    documents' lengths, never on how they were batched, so a resumed run cuts the shards where one run would."""

    def __init__(self, folder: Path, manifest: dict, shard_size: int, dtype: np.dtype, pause_at: int | None):
        self.folder = folder
        self.manifest = manifest
        self.shard_size = shard_size
        self.dtype = dtype
        self.pause_at = pause_at  # the test hook (see the module's docstring)
        self._start_shard()

    def _start_shard(self) -> None:
        self.chunks: list[np.ndarray] = []  # ids, already in the output dtype
        self.lengths: list[np.ndarray] = []  # tokens per document
        self.tokens = 0
        self.bytes = 0

    def add(self, ids: np.ndarray, offsets: np.ndarray, sizes: list[int]) -> None:
        lengths = np.diff(offsets)
        ends = offsets[1:]  # ends[j]: tokens of the batch up to and including document j
        sizes_array = np.asarray(sizes, dtype=np.int64)
        start = 0  # the first document of the batch not yet in a shard
        while start < len(lengths):
            # The document that brings the shard to shard_size tokens closes it.
            reached = np.searchsorted(ends, offsets[start] + (self.shard_size - self.tokens), side="left")
            stop = min(int(reached) + 1, len(lengths))
            self.chunks.append(ids[offsets[start] : offsets[stop]].astype(self.dtype))
            self.lengths.append(lengths[start:stop])
            self.tokens += int(offsets[stop] - offsets[start])
            self.bytes += int(sizes_array[start:stop].sum())
            start = stop
            if self.tokens >= self.shard_size:
                self.publish()

    def publish(self) -> None:
        """Write the shard being gathered (if it has documents) and record it in the manifest."""
        if not self.lengths:
            return
        index = len(self.manifest["shards"])
        name = f"shard-{index:05d}"
        lengths = np.concatenate(self.lengths)
        offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        entry = {
            "ids": f"{name}.ids.npy",
            "offsets": f"{name}.offsets.npy",
            "documents": len(lengths),
            "tokens": self.tokens,
            "bytes": self.bytes,
        }
        _publish_npy(self.folder / entry["ids"], self.chunks, self.dtype)
        _publish_npy(self.folder / entry["offsets"], [offsets], np.dtype(np.int64))
        _fsync_folder(self.folder)
        if index == self.pause_at:
            time.sleep(TEST_PAUSE_SECONDS)
        self.manifest["shards"].append(entry)
        _update_totals(self.manifest)
        _publish_json(self.folder / MANIFEST, self.manifest)
        self._start_shard()


def _update_totals(manifest: dict) -> None:
    for key in ("documents", "tokens", "bytes"):
        manifest[key] = sum(shard[key] for shard in manifest["shards"])


def _identity_differences(old: dict, new: dict) -> list[str]:
    """What makes ``old`` (a manifest found in the folder) another run than ``new``."""
    differences = []
    if old.get("version") != new["version"]:
        return [f"format version ({old.get('version')!r} then, {new['version']!r} now)"]
    if (old.get("tokenizer") or {}).get("sha256") != new["tokenizer"]["sha256"]:
        differences.append("tokenizer")
    old_options = old.get("options") or {}
    for key, value in new["options"].items():
        if old_options.get(key) != value:
            differences.append(f"--{key.replace('_', '-')} ({old_options.get(key)!r} then, {value!r} now)")
    old_inputs = [{k: v for k, v in item.items() if k != "documents"} for item in old.get("inputs") or []]
    new_inputs = [{k: v for k, v in item.items() if k != "documents"} for item in new["inputs"]]
    if old_inputs != new_inputs:
        if [i.get("path") for i in old_inputs] != [i["path"] for i in new_inputs]:
            differences.append("inputs")
        else:
            changed = [n["path"] for o, n in zip(old_inputs, new_inputs) if o != n]
            differences.append(f"input files changed since ({', '.join(changed)})")
    return differences


def _read_previous_manifest(path: Path, overwrite: bool) -> dict | None:
    """The manifest a previous run left, or None (none there, or one that --overwrite may replace)."""
    if not path.exists():
        return None
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(old, dict):
            raise ValueError("not a JSON object")
    except (OSError, ValueError) as err:
        if overwrite:
            return None
        raise CliError(f"{path} cannot be read ({err}): use a new folder or --overwrite") from None
    if old.get("format") != FORMAT:
        # Someone else's manifest.json: not ours to resume, nor to delete.
        raise CliError(f"{path} was not written by `ferroformers tokenize`: use a new folder")
    return None if overwrite else old


def _prepare_folder(folder: Path, manifest: dict, overwrite: bool) -> dict:
    """The manifest to go on with: ``manifest`` itself for a fresh start, else the one found in ``folder``."""
    old = _read_previous_manifest(folder / MANIFEST, overwrite)
    names = [p.name for p in folder.iterdir()]
    temporaries = [name for name in names if name.startswith(".") and name.endswith(".tmp") and _is_ours(name)]
    for name in [n for n in names if _is_ours(n)] if overwrite else temporaries:
        # --overwrite: a clean start; otherwise what an interrupted run was writing, to be written again
        (folder / name).unlink()
    if overwrite:
        return manifest
    if old is None:
        if set(names) - set(temporaries):
            raise CliError(
                f"--output {folder} is not empty and holds no {MANIFEST}: use a new folder, or --overwrite to "
                "write beside what is there"
            )
        return manifest
    differences = _identity_differences(old, manifest)
    if differences:
        raise CliError(
            f"--output {folder} holds the output of another tokenize run (different {'; '.join(differences)}): "
            "use a new folder or --overwrite"
        )
    for shard in old.get("shards", []):
        for key in ("ids", "offsets"):
            if not (folder / shard[key]).is_file():
                raise CliError(
                    f"{folder / shard[key]} is listed in {MANIFEST} but missing: use a new folder or --overwrite"
                )
    # The identity (the tokenizer's name as given today, the inputs, the options) comes from this run, the work
    # done so far from the manifest found; the keys keep one order, so a resumed run ends with the manifest that
    # one uninterrupted run writes.
    resumed = dict(manifest, complete=bool(old.get("complete")))
    resumed["shards"] = list(old.get("shards", []))
    resumed["runs"] = list(old.get("runs", []))
    _update_totals(resumed)
    return resumed


@contextlib.contextmanager
def _locked(folder: Path):
    """Hold an exclusive lock on ``folder`` itself (no lock file is left behind) so that two runs never
    write the same shards."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no advisory locks; one run per folder is then up to the user
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise CliError(f"another `ferroformers tokenize` is writing to {folder}") from None
        yield
    finally:
        os.close(fd)


# --------------------------------------------------------------------------- tokenizer


def _load_tokenizer(name: str, max_length: int | None, add_special_tokens: bool):
    """The backend ``Tokenizer`` set up for this run, and the manifest's description of it."""
    from ferroformers import AutoTokenizer

    try:
        tok = AutoTokenizer.from_pretrained(name)
    except Exception as err:  # every loading failure (missing files, bad JSON, the Hub) is the user's to fix
        raise CliError(f"cannot load the tokenizer {name!r}: {type(err).__name__}: {err}") from None
    backend = tok.backend_tokenizer
    # Its content identifies the tokenizer, whatever the name or path it came by; `to_str` writes maps in a
    # fixed order (vocabularies by id), so equal tokenizers give equal text.
    description = {
        "name_or_path": name,
        "sha256": hashlib.sha256(backend.to_str().encode("utf-8")).hexdigest(),
        "vocab_size": backend.get_vocab_size(with_added_tokens=True),
    }
    backend.no_padding()
    if max_length is not None:
        specials = backend.num_special_tokens_to_add(False) if add_special_tokens else 0
        if max_length < specials:
            raise CliError(
                f"--max-length {max_length} is less than the {specials} special tokens the tokenizer adds", status=2
            )
        backend.enable_truncation(max_length, strategy="longest_first", direction=tok.truncation_side)
    else:
        backend.no_truncation()
    largest_id = max(backend.get_vocab(with_added_tokens=True).values(), default=0)
    dtype = np.dtype(np.uint16 if largest_id < 2**16 else np.uint32)
    return backend, description, dtype


# --------------------------------------------------------------------------- the command


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    inputs = _check_inputs(args.input)
    formats = {source.format for source in inputs}
    if args.field is not None and not formats & {"jsonl", "parquet"}:
        raise CliError("--field applies to .jsonl and .parquet inputs, and none was given", status=2)
    if args.txt_split is not None and "txt" not in formats:
        raise CliError("--txt-split applies to .txt inputs, and none was given", status=2)
    field = (args.field or DEFAULT_FIELD) if formats & {"jsonl", "parquet"} else None
    txt_split = (args.txt_split or DEFAULT_TXT_SPLIT) if "txt" in formats else None
    for source in inputs:  # a missing pyarrow or column shows now, not after the other inputs' shards
        if source.format == "parquet":
            _check_parquet_column(source.path, field)

    folder = args.output
    if folder.exists() and not folder.is_dir():
        raise CliError(f"--output {folder} exists and is not a folder")
    if args.workers is not None:
        import ferroformers

        ferroformers.set_num_threads(args.workers)
    backend, tokenizer, dtype = _load_tokenizer(args.tokenizer, args.max_length, args.add_special_tokens)
    pause_at = int(os.environ[TEST_PAUSE_ENV]) if os.environ.get(TEST_PAUSE_ENV) else None

    fresh = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "complete": False,
        "tokenizer": tokenizer,
        "options": {
            "field": field,
            "txt_split": txt_split,
            "max_length": args.max_length,
            "add_special_tokens": args.add_special_tokens,
            "shard_size": args.shard_size,
        },
        "inputs": [dict(source.identity(), documents=None) for source in inputs],
        "dtype": dtype.name,
        "documents": 0,
        "tokens": 0,
        "bytes": 0,
        "shards": [],
        "runs": [],
    }
    folder.mkdir(parents=True, exist_ok=True)
    with _locked(folder):
        manifest = _prepare_folder(folder, fresh, args.overwrite)
        if manifest["complete"]:
            print(
                f"ferroformers tokenize: {folder} is already complete ({manifest['documents']:,} documents, "
                f"{manifest['tokens']:,} tokens in {len(manifest['shards'])} shards); nothing to do",
                file=sys.stderr,
            )
            return 0
        _tokenize(folder, manifest, inputs, backend, dtype, args, pause_at, started)
    return 0


def _tokenize(folder, manifest, inputs, backend, dtype, args, pause_at, started) -> None:
    from tqdm.auto import tqdm

    import ferroformers

    from_shard = len(manifest["shards"])
    skip = manifest["documents"]
    this_run = {
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "seconds": None,
        "workers": ferroformers.get_num_threads(),
        "first_shard": from_shard,
        "documents": 0,  # those this run tokenized; the documents of the shards before first_shard are skipped
    }
    manifest["runs"].append(this_run)
    _publish_json(folder / MANIFEST, manifest)  # the identity is on disk before the first shard

    stream = DocumentStream(inputs, manifest["options"]["field"], manifest["options"]["txt_split"], skip)
    writer = ShardWriter(folder, manifest, args.shard_size, dtype, pause_at)
    total_size = sum(source.size for source in inputs)
    tokenized_bytes = 0
    bar = None
    add_special_tokens = args.add_special_tokens

    def encode(texts: list[str]):
        return backend.encode_batch_flat(texts, add_special_tokens=add_special_tokens)

    # One thread encodes batch k (in Rust, without the GIL) while this one reads batch k + 1.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ferroformers-tokenize") as pool:
        pending: tuple[Future, list[int], int] | None = None
        for texts, sizes in _batches(iter(stream)):
            if bar is None:  # made once the skipped documents are behind, so its rate is this run's
                bar = tqdm(
                    total=total_size,
                    initial=stream.resumed_at,
                    unit="B",
                    unit_scale=True,
                    desc="tokenize",
                    disable=None,  # off when stderr is not a terminal (logs, CI)
                    file=sys.stderr,
                )
            job = (pool.submit(encode, texts), sizes, stream.position)
            if pending is not None:
                tokenized_bytes += _finish_batch(pending, writer, bar, manifest)
            pending = job
        if pending is not None:
            tokenized_bytes += _finish_batch(pending, writer, bar, manifest)
    writer.publish()
    if bar is not None:
        bar.set_postfix_str(f"shards={len(manifest['shards'])}", refresh=False)
        bar.update(total_size - bar.n)
        bar.close()

    seconds = time.perf_counter() - started
    this_run["seconds"] = round(seconds, 3)
    this_run["documents"] = manifest["documents"] - skip
    manifest["complete"] = True
    for item, documents in zip(manifest["inputs"], stream.documents):
        item["documents"] = documents
    _update_totals(manifest)
    _publish_json(folder / MANIFEST, manifest)
    resumed = f", resumed at shard {from_shard}" if from_shard else ""
    print(
        f"ferroformers tokenize: {manifest['documents']:,} documents, {manifest['tokens']:,} tokens "
        f"({manifest['dtype']}) in {len(manifest['shards'])} shards -> {folder}; "
        f"{tokenized_bytes / 1e6:.1f} MB tokenized in {seconds:.1f} s ({tokenized_bytes / 1e6 / seconds:.2f} MB/s)"
        f"{resumed}",
        file=sys.stderr,
    )


def _finish_batch(job: tuple[Future, list[int], int], writer: ShardWriter, bar, manifest: dict) -> int:
    future, sizes, position = job
    ids, offsets = future.result()
    writer.add(ids, offsets, sizes)
    bar.update(position - bar.n)
    bar.set_postfix_str(f"shards={len(manifest['shards'])}", refresh=False)
    return sum(sizes)


# --------------------------------------------------------------------------- reading the output


def read_manifest(folder: str | os.PathLike) -> dict:
    """The ``manifest.json`` of a ``tokenize`` output folder, checked to be complete."""
    path = Path(folder) / MANIFEST
    manifest = json.loads(path.read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT:
        raise ValueError(f"{path} is not a `ferroformers tokenize` manifest")
    if not manifest.get("complete"):
        raise ValueError(f"{path}: the run is not complete; rerun the same command to finish it")
    return manifest


def load_documents(folder: str | os.PathLike) -> list[np.ndarray]:
    """Every document's token ids, in input order: read-only views into the memory-mapped shards.

    >>> docs = load_documents("tok/")  # gpt2, ../shared/corpus/en.txt, one document per line  # doctest: +SKIP
    >>> len(docs), docs[0][:4]  # doctest: +SKIP
    (50598, memmap([  22,   25, 1270,   11], dtype=uint16))
    """
    folder = Path(folder)
    documents: list[np.ndarray] = []
    for shard in read_manifest(folder)["shards"]:
        ids = np.load(folder / shard["ids"], mmap_mode="r")
        bounds = np.load(folder / shard["offsets"]).tolist()
        documents.extend(ids[start:end] for start, end in zip(bounds[:-1], bounds[1:]))
    return documents
