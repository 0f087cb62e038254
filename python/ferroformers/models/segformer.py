"""SegFormer (Xie et al., 2021): a hierarchical Transformer encoder (Mix Transformer) and an all-MLP decoder
for semantic segmentation.

The encoder has four stages. Each starts with overlapping patch embeddings (a strided convolution that
shrinks the map: 1/4, 1/8, 1/16, 1/32 of the image) and runs blocks of *efficient* self-attention, whose keys
and values come from the map shrunk once more by `sr_ratios[i]` (a strided convolution), and a Mix-FFN with a
3x3 depthwise convolution in place of position embeddings. The decoder projects each stage to one width,
upsamples all to the 1/4 map, fuses them with a 1x1 convolution and scores each class per pixel.

Weight names are transformers': `segformer.encoder.patch_embeddings.0.proj.weight`,
`segformer.encoder.block.0.0.attention.self.sr.weight`, `decode_head.linear_c.0.proj.weight`, ...

    >>> import torch
    >>> config = SegformerConfig(hidden_sizes=[8, 16, 24, 32], num_attention_heads=[1, 1, 2, 2], depths=[1, 1, 1, 1],
    ...                          decoder_hidden_size=16, num_labels=3)
    >>> model = SegformerForSemanticSegmentation(config).eval()
    >>> model(torch.zeros(1, 3, 64, 64)).logits.shape
    torch.Size([1, 3, 16, 16])
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .activations import get_activation
from .attention import attend
from .configuration import PretrainedConfig
from .dropout import Dropout
from .modeling_outputs import BaseModelOutput, SemanticSegmenterOutput
from .modeling_utils import PreTrainedModel


class SegformerConfig(PretrainedConfig):
    model_type = "segformer"

    def __init__(
        self,
        num_channels: int = 3,
        num_encoder_blocks: int = 4,
        depths: list[int] = (2, 2, 2, 2),
        sr_ratios: list[int] = (8, 4, 2, 1),
        hidden_sizes: list[int] = (32, 64, 160, 256),
        patch_sizes: list[int] = (7, 3, 3, 3),
        strides: list[int] = (4, 2, 2, 2),
        num_attention_heads: list[int] = (1, 2, 5, 8),
        mlp_ratios: list[int] = (4, 4, 4, 4),
        hidden_act: str = "gelu",
        hidden_dropout_prob: float = 0.0,
        attention_probs_dropout_prob: float = 0.0,
        classifier_dropout_prob: float = 0.1,
        initializer_range: float = 0.02,
        drop_path_rate: float = 0.1,
        layer_norm_eps: float = 1e-6,
        decoder_hidden_size: int = 256,
        semantic_loss_ignore_index: int = 255,
        reshape_last_stage: bool = True,
        **kwargs,
    ) -> None:
        self.num_channels = num_channels
        self.num_encoder_blocks = num_encoder_blocks
        self.depths = list(depths)
        self.sr_ratios = list(sr_ratios)
        self.hidden_sizes = list(hidden_sizes)
        self.patch_sizes = list(patch_sizes)
        self.strides = list(strides)
        self.num_attention_heads = list(num_attention_heads)
        self.mlp_ratios = list(mlp_ratios)
        self.hidden_act = hidden_act
        self.hidden_dropout_prob = hidden_dropout_prob
        self.attention_probs_dropout_prob = attention_probs_dropout_prob
        self.classifier_dropout_prob = classifier_dropout_prob
        self.initializer_range = initializer_range
        # Stochastic depth is a training regulariser; inference (the only use of the path here) skips it.
        self.drop_path_rate = drop_path_rate
        self.layer_norm_eps = layer_norm_eps
        self.decoder_hidden_size = decoder_hidden_size
        self.semantic_loss_ignore_index = semantic_loss_ignore_index
        self.reshape_last_stage = reshape_last_stage
        super().__init__(**kwargs)


class SegformerOverlapPatchEmbeddings(nn.Module):
    """(B, C_in, H, W) -> (B, h·w, C), h = H / stride: patches that overlap (kernel > stride), then LayerNorm."""

    def __init__(self, patch_size: int, stride: int, in_channels: int, hidden_size: int) -> None:
        super().__init__()
        self.proj = nn.Conv2d(in_channels, hidden_size, kernel_size=patch_size, stride=stride, padding=patch_size // 2)
        self.layer_norm = nn.LayerNorm(hidden_size)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, int, int]:
        x = self.proj(x)  # (B, C, h, w)
        _, _, h, w = x.shape
        return self.layer_norm(x.flatten(2).transpose(1, 2)), h, w


class SegformerEfficientSelfAttention(nn.Module):
    """Self-attention whose keys and values come from the map reduced `sr_ratio` times in each direction:
    cost (h·w)² / sr_ratio² instead of (h·w)²."""

    def __init__(self, config: SegformerConfig, hidden_size: int, num_heads: int, sr_ratio: int) -> None:
        super().__init__()
        if hidden_size % num_heads != 0:
            raise ValueError(f"hidden size {hidden_size} is not a multiple of the number of heads {num_heads}")
        self.num_heads = num_heads
        self.head_size = hidden_size // num_heads
        self.query = nn.Linear(hidden_size, hidden_size)
        self.key = nn.Linear(hidden_size, hidden_size)
        self.value = nn.Linear(hidden_size, hidden_size)
        self.dropout_p = config.attention_probs_dropout_prob
        self.sr_ratio = sr_ratio
        if sr_ratio > 1:
            self.sr = nn.Conv2d(hidden_size, hidden_size, kernel_size=sr_ratio, stride=sr_ratio)
            self.layer_norm = nn.LayerNorm(hidden_size)

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        B, T, _ = x.shape
        return x.view(B, T, self.num_heads, self.head_size).transpose(1, 2)  # (B, nh, T, hs)

    def forward(self, x, h, w, output_attentions=False):
        B, T, C = x.shape
        q = self._heads(self.query(x))
        kv = x
        if self.sr_ratio > 1:
            kv = self.sr(x.transpose(1, 2).reshape(B, C, h, w))  # (B, C, h / sr, w / sr)
            kv = self.layer_norm(kv.flatten(2).transpose(1, 2))  # (B, T / sr², C)
        k, v = self._heads(self.key(kv)), self._heads(self.value(kv))
        dropout = self.dropout_p if self.training else 0.0
        y, weights = attend(q, k, v, None, dropout=dropout, need_weights=output_attentions)  # (B, nh, T, hs)
        return y.transpose(1, 2).reshape(B, T, C), weights


class SegformerAttention(nn.Module):
    def __init__(self, config: SegformerConfig, hidden_size: int, num_heads: int, sr_ratio: int) -> None:
        super().__init__()
        self.self = SegformerEfficientSelfAttention(config, hidden_size, num_heads, sr_ratio)
        self.output = nn.Module()
        self.output.dense = nn.Linear(hidden_size, hidden_size)
        self.output.dropout = Dropout(config.hidden_dropout_prob)

    def forward(self, x, h, w, output_attentions=False):
        y, weights = self.self(x, h, w, output_attentions)
        return self.output.dropout(self.output.dense(y)), weights


class SegformerMixFFN(nn.Module):
    """dense -> 3x3 depthwise conv over the map -> act -> dense: the convolution gives the position information
    that SegFormer has no embeddings for (so any image size works)."""

    def __init__(self, config: SegformerConfig, hidden_size: int, mlp_ratio: int) -> None:
        super().__init__()
        inner = hidden_size * mlp_ratio
        self.dense1 = nn.Linear(hidden_size, inner)
        self.dwconv = nn.Module()
        self.dwconv.dwconv = nn.Conv2d(inner, inner, kernel_size=3, padding=1, groups=inner)
        self.act = get_activation(config.hidden_act)
        self.dense2 = nn.Linear(inner, hidden_size)
        self.dropout = Dropout(config.hidden_dropout_prob)

    def forward(self, x, h, w):
        x = self.dense1(x)  # (B, T, inner)
        B, T, C = x.shape
        x = self.dwconv.dwconv(x.transpose(1, 2).reshape(B, C, h, w)).flatten(2).transpose(1, 2)  # (B, T, inner)
        x = self.dropout(self.act(x))
        return self.dropout(self.dense2(x))


class SegformerLayer(nn.Module):
    """Pre-LN block: x = x + attn(LN(x)); x = x + mixffn(LN(x))."""

    def __init__(self, config: SegformerConfig, hidden_size: int, num_heads: int, sr_ratio: int, mlp_ratio: int):
        super().__init__()
        self.layer_norm_1 = nn.LayerNorm(hidden_size)
        self.attention = SegformerAttention(config, hidden_size, num_heads, sr_ratio)
        self.layer_norm_2 = nn.LayerNorm(hidden_size)
        self.mlp = SegformerMixFFN(config, hidden_size, mlp_ratio)

    def forward(self, x, h, w, output_attentions=False):
        y, weights = self.attention(self.layer_norm_1(x), h, w, output_attentions)
        x = x + y
        return x + self.mlp(self.layer_norm_2(x), h, w), weights


class SegformerEncoder(nn.Module):
    """The four stages; each stage's output map (B, C_i, H_i, W_i) is a hidden state the decoder reads."""

    def __init__(self, config: SegformerConfig) -> None:
        super().__init__()
        self.config = config
        in_channels = [config.num_channels, *config.hidden_sizes[:-1]]
        self.patch_embeddings = nn.ModuleList(
            SegformerOverlapPatchEmbeddings(config.patch_sizes[i], config.strides[i], in_channels[i], hidden_size)
            for i, hidden_size in enumerate(config.hidden_sizes)
        )
        self.block = nn.ModuleList(
            nn.ModuleList(
                SegformerLayer(
                    config,
                    config.hidden_sizes[i],
                    config.num_attention_heads[i],
                    config.sr_ratios[i],
                    config.mlp_ratios[i],
                )
                for _ in range(config.depths[i])
            )
            for i in range(config.num_encoder_blocks)
        )
        self.layer_norm = nn.ModuleList(nn.LayerNorm(hidden_size) for hidden_size in config.hidden_sizes)

    def forward(self, x, output_attentions=False):
        """(B, C, H, W) -> (last stage's output, every stage's output, attentions or None)."""
        B = x.shape[0]
        stages, attentions = [], [] if output_attentions else None
        last = len(self.block) - 1
        for i, (embed, blocks, norm) in enumerate(zip(self.patch_embeddings, self.block, self.layer_norm)):
            x, h, w = embed(x)  # (B, h·w, C_i)
            for block in blocks:
                x, weights = block(x, h, w, output_attentions)
                if attentions is not None:
                    attentions.append(weights)
            x = norm(x)
            if i != last or self.config.reshape_last_stage:
                x = x.transpose(1, 2).reshape(B, -1, h, w)  # (B, C_i, h, w): the next stage convolves it
            stages.append(x)
        return x, tuple(stages), tuple(attentions) if attentions is not None else None


