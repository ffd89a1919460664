"""Measure the detector on a HateCheck-style CSV (``test_case``, ``label_gold``, ``functionality``),
or on labelled posts in JSONL (``text`` and ``demo_label`` hateful|benign, as in ``seeds/demo_posts.jsonl``;
the functionality is ``<demo_kind>_<language>``).

A case counts as predicted hateful when any community's detection reaches the
flag threshold: the same decision the pipeline takes before creating a flag.
``evaluation_run`` does the work; ``evaluation_lines`` formats the report the
``evaluate_detector`` command prints, ending with
``RESULT accuracy=<x> f1_hateful=<y>``.
"""
from __future__ import annotations

import csv
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

HATEFUL = "hateful"
REQUIRED_COLUMNS = ("test_case", "label_gold", "functionality")


class EvaluationFileError(ValueError):
    """The CSV cannot be evaluated; the message says why."""


@dataclass(frozen=True)
class Case:
    case_id: str
    functionality: str
    text: str
    gold: bool  # True when hateful


@dataclass(frozen=True)
class Outcome:
    case: Case
    predicted: bool
    score: float
    community: str | None
    categories: tuple[str, ...]

    @property
    def correct(self) -> bool:
        return self.predicted == self.case.gold

    @property
    def error_size(self) -> float:
        """How wrong the score was: distance from the side it should have been on."""
        return (1.0 - self.score) if self.case.gold else self.score


@dataclass
class Evaluation:
    outcomes: list[Outcome]
    threshold: float
    per_functionality: dict[str, tuple[int, int]] = field(default_factory=dict)  # name → (correct, total)

    @property
    def accuracy(self) -> float:
        return sum(o.correct for o in self.outcomes) / len(self.outcomes) if self.outcomes else 0.0

    def counts(self) -> tuple[int, int, int]:
        """(true positives, false positives, false negatives) of the hateful class."""
        tp = sum(o.predicted and o.case.gold for o in self.outcomes)
        fp = sum(o.predicted and not o.case.gold for o in self.outcomes)
        fn = sum(not o.predicted and o.case.gold for o in self.outcomes)
        return tp, fp, fn

    @property
    def precision(self) -> float:
        tp, fp, _ = self.counts()
        return tp / (tp + fp) if tp + fp else 0.0

    @property
    def recall(self) -> float:
        tp, _, fn = self.counts()
        return tp / (tp + fn) if tp + fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def worst_errors(self, n: int = 20) -> list[Outcome]:
        wrong = [o for o in self.outcomes if not o.correct]
        return sorted(wrong, key=lambda o: (-o.error_size, o.case.case_id))[:n]


