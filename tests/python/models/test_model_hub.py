"""Models from a Hub id, resolved offline from a cache laid out exactly as huggingface_hub writes it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from ferroformers import AutoConfig, AutoModelForSequenceClassification, FerroformersError, ModelNotFoundError
from ferroformers.models.bert import BertConfig, BertForSequenceClassification


@pytest.fixture()
def cached_model(tmp_path, monkeypatch, write_hub_snapshot):
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=99, hidden_size=32, num_hidden_layers=1, num_attention_heads=4, intermediate_size=37, num_labels=3
    )
    model = BertForSequenceClassification(config).eval()
    model.save_pretrained(tmp_path / "saved", max_shard_size="30KB")  # sharded: the index resolves shards too
    home = tmp_path / "hf_home"
    write_hub_snapshot(home / "hub", "some-org/some-model", "c" * 40, tmp_path / "saved")
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return model


def test_loads_from_hub_cache_offline(cached_model):
    assert len(list((Path(os.environ["HF_HOME"]) / "hub").rglob("model-0000*.safetensors"))) > 1
    model = AutoModelForSequenceClassification.from_pretrained("some-org/some-model")
    ids = torch.tensor([[2, 5, 7, 3]])
    with torch.no_grad():
        torch.testing.assert_close(model(ids).logits, cached_model(ids).logits, atol=1e-6, rtol=0)
    assert model.config.name_or_path == "some-org/some-model"
    assert AutoConfig.from_pretrained("some-org/some-model", revision="c" * 40).num_labels == 3


def test_cache_miss_names_the_id(cached_model):
    with pytest.raises(ModelNotFoundError, match="some-org/absent-model") as info:
        AutoModelForSequenceClassification.from_pretrained("some-org/absent-model")
    assert isinstance(info.value, OSError) and isinstance(info.value, FerroformersError)
    assert "Can't load a model" in str(info.value) and "config.json" in str(info.value)
    with pytest.raises(ModelNotFoundError, match="some-org/absent-model"):
        AutoConfig.from_pretrained("some-org/absent-model")


def test_cache_dir_and_local_files_only(cached_model, monkeypatch):
    hub = Path(os.environ["HF_HOME"]) / "hub"
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setenv("HF_HOME", str(hub.parent / "elsewhere"))
    model = AutoModelForSequenceClassification.from_pretrained(
        "some-org/some-model", cache_dir=hub, local_files_only=True
    )
    assert model.config.num_labels == 3
