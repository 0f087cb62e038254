"""`PreTrainedModel`: the base of every model, with loading and saving in transformers' checkpoint format.

Loading (`from_pretrained`) reads `config.json` and the weights of a local folder or Hub repository:
`model.safetensors`, a sharded `model.safetensors.index.json`, or a legacy `pytorch_model.bin` (through
`torch.load(weights_only=True)` only: a pickle may not run code). Checkpoint names are matched to the
model's parameters, adding or dropping `base_model_prefix` so a base checkpoint loads into a task
model and back. Weights the checkpoint lacks keep their fresh initialisation and are reported with
transformers' "newly initialized" warning; weights that are legitimately absent (tied to another,
or listed in `_keys_to_ignore_on_load_missing`) are not.

Saving (`save_pretrained`) writes `config.json`, `generation_config.json` for models that generate,
and safetensors (sharded with an index above `max_shard_size`), tied weights once: a folder
transformers loads unchanged.

    >>> from ferroformers import AutoModelForSequenceClassification
    >>> model = AutoModelForSequenceClassification.from_pretrained("bert-base-cased", num_labels=5)  # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import nn

from ..errors import InvalidArgumentError, ModelFileError, UnsupportedModelError, WeightShapeMismatchError
from .configuration import CONFIG_NAME, PretrainedConfig, find_config_file

logger = logging.getLogger(__name__)

SAFE_WEIGHTS_NAME = "model.safetensors"
SAFE_WEIGHTS_INDEX_NAME = "model.safetensors.index.json"
WEIGHTS_NAME = "pytorch_model.bin"
WEIGHTS_INDEX_NAME = "pytorch_model.bin.index.json"
GENERATION_CONFIG_NAME = "generation_config.json"

_REMOTE_CODE_REFUSED = (
    "trust_remote_code=True is not supported: ferroformers only runs the architectures it implements and never "
    "executes Python code downloaded with a checkpoint"
)


class PreTrainedModel(nn.Module):
    """Base class of every model: weights init, tying, `from_pretrained`, `save_pretrained`.

    A subclass sets:
      * `config_class`: its config class (`BertConfig`).
      * `base_model_prefix`: the attribute holding the base model in task models ("bert", "transformer",
        "model"); also the prefix of their checkpoint names.
      * `_tied_weights_keys`: parameters tied to another one when `config.tie_word_embeddings`. A list
        names parameters tied to the input embeddings (`["lm_head.weight"]`); a dict maps each tied
        parameter to its source (`{"cls.predictions.decoder.bias": "cls.predictions.bias"}`).
      * `_keys_to_ignore_on_load_missing` / `_keys_to_ignore_on_load_unexpected`: regexes (`re.search`)
        of names not to report when the checkpoint lacks them or has them unused.
    and defines `_init_weights(module)` if the default (below) is not its scheme. Its `__init__` ends
    with `self.post_init()`.
    """

    config_class: ClassVar[type[PretrainedConfig]] = PretrainedConfig
    base_model_prefix: ClassVar[str] = ""
    _tied_weights_keys: ClassVar[list[str] | dict[str, str] | None] = None
    _keys_to_ignore_on_load_missing: ClassVar[list[str] | None] = None
    _keys_to_ignore_on_load_unexpected: ClassVar[list[str] | None] = None

    def __init__(self, config: PretrainedConfig, *args: Any, **kwargs: Any) -> None:
        super().__init__()
        if not isinstance(config, PretrainedConfig):
            raise TypeError(
                f"{type(self).__name__} needs a PretrainedConfig ({self.config_class.__name__}), got "
                f"{type(config).__name__}: build one with {self.config_class.__name__}(...) or "
                f"{self.config_class.__name__}.from_pretrained(...)"
            )
        self.config = config
        self.name_or_path = config.name_or_path

    # --- initialisation and tying -----------------------------------------------------------------------------

    def post_init(self) -> None:
        """Initialise every module with `_init_weights`, then tie weights. Call at the end of `__init__`."""
        self.apply(self._init_weights)
        self.tie_weights()

    @torch.no_grad()
    def _init_weights(self, module: nn.Module) -> None:
        """transformers' default: N(0, initializer_range) for linear and embedding weights (padding row zeroed),
        zero biases, LayerNorm weight 1 and bias 0."""
        std = getattr(self.config, "initializer_range", 0.02)
        if isinstance(module, nn.Linear):
            module.weight.normal_(mean=0.0, std=std)
            if module.bias is not None:
                module.bias.zero_()
        elif isinstance(module, nn.Embedding):
            module.weight.normal_(mean=0.0, std=std)
            if module.padding_idx is not None:
                module.weight[module.padding_idx].zero_()
        elif isinstance(module, nn.LayerNorm):
            if module.weight is not None:
                module.weight.fill_(1.0)
            if module.bias is not None:
                module.bias.zero_()

    @property
    def base_model(self) -> nn.Module:
        """The base model inside a task model (`model.bert`), or the model itself."""
        return getattr(self, self.base_model_prefix, self)

    def get_input_embeddings(self) -> nn.Module:
        base = self.base_model
        if base is not self:
            return base.get_input_embeddings()
        raise NotImplementedError(f"{type(self).__name__} does not define get_input_embeddings()")

    def set_input_embeddings(self, value: nn.Module) -> None:
        base = self.base_model
        if base is not self:
            return base.set_input_embeddings(value)
        raise NotImplementedError(f"{type(self).__name__} does not define set_input_embeddings()")

    def get_output_embeddings(self) -> nn.Module | None:
        """The output projection tied to the input embeddings (`lm_head`), None for models without one."""
        return None

    def tied_weights(self) -> dict[str, str]:
        """`{tied parameter name: source parameter name}` in effect for this config (empty when untied)."""
        keys = self._tied_weights_keys
        if not keys or not getattr(self.config, "tie_word_embeddings", False):
            return {}
        if isinstance(keys, dict):
            return dict(keys)
        embeddings = self.get_input_embeddings()
        source = next(name for name, p in self.named_parameters() if p is embeddings.weight)
        return {name: source for name in keys}

    def tie_weights(self) -> None:
        """Make each tied parameter the very same `nn.Parameter` as its source (one tensor, trained once)."""
        for target, source in self.tied_weights().items():
            module_name, _, attr = target.rpartition(".")
            module = self.get_submodule(module_name) if module_name else self
            setattr(module, attr, self.get_parameter(source))

    @torch.no_grad()
    def resize_token_embeddings(
        self, new_num_tokens: int | None = None, pad_to_multiple_of: int | None = None, mean_resizing: bool = True
    ) -> nn.Embedding:
        """Give the input embeddings (and the output head) `new_num_tokens` rows, as transformers does.

        Old rows are kept, rows past the end dropped; new rows are the mean of the old ones (plus
        negligible noise, `mean_resizing=True`) or freshly initialised. `pad_to_multiple_of` rounds the
        size up. `config.vocab_size` follows and tied weights stay tied. With neither argument nothing
        changes. Returns the input embeddings.

        >>> model.resize_token_embeddings(len(tokenizer))   # doctest: +SKIP
        """
        embeddings = self.get_input_embeddings()
        if new_num_tokens is None and pad_to_multiple_of is None:
            return embeddings
        if pad_to_multiple_of is not None:
            if (
                not isinstance(pad_to_multiple_of, int)
                or isinstance(pad_to_multiple_of, bool)
                or pad_to_multiple_of < 1
            ):
                raise ValueError(f"pad_to_multiple_of must be a positive int, got {pad_to_multiple_of!r}")
            rows = embeddings.weight.shape[0] if new_num_tokens is None else new_num_tokens
            new_num_tokens = -(-rows // pad_to_multiple_of) * pad_to_multiple_of
        if not isinstance(embeddings, nn.Embedding):
            raise TypeError(f"resize_token_embeddings needs nn.Embedding input embeddings, got {type(embeddings)}")
        # The parameters are resized in place (same nn.Parameter objects, new data), so a head that
        # shares the embedding matrix, or a bias shared by two modules, is resized with it.
        self._resize_rows(embeddings.weight, new_num_tokens, mean_resizing, nn.Embedding)
        embeddings.num_embeddings = new_num_tokens
        if embeddings.padding_idx is not None and embeddings.padding_idx >= new_num_tokens:
            embeddings.padding_idx = None
        head = self.get_output_embeddings()
        if head is not None:
            self._resize_rows(head.weight, new_num_tokens, mean_resizing, nn.Linear)
            if head.bias is not None:
                self._resize_rows(head.bias, new_num_tokens, mean_resizing, nn.Linear)
            head.out_features = new_num_tokens
        self.config.vocab_size = new_num_tokens
        self.vocab_size = new_num_tokens
        self.tie_weights()
        return embeddings

    def _resize_rows(self, param: nn.Parameter, rows: int, mean_resizing: bool, module_type: type) -> None:
        """Resize the first axis of `param` in place: keep old rows, fill added ones (see resize_token_embeddings)."""
        old = param.data
        if old.shape[0] == rows:
            return
        added = rows - old.shape[0]
        if added < 0:
            param.data = old[:rows].clone()
            return
        if mean_resizing:
            # transformers samples the added rows from N(mean, 1e-9 * covariance of the old rows): the
            # mean to a few parts per billion, which keeps next-token probabilities of a causal LM
            # unchanged by the new (never seen) tokens.
            old32 = old.float()
            mean = old32.mean(dim=0)
            if old.dim() == 1:
                noise = torch.randn(added, device=old.device) * (1e-9 * old32.std())
            else:
                centered = old32 - mean
                covariance = 1e-9 * (centered.T @ centered) / old.shape[0]
                factor, info = torch.linalg.cholesky_ex(covariance)
                noise = torch.randn(added, old.shape[1], device=old.device) @ factor.T if info == 0 else 0.0
            fresh = (mean + noise).to(old.dtype)
        else:
            # A fresh module of the added size, initialised by the model's own scheme.
            if module_type is nn.Embedding:
                module = nn.Embedding(added, old.shape[1], device=old.device, dtype=old.dtype)
            else:
                in_features = old.shape[1] if old.dim() == 2 else 1
                module = nn.Linear(in_features, added, device=old.device, dtype=old.dtype)
            self._init_weights(module)
            fresh = module.weight.data if old.dim() == 2 else module.bias.data
        param.data = torch.cat([old, fresh.expand(added, *old.shape[1:])], dim=0)

    @classmethod
    def can_generate(cls) -> bool:
        """Whether the model predicts next tokens (CausalLM classes override to return True)."""
        return False

    # --- small conveniences -----------------------------------------------------------------------------------

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    @property
    def dtype(self) -> torch.dtype:
        return next(p.dtype for p in self.parameters() if p.is_floating_point())

    def num_parameters(self, only_trainable: bool = False, exclude_embeddings: bool = False) -> int:
        """Number of parameters, tied ones counted once."""
        skip = set()
        if exclude_embeddings:
            skip = {id(m.weight) for m in self.modules() if isinstance(m, nn.Embedding)}
        return sum(
            p.numel()
            for p in self.parameters()  # parameters() yields a shared parameter once
            if id(p) not in skip and (p.requires_grad or not only_trainable)
        )

    # --- loading ----------------------------------------------------------------------------------------------

    @classmethod
    def from_config(cls, config: PretrainedConfig, *, dtype: Any = None, device: Any = None) -> PreTrainedModel:
        """A randomly initialised model for `config`."""
        model = cls(config)
        if dtype is not None or device is not None:
            model.to(device=device, dtype=_resolve_dtype(dtype, config))
        return model

    @classmethod
    def from_pretrained(
        cls,
        name_or_path: str | os.PathLike,
        *,
        config: PretrainedConfig | None = None,
        num_labels: int | None = None,
        id2label: dict[int, str] | None = None,
        label2id: dict[str, int] | None = None,
        dtype: Any = "auto",
        torch_dtype: Any = None,
        device: Any = None,
        revision: str | None = None,
        cache_dir: str | os.PathLike | None = None,
        local_files_only: bool = False,
        token: str | bool | None = None,
        ignore_mismatched_sizes: bool = False,
        trust_remote_code: bool = False,
        **config_overrides: Any,
    ) -> PreTrainedModel:
        """Load a model from a folder or Hub id: config, weights, then `eval()` mode.

        `num_labels` / `id2label` / `label2id` and any other config field given as a keyword
        (`output_hidden_states=True`) override the checkpoint's config. `dtype`: "auto" (the dtype the
        config records, else float32), a `torch.dtype` or its name. `device`: where the model ends up.
        """
        if trust_remote_code:
            raise UnsupportedModelError(_REMOTE_CODE_REFUSED)
        if torch_dtype is not None:
            dtype = torch_dtype  # legacy spelling
        hub_kwargs = dict(revision=revision, cache_dir=cache_dir, local_files_only=local_files_only, token=token)

        label_kwargs = {
            k: v
            for k, v in (("num_labels", num_labels), ("id2label", id2label), ("label2id", label2id))
            if v is not None
        }
        if config is None:
            config_path = find_config_file(name_or_path, **hub_kwargs)
            config = cls.config_class.from_json_file(config_path, **label_kwargs)
        else:
            if label_kwargs:
                config = cls.config_class.from_dict(config.to_dict(), **label_kwargs)
        for key, value in config_overrides.items():
            if not hasattr(config, key):
                raise TypeError(
                    f"from_pretrained() got an unexpected keyword argument {key!r}: it is neither a loading option "
                    f"nor a field of {type(config).__name__}"
                )
            setattr(config, key, value)
        config.name_or_path = str(name_or_path)

        state_dict, source = load_checkpoint(name_or_path, **hub_kwargs)
        try:
            model = cls(config)
        except (TypeError, ValueError) as err:
            # A field of the wrong type ("n_embd": "768") fails deep inside torch; name the file instead.
            raise ModelFileError(
                f"Could not build {cls.__name__} from the config of {str(name_or_path)!r}: {err}. Check the "
                "config.json fields' types and values (sizes are integers, rates are floats)"
            ) from err
        model._load_checkpoint_state(state_dict, source, ignore_mismatched_sizes=ignore_mismatched_sizes)
        del state_dict

        target_dtype = _resolve_dtype(dtype, config)
        model.to(device=device, dtype=target_dtype)
        model.config.dtype = model.dtype
        if model.can_generate() and hasattr(type(model), "generation_config"):
            model.generation_config = _load_generation_config(name_or_path, config, hub_kwargs)
        model.eval()  # as transformers: a loaded model is ready for inference (dropout off)
        return model

    def _load_checkpoint_state(
        self, state_dict: dict[str, torch.Tensor], source: str, *, ignore_mismatched_sizes: bool
    ) -> None:
        """Copy checkpoint tensors into the parameters and buffers; warn about what was not loaded."""
        expected = self.state_dict()
        state_dict = self._rename_checkpoint_keys(state_dict, set(expected))
        tied = self.tied_weights()

        mismatched: list[tuple[str, tuple[int, ...], tuple[int, ...]]] = []
        loadable: dict[str, torch.Tensor] = {}
        unexpected: list[str] = []
        for name, tensor in state_dict.items():
            if name in tied:
                continue  # a copy of its source, written by older savers: the source is loaded instead
            if name not in expected:
                unexpected.append(name)
                continue
            if tensor.shape != expected[name].shape:
                mismatched.append((name, tuple(tensor.shape), tuple(expected[name].shape)))
                continue
            loadable[name] = tensor
        if mismatched and not ignore_mismatched_sizes:
            details = "\n".join(
                f"- {name}: shape {list(found)} in the checkpoint, {list(wanted)} in the model"
                for name, found, wanted in mismatched
            )
            raise WeightShapeMismatchError(
                f"Error loading {source} into {type(self).__name__}: tensors of another shape than the model's:\n"
                f"{details}\nCheck that the config matches the checkpoint, or pass ignore_mismatched_sizes=True to "
                f"initialise these weights anew (e.g. a classifier with another number of labels)."
            )

        with torch.no_grad():
            for name, tensor in loadable.items():
                expected[name].copy_(tensor)  # state_dict() tensors share storage with the parameters

        missing = [n for n in expected if n not in loadable and n not in tied and n not in {m[0] for m in mismatched}]
        missing = [n for n in missing if not _matches_any(n, self._keys_to_ignore_on_load_missing)]
        unexpected = [n for n in unexpected if not _matches_any(n, self._keys_to_ignore_on_load_unexpected)]
        name = type(self).__name__
        if unexpected:
            logger.warning(
                f"Some weights of the model checkpoint at {source} were not used when initializing {name}: "
                f"{sorted(unexpected)}\n- This IS expected if you are initializing {name} from the checkpoint of a "
                f"model trained on another task or with another architecture.\n- This IS NOT expected if you "
                f"are initializing {name} from the checkpoint of a model that you expect to be exactly identical."
            )
        if missing:
            logger.warning(
                f"Some weights of {name} were not initialized from the model checkpoint at {source} and are newly "
                f"initialized: {sorted(missing)}\nYou should probably TRAIN this model on a down-stream task to be "
                f"able to use it for predictions and inference."
            )
        if mismatched:
            details = "\n".join(
                f"- {n}: found shape {list(found)} in the checkpoint and {list(wanted)} in the model instantiated"
                for n, found, wanted in mismatched
            )
            logger.warning(
                f"Some weights of {name} were not initialized from the model checkpoint at {source} and are newly "
                f"initialized because the shapes did not match:\n{details}\nYou should probably TRAIN this model on "
                f"a down-stream task to be able to use it for predictions and inference."
            )

    def _rename_checkpoint_keys(self, state_dict: dict[str, torch.Tensor], expected: set[str]) -> dict:
        """Map checkpoint names onto this model's: add or drop `base_model_prefix`, old LayerNorm names."""
        prefix = self.base_model_prefix
        if prefix:
            dotted = prefix + "."
            model_has_prefix = any(k.startswith(dotted) for k in expected)
            ckpt_has_prefix = any(k.startswith(dotted) for k in state_dict)
            if model_has_prefix and not ckpt_has_prefix:
                # A base model's checkpoint loaded into a task model.
                state_dict = {dotted + k: v for k, v in state_dict.items()}
            elif ckpt_has_prefix and not model_has_prefix:
                # A task model's checkpoint loaded into the base model: keep the base part; heads are unexpected.
                state_dict = {(k[len(dotted) :] if k.startswith(dotted) else k): v for k, v in state_dict.items()}
        # Checkpoints from TF-era BERT name LayerNorm parameters gamma/beta.
        renamed = {}
        for key, value in state_dict.items():
            if key not in expected and key.endswith((".gamma", ".beta")):
                key = key[: -len("gamma")] + "weight" if key.endswith(".gamma") else key[: -len("beta")] + "bias"
            renamed[key] = value
        return renamed

    # --- saving -----------------------------------------------------------------------------------------------

    def save_pretrained(
        self,
        save_directory: str | os.PathLike,
        *,
        max_shard_size: int | str = "5GB",
        state_dict: dict[str, torch.Tensor] | None = None,
    ) -> None:
        """Write config.json, generation_config.json (models that generate) and the weights as safetensors.

        Above `max_shard_size` (bytes, or "500MB", "5GB") the weights are split into
        `model-0000i-of-0000n.safetensors` with a `model.safetensors.index.json`, as transformers does.
        """
        from safetensors.torch import save_file

        folder = Path(save_directory)
        if folder.is_file():
            raise ValueError(f"save_pretrained needs a directory, but {str(folder)!r} is a file")
        folder.mkdir(parents=True, exist_ok=True)

        self.config.architectures = [type(self).__name__]
        self.config.dtype = self.dtype
        self.config.save_pretrained(folder)
        if self.can_generate():
            from ..generation.configuration import GenerationConfig

            # Models without the generate() mixin still record the defaults their config implies.
            generation_config = getattr(self, "generation_config", None) or GenerationConfig.from_model_config(
                self.config
            )
            generation_config.save_pretrained(folder)

        if state_dict is None:
            state_dict = self.state_dict()
        tied = self.tied_weights()
        tensors = {k: v.detach().contiguous() for k, v in state_dict.items() if k not in tied}
        _drop_shared_duplicates(tensors)

        # Stale weights from an earlier save would be mixed with these ones by a later load.
        for old in list(folder.glob("model*.safetensors")) + [folder / SAFE_WEIGHTS_INDEX_NAME]:
            if old.is_file():
                old.unlink()
        shards = _split_into_shards(tensors, _parse_size(max_shard_size))
        metadata = {"format": "pt"}
        if len(shards) == 1:
            save_file(tensors, str(folder / SAFE_WEIGHTS_NAME), metadata=metadata)
            return
        weight_map = {}
        for i, shard in enumerate(shards, start=1):
            filename = f"model-{i:05d}-of-{len(shards):05d}.safetensors"
            save_file({k: tensors[k] for k in shard}, str(folder / filename), metadata=metadata)
            weight_map.update({k: filename for k in shard})
        index = {
            "metadata": {"total_size": sum(t.numel() * t.element_size() for t in tensors.values())},
            "weight_map": dict(sorted(weight_map.items())),
        }
        (folder / SAFE_WEIGHTS_INDEX_NAME).write_text(json.dumps(index, indent=2) + "\n", encoding="utf-8")


