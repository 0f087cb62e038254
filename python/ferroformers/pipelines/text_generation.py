"""text-generation: continue prompts (or chats) with `model.generate()`, returning text as transformers does."""

from __future__ import annotations

from typing import Any

import torch

from .base import Pipeline

# What the pipeline adds to a generate() call when neither the call nor the model's generation config sets it
# (transformers 5's text-generation defaults: free-form text is usually sampled).
DEFAULT_GENERATION = {"max_new_tokens": 256, "do_sample": True, "temperature": 0.7}
# Defaults that only mean something when sampling: dropped for greedy and beam search.
_SAMPLING_KEYS = frozenset(
    {"temperature", "top_k", "top_p", "min_p", "top_h", "typical_p", "epsilon_cutoff", "eta_cutoff"}
)
_TOKENIZER_KEYS = ("add_special_tokens", "truncation", "padding", "max_length")


class Chat:
    """A conversation given to the pipeline: a list of `{"role", "content"}` messages."""

    def __init__(self, messages: list[dict[str, Any]]) -> None:
        for i, message in enumerate(messages):
            if not isinstance(message, dict) or "role" not in message:
                raise ValueError(f"message {i} of the chat is not a {{'role': ..., 'content': ...}} dict: {message!r}")
        self.messages = list(messages)


