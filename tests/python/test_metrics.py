"""ferroformers.metrics against scikit-learn (the reference; a test-only dependency) on seeded random labels,
and the entity-level (seqeval) scores on IOB2 sequences whose entities are counted by hand."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest
import sklearn.metrics as skm
from sklearn.exceptions import UndefinedMetricWarning as SkUndefinedMetricWarning

from ferroformers import metrics
from ferroformers.metrics import UndefinedMetricWarning

AVERAGES = ("binary", "micro", "macro", "weighted", None)
ZERO_DIVISIONS = ("warn", 0, 1, 0.0, 1.0, np.nan)
PRF = {"precision": skm.precision_score, "recall": skm.recall_score, "f1": skm.f1_score}


def _same(ours, ref):
    ours, ref = np.asarray(ours, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    assert ours.shape == ref.shape, (ours, ref)
    np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-15, equal_nan=True)


def _call_both(name, y_true, y_pred, **kwargs):
    """(ours, reference, our warnings, reference warnings), or both exceptions' types when both raise."""
    with warnings.catch_warnings(record=True) as ours_warned:
        warnings.simplefilter("always")
        try:
            ours = getattr(metrics, name)(y_true, y_pred, **kwargs)
        except ValueError as err:
            ours = err
    with warnings.catch_warnings(record=True) as ref_warned:
        warnings.simplefilter("always")
        try:
            ref = PRF[name](y_true, y_pred, **kwargs)
        except ValueError as err:
            ref = err
    return ours, ref, ours_warned, ref_warned


def _random_case(rng: np.random.Generator):
    """Labels from a few classes, some of them missing from y_true or y_pred, sometimes strings."""
    n = int(rng.integers(1, 40))
    n_classes = int(rng.integers(1, 6))
    y_true = rng.integers(0, n_classes, n)
    y_pred = rng.integers(0, n_classes, n)
    if rng.random() < 0.3:  # a class only predicted, never true (and the reverse)
        y_pred[rng.random(n) < 0.2] = n_classes
    if rng.random() < 0.2:
        y_true[:] = y_true[0]
    if rng.random() < 0.25:
        names = np.array(["cat", "dog", "emu", "fox", "gnu", "hen", "ibis"])
        y_true, y_pred = names[y_true], names[y_pred]
    weights = rng.random(n) * 3 if rng.random() < 0.3 else None
    return y_true, y_pred, weights


@pytest.mark.parametrize("name", ["precision", "recall", "f1"])
def test_precision_recall_f1_match_sklearn_on_random_labels(name):
    rng = np.random.default_rng(1234)
    compared = raised = 0
    for case in range(100):
        y_true, y_pred, weights = _random_case(rng)
        text = y_true.dtype.kind == "U"
        present = np.unique(np.concatenate([y_true, y_pred]))
        pos_labels = [1] if not text else [present[0], present[-1]]
        label_sets = [None, list(present[::-1][:2])]
        if not text:
            label_sets.append([0, 7])  # 7 never occurs: its scores are 0/0
        for average in AVERAGES:
            for zero_division in ZERO_DIVISIONS[case % 3 :: 3]:
                for pos_label in pos_labels:
                    for labels in label_sets:
                        kwargs = dict(
                            average=average,
                            zero_division=zero_division,
                            pos_label=pos_label,
                            labels=labels,
                            sample_weight=weights,
                        )
                        ours, ref, ours_warned, ref_warned = _call_both(name, y_true, y_pred, **kwargs)
                        if isinstance(ref, Exception):
                            assert isinstance(ours, ValueError), (kwargs, ref, ours)
                            raised += 1
                            continue
                        assert not isinstance(ours, Exception), (kwargs, ours)
                        _same(ours, ref)
                        assert isinstance(ours, float) == isinstance(ref, float)
                        undefined_ours = [w for w in ours_warned if issubclass(w.category, UndefinedMetricWarning)]
                        undefined_ref = [w for w in ref_warned if issubclass(w.category, SkUndefinedMetricWarning)]
                        assert bool(undefined_ours) == bool(undefined_ref), (kwargs, undefined_ours, undefined_ref)
                        compared += 1
    assert compared > 800 and raised > 25  # both paths were exercised