# --- checkpoint files ---------------------------------------------------------------------------------------------


def load_checkpoint(
    name_or_path: str | os.PathLike,
    *,
    revision: str | None = None,
    cache_dir: str | os.PathLike | None = None,
    local_files_only: bool = False,
    token: str | bool | None = None,
) -> tuple[dict[str, torch.Tensor], str]:
    """Read every tensor of a checkpoint into CPU memory: `(state_dict, where it came from)`.

    Preference order: model.safetensors, its sharded index, pytorch_model.bin, its sharded index.
    """
    from ..hub import resolve_files

    hub_kwargs = dict(revision=revision, cache_dir=cache_dir, local_files_only=local_files_only, token=token)
    candidates = [SAFE_WEIGHTS_NAME, SAFE_WEIGHTS_INDEX_NAME, WEIGHTS_NAME, WEIGHTS_INDEX_NAME]
    found: dict[str, Path] = {}
    for candidate in candidates:
        # One at a time: online, each lookup is a request, and the first file found is enough.
        found = resolve_files(name_or_path, [candidate], what="model", **hub_kwargs)
        if found:
            break
    if not found:
        raise ModelFileError(f"{str(name_or_path)!r} has no weights: expected one of {', '.join(candidates)}")
    ((filename, path),) = found.items()
    source = str(name_or_path)
    if filename in (SAFE_WEIGHTS_NAME, WEIGHTS_NAME):
        return _read_weights_file(path), source

    try:
        index = json.loads(Path(path).read_text(encoding="utf-8"))
        weight_map = index["weight_map"]
    except (json.JSONDecodeError, KeyError, TypeError) as err:
        raise ModelFileError(
            f"{str(path)!r} is not a valid shard index (a JSON object with a weight_map): {err}"
        ) from None
    shard_names = sorted(set(weight_map.values()))
    shards = resolve_files(name_or_path, shard_names, what="model", **hub_kwargs)
    absent = [s for s in shard_names if s not in shards]
    if absent:
        raise ModelFileError(f"{str(path)!r} lists shards that {source!r} does not have: {absent}")
    state_dict: dict[str, torch.Tensor] = {}
    for shard in shard_names:
        state_dict.update(_read_weights_file(shards[shard]))
    return state_dict, source


