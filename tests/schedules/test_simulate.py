"""`python -m bot simulate`: the real planning code over a virtual week, printed per ISO week."""

from __future__ import annotations

import csv
from pathlib import Path

from bot.__main__ import main

TASKS_DATA = Path(__file__).resolve().parents[2] / "tasks_data"


def test_simulate_prints_a_line_per_week_and_writes_csv(tmp_path, capsys):
    out = tmp_path / "sim.csv"
    code = main(
        [
            "simulate",
            "--from",
            "2025-09-29",
            "--to",
            "2025-10-13",
            "--plan",
            "LN",
            "--tasks-data",
            str(TASKS_DATA),
            "--csv",
            str(out),
        ]
    )
    printed = capsys.readouterr().out.splitlines()
    assert code == 0
    weeks = [line.split()[0] for line in printed if line.startswith("2025-W")]
    # 国庆: nothing is sent in week 40's holiday days, W41 resumes on Thursday 10-09
    assert weeks == ["2025-W40", "2025-W41", "2025-W42"]
    assert any("digests" in line and "groups 1" in line for line in printed)
    [total] = [line for line in printed if line.startswith("total")]
    # 督办 to leaders and coordinators comes as one summary a day; liaisons get their brief
    assert "督办 summaries" in total and "items)" in total
    assert "briefs" in total and "escalations" not in total and "reminders" not in total
    # then the checks: the busiest recipient-day per audience, and nothing dropped
    [peaks] = [line for line in printed if line.startswith("most messages")]
    assert "liaisons 1 " in peaks
    [stages] = [line for line in printed if line.startswith("ladder stages")]
    assert stages.endswith("(nothing dropped)")
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert {"week", "kind", "audience", "count"} <= set(rows[0])
    assert {r["kind"] for r in rows} >= {
        "digest",
        "escalation_batch",
        "escalation_batch_items",
        "brief",
        "brief_stages",
    }


def test_simulate_rejects_bad_input_with_one_line(capsys):
    assert main(["simulate", "--from", "2025-13-01", "--to", "2025-12-01"]) == 2
    assert "--from" in capsys.readouterr().err
    assert (
        main(
            [
                "simulate",
                "--from",
                "2025-10-01",
                "--to",
                "2025-10-02",
                "--plan",
                "XX",
                "--tasks-data",
                str(TASKS_DATA),
            ]
        )
        == 2
    )
    assert "XX" in capsys.readouterr().err
