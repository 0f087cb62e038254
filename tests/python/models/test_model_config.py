"""PretrainedConfig: defaults, labels, aliases, and config.json round trips with transformers."""

from __future__ import annotations

import json

import pytest
import torch
import transformers

from ferroformers import AutoConfig, UnsupportedModelError
from ferroformers.models.bert import BertConfig
from ferroformers.models.distilbert import DistilBertConfig
from ferroformers.models.roberta import RobertaConfig


def test_defaults_match_transformers():
    for ours, theirs in (
        (BertConfig(), transformers.BertConfig()),
        (RobertaConfig(), transformers.RobertaConfig()),
        (DistilBertConfig(), transformers.DistilBertConfig()),
    ):
        theirs_dict = theirs.to_dict()
        for key, value in ours.to_dict().items():
            if key in theirs_dict and key not in ("transformers_version", "dtype"):
                assert theirs_dict[key] == value, (type(ours).__name__, key)
        assert ours.num_labels == theirs.num_labels == 2


def test_labels():
    config = BertConfig(num_labels=3)
    assert config.id2label == {0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"} and config.label2id["LABEL_2"] == 2
    config.num_labels = 5
    assert len(config.id2label) == 5 and config.label2id["LABEL_4"] == 4
    from_json = BertConfig(id2label={"0": "neg", "1": "pos"})  # JSON keys are strings
    assert from_json.id2label == {0: "neg", 1: "pos"} and from_json.label2id == {"neg": 0, "pos": 1}
    with pytest.raises(ValueError, match="num_labels=3"):
        BertConfig(num_labels=3, id2label={0: "a"})
    with pytest.raises(ValueError, match="regression"):
        BertConfig(num_labels=1, problem_type="single_label_classification")
    with pytest.raises(ValueError, match="problem_type"):
        BertConfig(problem_type="ranking")


def test_aliases_unknown_keys_and_legacy_dtype():
    config = DistilBertConfig(dim=64, n_layers=3, some_future_field=[1, 2], torch_dtype="bfloat16")
    assert config.hidden_size == 64 and config.num_hidden_layers == 3
    config.hidden_size = 128
    assert config.dim == 128
    assert config.some_future_field == [1, 2] and config.to_dict()["some_future_field"] == [1, 2]
    assert config.dtype == torch.bfloat16 and config.to_dict()["dtype"] == "bfloat16"
    with pytest.raises(AttributeError):
        _ = config.not_a_field


@pytest.mark.parametrize("cls", [BertConfig, RobertaConfig, DistilBertConfig])
def test_round_trip_through_transformers(cls, tmp_path):
    ours = cls(num_labels=4, problem_type="multi_label_classification", vocab_size=123)
    ours.save_pretrained(tmp_path)
    theirs = transformers.AutoConfig.from_pretrained(tmp_path)
    assert type(theirs).__name__ == cls.__name__
    assert theirs.vocab_size == 123 and theirs.num_labels == 4 and theirs.problem_type == "multi_label_classification"
    assert theirs.pad_token_id == ours.pad_token_id and theirs.id2label == ours.id2label
    theirs.save_pretrained(tmp_path / "back")
    back = AutoConfig.from_pretrained(tmp_path / "back")
    assert type(back) is cls
    assert {k: v for k, v in back.to_dict().items() if k != "transformers_version"} == ours.to_dict()


def test_from_pretrained_kwargs_and_json(tmp_path):
    BertConfig(hidden_size=48).save_pretrained(tmp_path)
    data = json.loads((tmp_path / "config.json").read_text())
    assert data["model_type"] == "bert" and data["hidden_size"] == 48
    config = BertConfig.from_pretrained(tmp_path, num_labels=7)
    assert config.num_labels == 7 and config.hidden_size == 48 and config.name_or_path == str(tmp_path)
    assert BertConfig.from_dict(config.to_dict()) == config
    assert BertConfig.from_dict(json.loads(config.to_json_string())) == config
    with pytest.raises(UnsupportedModelError, match="roberta"):
        RobertaConfig.from_pretrained(tmp_path)


def test_malformed_config_names_file(tmp_path):
    from ferroformers import ModelFileError

    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(ModelFileError, match="config.json"):
        AutoConfig.from_pretrained(tmp_path)
