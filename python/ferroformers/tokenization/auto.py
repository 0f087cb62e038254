"""`AutoTokenizer.from_pretrained`: load a tokenizer folder or Hub repository the way transformers does.

Reads `tokenizer.json` (the backend), `tokenizer_config.json` (class, special tokens, limits, sides)
and `special_tokens_map.json`, applies what the named transformers class does at load time
(`tokenizer_classes.py`), and returns a `PreTrainedTokenizerFast`.

    >>> from ferroformers import AutoTokenizer
    >>> tok = AutoTokenizer.from_pretrained("../shared/tokenizers/gpt2")   # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from .. import hub
from ..errors import FerroformersError, TokenizerFileError, UnsupportedModelError
from .backend import AddedToken, Tokenizer
from .chat_template import CHAT_TEMPLATE_DIR, CHAT_TEMPLATE_FILE, templates_from_files
from .tokenizer import SPECIAL_TOKENS_ATTRIBUTES, PreTrainedTokenizerFast
from .tokenizer_classes import profile_for

TOKENIZER_FILE = "tokenizer.json"
CONFIG_FILE = "tokenizer_config.json"
SPECIAL_TOKENS_MAP_FILE = "special_tokens_map.json"
ADDED_TOKENS_FILE = "added_tokens.json"  # legacy: {token: id} of tokens added to a slow tokenizer
LEGACY_FILES = ("vocab.txt", "vocab.json", "merges.txt")

# Keyword arguments of from_pretrained that override tokenizer_config.json entries.
CONFIG_OVERRIDES = set(SPECIAL_TOKENS_ATTRIBUTES) | {
    "model_max_length",
    "truncation_side",
    "clean_up_tokenization_spaces",
    "add_prefix_space",
    "add_bos_token",
    "add_eos_token",
    "do_lower_case",
    "strip_accents",
    "tokenize_chinese_chars",
    "trim_offsets",
    "legacy",
    "additional_special_tokens",
    "extra_special_tokens",
    "model_input_names",
    "extra_ids",
    "chat_template",
}


def _read_json(path: Path, what: str):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise TokenizerFileError(f"{what} {str(path)!r} is not valid JSON: {err}") from err


def _token_str(value):
    """A special token from a config: a str, an AddedToken dict ({'content': ...}) or None."""
    if isinstance(value, dict):
        return value.get("content")
    return value


def load_legacy_tokenizer_json(files: dict[str, Path], name: str, config: dict, special_map: dict) -> dict:
    """The tokenizer.json equivalent of a folder that only has vocab.txt, or vocab.json + merges.txt.

    The Rust core builds the pipeline transformers' converters build (BERT WordPiece, GPT-2 byte-level
    BPE); the result then goes through the same per-class rebuild as a real tokenizer.json.
    """

    def special(key: str, default: str | None) -> str | None:
        value = _token_str(config.get(key, special_map.get(key, default)))
        return value if value is not None else default

    if "vocab.txt" in files:
        backend = Tokenizer.from_wordpiece_vocab(
            files["vocab.txt"],
            lowercase=bool(config.get("do_lower_case", True)),
            strip_accents=config.get("strip_accents"),
            tokenize_chinese_chars=bool(config.get("tokenize_chinese_chars", True)),
            unk_token=special("unk_token", "[UNK]"),
            sep_token=special("sep_token", "[SEP]"),
            cls_token=special("cls_token", "[CLS]"),
            pad_token=special("pad_token", "[PAD]"),
            mask_token=special("mask_token", "[MASK]"),
        )
    elif "vocab.json" in files and "merges.txt" in files:
        names = {special(k, None) for k in ("bos_token", "eos_token", "unk_token", "pad_token")} - {None}
        backend = Tokenizer.from_bpe_files(
            files["vocab.json"],
            files["merges.txt"],
            add_prefix_space=bool(config.get("add_prefix_space", False)),
            special_tokens=sorted(names),
        )
    else:
        found = sorted(f for f in files if f in LEGACY_FILES)
        raise TokenizerFileError(
            f"{name!r} has no tokenizer.json and no complete legacy vocabulary "
            f"(found: {', '.join(found) if found else 'none'}); expected tokenizer.json, vocab.txt, "
            f"or vocab.json with merges.txt"
        )
    return json.loads(backend.to_str())


def _listed_added_tokens(decoder, special_names: set) -> list[AddedToken]:
    """The AddedTokens of a config's `added_tokens_decoder` ({id: {"content": ..., flags}}), in id order.

    Plain strings (from added_tokens.json) are special when they name a special token, and then not
    normalized, as transformers reads them."""
    if not isinstance(decoder, dict):
        return []
    tokens = []
    for _, token in sorted(decoder.items(), key=lambda item: int(item[0])):
        if isinstance(token, dict):
            if not isinstance(token.get("content"), str):
                raise TokenizerFileError(f"added_tokens_decoder entry {token!r} has no 'content' string")
            flags = ("single_word", "lstrip", "rstrip", "normalized", "special")
            tokens.append(AddedToken(token["content"], **{k: bool(token[k]) for k in flags if k in token}))
        else:
            special = str(token) in special_names
            tokens.append(AddedToken(str(token), normalized=not special, special=special))
    return tokens


class AutoTokenizer:
    """Entry point mirroring `transformers.AutoTokenizer`.

    >>> tok = AutoTokenizer.from_pretrained("org/name", revision="main")   # doctest: +SKIP
    """

    def __init__(self):
        raise TypeError("AutoTokenizer is not instantiated: use AutoTokenizer.from_pretrained(name_or_path)")

    @classmethod
    def from_pretrained(
        cls,
        name_or_path: str | os.PathLike,
        *,
        revision: str | None = None,
        cache_dir: str | os.PathLike | None = None,
        local_files_only: bool = False,
        token: str | bool | None = None,
        padding_side: str | None = None,
        use_fast: bool = True,
        trust_remote_code: bool = False,
        **kwargs,
    ) -> PreTrainedTokenizerFast:
        """Load the tokenizer of a local folder or a Hub repository id."""
        unknown = sorted(set(kwargs) - CONFIG_OVERRIDES)
        if unknown:
            raise TypeError(f"AutoTokenizer.from_pretrained() got unexpected keyword argument(s): {', '.join(unknown)}")
        if not use_fast:
            raise ValueError("ferroformers only has fast tokenizers: use_fast=False is not supported")
        if trust_remote_code:
            raise UnsupportedModelError(
                "ferroformers does not run remote code: trust_remote_code=True is not supported; load a tokenizer "
                "that has a tokenizer.json (or the vocabulary files of a supported tokenizer class) instead"
            )
        name = str(name_or_path)
        resolve = dict(revision=revision, cache_dir=cache_dir, local_files_only=local_files_only, token=token)
        files = hub.resolve_files(
            name,
            [TOKENIZER_FILE, CONFIG_FILE, SPECIAL_TOKENS_MAP_FILE, ADDED_TOKENS_FILE, CHAT_TEMPLATE_FILE],
            **resolve,
        )
        if TOKENIZER_FILE not in files:
            files.update(hub.resolve_files(name, LEGACY_FILES, **resolve))
        named_templates = hub.resolve_files(
            name, hub.list_folder(name, CHAT_TEMPLATE_DIR, ".jinja", **resolve), **resolve
        )
        config = _read_json(files[CONFIG_FILE], "tokenizer config") if CONFIG_FILE in files else {}
        if not isinstance(config, dict):
            raise TokenizerFileError(f"tokenizer config of {name!r} must be a JSON object")
        # Template files, when there are any, replace the config's chat_template entry.
        templates = templates_from_files(
            files.get(CHAT_TEMPLATE_FILE),
            {Path(path).name.removesuffix(".jinja"): file for path, file in named_templates.items()},
        )
        if templates is not None:
            config["chat_template"] = templates
        config.update(kwargs)
        # transformers reads the legacy special_tokens_map.json and added_tokens.json only for a config
        # without `added_tokens_decoder` (which supersedes both).
        legacy = "added_tokens_decoder" not in config
        special_map = (
            _read_json(files[SPECIAL_TOKENS_MAP_FILE], "special tokens map")
            if legacy and SPECIAL_TOKENS_MAP_FILE in files
            else {}
        )
        if legacy and ADDED_TOKENS_FILE in files:
            added = _read_json(files[ADDED_TOKENS_FILE], "added tokens file")
            if not isinstance(added, dict) or not all(type(i) is int for i in added.values()):
                raise TokenizerFileError(f"{str(files[ADDED_TOKENS_FILE])!r} must map each token to its id")
            config["added_tokens_decoder"] = {index: token for token, index in added.items()}

        if TOKENIZER_FILE not in files:
            tokenizer_json = load_legacy_tokenizer_json(files, name, config, special_map)
            return cls._finish(None, tokenizer_json, config, special_map, name, padding_side)
        tokenizer_json = _read_json(files[TOKENIZER_FILE], "tokenizer file")
        if not isinstance(tokenizer_json, dict) or not isinstance(tokenizer_json.get("model"), dict):
            raise TokenizerFileError(f"{str(files[TOKENIZER_FILE])!r} is not a tokenizers serialization (no 'model')")
        return cls._finish(None, tokenizer_json, config, special_map, name, padding_side)

    @staticmethod
    def _finish(backend, tokenizer_json, config, special_map, name, padding_side) -> PreTrainedTokenizerFast:
        profile = profile_for(config.get("tokenizer_class"))
        file_padding = (tokenizer_json or {}).get("padding") or {}
        file_truncation = (tokenizer_json or {}).get("truncation") or {}
        # Named special tokens: class defaults < padding in tokenizer.json < special_tokens_map.json < config.
        specials = dict.fromkeys(SPECIAL_TOKENS_ATTRIBUTES)
        specials.update(profile.special_defaults)
        if file_padding.get("pad_token") is not None:
            specials["pad_token"] = file_padding["pad_token"]
        for source in (special_map, config):
            for key in SPECIAL_TOKENS_ATTRIBUTES:
                if key in source:
                    specials[key] = _token_str(source[key])
        extra = (
            config.get(
                "extra_special_tokens",
                config.get("additional_special_tokens", special_map.get("additional_special_tokens")),
            )
            or []
        )
        if isinstance(extra, dict):  # named model-specific tokens
            extra = list(extra.values())
        extra = [_token_str(t) for t in extra]
        if profile.extra_special_tokens is not None:
            extra = profile.extra_special_tokens({**config, "additional_special_tokens": extra})

        if tokenizer_json is not None:
            if profile.rebuild is not None:
                profile.rebuild(tokenizer_json, config, specials)
            try:
                # A class that rebuilds the model (as transformers does from Python values) sees
                # exact Unigram scores; tokenizer.json read as-is sees them as `tokenizers` parses them.
                backend = Tokenizer.from_str(json.dumps(tokenizer_json), exact_scores=profile.rebuild is not None)
            except FerroformersError:
                raise
            except Exception as err:  # the backend's own parse errors
                raise TokenizerFileError(f"Could not load tokenizer.json of {name!r}: {err}") from err

        # Tokens the config lists (`added_tokens_decoder`, or added_tokens.json) but the backend lacks with
        # those flags are added in id order, then special tokens the vocabulary lacks, as transformers does.
        listed = _listed_added_tokens(config.get("added_tokens_decoder"), set(specials.values()) | set(extra))
        present = set(backend.get_added_tokens_decoder().values())
        new = [t for t in listed if t not in present]
        if new:
            backend.add_tokens(new)
        missing = [t for t in list(specials.values()) + extra if t is not None and backend.token_to_id(t) is None]
        if missing:
            backend.add_special_tokens(list(dict.fromkeys(missing)))
        direction = file_padding.get("direction")
        truncation_direction = file_truncation.get("direction")
        return PreTrainedTokenizerFast(
            backend,
            config=config,
            profile=profile,
            name_or_path=name,
            special_tokens=specials,
            extra_special_tokens=extra,
            padding_side=padding_side or config.get("padding_side") or (direction.lower() if direction else None),
            truncation_side=config.get("truncation_side")
            or (truncation_direction.lower() if truncation_direction else None),
        )
