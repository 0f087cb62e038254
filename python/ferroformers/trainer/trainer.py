"""`Trainer`: the training and evaluation loop of transformers, for ferroformers' models and any torch module.

    >>> trainer = Trainer(model=model, args=TrainingArguments("out", eval_strategy="epoch"),   # doctest: +SKIP
    ...                   train_dataset=train, eval_dataset=test, compute_metrics=compute_metrics)
    >>> trainer.train()                                                                          # doctest: +SKIP

What it guarantees beyond transformers' behaviour:
- Resuming is exact: the data order of every epoch comes from its own seeded generator (not from the global
  RNG), the RNG states are restored right where they were saved, and the batches already trained on are
  skipped, so N steps straight and N/2 + resume end with bitwise equal weights (CPU, fixed seed).
- Gradient accumulation and data parallelism give the loss of one large batch: each micro-batch's mean loss
  is weighted by its share of the window's labelled items (tokens for language models, rows otherwise).
- Checkpoints are published by one rename, so a save killed midway never becomes the latest checkpoint.
- Nothing is unpickled from disk: weights through safetensors, states through `torch.load(weights_only=True)`.

Under `torchrun --nproc_per_node=N` each process trains on its own shard of every epoch's permutation with
DistributedDataParallel (gloo on CPU, nccl on CUDA); only rank 0 logs and writes checkpoints.
"""

from __future__ import annotations

import inspect
import logging
import math
import os
import time
from collections.abc import Iterator, Mapping
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, NamedTuple

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DataLoader, Sampler

from ..errors import CheckpointNotFoundError, TrainerError
from ..generation.utils import set_seed
from . import checkpoint as ckpt
from .callbacks import (
    CallbackHandler,
    DefaultFlowCallback,
    PrinterCallback,
    ProgressCallback,
    TensorBoardCallback,
    TrainerCallback,
    TrainerControl,
    TrainerState,
)
from .optimization import get_scheduler, parameter_groups
from .training_args import TrainingArguments

logger = logging.getLogger("ferroformers.trainer")
IGNORE_INDEX = -100


# -- results ---------------------------------------------------------------------------------------------------
class EvalPrediction:
    """What `compute_metrics` receives: `predictions` and `label_ids` (NumPy arrays, or tuples of them).
    Unpacks as `logits, labels = eval_pred`, as in transformers."""

    def __init__(self, predictions: Any, label_ids: Any, inputs: Any = None) -> None:
        self.predictions = predictions
        self.label_ids = label_ids
        self.inputs = inputs

    def __iter__(self):
        return iter((self.predictions, self.label_ids))

    def __getitem__(self, index: int):
        return (self.predictions, self.label_ids)[index]

    def __len__(self) -> int:
        return 2


class TrainOutput(NamedTuple):
    global_step: int
    training_loss: float
    metrics: dict[str, float]


class PredictionOutput(NamedTuple):
    predictions: Any
    label_ids: Any
    metrics: dict[str, float] | None


# -- reproducibility -------------------------------------------------------------------------------------------
def enable_full_determinism(seed: int) -> None:
    """Seeds plus deterministic algorithms (slower; an op without a deterministic kernel raises)."""
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":16:8")
    set_seed(seed)
    torch.use_deterministic_algorithms(True)
    if torch.backends.cudnn.is_available():
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False


# -- data ------------------------------------------------------------------------------------------------------
class EpochBatchSampler(Sampler[list[int]]):
    """The batches of one process for one epoch: a permutation of the dataset drawn from a generator seeded
    with `seed + epoch` (so an epoch's order never depends on what ran before it), dealt round-robin to the
    `world_size` processes (padded by wrapping around so that each gets as many), cut into batches.
    `skip` leaves out the first batches (resuming mid-epoch)."""

    def __init__(
        self,
        size: int,
        batch_size: int,
        *,
        shuffle: bool,
        seed: int,
        rank: int = 0,
        world_size: int = 1,
        drop_last: bool = False,
    ) -> None:
        self.size, self.batch_size, self.shuffle, self.seed = size, batch_size, shuffle, seed
        self.rank, self.world_size, self.drop_last = rank, world_size, drop_last
        self.epoch = 0
        self.skip = 0

    def set_epoch(self, epoch: int, skip: int = 0) -> None:
        self.epoch, self.skip = epoch, skip

    def _indices(self) -> list[int]:
        if self.shuffle:
            generator = torch.Generator().manual_seed(self.seed + self.epoch)
            order = torch.randperm(self.size, generator=generator).tolist()
        else:
            order = list(range(self.size))
        if self.world_size > 1:
            per_rank = math.ceil(self.size / self.world_size)
            padded = order + order[: per_rank * self.world_size - self.size]
            order = padded[self.rank :: self.world_size]
        return order

    def _num_batches(self, count: int) -> int:
        return count // self.batch_size if self.drop_last else math.ceil(count / self.batch_size)

    def __len__(self) -> int:
        per_rank = math.ceil(self.size / self.world_size) if self.world_size > 1 else self.size
        return self._num_batches(per_rank)

    def __iter__(self) -> Iterator[list[int]]:
        order = self._indices()
        for b in range(self.skip, self._num_batches(len(order))):
            yield order[b * self.batch_size : (b + 1) * self.batch_size]


