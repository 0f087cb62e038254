"""Fine-tuning: `Trainer`, `TrainingArguments`, callbacks and learning-rate schedules (transformers' names)."""

from __future__ import annotations

from ..generation.utils import set_seed
from .callbacks import (
    EarlyStoppingCallback,
    PrinterCallback,
    ProgressCallback,
    TensorBoardCallback,
    TrainerCallback,
    TrainerControl,
    TrainerState,
)
from .optimization import get_scheduler
from .trainer import EvalPrediction, PredictionOutput, Trainer, TrainOutput, enable_full_determinism
from .training_args import TrainingArguments

__all__ = [
    "EarlyStoppingCallback",
    "EvalPrediction",
    "PredictionOutput",
    "PrinterCallback",
    "ProgressCallback",
    "TensorBoardCallback",
    "TrainOutput",
    "Trainer",
    "TrainerCallback",
    "TrainerControl",
    "TrainerState",
    "TrainingArguments",
    "enable_full_determinism",
    "get_scheduler",
    "set_seed",
]
