"""from_pretrained / save_pretrained: file formats, prefixes, warnings and errors."""

from __future__ import annotations

import json
import logging

import pytest
import torch
import transformers
from safetensors.torch import load_file

import ferroformers
from ferroformers import (
    AutoConfig,
    AutoModel,
    AutoModelForMaskedLM,
    AutoModelForSequenceClassification,
    FerroformersError,
    ModelFileError,
    UnsupportedModelError,
    WeightShapeMismatchError,
)
from ferroformers.models.bert import BertConfig, BertForMaskedLM, BertForSequenceClassification, BertModel

LOGGER = "ferroformers.models.modeling_utils"


def tiny_bert(**overrides) -> BertConfig:
    fields = dict(
        vocab_size=99,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=37,
        max_position_embeddings=40,
    )
    fields.update(overrides)
    return BertConfig(**fields)


def batch():
    ids = torch.tensor([[2, 5, 7, 9, 3], [2, 8, 3, 0, 0]])
    return {"input_ids": ids, "attention_mask": (ids != 0).long()}


def same_outputs(a, b) -> bool:
    with torch.no_grad():
        return torch.allclose(a(**batch())[0], b(**batch())[0], atol=1e-6, rtol=0)


def test_round_trip_safetensors(tmp_path):
    torch.manual_seed(0)
    model = BertForSequenceClassification(tiny_bert(num_labels=4)).eval()
    model.save_pretrained(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json", "model.safetensors"]  # no generation config
    saved = json.loads((tmp_path / "config.json").read_text())
    assert saved["architectures"] == ["BertForSequenceClassification"] and saved["dtype"] == "float32"
    assert saved["model_type"] == "bert" and saved["id2label"]["3"] == "LABEL_3"
    loaded = AutoModelForSequenceClassification.from_pretrained(tmp_path)
    assert same_outputs(model, loaded)


def test_tied_weights_saved_once_and_retied(tmp_path):
    torch.manual_seed(0)
    model = BertForMaskedLM(tiny_bert())
    assert model.cls.predictions.decoder.weight is model.bert.embeddings.word_embeddings.weight
    model.save_pretrained(tmp_path)
    keys = load_file(str(tmp_path / "model.safetensors")).keys()
    assert "cls.predictions.decoder.weight" not in keys and "cls.predictions.decoder.bias" not in keys
    assert "cls.predictions.bias" in keys
    loaded = AutoModelForMaskedLM.from_pretrained(tmp_path)
    assert loaded.cls.predictions.decoder.weight is loaded.bert.embeddings.word_embeddings.weight
    assert same_outputs(model.eval(), loaded)
    assert model.num_parameters() == sum(t.numel() for t in load_file(str(tmp_path / "model.safetensors")).values())


def test_untied_embeddings_round_trip(tmp_path):
    torch.manual_seed(0)
    model = BertForMaskedLM(tiny_bert(tie_word_embeddings=False)).eval()
    assert model.cls.predictions.decoder.weight is not model.bert.embeddings.word_embeddings.weight
    model.save_pretrained(tmp_path)
    assert "cls.predictions.decoder.weight" in load_file(str(tmp_path / "model.safetensors"))
    reference = transformers.BertForMaskedLM.from_pretrained(tmp_path).eval()
    with torch.no_grad():
        assert torch.allclose(reference(**batch()).logits, model(**batch()).logits, atol=1e-5, rtol=0)


def test_sharded_save_and_load(tmp_path):
    torch.manual_seed(0)
    model = BertModel(tiny_bert()).eval()
    model.save_pretrained(tmp_path, max_shard_size="20KB")
    index = json.loads((tmp_path / "model.safetensors.index.json").read_text())
    shards = sorted(set(index["weight_map"].values()))
    assert len(shards) > 2 and shards[0] == f"model-00001-of-{len(shards):05d}.safetensors"
    assert not (tmp_path / "model.safetensors").exists()
    assert index["metadata"]["total_size"] == sum(p.numel() * 4 for p in model.state_dict().values())
    assert same_outputs(model, AutoModel.from_pretrained(tmp_path))
    assert same_outputs(model, transformers.BertModel.from_pretrained(tmp_path).eval())
    # Saving again unsharded replaces the shards instead of leaving them beside the new file.
    model.save_pretrained(tmp_path)
    assert sorted(p.name for p in tmp_path.glob("model*")) == ["model.safetensors"]


def test_pytorch_bin_through_weights_only(tmp_path):
    torch.manual_seed(0)
    model = BertModel(tiny_bert()).eval()
    model.config.save_pretrained(tmp_path)
    torch.save(model.state_dict(), tmp_path / "pytorch_model.bin")
    assert same_outputs(model, AutoModel.from_pretrained(tmp_path))


def test_pickle_with_code_is_refused(tmp_path):
    class Payload:
        def __reduce__(self):
            return (print, ("pwned",))

    tiny_bert().save_pretrained(tmp_path)
    torch.save({"x": Payload()}, tmp_path / "pytorch_model.bin")
    with pytest.raises(ModelFileError, match="weights_only"):
        AutoModel.from_pretrained(tmp_path)


def test_legacy_gamma_beta_names(tmp_path):
    torch.manual_seed(0)
    model = BertModel(tiny_bert()).eval()
    state = {
        k.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta"): v
        for k, v in model.state_dict().items()
    }
    model.config.save_pretrained(tmp_path)
    torch.save(state, tmp_path / "pytorch_model.bin")
    assert same_outputs(model, AutoModel.from_pretrained(tmp_path))


def test_base_checkpoint_into_head_warns_naming_new_weights(tmp_path, caplog):
    torch.manual_seed(0)
    base = BertModel(tiny_bert()).eval()
    base.save_pretrained(tmp_path)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        head = AutoModelForSequenceClassification.from_pretrained(tmp_path, num_labels=5)
    assert head.classifier.out_features == 5 and head.config.num_labels == 5
    torch.testing.assert_close(head.bert.pooler.dense.weight, base.pooler.dense.weight)
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 1, messages
    expected = (
        f"Some weights of BertForSequenceClassification were not initialized from the model checkpoint at {tmp_path}"
    )
    assert expected in messages[0]
    assert "['classifier.bias', 'classifier.weight']" in messages[0]
    assert "You should probably TRAIN this model on a down-stream task" in messages[0]


def test_head_checkpoint_into_base_reports_unused_head(tmp_path, caplog):
    torch.manual_seed(0)
    head = BertForSequenceClassification(tiny_bert()).eval()
    head.save_pretrained(tmp_path)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        base = AutoModel.from_pretrained(tmp_path)
    torch.testing.assert_close(base.embeddings.word_embeddings.weight, head.bert.embeddings.word_embeddings.weight)
    (message,) = [r.getMessage() for r in caplog.records]
    assert "were not used when initializing BertModel" in message and "classifier.weight" in message
    assert "newly initialized" not in message


def test_complete_checkpoint_loads_silently(tmp_path, caplog):
    BertForMaskedLM(tiny_bert()).save_pretrained(tmp_path)
    with caplog.at_level(logging.INFO, logger=LOGGER):
        AutoModelForMaskedLM.from_pretrained(tmp_path)
    assert caplog.records == []


def test_mismatched_shapes(tmp_path, caplog):
    BertForSequenceClassification(tiny_bert(num_labels=3)).save_pretrained(tmp_path)
    with pytest.raises(WeightShapeMismatchError) as info:
        AutoModelForSequenceClassification.from_pretrained(tmp_path, num_labels=5)
    message = str(info.value)
    assert "classifier" in message and "[3, 32]" in message and "[5, 32]" in message
    assert isinstance(info.value, FerroformersError)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        model = AutoModelForSequenceClassification.from_pretrained(tmp_path, num_labels=5, ignore_mismatched_sizes=True)
    assert model.classifier.weight.shape == (5, 32)
    (message,) = [r.getMessage() for r in caplog.records]
    assert "shapes did not match" in message and "- classifier.weight: found shape [3, 32]" in message


def test_corrupt_and_truncated_safetensors_name_the_file(tmp_path):
    BertModel(tiny_bert()).save_pretrained(tmp_path)
    weights = tmp_path / "model.safetensors"
    data = weights.read_bytes()
    weights.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="model.safetensors") as info:
        AutoModel.from_pretrained(tmp_path)
    assert str(weights) in str(info.value)
    weights.write_bytes(b"\x00garbage" * 10)
    with pytest.raises(ModelFileError, match="model.safetensors"):
        AutoModel.from_pretrained(tmp_path)


