"""Llama and its two close relatives, Mistral and Qwen2: decoder-only transformers with rotary positions.

``LlamaConfig`` (and ``MistralConfig``, ``Qwen2Config``), then ``LlamaRMSNorm``, ``LlamaRotaryEmbedding``,
``LlamaAttention`` (grouped-query: ``num_key_value_heads`` key/value heads shared by the query heads),
``LlamaMLP`` (SwiGLU), ``LlamaDecoderLayer``, ``LlamaModel`` and two heads, ``LlamaForCausalLM`` and
``LlamaForSequenceClassification`` (pools the last non-padding token). The Mistral and Qwen2 classes are
the same modules under their own configs; what differs is read from the config:

- Mistral: every layer attends to the last ``sliding_window`` positions only (when it is set).
- Qwen2: biases on the q/k/v projections (none on the output projection); layers whose
  ``layer_types`` entry is ``"sliding_attention"`` (from ``use_sliding_window``, ``max_window_layers``)
  use the sliding window.

Rotary scaling (``rope_parameters``, or the older ``rope_scaling`` + ``rope_theta`` of config.json):
``default``, ``linear``, ``dynamic`` (NTK, recomputed for sequences longer than
``max_position_embeddings``; unlike transformers it does not remember the longest length seen) and
``llama3``. Weight names are the Hugging Face ones; embeddings are untied unless ``tie_word_embeddings``.

Positions: without ``position_ids`` position t is ``past + t`` (as transformers). With left padding pass
``position_ids = attention_mask.cumsum(-1) - 1`` (padding set to any valid id) to get for the real tokens
the logits of the unpadded sequence.

Example:
    >>> model = LlamaForCausalLM.from_pretrained("path/to/llama")
    >>> out = model(input_ids, attention_mask=attention_mask, labels=input_ids)
    >>> out.loss, out.logits.shape                                  # (B, T, vocab_size)
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ..generation.utils import GenerationMixin
from .activations import get_activation
from .attention import attend, causal_mask
from .cache import DynamicCache, LegacyCache, as_cache
from .configuration import PretrainedConfig
from .heads import last_token_index
from .losses import causal_lm_loss, sequence_classification_loss
from .modeling_outputs import BaseModelOutputWithPast, CausalLMOutputWithPast, SequenceClassifierOutputWithPast
from .modeling_utils import PreTrainedModel

ROPE_TYPES = ("default", "linear", "dynamic", "llama3")


def _rope_parameters(
    rope_parameters: dict | None,
    rope_scaling: dict | None,
    rope_theta: float | None,
    max_position_embeddings: int,
    default_theta: float,
) -> dict:
    """One dict with ``rope_type`` and ``rope_theta``, from transformers 5's ``rope_parameters`` or the older
    ``rope_scaling`` (whose type key was ``type``) plus a top-level ``rope_theta``."""
    params = dict(rope_parameters or rope_scaling or {})
    params["rope_type"] = params.pop("type", None) or params.get("rope_type") or "default"
    params.setdefault("rope_theta", rope_theta if rope_theta is not None else default_theta)
    if params["rope_type"] not in ROPE_TYPES:
        raise ValueError(f"unsupported rope_type {params['rope_type']!r}: expected one of {ROPE_TYPES}")
    if params["rope_type"] == "llama3":
        params.setdefault("original_max_position_embeddings", max_position_embeddings)
    return params


class LlamaConfig(PretrainedConfig):
    """Llama's hyper-parameters, with transformers' names and defaults (Llama-2 7B)."""

    model_type = "llama"
    default_rope_theta = 10000.0

    def __init__(
        self,
        vocab_size: int = 32000,
        hidden_size: int = 4096,
        intermediate_size: int = 11008,
        num_hidden_layers: int = 32,
        num_attention_heads: int = 32,
        num_key_value_heads: int | None = None,
        hidden_act: str = "silu",
        max_position_embeddings: int = 2048,
        initializer_range: float = 0.02,
        rms_norm_eps: float = 1e-6,
        use_cache: bool = True,
        pad_token_id: int | None = None,
        bos_token_id: int | None = 1,
        eos_token_id: int | list[int] | None = 2,
        pretraining_tp: int = 1,
        tie_word_embeddings: bool = False,
        rope_parameters: dict | None = None,
        attention_bias: bool = False,
        attention_dropout: float = 0.0,
        mlp_bias: bool = False,
        head_dim: int | None = None,
        **kwargs,
    ):
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.intermediate_size = intermediate_size
        self.num_hidden_layers = num_hidden_layers
        self.num_attention_heads = num_attention_heads
        self.num_key_value_heads = num_key_value_heads if num_key_value_heads is not None else num_attention_heads
        self.hidden_act = hidden_act
        self.max_position_embeddings = max_position_embeddings
        self.initializer_range = initializer_range
        self.rms_norm_eps = rms_norm_eps
        self.pretraining_tp = pretraining_tp
        self.attention_bias = attention_bias
        self.attention_dropout = attention_dropout
        self.mlp_bias = mlp_bias
        self.head_dim = head_dim if head_dim is not None else hidden_size // num_attention_heads
        self.rope_parameters = _rope_parameters(
            rope_parameters,
            kwargs.pop("rope_scaling", None),
            kwargs.pop("rope_theta", None),
            max_position_embeddings,
            self.default_rope_theta,
        )
        super().__init__(
            pad_token_id=pad_token_id,
            bos_token_id=bos_token_id,
            eos_token_id=eos_token_id,
            tie_word_embeddings=tie_word_embeddings,
            use_cache=use_cache,
            **kwargs,
        )


class MistralConfig(PretrainedConfig):
    """Mistral's hyper-parameters (Mistral 7B): Llama's without biases, plus ``sliding_window``."""

    model_type = "mistral"
    default_rope_theta = 10000.0

    def __init__(
        self,
        vocab_size: int = 32000,
        hidden_size: int = 4096,
        intermediate_size: int = 14336,
        num_hidden_layers: int = 32,
        num_attention_heads: int = 32,
        num_key_value_heads: int | None = 8,
        head_dim: int | None = None,
        hidden_act: str = "silu",
        max_position_embeddings: int = 4096 * 32,
        initializer_range: float = 0.02,
        rms_norm_eps: float = 1e-6,
        use_cache: bool = True,
        pad_token_id: int | None = None,
        bos_token_id: int | None = 1,
        eos_token_id: int | list[int] | None = 2,
        tie_word_embeddings: bool = False,
        rope_parameters: dict | None = None,
        sliding_window: int | None = 4096,
        attention_dropout: float = 0.0,
        **kwargs,
    ):
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.intermediate_size = intermediate_size
        self.num_hidden_layers = num_hidden_layers
        self.num_attention_heads = num_attention_heads
        self.num_key_value_heads = num_key_value_heads if num_key_value_heads is not None else num_attention_heads
        self.head_dim = head_dim if head_dim is not None else hidden_size // num_attention_heads
        self.hidden_act = hidden_act
        self.max_position_embeddings = max_position_embeddings
        self.initializer_range = initializer_range
        self.rms_norm_eps = rms_norm_eps
        self.sliding_window = sliding_window
        self.attention_dropout = attention_dropout
        self.rope_parameters = _rope_parameters(
            rope_parameters,
            kwargs.pop("rope_scaling", None),
            kwargs.pop("rope_theta", None),
            max_position_embeddings,
            self.default_rope_theta,
        )
        super().__init__(
            pad_token_id=pad_token_id,
            bos_token_id=bos_token_id,
            eos_token_id=eos_token_id,
            tie_word_embeddings=tie_word_embeddings,
            use_cache=use_cache,
            **kwargs,
        )


class Qwen2Config(PretrainedConfig):
    """Qwen2's hyper-parameters (Qwen2 7B): q/k/v biases; a sliding window on layers >= max_window_layers
    when ``use_sliding_window``, or wherever ``layer_types`` says ``"sliding_attention"``."""

    model_type = "qwen2"
    default_rope_theta = 10000.0

    def __init__(
        self,
        vocab_size: int = 151936,
        hidden_size: int = 4096,
        intermediate_size: int = 22016,
        num_hidden_layers: int = 32,
        num_attention_heads: int = 32,
        num_key_value_heads: int | None = 32,
        hidden_act: str = "silu",
        max_position_embeddings: int = 32768,
        initializer_range: float = 0.02,
        rms_norm_eps: float = 1e-6,
        use_cache: bool = True,
        tie_word_embeddings: bool = False,
        rope_parameters: dict | None = None,
        use_sliding_window: bool = False,
        sliding_window: int | None = 4096,
        max_window_layers: int = 28,
        layer_types: list[str] | None = None,
        attention_dropout: float = 0.0,
        pad_token_id: int | None = None,
        bos_token_id: int | None = None,
        eos_token_id: int | list[int] | None = None,
        **kwargs,
    ):
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.intermediate_size = intermediate_size
        self.num_hidden_layers = num_hidden_layers
        self.num_attention_heads = num_attention_heads
        self.num_key_value_heads = num_key_value_heads if num_key_value_heads is not None else num_attention_heads
        self.hidden_act = hidden_act
        self.max_position_embeddings = max_position_embeddings
        self.initializer_range = initializer_range
        self.rms_norm_eps = rms_norm_eps
        self.use_sliding_window = use_sliding_window
        self.sliding_window = sliding_window if use_sliding_window else None
        self.max_window_layers = max_window_layers
        if layer_types is None:
            layer_types = [
                "sliding_attention" if self.sliding_window is not None and i >= max_window_layers else "full_attention"
                for i in range(num_hidden_layers)
            ]
        self.layer_types = list(layer_types)
        self.attention_dropout = attention_dropout
        self.rope_parameters = _rope_parameters(
            rope_parameters,
            kwargs.pop("rope_scaling", None),
            kwargs.pop("rope_theta", None),
            max_position_embeddings,
            self.default_rope_theta,
        )
        super().__init__(
            pad_token_id=pad_token_id,
            bos_token_id=bos_token_id,
            eos_token_id=eos_token_id,
            tie_word_embeddings=tie_word_embeddings,
            use_cache=use_cache,
            **kwargs,
        )


def _head_dim(config) -> int:
    return getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads


def _projection_biases(config) -> tuple[bool, bool]:
    """(q/k/v bias, output-projection bias): Llama has one switch for all four, Qwen2 biases q/k/v only."""
    if isinstance(config, Qwen2Config):
        return True, False
    bias = getattr(config, "attention_bias", False)
    return bias, bias


def _sliding_windows(config) -> list[int | None]:
    """The attention window of each layer (None = the whole past)."""
    if isinstance(config, MistralConfig):
        return [config.sliding_window] * config.num_hidden_layers
    if isinstance(config, Qwen2Config):
        return [config.sliding_window if t == "sliding_attention" else None for t in config.layer_types]
    return [None] * config.num_hidden_layers


def rope_inverse_frequencies(config, seq_len: int | None = None) -> torch.Tensor:
    """The rotary inverse frequencies (head_dim / 2,) for ``config.rope_parameters``.

    ``seq_len`` matters only to ``dynamic``, which raises the base when it exceeds max_position_embeddings.
    """
    params = config.rope_parameters
    rope_type, base = params["rope_type"], params["rope_theta"]
    dim = _head_dim(config)
    if rope_type == "dynamic" and seq_len is not None and seq_len > config.max_position_embeddings:
        factor = params["factor"]
        base = base * ((factor * seq_len / config.max_position_embeddings) - (factor - 1)) ** (dim / (dim - 2))
    inv_freq = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim))

    if rope_type == "linear":
        inv_freq = inv_freq / params["factor"]
    elif rope_type == "llama3":
        # Long wavelengths (low frequencies) are slowed by `factor`, short ones kept, those between blended.
        factor = params["factor"]
        low, high = params["low_freq_factor"], params["high_freq_factor"]
        old_context = params["original_max_position_embeddings"]
        low_freq_wavelen, high_freq_wavelen = old_context / low, old_context / high
        wavelen = 2 * math.pi / inv_freq
        scaled = torch.where(wavelen > low_freq_wavelen, inv_freq / factor, inv_freq)
        smooth = (old_context / wavelen - low) / (high - low)
        blended = (1 - smooth) * scaled / factor + smooth * scaled
        is_medium = ~(wavelen < high_freq_wavelen) & ~(wavelen > low_freq_wavelen)
        inv_freq = torch.where(is_medium, blended, scaled)
    return inv_freq


class LlamaRMSNorm(nn.Module):
    """x / rms(x) * weight, computed in float32."""

    def __init__(self, hidden_size: int, eps: float = 1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(hidden_size))
        self.variance_epsilon = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dtype = x.dtype
        x = x.float()
        x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.variance_epsilon)
        return self.weight * x.to(dtype)


class LlamaRotaryEmbedding(nn.Module):
    """cos and sin (B, T, head_dim) of the rotation angles ``position * inv_freq``."""

    def __init__(self, config):
        super().__init__()
        self.config = config
        self.register_buffer("inv_freq", rope_inverse_frequencies(config), persistent=False)

    def forward(self, x: torch.Tensor, position_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        inv_freq = self.inv_freq
        if self.config.rope_parameters["rope_type"] == "dynamic":
            seq_len = int(position_ids.max()) + 1
            if seq_len > self.config.max_position_embeddings:
                inv_freq = rope_inverse_frequencies(self.config, seq_len)
        freqs = position_ids[..., None].float() * inv_freq.to(x.device, torch.float32)  # (B, T, hs/2)
        emb = torch.cat((freqs, freqs), dim=-1)  # (B, T, hs)
        return emb.cos().to(x.dtype), emb.sin().to(x.dtype)


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


def apply_rotary(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate ``x`` (B, nh, T, hs) by angles given as cos/sin (B, T, hs)."""
    cos, sin = cos[:, None], sin[:, None]  # (B, 1, T, hs)
    return x * cos + rotate_half(x) * sin


