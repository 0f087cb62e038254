"""text-generation: continue prompts with `model.generate()`, returning text as transformers' pipeline does."""

from __future__ import annotations

from typing import Any

import torch

from .base import Pipeline

_PIPELINE_KEYS = frozenset(
    {
        "return_full_text",
        "return_text",
        "return_tensors",
        "clean_up_tokenization_spaces",
        "skip_special_tokens",
        "add_special_tokens",
        "prefix",
    }
)


class TextGenerationPipeline(Pipeline):
    """`pipe("prompt", max_new_tokens=20)` -> `[{"generated_text": prompt + continuation}]`;
    a list of prompts -> one such list per prompt (one record per returned sequence).

    `return_full_text=False` gives the continuation only; `return_tensors=True` gives
    `{"generated_token_ids": [...]}` records. Every other keyword is a `generate()` keyword
    (`max_new_tokens`, `do_sample`, `num_beams`, `num_return_sequences`, ...). Prompts are tokenized
    with the tokenizer's default special tokens (`add_special_tokens=` to choose) and batches are padded on the left.
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
        add_special_tokens: bool | None = None,
        prefix: str | None = None,
        **generate_kwargs: Any,
    ):
        from ..generation.configuration import GenerationConfig
        from ..generation.utils import _CALL_OPTIONS

        accepted = GenerationConfig.field_names() | _CALL_OPTIONS | _PIPELINE_KEYS
        self._refuse_unknown(generate_kwargs, accepted, "text-generation pipeline")
        pre: dict[str, Any] = {}
        if add_special_tokens is not None:
            pre["add_special_tokens"] = bool(add_special_tokens)
        if prefix is not None:
            pre["prefix"] = prefix
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
        return pre, dict(generate_kwargs), post

    def preprocess(self, prompt: Any, add_special_tokens: bool | None = None, prefix: str = "") -> dict[str, Any]:
        if not isinstance(prompt, str):
            raise TypeError(f"text-generation takes a prompt or a list of prompts, got {type(prompt).__name__}")
        # As transformers: the tokenizer's own default (a Llama tokenizer adds its BOS) unless told otherwise.
        options = {} if add_special_tokens is None else {"add_special_tokens": add_special_tokens}
        encoded = self.tokenizer(prefix + prompt, return_tensors="pt", **options)
        return {"input_ids": encoded["input_ids"], "attention_mask": encoded["attention_mask"], "prompt_text": prompt}

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

    def _forward(self, model_inputs: dict[str, Any], **generate_kwargs: Any):
        input_ids = model_inputs["input_ids"]
        attention_mask = model_inputs["attention_mask"]
        if input_ids.shape[1] == 0:
            raise ValueError("text-generation needs a non-empty prompt")
        if input_ids.shape[0] > 1 and "pad_token_id" not in generate_kwargs:
            if self.model.generation_config.pad_token_id is None:
                generate_kwargs["pad_token_id"] = self._pad_token_id()
        sequences = self.model.generate(input_ids=input_ids, attention_mask=attention_mask, **generate_kwargs)
        if not isinstance(sequences, torch.Tensor):
            sequences = sequences.sequences
        batch = input_ids.shape[0]
        return {
            "sequences": sequences.reshape(batch, sequences.shape[0] // batch, -1).cpu(),
            "prompt_length": input_ids.shape[1],
            "prompt_text": model_inputs["prompt_text"],
        }

    def _unbatch(self, outputs, batch, n):
        return [
            {
                "sequences": outputs["sequences"][i],
                "prompt_length": outputs["prompt_length"],
                "prompt_text": outputs["prompt_text"][i]
                if isinstance(outputs["prompt_text"], list)
                else outputs["prompt_text"],
            }
            for i in range(n)
        ]

    def postprocess(
        self,
        outputs: dict[str, Any],
        return_type: str = "full_text",
        clean_up_tokenization_spaces: bool | None = None,
        skip_special_tokens: bool = True,
    ) -> list[dict[str, Any]]:
        records = []
        for sequence in outputs["sequences"].tolist():
            if return_type == "tensors":
                records.append({"generated_token_ids": sequence})
                continue
            text = self.tokenizer.decode(
                sequence[outputs["prompt_length"] :],
                skip_special_tokens=skip_special_tokens,
                clean_up_tokenization_spaces=clean_up_tokenization_spaces,
            )
            if return_type == "full_text":
                text = outputs["prompt_text"] + text
            records.append({"generated_text": text})
        return records
