"""manage.py evaluate_detector: metrics, report and the RESULT line, on a small fixture of our own."""
from __future__ import annotations

import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from monitor.detection import Detection
from monitor.detection.evaluate import (
    EvaluationFileError,
    cases_read,
    evaluation_lines,
    evaluation_run,
)

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "detector_cases.csv"


def _fake(scores: dict[str, float]):
    """A detector that gives each text a fixed score (no model), to test the arithmetic."""
    def detect_many(texts):
        return [
            [Detection(community="dogon", categories=["derogation"], score=scores.get(t, 0.0), evidence=[], detector="fake")]
            if t in scores else []
            for t in texts
        ]
    return detect_many


def test_it_reads_the_cases_of_a_hatecheck_style_csv():
    cases = cases_read(FIXTURE)
    assert len(cases) == 7
    assert cases[0].case_id == "c1" and cases[0].gold and cases[0].functionality == "call_h"
    assert not cases[3].gold


def test_it_computes_accuracy_precision_recall_and_f1_of_the_hateful_class():
    cases = cases_read(FIXTURE)
    texts = [c.text for c in cases]
    # c1 and c2 found (tp 2), c3 missed (fn 1), c4 wrongly flagged (fp 1), the rest right.
    evaluation = evaluation_run(cases=cases, detect_many=_fake({texts[0]: 0.9, texts[1]: 0.7, texts[2]: 0.2, texts[3]: 0.8}),
                                threshold=0.5)
    assert evaluation.counts() == (2, 1, 1)
    assert evaluation.accuracy == pytest.approx(5 / 7)
    assert evaluation.precision == pytest.approx(2 / 3)
    assert evaluation.recall == pytest.approx(2 / 3)
    assert evaluation.f1 == pytest.approx(2 / 3)
    assert evaluation.per_functionality["call_h"] == (2, 2)
    assert evaluation.per_functionality["dehum_h"] == (0, 1)
    # The worst error first: the hateful case scored 0.2 is 0.8 away, the benign one at 0.8 too; ties by id.
    assert [o.case.case_id for o in evaluation.worst_errors()] == ["c3", "c4"]
    lines = evaluation_lines(evaluation)
    assert lines[-1] == "RESULT accuracy=0.7143 f1_hateful=0.6667"
    assert any("dehum_h" in line and "0.0%" in line for line in lines)


def test_the_command_prints_the_report_and_ends_with_the_result_line():
    out = StringIO()
    call_command("evaluate_detector", str(FIXTURE), stdout=out)
    text = out.getvalue()
    for heading in ("accuracy:", "precision", "recall", "f1", "accuracy per functionality:", "worst errors"):
        assert heading in text
    last = text.strip().splitlines()[-1]
    match = re.fullmatch(r"RESULT accuracy=(\d\.\d{4}) f1_hateful=(\d\.\d{4})", last)
    assert match
    # Clear cases of our own: the detector gets most of them right.
    assert float(match.group(1)) >= 5 / 7


