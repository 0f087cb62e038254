"""Weights and training states load only through safetensors or `torch.load(weights_only=True)`:
a pickle that would run code is refused before any of it runs.

- A `pytorch_model.bin` whose pickle writes a marker file when unpickled (a malicious `__reduce__`) is
  refused by `from_pretrained` with a `ModelFileError`, and the marker never appears (the same payload
  does write it through plain `pickle.load`, so the test would see a loader that runs it).
- A Trainer checkpoint's state file with the same payload is refused too.
- The source tree has no unsafe loader: an AST walk over `python/ferroformers` finds no `pickle` /
  `dill` / `joblib` / `marshal` load, every `torch.load(` passes `weights_only=True` and no
  `np.load(` passes `allow_pickle=True`.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import transformers

import ferroformers as ff
from ferroformers.errors import ModelFileError
from ferroformers.trainer import checkpoint

SOURCE = Path(ff.__file__).resolve().parent


class WritesMarker:
    """Unpickling this calls `exec`, which writes the marker file: what an attacker's checkpoint does."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({str(self.marker)!r}, 'w').write('pwned')",))


def _malicious_bin(path: Path, marker: Path) -> None:
    torch.save({"transformer.wte.weight": torch.zeros(2, 2), "payload": WritesMarker(marker)}, path)


def test_the_payload_is_live(tmp_path):
    """Plain pickle runs the payload (in a subprocess): the refusals below are the loaders' doing."""
    marker = tmp_path / "marker"
    _malicious_bin(tmp_path / "evil.bin", marker)
    code = f"import torch; torch.load({str(tmp_path / 'evil.bin')!r}, weights_only=False)"
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, timeout=120)
    assert marker.read_text() == "pwned"


def test_from_pretrained_refuses_a_pickle_that_runs_code(tmp_path):
    folder = tmp_path / "model"
    transformers.GPT2Config(vocab_size=10, n_embd=8, n_layer=1, n_head=2, n_positions=8).save_pretrained(folder)
    marker = tmp_path / "marker"
    _malicious_bin(folder / "pytorch_model.bin", marker)
    with pytest.raises(ModelFileError, match="weights_only=True"):
        ff.AutoModelForCausalLM.from_pretrained(folder)
    assert not marker.exists()


def test_checkpoint_state_refuses_a_pickle_that_runs_code(tmp_path):
    marker = tmp_path / "marker"
    _malicious_bin(tmp_path / "optimizer.pt", marker)
    with pytest.raises(ModelFileError, match="weights_only=True"):
        checkpoint.load_tensors(tmp_path / "optimizer.pt")
    assert not marker.exists()


UNSAFE_MODULES = {"pickle", "cPickle", "_pickle", "dill", "joblib", "marshal", "shelve", "cloudpickle"}


def _unsafe_calls(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [node.module] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            found += [(node.lineno, f"import {n}") for n in names if n and n.split(".")[0] in UNSAFE_MODULES]
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        owner = node.func.value.id if isinstance(node.func.value, ast.Name) else None
        keywords = {k.arg: k.value for k in node.keywords}
        if owner == "torch" and node.func.attr == "load":
            safe = keywords.get("weights_only")
            if not (isinstance(safe, ast.Constant) and safe.value is True):
                found.append((node.lineno, "torch.load without weights_only=True"))
        if owner in ("np", "numpy") and node.func.attr == "load":
            allow = keywords.get("allow_pickle")
            if allow is not None and not (isinstance(allow, ast.Constant) and allow.value is False):
                found.append((node.lineno, "np.load with allow_pickle"))
    return found


def test_source_tree_has_no_unsafe_loader():
    files = sorted(SOURCE.rglob("*.py"))
    assert len(files) > 50  # the walk really covers the package
    problems = []
    torch_loads = 0
    for file in files:
        source = file.read_text(encoding="utf-8")
        torch_loads += source.count("torch.load(")
        problems += [f"{file.relative_to(SOURCE)}:{line}: {what}" for line, what in _unsafe_calls(ast.parse(source))]
    assert torch_loads >= 2  # modeling_utils and the trainer's checkpoints: both checked above
    assert problems == []


def test_the_source_check_catches_unsafe_loaders():
    bad = (
        "import pickle\nimport torch\ntorch.load(p)\ntorch.load(p, weights_only=False)\nnp.load(p, allow_pickle=True)\n"
    )
    assert [what for _, what in _unsafe_calls(ast.parse(bad))] == [
        "import pickle",
        "torch.load without weights_only=True",
        "torch.load without weights_only=True",
        "np.load with allow_pickle",
    ]
