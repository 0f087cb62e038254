"""Offline hub resolution against a cache laid out exactly as huggingface_hub writes it."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from ferroformers import AutoTokenizer, FerroformersError, ModelNotFoundError

SHARED = Path(os.environ.get("FERRO_SHARED") or Path(__file__).resolve().parents[2] / ".." / "shared").resolve()


@pytest.fixture()
def offline_home(tmp_path, monkeypatch, write_hub_snapshot):
    home = tmp_path / "hf_home"
    hub = home / "hub"
    # tokenizer.json without merges.txt/vocab.txt: the fast file alone must be enough
    write_hub_snapshot(hub, "org/name", "a" * 40, SHARED / "tokenizers" / "gpt2", refs=("main",), suffixes=(".json",))
    write_hub_snapshot(
        hub, "org/name", "b" * 40, SHARED / "tokenizers" / "bert-uncased", refs=("v1",), suffixes=(".json",)
    )
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return home


def test_loads_from_cache_offline(offline_home):
    tok = AutoTokenizer.from_pretrained("org/name")
    assert tok.eos_token == "<|endoftext|>" and len(tok) == 50257
    assert tok("Hello world")["input_ids"] == [15496, 995]


def test_revision_by_commit_and_by_ref(offline_home):
    by_tag = AutoTokenizer.from_pretrained("org/name", revision="v1")
    by_commit = AutoTokenizer.from_pretrained("org/name", revision="b" * 40)
    for tok in (by_tag, by_commit):
        assert tok.cls_token == "[CLS]"
        assert tok("hello world")["input_ids"] == [101, 7592, 2088, 102]
    main = AutoTokenizer.from_pretrained("org/name", revision="a" * 40)
    assert main.eos_token == "<|endoftext|>"


def test_cache_dir_argument(offline_home, tmp_path, monkeypatch):
    moved = tmp_path / "elsewhere"
    shutil.move(str(offline_home / "hub"), str(moved))
    assert AutoTokenizer.from_pretrained("org/name", cache_dir=moved).eos_token == "<|endoftext|>"


def test_missing_id_raises_naming_it(offline_home):
    with pytest.raises(ModelNotFoundError, match="org/missing") as info:
        AutoTokenizer.from_pretrained("org/missing")
    assert isinstance(info.value, OSError) and isinstance(info.value, FerroformersError)
    assert "local folder" in str(info.value)
    with pytest.raises(ModelNotFoundError, match="no-such-rev"):
        AutoTokenizer.from_pretrained("org/name", revision="no-such-rev")


def test_local_files_only_without_offline_env(offline_home, monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE")
    assert AutoTokenizer.from_pretrained("org/name", local_files_only=True).eos_token == "<|endoftext|>"
    with pytest.raises(ModelNotFoundError, match="org/absent"):
        AutoTokenizer.from_pretrained("org/absent", local_files_only=True)