class LlamaAttention(nn.Module):
    def __init__(self, config, layer_idx: int, sliding_window: int | None):
        super().__init__()
        self.layer_idx = layer_idx
        self.n_head = config.num_attention_heads
        self.n_kv_head = config.num_key_value_heads
        self.head_dim = _head_dim(config)
        self.scaling = self.head_dim**-0.5
        self.attention_dropout = config.attention_dropout
        self.sliding_window = sliding_window
        qkv_bias, o_bias = _projection_biases(config)
        self.q_proj = nn.Linear(config.hidden_size, self.n_head * self.head_dim, bias=qkv_bias)
        self.k_proj = nn.Linear(config.hidden_size, self.n_kv_head * self.head_dim, bias=qkv_bias)
        self.v_proj = nn.Linear(config.hidden_size, self.n_kv_head * self.head_dim, bias=qkv_bias)
        self.o_proj = nn.Linear(self.n_head * self.head_dim, config.hidden_size, bias=o_bias)

    def forward(
        self,
        x: torch.Tensor,
        rotary: tuple[torch.Tensor, torch.Tensor],
        mask: torch.Tensor | None,
        cache: DynamicCache | None,
        output_attentions: bool,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        B, T, _ = x.shape
        q = self.q_proj(x).view(B, T, self.n_head, self.head_dim).transpose(1, 2)  # (B, nh, T, hs)
        k = self.k_proj(x).view(B, T, self.n_kv_head, self.head_dim).transpose(1, 2)  # (B, n_kv, T, hs)
        v = self.v_proj(x).view(B, T, self.n_kv_head, self.head_dim).transpose(1, 2)  # (B, n_kv, T, hs)
        cos, sin = rotary
        q, k = apply_rotary(q, cos, sin), apply_rotary(k, cos, sin)
        if cache is not None:
            k, v = cache.update(self.layer_idx, k, v)  # (B, n_kv, T_past + T, hs)
        dropout = self.attention_dropout if self.training else 0.0
        y, probs = attend(
            q, k, v, mask, scale=self.scaling, dropout=dropout, need_weights=output_attentions, causal=True
        )  # (B, nh, T, hs)
        y = y.transpose(1, 2)  # (B, T, nh, hs)
        return self.o_proj(y.reshape(B, T, -1)), probs


class LlamaMLP(nn.Module):
    """Gated MLP (SwiGLU with silu): down(act(gate(x)) * up(x))."""

    def __init__(self, config):
        super().__init__()
        bias = getattr(config, "mlp_bias", False)
        self.gate_proj = nn.Linear(config.hidden_size, config.intermediate_size, bias=bias)
        self.up_proj = nn.Linear(config.hidden_size, config.intermediate_size, bias=bias)
        self.down_proj = nn.Linear(config.intermediate_size, config.hidden_size, bias=bias)
        self.act_fn = get_activation(config.hidden_act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down_proj(self.act_fn(self.gate_proj(x)) * self.up_proj(x))


class LlamaDecoderLayer(nn.Module):
    def __init__(self, config, layer_idx: int, sliding_window: int | None):
        super().__init__()
        self.self_attn = LlamaAttention(config, layer_idx, sliding_window)
        self.mlp = LlamaMLP(config)
        self.input_layernorm = LlamaRMSNorm(config.hidden_size, eps=config.rms_norm_eps)
        self.post_attention_layernorm = LlamaRMSNorm(config.hidden_size, eps=config.rms_norm_eps)

    def forward(self, x, rotary, mask, cache, output_attentions):
        attn_out, probs = self.self_attn(self.input_layernorm(x), rotary, mask, cache, output_attentions)
        x = x + attn_out
        x = x + self.mlp(self.post_attention_layernorm(x))
        return x, probs


class LlamaPreTrainedModel(PreTrainedModel):
    config_class = LlamaConfig
    base_model_prefix = "model"

    def _init_weights(self, module: nn.Module) -> None:
        std = self.config.initializer_range
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=std)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=std)
            if module.padding_idx is not None:
                with torch.no_grad():
                    module.weight[module.padding_idx].zero_()
        elif isinstance(module, LlamaRMSNorm):
            nn.init.ones_(module.weight)