def test_folder_without_weights(tmp_path):
    tiny_bert().save_pretrained(tmp_path)
    with pytest.raises(ModelFileError, match="no weights"):
        AutoModel.from_pretrained(tmp_path)


def test_trust_remote_code_refused(tmp_path):
    BertModel(tiny_bert()).save_pretrained(tmp_path)
    for call in (AutoModel.from_pretrained, BertModel.from_pretrained, AutoConfig.from_pretrained):
        with pytest.raises(UnsupportedModelError, match="trust_remote_code"):
            call(tmp_path, trust_remote_code=True)


def test_unknown_model_type_lists_supported(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "t5", "d_model": 8}))
    for call in (AutoModel.from_pretrained, AutoConfig.from_pretrained):
        with pytest.raises(UnsupportedModelError, match="'t5'") as info:
            call(tmp_path)
        for name in ("bert", "distilbert", "roberta", "gpt2", "llama", "mistral", "qwen2"):
            assert name in str(info.value)
    with pytest.raises(UnsupportedModelError, match="AutoModelForCausalLM does not support model_type 'bert'"):
        ferroformers.AutoModelForCausalLM.from_config(tiny_bert())


def test_dtype_and_config_overrides(tmp_path):
    BertModel(tiny_bert()).save_pretrained(tmp_path)
    model = AutoModel.from_pretrained(tmp_path, dtype=torch.bfloat16, output_hidden_states=True)
    assert model.dtype == torch.bfloat16 and model.config.dtype == torch.bfloat16
    assert model.device.type == "cpu"
    assert len(model(**batch()).hidden_states) == 3
    model.save_pretrained(tmp_path / "bf16")
    assert json.loads((tmp_path / "bf16" / "config.json").read_text())["dtype"] == "bfloat16"
    assert AutoModel.from_pretrained(tmp_path / "bf16").dtype == torch.bfloat16  # "auto" follows the config
    assert AutoModel.from_pretrained(tmp_path / "bf16", dtype="float32").dtype == torch.float32
    with pytest.raises(TypeError, match="not_an_option"):
        AutoModel.from_pretrained(tmp_path, not_an_option=1)