class SegformerPreTrainedModel(PreTrainedModel):
    config_class = SegformerConfig
    base_model_prefix = "segformer"
    main_input_name = "pixel_values"

    @torch.no_grad()
    def _init_weights(self, module: nn.Module) -> None:
        std = self.config.initializer_range
        if isinstance(module, (nn.Linear, nn.Conv2d)):
            module.weight.normal_(mean=0.0, std=std)
            if module.bias is not None:
                module.bias.zero_()
        elif isinstance(module, (nn.LayerNorm, nn.BatchNorm2d)):
            module.weight.fill_(1.0)
            module.bias.zero_()


class SegformerModel(SegformerPreTrainedModel):
    """The Mix Transformer encoder: `last_hidden_state` is the last stage's map (B, C_4, H/32, W/32)."""

    def __init__(self, config: SegformerConfig) -> None:
        super().__init__(config)
        self.encoder = SegformerEncoder(config)
        self.post_init()

    def forward(
        self,
        pixel_values: torch.Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
    ) -> BaseModelOutput:
        if pixel_values is None:
            raise ValueError("SegformerModel needs pixel_values (B, C, H, W)")
        if pixel_values.dim() != 4 or pixel_values.shape[1] != self.config.num_channels:
            raise ValueError(
                f"SegFormer expects pixel_values of shape (batch, {self.config.num_channels}, height, width), "
                f"got {tuple(pixel_values.shape)}"
            )
        output_attentions = bool(output_attentions or getattr(self.config, "output_attentions", False))
        output_hidden_states = bool(output_hidden_states or getattr(self.config, "output_hidden_states", False))
        first_weight = self.encoder.patch_embeddings[0].proj.weight
        x, stages, attentions = self.encoder(pixel_values.to(first_weight.dtype), output_attentions)
        return BaseModelOutput(
            last_hidden_state=x, hidden_states=stages if output_hidden_states else None, attentions=attentions
        )