class LlamaModel(LlamaPreTrainedModel):
    """The bare decoder: returns the final (normed) hidden states (B, T, hidden_size)."""

    def __init__(self, config):
        super().__init__(config)
        self.padding_idx = config.pad_token_id
        self.embed_tokens = nn.Embedding(config.vocab_size, config.hidden_size, self.padding_idx)
        windows = _sliding_windows(config)
        self.layers = nn.ModuleList([LlamaDecoderLayer(config, i, windows[i]) for i in range(config.num_hidden_layers)])
        self.norm = LlamaRMSNorm(config.hidden_size, eps=config.rms_norm_eps)
        self.rotary_emb = LlamaRotaryEmbedding(config)
        self.post_init()

    def get_input_embeddings(self) -> nn.Embedding:
        return self.embed_tokens

    def set_input_embeddings(self, embeddings: nn.Embedding) -> None:
        self.embed_tokens = embeddings

    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.LongTensor | None = None,
        past_key_values: DynamicCache | LegacyCache | None = None,
        inputs_embeds: torch.Tensor | None = None,
        use_cache: bool | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
    ) -> BaseModelOutputWithPast | tuple:
        config = self.config
        use_cache = config.use_cache if use_cache is None else use_cache
        output_attentions = config.output_attentions if output_attentions is None else output_attentions
        output_hidden_states = config.output_hidden_states if output_hidden_states is None else output_hidden_states
        return_dict = config.use_return_dict if return_dict is None else return_dict
        if (input_ids is None) == (inputs_embeds is None):
            raise ValueError("pass exactly one of input_ids and inputs_embeds")

        x = self.embed_tokens(input_ids) if inputs_embeds is None else inputs_embeds  # (B, T, C)
        B, T, _ = x.shape
        cache = as_cache(past_key_values, use_cache)
        past_len = cache.get_seq_length() if cache is not None else 0
        if position_ids is None:
            position_ids = torch.arange(past_len, past_len + T, device=x.device)[None]  # (1, T)
        rotary = self.rotary_emb(x, position_ids)

        masks = {  # one mask per distinct window: usually one, two for Qwen2 with sliding layers
            w: causal_mask(attention_mask, B, T, past_len, w, device=x.device)
            for w in {layer.self_attn.sliding_window for layer in self.layers}
        }
        all_hidden: tuple[torch.Tensor, ...] = ()
        all_attn: tuple[torch.Tensor, ...] = ()
        for layer in self.layers:
            if output_hidden_states:
                all_hidden += (x,)
            x, probs = layer(x, rotary, masks[layer.self_attn.sliding_window], cache, output_attentions)
            if output_attentions:
                all_attn += (probs,)
        x = self.norm(x)
        if output_hidden_states:
            all_hidden += (x,)

        out = BaseModelOutputWithPast(
            last_hidden_state=x,
            past_key_values=cache if use_cache else None,
            hidden_states=all_hidden if output_hidden_states else None,
            attentions=all_attn if output_attentions else None,
        )
        return out if return_dict else out.to_tuple()