def test_id2label_passed_to_from_pretrained(tmp_path):
    BertModel(tiny_bert()).save_pretrained(tmp_path)
    labels = {0: "neg", 1: "neu", 2: "pos"}
    model = AutoModelForSequenceClassification.from_pretrained(tmp_path, id2label=labels)
    assert model.config.num_labels == 3 and model.config.label2id == {"neg": 0, "neu": 1, "pos": 2}
    model.save_pretrained(tmp_path / "out")
    assert transformers.AutoConfig.from_pretrained(tmp_path / "out").id2label == labels


def test_output_indexing():
    torch.manual_seed(0)
    model = BertForSequenceClassification(tiny_bert()).eval()
    out = model(**batch(), labels=torch.tensor([0, 1]))
    loss, logits = out[0], out[1]
    assert loss is out.loss and logits is out["logits"] and out[:2] == (loss, logits)
    assert out.keys() == ["loss", "logits"] and len(out) == 2 and "hidden_states" not in out
    assert list(out) == [loss, logits] and out.to_tuple() == (loss, logits)
    with pytest.raises(KeyError):
        out["hidden_states"]


def test_decoder_contract_list_tying_and_generation_config(tmp_path, caplog):
    """What decoder files rely on: `_tied_weights_keys` as a list ties to the input embeddings through
    `base_model_prefix`; `can_generate()` adds generation_config.json; ignore regexes silence buffers."""
    from ferroformers.models.configuration import PretrainedConfig
    from ferroformers.models.modeling_utils import PreTrainedModel

    class ToyConfig(PretrainedConfig):
        model_type = "toy"

        def __init__(self, vocab_size=11, hidden_size=4, bos_token_id=1, eos_token_id=2, **kwargs):
            self.vocab_size, self.hidden_size = vocab_size, hidden_size
            super().__init__(bos_token_id=bos_token_id, eos_token_id=eos_token_id, **kwargs)

    class ToyPreTrainedModel(PreTrainedModel):
        config_class = ToyConfig
        base_model_prefix = "model"
        _keys_to_ignore_on_load_unexpected = [r"rotary_emb\.inv_freq$"]

    class ToyModel(ToyPreTrainedModel):
        def __init__(self, config):
            super().__init__(config)
            self.embed_tokens = torch.nn.Embedding(config.vocab_size, config.hidden_size)
            self.post_init()

        def get_input_embeddings(self):
            return self.embed_tokens

    class ToyForCausalLM(ToyPreTrainedModel):
        _tied_weights_keys = ["lm_head.weight"]

        def __init__(self, config):
            super().__init__(config)
            self.model = ToyModel(config)
            self.lm_head = torch.nn.Linear(config.hidden_size, config.vocab_size, bias=False)
            self.post_init()

        def get_output_embeddings(self):
            return self.lm_head

        @classmethod
        def can_generate(cls):
            return True

    model = ToyForCausalLM(ToyConfig())
    assert model.lm_head.weight is model.model.embed_tokens.weight
    assert model.tied_weights() == {"lm_head.weight": "model.embed_tokens.weight"}
    model.save_pretrained(tmp_path)
    assert list(load_file(str(tmp_path / "model.safetensors"))) == ["model.embed_tokens.weight"]
    generation = json.loads((tmp_path / "generation_config.json").read_text())
    assert generation == {"_from_model_config": True, "bos_token_id": 1, "eos_token_id": 2}

    state = load_file(str(tmp_path / "model.safetensors"))
    state["model.rotary_emb.inv_freq"] = torch.ones(2)
    torch.save(state, tmp_path / "pytorch_model.bin")
    (tmp_path / "model.safetensors").unlink()
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        loaded = ToyForCausalLM.from_pretrained(tmp_path)
        base = ToyModel.from_pretrained(tmp_path)  # the task checkpoint into the base model: prefix dropped
    assert caplog.records == []
    assert loaded.lm_head.weight is loaded.model.embed_tokens.weight
    torch.testing.assert_close(base.embed_tokens.weight, model.model.embed_tokens.weight)

    untied = ToyForCausalLM(ToyConfig(tie_word_embeddings=False))
    assert untied.lm_head.weight is not untied.model.embed_tokens.weight and untied.tied_weights() == {}