def test_it_refuses_a_csv_without_the_required_columns(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("text,label\nhello,hateful\n", encoding="utf-8")
    with pytest.raises(EvaluationFileError):
        cases_read(bad)
    with pytest.raises(CommandError, match="missing column"):
        call_command("evaluate_detector", str(bad), stdout=StringIO())


def test_a_split_keeps_only_its_rows_and_needs_the_column(tmp_path):
    cases = tmp_path / "split.csv"
    cases.write_text(
        "case_id,test_case,label_gold,functionality,split\n"
        "a,Les Dogons sont des rats,hateful,x,design\n"
        "b,Les Dogons fêtent le Dama,non-hateful,y,holdout\n"
        "c,Les Bozos sont des serpents,hateful,x,holdout\n",
        encoding="utf-8",
    )
    assert [c.case_id for c in cases_read(cases, split="holdout")] == ["b", "c"]
    assert len(cases_read(cases)) == 3
    with pytest.raises(EvaluationFileError, match="no cases in split"):
        cases_read(cases, split="nope")
    with pytest.raises(CommandError, match="missing column"):
        call_command("evaluate_detector", str(FIXTURE), "--split", "holdout", stdout=StringIO())


def test_it_refuses_an_unknown_label(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("test_case,label_gold,functionality\nhello,maybe,x\n", encoding="utf-8")
    with pytest.raises(CommandError, match="label_gold"):
        call_command("evaluate_detector", str(bad), stdout=StringIO())


def test_it_refuses_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match="cannot read"):
        call_command("evaluate_detector", str(tmp_path / "nope.csv"), stdout=StringIO())


def test_it_reads_labelled_posts_in_jsonl_and_reports_the_flagged_rates(tmp_path):
    posts = tmp_path / "posts.jsonl"
    posts.write_text(
        '{"id": "p1", "text": "Les Dogons sont des rats", "demo_label": "hateful", "demo_kind": "hate", "language": "fr"}\n'
        "\n"
        '{"id": "p2", "text": "Marché de Sévaré ce matin", "demo_label": "benign", "demo_kind": "chatter"}\n'
        '{"id": "p3", "text": "Les Dogons fêtent le Dama", "label": "non-hateful"}\n',
        encoding="utf-8",
    )
    cases = cases_read(posts)
    assert [c.case_id for c in cases] == ["p1", "p2", "p3"]
    assert [c.gold for c in cases] == [True, False, False]
    assert cases[0].functionality == "hate_fr" and cases[2].functionality == "(none)"
    evaluation = evaluation_run(
        cases=cases, detect_many=_fake({"Les Dogons sont des rats": 0.9, "Les Dogons fêtent le Dama": 0.7}), threshold=0.5
    )
    assert "flagged: 100.0% of hateful, 50.0% of non-hateful" in evaluation_lines(evaluation)


@pytest.mark.parametrize(
    "line, message",
    [
        ('{"text": "x", "demo_label": "maybe"}', "hateful or benign"),
        ("not json", "not JSON"),
        ('["a list"]', "not a JSON object"),
    ],
)
def test_it_refuses_bad_jsonl_lines_with_their_line_number(tmp_path, line, message):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "ok", "demo_label": "benign"}\n' + line + "\n", encoding="utf-8")
    with pytest.raises(EvaluationFileError, match=f"bad.jsonl:2: .*{message}"):
        cases_read(bad)


def test_the_own_dev_set_is_held_out_from_training_and_covers_the_weak_phenomena():
    """seeds/eval/dev_set.csv, contrast_set.csv, praise_set.csv, reviewer_set.csv, sahel_posts.csv,
    short_statements.csv and functional_probes.csv measure the detector honestly only if no sentence of them
    is trained on."""
    from collections import Counter

    from monitor.communities import seeds_dir
    from monitor.detection.hybrid import exemplars_read
    from monitor.detection.normalise import text_normalise

    cases = cases_read(seeds_dir() / "eval" / "dev_set.csv")
    contrast = [
        case for name in (
            "contrast_set", "praise_set", "reviewer_set", "sahel_posts", "short_statements", "functional_probes",
        )
        for case in cases_read(seeds_dir() / "eval" / f"{name}.csv")
    ]
    assert len({c.case_id for c in cases + contrast}) == len(cases) + len(contrast)
    texts = [text_normalise(c.text).text for c in cases + contrast]
    assert len(texts) == len(set(texts)), "a held-out sentence is repeated"
    trained = {text_normalise(r["text"]).text for r in exemplars_read()}
    leaked = {c.case_id for c, t in zip(cases + contrast, texts) if t in trained}
    assert not leaked, leaked
    per = Counter(c.functionality for c in cases)
    # The phenomena the detector was weak on each have their own held-out cases.
    for functionality in ("fr_neutral_nh", "fr_negation_nh", "fr_emotion_h", "fr_later_ref_h", "fr_question_h",
                          "fr_question_nh", "en_negation_nh", "en_later_ref_h", "en_question_h"):
        assert per[functionality] >= 4, functionality
