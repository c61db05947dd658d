"""Plan uploads: what is accepted, the importer run, free codes, the summary per family, the
answers of the review, and committing a plan (never over another one without `replace`)."""

from __future__ import annotations

from datetime import date

import pytest

from bot.importer import reader
from bot.importer.yaml_io import read_plan_yaml
from bot.services import plan_upload as up
from bot.services.errors import ServiceError
from bot.services.import_review import parse_fix, with_fix

from .test_handlers import PLAN
from .test_import_review import NO_YEAR, SHANGRAO, active_assignments

TODAY = date(2025, 12, 20)


@pytest.mark.parametrize(
    "name", ["plan.txt", "PLAN.MD", "方案.docx", "台账.xlsx", "方案.pdf", "旧方案.doc"]
)
def test_accepted_files(name):
    assert up.check_upload(name, 1000) in up.suffixes()


def test_the_accepted_suffixes_are_the_readers():
    """What the reader reads, and what it answers "save it as .docx" for."""
    assert up.suffixes() == (*reader.SUPPORTED, *reader.SAVE_AS)
    assert up.readable_suffixes() == tuple(reader.SUPPORTED)


@pytest.mark.parametrize(
    ("name", "size", "code"),
    [
        ("plan.exe", 10, "unsupported_plan_file"),
        ("plan", 10, "unsupported_plan_file"),
        (None, 10, "unsupported_plan_file"),
        ("plan.docx", up.MAX_BYTES + 1, "plan_file_too_large"),
    ],
)
def test_refused_files(name, size, code):
    with pytest.raises(ServiceError) as exc:
        up.check_upload(name, size)
    assert exc.value.code == code


def test_parse_upload_and_summary():
    parsed = up.parse_upload(PLAN.encode(), file_name="plan.txt", options=up.ImportOptions("TS"))
    summary = up.summarize(parsed.plan)
    assert summary.code == "TS" and summary.tasks == 2 and parsed.taken_code is None
    assert summary.milestones_per_year == {2026: 1, 2027: 1}
    assert (summary.dated, summary.implied, summary.units) == (2, 0, 2)


def test_summary_counts_implied_deadlines():
    parsed = up.parse_upload(NO_YEAR.encode(), file_name="n.txt", today=TODAY)
    summary = up.summarize(parsed.plan)
    assert (summary.tasks, summary.dated, summary.implied) == (2, 1, 1)
    assert summary.start == date(2025, 1, 1)


def test_year_and_default_unit_options_reach_the_importer():
    options = up.ImportOptions(code="AB", year=2024, default_unit="市卫健委")
    plan = up.parse_upload(NO_YEAR.encode(), file_name="n.txt", options=options).plan
    assert plan.info.code == "AB" and plan.info.start == date(2024, 1, 1)
    assert all(m.due.year == 2024 for item in plan.tasks for m in item.milestones)


def test_parse_upload_refuses_garbage():
    with pytest.raises(ServiceError) as exc:
        up.parse_upload(b"\x00\x01 not a docx", file_name="plan.docx")
    assert exc.value.code == "plan_input"


@pytest.mark.parametrize(
    ("code", "taken", "free"),
    [
        ("SR", {"SR"}, "SR2"),
        ("SR", {"SR", "SR2", "SR3"}, "SR4"),
        ("ABCDEF", {"ABCDEF"}, "ABCDE2"),
        ("ABCDEF", {"ABCDEF", *{f"ABCDE{n}" for n in range(2, 10)}}, "ABCD10"),
    ],
)
def test_free_code(code, taken, free):
    assert up.free_code(code, taken) == free


def test_a_taken_code_is_moved_unless_replacing():
    taken = frozenset({"SR", "SR2"})
    moved = up.parse_upload(SHANGRAO.encode(), file_name="s.txt", taken=taken)
    assert moved.plan.info.code == "SR3" and moved.taken_code == "SR"
    assert [t.ref for t in moved.plan.tasks] == ["SR3-1", "SR3-2"]
    explicit = up.parse_upload(
        SHANGRAO.encode(), file_name="s.txt", taken=taken, options=up.ImportOptions(code="SR2")
    )
    assert explicit.plan.info.code == "SR3" and explicit.taken_code == "SR2"
    kept = up.parse_upload(
        SHANGRAO.encode(),
        file_name="s.txt",
        taken=taken,
        options=up.ImportOptions(code="SR", replace=True),
    )
    assert kept.plan.info.code == "SR" and kept.taken_code is None


