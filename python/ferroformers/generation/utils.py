"""`generate()`: the decoding loop of causal LMs, with the token choice done in Rust.

Each step, Python runs one forward pass over the new tokens with the KV cache and hands the last position's
logits to `ferroformers._core.Generator`, which applies the logits processors in transformers' order
(repetition penalty, n-gram blocking, bad words, min length, suppression, then temperature, top-k, top-p,
min-p, typical-p), picks the next tokens (argmax, seeded multinomial, or beam search), tracks end-of-sequence
and length limits, and keeps every row's tokens, all with the GIL released. Python then appends the new
tokens to the model input, grows the attention mask, and reorders the cache when beams swapped places.

Logits round trip: the forward is asked for `logits_to_keep=1`, so the (rows, vocab) logits of the last
position are the only ones computed; they are cast to float32 where they were computed (on a GPU the cast
is nearly free, and the sampler works in float32) and copied to the CPU once per step. On the CPU that
copy is skipped: the sampler reads the tensor's memory through a NumPy view.

    >>> model = AutoModelForCausalLM.from_pretrained("gpt2")                      # doctest: +SKIP
    >>> out = model.generate(**tok("Hello", return_tensors="pt"), max_new_tokens=20, do_sample=True, seed=0)
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np
import torch

from .. import _core
from ..errors import GenerationError
from ..models.cache import DynamicCache
from ..models.modeling_outputs import ModelOutput
from .configuration import GenerationConfig, unknown_kwargs_message
from .stopping import StopStringMatcher
from .streamers import BaseStreamer

Tensor = Optional[torch.Tensor]
Tensors = Optional[tuple[torch.Tensor, ...]]

# Keywords of generate() itself, beside the GenerationConfig fields.
_CALL_OPTIONS = {"seed", "tokenizer"}


@dataclass
class GenerateOutput(ModelOutput):
    """What `generate(return_dict_in_generate=True)` returns.

    `sequences` (batch * num_return_sequences, L): prompt and generated tokens, padded with `pad_token_id`.
    `scores` (with `output_scores=True`): one (rows, vocab) float32 tensor per step, the processed scores the
    tokens were chosen from (log-probabilities plus processing for beam search, as transformers).
    `sequences_scores` (beam search): the length-penalised score of each returned sequence.
    """

    sequences: Tensor = None
    scores: Tensors = None
    sequences_scores: Tensor = None


def set_seed(seed: int) -> None:
    """Seed every generator sampling may use: the Rust sampler's, torch's, NumPy's and Python's."""
    seed = int(seed)
    _core.set_seed(seed)
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)
    random.seed(seed)


class GenerationMixin:
    """`generate()` and `generation_config` for causal LMs (`GPT2LMHeadModel`, `LlamaForCausalLM`, ...).

    The model's forward must accept `input_ids, attention_mask, position_ids, past_key_values, use_cache,
    logits_to_keep` and return `.logits` (B, T, V) and `.past_key_values` (a `DynamicCache`).
    """

    @property
    def generation_config(self) -> GenerationConfig:
        """Defaults of `generate()`: read from `generation_config.json` on load, else derived from the config."""
        config = self.__dict__.get("_generation_config")
        if config is None:
            config = GenerationConfig.from_model_config(self.config)
            self.__dict__["_generation_config"] = config
        return config

    @generation_config.setter
    def generation_config(self, value: GenerationConfig) -> None:
        if not isinstance(value, GenerationConfig):
            raise TypeError(f"generation_config must be a GenerationConfig, got {type(value).__name__}")
        self.__dict__["_generation_config"] = value

    @torch.inference_mode()
    def generate(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        generation_config: GenerationConfig | None = None,
        streamer: BaseStreamer | None = None,
        **kwargs: Any,
    ) -> torch.LongTensor | GenerateOutput:
        """Continue `input_ids` (B, T); keywords override fields of `generation_config` (default:
        `self.generation_config`). Also: `seed=` (this call's sampling seed), `tokenizer=` (for `stop_strings`).

        Returns the (B * num_return_sequences, L) sequences, or a `GenerateOutput` with
        `return_dict_in_generate=True`. Rows that finished early are padded with `pad_token_id`.
        """
        unknown = sorted(set(kwargs) - GenerationConfig.field_names() - _CALL_OPTIONS)
        if unknown:
            raise GenerationError(unknown_kwargs_message(unknown, GenerationConfig.field_names() | _CALL_OPTIONS))
        seed = kwargs.pop("seed", None)
        tokenizer = kwargs.pop("tokenizer", None)
        config = (generation_config or self.generation_config).merged_with(**kwargs)

        input_ids, attention_mask = self._generation_inputs(input_ids, attention_mask, config)
        eos_token_ids = _as_id_list(config.eos_token_id)
        # As transformers: without a pad token, finished rows are filled with the (first) end-of-sequence token.
        pad_token_id = config.pad_token_id if config.pad_token_id is not None else (eos_token_ids or [None])[0]
        batch, prompt_len = input_ids.shape
        max_length = prompt_len + config.max_new_tokens if config.max_new_tokens is not None else config.max_length
        if max_length <= prompt_len:
            raise ValueError(
                f"Nothing to generate: the prompt has {prompt_len} tokens and max_length is {max_length}; "
                f"set max_new_tokens (tokens to add) or a larger max_length (prompt included)"
            )
        beams = config.num_beams
        if streamer is not None and (batch > 1 or beams > 1 or config.num_return_sequences > 1):
            raise ValueError("streamers take one sequence: use batch size 1, num_beams=1 and num_return_sequences=1")
        stop_matcher = StopStringMatcher(config.stop_strings, tokenizer) if config.stop_strings else None
        if stop_matcher is not None and beams > 1:
            raise ValueError("stop_strings are not supported with beam search (num_beams > 1) yet")

        # Beam search keeps num_beams rows per prompt and returns the best num_return_sequences of them;
        # sampling and greedy decode num_return_sequences independent copies of each prompt. The sampler is
        # given each prompt once and expands it the same way, so its rows line up with the model's.
        copies = max(beams, config.num_return_sequences)
        generator = _core.Generator(
            batch,
            self.config.vocab_size,
            input_ids.cpu().numpy(),
            do_sample=config.do_sample,
            num_beams=beams,
            num_return_sequences=config.num_return_sequences,
            temperature=config.temperature,
            top_k=config.top_k or None,
            top_p=config.top_p if config.top_p is not None and config.top_p < 1.0 else None,
            min_p=config.min_p,
            typical_p=config.typical_p if config.typical_p is not None and config.typical_p < 1.0 else None,
            repetition_penalty=config.repetition_penalty if config.repetition_penalty != 1.0 else None,
            no_repeat_ngram_size=config.no_repeat_ngram_size or None,
            bad_words_ids=config.bad_words_ids,
            suppress_tokens=config.suppress_tokens,
            min_length=config.min_length or 0,
            min_new_tokens=config.min_new_tokens,
            max_length=max_length,
            eos_token_ids=eos_token_ids,
            pad_token_id=pad_token_id,
            length_penalty=config.length_penalty,
            early_stopping=config.early_stopping,
            seed=seed,
            output_scores=config.output_scores and config.return_dict_in_generate,
            # The repetition penalty leaves left padding out of each row's history, as transformers does.
            attention_mask=attention_mask.cpu().numpy(),
        )

        tokens = input_ids.repeat_interleave(copies, 0)  # (rows, T): what the model has seen
        mask = attention_mask.repeat_interleave(copies, 0)
        # Without padding, the plain causal mask and positions past..past+T are exact: skip building them.
        padded = not bool(mask.all())
        positions = (mask.cumsum(-1) - 1).masked_fill(mask == 0, 1) if padded else None
        cache = DynamicCache() if config.use_cache else None
        step_input = tokens
        all_scores: list[torch.Tensor] = []
        if streamer is not None:
            streamer.put(input_ids.cpu())

        while True:
            out = self(
                input_ids=step_input,
                attention_mask=mask if padded else None,
                position_ids=positions[:, -step_input.shape[1] :] if padded else None,
                past_key_values=cache,
                use_cache=config.use_cache,
                logits_to_keep=1,
            )
            logits = out.logits[:, -1, :].float().cpu().contiguous()  # (rows, V); on the CPU: a view, no copy
            del out
            result = generator.step(logits.numpy())
            next_tokens = torch.from_numpy(result["next_tokens"]).to(tokens.device)
            if config.output_scores and config.return_dict_in_generate:
                all_scores.append(torch.from_numpy(result["scores"]))
            if beams > 1:
                # Beams that survive continue other rows: the cache and token history follow them.
                beam_indices = torch.from_numpy(result["beam_indices"]).to(tokens.device)
                tokens = tokens.index_select(0, beam_indices)
                if cache is not None:
                    cache.reorder_cache(beam_indices)
            tokens = torch.cat([tokens, next_tokens[:, None]], dim=-1)
            done = result["done"]
            if streamer is not None:
                streamer.put(next_tokens.cpu())
            if stop_matcher is not None and not done:
                # Finished rows only repeat the pad token; marking one of them finished again changes nothing.
                stopped = stop_matcher.rows_stopped(tokens)
                if stopped.any():
                    done = generator.stop_rows(stopped)
            if done:
                break
            if padded:
                mask = torch.cat([mask, mask.new_ones(mask.shape[0], 1)], dim=-1)
                positions = torch.cat([positions, positions[:, -1:] + 1], dim=-1)
            step_input = next_tokens[:, None] if cache is not None else tokens

        if streamer is not None:
            streamer.end()
        final = generator.finalize()
        sequences = torch.from_numpy(final["sequences"]).to(input_ids.device)
        if not config.return_dict_in_generate:
            return sequences
        sequences_scores = final.get("sequences_scores")
        return GenerateOutput(
            sequences=sequences,
            scores=tuple(all_scores) if all_scores else None,
            sequences_scores=torch.from_numpy(sequences_scores) if sequences_scores is not None else None,
        )

    def _generation_inputs(
        self, input_ids: torch.Tensor | None, attention_mask: torch.Tensor | None, config: GenerationConfig
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The prompt (B, T) and its attention mask: a lone BOS when no prompt is given; without a mask,
        padding is told apart by `pad_token_id` when it differs from every end-of-sequence token."""
        device = self.device
        if input_ids is None:
            if config.bos_token_id is None:
                raise ValueError("generate() needs input_ids, or a bos_token_id to start from")
            input_ids = torch.tensor([[config.bos_token_id]], dtype=torch.long, device=device)
        input_ids = torch.as_tensor(input_ids, device=device)
        if input_ids.dim() == 1:
            input_ids = input_ids[None]
        if input_ids.dim() != 2 or input_ids.dtype not in (torch.int64, torch.int32):
            raise GenerationError(
                f"input_ids must be integer token ids shaped (batch, length), got {input_ids.dtype} "
                f"{tuple(input_ids.shape)}"
            )
        input_ids = input_ids.long()
        try:
            vocab = getattr(self.get_input_embeddings(), "num_embeddings", None)
        except (AttributeError, NotImplementedError):  # a model without an embedding table to check against
            vocab = None
        if vocab is not None and input_ids.numel() and not bool(((input_ids >= 0) & (input_ids < vocab)).all()):
            # Caught here: the embedding lookup would fail deep inside the model with "index out of range in self".
            bad = input_ids[(input_ids < 0) | (input_ids >= vocab)][0].item()
            raise GenerationError(
                f"input_ids holds token id {bad}, outside the model's vocabulary (ids 0..{vocab - 1}): was the "
                "prompt encoded with another model's tokenizer?"
            )
        if attention_mask is None:
            pad = config.pad_token_id
            if pad is not None and pad not in _as_id_list(config.eos_token_id) and bool((input_ids == pad).any()):
                attention_mask = (input_ids != pad).long()
            else:
                attention_mask = torch.ones_like(input_ids)
        attention_mask = torch.as_tensor(attention_mask, device=device)
        if attention_mask.shape != input_ids.shape:
            raise ValueError(
                f"attention_mask {tuple(attention_mask.shape)} must have the shape of input_ids "
                f"{tuple(input_ids.shape)}"
            )
        return input_ids, attention_mask.long()


def _as_id_list(ids: int | list[int] | None) -> list[int]:
    if ids is None:
        return []
    if isinstance(ids, torch.Tensor):
        return [int(i) for i in ids.flatten().tolist()]
    return [int(ids)] if isinstance(ids, int) else [int(i) for i in ids]
