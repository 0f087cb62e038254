"""What each transformers tokenizer class does to a `tokenizer.json` at load time.

transformers 5.x does not use `tokenizer.json` as is for model classes with their own `__init__`
(BertTokenizer, GPT2Tokenizer, RobertaTokenizer, LlamaTokenizer, T5Tokenizer): it keeps the
vocabulary, merges, added tokens, post-processor, padding and truncation from the file, and
rebuilds the normalizer, pre-tokenizer, decoder and model options from `tokenizer_config.json`.
For parity we apply the same rewrite to the JSON before handing it to the Rust backend
(`Tokenizer.from_str`). Classes not listed here (`PreTrainedTokenizerFast`, `TokenizersBackend`,
unknown names) use the file unchanged.

    >>> profile_for("GPT2TokenizerFast").model_input_names
    ['input_ids', 'attention_mask']
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

_SPACE = "\u2581"
Json = dict


def template(single: str, pair: str, ids: dict[str, int]) -> Json:
    """A TemplateProcessing post-processor from 'tok:type $A:type ...' specs (type ids default to 0)."""

    def pieces(spec: str):
        out = []
        for item in spec.split():
            name, _, type_id = item.rpartition(":") if ":" in item else (item, "", "0")
            type_id = int(type_id or 0)
            if name in ("$A", "$B", "$"):
                out.append({"Sequence": {"id": "A" if name in ("$A", "$") else "B", "type_id": type_id}})
            else:
                out.append({"SpecialToken": {"id": name, "type_id": type_id}})
        return out

    return {
        "type": "TemplateProcessing",
        "single": pieces(single),
        "pair": pieces(pair),
        "special_tokens": {tok: {"id": tok, "ids": [i], "tokens": [tok]} for tok, i in ids.items()},
    }


def token_id(tokenizer_json: Json, token: str | None) -> int | None:
    """The id of `token` in the file's added tokens or model vocabulary (None when absent)."""
    if token is None:
        return None
    for added in tokenizer_json.get("added_tokens", []):
        if added["content"] == token:
            return added["id"]
    vocab = tokenizer_json["model"].get("vocab")
    if isinstance(vocab, dict):
        return vocab.get(token)
    if isinstance(vocab, list):  # Unigram: [[piece, score], ...]
        for i, item in enumerate(vocab):
            if item[0] == token:
                return i
    return None


def bos_eos_template(tokenizer_json: Json, specials: dict, add_bos: bool, add_eos: bool) -> Json:
    """The post-processor transformers builds from add_bos_token / add_eos_token."""
    bos, eos = specials.get("bos_token"), specials.get("eos_token")
    add_bos, add_eos = add_bos and bos is not None, add_eos and eos is not None
    single = f"{bos + ':0 ' if add_bos else ''}$A:0{' ' + eos + ':0' if add_eos else ''}"
    pair = f"{single}{' ' + bos + ':1' if add_bos else ''} $B:1{' ' + eos + ':1' if add_eos else ''}"
    ids = {}
    if add_bos:
        ids[bos] = token_id(tokenizer_json, bos)
    if add_eos:
        ids[eos] = token_id(tokenizer_json, eos)
    return template(single, pair, ids)


def _keep_or_bos_eos(tj: Json, config: dict, specials: dict) -> None:
    # transformers 5.24 keeps the file's post-processor (even when the config names add_bos_token);
    # only a file without one gets the template built from add_bos_token / add_eos_token.
    if tj.get("post_processor") is None:
        tj["post_processor"] = bos_eos_template(
            tj, specials, bool(config.get("add_bos_token", False)), bool(config.get("add_eos_token", False))
        )


def _byte_level_bpe_model(tj: Json) -> None:
    tj["model"].update(
        dropout=None,
        unk_token=None,
        continuing_subword_prefix="",
        end_of_word_suffix="",
        fuse_unk=False,
        byte_fallback=False,
        ignore_merges=False,
    )


