"""DistilBERT (Sanh et al., 2019): a 6-layer BERT distilled from BERT-base, with its own weight names.

Differences from BERT that a checkpoint shows: no token type embeddings and no pooler;
`distilbert.transformer.layer.N.attention.{q_lin,k_lin,v_lin,out_lin}`, `sa_layer_norm`,
`ffn.{lin1,lin2}`, `output_layer_norm`; heads `vocab_transform / vocab_layer_norm / vocab_projector`
(MLM), `pre_classifier` + `classifier` (sequence classification), `qa_outputs`. Config fields are
`dim`, `n_layers`, `n_heads`, `hidden_dim` (`hidden_size` etc. work as aliases).

    >>> config = DistilBertConfig(vocab_size=100, dim=32, n_layers=1, n_heads=4, hidden_dim=64)
    >>> config.hidden_size
    32
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .activations import get_activation
from .attention import attend, padding_mask
from .bert import _as_tuple, _check_inputs, _output_flags, qa_output
from .configuration import PretrainedConfig
from .dropout import Dropout
from .losses import masked_lm_loss, sequence_classification_loss, token_classification_loss
from .modeling_outputs import (
    BaseModelOutput,
    MaskedLMOutput,
    QuestionAnsweringModelOutput,
    SequenceClassifierOutput,
    TokenClassifierOutput,
)
from .modeling_utils import PreTrainedModel, check_sequence_fits

# DistilBERT fixes its LayerNorm epsilon instead of reading it from the config.
_LN_EPS = 1e-12


class DistilBertConfig(PretrainedConfig):
    model_type = "distilbert"
    attribute_map = {"hidden_size": "dim", "num_attention_heads": "n_heads", "num_hidden_layers": "n_layers"}

    def __init__(
        self,
        vocab_size: int = 30522,
        max_position_embeddings: int = 512,
        sinusoidal_pos_embds: bool = False,
        n_layers: int = 6,
        n_heads: int = 12,
        dim: int = 768,
        hidden_dim: int = 4 * 768,
        dropout: float = 0.1,
        attention_dropout: float = 0.1,
        activation: str = "gelu",
        initializer_range: float = 0.02,
        qa_dropout: float = 0.1,
        seq_classif_dropout: float = 0.2,
        pad_token_id: int | None = 0,
        **kwargs,
    ) -> None:
        self.vocab_size = vocab_size
        self.max_position_embeddings = max_position_embeddings
        self.sinusoidal_pos_embds = sinusoidal_pos_embds
        self.n_layers = n_layers
        self.n_heads = n_heads
        self.dim = dim
        self.hidden_dim = hidden_dim
        self.dropout = dropout
        self.attention_dropout = attention_dropout
        self.activation = activation
        self.initializer_range = initializer_range
        self.qa_dropout = qa_dropout
        self.seq_classif_dropout = seq_classif_dropout
        super().__init__(pad_token_id=pad_token_id, **kwargs)


def sinusoidal_positions(n_pos: int, dim: int) -> torch.Tensor:
    """The fixed sin/cos table of "Attention is all you need": (n_pos, dim)."""
    angles = np.arange(n_pos)[:, None] / np.power(10000, 2 * (np.arange(dim) // 2) / dim)[None, :]
    table = torch.empty(n_pos, dim)
    table[:, 0::2] = torch.from_numpy(np.sin(angles[:, 0::2])).float()
    table[:, 1::2] = torch.from_numpy(np.cos(angles[:, 1::2])).float()
    return table


class Embeddings(nn.Module):
    def __init__(self, config: DistilBertConfig) -> None:
        super().__init__()
        self.word_embeddings = nn.Embedding(config.vocab_size, config.dim, padding_idx=config.pad_token_id)
        self.position_embeddings = nn.Embedding(config.max_position_embeddings, config.dim)
        self.LayerNorm = nn.LayerNorm(config.dim, eps=_LN_EPS)
        self.dropout = Dropout(config.dropout)

    def forward(self, input_ids, position_ids=None, inputs_embeds=None) -> torch.Tensor:
        if inputs_embeds is None:
            inputs_embeds = self.word_embeddings(input_ids)  # (B, T, C)
        T = inputs_embeds.shape[1]
        if position_ids is None:
            check_sequence_fits(T, self.position_embeddings.num_embeddings, "DistilBERT")
            position_ids = torch.arange(T, device=inputs_embeds.device)[None, :]  # (1, T)
        return self.dropout(self.LayerNorm(inputs_embeds + self.position_embeddings(position_ids)))


class MultiHeadSelfAttention(nn.Module):
    def __init__(self, config: DistilBertConfig) -> None:
        super().__init__()
        if config.dim % config.n_heads != 0:
            raise ValueError(f"dim ({config.dim}) is not a multiple of n_heads ({config.n_heads})")
        self.n_heads = config.n_heads
        self.head_size = config.dim // config.n_heads
        self.q_lin = nn.Linear(config.dim, config.dim)
        self.k_lin = nn.Linear(config.dim, config.dim)
        self.v_lin = nn.Linear(config.dim, config.dim)
        self.out_lin = nn.Linear(config.dim, config.dim)
        self.dropout_p = config.attention_dropout

    def forward(self, x, mask, output_attentions=False):
        B, T, C = x.shape
        # (B, T, C) -> (B, nh, T, hs)
        q = self.q_lin(x).view(B, T, self.n_heads, self.head_size).transpose(1, 2)
        k = self.k_lin(x).view(B, T, self.n_heads, self.head_size).transpose(1, 2)
        v = self.v_lin(x).view(B, T, self.n_heads, self.head_size).transpose(1, 2)
        dropout = self.dropout_p if self.training else 0.0
        y, weights = attend(q, k, v, mask, dropout=dropout, need_weights=output_attentions)  # (B, nh, T, hs)
        return self.out_lin(y.transpose(1, 2).reshape(B, T, C)), weights


class FFN(nn.Module):
    def __init__(self, config: DistilBertConfig) -> None:
        super().__init__()
        self.lin1 = nn.Linear(config.dim, config.hidden_dim)
        self.lin2 = nn.Linear(config.hidden_dim, config.dim)
        self.act = get_activation(config.activation)
        self.dropout = Dropout(config.dropout)

    def forward(self, x):
        return self.dropout(self.lin2(self.act(self.lin1(x))))


class TransformerBlock(nn.Module):
    """Post-LN block: x = LN(x + attn(x)); x = LN(x + ffn(x))."""

    def __init__(self, config: DistilBertConfig) -> None:
        super().__init__()
        self.attention = MultiHeadSelfAttention(config)
        self.sa_layer_norm = nn.LayerNorm(config.dim, eps=_LN_EPS)
        self.ffn = FFN(config)
        self.output_layer_norm = nn.LayerNorm(config.dim, eps=_LN_EPS)

    def forward(self, x, mask, output_attentions=False):
        y, weights = self.attention(x, mask, output_attentions)
        x = self.sa_layer_norm(y + x)
        return self.output_layer_norm(self.ffn(x) + x), weights


class Transformer(nn.Module):
    def __init__(self, config: DistilBertConfig) -> None:
        super().__init__()
        self.layer = nn.ModuleList([TransformerBlock(config) for _ in range(config.n_layers)])


class DistilBertPreTrainedModel(PreTrainedModel):
    config_class = DistilBertConfig
    base_model_prefix = "distilbert"
    _keys_to_ignore_on_load_unexpected = [r"embeddings\.position_ids$"]

    @torch.no_grad()
    def _init_weights(self, module: nn.Module) -> None:
        super()._init_weights(module)
        if isinstance(module, Embeddings) and self.config.sinusoidal_pos_embds:
            module.position_embeddings.weight.copy_(
                sinusoidal_positions(self.config.max_position_embeddings, self.config.dim)
            )


class DistilBertModel(DistilBertPreTrainedModel):
    def __init__(self, config: DistilBertConfig) -> None:
        super().__init__(config)
        self.embeddings = Embeddings(config)
        self.transformer = Transformer(config)
        self.post_init()

    def get_input_embeddings(self) -> nn.Embedding:
        return self.embeddings.word_embeddings

    def set_input_embeddings(self, value: nn.Embedding) -> None:
        self.embeddings.word_embeddings = value

    def forward(
        self,
        input_ids=None,
        attention_mask=None,
        position_ids=None,
        inputs_embeds=None,
        output_attentions=None,
        output_hidden_states=None,
    ) -> BaseModelOutput:
        _check_inputs(input_ids, inputs_embeds)
        output_attentions, output_hidden_states = _output_flags(self.config, output_attentions, output_hidden_states)
        x = self.embeddings(input_ids, position_ids, inputs_embeds)  # (B, T, C)
        mask = padding_mask(attention_mask, x.dtype)  # (B, 1, 1, T) or None
        hidden_states = [x] if output_hidden_states else None
        attentions = [] if output_attentions else None
        for layer in self.transformer.layer:
            x, weights = layer(x, mask, output_attentions)
            if output_hidden_states:
                hidden_states.append(x)
            if output_attentions:
                attentions.append(weights)
        return BaseModelOutput(
            last_hidden_state=x, hidden_states=_as_tuple(hidden_states), attentions=_as_tuple(attentions)
        )


class DistilBertForMaskedLM(DistilBertPreTrainedModel):
    _tied_weights_keys = {"vocab_projector.weight": "distilbert.embeddings.word_embeddings.weight"}

    def __init__(self, config: DistilBertConfig) -> None:
        super().__init__(config)
        self.act = get_activation(config.activation)
        self.distilbert = DistilBertModel(config)
        self.vocab_transform = nn.Linear(config.dim, config.dim)
        self.vocab_layer_norm = nn.LayerNorm(config.dim, eps=_LN_EPS)
        self.vocab_projector = nn.Linear(config.dim, config.vocab_size)
        self.post_init()

    def get_output_embeddings(self) -> nn.Linear:
        return self.vocab_projector

    def forward(
        self,
        input_ids=None,
        attention_mask=None,
        position_ids=None,
        inputs_embeds=None,
        labels=None,
        output_attentions=None,
        output_hidden_states=None,
    ) -> MaskedLMOutput:
        out = self.distilbert(
            input_ids, attention_mask, position_ids, inputs_embeds, output_attentions, output_hidden_states
        )
        x = self.vocab_layer_norm(self.act(self.vocab_transform(out.last_hidden_state)))
        logits = self.vocab_projector(x)  # (B, T, V)
        loss = masked_lm_loss(logits, labels) if labels is not None else None
        return MaskedLMOutput(loss=loss, logits=logits, hidden_states=out.hidden_states, attentions=out.attentions)


class DistilBertForSequenceClassification(DistilBertPreTrainedModel):
    """pre_classifier -> ReLU -> dropout -> classifier on the first token ([CLS])."""

    def __init__(self, config: DistilBertConfig) -> None:
        super().__init__(config)
        self.num_labels = config.num_labels
        self.distilbert = DistilBertModel(config)
        self.pre_classifier = nn.Linear(config.dim, config.dim)
        self.classifier = nn.Linear(config.dim, config.num_labels)
        self.dropout = Dropout(config.seq_classif_dropout)
        self.post_init()

    def forward(
        self,
        input_ids=None,
        attention_mask=None,
        position_ids=None,
        inputs_embeds=None,
        labels=None,
        output_attentions=None,
        output_hidden_states=None,
    ) -> SequenceClassifierOutput:
        out = self.distilbert(
            input_ids, attention_mask, position_ids, inputs_embeds, output_attentions, output_hidden_states
        )
        pooled = torch.relu(self.pre_classifier(out.last_hidden_state[:, 0]))  # (B, C)
        logits = self.classifier(self.dropout(pooled))  # (B, num_labels)
        loss = sequence_classification_loss(logits, labels, self.config) if labels is not None else None
        return SequenceClassifierOutput(
            loss=loss, logits=logits, hidden_states=out.hidden_states, attentions=out.attentions
        )


class DistilBertForTokenClassification(DistilBertPreTrainedModel):
    def __init__(self, config: DistilBertConfig) -> None:
        super().__init__(config)
        self.num_labels = config.num_labels
        self.distilbert = DistilBertModel(config)
        self.dropout = Dropout(config.dropout)
        self.classifier = nn.Linear(config.dim, config.num_labels)
        self.post_init()

    def forward(
        self,
        input_ids=None,
        attention_mask=None,
        position_ids=None,
        inputs_embeds=None,
        labels=None,
        output_attentions=None,
        output_hidden_states=None,
    ) -> TokenClassifierOutput:
        out = self.distilbert(
            input_ids, attention_mask, position_ids, inputs_embeds, output_attentions, output_hidden_states
        )
        logits = self.classifier(self.dropout(out.last_hidden_state))  # (B, T, num_labels)
        loss = token_classification_loss(logits, labels) if labels is not None else None
        return TokenClassifierOutput(
            loss=loss, logits=logits, hidden_states=out.hidden_states, attentions=out.attentions
        )


class DistilBertForQuestionAnswering(DistilBertPreTrainedModel):
    def __init__(self, config: DistilBertConfig) -> None:
        super().__init__(config)
        if config.num_labels != 2:
            raise ValueError(f"DistilBertForQuestionAnswering needs num_labels == 2 (start, end): {config.num_labels}")
        self.distilbert = DistilBertModel(config)
        self.qa_outputs = nn.Linear(config.dim, config.num_labels)
        self.dropout = Dropout(config.qa_dropout)
        self.post_init()

    def forward(
        self,
        input_ids=None,
        attention_mask=None,
        position_ids=None,
        inputs_embeds=None,
        start_positions=None,
        end_positions=None,
        output_attentions=None,
        output_hidden_states=None,
    ) -> QuestionAnsweringModelOutput:
        out = self.distilbert(
            input_ids, attention_mask, position_ids, inputs_embeds, output_attentions, output_hidden_states
        )
        logits = self.qa_outputs(self.dropout(out.last_hidden_state))  # (B, T, 2)
        return qa_output(logits, start_positions, end_positions, out)


__all__ = [
    "DistilBertConfig",
    "DistilBertModel",
    "DistilBertForMaskedLM",
    "DistilBertForSequenceClassification",
    "DistilBertForTokenClassification",
    "DistilBertForQuestionAnswering",
]
