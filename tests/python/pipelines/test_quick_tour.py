"""The quick tour's snippets (../shared/seed, sections 1-3), run as users write them with `transformers`
replaced by `ferroformers`. Not even the model names change: the Hub ids they use resolve offline from a Hub
cache (HF_HOME, HF_HUB_OFFLINE=1) that holds, under those ids, the real tokenizers from ../shared and small
random models saved by transformers. Where the result is deterministic it is compared with transformers
loading the same ids from the same cache (told where it is and to stay offline explicitly: huggingface_hub
reads HF_HOME and HF_HUB_OFFLINE once, when transformers imports it)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import transformers

PROMPT = "Three Rings for the Elven-kings under the sky, Seven for the Dwarf-lords in their halls of stone"
PROMPT_2 = "Nine for Mortal Men, doomed to die, One for the Dark Lord on his dark throne"
BATCH_SENTENCES = [
    "But what about second breakfast?",
    "Don't think he knows about second breakfast, Pip.",
    "What about elevensies?",
]


def _save(folder: Path, model, tokenizer_dir: Path) -> Path:
    model.save_pretrained(folder)
    transformers.AutoTokenizer.from_pretrained(tokenizer_dir).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def quick_tour_hub(tmp_path_factory, tokenizers_dir, write_hub_snapshot):
    """A Hub cache holding every model id the quick tour names, and the environment that makes it the Hub."""
    root = tmp_path_factory.mktemp("quick-tour")
    torch.manual_seed(0)
    gpt2 = transformers.GPT2Config(vocab_size=50257, n_embd=32, n_layer=2, n_head=2, n_positions=512)
    bert = transformers.BertConfig(
        vocab_size=30522, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=37
    )
    distilbert = transformers.DistilBertConfig(vocab_size=30522, dim=32, hidden_dim=37, n_layers=2, n_heads=2)
    cased = transformers.AutoTokenizer.from_pretrained(tokenizers_dir / "bert-cased-wordpiece")
    bert_cased = transformers.BertConfig(
        vocab_size=len(cased), hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=37
    )
    repos = {
        "openai-community/gpt2": (transformers.GPT2LMHeadModel(gpt2), "gpt2"),  # pipeline("text-generation")
        "distilgpt2": (transformers.GPT2LMHeadModel(gpt2), "gpt2"),
        "bert-base-uncased": (transformers.BertForMaskedLM(bert), "bert-uncased"),
        "distilbert-base-uncased": (transformers.DistilBertForMaskedLM(distilbert), "bert-uncased"),
        "bert-base-cased": (transformers.BertForMaskedLM(bert_cased), "bert-cased-wordpiece"),
    }
    for i, (repo_id, (model, tokenizer)) in enumerate(repos.items()):
        folder = _save(root / f"src{i}", model, tokenizers_dir / tokenizer)
        write_hub_snapshot(root / "home" / "hub", repo_id, f"{i:x}" * 40, folder)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HOME", str(root / "home"))
        patch.delenv("HF_HUB_CACHE", raising=False)
        patch.setenv("HF_HUB_OFFLINE", "1")
        yield root


def _reference(hub_root: Path, auto_class, repo_id: str):
    """transformers' `auto_class.from_pretrained(repo_id)` from the quick tour's offline cache."""
    return auto_class.from_pretrained(repo_id, cache_dir=hub_root / "home" / "hub", local_files_only=True)


def _check_generation(result, prompts):
    assert isinstance(result, list) and len(result) == 1 and set(result[0]) == {"generated_text"}
    text = result[0]["generated_text"]
    assert text.startswith(prompts) and len(text) > len(prompts)


def test_section_1_pipeline(quick_tour_hub):
    from ferroformers import pipeline

    generator = pipeline(task="text-generation")

    _check_generation(
        generator("Three Rings for the Elven-kings under the sky, Seven for the Dwarf-lords in their halls of stone"),
        PROMPT,
    )

    both = generator(
        [
            "Three Rings for the Elven-kings under the sky, Seven for the Dwarf-lords in their halls of stone",
            "Nine for Mortal Men, doomed to die, One for the Dark Lord on his dark throne",
        ]
    )
    assert len(both) == 2
    _check_generation(both[0], PROMPT)
    _check_generation(both[1], PROMPT_2)

    two = generator(
        "Three Rings for the Elven-kings under the sky, Seven for the Dwarf-lords in their halls of stone",
        num_return_sequences=2,
    )
    assert len(two) == 2 and all(r["generated_text"].startswith(PROMPT) for r in two)
    assert two[0] != two[1]  # the pipeline samples by default, as transformers' does
    assert generator.model.config.name_or_path == "openai-community/gpt2"


def test_section_1_model_and_tokenizer(quick_tour_hub):
    from ferroformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained("distilgpt2")
    model = AutoModelForCausalLM.from_pretrained("distilgpt2")

    from ferroformers import pipeline

    generator = pipeline(task="text-generation", model=model, tokenizer=tokenizer)

    _check_generation(
        generator("Three Rings for the Elven-kings under the sky, Seven for the Dwarf-lords in their halls of stone"),
        PROMPT,
    )
    # greedy decoding is the same as transformers' pipeline on the same cached checkpoint
    theirs = transformers.pipeline(
        task="text-generation",
        model=_reference(quick_tour_hub, transformers.AutoModelForCausalLM, "distilgpt2"),
        tokenizer=_reference(quick_tour_hub, transformers.AutoTokenizer, "distilgpt2"),
        device="cpu",
    )
    assert generator(PROMPT, do_sample=False, max_new_tokens=12) == theirs(PROMPT, do_sample=False, max_new_tokens=12)


def test_section_2_auto_classes(quick_tour_hub):
    from ferroformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained("bert-base-uncased")

    encoded = tokenizer("In a hole in the ground there lived a hobbit.")
    print(encoded)
    reference = _reference(quick_tour_hub, transformers.AutoTokenizer, "bert-base-uncased")
    assert dict(encoded) == dict(reference("In a hole in the ground there lived a hobbit."))

    from ferroformers import AutoModelForSequenceClassification

    model = AutoModelForSequenceClassification.from_pretrained("distilbert-base-uncased")

    from ferroformers import AutoModelForTokenClassification

    token_model = AutoModelForTokenClassification.from_pretrained("distilbert-base-uncased")

    # the pretrained body is the checkpoint's (the heads are new): same hidden states as transformers'
    reference_model = _reference(quick_tour_hub, transformers.AutoModel, "distilbert-base-uncased")
    ids = torch.tensor([reference("In a hole in the ground there lived a hobbit.")["input_ids"]])
    with torch.no_grad():
        expected = reference_model(ids).last_hidden_state
        for ours in (model, token_model):
            torch.testing.assert_close(ours.distilbert(ids).last_hidden_state, expected, atol=1e-5, rtol=0)
    assert model.config.num_labels == 2 and token_model.classifier.out_features == 2


def test_section_3_preprocessing(quick_tour_hub):
    from ferroformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained("bert-base-cased")
    reference = _reference(quick_tour_hub, transformers.AutoTokenizer, "bert-base-cased")

    encoded_input = tokenizer("Do not meddle in the affairs of wizards, for they are subtle and quick to anger.")
    expected = reference("Do not meddle in the affairs of wizards, for they are subtle and quick to anger.")
    assert dict(encoded_input) == dict(expected)
    assert set(encoded_input) == {"input_ids", "token_type_ids", "attention_mask"}

    print(tokenizer.decode(encoded_input["input_ids"]))
    assert tokenizer.decode(encoded_input["input_ids"]) == reference.decode(expected["input_ids"])

    batch_sentences = [
        "But what about second breakfast?",
        "Don't think he knows about second breakfast, Pip.",
        "What about elevensies?",
    ]
    encoded_input = tokenizer(batch_sentences, padding=True)
    assert dict(encoded_input) == dict(reference(BATCH_SENTENCES, padding=True))

    encoded_input = tokenizer(batch_sentences, padding=True, truncation=True)
    assert dict(encoded_input) == dict(reference(BATCH_SENTENCES, padding=True, truncation=True))

    encoded_input = tokenizer(batch_sentences, padding=True, truncation=True, return_tensors="pt")
    expected = reference(BATCH_SENTENCES, padding=True, truncation=True, return_tensors="pt")
    assert set(encoded_input) == set(expected)
    for key in expected:
        assert isinstance(encoded_input[key], torch.Tensor) and torch.equal(encoded_input[key], expected[key])
