"""Wav2Vec2 (Baevski et al., 2020): a convolutional feature encoder over raw audio, then a Transformer.

Seven strided 1-D convolutions turn 16 kHz samples into one 512-wide frame per 20 ms (320 samples); the
frames are normalized and projected to the model width, a wide grouped convolution adds relative position
information, and BERT-like layers follow (post-LN in the base models, pre-LN with `do_stable_layer_norm` in
the large ones). The sequence classifier (transformers' audio-classification head) projects each frame,
averages the frames that are not padding, and classifies the average.

Weight names are transformers': `wav2vec2.feature_extractor.conv_layers.0.conv.weight`,
`wav2vec2.encoder.pos_conv_embed.conv.parametrizations.weight.original0` (weight norm; the older
`weight_g` / `weight_v` names load too), `wav2vec2.encoder.layers.0.attention.q_proj.weight`, `projector.weight`.

    >>> import torch
    >>> config = Wav2Vec2Config(hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32,
    ...                         conv_dim=(8, 8), conv_stride=(5, 2), conv_kernel=(10, 3), num_conv_pos_embeddings=8,
    ...                         num_conv_pos_embedding_groups=2, classifier_proj_size=8, num_labels=3)
    >>> model = Wav2Vec2ForSequenceClassification(config).eval()
    >>> model(torch.zeros(1, 1600)).logits.shape
    torch.Size([1, 3])
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ..errors import UnsupportedModelError
from .activations import get_activation
from .attention import attend, padding_mask
from .configuration import PretrainedConfig
from .dropout import Dropout
from .losses import sequence_classification_loss
from .modeling_outputs import SequenceClassifierOutput, Wav2Vec2BaseModelOutput
from .modeling_utils import PreTrainedModel


class Wav2Vec2Config(PretrainedConfig):
    model_type = "wav2vec2"

    def __init__(
        self,
        vocab_size: int = 32,
        hidden_size: int = 768,
        num_hidden_layers: int = 12,
        num_attention_heads: int = 12,
        intermediate_size: int = 3072,
        hidden_act: str = "gelu",
        hidden_dropout: float = 0.1,
        activation_dropout: float = 0.1,
        attention_dropout: float = 0.1,
        feat_proj_dropout: float = 0.0,
        final_dropout: float = 0.1,
        layerdrop: float = 0.1,
        initializer_range: float = 0.02,
        layer_norm_eps: float = 1e-5,
        feat_extract_norm: str = "group",
        feat_extract_activation: str = "gelu",
        conv_dim: tuple[int, ...] = (512, 512, 512, 512, 512, 512, 512),
        conv_stride: tuple[int, ...] = (5, 2, 2, 2, 2, 2, 2),
        conv_kernel: tuple[int, ...] = (10, 3, 3, 3, 3, 2, 2),
        conv_bias: bool = False,
        num_conv_pos_embeddings: int = 128,
        num_conv_pos_embedding_groups: int = 16,
        do_stable_layer_norm: bool = False,
        apply_spec_augment: bool = True,
        mask_time_prob: float = 0.05,
        mask_feature_prob: float = 0.0,
        use_weighted_layer_sum: bool = False,
        classifier_proj_size: int = 256,
        add_adapter: bool = False,
        **kwargs,
    ) -> None:
        self.vocab_size = vocab_size  # the CTC head's; kept so configs round-trip
        self.hidden_size = hidden_size
        self.num_hidden_layers = num_hidden_layers
        self.num_attention_heads = num_attention_heads
        self.intermediate_size = intermediate_size
        self.hidden_act = hidden_act
        self.hidden_dropout = hidden_dropout
        self.activation_dropout = activation_dropout
        self.attention_dropout = attention_dropout
        self.feat_proj_dropout = feat_proj_dropout
        self.final_dropout = final_dropout
        self.layerdrop = layerdrop  # a training regulariser: every layer runs here
        self.initializer_range = initializer_range
        self.layer_norm_eps = layer_norm_eps
        self.feat_extract_norm = feat_extract_norm
        self.feat_extract_activation = feat_extract_activation
        self.conv_dim = list(conv_dim)
        self.conv_stride = list(conv_stride)
        self.conv_kernel = list(conv_kernel)
        self.conv_bias = conv_bias
        self.num_feat_extract_layers = len(self.conv_dim)
        self.num_conv_pos_embeddings = num_conv_pos_embeddings
        self.num_conv_pos_embedding_groups = num_conv_pos_embedding_groups
        self.do_stable_layer_norm = do_stable_layer_norm
        # SpecAugment masks frames while training; here only its learned mask vector is kept (and loaded).
        self.apply_spec_augment = apply_spec_augment
        self.mask_time_prob = mask_time_prob
        self.mask_feature_prob = mask_feature_prob
        self.use_weighted_layer_sum = use_weighted_layer_sum
        self.classifier_proj_size = classifier_proj_size
        self.add_adapter = add_adapter
        kwargs.pop("num_feat_extract_layers", None)  # derived from conv_dim
        super().__init__(**kwargs)
        if not (len(self.conv_dim) == len(self.conv_stride) == len(self.conv_kernel)):
            raise ValueError(
                f"conv_dim, conv_stride and conv_kernel must have one entry per convolution; got lengths "
                f"{len(self.conv_dim)}, {len(self.conv_stride)}, {len(self.conv_kernel)}"
            )
        if feat_extract_norm not in ("group", "layer"):
            raise ValueError(f"feat_extract_norm must be 'group' or 'layer', got {feat_extract_norm!r}")


class Wav2Vec2ConvLayer(nn.Module):
    """conv -> [norm] -> act. "group" mode normalizes only the first layer (GroupNorm with one group per channel,
    i.e. each channel over time); "layer" mode normalizes every layer over channels (LayerNorm)."""

    def __init__(self, config: Wav2Vec2Config, i: int) -> None:
        super().__init__()
        in_dim = config.conv_dim[i - 1] if i > 0 else 1
        out_dim = config.conv_dim[i]
        self.conv = nn.Conv1d(
            in_dim, out_dim, kernel_size=config.conv_kernel[i], stride=config.conv_stride[i], bias=config.conv_bias
        )
        self.norm_mode = config.feat_extract_norm if (config.feat_extract_norm == "layer" or i == 0) else None
        if self.norm_mode == "group":
            self.layer_norm = nn.GroupNorm(num_groups=out_dim, num_channels=out_dim, affine=True)
        elif self.norm_mode == "layer":
            self.layer_norm = nn.LayerNorm(out_dim, elementwise_affine=True)
        self.act = get_activation(config.feat_extract_activation)

    def forward(self, x):
        x = self.conv(x)  # (B, C_out, T_out)
        if self.norm_mode == "group":
            x = self.layer_norm(x)
        elif self.norm_mode == "layer":
            x = self.layer_norm(x.transpose(-2, -1)).transpose(-2, -1)
        return self.act(x)


class Wav2Vec2FeatureEncoder(nn.Module):
    """(B, samples) -> (B, conv_dim[-1], frames)."""

    def __init__(self, config: Wav2Vec2Config) -> None:
        super().__init__()
        self.conv_layers = nn.ModuleList(Wav2Vec2ConvLayer(config, i) for i in range(config.num_feat_extract_layers))

    def forward(self, input_values):
        x = input_values[:, None]  # (B, 1, T)
        for conv in self.conv_layers:
            x = conv(x)
        return x


class Wav2Vec2FeatureProjection(nn.Module):
    """LayerNorm over the conv features, then the projection to the model width."""

    def __init__(self, config: Wav2Vec2Config) -> None:
        super().__init__()
        self.layer_norm = nn.LayerNorm(config.conv_dim[-1], eps=config.layer_norm_eps)
        self.projection = nn.Linear(config.conv_dim[-1], config.hidden_size)
        self.dropout = Dropout(config.feat_proj_dropout)

    def forward(self, x):
        normed = self.layer_norm(x)  # (B, T, conv_dim[-1])
        return self.dropout(self.projection(normed)), normed


class Wav2Vec2PositionalConvEmbedding(nn.Module):
    """A wide grouped convolution over time (weight-normalized over the kernel axis), cut to the input length,
    then GELU: the relative position signal added to the frames."""

    def __init__(self, config: Wav2Vec2Config) -> None:
        super().__init__()
        k = config.num_conv_pos_embeddings
        conv = nn.Conv1d(
            config.hidden_size,
            config.hidden_size,
            kernel_size=k,
            padding=k // 2,
            groups=config.num_conv_pos_embedding_groups,
        )
        self.conv = nn.utils.parametrizations.weight_norm(conv, name="weight", dim=2)
        self.trim = 1 if k % 2 == 0 else 0  # an even kernel with padding k // 2 gives one extra frame
        self.act = get_activation(config.feat_extract_activation)

    def forward(self, x):
        y = self.conv(x.transpose(1, 2))  # (B, C, T + trim)
        if self.trim:
            y = y[:, :, : -self.trim]
        return self.act(y).transpose(1, 2)  # (B, T, C)


class Wav2Vec2Attention(nn.Module):
    def __init__(self, config: Wav2Vec2Config) -> None:
        super().__init__()
        if config.hidden_size % config.num_attention_heads != 0:
            raise ValueError(
                f"hidden_size ({config.hidden_size}) is not a multiple of num_attention_heads "
                f"({config.num_attention_heads})"
            )
        self.num_heads = config.num_attention_heads
        self.head_size = config.hidden_size // config.num_attention_heads
        self.q_proj = nn.Linear(config.hidden_size, config.hidden_size)
        self.k_proj = nn.Linear(config.hidden_size, config.hidden_size)
        self.v_proj = nn.Linear(config.hidden_size, config.hidden_size)
        self.out_proj = nn.Linear(config.hidden_size, config.hidden_size)
        self.dropout_p = config.attention_dropout

    def forward(self, x, mask, output_attentions=False):
        B, T, C = x.shape
        # (B, T, C) -> (B, nh, T, hs)
        q = self.q_proj(x).view(B, T, self.num_heads, self.head_size).transpose(1, 2)
        k = self.k_proj(x).view(B, T, self.num_heads, self.head_size).transpose(1, 2)
        v = self.v_proj(x).view(B, T, self.num_heads, self.head_size).transpose(1, 2)
        dropout = self.dropout_p if self.training else 0.0
        y, weights = attend(q, k, v, mask, dropout=dropout, need_weights=output_attentions)
        return self.out_proj(y.transpose(1, 2).reshape(B, T, C)), weights


class Wav2Vec2FeedForward(nn.Module):
    def __init__(self, config: Wav2Vec2Config) -> None:
        super().__init__()
        self.intermediate_dense = nn.Linear(config.hidden_size, config.intermediate_size)
        self.act = get_activation(config.hidden_act)
        self.intermediate_dropout = Dropout(config.activation_dropout)
        self.output_dense = nn.Linear(config.intermediate_size, config.hidden_size)
        self.output_dropout = Dropout(config.hidden_dropout)

    def forward(self, x):
        x = self.intermediate_dropout(self.act(self.intermediate_dense(x)))  # (B, T, intermediate_size)
        return self.output_dropout(self.output_dense(x))


class Wav2Vec2EncoderLayer(nn.Module):
    """Post-LN (`pre_norm=False`): x = LN(x + attn(x)); x = LN'(x + ffn(x)).
    Pre-LN (stable layer norm): x = x + attn(LN(x)); x = x + ffn(LN'(x))."""

    def __init__(self, config: Wav2Vec2Config) -> None:
        super().__init__()
        self.pre_norm = config.do_stable_layer_norm
        self.attention = Wav2Vec2Attention(config)
        self.dropout = Dropout(config.hidden_dropout)
        self.layer_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.feed_forward = Wav2Vec2FeedForward(config)
        self.final_layer_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

    def forward(self, x, mask, output_attentions=False):
        if self.pre_norm:
            y, weights = self.attention(self.layer_norm(x), mask, output_attentions)
            x = x + self.dropout(y)
            return x + self.feed_forward(self.final_layer_norm(x)), weights
        y, weights = self.attention(x, mask, output_attentions)
        x = self.layer_norm(x + self.dropout(y))
        return self.final_layer_norm(x + self.feed_forward(x)), weights


class Wav2Vec2Encoder(nn.Module):
    def __init__(self, config: Wav2Vec2Config) -> None:
        super().__init__()
        self.pre_norm = config.do_stable_layer_norm
        self.pos_conv_embed = Wav2Vec2PositionalConvEmbedding(config)
        self.layer_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = Dropout(config.hidden_dropout)
        self.layers = nn.ModuleList(Wav2Vec2EncoderLayer(config) for _ in range(config.num_hidden_layers))

    def forward(self, x, frame_mask, output_attentions=False, output_hidden_states=False):
        """x (B, T, C), frame_mask (B, T) of 1 (frame) / 0 (padding) or None -> (x, hidden states, attentions)."""
        if frame_mask is not None:
            # Padding frames must not leak into real ones through the positional convolution.
            x = x.masked_fill(~frame_mask.bool()[..., None], 0.0)
        mask = padding_mask(frame_mask, x.dtype)  # (B, 1, 1, T) or None
        x = x + self.pos_conv_embed(x)
        if not self.pre_norm:
            x = self.layer_norm(x)
        x = self.dropout(x)
        hidden_states = [] if output_hidden_states else None
        attentions = [] if output_attentions else None
        for layer in self.layers:
            if hidden_states is not None:
                hidden_states.append(x)
            x, weights = layer(x, mask, output_attentions)
            if attentions is not None:
                attentions.append(weights)
        if hidden_states is not None:
            # The last layer's output, before the pre-LN encoder's final LayerNorm: transformers (5.x) records
            # each layer's output, and weighted-layer-sum heads were trained on that.
            hidden_states.append(x)
        if self.pre_norm:
            x = self.layer_norm(x)
        return x, _as_tuple(hidden_states), _as_tuple(attentions)


class Wav2Vec2PreTrainedModel(PreTrainedModel):
    config_class = Wav2Vec2Config
    base_model_prefix = "wav2vec2"
    main_input_name = "input_values"

    @torch.no_grad()
    def _init_weights(self, module: nn.Module) -> None:
        std = self.config.initializer_range
        if isinstance(module, Wav2Vec2PositionalConvEmbedding):
            conv = module.conv
            fan = conv.kernel_size[0] * conv.in_channels // conv.groups
            nn.init.normal_(conv.weight, mean=0.0, std=2 * math.sqrt(1 / fan))
            nn.init.zeros_(conv.bias)
        elif isinstance(module, nn.Linear):
            module.weight.normal_(mean=0.0, std=std)
            if module.bias is not None:
                module.bias.zero_()
        elif isinstance(module, (nn.LayerNorm, nn.GroupNorm)):
            module.weight.fill_(1.0)
            module.bias.zero_()
        elif isinstance(module, nn.Conv1d) and not hasattr(module, "parametrizations"):
            nn.init.kaiming_normal_(module.weight)
            if module.bias is not None:
                bound = math.sqrt(module.groups / (module.in_channels * module.kernel_size[0]))
                nn.init.uniform_(module.bias, a=-bound, b=bound)

    def _rename_checkpoint_keys(self, state_dict, expected):
        # Checkpoints saved before torch's parametrized weight norm name its two tensors weight_g / weight_v.
        legacy = {".weight_g": ".parametrizations.weight.original0", ".weight_v": ".parametrizations.weight.original1"}
        renamed = {}
        for key, value in state_dict.items():
            for old, new in legacy.items():
                if key.endswith(old):
                    key = key[: -len(old)] + new
            renamed[key] = value
        return super()._rename_checkpoint_keys(renamed, expected)

    def frame_lengths(self, sample_lengths: torch.Tensor) -> torch.Tensor:
        """How many frames the convolutions make of each waveform: L -> floor((L - kernel) / stride) + 1 per layer."""
        lengths = sample_lengths
        for kernel, stride in zip(self.config.conv_kernel, self.config.conv_stride):
            lengths = torch.div(lengths - kernel, stride, rounding_mode="floor") + 1
        return lengths

    def frame_mask(self, num_frames: int, attention_mask: torch.Tensor) -> torch.Tensor:
        """(B, samples) sample mask -> (B, frames) mask, 1 for the frames of each waveform's real samples."""
        lengths = self.frame_lengths(attention_mask.sum(-1)).to(torch.long)
        return (torch.arange(num_frames, device=attention_mask.device)[None, :] < lengths[:, None]).to(torch.long)


class Wav2Vec2Model(Wav2Vec2PreTrainedModel):
    """Raw samples (B, T) -> frame states (B, frames, hidden_size)."""

    def __init__(self, config: Wav2Vec2Config) -> None:
        super().__init__(config)
        if config.add_adapter:
            raise UnsupportedModelError("Wav2Vec2 with add_adapter=True is not implemented in ferroformers")
        self.feature_extractor = Wav2Vec2FeatureEncoder(config)
        self.feature_projection = Wav2Vec2FeatureProjection(config)
        if config.apply_spec_augment and (config.mask_time_prob > 0 or config.mask_feature_prob > 0):
            # SpecAugment's learned mask vector: used in training only, stored by every such checkpoint.
            self.masked_spec_embed = nn.Parameter(torch.empty(config.hidden_size).uniform_())
        self.encoder = Wav2Vec2Encoder(config)
        self.post_init()

    def forward(
        self,
        input_values: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
    ) -> Wav2Vec2BaseModelOutput:
        if input_values is None or input_values.dim() != 2:
            shape = None if input_values is None else tuple(input_values.shape)
            raise ValueError(f"Wav2Vec2 needs input_values of shape (batch, samples), got {shape}")
        output_attentions = bool(output_attentions or getattr(self.config, "output_attentions", False))
        output_hidden_states = bool(output_hidden_states or getattr(self.config, "output_hidden_states", False))
        first_conv = self.feature_extractor.conv_layers[0].conv.weight
        if input_values.shape[1] < self.config.conv_kernel[0]:
            raise ValueError(
                f"the waveform has {input_values.shape[1]} samples, fewer than the first convolution's kernel "
                f"({self.config.conv_kernel[0]})"
            )
        features = self.feature_extractor(input_values.to(first_conv.dtype)).transpose(1, 2)  # (B, frames, C_conv)
        frame_mask = None
        if attention_mask is not None:
            frame_mask = self.frame_mask(features.shape[1], attention_mask)
        x, normed = self.feature_projection(features)  # (B, frames, C)
        x, hidden_states, attentions = self.encoder(x, frame_mask, output_attentions, output_hidden_states)
        return Wav2Vec2BaseModelOutput(
            last_hidden_state=x, extract_features=normed, hidden_states=hidden_states, attentions=attentions
        )


class Wav2Vec2ForSequenceClassification(Wav2Vec2PreTrainedModel):
    """Utterance classification (keyword spotting, speaker id, emotion): project frames, average the real ones,
    classify. With `use_weighted_layer_sum` the frames are a learned softmax mix of every layer's states."""

    def __init__(self, config: Wav2Vec2Config) -> None:
        super().__init__(config)
        self.wav2vec2 = Wav2Vec2Model(config)
        if config.use_weighted_layer_sum:
            num_layers = config.num_hidden_layers + 1  # the states entering each layer, and the last one's output
            self.layer_weights = nn.Parameter(torch.ones(num_layers) / num_layers)
        self.projector = nn.Linear(config.hidden_size, config.classifier_proj_size)
        self.classifier = nn.Linear(config.classifier_proj_size, config.num_labels)
        self.post_init()

    def forward(
        self,
        input_values: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
    ) -> SequenceClassifierOutput:
        weighted = self.config.use_weighted_layer_sum
        out = self.wav2vec2(input_values, attention_mask, output_attentions, output_hidden_states or weighted)
        if weighted:
            stacked = torch.stack(out.hidden_states, dim=1)  # (B, L + 1, T, C)
            mix = torch.softmax(self.layer_weights, dim=-1)
            x = (stacked * mix.view(-1, 1, 1)).sum(dim=1)
        else:
            x = out.last_hidden_state
        x = self.projector(x)  # (B, frames, classifier_proj_size)
        if attention_mask is None:
            pooled = x.mean(dim=1)
        else:
            keep = self.wav2vec2.frame_mask(x.shape[1], attention_mask).bool()  # (B, frames)
            x = x.masked_fill(~keep[..., None], 0.0)
            pooled = x.sum(dim=1) / keep.sum(dim=1, keepdim=True).to(x.dtype)
        logits = self.classifier(pooled)  # (B, num_labels)
        loss = sequence_classification_loss(logits, labels, self.config) if labels is not None else None
        hidden_states = (
            out.hidden_states if (output_hidden_states or getattr(self.config, "output_hidden_states", False)) else None
        )
        return SequenceClassifierOutput(
            loss=loss, logits=logits, hidden_states=hidden_states, attentions=out.attentions
        )


def _as_tuple(items):
    return tuple(items) if items is not None else None


__all__ = ["Wav2Vec2Config", "Wav2Vec2Model", "Wav2Vec2ForSequenceClassification"]