class _ShardedEvalSampler(Sampler[list[int]]):
    """Evaluation batches of one process: a contiguous slice of the dataset, in order."""

    def __init__(self, size: int, batch_size: int, rank: int, world_size: int) -> None:
        per_rank = math.ceil(size / world_size)
        self.indices = list(range(rank * per_rank, min(size, (rank + 1) * per_rank)))
        self.batch_size = batch_size

    def __len__(self) -> int:
        return math.ceil(len(self.indices) / self.batch_size)

    def __iter__(self):
        for b in range(len(self)):
            yield self.indices[b * self.batch_size : (b + 1) * self.batch_size]


class _KeepColumns:
    """Collator wrapper for datasets that are not `datasets.Dataset`: drop the keys the model does not take."""

    def __init__(self, collator: Callable, keep: set[str]) -> None:
        self.collator, self.keep = collator, keep

    def __call__(self, features: list[Any]) -> Any:
        if features and isinstance(features[0], Mapping):
            features = [{k: v for k, v in f.items() if k in self.keep} for f in features]
        return self.collator(features)


def _pad_and_concat(parts: list[np.ndarray], padding_index: int = IGNORE_INDEX) -> np.ndarray:
    """Concatenate along the batch axis; arrays of different lengths (dynamic padding) are padded with -100."""
    if len({p.shape[1:] for p in parts}) <= 1:
        return np.concatenate(parts, axis=0)
    shape = [sum(p.shape[0] for p in parts)] + [max(p.shape[d] for p in parts) for d in range(1, parts[0].ndim)]
    out = np.full(shape, padding_index, dtype=parts[0].dtype)
    row = 0
    for p in parts:
        out[(slice(row, row + p.shape[0]), *(slice(0, n) for n in p.shape[1:]))] = p
        row += p.shape[0]
    return out


def _fields(outputs: Any) -> dict[str, Any] | None:
    """A model output as a dict of its set fields (ModelOutput, dict); None for plain tuples/tensors."""
    if isinstance(outputs, Mapping) or (hasattr(outputs, "items") and hasattr(outputs, "keys")):
        return dict(outputs.items())
    return None


def _loss_of(outputs: Any) -> torch.Tensor | None:
    named = _fields(outputs)
    if named is not None:
        return named.get("loss")
    if (
        isinstance(outputs, (tuple, list))
        and outputs
        and isinstance(outputs[0], torch.Tensor)
        and outputs[0].dim() == 0
    ):
        return outputs[0]
    return None