def _read_weights_file(path: Path) -> dict[str, torch.Tensor]:
    path = Path(path)
    if path.name.endswith(".safetensors"):
        from safetensors.torch import load_file

        try:
            return load_file(str(path), device="cpu")
        except Exception as err:  # safetensors raises its own SafetensorError, or OSError for I/O
            raise ModelFileError(
                f"Could not read the safetensors file {str(path)!r} (corrupt or truncated?): {err}"
            ) from err
    try:
        # weights_only: a pickle that needs more than tensors and plain containers is refused, not executed.
        state_dict = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as err:
        raise ModelFileError(
            f"Could not read {str(path)!r} with torch.load(weights_only=True) (corrupt, truncated, or a pickle "
            f"holding more than tensors): {err}"
        ) from err
    if not isinstance(state_dict, dict):
        raise ModelFileError(f"{str(path)!r} does not hold a state dict (found {type(state_dict).__name__})")
    return state_dict


def _resolve_dtype(dtype: Any, config: PretrainedConfig) -> torch.dtype | None:
    """ "auto"/None -> the dtype the config records (float32 when none); names -> torch dtypes."""
    if dtype is None or dtype == "auto":
        dtype = config.dtype if config.dtype not in (None, "auto") else torch.float32
    if isinstance(dtype, str):
        value = getattr(torch, dtype.removeprefix("torch."), None)
        if not isinstance(value, torch.dtype):
            raise InvalidArgumentError(f"dtype={dtype!r} is not a torch dtype name: use {_DTYPE_CHOICES}")
        dtype = value
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise InvalidArgumentError(f"dtype must be a floating-point torch dtype: {_DTYPE_CHOICES}; got {dtype!r}")
    return dtype