class SegformerDecodeHead(nn.Module):
    """The all-MLP decoder: each stage -> decoder_hidden_size, upsampled to the 1/4 map, fused, classified."""

    def __init__(self, config: SegformerConfig) -> None:
        super().__init__()
        self.linear_c = nn.ModuleList()
        for hidden_size in config.hidden_sizes:
            mlp = nn.Module()
            mlp.proj = nn.Linear(hidden_size, config.decoder_hidden_size)
            self.linear_c.append(mlp)
        fused = config.decoder_hidden_size * config.num_encoder_blocks
        self.linear_fuse = nn.Conv2d(fused, config.decoder_hidden_size, kernel_size=1, bias=False)
        self.batch_norm = nn.BatchNorm2d(config.decoder_hidden_size)
        self.dropout = Dropout(config.classifier_dropout_prob)
        self.classifier = nn.Conv2d(config.decoder_hidden_size, config.num_labels, kernel_size=1)
        self.config = config

    def forward(self, stages: tuple[torch.Tensor, ...]) -> torch.Tensor:
        size = stages[0].shape[2:]  # the 1/4 map: every stage is brought to it
        projected = []
        for stage, mlp in zip(stages, self.linear_c):
            if stage.dim() == 3:  # the last stage left flat (reshape_last_stage=False): a square map
                side = int(stage.shape[1] ** 0.5)
                stage = stage.transpose(1, 2).reshape(stage.shape[0], -1, side, side)
            B, _, h, w = stage.shape
            x = mlp.proj(stage.flatten(2).transpose(1, 2))  # (B, h·w, D)
            x = x.transpose(1, 2).reshape(B, -1, h, w)  # (B, D, h, w)
            projected.append(F.interpolate(x, size=size, mode="bilinear", align_corners=False))
        # Deepest stage first: the order the fusing convolution's input channels were trained in.
        x = self.linear_fuse(torch.cat(projected[::-1], dim=1))  # (B, D, H/4, W/4)
        x = self.dropout(torch.relu(self.batch_norm(x)))
        return self.classifier(x)  # (B, num_labels, H/4, W/4)


