"""ViT: the Vision Transformer (Dosovitskiy et al., 2020), an image cut into patches read by a BERT-like encoder.

An image (B, 3, H, W) becomes (H/P)·(W/P) patch vectors by a stride-P convolution; a learned [CLS] vector is
put in front, learned position embeddings are added, and pre-LayerNorm Transformer blocks follow. The
classifier reads the final [CLS] state.

Weight names are transformers': `vit.embeddings.patch_embeddings.projection.weight`,
`vit.encoder.layer.0.attention.attention.query.weight`, `vit.layernorm.weight`, `classifier.weight`, ...

    >>> import torch
    >>> config = ViTConfig(image_size=32, patch_size=8, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
    ...                    intermediate_size=64, num_labels=3)
    >>> model = ViTForImageClassification(config).eval()
    >>> model(torch.zeros(1, 3, 32, 32)).logits.shape
    torch.Size([1, 3])
"""

from __future__ import annotations

import torch
from torch import nn

from .activations import get_activation
from .attention import attend
from .configuration import PretrainedConfig
from .dropout import Dropout
from .losses import sequence_classification_loss
from .modeling_outputs import BaseModelOutputWithPooling, ImageClassifierOutput
from .modeling_utils import PreTrainedModel


class ViTConfig(PretrainedConfig):
    model_type = "vit"

    def __init__(
        self,
        hidden_size: int = 768,
        num_hidden_layers: int = 12,
        num_attention_heads: int = 12,
        intermediate_size: int = 3072,
        hidden_act: str = "gelu",
        hidden_dropout_prob: float = 0.0,
        attention_probs_dropout_prob: float = 0.0,
        initializer_range: float = 0.02,
        layer_norm_eps: float = 1e-12,
        image_size: int = 224,
        patch_size: int = 16,
        num_channels: int = 3,
        qkv_bias: bool = True,
        encoder_stride: int = 16,
        pooler_output_size: int | None = None,
        pooler_act: str = "tanh",
        **kwargs,
    ) -> None:
        self.hidden_size = hidden_size
        self.num_hidden_layers = num_hidden_layers
        self.num_attention_heads = num_attention_heads
        self.intermediate_size = intermediate_size
        self.hidden_act = hidden_act
        self.hidden_dropout_prob = hidden_dropout_prob
        self.attention_probs_dropout_prob = attention_probs_dropout_prob
        self.initializer_range = initializer_range
        self.layer_norm_eps = layer_norm_eps
        self.image_size = image_size
        self.patch_size = patch_size
        self.num_channels = num_channels
        self.qkv_bias = qkv_bias
        self.encoder_stride = encoder_stride  # used by masked image modeling heads only; kept for round trips
        self.pooler_output_size = pooler_output_size if pooler_output_size is not None else hidden_size
        self.pooler_act = pooler_act
        super().__init__(**kwargs)


def _pair(value) -> tuple[int, int]:
    return tuple(value) if isinstance(value, (list, tuple)) else (value, value)