def test_zero_division_edge_cases_match_sklearn():
    cases = [
        ([0, 0, 0], [0, 0, 0]),  # no positive anywhere: binary precision and recall are 0/0
        ([1, 1, 0], [0, 0, 0]),  # nothing predicted positive
        ([0, 0, 0], [1, 0, 1]),  # no true positive class
        ([2, 2, 2], [2, 2, 2]),  # one class, not the pos_label
        (["a", "a"], ["a", "a"]),
    ]
    for y_true, y_pred in cases:
        for name in PRF:
            for average in AVERAGES:
                for zero_division in ZERO_DIVISIONS:
                    for labels in (None, [1], [0, 1, 5]) if not isinstance(y_true[0], str) else (None, ["a", "b"]):
                        kwargs = dict(average=average, zero_division=zero_division, labels=labels)
                        if isinstance(y_true[0], str):
                            kwargs["pos_label"] = "a"
                        ours, ref, ours_warned, ref_warned = _call_both(name, y_true, y_pred, **kwargs)
                        if isinstance(ref, Exception):
                            assert isinstance(ours, ValueError), (y_true, y_pred, kwargs, ours)
                            continue
                        _same(ours, ref)
                        assert any(issubclass(w.category, UndefinedMetricWarning) for w in ours_warned) == any(
                            issubclass(w.category, SkUndefinedMetricWarning) for w in ref_warned
                        ), (y_true, y_pred, kwargs)


def test_accuracy_and_matthews_match_sklearn_on_random_labels():
    rng = np.random.default_rng(99)
    for _ in range(300):
        y_true, y_pred, weights = _random_case(rng)
        for normalize in (True, False):
            assert metrics.accuracy(y_true, y_pred, normalize=normalize, sample_weight=weights) == pytest.approx(
                skm.accuracy_score(y_true, y_pred, normalize=normalize, sample_weight=weights), rel=1e-12
            )
        ours = metrics.matthews_corrcoef(y_true, y_pred, sample_weight=weights)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # sklearn: "A single label was found"
            ref = skm.matthews_corrcoef(y_true, y_pred, sample_weight=weights)
        assert isinstance(ours, float) and ours == pytest.approx(ref, rel=1e-12, abs=1e-15)
    # constant predictions make the coefficient undefined: both return 0.0
    assert metrics.matthews_corrcoef([0, 1, 1], [1, 1, 1]) == skm.matthews_corrcoef([0, 1, 1], [1, 1, 1]) == 0.0
    assert metrics.matthews_corrcoef([0, 1, 2], [0, 1, 2]) == pytest.approx(1.0)


def test_inputs_other_than_int_lists():
    import torch

    y_true, y_pred = [0, 1, 2, 2, 1], [0, 2, 2, 2, 1]
    ref = skm.f1_score(y_true, y_pred, average="macro")
    for convert in (np.array, torch.tensor, lambda v: np.array(v, dtype=np.float32), lambda v: np.array(v)[:, None]):
        assert metrics.f1(convert(y_true), convert(y_pred), average="macro") == pytest.approx(ref, rel=1e-12)
    # booleans are a binary problem whose positive label is True (== 1)
    assert metrics.precision([True, False, True], [True, True, True]) == skm.precision_score(
        [True, False, True], [True, True, True]
    )


def test_clear_errors_for_bad_inputs():
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        metrics.accuracy([0, 1], [0, 1, 1])
    with pytest.raises(ValueError, match="continuous"):
        metrics.f1([0, 1], [0.2, 0.9])
    with pytest.raises(ValueError, match="Multilabel"):
        metrics.accuracy([[0, 1], [1, 0]], [[0, 1], [1, 1]])
    with pytest.raises(ValueError, match="string and number"):
        metrics.accuracy(["a", "b"], [0, 1])
    with pytest.raises(ValueError, match="multiclass but average='binary'"):
        metrics.f1([0, 1, 2], [0, 1, 1])
    with pytest.raises(ValueError, match="pos_label=1 is not a valid label"):
        metrics.recall(["a", "b"], ["a", "a"])
    with pytest.raises(ValueError, match="average has to be one of"):
        metrics.precision([0, 1], [0, 1], average="mean")
    with pytest.raises(ValueError, match="zero_division"):
        metrics.precision([0, 1], [0, 1], zero_division=0.5)
    with pytest.raises(ValueError, match="empty"):
        metrics.accuracy([], [])
    with pytest.raises(ValueError, match="one weight per example"):
        metrics.accuracy([0, 1], [0, 1], sample_weight=[1.0])
    with pytest.raises(ValueError, match="labels are strings"):
        metrics.f1([0, 1, 2], [0, 1, 1], average="macro", labels=["a"])
    with pytest.warns(UserWarning, match="pos_label"):
        metrics.f1([0, 1, 2], [0, 1, 1], average="macro", pos_label=2)


