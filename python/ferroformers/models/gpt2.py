"""GPT-2 (and distilgpt2): a decoder-only transformer with learned absolute positions.

``GPT2Config``, then ``GPT2Attention`` (fused q/k/v projection), ``GPT2MLP``, ``GPT2Block`` (pre-LayerNorm),
``GPT2Model`` (token + position embeddings, the blocks, a final LayerNorm) and two heads:
``GPT2LMHeadModel`` (language modelling, the head tied to the token embeddings) and
``GPT2ForSequenceClassification`` (pools the last non-padding token).

Weight names are the Hugging Face ones, so GPT-2 checkpoints load as they are. Its projections are
``Conv1D`` layers: a linear layer whose weight is stored transposed, shape ``(in, out)``.

Positions: without ``position_ids`` position t is ``past + t`` (as transformers). With left padding pass
``position_ids = attention_mask.cumsum(-1) - 1`` (padding set to any valid id) to get for the real tokens
the logits of the unpadded sequence.

Example:
    >>> model = GPT2LMHeadModel.from_pretrained("gpt2")
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
from .dropout import Dropout
from .heads import last_token_index
from .losses import causal_lm_loss, sequence_classification_loss
from .modeling_outputs import BaseModelOutputWithPast, CausalLMOutputWithPast, SequenceClassifierOutputWithPast
from .modeling_utils import PreTrainedModel, check_sequence_fits


class GPT2Config(PretrainedConfig):
    """GPT-2's hyper-parameters, with transformers' names and defaults (the 124M model).

    ``hidden_size``, ``num_hidden_layers``, ``num_attention_heads`` and ``max_position_embeddings`` are
    aliases of ``n_embd``, ``n_layer``, ``n_head`` and ``n_positions``.
    """

    model_type = "gpt2"
    attribute_map = {
        "hidden_size": "n_embd",
        "max_position_embeddings": "n_positions",
        "num_attention_heads": "n_head",
        "num_hidden_layers": "n_layer",
    }

    def __init__(
        self,
        vocab_size: int = 50257,
        n_positions: int = 1024,
        n_embd: int = 768,
        n_layer: int = 12,
        n_head: int = 12,
        n_inner: int | None = None,
        activation_function: str = "gelu_new",
        resid_pdrop: float = 0.1,
        embd_pdrop: float = 0.1,
        attn_pdrop: float = 0.1,
        layer_norm_epsilon: float = 1e-5,
        initializer_range: float = 0.02,
        summary_type: str = "cls_index",
        summary_use_proj: bool = True,
        summary_activation: str | None = None,
        summary_proj_to_labels: bool = True,
        summary_first_dropout: float = 0.1,
        scale_attn_weights: bool = True,
        use_cache: bool = True,
        bos_token_id: int | None = 50256,
        eos_token_id: int | None = 50256,
        scale_attn_by_inverse_layer_idx: bool = False,
        reorder_and_upcast_attn: bool = False,
        add_cross_attention: bool = False,
        **kwargs,
    ):
        self.vocab_size = vocab_size
        self.n_positions = n_positions
        self.n_embd = n_embd
        self.n_layer = n_layer
        self.n_head = n_head
        self.n_inner = n_inner
        self.activation_function = activation_function
        self.resid_pdrop = resid_pdrop
        self.embd_pdrop = embd_pdrop
        self.attn_pdrop = attn_pdrop
        self.layer_norm_epsilon = layer_norm_epsilon
        self.initializer_range = initializer_range
        self.summary_type = summary_type
        self.summary_use_proj = summary_use_proj
        self.summary_activation = summary_activation
        self.summary_proj_to_labels = summary_proj_to_labels
        self.summary_first_dropout = summary_first_dropout
        self.scale_attn_weights = scale_attn_weights
        self.use_cache = use_cache
        self.scale_attn_by_inverse_layer_idx = scale_attn_by_inverse_layer_idx
        self.reorder_and_upcast_attn = reorder_and_upcast_attn
        self.add_cross_attention = add_cross_attention
        super().__init__(bos_token_id=bos_token_id, eos_token_id=eos_token_id, use_cache=use_cache, **kwargs)


class Conv1D(nn.Module):
    """A linear layer with its weight stored as (in_features, out_features), the layout of GPT-2 checkpoints."""

    def __init__(self, out_features: int, in_features: int):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(in_features, out_features))
        self.bias = nn.Parameter(torch.zeros(out_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.addmm(self.bias, x.reshape(-1, x.shape[-1]), self.weight).view(*x.shape[:-1], -1)


class GPT2Attention(nn.Module):
    def __init__(self, config: GPT2Config, layer_idx: int):
        super().__init__()
        self.n_head = config.n_head
        self.head_dim = config.n_embd // config.n_head
        if self.head_dim * self.n_head != config.n_embd:
            raise ValueError(f"n_embd ({config.n_embd}) must be divisible by n_head ({config.n_head})")
        self.layer_idx = layer_idx
        self.scaling = self.head_dim**-0.5 if config.scale_attn_weights else 1.0
        if config.scale_attn_by_inverse_layer_idx:
            self.scaling /= layer_idx + 1
        self.c_attn = Conv1D(3 * config.n_embd, config.n_embd)  # q, k, v side by side
        self.c_proj = Conv1D(config.n_embd, config.n_embd)
        self.attn_dropout = Dropout(config.attn_pdrop)
        self.resid_dropout = Dropout(config.resid_pdrop)

    def forward(
        self,
        x: torch.Tensor,
        mask: torch.Tensor | None,
        cache: DynamicCache | None,
        output_attentions: bool,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)  # 3 x (B, T, C)
        q = q.view(B, T, self.n_head, self.head_dim).transpose(1, 2)  # (B, nh, T, hs)
        k = k.view(B, T, self.n_head, self.head_dim).transpose(1, 2)  # (B, nh, T, hs)
        v = v.view(B, T, self.n_head, self.head_dim).transpose(1, 2)  # (B, nh, T, hs)
        if cache is not None:
            k, v = cache.update(self.layer_idx, k, v)  # (B, nh, T_past + T, hs)
        dropout = self.attn_dropout.p if self.training else 0.0
        y, probs = attend(
            q, k, v, mask, scale=self.scaling, dropout=dropout, need_weights=output_attentions, causal=True
        )  # (B, nh, T, hs)
        y = y.transpose(1, 2)  # (B, T, nh, hs)
        y = self.resid_dropout(self.c_proj(y.reshape(B, T, C)))
        return y, probs


class GPT2MLP(nn.Module):
    def __init__(self, config: GPT2Config):
        super().__init__()
        inner = config.n_inner if config.n_inner is not None else 4 * config.n_embd
        self.c_fc = Conv1D(inner, config.n_embd)
        self.c_proj = Conv1D(config.n_embd, inner)
        self.act = get_activation(config.activation_function)
        self.dropout = Dropout(config.resid_pdrop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.c_proj(self.act(self.c_fc(x))))


class GPT2Block(nn.Module):
    def __init__(self, config: GPT2Config, layer_idx: int):
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd, eps=config.layer_norm_epsilon)
        self.attn = GPT2Attention(config, layer_idx)
        self.ln_2 = nn.LayerNorm(config.n_embd, eps=config.layer_norm_epsilon)
        self.mlp = GPT2MLP(config)

    def forward(
        self, x: torch.Tensor, mask: torch.Tensor | None, cache: DynamicCache | None, output_attentions: bool
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        attn_out, probs = self.attn(self.ln_1(x), mask, cache, output_attentions)
        x = x + attn_out
        x = x + self.mlp(self.ln_2(x))
        return x, probs


class GPT2PreTrainedModel(PreTrainedModel):
    config_class = GPT2Config
    base_model_prefix = "transformer"
    # Old checkpoints store the causal mask as buffers; we build masks per call instead.
    _keys_to_ignore_on_load_unexpected = [r"attn\.bias$", r"attn\.masked_bias$"]

    def _init_weights(self, module: nn.Module) -> None:
        std = self.config.initializer_range
        if isinstance(module, (nn.Linear, Conv1D)):
            nn.init.normal_(module.weight, mean=0.0, std=std)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=std)
        elif isinstance(module, nn.LayerNorm):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)
        if isinstance(module, (GPT2Attention, GPT2MLP)):
            # GPT-2's scheme: the projections into the residual stream get std / sqrt(2 * n_layer).
            nn.init.normal_(module.c_proj.weight, mean=0.0, std=std / math.sqrt(2 * self.config.n_layer))


class GPT2Model(GPT2PreTrainedModel):
    """The bare GPT-2 transformer: returns the final hidden states (B, T, n_embd)."""

    def __init__(self, config: GPT2Config):
        super().__init__(config)
        if config.add_cross_attention:
            raise ValueError("GPT-2 with cross-attention (add_cross_attention=True) is not supported")
        self.wte = nn.Embedding(config.vocab_size, config.n_embd)
        self.wpe = nn.Embedding(config.n_positions, config.n_embd)
        self.drop = Dropout(config.embd_pdrop)
        self.h = nn.ModuleList([GPT2Block(config, i) for i in range(config.n_layer)])
        self.ln_f = nn.LayerNorm(config.n_embd, eps=config.layer_norm_epsilon)
        self.post_init()

    def get_input_embeddings(self) -> nn.Embedding:
        return self.wte

    def set_input_embeddings(self, embeddings: nn.Embedding) -> None:
        self.wte = embeddings

    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        past_key_values: DynamicCache | LegacyCache | None = None,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.LongTensor | None = None,
        position_ids: torch.LongTensor | None = None,
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

        if inputs_embeds is None:
            inputs_embeds = self.wte(input_ids)  # (B, T, C)
        B, T, _ = inputs_embeds.shape
        cache = as_cache(past_key_values, use_cache)
        past_len = cache.get_seq_length() if cache is not None else 0
        if position_ids is None:
            check_sequence_fits(past_len + T, self.wpe.num_embeddings, "GPT-2")
            position_ids = torch.arange(past_len, past_len + T, device=inputs_embeds.device)[None]  # (1, T)
        x = inputs_embeds + self.wpe(position_ids)
        if token_type_ids is not None:
            x = x + self.wte(token_type_ids)  # GPT-2 has no segment table: segments reuse the token embeddings
        x = self.drop(x)

        mask = causal_mask(attention_mask, B, T, past_len, device=x.device)
        all_hidden: tuple[torch.Tensor, ...] = ()
        all_attn: tuple[torch.Tensor, ...] = ()
        for block in self.h:
            if output_hidden_states:
                all_hidden += (x,)
            x, probs = block(x, mask, cache, output_attentions)
            if output_attentions:
                all_attn += (probs,)
        x = self.ln_f(x)
        if output_hidden_states:
            all_hidden += (x,)

        out = BaseModelOutputWithPast(
            last_hidden_state=x,
            past_key_values=cache if use_cache else None,
            hidden_states=all_hidden if output_hidden_states else None,
            attentions=all_attn if output_attentions else None,
        )
        return out if return_dict else out.to_tuple()


class GPT2LMHeadModel(GenerationMixin, GPT2PreTrainedModel):
    """GPT-2 with a language-modelling head (tied to ``wte``): logits (B, T, vocab_size), loss on ``labels``."""

    _tied_weights_keys = ["lm_head.weight"]

    def __init__(self, config: GPT2Config):
        super().__init__(config)
        self.transformer = GPT2Model(config)
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.post_init()

    @classmethod
    def can_generate(cls) -> bool:
        return True

    def get_input_embeddings(self) -> nn.Embedding:
        return self.transformer.wte

    def set_input_embeddings(self, embeddings: nn.Embedding) -> None:
        self.transformer.wte = embeddings

    def get_output_embeddings(self) -> nn.Linear:
        return self.lm_head

    def set_output_embeddings(self, embeddings: nn.Linear) -> None:
        self.lm_head = embeddings

    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        past_key_values: DynamicCache | LegacyCache | None = None,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.LongTensor | None = None,
        position_ids: torch.LongTensor | None = None,
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
        base = self.transformer(
            input_ids,
            past_key_values=past_key_values,
            attention_mask=attention_mask,
            token_type_ids=token_type_ids,
            position_ids=position_ids,
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


class GPT2ForSequenceClassification(GPT2PreTrainedModel):
    """GPT-2 scoring each sequence from its last non-padding token: logits (B, num_labels)."""

    def __init__(self, config: GPT2Config):
        super().__init__(config)
        self.num_labels = config.num_labels
        self.transformer = GPT2Model(config)
        self.score = nn.Linear(config.n_embd, config.num_labels, bias=False)
        self.post_init()

    def get_input_embeddings(self) -> nn.Embedding:
        return self.transformer.wte

    def set_input_embeddings(self, embeddings: nn.Embedding) -> None:
        self.transformer.wte = embeddings

    def get_output_embeddings(self) -> None:
        return None

    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        past_key_values: DynamicCache | LegacyCache | None = None,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.LongTensor | None = None,
        position_ids: torch.LongTensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        use_cache: bool | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
    ) -> SequenceClassifierOutputWithPast | tuple:
        return_dict = self.config.use_return_dict if return_dict is None else return_dict
        base = self.transformer(
            input_ids,
            past_key_values=past_key_values,
            attention_mask=attention_mask,
            token_type_ids=token_type_ids,
            position_ids=position_ids,
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