def cases_read(path: Path | str, *, split: str | None = None) -> list[Case]:
    """Read the cases of a HateCheck-style CSV (or labelled JSONL posts); raise ``EvaluationFileError`` when malformed.

    ``split``: keep only the CSV rows whose ``split`` column has this value (``seeds/eval/reviewer_set.csv``
    has a ``design`` and a ``holdout`` half).
    """
    path = Path(path)
    if path.suffix == ".jsonl":
        if split is not None:
            raise EvaluationFileError(f"{path}: a split can only be chosen in a CSV with a split column")
        return _jsonl_cases_read(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            required = [*REQUIRED_COLUMNS, "split"] if split is not None else REQUIRED_COLUMNS
            missing = [c for c in required if c not in (reader.fieldnames or [])]
            if missing:
                raise EvaluationFileError(f"{path}: missing column(s) {', '.join(missing)}")
            cases = []
            for line, row in enumerate(reader, start=2):
                if split is not None and (row.get("split") or "").strip() != split:
                    continue
                label = (row.get("label_gold") or "").strip().lower()
                if label not in (HATEFUL, "non-hateful"):
                    raise EvaluationFileError(f"{path}:{line}: label_gold must be hateful or non-hateful, not {label!r}")
                cases.append(
                    Case(
                        case_id=(row.get("case_id") or str(line)).strip(),
                        functionality=(row.get("functionality") or "").strip() or "(none)",
                        text=row.get("test_case") or "",
                        gold=label == HATEFUL,
                    )
                )
    except OSError as exc:
        raise EvaluationFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise EvaluationFileError(f"{path}: not a UTF-8 CSV file ({exc})") from None
    if not cases:
        raise EvaluationFileError(f"{path}: no cases" + (f" in split {split!r}" if split is not None else ""))
    return cases


def _jsonl_cases_read(path: Path) -> list[Case]:
    """Labelled posts, one JSON object a line: ``text`` and ``demo_label`` (or ``label``) hateful|benign|non-hateful."""
    cases = []
    try:
        with path.open(encoding="utf-8-sig") as handle:
            for line, raw in enumerate(handle, start=1):
                if not raw.strip():
                    continue
                try:
                    row = json.loads(raw)
                except json.JSONDecodeError as exc:
                    raise EvaluationFileError(f"{path}:{line}: not JSON ({exc.msg})") from None
                if not isinstance(row, dict):
                    raise EvaluationFileError(f"{path}:{line}: not a JSON object")
                label = str(row.get("demo_label") or row.get("label") or "").strip().lower()
                if label not in (HATEFUL, "benign", "non-hateful"):
                    raise EvaluationFileError(f"{path}:{line}: the label must be hateful or benign, not {label!r}")
                kind = "_".join(str(row[k]) for k in ("demo_kind", "language") if row.get(k)) or "(none)"
                cases.append(Case(case_id=str(row.get("id") or line), functionality=kind,
                                  text=str(row.get("text") or ""), gold=label == HATEFUL))
    except OSError as exc:
        raise EvaluationFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise EvaluationFileError(f"{path}: not UTF-8 ({exc})") from None
    if not cases:
        raise EvaluationFileError(f"{path}: no cases")
    return cases


DetectMany = Callable[[Sequence[str]], list[list]]


def evaluation_run(*, cases: list[Case], detect_many: DetectMany | None = None, threshold: float | None = None) -> Evaluation:
    """Run the detector on every case (in one batch) and score it against the gold labels."""
    from monitor.detection import detect_texts, detection_threshold

    detect_many = detect_many or (lambda texts: detect_texts(list(texts)))
    threshold = detection_threshold() if threshold is None else threshold
    results = detect_many([c.text for c in cases])
    outcomes = []
    for case, detections in zip(cases, results, strict=True):
        best = max(detections, key=lambda d: d.score, default=None)
        score = float(best.score) if best else 0.0
        outcomes.append(
            Outcome(
                case=case,
                predicted=score >= threshold,
                score=score,
                community=best.community if best else None,
                categories=tuple(best.categories) if best else (),
            )
        )
    evaluation = Evaluation(outcomes=outcomes, threshold=threshold)
    for o in outcomes:
        right, total = evaluation.per_functionality.get(o.case.functionality, (0, 0))
        evaluation.per_functionality[o.case.functionality] = (right + o.correct, total + 1)
    return evaluation


def evaluation_lines(evaluation: Evaluation, *, worst: int = 20) -> list[str]:
    """The report as printed by ``manage.py evaluate_detector``; the last line is the RESULT line."""
    tp, fp, fn = evaluation.counts()
    n = len(evaluation.outcomes)
    lines = [
        f"cases: {n} ({sum(o.case.gold for o in evaluation.outcomes)} hateful), threshold {evaluation.threshold:g}",
        f"accuracy: {evaluation.accuracy:.4f} ({sum(o.correct for o in evaluation.outcomes)}/{n})",
        (
            f"hateful: precision {evaluation.precision:.4f}  recall {evaluation.recall:.4f}  f1 {evaluation.f1:.4f}"
            f"  (tp {tp}, fp {fp}, fn {fn})"
        ),
        (
            f"flagged: {evaluation.recall:.1%} of hateful, {fp / max(1, n - tp - fn):.1%} of non-hateful"
        ),
        "",
        "accuracy per functionality:",
    ]
    width = max((len(k) for k in evaluation.per_functionality), default=10)
    for name, (right, total) in sorted(evaluation.per_functionality.items(), key=lambda kv: (kv[1][0] / kv[1][1], kv[0])):
        lines.append(f"  {name:<{width}}  {right / total:6.1%}  ({right}/{total})")
    errors = evaluation.worst_errors(worst)
    lines += ["", f"{len(errors)} worst errors (gold, score, functionality, text):"]
    for o in errors:
        gold = "hateful" if o.case.gold else "non-hateful"
        text = " ".join(o.case.text.split())
        lines.append(f"  [{o.case.case_id}] {gold:<11} {o.score:.3f}  {o.case.functionality}  {text}")
    lines += ["", f"RESULT accuracy={evaluation.accuracy:.4f} f1_hateful={evaluation.f1:.4f}"]
    return lines
