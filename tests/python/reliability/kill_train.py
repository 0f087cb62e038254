"""The tiny training of `tests/python/trainer/train_script.py`, with a trap that SIGKILLs this process at
a chosen point: used by `test_trainer_kills.py`.

    python kill_train.py OUTPUT_DIR [--kill-at N] [--events FILE] [train_script options...]

Every place a Trainer run can be cut is an *event*, counted in order: an optimizer step (killed after the
weights moved, before the scheduler and the step count follow), each `torch.save` of a checkpoint (killed
halfway through writing the file: a torn file on disk), saving the weights and tokenizer, writing
`trainer_state.json`, flushing the staged folder, each `os.replace` of the publishing rename, and rotating
old checkpoints. `--kill-at N` kills the process at event N; `--events FILE` appends each event's name, and
a `started` line at the first optimizer step, so the test can time a kill of its own.
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import os
import signal
import sys
from pathlib import Path

import torch

TRAIN_SCRIPT = Path(__file__).resolve().parents[1] / "trainer" / "train_script.py"


def install_traps(kill_at: int | None, events_path: str | None) -> None:
    from ferroformers.models.modeling_utils import PreTrainedModel
    from ferroformers.trainer import checkpoint
    from ferroformers.trainer.callbacks import TrainerState

    count = 0

    def event(name: str) -> bool:
        """Record the event; True when this is the one to die at."""
        nonlocal count
        count += 1
        if events_path:
            with open(events_path, "a") as log:
                log.write(f"{count} {name}\n")
        return count == kill_at

    def die() -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    def around(owner, attribute: str, name: str, after: bool = False):
        real = getattr(owner, attribute)

        def trapped(*args, **kwargs):
            if not after and event(name):
                die()
            result = real(*args, **kwargs)
            if after and event(name):
                die()
            return result

        setattr(owner, attribute, trapped)

    real_save = torch.save

    def torn_save(obj, f, *args, **kwargs):
        if isinstance(f, (str, os.PathLike)) and event(f"torch.save {Path(f).name}"):
            buffer = io.BytesIO()
            real_save(obj, buffer, *args, **kwargs)
            data = buffer.getvalue()
            with open(f, "wb") as out:  # half the file reaches the disk, then the process dies
                out.write(data[: len(data) // 2])
                out.flush()
                os.fsync(out.fileno())
            die()
        return real_save(obj, f, *args, **kwargs)

    torch.save = torn_save

    real_step = torch.optim.AdamW.step
    started = False

    def trapped_step(self, *args, **kwargs):
        nonlocal started
        if not started and events_path:
            started = True
            with open(events_path, "a") as log:
                log.write("started\n")
        result = real_step(self, *args, **kwargs)
        if event("optimizer step"):
            die()  # the weights moved; the scheduler and global_step did not
        return result

    torch.optim.AdamW.step = trapped_step
    around(PreTrainedModel, "save_pretrained", "save weights", after=True)
    around(TrainerState, "save_to_json", "trainer_state.json", after=True)
    around(checkpoint, "_fsync_tree", "flush staged folder", after=True)
    around(os, "replace", "rename")
    around(os, "replace", "renamed", after=True)
    around(checkpoint, "rotate", "rotate old checkpoints")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("output_dir")
    parser.add_argument("--kill-at", type=int)
    parser.add_argument("--events")
    options, rest = parser.parse_known_args()
    install_traps(options.kill_at, options.events)
    spec = importlib.util.spec_from_file_location("train_script", TRAIN_SCRIPT)
    train_script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train_script)
    sys.argv = [str(TRAIN_SCRIPT), options.output_dir, *rest]
    train_script.main()


if __name__ == "__main__":
    main()
