"""`TrainingArguments`: the knobs of `Trainer`, with transformers' names and defaults.

    >>> args = TrainingArguments(output_dir="out", eval_strategy="epoch", learning_rate=2e-5)  # doctest: +SKIP

What is supported is listed as fields below; an argument transformers has and we do not is a TypeError that
names it (silently ignoring a setting would train something other than what the user asked for). Both
`eval_strategy` and transformers 4's `evaluation_strategy` are accepted, as are `warmup_ratio` (4.x) and a
fractional `warmup_steps` (5.x).
"""

from __future__ import annotations

import json
import math
import numbers
import os
from dataclasses import asdict, dataclass, fields
from typing import Any

from ..errors import TrainerError

STRATEGIES = ("no", "steps", "epoch")
SCHEDULERS = ("linear", "cosine", "cosine_with_restarts", "polynomial", "constant", "constant_with_warmup")
OPTIMIZERS = ("adamw_torch", "adamw_torch_fused")


# Numbers that must lie in a range, and the range in words: a negative learning rate or epoch count
# would train backwards or not at all, without a word. The optimizer's ranges are torch AdamW's.
_RANGES = (
    ("learning_rate", lambda v: v >= 0, ">= 0"),
    ("num_train_epochs", lambda v: v >= 0, ">= 0"),
    ("weight_decay", lambda v: v >= 0, ">= 0"),
    ("adam_beta1", lambda v: 0 <= v < 1, "in [0, 1)"),
    ("adam_beta2", lambda v: 0 <= v < 1, "in [0, 1)"),
    ("adam_epsilon", lambda v: v >= 0, ">= 0"),
    ("max_grad_norm", lambda v: True, "a number (<= 0 turns clipping off)"),
    ("warmup_steps", lambda v: v >= 0, ">= 0 (a count, or a fraction of the training steps when < 1)"),
    ("eval_delay", lambda v: v >= 0, ">= 0"),
)


def _check_ranges(args: Any) -> None:
    for name, valid, words in _RANGES:
        value = getattr(args, name)
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"{name} must be a number, got {type(value).__name__} {value!r}")
        if not math.isfinite(value) or not valid(value):
            raise TrainerError(f"{name} must be {words}, got {value}")
    for name in ("max_steps", "dataloader_num_workers"):
        value = getattr(args, name)
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if args.max_steps < -1 or args.max_steps == 0:
        raise TrainerError(
            f"max_steps must be a positive number of steps, or -1 (the default) to train num_train_epochs; "
            f"got {args.max_steps}"
        )
    if args.dataloader_num_workers < 0:
        raise TrainerError(f"dataloader_num_workers must be >= 0, got {args.dataloader_num_workers}")
    if args.save_total_limit is not None and args.save_total_limit < 0:
        raise TrainerError(f"save_total_limit must be >= 0 or None (keep all), got {args.save_total_limit}")


def _strategy(value: Any, name: str) -> str:
    value = str(getattr(value, "value", value)).lower()
    if value not in STRATEGIES:
        raise TrainerError(f"{name} must be one of {', '.join(STRATEGIES)}, got {value!r}")
    return value