@pytest.mark.parametrize(
    ("text", "awaiting", "expected"),
    [
        ("2024", "", ("year", "2024")),
        ("2024年", "", ("year", "2024")),
        ("年份：2023", "", ("year", "2023")),
        ("year 2023", "", ("year", "2023")),
        ("代码 jj", "", ("code", "JJ")),
        ("Code: nc2", "", ("code", "NC2")),
        ("单位 市卫健委", "", ("unit", "市卫健委")),
        ("默认单位：市财政局", "", ("unit", "市财政局")),
        ("市卫健委", "unit", ("unit", "市卫健委")),
        ("单位 市卫健委", "unit", ("unit", "市卫健委")),
        ("年底", "unit", ("unit", "年底")),  # 年 is not a keyword when its value is no year
        ("单位党委", "unit", ("unit", "单位党委")),  # a keyword needs a separator before words
        ("年份2024", "", ("year", "2024")),
        ("代码JJ", "", ("code", "JJ")),
        ("jj", "code", ("code", "JJ")),
        ("2026", "year", ("year", "2026")),
        ("-", "year", ("year", None)),
        ("代码 -", "", ("code", None)),
    ],
)
def test_parse_fix(text, awaiting, expected):
    assert parse_fix(text, awaiting) == expected


@pytest.mark.parametrize(
    ("text", "awaiting", "code"),
    [
        ("hello", "", "import_fix_unknown"),
        ("12", "year", "import_bad_year"),
        ("1850", "year", "import_bad_year"),
        ("代码 这不是代码", "", "import_bad_code"),
        ("TOOLONGCODE", "code", "import_bad_code"),
        ("a\nb", "unit", "import_bad_unit"),
        ("x" * 61, "unit", "import_bad_unit"),
        ("/status", "unit", "import_bad_unit"),
    ],
)
def test_parse_fix_refuses_with_a_code(text, awaiting, code):
    with pytest.raises(ServiceError) as exc:
        parse_fix(text, awaiting)
    assert exc.value.code == code


def test_a_new_code_is_a_new_plan():
    options = up.ImportOptions(code="SR", replace=True)
    assert with_fix(options, "code", "JJ") == up.ImportOptions(code="JJ")
    assert with_fix(options, "year", "2024").replace is True


async def test_commit_refuses_an_existing_code_without_replace(hc):
    plan = up.parse_upload(SHANGRAO.encode(), file_name="s.txt").plan
    assert plan.info.code == "SR"
    with pytest.raises(ServiceError) as exc:
        await up.commit_plan(
            plan,
            session_maker=hc.ledger.session_maker,
            directory=None,
            tasks_data=hc.settings.data.tasks_data,
            at=hc.clock.now(),
        )
    assert exc.value.code == "plan_code_taken" and exc.value.params["assignments"] == 5
    assert not (hc.settings.data.tasks_data / "plans" / "sr.yaml").exists()
    assert await active_assignments(hc, "SR") == 5


async def test_commit_writes_over_the_plans_own_file_and_restores_it_on_failure(hc, monkeypatch):
    plans = hc.settings.data.tasks_data / "plans"
    plan = up.parse_upload(SHANGRAO.encode(), file_name="s.txt").plan
    from bot.importer.yaml_io import write_plan_yaml

    write_plan_yaml(plan, plans / "shangrao.yaml")  # the plan SR lives under another name
    before = (plans / "shangrao.yaml").read_bytes()

    async def broken(*args, **kw):
        raise OSError("disk gone")

    monkeypatch.setattr(up, "load_plans", broken)
    changed = up.parse_upload(SHANGRAO.replace("测试中心", "检测中心").encode(), file_name="s.txt")
    with pytest.raises(OSError):
        await up.commit_plan(
            changed.plan,
            session_maker=hc.ledger.session_maker,
            directory=None,
            tasks_data=hc.settings.data.tasks_data,
            at=hc.clock.now(),
            replace=True,
        )
    assert (plans / "shangrao.yaml").read_bytes() == before
    assert sorted(p.name for p in plans.iterdir()) == ["shangrao.yaml"]
    monkeypatch.undo()
    await up.commit_plan(
        changed.plan,
        session_maker=hc.ledger.session_maker,
        directory=None,
        tasks_data=hc.settings.data.tasks_data,
        at=hc.clock.now(),
        replace=True,
    )
    assert sorted(p.name for p in plans.iterdir()) == ["shangrao.yaml"]  # no second SR file
    assert "检测中心" in read_plan_yaml(plans / "shangrao.yaml").tasks[0].title