# -- seqeval ---------------------------------------------------------------------------------------
def test_get_entities_hand_checked():
    # B opens, I of the same type continues, O / B / another type closes.
    assert metrics.get_entities(["B-PER", "I-PER", "O", "B-LOC", "B-LOC", "I-LOC"]) == [
        ("PER", 0, 1),
        ("LOC", 3, 3),
        ("LOC", 4, 5),
    ]
    # conlleval leniency: an I- after O or after another type starts an entity.
    assert metrics.get_entities(["I-PER", "I-PER", "I-ORG", "O", "I-MISC"]) == [
        ("PER", 0, 1),
        ("ORG", 2, 2),
        ("MISC", 4, 4),
    ]
    # B-X followed by I-Y: two entities.
    assert metrics.get_entities(["B-PER", "I-LOC"]) == [("PER", 0, 0), ("LOC", 1, 1)]
    # sentences are joined with an "O" in between, so positions run on and entities never cross sentences.
    assert metrics.get_entities([["B-PER", "I-PER"], ["I-PER", "O"]]) == [("PER", 0, 1), ("PER", 3, 3)]
    assert metrics.get_entities(["PER-B", "PER-I", "O"], suffix=True) == [("PER", 0, 1)]
    assert metrics.get_entities(["O", "O"]) == []
    with pytest.warns(UserWarning, match="seems not to be NE tag"):
        metrics.get_entities(["PER", "O"])


def _seqeval_by_hand(per_type: dict, tokens: tuple[int, int]) -> dict:
    """Expected dict from hand counts: per_type = {type: (found, predicted, true)}; tokens = (correct, total)."""

    def prf(tp, pred, true):
        p = tp / pred if pred else 0.0
        r = tp / true if true else 0.0
        return p, r, (2 * p * r / (p + r) if p + r else 0.0)

    out = {}
    for type_ in sorted(per_type):
        p, r, f = prf(*per_type[type_])
        out[type_] = {"precision": p, "recall": r, "f1": f, "number": per_type[type_][2]}
    totals = [sum(v[i] for v in per_type.values()) for i in range(3)]
    out["overall_precision"], out["overall_recall"], out["overall_f1"] = prf(*totals)
    out["overall_accuracy"] = tokens[0] / tokens[1]
    return out


def _assert_scores(ours: dict, expected: dict):
    assert list(ours) == list(expected)
    for key, value in expected.items():
        if isinstance(value, dict):
            assert ours[key]["number"] == value["number"] and isinstance(ours[key]["number"], int)
            for field in ("precision", "recall", "f1"):
                assert ours[key][field] == pytest.approx(value[field], abs=1e-12), (key, field)
        else:
            assert ours[key] == pytest.approx(value, abs=1e-12), key


SEQEVAL_CASES = [
    # The evaluate library's seqeval example (references and predictions swapped): the MISC span is off by
    # one token, so it is missed; PER is found.
    (
        [["O", "O", "B-MISC", "I-MISC", "I-MISC", "I-MISC", "O"], ["B-PER", "I-PER", "O"]],
        [["O", "O", "O", "B-MISC", "I-MISC", "I-MISC", "O"], ["B-PER", "I-PER", "O"]],
        # true MISC [2,5], predicted MISC [3,5]: not the same span. PER [8,9] (after the joining O) found.
        {"MISC": (0, 1, 1), "PER": (1, 1, 1)},
        (8, 10),
    ),
    (
        # Everything right, with two types and adjacent entities of the same type.
        [["B-PER", "B-PER", "I-PER", "O", "B-LOC"]],
        [["B-PER", "B-PER", "I-PER", "O", "B-LOC"]],
        {"PER": (2, 2, 2), "LOC": (1, 1, 1)},
        (5, 5),
    ),
    (
        # Wrong type (ORG for LOC), a spurious entity, and an entity split in two by a B.
        [["B-LOC", "I-LOC", "O", "O", "B-PER", "I-PER", "I-PER"]],
        [["B-ORG", "I-ORG", "O", "B-PER", "B-PER", "I-PER", "B-PER"]],
        # true: LOC[0,1], PER[4,6]; predicted: ORG[0,1], PER[3,3], PER[4,5], PER[6,6]
        {"LOC": (0, 0, 1), "ORG": (0, 1, 0), "PER": (0, 3, 1)},
        (3, 7),
    ),
    (
        # I- without B- in the predictions still forms entities (conlleval), and they match the truth here.
        [["B-ORG", "I-ORG", "O", "B-MISC"], ["O", "B-PER"]],
        [["I-ORG", "I-ORG", "O", "I-MISC"], ["O", "I-PER"]],
        {"ORG": (1, 1, 1), "MISC": (1, 1, 1), "PER": (1, 1, 1)},
        (3, 6),
    ),
    (
        # An entity at the end of one sentence and one at the start of the next stay two entities.
        [["O", "B-PER"], ["I-PER", "O"]],
        [["O", "B-PER"], ["I-PER", "O"]],
        {"PER": (2, 2, 2)},
        (4, 4),
    ),
    (
        # The prediction extends the entity by one token: not found; plus a missed LOC.
        [["B-PER", "I-PER", "O", "B-LOC", "O"]],
        [["B-PER", "I-PER", "I-PER", "O", "O"]],
        {"PER": (0, 1, 1), "LOC": (0, 0, 1)},
        (3, 5),
    ),
]