_DTYPE_CHOICES = "'auto', 'float32', 'float16', 'bfloat16', 'float64' (or the torch.dtype itself)"


def _matches_any(name: str, patterns: list[str] | None) -> bool:
    return bool(patterns) and any(re.search(p, name) for p in patterns)


def _drop_shared_duplicates(tensors: dict[str, torch.Tensor]) -> None:
    """safetensors refuses two names for one storage; keep the first name of any such group."""
    seen: dict[tuple[int, int, tuple[int, ...]], str] = {}
    for name in list(tensors):
        t = tensors[name]
        if t.device.type == "meta" or t.numel() == 0:
            continue
        key = (t.untyped_storage().data_ptr(), t.storage_offset(), tuple(t.shape))
        if key in seen:
            del tensors[name]
        else:
            seen[key] = name


def _parse_size(size: int | str) -> int:
    """`5_000_000`, "5MB", "5MiB", "2GB" -> bytes (decimal units for KB/MB/GB, binary for KiB/MiB/GiB)."""
    if isinstance(size, int):
        return size
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?I?B)\s*", str(size).upper())
    if not match:
        raise ValueError(f"max_shard_size must be a number of bytes or like '500MB' / '5GB', got {size!r}")
    number, unit = float(match.group(1)), match.group(2)
    base = 1024 if "I" in unit else 1000
    power = {"B": 0, "K": 1, "M": 2, "G": 3, "T": 4}[unit[0]]
    return int(number * base**power)


