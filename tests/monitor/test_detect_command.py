"""manage.py detect --input IN.jsonl --output OUT.jsonl: one line out per line in, same order."""
from __future__ import annotations

import io
import json
import sys

import pytest
from django.core.management import CommandError, call_command

KEYS = {"id", "flagged", "community", "categories", "score", "language", "evidence"}


def _write(path, records):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


def _read(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_it_writes_one_result_per_post_in_the_same_order(tmp_path):
    src, dst = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    _write(src, [
        {"id": "a", "text": "Il faut chasser tous les Dogons de Sévaré et brûler leurs greniers."},
        {"id": 2, "text": "Fuel queues in Bamako are two hours long this morning."},
        {"id": "c", "text": "Kill every Fulani you see, they are all terrorists."},
    ])
    call_command("detect", input=str(src), output=str(dst), stderr=io.StringIO())
    out = _read(dst)
    assert [r["id"] for r in out] == ["a", 2, "c"]
    assert all(set(r) == KEYS for r in out)
    assert out[0]["flagged"] and out[0]["community"] == "dogon" and "incitement" in out[0]["categories"]
    assert out[0]["language"] == "fr" and 0.5 <= out[0]["score"] <= 1
    assert not out[1]["flagged"] and out[1]["community"] is None and out[1]["evidence"] == []
    assert out[2]["flagged"] and out[2]["community"] == "peul" and out[2]["language"] == "en"
    for r in out:
        for e in r["evidence"]:
            assert {"start", "end", "text", "rule", "role"} <= set(e)


def test_dash_means_stdin_and_stdout(monkeypatch):
    lines = json.dumps({"id": 1, "text": "Les Bozos sont des rats 🐀"}) + "\n"
    monkeypatch.setattr(sys, "stdin", io.StringIO(lines))
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    call_command("detect", input="-", output="-", stderr=io.StringIO())
    (record,) = [json.loads(line) for line in out.getvalue().splitlines()]
    assert record["id"] == 1 and record["flagged"] and record["community"] == "bozo"


def test_a_bad_line_still_gets_its_output_line(tmp_path):
    src, dst = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text('{"id": 1, "text": "Bonjour Bamako"}\nnot json\n{"id": 3}\n[1, 2]\n', encoding="utf-8")
    err = io.StringIO()
    call_command("detect", input=str(src), output=str(dst), stderr=err)
    out = _read(dst)
    assert [r["id"] for r in out] == [1, None, 3, None]
    assert [("error" in r) for r in out] == [False, True, True, True]
    assert not any(r["flagged"] for r in out)
    assert "line 2" in err.getvalue()


def test_it_handles_ten_thousand_lines_in_one_run(tmp_path):
    src, dst = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    records = [{"id": i, "text": f"Marché de Ségou, jour {i} : le mil est à {100 + i % 50} francs."} for i in range(10_050)]
    records[5000] = {"id": 5000, "text": "Les Peuls sont des serpents, chassez-les tous."}
    _write(src, records)
    call_command("detect", input=str(src), output=str(dst), stderr=io.StringIO())
    out = _read(dst)
    assert len(out) == 10_050
    assert [r["id"] for r in out] == list(range(10_050))
    assert [r["id"] for r in out if r["flagged"]] == [5000]


def test_a_missing_input_file_is_an_error(tmp_path):
    with pytest.raises(CommandError, match="cannot open"):
        call_command("detect", input=str(tmp_path / "none.jsonl"), output=str(tmp_path / "o.jsonl"))