@pytest.mark.parametrize("references,predictions,per_type,tokens", SEQEVAL_CASES)
def test_seqeval_hand_counted(references, predictions, per_type, tokens):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        ours = metrics.load("seqeval").compute(predictions=predictions, references=references)
        direct = metrics.seqeval(references, predictions)
    _assert_scores(ours, _seqeval_by_hand(per_type, tokens))
    assert direct == ours


def test_seqeval_zero_division():
    # No entity predicted: precision is 0/0.
    refs, preds = [["B-PER", "O"]], [["O", "O"]]
    with pytest.warns(UndefinedMetricWarning):
        scores = metrics.seqeval(refs, preds)
    assert scores["PER"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "number": 1}
    scores = metrics.seqeval(refs, preds, zero_division=1)
    assert scores["PER"]["precision"] == 1.0 and scores["PER"]["f1"] == 0.0 and scores["overall_recall"] == 0.0
    # No entities at all: only token accuracy is meaningful; overall scores are zero_division.
    scores = metrics.seqeval([["O"]], [["O"]], zero_division=1)
    assert scores == {"overall_precision": 1.0, "overall_recall": 1.0, "overall_f1": 1.0, "overall_accuracy": 1.0}
    with pytest.raises(ValueError, match="inconsistent"):
        metrics.seqeval([["O", "O"]], [["O"]])
    with pytest.raises(TypeError, match="list of tags"):
        metrics.seqeval(["B-PER", "O"], ["B-PER", "O"])
    with pytest.raises(ValueError, match="default"):
        metrics.load("seqeval").compute(predictions=[["O"]], references=[["O"]], mode="strict", scheme="IOB2")


def test_seqeval_matches_token_level_counts_on_random_tags():
    """Random IOB2 tag sequences: our entities, counted by an independent simple scan of B-/I- runs, give the
    same per-type numbers (for well-formed IOB2, where every entity starts with B-)."""
    rng = np.random.default_rng(5)
    types = ["PER", "LOC", "ORG"]

    def random_sentence(n):
        tags, inside = [], None
        for _ in range(n):
            r = rng.random()
            if r < 0.4:
                tags.append("O")
                inside = None
            elif r < 0.7 or inside is None:
                inside = types[rng.integers(0, 3)]
                tags.append("B-" + inside)
            else:
                tags.append("I-" + inside)
        return tags

    def spans(sentences):
        out, offset = set(), 0
        for sentence in sentences:
            start = None
            for i, tag in enumerate([*sentence, "O"]):
                if start is not None and not tag.startswith("I-"):
                    out.add((sentence[start][2:], offset + start, offset + i - 1))
                    start = None
                if tag.startswith("B-"):
                    start = i
            offset += len(sentence) + 1
        return out

    for _ in range(50):
        lengths = rng.integers(1, 12, size=rng.integers(1, 5))
        refs = [random_sentence(n) for n in lengths]
        preds = [random_sentence(n) if rng.random() < 0.5 else list(s) for n, s in zip(lengths, refs)]
        true_spans, pred_spans = spans(refs), spans(preds)
        assert set(metrics.get_entities(refs)) == true_spans
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UndefinedMetricWarning)
            scores = metrics.seqeval(refs, preds)
        for type_ in {t for t, _, _ in true_spans | pred_spans}:
            found = len({s for s in true_spans & pred_spans if s[0] == type_})
            true_n = len({s for s in true_spans if s[0] == type_})
            pred_n = len({s for s in pred_spans if s[0] == type_})
            assert scores[type_]["number"] == true_n
            assert scores[type_]["precision"] == pytest.approx(found / pred_n if pred_n else 0.0)
            assert scores[type_]["recall"] == pytest.approx(found / true_n if true_n else 0.0)


