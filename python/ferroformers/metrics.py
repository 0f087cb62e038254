"""Evaluation metrics for classification and token classification, in numpy only.

Two ways in:

- Functions with scikit-learn's arguments and results, true labels first: `accuracy`, `precision`, `recall`,
  `f1` (`average="binary" | "micro" | "macro" | "weighted" | None`, `pos_label`, `labels`, `sample_weight`,
  `zero_division`), `matthews_corrcoef`, and `seqeval` for entities in IOB2 tags (seqeval's default,
  conlleval-like, mode), with its helper `get_entities`.

      >>> f1([0, 1, 1, 0], [0, 1, 0, 0])
      0.6666666666666666

- `load(name)`, the `evaluate` library's interface: an object whose `compute(predictions=..., references=...)`
  returns a dict (`{"f1": ...}`), and which can accumulate batches with `add_batch` first. Names:
  "accuracy", "precision", "recall", "f1", "matthews_correlation", "seqeval".

      >>> load("accuracy").compute(predictions=[0, 1, 1], references=[0, 1, 0])
      {'accuracy': 0.6666666666666666}

Labels are class ids (ints, integral floats, bools) or strings, one per example; multilabel (2-d) targets
are not supported. Like scikit-learn, a ratio with a zero denominator gives `zero_division` ("warn": 0.0 and
an `UndefinedMetricWarning`; or 0.0, 1.0, nan).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any, Callable

import numpy as np

__all__ = [
    "UndefinedMetricWarning",
    "accuracy",
    "precision",
    "recall",
    "f1",
    "matthews_corrcoef",
    "get_entities",
    "seqeval",
    "Metric",
    "load",
    "list_metrics",
]

_AVERAGES = (None, "micro", "macro", "weighted", "binary")


class UndefinedMetricWarning(UserWarning):
    """A score was 0/0 and was set to `zero_division` (scikit-learn's warning of the same name)."""


# -- label checks ----------------------------------------------------------------------------------
def _as_numpy(values, name: str) -> np.ndarray:
    if hasattr(values, "detach"):  # torch tensors, wherever they live
        values = values.detach().cpu().numpy()
    try:
        array = np.asarray(values)
    except ValueError as err:
        raise ValueError(f"{name} must be one label per example (a 1-d sequence): {err}") from None
    return array


def _labels_array(values, name: str) -> np.ndarray:
    """One label per example as a 1-d array of numbers (integral) or strings, with clear errors otherwise."""
    array = _as_numpy(values, name)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array.ravel()  # a column vector is one label per row
    if array.ndim != 1:
        raise ValueError(
            f"{name} must be one class label per example (a 1-d sequence); got shape {array.shape}. Multilabel "
            "and multioutput targets are not supported; for logits pass logits.argmax(-1)."
        )
    if array.size == 0:
        raise ValueError(f"{name} is empty: a metric needs at least one example.")
    if array.dtype == object:
        is_str = [isinstance(v, str) for v in array]
        if all(is_str):
            array = array.astype(str)
        elif any(is_str):
            raise ValueError(f"Mix of label input types (string and number) in {name}: use one kind of label.")
        elif any(v is None for v in array):
            raise ValueError(f"{name} contains None: every example needs a label.")
        else:
            try:
                array = array.astype(np.float64)
            except (TypeError, ValueError):
                raise ValueError(f"{name} must hold class labels (numbers or strings).") from None
    kind = array.dtype.kind
    if kind == "f":
        if not np.all(np.isfinite(array)):
            raise ValueError(f"{name} contains NaN or infinity: labels must be class ids.")
        if np.any(array != np.round(array)):
            raise ValueError(
                f"{name} holds continuous values (non-integer floats); classification metrics need class labels. "
                "For model outputs pass the predicted classes (logits.argmax(-1))."
            )
    elif kind not in "biuUS":
        raise ValueError(f"{name} must hold class labels (numbers or strings), got dtype {array.dtype}.")
    return array


def _is_text(array: np.ndarray) -> bool:
    return array.dtype.kind in "US"


def _check_targets(y_true, y_pred, sample_weight=None):
    """(kind: 'binary' or 'multiclass', sorted labels present in either, y_true, y_pred, sample_weight)."""
    y_true = _labels_array(y_true, "y_true")
    y_pred = _labels_array(y_pred, "y_pred")
    if len(y_true) != len(y_pred):
        raise ValueError(
            f"Found input variables with inconsistent numbers of samples: [{len(y_true)}, {len(y_pred)}] "
            "(y_true and y_pred need one label per example each)."
        )
    if _is_text(y_true) != _is_text(y_pred):
        raise ValueError("Mix of label input types (string and number): y_true and y_pred must use the same kind.")
    if sample_weight is not None:
        sample_weight = _as_numpy(sample_weight, "sample_weight").astype(np.float64).ravel()
        if sample_weight.shape != y_true.shape:
            raise ValueError(
                f"sample_weight has {sample_weight.size} values for {len(y_true)} examples; "
                "give one weight per example."
            )
    present = np.unique(np.concatenate([y_true, y_pred]))
    kind = "binary" if len(present) <= 2 else "multiclass"
    return kind, present, y_true, y_pred, sample_weight


def _check_zero_division(zero_division) -> float:
    if isinstance(zero_division, str):
        if zero_division == "warn":
            return 0.0
    elif isinstance(zero_division, (int, float, np.number)) and not isinstance(zero_division, bool):
        if math.isnan(zero_division) or zero_division in (0, 1):
            return float(zero_division)
    raise ValueError(f'zero_division must be "warn", 0, 1 or np.nan, got {zero_division!r}')


def _divide(numerator, denominator, metric: str, modifier: str, average, warn_for, zero_division):
    """numerator / denominator per label; where the denominator is 0 the result is `zero_division` (0.0 and
    a warning for "warn", when `metric` is one the caller reports)."""
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = np.asarray(denominator, dtype=np.float64)
    empty = denominator == 0
    result = numerator / np.where(empty, 1.0, denominator)
    if not empty.any():
        return result
    result[empty] = _check_zero_division(zero_division)
    if zero_division == "warn" and metric in warn_for:
        where = "due to" if result.size == 1 else "in labels with"
        warnings.warn(
            f"{metric.capitalize()} is ill-defined and being set to 0.0 {where} no {modifier} samples. "
            "Use `zero_division` parameter to control this behavior.",
            UndefinedMetricWarning,
            stacklevel=4,
        )
    return result


def _nan_average(values: np.ndarray, weights: np.ndarray | None = None) -> float:
    """The (weighted) mean, skipping NaN scores; all weights 0 means an unweighted mean (scikit-learn's rule)."""
    if values.size == 0:
        return float("nan")
    keep = ~np.isnan(values)
    if not keep.any():
        return float("nan")
    if weights is None:
        return float(np.mean(values[keep]))
    values, weights = values[keep], np.asarray(weights, dtype=np.float64)[keep]
    if weights.sum() == 0:
        return float(np.mean(values))
    return float(np.average(values, weights=weights))


def _label_list(labels, present: np.ndarray) -> np.ndarray:
    array = _as_numpy(labels, "labels").ravel()
    if array.size and _is_text(array) != _is_text(present):
        kinds = ("strings", "numbers") if _is_text(array) else ("numbers", "strings")
        raise ValueError(f"labels are {kinds[0]} but the targets are {kinds[1]}: use labels of the targets' kind.")
    return array


def _per_label_counts(y_true, y_pred, labels: np.ndarray, sample_weight):
    """True positives, predicted and true counts (weighted) of each label in `labels`."""
    classes = np.unique(np.concatenate([y_true, y_pred, labels]))
    true_ids = np.searchsorted(classes, y_true)
    pred_ids = np.searchsorted(classes, y_pred)
    hit = true_ids == pred_ids
    n = len(classes)
    hit_weights = None if sample_weight is None else sample_weight[hit]
    tp = np.bincount(true_ids[hit], weights=hit_weights, minlength=n)
    predicted = np.bincount(pred_ids, weights=sample_weight, minlength=n)
    actual = np.bincount(true_ids, weights=sample_weight, minlength=n)
    chosen = np.searchsorted(classes, labels)
    return tp[chosen], predicted[chosen], actual[chosen]


def _binary_labels(kind: str, present: np.ndarray, average, labels, pos_label):
    """scikit-learn's rules for which labels a set-wise score covers."""
    if average not in _AVERAGES:
        if average == "samples":
            raise ValueError("average='samples' applies to multilabel targets, which are not supported.")
        raise ValueError(f"average has to be one of {_AVERAGES}, got {average!r}")
    if average == "binary":
        if kind != "binary":
            raise ValueError(
                "Target is multiclass but average='binary'. Please choose another average setting, one of "
                f"{[None, 'micro', 'macro', 'weighted']}."
            )
        if pos_label not in present.tolist() and len(present) >= 2:
            raise ValueError(f"pos_label={pos_label!r} is not a valid label. It should be one of {present.tolist()}")
        return np.asarray([pos_label])
    if pos_label not in (None, 1):
        warnings.warn(
            f"Note that pos_label (set to {pos_label!r}) is ignored when average != 'binary' (got {average!r}). "
            "You may use labels=[pos_label] to specify a single positive class.",
            UserWarning,
            stacklevel=4,
        )
    return labels


def _precision_recall_f1(y_true, y_pred, labels, pos_label, average, sample_weight, zero_division, warn_for):
    _check_zero_division(zero_division)
    kind, present, y_true, y_pred, sample_weight = _check_targets(y_true, y_pred, sample_weight)
    labels = _binary_labels(kind, present, average, labels, pos_label)
    labels = present if labels is None else _label_list(labels, present)
    tp, predicted, actual = _per_label_counts(y_true, y_pred, labels, sample_weight)
    if average == "micro":
        tp, predicted, actual = tp.sum(keepdims=True), predicted.sum(keepdims=True), actual.sum(keepdims=True)
    p = _divide(tp, predicted, "precision", "predicted", average, warn_for, zero_division)
    r = _divide(tp, actual, "recall", "true", average, warn_for, zero_division)
    # F1 = 2 tp / (2 tp + fp + fn) = 2 tp / (true + predicted), defined whenever either count is non-zero.
    f = _divide(2 * tp, actual + predicted, "f-score", "true nor predicted", average, warn_for, zero_division)
    if average is None:
        return p, r, f
    weights = actual if average == "weighted" else None
    return _nan_average(p, weights), _nan_average(r, weights), _nan_average(f, weights)


# -- classification metrics ------------------------------------------------------------------------
def accuracy(y_true, y_pred, *, normalize: bool = True, sample_weight=None) -> float:
    """Share of examples whose prediction equals the label (`normalize=False`: their (weighted) count).

    >>> accuracy([0, 1, 2, 2], [0, 2, 2, 2])
    0.75
    """
    _, _, y_true, y_pred, sample_weight = _check_targets(y_true, y_pred, sample_weight)
    correct = (y_true == y_pred).astype(np.float64)
    if not normalize:
        return float(correct.sum() if sample_weight is None else np.dot(correct, sample_weight))
    if sample_weight is not None and sample_weight.sum() == 0:
        raise ValueError("sample_weight sums to 0: the weighted accuracy is undefined.")
    return float(np.average(correct, weights=sample_weight))


def precision(
    y_true,
    y_pred,
    *,
    labels=None,
    pos_label=1,
    average: str | None = "binary",
    sample_weight=None,
    zero_division="warn",
):
    """tp / (tp + fp): of the examples predicted as a class, the share that are. A float, or one value per
    label (an array, in `labels` order or sorted) with `average=None`.

    >>> precision([0, 1, 2, 0, 1, 2], [0, 2, 1, 0, 0, 1], average="macro")
    0.2222222222222222
    """
    p, _, _ = _precision_recall_f1(
        y_true, y_pred, labels, pos_label, average, sample_weight, zero_division, ("precision",)
    )
    return p


def recall(
    y_true,
    y_pred,
    *,
    labels=None,
    pos_label=1,
    average: str | None = "binary",
    sample_weight=None,
    zero_division="warn",
):
    """tp / (tp + fn): of the examples of a class, the share predicted as it (see `precision` for the arguments).

    >>> recall([0, 1, 2, 0, 1, 2], [0, 2, 1, 0, 0, 1], average="macro")
    0.3333333333333333
    """
    _, r, _ = _precision_recall_f1(
        y_true, y_pred, labels, pos_label, average, sample_weight, zero_division, ("recall",)
    )
    return r


def f1(
    y_true,
    y_pred,
    *,
    labels=None,
    pos_label=1,
    average: str | None = "binary",
    sample_weight=None,
    zero_division="warn",
):
    """The harmonic mean of precision and recall, 2 tp / (2 tp + fp + fn) (see `precision` for the arguments).

    >>> f1([0, 1, 2, 0, 1, 2], [0, 2, 1, 0, 0, 1], average="micro")
    0.3333333333333333
    """
    _, _, f = _precision_recall_f1(
        y_true, y_pred, labels, pos_label, average, sample_weight, zero_division, ("f-score",)
    )
    return f


def matthews_corrcoef(y_true, y_pred, *, sample_weight=None) -> float:
    """The Matthews correlation coefficient (multiclass form), from -1 to 1; 0.0 when it is undefined
    (a constant label or prediction).

    >>> matthews_corrcoef([1, 1, 1, 0], [1, 0, 1, 1])
    -0.3333333333333333
    """
    _, present, y_true, y_pred, sample_weight = _check_targets(y_true, y_pred, sample_weight)
    n = len(present)
    cells = np.searchsorted(present, y_true) * n + np.searchsorted(present, y_pred)
    confusion = np.bincount(cells, weights=sample_weight, minlength=n * n).reshape(n, n).astype(np.float64)
    true_totals = confusion.sum(axis=1)
    pred_totals = confusion.sum(axis=0)
    correct = np.trace(confusion)
    total = pred_totals.sum()
    cov_true_pred = correct * total - np.dot(true_totals, pred_totals)
    cov_pred_pred = total**2 - np.dot(pred_totals, pred_totals)
    cov_true_true = total**2 - np.dot(true_totals, true_totals)
    if cov_pred_pred * cov_true_true == 0:
        return 0.0
    return float(cov_true_pred / np.sqrt(cov_pred_pred * cov_true_true))


# -- entities (seqeval) ----------------------------------------------------------------------------
def _split_tag(tag: str, suffix: bool) -> tuple[str, str]:
    """('B', 'PER') from 'B-PER' ('PER-B' with suffix=True); 'O' has the empty type '_'."""
    if suffix:
        return tag[-1:], tag[:-1].rsplit("-", maxsplit=1)[0] or "_"
    return tag[:1], tag[1:].split("-", maxsplit=1)[-1] or "_"


def _ends_chunk(prev_tag: str, tag: str, prev_type: str, type_: str) -> bool:
    """Whether the chunk open at the previous token closes before this one (conlleval's rules)."""
    if prev_tag in ("E", "S"):
        return True
    if prev_tag in ("B", "I") and tag in ("B", "S", "O"):
        return True
    return prev_tag not in ("O", ".") and prev_type != type_


def _starts_chunk(prev_tag: str, tag: str, prev_type: str, type_: str) -> bool:
    """Whether a chunk starts at this token: at B/S, at an I/E that does not continue a chunk, at a type change."""
    if tag in ("B", "S"):
        return True
    if tag in ("E", "I") and prev_tag in ("E", "S", "O"):
        return True
    return tag not in ("O", ".") and prev_type != type_


def get_entities(tags, suffix: bool = False) -> list[tuple[str, int, int]]:
    """The entities `(type, first, last)` (inclusive token positions) of IOB-style tags, as seqeval finds them.

    A list of sentences is read as one sequence with an "O" after each sentence, so positions run on across
    sentences. An I- tag after O or after another type opens a new entity (the lenient conlleval reading).

    >>> get_entities(["B-PER", "I-PER", "O", "I-LOC"])
    [('PER', 0, 1), ('LOC', 3, 3)]
    """
    tags = list(tags)
    if any(isinstance(t, (list, tuple)) for t in tags):
        tags = [tag for sentence in tags for tag in [*sentence, "O"]]
    entities = []
    prev_tag, prev_type, begin = "O", "", 0
    for i, chunk in enumerate([*tags, "O"]):
        if not isinstance(chunk, str):
            raise TypeError(f"tags must be strings like 'B-PER', 'I-PER', 'O'; got {chunk!r} at position {i}")
        if chunk not in ("O", "B", "I", "E", "S"):
            known = chunk.endswith(("-B", "-I", "-E", "-S")) if suffix else chunk.startswith(("B-", "I-", "E-", "S-"))
            if not known:
                warnings.warn(f"{chunk} seems not to be NE tag.", UserWarning, stacklevel=2)
        tag, type_ = _split_tag(chunk, suffix)
        if _ends_chunk(prev_tag, tag, prev_type, type_):
            entities.append((prev_type, begin, i - 1))
        if _starts_chunk(prev_tag, tag, prev_type, type_):
            begin = i
        prev_tag, prev_type = tag, type_
    return entities


def _sentences(values, name: str) -> list[list[str]]:
    if isinstance(values, str) or not isinstance(values, (Sequence, np.ndarray)):
        raise TypeError(f"{name} must be a list of sentences, each a list of tags; got {type(values).__name__}")
    out = []
    for i, sentence in enumerate(values):
        if isinstance(sentence, str) or not isinstance(sentence, (Sequence, np.ndarray)):
            raise TypeError(
                f"{name}[{i}] must be a list of tags (one sentence), got {type(sentence).__name__}: pass a list of "
                "sentences, e.g. [['B-PER', 'I-PER', 'O']]."
            )
        out.append(list(sentence))
    return out


def seqeval(y_true, y_pred, *, suffix: bool = False, zero_division="warn") -> dict[str, Any]:
    """Entity-level scores of IOB2 tag sequences, as the `evaluate` library's "seqeval" metric returns them.

    An entity counts as found when a predicted entity has the same type, start and end. Per type (sorted):
    precision, recall, f1 and `number` (entities of that type in `y_true`); overall: micro-averaged
    precision / recall / f1 and the token-level accuracy (every tag, "O" included).

    >>> seqeval([["B-PER", "I-PER", "O"]], [["B-PER", "I-PER", "O"]])["overall_f1"]
    1.0
    """
    y_true = _sentences(y_true, "references")
    y_pred = _sentences(y_pred, "predictions")
    true_lengths, pred_lengths = [len(s) for s in y_true], [len(s) for s in y_pred]
    if true_lengths != pred_lengths:
        raise ValueError(
            "Found input variables with inconsistent numbers of samples: every sentence needs as many predicted "
            f"tags as reference tags.\n{true_lengths}\n{pred_lengths}"
        )
    if sum(true_lengths) == 0:
        raise ValueError("seqeval got no tags: give at least one sentence with at least one tag.")
    if not (zero_division == "warn" or (not isinstance(zero_division, str) and zero_division in (0, 1))):
        raise ValueError(f'zero_division must be "warn", 0 or 1 for seqeval, got {zero_division!r}')
    true_entities: dict[str, set] = {}
    pred_entities: dict[str, set] = {}
    for type_, begin, end in get_entities(y_true, suffix):
        true_entities.setdefault(type_, set()).add((begin, end))
    for type_, begin, end in get_entities(y_pred, suffix):
        pred_entities.setdefault(type_, set()).add((begin, end))
    types = sorted(set(true_entities) | set(pred_entities))
    tp = np.array([len(true_entities.get(t, set()) & pred_entities.get(t, set())) for t in types], dtype=np.int64)
    predicted = np.array([len(pred_entities.get(t, ())) for t in types], dtype=np.int64)
    actual = np.array([len(true_entities.get(t, ())) for t in types], dtype=np.int64)

    def scores(tp, predicted, actual):
        warn_for = ("precision", "recall")
        p = _divide(tp, predicted, "precision", "predicted", None, warn_for, zero_division)
        r = _divide(tp, actual, "recall", "true", None, warn_for, zero_division)
        # seqeval takes F1 from precision and recall (not from counts): it matters with zero_division=1.
        denominator = p + r
        f = 2 * p * r / np.where(denominator == 0, 1.0, denominator)
        return p, r, f

    result: dict[str, Any] = {}
    p, r, f = scores(tp, predicted, actual)
    for i, type_ in enumerate(types):
        result[type_] = {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "number": int(actual[i])}
    p, r, f = scores(tp.sum(keepdims=True), predicted.sum(keepdims=True), actual.sum(keepdims=True))
    result["overall_precision"] = float(p[0])
    result["overall_recall"] = float(r[0])
    result["overall_f1"] = float(f[0])
    flat_true = [tag for sentence in y_true for tag in sentence]
    flat_pred = [tag for sentence in y_pred for tag in sentence]
    result["overall_accuracy"] = sum(a == b for a, b in zip(flat_true, flat_pred)) / len(flat_true)
    return result


# -- evaluate-style metric objects -----------------------------------------------------------------
def _as_list(values, name: str) -> list:
    if values is None:
        raise ValueError(f"{name} is missing: give both predictions and references.")
    if hasattr(values, "detach"):
        values = values.detach().cpu()
    if hasattr(values, "tolist"):
        values = values.tolist()
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise TypeError(f"{name} must be a sequence (list, array, tensor) with one entry per example, got {values!r}")
    return list(values)


class Metric:
    """A metric with the `evaluate` library's interface: `compute(predictions=..., references=..., **kwargs)`
    returns a dict; `add_batch(predictions=..., references=...)` (or `add` for one example) accumulates
    examples that the next `compute` scores together, after which they are cleared.

        >>> metric = load("f1")
        >>> metric.add_batch(predictions=[0, 1], references=[0, 1])
        >>> metric.add_batch(predictions=[1], references=[0])
        >>> metric.compute()
        {'f1': 0.6666666666666666}
    """

    def __init__(self, name: str, score: Callable[..., dict], options: tuple[str, ...], description: str):
        self.name = name
        self.description = description
        self._score = score
        self._options = options
        self._predictions: list = []
        self._references: list = []

    def add_batch(self, *, predictions=None, references=None) -> None:
        predictions = _as_list(predictions, "predictions")
        references = _as_list(references, "references")
        if len(predictions) != len(references):
            raise ValueError(
                f"{self.name}: {len(predictions)} predictions for {len(references)} references; give one "
                "prediction per reference."
            )
        self._predictions += predictions
        self._references += references

    def add(self, *, prediction=None, reference=None) -> None:
        if prediction is None or reference is None:
            raise ValueError(f"{self.name}.add needs both prediction= and reference=.")
        self.add_batch(predictions=[prediction], references=[reference])

    def compute(self, *, predictions=None, references=None, **kwargs) -> dict[str, Any]:
        unknown = sorted(set(kwargs) - set(self._options))
        if unknown:
            raise TypeError(
                f"{self.name}.compute got unexpected arguments {unknown}; it accepts {list(self._options)}."
            )
        if predictions is not None or references is not None:
            self.add_batch(predictions=predictions, references=references)
        if not self._predictions:
            raise ValueError(
                f"{self.name}: nothing to compute. Pass predictions= and references= to compute(), or call "
                "add_batch()/add() first (compute() clears what was added)."
            )
        predictions, references = self._predictions, self._references
        self._predictions, self._references = [], []
        return self._score(predictions, references, **kwargs)

    def __repr__(self) -> str:
        return f"Metric(name={self.name!r}, options={list(self._options)})"


def _single_or_array(value):
    array = np.asarray(value)
    return float(array.reshape(-1)[0]) if array.size == 1 else array


def _seqeval_entry(predictions, references, suffix=False, scheme=None, mode=None, zero_division="warn"):
    if mode is not None or scheme is not None:
        raise ValueError(
            "seqeval: only the default (conlleval) mode is available: leave scheme and mode unset "
            f"(got scheme={scheme!r}, mode={mode!r})."
        )
    return seqeval(references, predictions, suffix=suffix, zero_division=zero_division)


_SET_WISE = ("labels", "pos_label", "average", "sample_weight", "zero_division")
_METRICS: dict[str, tuple[Callable[..., dict], tuple[str, ...], str]] = {
    "accuracy": (
        lambda p, r, **kw: {"accuracy": accuracy(r, p, **kw)},
        ("normalize", "sample_weight"),
        "Share of correct predictions.",
    ),
    "precision": (
        lambda p, r, **kw: {"precision": _single_or_array(precision(r, p, **kw))},
        _SET_WISE,
        "tp / (tp + fp), averaged as asked.",
    ),
    "recall": (
        lambda p, r, **kw: {"recall": _single_or_array(recall(r, p, **kw))},
        _SET_WISE,
        "tp / (tp + fn), averaged as asked.",
    ),
    "f1": (
        lambda p, r, **kw: {"f1": _single_or_array(f1(r, p, **kw))},
        _SET_WISE,
        "Harmonic mean of precision and recall, averaged as asked.",
    ),
    "matthews_correlation": (
        lambda p, r, **kw: {"matthews_correlation": matthews_corrcoef(r, p, **kw)},
        ("sample_weight",),
        "Matthews correlation coefficient.",
    ),
    "seqeval": (
        _seqeval_entry,
        ("suffix", "scheme", "mode", "zero_division"),
        "Entity-level precision/recall/F1 of IOB tag sequences, per type and overall, plus token accuracy.",
    ),
}


def list_metrics() -> list[str]:
    """The names `load` accepts."""
    return list(_METRICS)


def load(name: str) -> Metric:
    """A metric by its `evaluate` name ("accuracy", "precision", "recall", "f1", "matthews_correlation",
    "seqeval"; an "evaluate-metric/" prefix is accepted).

    >>> load("matthews_correlation").compute(predictions=[1, 0, 1], references=[1, 0, 0])
    {'matthews_correlation': 0.5}
    """
    if not isinstance(name, str):
        raise TypeError(f"load expects a metric name (str), got {type(name).__name__}")
    key = name[len("evaluate-metric/") :] if name.startswith("evaluate-metric/") else name
    if key not in _METRICS:
        raise ValueError(f"Unknown metric {name!r}. Available metrics: {', '.join(_METRICS)}.")
    score, options, description = _METRICS[key]
    return Metric(key, score, options, description)
