"""Checkpoints: `output_dir/checkpoint-<step>/`, written whole or not at all.

A checkpoint is assembled in a temporary sibling folder (`tmp-checkpoint-<step>`), each file flushed
to disk, then renamed into place: a save killed midway leaves a `tmp-` folder that nothing reads, and the
previous `checkpoint-*` stays the latest. Everything is loaded without unpickling code: weights through
safetensors, optimizer/scheduler/RNG state through `torch.load(weights_only=True)`, the rest as JSON.

Files: the model (`model.safetensors` + `config.json`), the tokenizer's files, `optimizer.pt`,
`scheduler.pt`, `rng_state.pth` (`rng_state_<rank>.pth` with several processes), `trainer_state.json`,
`training_args.json`.
"""

from __future__ import annotations

import os
import random
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import ModelFileError

PREFIX = "checkpoint"
TRAINER_STATE = "trainer_state.json"
TRAINING_ARGS = "training_args.json"
OPTIMIZER = "optimizer.pt"
SCHEDULER = "scheduler.pt"
SCALER = "scaler.pt"
_CHECKPOINT = re.compile(rf"^{PREFIX}-(\d+)$")


def rng_state_name(rank: int, world_size: int) -> str:
    return "rng_state.pth" if world_size <= 1 else f"rng_state_{rank}.pth"


def checkpoints(output_dir: str | os.PathLike) -> list[Path]:
    """The complete checkpoints of `output_dir`, oldest (lowest step) first."""
    folder = Path(output_dir)
    if not folder.is_dir():
        return []
    found = [
        (int(m.group(1)), path)
        for path in folder.iterdir()
        if (m := _CHECKPOINT.match(path.name)) and path.is_dir() and (path / TRAINER_STATE).is_file()
    ]
    return [path for _, path in sorted(found)]


def last_checkpoint(output_dir: str | os.PathLike) -> Path | None:
    found = checkpoints(output_dir)
    return found[-1] if found else None


def _fsync_tree(folder: Path) -> None:
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            with open(path, "rb") as f:
                os.fsync(f.fileno())
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(staging: Path, output_dir: str | os.PathLike, step: int) -> Path:
    """Make the staged folder the checkpoint of `step`: flush it, then one rename."""
    target = Path(output_dir) / f"{PREFIX}-{step}"
    _fsync_tree(staging)
    if target.exists():
        # saving the same step again (e.g. the final save right after a periodic one): replace it whole
        old = target.with_name(f"old-{target.name}-{os.getpid()}")
        os.replace(target, old)
        os.replace(staging, target)
        shutil.rmtree(old)
    else:
        os.replace(staging, target)
    fd = os.open(Path(output_dir), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    return target


def remove_stale_staging(output_dir: str | os.PathLike) -> None:
    """Delete the half-written folders a killed save left behind."""
    folder = Path(output_dir)
    if folder.is_dir():
        for path in folder.iterdir():
            if path.is_dir() and (path.name.startswith(f"tmp-{PREFIX}-") or path.name.startswith(f"old-{PREFIX}-")):
                shutil.rmtree(path, ignore_errors=True)


def rotate(output_dir: str | os.PathLike, limit: int | None, keep: str | None) -> None:
    """Delete the oldest checkpoints beyond `limit`, never the one in `keep` (the best model)."""
    if limit is None or limit <= 0:
        return
    found = checkpoints(output_dir)
    keep_path = Path(keep).resolve() if keep else None
    if keep_path is not None and limit == 1 and found and found[-1].resolve() != keep_path:
        limit = 2  # keep the best and the latest, so training can still resume
    removable = [p for p in found if p.resolve() != keep_path]
    excess = len(found) - limit
    for path in removable[: max(0, excess)]:
        shutil.rmtree(path, ignore_errors=True)


# -- random number generators -------------------------------------------------------------------------------
def rng_state() -> dict[str, Any]:
    """Python's, NumPy's and torch's generator states as tensors and plain values (loadable with weights_only)."""
    version, internal, gauss = random.getstate()
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state: dict[str, Any] = {
        "python": {"version": version, "internal": torch.tensor(internal, dtype=torch.int64), "gauss": gauss},
        "numpy": {
            "kind": kind,
            "keys": torch.from_numpy(keys.astype(np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached),
        },
        "cpu": torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    python = state["python"]
    random.setstate((python["version"], tuple(int(x) for x in python["internal"].tolist()), python["gauss"]))
    numpy = state["numpy"]
    np.random.set_state(
        (
            numpy["kind"],
            numpy["keys"].numpy().astype(np.uint32),
            numpy["pos"],
            numpy["has_gauss"],
            numpy["cached_gaussian"],
        )
    )
    torch.set_rng_state(state["cpu"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def load_tensors(path: Path) -> Any:
    """torch.load without code execution: only tensors and plain containers come back."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as err:  # UnpicklingError for a pickle holding code, RuntimeError for a truncated file
        raise ModelFileError(
            f"Could not read the checkpoint file {str(path)!r} with torch.load(weights_only=True) (corrupt, "
            f"truncated, or a pickle holding more than tensors): {err}"
        ) from err
