"""Fixtures shared by the Python tests: where the shared data lives, and its corpus as paragraphs.

The shared folder is ``../shared`` beside the repository root, or ``$FERRO_SHARED``. It is required:
a missing folder is an error with a message, never a silent skip.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from functools import cache
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def _shared_dir() -> Path:
    path = Path(os.environ.get("FERRO_SHARED") or REPO_ROOT.parent / "shared").resolve()
    if not (path / "tokenizers").is_dir():
        raise FileNotFoundError(
            f"shared data not found at {path}: check out the shared folder beside the repository "
            "(../shared) or set FERRO_SHARED to its path"
        )
    return path


@cache
def _paragraphs(shared: Path, lang: str) -> tuple[str, ...]:
    with open(shared / "corpus" / f"{lang}.txt", encoding="utf-8") as f:
        return tuple(t for t in f.read().split("\n\n") if t)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``../shared`` (or ``$FERRO_SHARED``): tokenizers, corpus, datasets and the measuring tools."""
    return _shared_dir()


@pytest.fixture(scope="session")
def tokenizers_dir(shared_dir: Path) -> Path:
    """The folder of tokenizer folders (``gpt2``, ``bert-uncased``, ...), each with a ``tokenizer.json``."""
    return shared_dir / "tokenizers"


@pytest.fixture(scope="session")
def corpus_texts(shared_dir: Path) -> Callable[..., list[str]]:
    """``corpus_texts(lang, limit=None)``: the first ``limit`` paragraphs of ``corpus/{lang}.txt``
    (paragraphs are separated by blank lines; ``limit=None`` gives them all).

    Example: ``texts = corpus_texts("en", 100)``.
    """

    def read(lang: str, limit: int | None = None) -> list[str]:
        return list(_paragraphs(shared_dir, lang)[:limit])

    return read


def _write_hub_snapshot(
    hub: Path,
    repo_id: str,
    commit: str,
    source: Path,
    refs: tuple[str, ...] = ("main",),
    suffixes: tuple[str, ...] | None = None,
) -> None:
    """Lay `source`'s files out as huggingface_hub's cache does:
    ``models--org--name/{blobs/<sha256>, snapshots/<commit>/<file> -> ../../blobs/<sha256>, refs/<ref>}``.
    ``suffixes`` keeps only files with those suffixes (``(".json",)``)."""
    repo = hub / ("models--" + repo_id.replace("/", "--"))
    (repo / "blobs").mkdir(parents=True, exist_ok=True)
    snapshot = repo / "snapshots" / commit
    snapshot.mkdir(parents=True, exist_ok=True)
    for file in sorted(p for p in source.iterdir() if p.is_file()):
        if suffixes is not None and file.suffix not in suffixes:
            continue
        data = file.read_bytes()
        blob = repo / "blobs" / hashlib.sha256(data).hexdigest()
        if not blob.exists():
            blob.write_bytes(data)
        (snapshot / file.name).symlink_to(os.path.relpath(blob, snapshot))
    (repo / "refs").mkdir(exist_ok=True)
    for ref in refs:
        (repo / "refs" / ref).write_text(commit)


@pytest.fixture(scope="session")
def write_hub_snapshot() -> Callable[..., None]:
    """``write_hub_snapshot(hub_dir, repo_id, commit, source_folder, refs=("main",), suffixes=None)``: put a
    folder into a Hub cache (``$HF_HOME/hub``) exactly as huggingface_hub lays out a download."""
    return _write_hub_snapshot
