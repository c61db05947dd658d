"""`python -m bot load` / `migrate`: one line per plan, exit 2 and nothing written on bad input."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from bot.importer.yaml_io import read_plan_yaml
from bot.storage import cli
from bot.storage.migrate import head_revision
from tests.dbs import database_url, fetch, on_postgres, table_names
from tests.importer.seedcache import seeds_missing

from .conftest import FakeDirectory, make_plan


def load_args(db_url: str, *paths: Path) -> argparse.Namespace:
    return argparse.Namespace(paths=list(paths), database_url=db_url)


def plan_count(url: str) -> int:
    if "plan" not in table_names(url):
        return 0
    return fetch(url, 'SELECT count(*) FROM "plan"')[0][0]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "cli.sqlite3"


@pytest.fixture
def url(db_path: Path) -> str:
    return database_url(db_path)


def test_load_prints_one_line_per_plan(url, db_path, monkeypatch, capsys):
    monkeypatch.setattr(cli, "read_plans", lambda paths: [make_plan("SR"), make_plan("LN")])
    monkeypatch.setattr(cli, "_read_directory", lambda settings: FakeDirectory())

    assert cli.run_load(load_args(url)) == 0
    first = capsys.readouterr().out.splitlines()
    assert cli.run_load(load_args(url)) == 0
    second = capsys.readouterr().out.splitlines()

    assert first[0] == (
        "SR 上饶市关于加强公共卫生体… : 3 tasks, 1 key projects, 1 indicators, "
        "12 assignments (new 12, archived 0, unknown units 1)"
    )
    assert first[1].startswith("LN ")
    assert second[0].endswith("12 assignments (unchanged)")
    assert plan_count(url) == 2


def test_unknown_path_exits_2_and_writes_nothing(url, db_path, tmp_path, capsys):
    missing = tmp_path / "nope.yaml"

    assert cli.run_load(load_args(url, missing)) == 2

    err = capsys.readouterr().err
    assert str(missing) in err and err.count("\n") == 1
    assert plan_count(url) == 0
    assert on_postgres() or not db_path.exists()  # SQLite: not even the file


def test_bad_yaml_exits_2_naming_the_file(url, db_path, tmp_path, capsys):
    bad = tmp_path / "broken.yaml"
    bad.write_text("plan:\n  code: SR\n  title: [unclosed\n", encoding="utf-8")

    assert cli.run_load(load_args(url, bad)) == 2

    err = capsys.readouterr().err
    assert "broken.yaml" in err and err.count("\n") == 1
    assert plan_count(url) == 0


def test_a_bad_file_among_good_ones_loads_nothing(url, db_path, tmp_path, capsys):
    plans_dir = Path(__file__).resolve().parents[2] / "tasks_data" / "plans"
    good = sorted(plans_dir.glob("*.yaml"))
    if not good:
        seeds_missing("no seed plans in tasks_data/plans")
    read_plan_yaml(good[0])  # the good file really is good
    bad = tmp_path / "zz_bad.yaml"
    bad.write_text("tasks: 12\n", encoding="utf-8")

    assert cli.run_load(load_args(url, good[0], bad)) == 2

    assert "zz_bad.yaml" in capsys.readouterr().err
    assert plan_count(url) == 0


def test_migrate_reports_the_revision(url, capsys):
    assert cli.run_migrate(argparse.Namespace(database_url=url)) == 0

    out = capsys.readouterr().out
    assert f"at revision {head_revision()}" in out


def test_loading_the_seed_plans_twice(url, capsys):
    tasks_data = Path(__file__).resolve().parents[2] / "tasks_data"
    if not list((tasks_data / "plans").glob("*.yaml")):
        seeds_missing("no seed plans in tasks_data/plans")

    assert cli.run_load(load_args(url, tasks_data)) == 0
    first = capsys.readouterr().out.splitlines()
    assert cli.run_load(load_args(url, tasks_data)) == 0
    second = capsys.readouterr().out.splitlines()

    assert len(first) == len(second) >= 4
    assert all("(new " in line for line in first)
    assert all(line.endswith("(unchanged)") for line in second)
    sr = next(line for line in first if line.startswith("SR "))
    assert "29 tasks, 48 key projects" in sr