class ViTPatchEmbeddings(nn.Module):
    """(B, C, H, W) -> (B, N, D): a convolution with kernel = stride = patch size, one output per patch."""

    def __init__(self, config: ViTConfig) -> None:
        super().__init__()
        self.image_size = _pair(config.image_size)
        patch = _pair(config.patch_size)
        self.num_channels = config.num_channels
        self.num_patches = (self.image_size[0] // patch[0]) * (self.image_size[1] // patch[1])
        self.projection = nn.Conv2d(config.num_channels, config.hidden_size, kernel_size=patch, stride=patch)

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        B, C, H, W = pixel_values.shape
        if C != self.num_channels:
            raise ValueError(f"ViT expects pixel_values with {self.num_channels} channels, got {C}")
        if (H, W) != self.image_size:
            # The position embeddings are learned for one grid of patches: another size has no embeddings.
            raise ValueError(
                f"ViT was configured for {self.image_size[0]}x{self.image_size[1]} images, got {H}x{W}: resize the "
                f"image (the model's image processor does) to the configured size"
            )
        return self.projection(pixel_values).flatten(2).transpose(1, 2)  # (B, D, h, w) -> (B, N, D)


class ViTEmbeddings(nn.Module):
    """[CLS] + patch embeddings, plus learned position embeddings, then dropout."""

    def __init__(self, config: ViTConfig) -> None:
        super().__init__()
        self.cls_token = nn.Parameter(torch.zeros(1, 1, config.hidden_size))
        self.patch_embeddings = ViTPatchEmbeddings(config)
        num_positions = self.patch_embeddings.num_patches + 1
        self.position_embeddings = nn.Parameter(torch.zeros(1, num_positions, config.hidden_size))
        self.dropout = Dropout(config.hidden_dropout_prob)

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        x = self.patch_embeddings(pixel_values)  # (B, N, D)
        cls = self.cls_token.expand(x.shape[0], -1, -1)  # (B, 1, D)
        x = torch.cat([cls, x], dim=1) + self.position_embeddings  # (B, N + 1, D)
        return self.dropout(x)


class ViTSelfAttention(nn.Module):
    def __init__(self, config: ViTConfig) -> None:
        super().__init__()
        if config.hidden_size % config.num_attention_heads != 0:
            raise ValueError(
                f"hidden_size ({config.hidden_size}) is not a multiple of num_attention_heads "
                f"({config.num_attention_heads})"
            )
        self.num_heads = config.num_attention_heads
        self.head_size = config.hidden_size // config.num_attention_heads
        self.query = nn.Linear(config.hidden_size, config.hidden_size, bias=config.qkv_bias)
        self.key = nn.Linear(config.hidden_size, config.hidden_size, bias=config.qkv_bias)
        self.value = nn.Linear(config.hidden_size, config.hidden_size, bias=config.qkv_bias)
        self.dropout_p = config.attention_probs_dropout_prob

    def forward(self, x, output_attentions=False):
        B, T, C = x.shape
        # (B, T, C) -> (B, nh, T, hs)
        q = self.query(x).view(B, T, self.num_heads, self.head_size).transpose(1, 2)
        k = self.key(x).view(B, T, self.num_heads, self.head_size).transpose(1, 2)
        v = self.value(x).view(B, T, self.num_heads, self.head_size).transpose(1, 2)
        dropout = self.dropout_p if self.training else 0.0
        y, weights = attend(q, k, v, None, dropout=dropout, need_weights=output_attentions)  # (B, nh, T, hs)
        return y.transpose(1, 2).reshape(B, T, C), weights


class ViTAttention(nn.Module):
    """Self-attention and its output projection (`attention.attention` and `attention.output` in checkpoints)."""

    def __init__(self, config: ViTConfig) -> None:
        super().__init__()
        self.attention = ViTSelfAttention(config)
        self.output = nn.Module()
        self.output.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.output.dropout = Dropout(config.hidden_dropout_prob)

    def forward(self, x, output_attentions=False):
        y, weights = self.attention(x, output_attentions)
        return self.output.dropout(self.output.dense(y)), weights


class ViTLayer(nn.Module):
    """Pre-LN block: x = x + attn(LN(x)); x = x + mlp(LN(x))."""

    def __init__(self, config: ViTConfig) -> None:
        super().__init__()
        self.attention = ViTAttention(config)
        self.intermediate = nn.Module()
        self.intermediate.dense = nn.Linear(config.hidden_size, config.intermediate_size)
        self.output = nn.Module()
        self.output.dense = nn.Linear(config.intermediate_size, config.hidden_size)
        self.output.dropout = Dropout(config.hidden_dropout_prob)
        self.act = get_activation(config.hidden_act)
        self.layernorm_before = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.layernorm_after = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

    def forward(self, x, output_attentions=False):
        y, weights = self.attention(self.layernorm_before(x), output_attentions)
        x = x + y
        h = self.act(self.intermediate.dense(self.layernorm_after(x)))  # (B, T, intermediate_size)
        return x + self.output.dropout(self.output.dense(h)), weights


class ViTPreTrainedModel(PreTrainedModel):
    config_class = ViTConfig
    base_model_prefix = "vit"
    main_input_name = "pixel_values"

    @torch.no_grad()
    def _init_weights(self, module: nn.Module) -> None:
        # ViT's scheme: truncated normal for projections, convolutions and the learned embeddings.
        std = self.config.initializer_range
        if isinstance(module, (nn.Linear, nn.Conv2d)):
            nn.init.trunc_normal_(module.weight, mean=0.0, std=std)
            if module.bias is not None:
                module.bias.zero_()
        elif isinstance(module, nn.LayerNorm):
            module.weight.fill_(1.0)
            module.bias.zero_()
        elif isinstance(module, ViTEmbeddings):
            nn.init.trunc_normal_(module.position_embeddings, mean=0.0, std=std)
            nn.init.trunc_normal_(module.cls_token, mean=0.0, std=std)


class ViTModel(ViTPreTrainedModel):
    """The encoder: hidden states (B, N + 1, D) and, with `add_pooling_layer`, the pooled [CLS] state."""

    def __init__(self, config: ViTConfig, add_pooling_layer: bool = True) -> None:
        super().__init__(config)
        self.embeddings = ViTEmbeddings(config)
        self.encoder = nn.Module()
        self.encoder.layer = nn.ModuleList([ViTLayer(config) for _ in range(config.num_hidden_layers)])
        self.layernorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.pooler = None
        if add_pooling_layer:
            self.pooler = nn.Module()
            self.pooler.dense = nn.Linear(config.hidden_size, config.pooler_output_size)
            self.pooler_act = get_activation(config.pooler_act)
        self.post_init()

    def get_input_embeddings(self) -> nn.Module:
        return self.embeddings.patch_embeddings

    def forward(
        self,
        pixel_values: torch.Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
    ) -> BaseModelOutputWithPooling:
        if pixel_values is None:
            raise ValueError("ViTModel needs pixel_values (B, C, H, W)")
        output_attentions = bool(output_attentions or getattr(self.config, "output_attentions", False))
        output_hidden_states = bool(output_hidden_states or getattr(self.config, "output_hidden_states", False))
        # The patch projection's dtype decides: a float16 model takes float32 pixels from the image processor.
        x = self.embeddings(pixel_values.to(self.embeddings.patch_embeddings.projection.weight.dtype))
        hidden_states = [x] if output_hidden_states else None
        attentions = [] if output_attentions else None
        for layer in self.encoder.layer:
            x, weights = layer(x, output_attentions)
            if hidden_states is not None:
                hidden_states.append(x)
            if attentions is not None:
                attentions.append(weights)
        x = self.layernorm(x)  # (B, N + 1, D)
        pooled = self.pooler_act(self.pooler.dense(x[:, 0])) if self.pooler is not None else None
        return BaseModelOutputWithPooling(
            last_hidden_state=x,
            pooler_output=pooled,
            hidden_states=tuple(hidden_states) if hidden_states is not None else None,
            attentions=tuple(attentions) if attentions is not None else None,
        )


class ViTForImageClassification(ViTPreTrainedModel):
    """Classifies the final [CLS] state (after the last LayerNorm): logits (B, num_labels)."""

    def __init__(self, config: ViTConfig) -> None:
        super().__init__(config)
        self.num_labels = config.num_labels
        self.vit = ViTModel(config, add_pooling_layer=False)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels) if config.num_labels > 0 else nn.Identity()
        self.post_init()

    def forward(
        self,
        pixel_values: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
    ) -> ImageClassifierOutput:
        out = self.vit(pixel_values, output_attentions, output_hidden_states)
        logits = self.classifier(out.last_hidden_state[:, 0])  # (B, num_labels)
        loss = sequence_classification_loss(logits, labels, self.config) if labels is not None else None
        return ImageClassifierOutput(
            loss=loss, logits=logits, hidden_states=out.hidden_states, attentions=out.attentions
        )


__all__ = ["ViTConfig", "ViTModel", "ViTForImageClassification"]