def _to_numpy(value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        return tuple(_to_numpy(v) for v in value)
    return value.detach().float().cpu().numpy() if value.is_floating_point() else value.detach().cpu().numpy()


def _concat_nested(parts: list[Any]) -> Any:
    if isinstance(parts[0], tuple):
        return tuple(_concat_nested([p[i] for p in parts]) for i in range(len(parts[0])))
    return _pad_and_concat(parts)


def _slice_nested(value: Any, count: int) -> Any:
    return tuple(_slice_nested(v, count) for v in value) if isinstance(value, tuple) else value[:count]


# -- the trainer -----------------------------------------------------------------------------------------------
@dataclass
class _Window:
    """The micro-batches of one optimizer step."""

    batches: list[dict[str, Any]]
    items: float  # labelled items over the window, all processes together


class Trainer:
    """Train, evaluate and predict with `model` (a ferroformers model or any `nn.Module` whose forward takes
    the batch's keys and returns a `loss` when given labels)."""

    def __init__(
        self,
        model: nn.Module | None = None,
        args: TrainingArguments | None = None,
        data_collator: Callable | None = None,
        train_dataset: Any = None,
        eval_dataset: Any = None,
        processing_class: Any = None,
        model_init: Callable[[], nn.Module] | None = None,
        compute_metrics: Callable[[EvalPrediction], dict] | None = None,
        callbacks: list[TrainerCallback | type] | None = None,
        optimizers: tuple[torch.optim.Optimizer | None, Any] = (None, None),
        preprocess_logits_for_metrics: Callable | None = None,
        tokenizer: Any = None,
    ) -> None:
        if args is None:
            args = TrainingArguments(output_dir="trainer_output")
        if not isinstance(args, TrainingArguments):
            raise TypeError(f"args must be a TrainingArguments, got {type(args).__name__}")
        self.args = args
        if tokenizer is not None:
            if processing_class is not None and processing_class is not tokenizer:
                raise TrainerError("give processing_class or its older name tokenizer, not both")
            processing_class = tokenizer  # transformers 4's name
        self.processing_class = processing_class
        if args.full_determinism:
            enable_full_determinism(args.seed)
        else:
            set_seed(args.seed)
        if model is None:
            if model_init is None:
                raise TrainerError("Trainer needs a model (or model_init, a function that returns one)")
            model = model_init()
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        self.model_init = model_init

        self._setup_distributed()
        self.model = model.to(self.device)
        self.model_wrapped = self.model
        self.train_dataset = train_dataset
        self.eval_dataset = eval_dataset
        self.compute_metrics = compute_metrics
        self.preprocess_logits_for_metrics = preprocess_logits_for_metrics
        if data_collator is None:
            data_collator = self._default_collator()
        self.data_collator = data_collator
        self.optimizer, self.lr_scheduler = optimizers
        if self.lr_scheduler is not None and self.optimizer is None:
            raise TrainerError("optimizers=(None, scheduler): a scheduler needs its optimizer")
        self._check_precision()

        self.label_names = args.label_names or self._default_label_names()
        self.state = TrainerState(
            is_local_process_zero=self.is_local_process_zero(), is_world_process_zero=self.is_world_process_zero()
        )
        self.control = TrainerControl()
        default = [DefaultFlowCallback, PrinterCallback if self._tqdm_disabled() else ProgressCallback]
        if "tensorboard" in args.report_to:
            default.append(TensorBoardCallback)
        self.callback_handler = CallbackHandler(
            default + list(callbacks or []), self.model, self.processing_class, self.optimizer, self.lr_scheduler
        )
        self.control = self.callback_handler.call_event("on_init_end", args, self.state, self.control)

    # -- setup -----------------------------------------------------------------------------------------------
    def _setup_distributed(self) -> None:
        args = self.args
        self.world_size = args.world_size
        self.rank = args.process_index
        use_cuda = torch.cuda.is_available() and not args.use_cpu
        if self.world_size > 1:
            backend = args.ddp_backend or ("nccl" if use_cuda else "gloo")
            if not dist.is_initialized():
                if use_cuda:
                    torch.cuda.set_device(args.local_process_index)
                dist.init_process_group(backend=backend)
            if dist.get_world_size() != self.world_size:
                raise RuntimeError(
                    f"WORLD_SIZE says {self.world_size} processes but the process group has {dist.get_world_size()}"
                )
        self.device = torch.device(f"cuda:{args.local_process_index}" if use_cuda else "cpu")

    def _check_precision(self) -> None:
        if self.args.fp16 and self.device.type != "cuda":
            raise TrainerError("fp16 training needs a CUDA device; on the CPU use bf16=True (or neither)")
        if self.args.bf16 and self.device.type == "cuda" and not torch.cuda.is_bf16_supported():
            raise TrainerError("this GPU does not support bfloat16: use fp16=True instead")
        self.scaler = torch.amp.GradScaler("cuda") if self.args.fp16 else None

    def _autocast(self):
        if self.args.bf16:
            return torch.autocast(device_type=self.device.type, dtype=torch.bfloat16)
        if self.args.fp16:
            return torch.autocast(device_type="cuda", dtype=torch.float16)
        return nullcontext()

    def _tqdm_disabled(self) -> bool:
        if self.args.disable_tqdm is not None:
            return self.args.disable_tqdm
        return logger.getEffectiveLevel() > logging.WARNING

    def _default_collator(self) -> Callable:
        from ..data.data_collator import DataCollatorWithPadding, default_data_collator

        if self.processing_class is not None and hasattr(self.processing_class, "pad"):
            return DataCollatorWithPadding(self.processing_class)
        return default_data_collator

    def _unwrapped(self) -> nn.Module:
        return self.model

    def _forward_parameters(self) -> set[str]:
        return set(inspect.signature(self.model.forward).parameters)

    def _default_label_names(self) -> list[str]:
        if "start_positions" in self._forward_parameters():
            return ["start_positions", "end_positions"]
        return ["labels"]

    def is_world_process_zero(self) -> bool:
        return self.rank == 0

    def is_local_process_zero(self) -> bool:
        return self.args.local_process_index == 0

    # -- callbacks -------------------------------------------------------------------------------------------
    def add_callback(self, callback) -> None:
        self.callback_handler.add_callback(callback)

    def pop_callback(self, callback):
        return self.callback_handler.pop_callback(callback)

    def remove_callback(self, callback) -> None:
        self.callback_handler.remove_callback(callback)

    def _event(self, name: str, **kwargs: Any) -> None:
        self.control = self.callback_handler.call_event(name, self.args, self.state, self.control, **kwargs)

    # -- data ------------------------------------------------------------------------------------------------
    def _prepare_dataset(self, dataset: Any, description: str) -> tuple[Any, Callable]:
        """The dataset with the columns the model does not take removed, and the collator to use with it."""
        if dataset is None:
            raise TrainerError(f"Trainer needs a {description} dataset for this")
        collator = self.data_collator
        if not self.args.remove_unused_columns:
            return dataset, collator
        keep = self._forward_parameters() | set(self.label_names) | {"label", "label_ids"}
        column_names = getattr(dataset, "column_names", None)
        if isinstance(column_names, list) and hasattr(dataset, "remove_columns"):
            unused = [c for c in column_names if c not in keep]
            if unused and len(unused) == len(column_names):
                raise TrainerError(
                    f"none of the {description} dataset's columns {column_names} is an input of "
                    f"{type(self.model).__name__}.forward ({sorted(self._forward_parameters())}): tokenize the dataset "
                    "first (dataset.map(tokenize, batched=True)) or set remove_unused_columns=False"
                )
            if unused:
                logger.info("The following columns are not inputs of the model and are ignored: %s", unused)
                dataset = dataset.remove_columns(unused)
            return dataset, collator
        return dataset, _KeepColumns(collator, keep)

    def _loader(self, dataset: Any, batch_sampler: Sampler, collator: Callable) -> DataLoader:
        # A DataLoader draws a seed for its workers each time it is iterated; from a private generator, so
        # that starting an epoch (or resuming mid-epoch) leaves the global RNG, which dropout uses, untouched.
        workers_seed = torch.Generator().manual_seed(self.args.seed)
        return DataLoader(
            dataset,
            batch_sampler=batch_sampler,
            collate_fn=collator,
            num_workers=self.args.dataloader_num_workers,
            pin_memory=self.args.dataloader_pin_memory and self.device.type == "cuda",
            generator=workers_seed,
        )

    def get_train_dataloader(self) -> DataLoader:
        dataset, collator = self._prepare_dataset(self.train_dataset, "training")
        sampler = EpochBatchSampler(
            len(dataset),
            self.args.per_device_train_batch_size,
            shuffle=True,
            seed=self.args.data_seed if self.args.data_seed is not None else self.args.seed,
            rank=self.rank,
            world_size=self.world_size,
            drop_last=self.args.dataloader_drop_last,
        )
        return self._loader(dataset, sampler, collator)

    def get_eval_dataloader(self, eval_dataset: Any = None) -> DataLoader:
        return self._ordered_loader(eval_dataset if eval_dataset is not None else self.eval_dataset, "evaluation")

    def get_test_dataloader(self, test_dataset: Any) -> DataLoader:
        return self._ordered_loader(test_dataset, "test")

    def _ordered_loader(self, dataset: Any, description: str) -> DataLoader:
        dataset, collator = self._prepare_dataset(dataset, description)
        sampler = _ShardedEvalSampler(len(dataset), self.args.per_device_eval_batch_size, self.rank, self.world_size)
        return self._loader(dataset, sampler, collator)

    # -- optimizer and schedule ------------------------------------------------------------------------------
    def create_optimizer(self) -> torch.optim.Optimizer:
        if self.optimizer is None:
            args = self.args
            fused = args.optim == "adamw_torch_fused" and self.device.type in ("cpu", "cuda")
            self.optimizer = torch.optim.AdamW(
                parameter_groups(self.model, args.weight_decay),
                lr=args.learning_rate,
                betas=(args.adam_beta1, args.adam_beta2),
                eps=args.adam_epsilon,
                fused=fused or None,
            )
        return self.optimizer

    def create_scheduler(self, num_training_steps: int, optimizer: torch.optim.Optimizer | None = None):
        if self.lr_scheduler is None:
            self.lr_scheduler = get_scheduler(
                self.args.lr_scheduler_type,
                optimizer or self.optimizer,
                num_warmup_steps=self.args.get_warmup_steps(num_training_steps),
                num_training_steps=num_training_steps,
                scheduler_specific_kwargs=self.args.lr_scheduler_kwargs,
            )
        return self.lr_scheduler

    # -- loss ------------------------------------------------------------------------------------------------
    def _is_causal_lm(self) -> bool:
        name = type(self.model).__name__
        return name.endswith("ForCausalLM") or name.endswith("LMHeadModel")

    def _labelled_items(self, batch: dict[str, Any]) -> int:
        """How many items the model's mean loss averages over: label tokens for token-level losses (shifted
        by one for causal LMs), rows for sequence-level ones."""
        labels = batch.get("labels")
        if isinstance(labels, torch.Tensor):
            if labels.is_floating_point():
                return labels.numel()
            if labels.dim() >= 2 and self._is_causal_lm():
                return int((labels[..., 1:] != IGNORE_INDEX).sum())
            return int((labels != IGNORE_INDEX).sum())
        for value in batch.values():
            if isinstance(value, torch.Tensor) and value.dim() > 0:
                return value.shape[0]
        return 1

    def compute_loss(
        self, model: nn.Module, inputs: dict[str, Any], return_outputs: bool = False, num_items_in_batch=None
    ):
        """The model's own loss on one batch (override for a custom loss)."""
        outputs = model(**inputs)
        loss = _loss_of(outputs)
        if loss is None:
            raise TrainerError(
                f"{type(self.model).__name__} returned no loss: the batch must hold labels "
                f"({', '.join(self.label_names)}); its keys are {sorted(inputs)}"
            )
        return (loss, outputs) if return_outputs else loss

    def _to_device(self, batch: Any) -> Any:
        if isinstance(batch, Mapping):
            return {k: self._to_device(v) for k, v in batch.items()}
        if isinstance(batch, torch.Tensor):
            return batch.to(self.device, non_blocking=True)
        return batch

    def training_step(self, model: nn.Module, inputs: dict[str, Any], weight: float) -> torch.Tensor:
        """Forward and backward of one micro-batch whose mean loss counts with `weight` in the step."""
        model.train()
        with self._autocast():
            loss = self.compute_loss(model, inputs)
        scaled = loss * weight
        if self.scaler is not None:
            self.scaler.scale(scaled).backward()
        else:
            scaled.backward()
        return scaled.detach()

    # -- training --------------------------------------------------------------------------------------------
    def _windows(self, loader: DataLoader, accumulation: int, skip_steps: int) -> Iterator[_Window]:
        """An epoch's micro-batches grouped into optimizer steps (the last one may be shorter)."""
        batches: list[dict[str, Any]] = []
        for batch in loader:
            batches.append(batch)
            if len(batches) == accumulation:
                yield self._window(batches)
                batches = []
        if batches:
            yield self._window(batches)

    def _window(self, batches: list[dict[str, Any]]) -> _Window:
        items = float(sum(self._labelled_items(b) for b in batches))
        if self.world_size > 1:
            total = torch.tensor([items], dtype=torch.float64, device=self.device)
            dist.all_reduce(total)
            items = float(total.item())
        return _Window(batches, items)

    def train(self, resume_from_checkpoint: str | bool | None = None, trial: Any = None, **kwargs: Any) -> TrainOutput:
        """Train for `num_train_epochs` (or `max_steps`); `resume_from_checkpoint=True` continues from the
        latest checkpoint of `output_dir`, a path from that checkpoint."""
        if kwargs:
            raise TypeError(f"train() got unexpected keyword argument(s): {', '.join(sorted(kwargs))}")
        args = self.args
        checkpoint = self._resolve_checkpoint(resume_from_checkpoint)
        loader = self.get_train_dataloader()
        sampler: EpochBatchSampler = loader.batch_sampler
        accumulation = args.gradient_accumulation_steps
        batches_per_epoch = len(sampler)
        if batches_per_epoch == 0:
            raise TrainerError("the training dataset is empty (or smaller than one batch with dataloader_drop_last)")
        steps_per_epoch = math.ceil(batches_per_epoch / accumulation)
        if args.max_steps > 0:
            max_steps = args.max_steps
            num_epochs = math.ceil(max_steps / steps_per_epoch)
        else:
            max_steps = math.ceil(args.num_train_epochs * steps_per_epoch)
            num_epochs = math.ceil(args.num_train_epochs)

        self.create_optimizer()
        self.create_scheduler(max_steps)
        self.callback_handler.optimizer, self.callback_handler.lr_scheduler = self.optimizer, self.lr_scheduler
        self.callback_handler.train_dataloader = loader
        self.state = TrainerState(
            max_steps=max_steps,
            num_train_epochs=num_epochs,
            logging_steps=args.logging_steps,
            eval_steps=args.eval_steps if args.eval_steps is not None else args.logging_steps,
            save_steps=args.save_steps,
            train_batch_size=args.per_device_train_batch_size,
            is_local_process_zero=self.is_local_process_zero(),
            is_world_process_zero=self.is_world_process_zero(),
        )
        if checkpoint is not None:
            self._load_checkpoint(checkpoint)
        if self.world_size > 1:
            ddp_kwargs = {"device_ids": [self.device.index]} if self.device.type == "cuda" else {}
            if args.ddp_find_unused_parameters is not None:
                ddp_kwargs["find_unused_parameters"] = args.ddp_find_unused_parameters
            self.model_wrapped = nn.parallel.DistributedDataParallel(self.model, **ddp_kwargs)
        model = self.model_wrapped

        start_epoch = self.state.global_step // steps_per_epoch
        steps_done_in_epoch = self.state.global_step % steps_per_epoch
        total_batch = args.per_device_train_batch_size * accumulation * self.world_size
        start_time = time.time()
        self.control = TrainerControl()
        self._event("on_train_begin")
        loss_since_log = 0.0
        steps_since_log = 0
        loss_total = 0.0
        last_grad_norm: float | None = None
        self.optimizer.zero_grad(set_to_none=True)

        # Resuming a run that already reached max_steps (its last checkpoint is the final one) trains nothing.
        epochs = range(start_epoch, num_epochs) if self.state.global_step < max_steps else range(0)
        for epoch in epochs:
            skip = steps_done_in_epoch * accumulation if epoch == start_epoch else 0
            sampler.set_epoch(epoch, skip=skip)
            self.control._new_epoch()
            self._event("on_epoch_begin")
            step_in_epoch = steps_done_in_epoch if epoch == start_epoch else 0
            for window in self._windows(loader, accumulation, skip):
                self._event("on_step_begin")
                step_loss = torch.zeros((), device=self.device)
                for i, batch in enumerate(window.batches):
                    batch = self._to_device(batch)
                    # mean loss of this micro-batch, weighted by its share of the window's items; DDP averages
                    # gradients over processes, so each process's share is scaled back up by world_size
                    weight = self._labelled_items(batch) * self.world_size / max(window.items, 1.0)
                    last = i == len(window.batches) - 1
                    sync = model.no_sync() if (self.world_size > 1 and not last) else nullcontext()
                    with sync:
                        step_loss = step_loss + self.training_step(model, batch, weight)
                    if not last:
                        self._event("on_substep_end")
                last_grad_norm = self._optimizer_step()
                step_loss_value = self._mean_over_processes(step_loss)
                loss_since_log += step_loss_value
                loss_total += step_loss_value
                steps_since_log += 1
                step_in_epoch += 1
                self.state.global_step += 1
                self.state.epoch = epoch + step_in_epoch / steps_per_epoch
                self._event("on_step_end")
                if self.control.should_log:
                    self._log_training(loss_since_log / steps_since_log, last_grad_norm)
                    loss_since_log, steps_since_log = 0.0, 0
                self._maybe_evaluate_and_save()
                if self.control.should_epoch_stop or self.control.should_training_stop:
                    break
            self._event("on_epoch_end")
            if self.control.should_log and steps_since_log:
                self._log_training(loss_since_log / steps_since_log, last_grad_norm)
                loss_since_log, steps_since_log = 0.0, 0
            self._maybe_evaluate_and_save()
            if self.control.should_training_stop:
                break

        if args.load_best_model_at_end and self.state.best_model_checkpoint is not None:
            self._load_weights(Path(self.state.best_model_checkpoint))
        runtime = time.time() - start_time
        steps_run = self.state.global_step - self._resumed_step
        train_loss = loss_total / max(steps_run, 1)
        metrics = {
            "train_runtime": round(runtime, 4),
            "train_samples_per_second": round(steps_run * total_batch / runtime, 3) if runtime else 0.0,
            "train_steps_per_second": round(steps_run / runtime, 3) if runtime else 0.0,
            "total_flos": float(self.state.total_flos),
            "train_loss": train_loss,
            "epoch": self.state.epoch,
        }
        self.log(metrics)
        self._event("on_train_end")
        self.model_wrapped = self.model
        return TrainOutput(self.state.global_step, train_loss, metrics)

    _resumed_step = 0

    def _optimizer_step(self) -> float | None:
        """Clip, step, schedule; returns the gradient norm before clipping (None without clipping)."""
        self._event("on_pre_optimizer_step")
        grad_norm = None
        if self.scaler is not None:
            self.scaler.unscale_(self.optimizer)
        if self.args.max_grad_norm is not None and self.args.max_grad_norm > 0:
            grad_norm = float(torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.args.max_grad_norm))
        if self.scaler is not None:
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            self.optimizer.step()
        self._event("on_optimizer_step")
        self.lr_scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        return grad_norm

    def _mean_over_processes(self, value: torch.Tensor) -> float:
        if self.world_size > 1:
            value = value.detach().clone().to(torch.float64)
            dist.all_reduce(value)
            value = value / self.world_size
        return float(value)

    def _log_training(self, loss: float, grad_norm: float | None) -> None:
        logs: dict[str, float] = {"loss": round(loss, 4)}
        if grad_norm is not None:
            logs["grad_norm"] = grad_norm
        logs["learning_rate"] = self.lr_scheduler.get_last_lr()[0]
        self.log(logs)

    def log(self, logs: dict[str, float]) -> None:
        """Record `logs` (with the epoch) in `state.log_history` and hand them to the callbacks."""
        if self.state.epoch is not None:
            logs = {**logs, "epoch": self.state.epoch}
        self.state.log_history.append({**logs, "step": self.state.global_step})
        self._event("on_log", logs=logs)

    def _maybe_evaluate_and_save(self) -> None:
        if self.control.should_evaluate:
            metrics = self.evaluate()
            self._track_best(metrics)
            self.control.should_evaluate = False
        if self.control.should_save:
            self._save_checkpoint()
            self._event("on_save")
            self.control.should_save = False
        self.control.should_log = False

    def _track_best(self, metrics: dict[str, float]) -> None:
        name = self.args.metric_for_best_model
        if name is None:
            return
        key = name if name.startswith("eval_") else f"eval_{name}"
        if key not in metrics:
            raise KeyError(
                f"metric_for_best_model={name!r}: {key!r} is not among the evaluation metrics {sorted(metrics)}"
            )
        value = metrics[key]
        best = self.state.best_metric
        if best is None or (value > best if self.args.greater_is_better else value < best):
            self.state.best_metric = value
            self.state.best_global_step = self.state.global_step

    # -- checkpoints -----------------------------------------------------------------------------------------
    def _resolve_checkpoint(self, resume_from_checkpoint: str | bool | None) -> Path | None:
        self._resumed_step = 0
        if resume_from_checkpoint in (None, False):
            return None
        if resume_from_checkpoint is True:
            found = ckpt.last_checkpoint(self.args.output_dir)
            if found is None:
                raise CheckpointNotFoundError(
                    f"resume_from_checkpoint=True, but {self.args.output_dir!r} holds no complete checkpoint-<step> "
                    "folder: train without resuming, or pass the path of a checkpoint"
                )
            return found
        path = Path(resume_from_checkpoint)
        if not (path / ckpt.TRAINER_STATE).is_file():
            raise CheckpointNotFoundError(
                f"{str(path)!r} is not a checkpoint (no {ckpt.TRAINER_STATE}): pass a checkpoint-<step> folder "
                "written by Trainer, or True for the latest one in output_dir"
            )
        return path

    def _save_checkpoint(self) -> Path:
        args = self.args
        step = self.state.global_step
        staging = Path(args.output_dir) / f"tmp-{ckpt.PREFIX}-{step}"
        if self.is_world_process_zero():
            Path(args.output_dir).mkdir(parents=True, exist_ok=True)
            ckpt.remove_stale_staging(args.output_dir)
            staging.mkdir()
        target = Path(args.output_dir) / f"{ckpt.PREFIX}-{step}"
        if self.state.best_global_step == step and args.metric_for_best_model is not None:
            self.state.best_model_checkpoint = str(target)
        # Every process's generator state goes into the checkpoint, but only rank 0 writes files.
        states = [ckpt.rng_state()]
        if self.world_size > 1:
            states = [None] * self.world_size
            dist.all_gather_object(states, ckpt.rng_state())
        if self.is_world_process_zero():
            for rank, state in enumerate(states):
                torch.save(state, staging / ckpt.rng_state_name(rank, self.world_size))
            self._save_weights(staging)
            if not args.save_only_model:
                torch.save(self.optimizer.state_dict(), staging / ckpt.OPTIMIZER)
                torch.save(self.lr_scheduler.state_dict(), staging / ckpt.SCHEDULER)
                if self.scaler is not None:
                    torch.save(self.scaler.state_dict(), staging / ckpt.SCALER)
            self.state.save_to_json(str(staging / ckpt.TRAINER_STATE))
        self._barrier()
        if self.is_world_process_zero():
            ckpt.publish(staging, args.output_dir, step)
            ckpt.rotate(args.output_dir, args.save_total_limit, self.state.best_model_checkpoint)
        self._barrier()
        return target

    def _barrier(self) -> None:
        if self.world_size > 1:
            dist.barrier()

    def _save_weights(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        if hasattr(self.model, "save_pretrained"):
            self.model.save_pretrained(folder)
        else:
            from safetensors.torch import save_model

            save_model(self.model, str(folder / "model.safetensors"))
        if self.processing_class is not None and hasattr(self.processing_class, "save_pretrained"):
            self.processing_class.save_pretrained(folder)
        (folder / ckpt.TRAINING_ARGS).write_text(self.args.to_json_string(), encoding="utf-8")

    def _load_weights(self, folder: Path) -> None:
        from ..models.modeling_utils import PreTrainedModel, load_checkpoint

        if isinstance(self.model, PreTrainedModel):
            state_dict, source = load_checkpoint(folder)
            self.model._load_checkpoint_state(state_dict, source, ignore_mismatched_sizes=False)
        else:
            from safetensors.torch import load_model

            load_model(self.model, str(folder / "model.safetensors"), device=str(self.device))

    def _load_checkpoint(self, folder: Path) -> None:
        logger.info("Resuming training from %s", folder)
        self._load_weights(folder)
        optimizer_file = folder / ckpt.OPTIMIZER
        if not optimizer_file.is_file():
            raise CheckpointNotFoundError(
                f"{str(folder)!r} has no {ckpt.OPTIMIZER} (saved with save_only_model=True?): it cannot be resumed "
                "exactly; load its weights with from_pretrained and start a new training instead"
            )
        self.optimizer.load_state_dict(ckpt.load_tensors(optimizer_file))
        self.lr_scheduler.load_state_dict(ckpt.load_tensors(folder / ckpt.SCHEDULER))
        if self.scaler is not None and (folder / ckpt.SCALER).is_file():
            self.scaler.load_state_dict(ckpt.load_tensors(folder / ckpt.SCALER))
        saved = TrainerState.load_from_json(str(folder / ckpt.TRAINER_STATE))
        for name in (
            "global_step",
            "epoch",
            "log_history",
            "best_metric",
            "best_global_step",
            "best_model_checkpoint",
            "total_flos",
            "num_input_tokens_seen",
        ):
            setattr(self.state, name, getattr(saved, name))
        self._resumed_step = saved.global_step
        rng_file = folder / ckpt.rng_state_name(self.rank, self.world_size)
        if rng_file.is_file():
            ckpt.set_rng_state(ckpt.load_tensors(rng_file))
        else:
            logger.warning(
                "%s has no %s: random draws after resuming will differ from an uninterrupted run", folder, rng_file.name
            )

    def save_model(self, output_dir: str | None = None) -> None:
        """Write the model (and tokenizer, and the training arguments) where `from_pretrained` loads them."""
        folder = Path(output_dir or self.args.output_dir)
        if self.is_world_process_zero():
            self._save_weights(folder)
        self._barrier()

    def save_state(self) -> None:
        if self.is_world_process_zero():
            Path(self.args.output_dir).mkdir(parents=True, exist_ok=True)
            self.state.save_to_json(os.path.join(self.args.output_dir, ckpt.TRAINER_STATE))

    # -- evaluation ------------------------------------------------------------------------------------------
    def evaluate(self, eval_dataset: Any = None, ignore_keys: list[str] | None = None, metric_key_prefix: str = "eval"):
        """Loss and `compute_metrics` on the evaluation set; metrics are prefixed with `metric_key_prefix`.
        A dict of datasets is evaluated one by one, each prefixed with its name."""
        dataset = eval_dataset if eval_dataset is not None else self.eval_dataset
        if isinstance(dataset, dict):
            metrics: dict[str, float] = {}
            for name, part in dataset.items():
                metrics.update(self.evaluate(part, ignore_keys, f"{metric_key_prefix}_{name}"))
            return metrics
        loader = self.get_eval_dataloader(dataset)
        self.callback_handler.eval_dataloader = loader
        output = self._prediction_loop(loader, ignore_keys, metric_key_prefix, len(dataset))
        self.log(output.metrics)
        self._event("on_evaluate", metrics=output.metrics)
        return output.metrics

    def predict(self, test_dataset: Any, ignore_keys: list[str] | None = None, metric_key_prefix: str = "test"):
        """Predictions (logits), labels (when the dataset has them) and metrics on `test_dataset`."""
        loader = self.get_test_dataloader(test_dataset)
        self.callback_handler.eval_dataloader = loader
        output = self._prediction_loop(loader, ignore_keys, metric_key_prefix, len(test_dataset))
        self._event("on_predict", metrics=output.metrics)
        return output

    def _prediction_loop(self, loader: DataLoader, ignore_keys, prefix: str, size: int) -> PredictionOutput:
        model = self.model
        model.eval()
        start = time.time()
        losses: list[tuple[float, int]] = []
        predictions: list[Any] = []
        labels: list[Any] = []
        with torch.no_grad():
            for batch in loader:
                batch = self._to_device(batch)
                has_labels = all(batch.get(name) is not None for name in self.label_names)
                with self._autocast():
                    outputs = model(**batch)
                rows = next(v.shape[0] for v in batch.values() if isinstance(v, torch.Tensor) and v.dim() > 0)
                logits = self._logits_of(outputs, ignore_keys)
                if has_labels:
                    loss = _loss_of(outputs)
                    if loss is not None:
                        losses.append((float(loss), rows))
                    label = tuple(batch[n] for n in self.label_names)
                    labels.append(_to_numpy(label[0] if len(label) == 1 else label))
                if not self.args.prediction_loss_only and logits is not None:
                    if self.preprocess_logits_for_metrics is not None:
                        label_for = labels[-1] if has_labels else None
                        logits = self.preprocess_logits_for_metrics(logits, label_for)
                    predictions.append(_to_numpy(logits))
                self._event("on_prediction_step")
        predictions_all = _concat_nested(predictions) if predictions else None
        labels_all = _concat_nested(labels) if labels else None
        loss_sum = sum(loss * rows for loss, rows in losses)
        loss_rows = sum(rows for _, rows in losses)
        if self.world_size > 1:
            predictions_all, labels_all, loss_sum, loss_rows = self._gather(
                predictions_all, labels_all, loss_sum, loss_rows
            )
        if predictions_all is not None:
            predictions_all = _slice_nested(predictions_all, size)
        if labels_all is not None:
            labels_all = _slice_nested(labels_all, size)
        metrics: dict[str, float] = {}
        if self.compute_metrics is not None and predictions_all is not None and labels_all is not None:
            metrics.update(self.compute_metrics(EvalPrediction(predictions_all, labels_all)))
        if loss_rows:
            metrics["loss"] = loss_sum / loss_rows
        runtime = time.time() - start
        metrics.update(
            runtime=round(runtime, 4),
            samples_per_second=round(size / runtime, 3) if runtime else 0.0,
            steps_per_second=round(len(loader) / runtime, 3) if runtime else 0.0,
        )
        metrics = {
            (k if k.startswith(f"{prefix}_") else f"{prefix}_{k}"): (
                float(v) if isinstance(v, (np.floating, np.integer)) else v
            )
            for k, v in metrics.items()
        }
        return PredictionOutput(predictions_all, labels_all, metrics)

    def _logits_of(self, outputs: Any, ignore_keys: list[str] | None) -> Any:
        """The model outputs that are predictions: everything but the loss (and `ignore_keys`); one tensor
        stays one tensor, several (start and end logits) become a tuple."""
        ignore = set(ignore_keys or []) | {"loss", "past_key_values", "hidden_states", "attentions"}
        named = _fields(outputs)
        if named is not None:
            values = [v for k, v in named.items() if k not in ignore and isinstance(v, torch.Tensor)]
        elif isinstance(outputs, torch.Tensor):
            values = [outputs]
        else:
            start = 1 if _loss_of(outputs) is not None else 0
            values = [v for v in outputs[start:] if isinstance(v, torch.Tensor)]
        if not values:
            return None
        return values[0] if len(values) == 1 else tuple(values)

    def _gather(self, predictions, labels, loss_sum, loss_rows):
        """Everything the processes computed, in rank order (each evaluated a contiguous slice)."""
        gathered: list[Any] = [None] * self.world_size
        dist.all_gather_object(gathered, (predictions, labels, loss_sum, loss_rows))
        parts_p = [g[0] for g in gathered if g[0] is not None]
        parts_l = [g[1] for g in gathered if g[1] is not None]
        return (
            _concat_nested(parts_p) if parts_p else None,
            _concat_nested(parts_l) if parts_l else None,
            sum(g[2] for g in gathered),
            sum(g[3] for g in gathered),
        )