def _split_into_shards(tensors: dict[str, torch.Tensor], limit: int) -> list[list[str]]:
    """Consecutive groups of names whose total size stays under `limit` (a larger tensor gets its own shard)."""
    shards: list[list[str]] = [[]]
    size = 0
    for name, t in tensors.items():
        nbytes = t.numel() * t.element_size()
        if shards[-1] and size + nbytes > limit:
            shards.append([])
            size = 0
        shards[-1].append(name)
        size += nbytes
    return shards


def _load_generation_config(name_or_path: str | os.PathLike, config: PretrainedConfig, hub_kwargs: dict):
    """The checkpoint's generation_config.json, else the defaults derived from the model config (as transformers)."""
    from ..generation.configuration import GenerationConfig
    from ..hub import resolve_files

    found = resolve_files(name_or_path, [GENERATION_CONFIG_NAME], what="model", **hub_kwargs)
    if GENERATION_CONFIG_NAME in found:
        return GenerationConfig.from_dict(json.loads(Path(found[GENERATION_CONFIG_NAME]).read_text(encoding="utf-8")))
    return GenerationConfig.from_model_config(config)


__all__ = [
    "PreTrainedModel",
    "load_checkpoint",
    "SAFE_WEIGHTS_NAME",
    "SAFE_WEIGHTS_INDEX_NAME",
    "WEIGHTS_NAME",
    "WEIGHTS_INDEX_NAME",
    "GENERATION_CONFIG_NAME",
    "CONFIG_NAME",
]


def check_sequence_fits(length: int, positions: int, model_name: str) -> None:
    """Refuse, with a message that says what to do, a sequence longer than a learned position table:
    indexing past the table would otherwise fail deep inside torch with "index out of range"."""
    if length > positions:
        raise ValueError(
            f"{model_name} has {positions} positions but the input needs {length}: shorten the input "
            "(tokenizer(..., truncation=True, max_length=...)), or for generation ask for fewer new tokens "
            "(max_new_tokens / max_length) or use handle_long_generation='hole' in the text-generation pipeline"
        )