def _is_chat(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and bool(value) and all(isinstance(m, dict) for m in value)


class TextGenerationPipeline(Pipeline):
    """`pipe("prompt")` -> `[{"generated_text": prompt + continuation}]`; a list of prompts -> one such list
    per prompt (one record per returned sequence). A chat (a list of `{"role", "content"}` messages, or a list
    of chats) goes through the tokenizer's chat template, and `generated_text` is the chat with the model's
    answer appended (or the final assistant message continued).

    `return_full_text=False` gives the continuation only; `return_tensors=True` gives
    `{"generated_token_ids": [...]}` records. Every other keyword is a `generate()` keyword
    (`max_new_tokens`, `do_sample`, `num_beams`, `num_return_sequences`, `streamer`, ...); as in transformers,
    the pipeline samples up to 256 new tokens at temperature 0.7 unless the call or the model's generation
    config says otherwise. `stop_sequence` stops at a string, `prefix` is prepended to each prompt,
    `handle_long_generation="hole"` cuts the prompt's start so the new tokens fit the model.
    Batches are padded on the left.
    """

    task = "text-generation"

    def __init__(self, model: Any, tokenizer: Any, **kwargs: Any) -> None:
        super().__init__(model, tokenizer, **kwargs)
        # Decoder-only models continue the last token: batches must be padded on the left.
        if getattr(self.tokenizer, "padding_side", "left") == "right":
            self.tokenizer.padding_side = "left"

    def _sanitize_parameters(
        self,
        return_full_text: bool | None = None,
        return_text: bool | None = None,
        return_tensors: bool | None = None,
        clean_up_tokenization_spaces: bool | None = None,
        skip_special_tokens: bool | None = None,
        prefix: str | None = None,
        stop_sequence: str | list[str] | None = None,
        handle_long_generation: str | None = None,
        continue_final_message: bool | None = None,
        tokenizer_encode_kwargs: dict | None = None,
        tools: list | None = None,
        documents: list | None = None,
        **generate_kwargs: Any,
    ):
        from ..generation.configuration import GenerationConfig
        from ..generation.utils import _CALL_OPTIONS

        accepted = GenerationConfig.field_names() | _CALL_OPTIONS | {"streamer", "generation_config", *_TOKENIZER_KEYS}
        self._refuse_unknown(generate_kwargs, accepted, "text-generation pipeline")
        pre: dict[str, Any] = {}
        for key in ("add_special_tokens", "truncation", "padding"):
            if key in generate_kwargs:
                pre[key] = generate_kwargs.pop(key)
        if "max_length" in generate_kwargs:
            # As transformers: max_length bounds both the prompt's tokenization and generate()'s total length.
            pre["max_length"] = generate_kwargs["max_length"]
        if prefix is not None:
            if not isinstance(prefix, str):
                raise TypeError(f"prefix must be a str, got {type(prefix).__name__}")
            pre["prefix"] = prefix
            if prefix:
                # generate()'s total lengths must also count the prefix's tokens
                encoded = self.tokenizer(prefix, add_special_tokens=bool(pre.get("add_special_tokens", False)))
                generate_kwargs["_prefix_length"] = len(encoded["input_ids"])
        if handle_long_generation is not None:
            if handle_long_generation != "hole":
                raise ValueError(f"handle_long_generation must be None or 'hole', got {handle_long_generation!r}")
            pre["handle_long_generation"] = handle_long_generation
        # the hole is cut to fit this call's lengths: preprocessing sees them too
        lengths = {
            k: generate_kwargs[k] for k in ("max_new_tokens", "max_length", "generation_config") if k in generate_kwargs
        }
        if lengths:
            pre["call_lengths"] = lengths
        if continue_final_message is not None:
            pre["continue_final_message"] = continue_final_message
        if tokenizer_encode_kwargs is not None:
            pre["tokenizer_encode_kwargs"] = dict(tokenizer_encode_kwargs)
        if tools is not None:
            pre["tools"] = tools
        if documents is not None:
            pre["documents"] = documents
        if stop_sequence is not None:
            generate_kwargs["stop_strings"] = [stop_sequence] if isinstance(stop_sequence, str) else list(stop_sequence)
            generate_kwargs["tokenizer"] = self.tokenizer

        post: dict[str, Any] = {}
        if return_full_text is not None and return_text is not None:
            raise ValueError("return_full_text and return_text are mutually exclusive")
        if return_tensors and (return_full_text is not None or return_text is not None):
            raise ValueError("return_tensors is mutually exclusive with return_full_text and return_text")
        if return_tensors:
            post["return_type"] = "tensors"
        elif return_full_text is not None:
            post["return_type"] = "full_text" if return_full_text else "new_text"
        elif return_text:
            post["return_type"] = "full_text"
        if clean_up_tokenization_spaces is not None:
            post["clean_up_tokenization_spaces"] = clean_up_tokenization_spaces
        if skip_special_tokens is not None:
            post["skip_special_tokens"] = skip_special_tokens
        if continue_final_message is not None:
            post["continue_final_message"] = continue_final_message
        return pre, dict(generate_kwargs), post

    # -- inputs ---------------------------------------------------------------------------------------------
    def _is_single(self, inputs: Any) -> bool:
        return isinstance(inputs, (str, Chat)) or _is_chat(inputs)

    def __call__(self, inputs: Any = None, *args: Any, **kwargs: Any) -> Any:
        if _is_chat(inputs):
            inputs = Chat(list(inputs))
        elif isinstance(inputs, (list, tuple)) and inputs and all(_is_chat(c) for c in inputs):
            inputs = [Chat(list(c)) for c in inputs]
        return super().__call__(inputs, *args, **kwargs)

    def preprocess(
        self,
        prompt: Any,
        prefix: str = "",
        add_special_tokens: bool | None = None,
        truncation: Any = None,
        padding: Any = None,
        max_length: int | None = None,
        handle_long_generation: str | None = None,
        continue_final_message: bool | None = None,
        tokenizer_encode_kwargs: dict | None = None,
        tools: list | None = None,
        documents: list | None = None,
        call_lengths: dict | None = None,
    ) -> dict[str, Any]:
        # Only what was set, so that the tokenizer's own defaults apply otherwise (a Llama tokenizer adds its BOS).
        options = {
            k: v
            for k, v in zip(_TOKENIZER_KEYS, (add_special_tokens, truncation, padding, max_length))
            if v is not None
        }
        options.update(tokenizer_encode_kwargs or {})
        if _is_chat(prompt):
            prompt = Chat(list(prompt))
        if isinstance(prompt, Chat):
            options.pop("add_special_tokens", None)  # the chat template writes the special tokens
            if continue_final_message is None:
                # a chat ending with the assistant's words is a prefill: continue that message
                continue_final_message = prompt.messages[-1]["role"] == "assistant"
            encoded = self.tokenizer.apply_chat_template(
                prompt.messages,
                add_generation_prompt=not continue_final_message,
                continue_final_message=continue_final_message,
                return_dict=True,
                return_tensors="pt",
                tools=tools,
                documents=documents,
                **options,
            )
        elif isinstance(prompt, str):
            encoded = self.tokenizer(prefix + prompt, return_tensors="pt", **options)
        else:
            raise TypeError(
                "text-generation takes a prompt, a chat (a list of {'role', 'content'} dicts), or a list of "
                f"prompts or chats; got {type(prompt).__name__}"
            )
        input_ids, attention_mask = encoded["input_ids"], encoded["attention_mask"]
        if handle_long_generation == "hole":
            input_ids, attention_mask = self._make_room(input_ids, attention_mask, call_lengths or {})
        return {"input_ids": input_ids, "attention_mask": attention_mask, "prompt_text": prompt}

    def _make_room(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, call_lengths: dict[str, Any]):
        """handle_long_generation="hole": drop the prompt's first tokens so prompt + new tokens fit the model."""
        settings = self._generation_settings(self.generate_kwargs({**self._forward_params, **call_lengths}))
        new_tokens = settings.get("max_new_tokens")
        if new_tokens is None:
            new_tokens = settings["max_length"] - input_ids.shape[-1]
            if new_tokens < 0:
                raise ValueError("handle_long_generation='hole' cannot tell how many new tokens are wanted")
        limit = self.tokenizer.model_max_length
        if input_ids.shape[-1] + new_tokens > limit:
            keep = limit - new_tokens
            if keep <= 0:
                raise ValueError(
                    f"handle_long_generation='hole' cannot make room: {new_tokens} new tokens exceed the model's "
                    f"maximum length {limit}; ask for fewer new tokens"
                )
            input_ids, attention_mask = input_ids[:, -keep:], attention_mask[:, -keep:]
        return input_ids, attention_mask

    def _pad_token_id(self) -> int | None:
        pad = getattr(self.tokenizer, "pad_token_id", None)
        if pad is None:
            pad = getattr(self.model.generation_config, "pad_token_id", None)
        if pad is None:
            eos = getattr(self.model.generation_config, "eos_token_id", None)
            if eos is None:
                eos = getattr(self.tokenizer, "eos_token_id", None)
            pad = eos[0] if isinstance(eos, (list, tuple)) else eos
        return pad

    # -- generation -----------------------------------------------------------------------------------------
    def _generation_settings(self, generate_kwargs: dict[str, Any]) -> dict[str, Any]:
        """What a generate() call with these keywords takes from somewhere other than the global defaults."""
        settings = self.model.generation_config.to_diff_dict()
        config = generate_kwargs.get("generation_config")
        if config is not None:
            settings.update(config.to_diff_dict())
        return {**settings, **generate_kwargs}

    def generate_kwargs(self, call_kwargs: dict[str, Any]) -> dict[str, Any]:
        """The generate() keywords of a call: the user's, plus the pipeline's defaults for what neither the
        user nor the model's generation config set (sampling ones only when sampling), as transformers does."""
        call_kwargs = dict(call_kwargs)
        prefix_length = call_kwargs.pop("_prefix_length", 0)
        settings = self._generation_settings(call_kwargs)
        defaults = dict(DEFAULT_GENERATION)
        pad = getattr(self.tokenizer, "pad_token_id", None)
        if pad is not None:
            defaults["pad_token_id"] = pad
        # a default max_new_tokens would override a max_length the user or the model set
        added = {
            k: v
            for k, v in defaults.items()
            if k not in settings and not (k == "max_new_tokens" and "max_length" in settings)
        }
        if not {**settings, **added}.get("do_sample"):
            added = {k: v for k, v in added.items() if k not in _SAMPLING_KEYS}
        if prefix_length:
            # total lengths count the prefix too (new-token counts do not)
            for total, new in (("max_length", "max_new_tokens"), ("min_length", "min_new_tokens")):
                if total in settings and new not in settings:
                    call_kwargs[total] = settings[total] + prefix_length
        config = call_kwargs.get("generation_config")
        if config is None:
            return {**call_kwargs, **added}
        return {**call_kwargs, "generation_config": config.merged_with(**added)}

    def _forward(self, model_inputs: dict[str, Any], **generate_kwargs: Any):
        input_ids = model_inputs["input_ids"]
        attention_mask = model_inputs["attention_mask"]
        kwargs = self.generate_kwargs(generate_kwargs)
        if input_ids.shape[1] == 0:
            # an empty prompt: generate() starts from the BOS token
            rows = 1
            sequences = self.model.generate(**kwargs)
        else:
            rows = input_ids.shape[0]
            if rows > 1 and "pad_token_id" not in kwargs and self.model.generation_config.pad_token_id is None:
                kwargs["pad_token_id"] = self._pad_token_id()
            sequences = self.model.generate(input_ids=input_ids, attention_mask=attention_mask, **kwargs)
        if not isinstance(sequences, torch.Tensor):
            sequences = sequences.sequences
        return {
            "sequences": sequences.reshape(rows, sequences.shape[0] // rows, -1).cpu(),
            "prompt_length": input_ids.shape[1],
            "prompt_text": model_inputs["prompt_text"],
        }

    def _unbatch(self, outputs, batch, n):
        prompts = outputs["prompt_text"]
        return [
            {
                "sequences": outputs["sequences"][i],
                "prompt_length": outputs["prompt_length"],
                "prompt_text": prompts[i] if isinstance(prompts, list) and n > 1 else prompts,
            }
            for i in range(n)
        ]

    def postprocess(
        self,
        outputs: dict[str, Any],
        return_type: str = "full_text",
        clean_up_tokenization_spaces: bool | None = None,
        skip_special_tokens: bool | None = None,
        continue_final_message: bool | None = None,
    ) -> list[dict[str, Any]]:
        records = []
        prompt = outputs["prompt_text"]
        skip = True if skip_special_tokens is None else skip_special_tokens
        for sequence in outputs["sequences"].tolist():
            if return_type == "tensors":
                records.append({"generated_token_ids": sequence})
                continue
            text = self.tokenizer.decode(
                sequence[outputs["prompt_length"] :],
                skip_special_tokens=skip,
                clean_up_tokenization_spaces=clean_up_tokenization_spaces,
            )
            if return_type == "full_text":
                text = self._full_text(prompt, text, continue_final_message)
            records.append({"generated_text": text})
        return records

    @staticmethod
    def _full_text(prompt: Any, text: str, continue_final_message: bool | None) -> Any:
        if isinstance(prompt, str):
            return prompt + text
        messages = list(prompt.messages)
        if continue_final_message is None:
            continue_final_message = messages[-1]["role"] == "assistant"
        if continue_final_message:
            last = messages[-1]
            return [*messages[:-1], {"role": last["role"], "content": last["content"] + text}]
        return [*messages, {"role": "assistant", "content": text}]
