"""The `import` and `show` commands through a real subprocess: JSON shape and exit status 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "tests" / "fixtures" / "plans" / "plan_a_jiujiang.md"


def run(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=cwd, capture_output=True, text=True, timeout=60
    )


def test_import_json_has_the_documented_shape() -> None:
    result = run("import", str(FIXTURE), "--json", "--code", "JJ")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) >= {"plan", "tasks", "key_projects", "indicators", "warnings"}
    assert set(data["plan"]) >= {"code", "title", "issuer", "issued", "period", "source"}
    assert set(data["plan"]["period"]) == {"start", "end"}
    task = data["tasks"][0]
    assert set(task) >= {
        "ref",
        "number",
        "section",
        "title",
        "text",
        "units",
        "milestones",
        "recurrence",
    }
    assert task["ref"] == "JJ-1"
    assert set(task["units"][0]) == {"name", "as_written", "role"}
    assert set(task["milestones"][0]) == {"due", "phrase", "target"}


def test_import_writes_yaml_and_show_reads_it(tmp_path: Path) -> None:
    out = tmp_path / "jj.yaml"
    assert run("import", str(FIXTURE), "-o", str(out)).returncode == 0
    shown = run("show", str(out))
    assert shown.returncode == 0 and "tasks: 6" in shown.stdout
    summary = run("import", str(FIXTURE))
    assert "plan code JJ derived from 九江市" in summary.stdout


def test_show_a_seed_code() -> None:
    result = run("show", "SR")
    assert result.returncode == 0 and "tasks: 29   key projects: 48" in result.stdout


def _fails(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and all(w in lines[0] for w in words), result.stderr


def test_bad_input_exits_2_with_one_message(tmp_path: Path) -> None:
    _fails(run("import", str(tmp_path / "missing.txt")), "missing.txt", "no such file")
    pdf = tmp_path / "plan.pdf"
    pdf.write_bytes(b"%PDF")
    _fails(run("import", str(pdf)), "plan.pdf", "unreadable .pdf")
    pages = tmp_path / "plan.pages"
    pages.write_bytes(b"PK")
    _fails(run("import", str(pages)), "plan.pages", "unsupported format")
    empty = tmp_path / "notes.txt"
    empty.write_text("2024年工作方案\n一、总体要求\n做好工作。\n", encoding="utf-8")
    _fails(run("import", str(empty)), "notes.txt", "no tasks")
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "plan:\n  code: X\n  period:\n    start: '2024-01-01'\n    end: 'soon'\n", encoding="utf-8"
    )
    _fails(run("show", str(broken)), "broken.yaml:5", "plan.period.end")
    _fails(run("show", "ZZ"), "ZZ")


def _run_on_clock(*args: str, clock: str = "2031-03-05T09:00:00+08:00"):
    env = {**os.environ, "CLOCK_START": clock}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


YEARLESS_DATED = (
    "区卫健委重点工作任务分解\n"
    "1.完善疾病预防控制体系，11月底前完成改造。\n责任单位：区卫健委\n"
    "2.推进家庭医生签约服务，上半年完成全覆盖。\n责任单位：区卫健委\n"
)


def test_import_a_plan_naming_no_year_and_no_dates(tmp_path: Path) -> None:
    plan = tmp_path / "tasks.txt"
    plan.write_text(
        "区卫健委重点工作任务\n1.完善疾病预防控制体系。\n责任单位：区卫健委\n"
        "2.推进家庭医生签约服务。\n责任单位：区卫健委\n",
        encoding="utf-8",
    )
    result = _run_on_clock("import", str(plan), "--json", "--code", "WJ")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert [t["ref"] for t in data["tasks"]] == ["WJ-1", "WJ-2"]
    assert not any("no year" in w["message"] for w in data["warnings"])
    assert all(
        "no deadline of its own" in w["message"] for w in data["warnings"] if "WJ-" in w["message"]
    )


def test_import_with_dates_and_no_year_warns_naming_the_clock_year(tmp_path: Path) -> None:
    plan = tmp_path / "tasks.txt"
    plan.write_text(YEARLESS_DATED, encoding="utf-8")
    result = _run_on_clock("import", str(plan), "--json", "--code", "WJ")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert [m["due"] for t in data["tasks"] for m in t["milestones"]] == [
        "2031-11-30",
        "2031-06-30",
    ]
    notes = [w["message"] for w in data["warnings"] if "no year" in w["message"]]
    assert len(notes) == 1 and "2031" in notes[0] and "--year" in notes[0]
    summary = _run_on_clock("import", str(plan))
    assert summary.returncode == 0 and "read as 2031" in summary.stdout


def test_year_option_overrides(tmp_path: Path) -> None:
    plan = tmp_path / "tasks.txt"
    plan.write_text(
        "某区2019年重点工作任务分解表\n" + YEARLESS_DATED.split("\n", 1)[1], encoding="utf-8"
    )
    result = _run_on_clock("import", str(plan), "--json", "--year", "2024")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["plan"]["period"] == {"start": "2024-01-01", "end": "2024-12-31"}
    assert [m["due"] for t in data["tasks"] for m in t["milestones"]] == [
        "2024-11-30",
        "2024-06-30",
    ]
    assert not any("no year" in w["message"] for w in data["warnings"])
    _fails(run("import", str(plan), "--year", "24"), "--year 24")
