"""`GenerationConfig`: how `generate()` decodes, in transformers' field names and `generation_config.json` format.

A config comes from a model folder (`GenerationConfig.from_pretrained(path)`), from a model's own config
(`GenerationConfig.from_model_config(config)`: its special token ids), or from keywords. `generate(**kwargs)`
overrides fields of `model.generation_config` for one call through `merged_with(**kwargs)`, which raises a
`ValueError` naming every keyword that is not a field (users misspell `max_newtokens`, `topk`).

    >>> config = GenerationConfig(max_new_tokens=32, do_sample=True, top_p=0.9)
    >>> config.merged_with(temperature=0.7).temperature
    0.7
"""

from __future__ import annotations

import copy
import difflib
import json
import logging
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from ..errors import GenerationError

logger = logging.getLogger(__name__)

GENERATION_CONFIG_NAME = "generation_config.json"

# Keys transformers writes that describe the file, not the decoding: read without comment.
_BOOKKEEPING_KEYS = {"transformers_version", "_from_model_config", "_commit_hash"}


@dataclass
class GenerationConfig:
    """Decoding parameters; the defaults are transformers' (greedy, 20 tokens in all)."""

    # Length: max_new_tokens wins over max_length; both count the prompt except the *_new_tokens ones.
    max_length: int = 20
    max_new_tokens: int | None = None
    min_length: int = 0
    min_new_tokens: int | None = None
    stop_strings: str | list[str] | None = None
    # Strategy.
    do_sample: bool = False
    num_beams: int = 1
    num_return_sequences: int = 1
    length_penalty: float = 1.0
    early_stopping: bool | str = False
    use_cache: bool = True
    # Logits processing (applied in transformers' order by the Rust sampler).
    temperature: float = 1.0
    top_k: int | None = 50
    top_p: float = 1.0
    min_p: float | None = None
    typical_p: float = 1.0
    repetition_penalty: float = 1.0
    no_repeat_ngram_size: int = 0
    bad_words_ids: list[list[int]] | None = None
    suppress_tokens: list[int] | None = None
    # Special tokens.
    pad_token_id: int | None = None
    bos_token_id: int | None = None
    eos_token_id: int | list[int] | None = None
    decoder_start_token_id: int | None = None
    # Outputs.
    output_scores: bool = False
    return_dict_in_generate: bool = False
    # Keys of a generation_config.json that ferroformers does not implement, kept so a save writes them back.
    unsupported: dict[str, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.from_model_config_defaults = False
        self.validate()

    # --- construction -----------------------------------------------------------------------------------------

    @classmethod
    def field_names(cls) -> frozenset[str]:
        return frozenset(f.name for f in fields(cls) if f.name != "unsupported")

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> GenerationConfig:
        """A config from a `generation_config.json` dict. Keys we do not implement are kept and reported once,
        since a checkpoint's file is not the user's typo; `None`/default-valued ones are dropped silently."""
        known = {k: v for k, v in values.items() if k in cls.field_names()}
        unknown = {k: v for k, v in values.items() if k not in cls.field_names() and k not in _BOOKKEEPING_KEYS}
        if any(v not in (None, False, 0, 0.0, 1.0, [], {}) for v in unknown.values()):
            logger.warning(
                "generation_config.json sets options ferroformers does not implement; they have no effect: %s",
                sorted(k for k, v in unknown.items() if v not in (None, False, 0, 0.0, 1.0, [], {})),
            )
        config = cls(**known, unsupported=unknown)
        config.from_model_config_defaults = bool(values.get("_from_model_config"))
        return config

    @classmethod
    def from_pretrained(cls, folder: str | os.PathLike, **kwargs: Any) -> GenerationConfig:
        """Read `generation_config.json` from a local folder or Hub repository; keywords override its values."""
        from ..hub import resolve_files

        found = resolve_files(folder, [GENERATION_CONFIG_NAME], what="generation config")
        if GENERATION_CONFIG_NAME not in found:
            raise FileNotFoundError(f"{str(folder)!r} has no {GENERATION_CONFIG_NAME}")
        values = json.loads(Path(found[GENERATION_CONFIG_NAME]).read_text(encoding="utf-8"))
        return cls.from_dict(values).merged_with(**kwargs)

    @classmethod
    def from_model_config(cls, model_config: Any) -> GenerationConfig:
        """The defaults transformers derives from a model config: its special token ids."""
        values = {
            key: getattr(model_config, key)
            for key in ("bos_token_id", "eos_token_id", "pad_token_id", "decoder_start_token_id")
            if getattr(model_config, key, None) is not None
        }
        config = cls(**values)
        config.from_model_config_defaults = True  # written as transformers' "_from_model_config" marker
        return config

    def merged_with(self, **kwargs: Any) -> GenerationConfig:
        """A copy with `kwargs` overriding fields; a `ValueError` lists every keyword that is not a field."""
        unknown = sorted(set(kwargs) - self.field_names())
        if unknown:
            raise ValueError(unknown_kwargs_message(unknown, self.field_names()))
        merged = copy.deepcopy(self)
        for key, value in kwargs.items():
            setattr(merged, key, value)
        merged.from_model_config_defaults = self.from_model_config_defaults and not kwargs
        merged.validate()
        return merged

    # --- checks -----------------------------------------------------------------------------------------------

    def validate(self) -> None:
        """Refuse values no decoding can honour (they would otherwise fail deep inside the sampler)."""
        errors = []
        if self.max_new_tokens is not None and self.max_new_tokens < 0:
            errors.append(f"max_new_tokens must be >= 0, got {self.max_new_tokens}")
        if self.num_beams < 1:
            errors.append(f"num_beams must be >= 1, got {self.num_beams}")
        if self.num_return_sequences < 1:
            errors.append(f"num_return_sequences must be >= 1, got {self.num_return_sequences}")
        if self.num_beams > 1 and self.num_return_sequences > self.num_beams:
            errors.append(
                f"num_return_sequences ({self.num_return_sequences}) cannot exceed num_beams ({self.num_beams})"
            )
        if self.do_sample and self.temperature <= 0:
            errors.append(f"temperature must be > 0 when sampling, got {self.temperature}")
        if self.top_p is not None and not 0 <= self.top_p <= 1:
            errors.append(f"top_p must be in [0, 1], got {self.top_p}")
        if self.min_p is not None and not 0 <= self.min_p <= 1:
            errors.append(f"min_p must be in [0, 1], got {self.min_p}")
        if self.typical_p is not None and not 0 < self.typical_p <= 1:
            errors.append(f"typical_p must be in (0, 1], got {self.typical_p}")
        if self.repetition_penalty is not None and self.repetition_penalty <= 0:
            errors.append(f"repetition_penalty must be > 0, got {self.repetition_penalty}")
        if self.early_stopping not in (True, False, "never"):
            errors.append(f"early_stopping must be True, False or 'never', got {self.early_stopping!r}")
        if errors:
            raise GenerationError("Invalid generation config: " + "; ".join(errors))

    # --- saving -----------------------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Every field, plus the unsupported keys read from a file."""
        values = {f.name: copy.deepcopy(getattr(self, f.name)) for f in fields(self) if f.name != "unsupported"}
        values.update(self.unsupported)
        return values

    def to_diff_dict(self) -> dict[str, Any]:
        """Only what differs from the defaults: what a `generation_config.json` records."""
        default = GenerationConfig()
        values = {k: v for k, v in self.to_dict().items() if k in self.unsupported or v != getattr(default, k)}
        if self.from_model_config_defaults:
            values["_from_model_config"] = True
        return values

    def to_json_string(self) -> str:
        return json.dumps(self.to_diff_dict(), indent=2, sort_keys=True) + "\n"

    def save_pretrained(self, folder: str | os.PathLike) -> None:
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / GENERATION_CONFIG_NAME).write_text(self.to_json_string(), encoding="utf-8")


def unknown_kwargs_message(unknown: list[str], valid: frozenset[str] | set[str]) -> str:
    """'generate() got unknown keyword arguments: ['topk'] (did you mean top_k?)' for every misspelling."""
    hints = []
    for name in unknown:
        close = difflib.get_close_matches(name, sorted(valid), n=1, cutoff=0.6)
        if not close:  # "max_newtokens" vs "max_new_tokens": compare without underscores too
            squashed = {v.replace("_", ""): v for v in valid}
            close = [squashed[name.replace("_", "")]] if name.replace("_", "") in squashed else []
        if close:
            hints.append(f"{name!r} -> {close[0]!r}")
    message = f"generate() got unknown keyword arguments: {unknown}"
    if hints:
        message += f" (did you mean: {', '.join(hints)}?)"
    return message + ". They are neither generation options nor model inputs."