class LlamaForCausalLM(GenerationMixin, LlamaPreTrainedModel):
    """The decoder with a language-modelling head: logits (B, T, vocab_size), loss on ``labels``."""

    _tied_weights_keys = ["lm_head.weight"]
    base_model_class = LlamaModel

    def __init__(self, config):
        super().__init__(config)
        self.model = self.base_model_class(config)
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=False)
        self.post_init()

    @classmethod
    def can_generate(cls) -> bool:
        return True

    def get_input_embeddings(self) -> nn.Embedding:
        return self.model.embed_tokens

    def set_input_embeddings(self, embeddings: nn.Embedding) -> None:
        self.model.embed_tokens = embeddings

    def get_output_embeddings(self) -> nn.Linear:
        return self.lm_head

    def set_output_embeddings(self, embeddings: nn.Linear) -> None:
        self.lm_head = embeddings

    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.LongTensor | None = None,
        past_key_values: DynamicCache | LegacyCache | None = None,
        inputs_embeds: torch.Tensor | None = None,
        labels: torch.LongTensor | None = None,
        use_cache: bool | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        logits_to_keep: int = 0,
    ) -> CausalLMOutputWithPast | tuple:
        """``labels`` (B, T) are the inputs themselves (shifted inside; -100 is ignored).

        ``logits_to_keep`` > 0 computes logits for the last that many positions only (generation needs one).
        """
        return_dict = self.config.use_return_dict if return_dict is None else return_dict
        base = self.model(
            input_ids,
            attention_mask=attention_mask,
            position_ids=position_ids,
            past_key_values=past_key_values,
            inputs_embeds=inputs_embeds,
            use_cache=use_cache,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
            return_dict=True,
        )
        hidden = base.last_hidden_state
        logits = self.lm_head(hidden[:, -logits_to_keep:] if logits_to_keep > 0 else hidden)  # (B, T, V)
        loss = causal_lm_loss(logits, labels) if labels is not None else None
        out = CausalLMOutputWithPast(
            loss=loss,
            logits=logits,
            past_key_values=base.past_key_values,
            hidden_states=base.hidden_states,
            attentions=base.attentions,
        )
        return out if return_dict else out.to_tuple()