def rebuild_bert(tj: Json, config: dict, specials: dict) -> None:
    unk = specials.get("unk_token") or "[UNK]"
    tj["model"] = {
        "type": "WordPiece",
        "unk_token": unk,
        "continuing_subword_prefix": "##",
        "max_input_chars_per_word": 100,
        "vocab": tj["model"]["vocab"],
    }
    tj["normalizer"] = {
        "type": "BertNormalizer",
        "clean_text": True,
        "handle_chinese_chars": config.get("tokenize_chinese_chars", True),
        "strip_accents": config.get("strip_accents"),
        "lowercase": config.get("do_lower_case", True),
    }
    tj["pre_tokenizer"] = {"type": "BertPreTokenizer"}
    tj["decoder"] = {"type": "WordPiece", "prefix": "##", "cleanup": True}
    cls, sep = specials.get("cls_token") or "[CLS]", specials.get("sep_token") or "[SEP]"
    cls_id, sep_id = token_id(tj, cls), token_id(tj, sep)
    tj["post_processor"] = template(
        f"{cls}:0 $A:0 {sep}:0",
        f"{cls}:0 $A:0 {sep}:0 $B:1 {sep}:1",
        {cls: 2 if cls_id is None else cls_id, sep: 3 if sep_id is None else sep_id},
    )


def rebuild_gpt2(tj: Json, config: dict, specials: dict) -> None:
    _byte_level_bpe_model(tj)
    tj["normalizer"] = None
    tj["pre_tokenizer"] = {
        "type": "ByteLevel",
        "add_prefix_space": bool(config.get("add_prefix_space", False)),
        "trim_offsets": True,
        "use_regex": True,
    }
    tj["decoder"] = {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True}
    _keep_or_bos_eos(tj, config, specials)


def rebuild_roberta(tj: Json, config: dict, specials: dict) -> None:
    rebuild_gpt2(tj, {k: v for k, v in config.items() if k not in ("add_bos_token", "add_eos_token")}, specials)
    sep, cls = specials.get("sep_token"), specials.get("cls_token")
    tj["post_processor"] = {
        "type": "RobertaProcessing",
        "sep": [sep, token_id(tj, sep)],
        "cls": [cls, token_id(tj, cls)],
        "trim_offsets": bool(config.get("trim_offsets", True)),
        "add_prefix_space": bool(config.get("add_prefix_space", False)),
    }


def rebuild_llama(tj: Json, config: dict, specials: dict) -> None:
    add_prefix_space = config.get("add_prefix_space")
    add_prefix_space = True if add_prefix_space is None else bool(add_prefix_space)
    legacy = config.get("legacy", False)
    scheme = ("first" if legacy is False else "always") if add_prefix_space else "never"
    tj["model"].update(
        dropout=None,
        unk_token=None,
        continuing_subword_prefix=None,
        end_of_word_suffix=None,
        fuse_unk=True,
        byte_fallback=True,
        ignore_merges=False,
    )
    tj["normalizer"] = None
    tj["pre_tokenizer"] = {"type": "Metaspace", "replacement": _SPACE, "prepend_scheme": scheme, "split": False}
    decoders = [
        {"type": "Replace", "pattern": {"String": _SPACE}, "content": " "},
        {"type": "ByteFallback"},
        {"type": "Fuse"},
    ]
    if add_prefix_space:
        decoders.append({"type": "Strip", "content": " ", "start": 1, "stop": 0})
    tj["decoder"] = {"type": "Sequence", "decoders": decoders}
    _keep_or_bos_eos(tj, config, specials)


