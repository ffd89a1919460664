"""evaluate_matching on a tiny pairs file written here (not the evaluation data)."""
from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

PAIRS = """pair_id,relation,same_stance,text_a,text_b
p1,spelling_variant,1,Fulani herders kidnapped 40 schoolgirls in Diafarabe.,Fulani hedrers kidnaped 40 schoolgirls in Diafarabe.
p2,rephrasing_same_stance,1,Les assaillants de Toguel étaient des éleveurs peuls.,"Toguel : les assaillants, c'étaient des éleveurs peuls."
p3,counter_speech_quoting,0,Les assaillants de Toguel étaient des éleveurs peuls.,"Ceux qui écrivent « les assaillants de Toguel étaient des éleveurs peuls » propagent une intox."
p4,negation_opposite_stance,0,Fulani herders kidnapped 40 schoolgirls in Diafarabe.,Fulani herders did not kidnap 40 schoolgirls in Diafarabe.
p5,unrelated,0,Fulani herders kidnapped 40 schoolgirls in Diafarabe.,The football team won the cup in Bamako.
"""


def test_it_prints_rates_per_relation_and_a_result_line(tmp_path):
    path = tmp_path / "pairs.csv"
    path.write_text(PAIRS, encoding="utf-8")
    out = StringIO()

    call_command("evaluate_matching", str(path), stdout=out)

    lines = out.getvalue().splitlines()
    assert lines[-1] == "RESULT same_stance_match=1.000 counter_quoting_match=0.000 negation_match=0.000"
    table = {line.split()[0]: line.split()[1:] for line in lines[2:-4]}
    assert table["negation_opposite_stance"] == ["1", "1.000", "0.000"]  # similar, but denied
    assert table["unrelated"] == ["1", "0.000", "0.000"]


def test_a_file_without_the_pair_columns_is_refused(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(CommandError, match="missing columns"):
        call_command("evaluate_matching", str(path), stdout=StringIO())


def test_calibrate_matching_prints_the_false_match_rate_on_unrelated_demo_posts(tmp_path):
    import json

    claims = tmp_path / "claims.jsonl"
    claims.write_text(json.dumps({
        "@type": "ClaimReview", "url": "https://example.org/fc/1", "inLanguage": "en",
        "claimReviewed": "Fulani herders kidnapped 40 schoolgirls in Diafarabe yesterday.",
        "reviewRating": {"alternateName": "False"},
    }) + "\n", encoding="utf-8")
    cases = tmp_path / "cases.csv"
    cases.write_text("claim,post,expect,note\n1,Fulani herders kidnapped 40 schoolgirls in Diafarabe,match,x\n"
                     "0,The football team won the cup in Bamako.,none,x\n", encoding="utf-8")
    posts = tmp_path / "posts.jsonl"
    posts.write_text("\n".join(json.dumps(p) for p in [
        {"text": "Fulani herders kidnapped 40 schoolgirls in Diafarabe yesterday!!", "demo_kind": "chatter"},
        {"text": "Rain expected in Mopti this weekend.", "demo_kind": "chatter"},
        {"text": "Fulani herders kidnapped 40 schoolgirls in Diafarabe", "demo_kind": "false_claim"},
    ]) + "\n", encoding="utf-8")
    out = StringIO()

    call_command("calibrate_matching", claims=claims, cases=cases, posts=posts, stdout=out)

    # The rumour post is not "unrelated"; of the two others, the copy of the claim is a (deliberate) false match.
    assert "false matches at the chosen threshold: 1/2 unrelated demo posts (0.500)" in out.getvalue()