@dataclass
class TrainingArguments:
    """Arguments of `Trainer`; defaults are transformers 5.24's."""

    output_dir: str = "trainer_output"
    # how long
    num_train_epochs: float = 3.0
    max_steps: int = -1
    per_device_train_batch_size: int = 8
    per_device_eval_batch_size: int = 8
    gradient_accumulation_steps: int = 1
    # optimizer and schedule
    learning_rate: float = 5e-5
    weight_decay: float = 0.0
    adam_beta1: float = 0.9
    adam_beta2: float = 0.999
    adam_epsilon: float = 1e-8
    max_grad_norm: float = 1.0
    optim: str = "adamw_torch_fused"
    lr_scheduler_type: str = "linear"
    lr_scheduler_kwargs: dict | None = None
    warmup_steps: float = 0
    warmup_ratio: float | None = None
    # when to evaluate, save and log
    eval_strategy: str = "no"
    evaluation_strategy: str | None = None
    eval_steps: float | None = None
    eval_delay: float = 0
    save_strategy: str = "steps"
    save_steps: float = 500
    save_total_limit: int | None = None
    save_only_model: bool = False
    logging_strategy: str = "steps"
    logging_steps: float = 500
    logging_first_step: bool = False
    logging_nan_inf_filter: bool = True
    load_best_model_at_end: bool = False
    metric_for_best_model: str | None = None
    greater_is_better: bool | None = None
    # reproducibility
    seed: int = 42
    data_seed: int | None = None
    full_determinism: bool = False
    # data
    dataloader_num_workers: int = 0
    dataloader_drop_last: bool = False
    dataloader_pin_memory: bool = True
    remove_unused_columns: bool = True
    label_names: list[str] | None = None
    prediction_loss_only: bool = False
    eval_accumulation_steps: int | None = None
    # precision and devices
    bf16: bool = False
    fp16: bool = False
    use_cpu: bool = False
    ddp_backend: str | None = None
    ddp_find_unused_parameters: bool | None = None
    # reporting
    disable_tqdm: bool | None = None
    report_to: str | list[str] | None = "none"
    logging_dir: str | None = None
    run_name: str | None = None
    overwrite_output_dir: bool = False

    def __post_init__(self) -> None:
        self.output_dir = os.fspath(self.output_dir)
        if self.evaluation_strategy is not None:
            # transformers 4's name, still in tutorials (the quick tour uses it)
            self.eval_strategy = self.evaluation_strategy
        self.eval_strategy = _strategy(self.eval_strategy, "eval_strategy")
        self.evaluation_strategy = self.eval_strategy
        self.save_strategy = _strategy(self.save_strategy, "save_strategy")
        self.logging_strategy = _strategy(self.logging_strategy, "logging_strategy")
        self.lr_scheduler_type = str(getattr(self.lr_scheduler_type, "value", self.lr_scheduler_type))
        if self.lr_scheduler_type not in SCHEDULERS:
            raise TrainerError(
                f"lr_scheduler_type must be one of {', '.join(SCHEDULERS)}, got {self.lr_scheduler_type!r}"
            )
        self.optim = str(getattr(self.optim, "value", self.optim))
        if self.optim not in OPTIMIZERS:
            raise TrainerError(
                f"optim {self.optim!r} is not supported: use one of {', '.join(OPTIMIZERS)}, or pass "
                "optimizers=(optimizer, scheduler) to Trainer"
            )
        for name in ("per_device_train_batch_size", "per_device_eval_batch_size", "gradient_accumulation_steps"):
            if int(getattr(self, name)) < 1:
                raise TrainerError(f"{name} must be >= 1, got {getattr(self, name)}")
        _check_ranges(self)
        if self.warmup_ratio is not None:
            if not 0 <= self.warmup_ratio <= 1:
                raise TrainerError(f"warmup_ratio must be in [0, 1], got {self.warmup_ratio}")
            if self.warmup_steps:
                raise TrainerError("give warmup_steps or warmup_ratio, not both")
        if self.eval_strategy == "steps" and self.eval_steps is None:
            self.eval_steps = self.logging_steps  # as transformers: evaluate as often as it logs
        for name in ("eval_steps", "save_steps", "logging_steps"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise TrainerError(f"{name} must be > 0, got {value}")
        if self.load_best_model_at_end:
            if self.eval_strategy == "no":
                raise TrainerError("load_best_model_at_end needs evaluation: set eval_strategy to 'steps' or 'epoch'")
            if self.save_strategy != self.eval_strategy:
                raise TrainerError(
                    "load_best_model_at_end needs a checkpoint at every evaluation: save_strategy "
                    f"({self.save_strategy!r}) must equal eval_strategy ({self.eval_strategy!r})"
                )
            if self.eval_strategy == "steps" and self.save_steps % self.eval_steps != 0:
                raise TrainerError(
                    f"load_best_model_at_end needs save_steps ({self.save_steps}) to be a multiple of "
                    f"eval_steps ({self.eval_steps})"
                )
            if self.metric_for_best_model is None:
                self.metric_for_best_model = "loss"
        if self.greater_is_better is None and self.metric_for_best_model is not None:
            self.greater_is_better = not self.metric_for_best_model.endswith("loss")
        if self.fp16 and self.bf16:
            raise TrainerError("fp16 and bf16 are exclusive: choose one")
        if isinstance(self.report_to, str):
            self.report_to = [] if self.report_to in ("none", "") else [self.report_to]
        elif self.report_to is None:
            self.report_to = []
        for target in self.report_to:
            if target not in ("tensorboard", "all"):
                raise TrainerError(f"report_to {target!r} is not supported: use 'none' or 'tensorboard'")
        if self.report_to == ["all"]:
            self.report_to = ["tensorboard"]
        if self.logging_dir is None:
            self.logging_dir = os.path.join(self.output_dir, "runs")
        if self.label_names is not None:
            self.label_names = list(self.label_names)

    # -- derived values -----------------------------------------------------------------------------------------
    @property
    def world_size(self) -> int:
        return int(os.environ.get("WORLD_SIZE", "1"))

    @property
    def process_index(self) -> int:
        return int(os.environ.get("RANK", "0"))

    @property
    def local_process_index(self) -> int:
        return int(os.environ.get("LOCAL_RANK", "0"))

    @property
    def train_batch_size(self) -> int:
        """Samples per forward pass on one device."""
        return self.per_device_train_batch_size

    @property
    def eval_batch_size(self) -> int:
        return self.per_device_eval_batch_size

    def get_warmup_steps(self, num_training_steps: int) -> int:
        """Warmup as a number of optimizer steps: `warmup_ratio`, or `warmup_steps` (a fraction when < 1)."""
        if self.warmup_ratio is not None:
            return math.ceil(num_training_steps * self.warmup_ratio)
        if self.warmup_steps >= 1:
            return int(self.warmup_steps)
        return math.ceil(num_training_steps * self.warmup_steps)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json_string(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"

    @classmethod
    def field_names(cls) -> frozenset[str]:
        return frozenset(f.name for f in fields(cls))


def _refuse_unknown_arguments(cls):
    """Wrap the dataclass __init__ so that an argument we do not have names itself (and what exists)."""
    generated = cls.__init__

    def __init__(self, *args, **kwargs):
        unknown = sorted(set(kwargs) - cls.field_names())
        if unknown:
            raise TypeError(
                f"TrainingArguments got argument(s) ferroformers does not support: {', '.join(unknown)}. "
                "Supported: " + ", ".join(sorted(cls.field_names()))
            )
        generated(self, *args, **kwargs)

    __init__.__doc__ = generated.__doc__
    cls.__init__ = __init__
    return cls


TrainingArguments = _refuse_unknown_arguments(TrainingArguments)