class LlamaForSequenceClassification(LlamaPreTrainedModel):
    """The decoder scoring each sequence from its last non-padding token: logits (B, num_labels)."""

    base_model_class = LlamaModel

    def __init__(self, config):
        super().__init__(config)
        self.num_labels = config.num_labels
        self.model = self.base_model_class(config)
        self.score = nn.Linear(config.hidden_size, config.num_labels, bias=False)
        self.post_init()

    def get_input_embeddings(self) -> nn.Embedding:
        return self.model.embed_tokens

    def set_input_embeddings(self, embeddings: nn.Embedding) -> None:
        self.model.embed_tokens = embeddings

    def get_output_embeddings(self) -> None:
        return None

    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.LongTensor | None = None,
        past_key_values: DynamicCache | LegacyCache | None = None,
        inputs_embeds: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        use_cache: bool | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
    ) -> SequenceClassifierOutputWithPast | tuple:
        return_dict = self.config.use_return_dict if return_dict is None else return_dict
        base = self.model(
            input_ids,
            attention_mask=attention_mask,
            position_ids=position_ids,
            past_key_values=past_key_values,
            inputs_embeds=inputs_embeds,
            use_cache=use_cache,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
            return_dict=True,
        )
        logits = self.score(base.last_hidden_state)  # (B, T, num_labels)
        B = logits.shape[0]
        last = last_token_index(input_ids, self.config.pad_token_id, B)
        pooled = logits[torch.arange(B, device=logits.device), last]  # (B, num_labels)
        loss = sequence_classification_loss(pooled, labels, self.config) if labels is not None else None
        out = SequenceClassifierOutputWithPast(
            loss=loss,
            logits=pooled,
            past_key_values=base.past_key_values,
            hidden_states=base.hidden_states,
            attentions=base.attentions,
        )
        return out if return_dict else out.to_tuple()


# Mistral and Qwen2: the same modules; the config carries what differs (window, biases).


class MistralModel(LlamaModel):
    config_class = MistralConfig


class MistralForCausalLM(LlamaForCausalLM):
    config_class = MistralConfig
    base_model_class = MistralModel


class MistralForSequenceClassification(LlamaForSequenceClassification):
    config_class = MistralConfig
    base_model_class = MistralModel


class Qwen2Model(LlamaModel):
    config_class = Qwen2Config


class Qwen2ForCausalLM(LlamaForCausalLM):
    config_class = Qwen2Config
    base_model_class = Qwen2Model


class Qwen2ForSequenceClassification(LlamaForSequenceClassification):
    config_class = Qwen2Config
    base_model_class = Qwen2Model