class SegformerForSemanticSegmentation(SegformerPreTrainedModel):
    """Per-pixel class scores at 1/4 of the input resolution; the image processor upsamples them."""

    def __init__(self, config: SegformerConfig) -> None:
        super().__init__(config)
        self.segformer = SegformerModel(config)
        self.decode_head = SegformerDecodeHead(config)
        self.post_init()

    def forward(
        self,
        pixel_values: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
    ) -> SemanticSegmenterOutput:
        out = self.segformer(pixel_values, output_attentions, output_hidden_states=True)
        logits = self.decode_head(out.hidden_states)  # (B, num_labels, H/4, W/4)
        loss = None
        if labels is not None:
            upsampled = F.interpolate(logits, size=labels.shape[-2:], mode="bilinear", align_corners=False)
            if self.config.num_labels > 1:
                loss = F.cross_entropy(upsampled, labels, ignore_index=self.config.semantic_loss_ignore_index)
            else:
                valid = (labels >= 0) & (labels != self.config.semantic_loss_ignore_index)
                per_pixel = F.binary_cross_entropy_with_logits(upsampled.squeeze(1), labels.float(), reduction="none")
                loss = (per_pixel * valid).mean()
        want_hidden = bool(output_hidden_states or getattr(self.config, "output_hidden_states", False))
        return SemanticSegmenterOutput(
            loss=loss,
            logits=logits,
            hidden_states=out.hidden_states if want_hidden else None,
            attentions=out.attentions,
        )


__all__ = ["SegformerConfig", "SegformerModel", "SegformerForSemanticSegmentation"]
