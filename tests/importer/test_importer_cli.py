"""The `import` and `show` commands through a real subprocess: JSON shape and exit status 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "tests" / "fixtures" / "plans" / "plan_a_jiujiang.md"


def run(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=60)


def test_import_json_has_the_documented_shape() -> None:
    result = run("import", str(FIXTURE), "--json", "--code", "JJ")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) >= {"plan", "tasks", "key_projects", "indicators", "warnings"}
    assert set(data["plan"]) >= {"code", "title", "issuer", "issued", "period", "source"}
    assert set(data["plan"]["period"]) == {"start", "end"}
    task = data["tasks"][0]
    assert set(task) >= {"ref", "number", "section", "title", "text", "units", "milestones",
                         "recurrence"}
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
    broken.write_text("plan:\n  code: X\n  period:\n    start: '2024-01-01'\n"
                      "    end: 'soon'\n", encoding="utf-8")
    _fails(run("show", str(broken)), "broken.yaml:5", "plan.period.end")
    _fails(run("show", "ZZ"), "ZZ")