def rebuild_t5(tj: Json, config: dict, specials: dict) -> None:
    tj["model"] = {"type": "Unigram", "unk_id": 2, "vocab": tj["model"]["vocab"], "byte_fallback": False}
    normalizer = tj.get("normalizer") or {}
    parts = normalizer.get("normalizers", [normalizer]) if normalizer.get("type") == "Sequence" else [normalizer]
    tj["normalizer"] = next((p for p in parts if p.get("type") == "Precompiled"), None)
    metaspace = {"type": "Metaspace", "replacement": _SPACE, "prepend_scheme": "always", "split": True}
    tj["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [{"type": "WhitespaceSplit"}, metaspace]}
    tj["decoder"] = dict(metaspace)
    eos = specials.get("eos_token") or "</s>"
    tj["post_processor"] = template("$A:0 " + eos + ":0", f"$A:0 {eos}:0 $B:0 {eos}:0", {eos: token_id(tj, eos)})


def t5_extra_tokens(config: dict) -> list[str]:
    """T5's sentinel tokens `<extra_id_0>` ... (added as special tokens unless the config lists them)."""
    extra_ids = config.get("extra_ids", 100)
    listed = config.get("additional_special_tokens") or config.get("extra_special_tokens") or []
    listed = [t if isinstance(t, str) else t.get("content") for t in listed]
    if any("<extra_id_" in t for t in listed):
        return listed
    return listed + [f"<extra_id_{i}>" for i in range(extra_ids)]


@dataclass
class TokenizerClassProfile:
    """The class-level facts of one transformers tokenizer class."""

    name: str
    # transformers 5's base default; classes with segment embeddings (BERT) add token_type_ids
    model_input_names: list[str] = field(default_factory=lambda: ["input_ids", "attention_mask"])
    padding_side: str = "right"
    special_defaults: dict[str, str | None] = field(default_factory=dict)
    rebuild: Callable[[Json, dict, dict], None] | None = None
    extra_special_tokens: Callable[[dict], list[str]] | None = None


_NO_TYPE_IDS = ["input_ids", "attention_mask"]
_PROFILES = {
    p.name: p
    for p in [
        TokenizerClassProfile("PreTrainedTokenizerFast"),
        TokenizerClassProfile("TokenizersBackend"),
        TokenizerClassProfile(
            "BertTokenizer",
            ["input_ids", "token_type_ids", "attention_mask"],
            special_defaults=dict(
                unk_token="[UNK]", sep_token="[SEP]", pad_token="[PAD]", cls_token="[CLS]", mask_token="[MASK]"
            ),
            rebuild=rebuild_bert,
        ),
        TokenizerClassProfile(
            "GPT2Tokenizer",
            _NO_TYPE_IDS,
            special_defaults=dict(unk_token="<|endoftext|>", bos_token="<|endoftext|>", eos_token="<|endoftext|>"),
            rebuild=rebuild_gpt2,
        ),
        TokenizerClassProfile(
            "RobertaTokenizer",
            _NO_TYPE_IDS,
            special_defaults=dict(
                bos_token="<s>",
                eos_token="</s>",
                sep_token="</s>",
                cls_token="<s>",
                unk_token="<unk>",
                pad_token="<pad>",
                mask_token="<mask>",
            ),
            rebuild=rebuild_roberta,
        ),
        TokenizerClassProfile(
            "LlamaTokenizer",
            _NO_TYPE_IDS,
            padding_side="left",
            special_defaults=dict(unk_token="<unk>", bos_token="<s>", eos_token="</s>"),
            rebuild=rebuild_llama,
        ),
        TokenizerClassProfile(
            "T5Tokenizer",
            _NO_TYPE_IDS,
            special_defaults=dict(eos_token="</s>", unk_token="<unk>", pad_token="<pad>"),
            rebuild=rebuild_t5,
            extra_special_tokens=t5_extra_tokens,
        ),
    ]
}


def profile_for(tokenizer_class: str | None) -> TokenizerClassProfile:
    """The profile of a `tokenizer_class` name from tokenizer_config.json ('...Fast' aliases included)."""
    name = tokenizer_class or "PreTrainedTokenizerFast"
    if name not in _PROFILES and name.endswith("Fast"):
        name = name[: -len("Fast")]
    return _PROFILES.get(name, TokenizerClassProfile(tokenizer_class or "PreTrainedTokenizerFast"))