# -- evaluate-style objects ------------------------------------------------------------------------
def test_load_compute_and_add_batch():
    rng = np.random.default_rng(7)
    y_true, y_pred = rng.integers(0, 3, 50), rng.integers(0, 3, 50)
    expected = {
        "accuracy": ({}, {"accuracy": skm.accuracy_score(y_true, y_pred)}),
        "precision": ({"average": "macro"}, {"precision": skm.precision_score(y_true, y_pred, average="macro")}),
        "recall": ({"average": "weighted"}, {"recall": skm.recall_score(y_true, y_pred, average="weighted")}),
        "f1": ({"average": "micro"}, {"f1": skm.f1_score(y_true, y_pred, average="micro")}),
        "matthews_correlation": ({}, {"matthews_correlation": skm.matthews_corrcoef(y_true, y_pred)}),
    }
    for name, (kwargs, want) in expected.items():
        metric = metrics.load(name)
        assert metric.name == name
        result = metric.compute(predictions=y_pred, references=y_true, **kwargs)
        assert list(result) == list(want) and result[name] == pytest.approx(want[name], rel=1e-12)
        assert type(result[name]) is float
        # the same through batches (numpy, lists and torch tensors), then one more example with add()
        import torch

        metric.add_batch(predictions=y_pred[:20], references=y_true[:20])
        metric.add_batch(predictions=y_pred[20:49].tolist(), references=torch.tensor(y_true[20:49]))
        metric.add(prediction=int(y_pred[49]), reference=int(y_true[49]))
        assert metric.compute(**kwargs)[name] == pytest.approx(want[name], rel=1e-12)
        with pytest.raises(ValueError, match="nothing to compute"):
            metric.compute()  # compute() cleared the examples, as evaluate does
    # per-class scores come back as an array (a float when there is a single class), like evaluate
    per_class = metrics.load("f1").compute(predictions=y_pred, references=y_true, average=None)["f1"]
    _same(per_class, skm.f1_score(y_true, y_pred, average=None))
    binary = metrics.load("precision").compute(predictions=[1, 0, 1], references=[1, 1, 1], average=None)
    _same(binary["precision"], skm.precision_score([1, 1, 1], [1, 0, 1], average=None))
    seq = metrics.load("seqeval")
    seq.add_batch(predictions=[["B-PER", "O"]], references=[["B-PER", "O"]])
    seq.add_batch(predictions=[["O", "B-LOC"]], references=[["B-LOC", "I-LOC"]])
    _assert_scores(seq.compute(), _seqeval_by_hand({"PER": (1, 1, 1), "LOC": (0, 1, 1)}, (2, 4)))


def test_load_errors():
    with pytest.raises(ValueError, match="Available metrics: accuracy, precision, recall, f1, matthews_correlation"):
        metrics.load("bleu")
    assert metrics.list_metrics() == ["accuracy", "precision", "recall", "f1", "matthews_correlation", "seqeval"]
    assert metrics.load("evaluate-metric/f1").name == "f1"
    metric = metrics.load("accuracy")
    with pytest.raises(TypeError, match="unexpected arguments \\['average'\\]"):
        metric.compute(predictions=[0], references=[0], average="macro")
    with pytest.raises(ValueError, match="1 predictions for 2 references"):
        metric.add_batch(predictions=[0], references=[0, 1])
    with pytest.raises(ValueError, match="references is missing"):
        metric.compute(predictions=[0, 1])


def test_metrics_module_is_numpy_only():
    code = (
        "import sys, ferroformers; m = ferroformers.metrics; m.load('f1').compute(predictions=[0, 1], "
        "references=[0, 1]); assert 'torch' not in sys.modules and 'sklearn' not in sys.modules, sorted(sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
