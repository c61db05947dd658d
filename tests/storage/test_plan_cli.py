"""`python -m bot withdraw CODE` / `restore CODE`, and `python -m bot load` of the whole folder
withdrawing the plans whose file is gone: one line each, exit 2 on a refusal."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.__main__ import main
from bot.importer.yaml_io import write_plan_yaml
from bot.storage import cli
from tests.dbs import database_url, fetch

from .conftest import FakeDirectory, make_plan


@pytest.fixture
def url(tmp_path: Path) -> str:
    return database_url(tmp_path / "cli.sqlite3")


@pytest.fixture
def tasks_data(tmp_path: Path, monkeypatch) -> Path:
    folder = tmp_path / "tasks_data"
    write_plan_yaml(make_plan("SR"), folder / "plans" / "sr.yaml")
    write_plan_yaml(make_plan("LN"), folder / "plans" / "ln.yaml")
    monkeypatch.setenv("TASKS_DATA", str(folder))
    monkeypatch.setattr(cli, "_read_directory", lambda settings: FakeDirectory())
    return folder


def archived(url: str) -> dict[str, bool]:
    rows = fetch(url, 'SELECT code, archived_at IS NOT NULL FROM "plan" ORDER BY code')
    return {code: bool(flag) for code, flag in rows}


def test_withdraw_and_restore_from_the_shell(url, tasks_data, capsys):
    assert main(["load", "--database-url", url]) == 0
    capsys.readouterr()

    assert main(["withdraw", "sr", "--note", "计划废止", "--database-url", url]) == 0
    out = capsys.readouterr().out
    assert out.startswith("SR ") and "withdrawn, 5 items and 12 assignments archived" in out
    assert archived(url) == {"LN": False, "SR": True}
    assert (tasks_data / "withdrawn" / "sr.yaml").exists()
    notes = fetch(url, "SELECT note FROM planevent WHERE kind = 'withdraw'")
    assert notes == [("计划废止",)]

    assert main(["withdraw", "SR", "--database-url", url]) == 2
    assert "already withdrawn" in capsys.readouterr().err

    assert main(["load", "--database-url", url]) == 0  # SR has no file now: stays withdrawn
    assert archived(url) == {"LN": False, "SR": True}
    capsys.readouterr()

    assert main(["restore", "SR", "--database-url", url]) == 0
    assert "restored, 5 items and 12 assignments" in capsys.readouterr().out
    assert archived(url) == {"LN": False, "SR": False}
    assert (tasks_data / "plans" / "sr.yaml").exists()

    assert main(["restore", "XX", "--database-url", url]) == 2
    assert "no plan with code XX" in capsys.readouterr().err


def test_loading_the_whole_folder_withdraws_a_plan_whose_file_is_gone(url, tasks_data, capsys):
    assert main(["load", "--database-url", url]) == 0
    (tasks_data / "plans" / "sr.yaml").unlink()
    capsys.readouterr()

    assert main(["load", "--database-url", url]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1].startswith("SR ") and "withdrawn (no file in tasks_data/plans)" in out[-1]
    assert archived(url) == {"LN": False, "SR": True}

    # a load of named files withdraws nothing
    assert main(["load", str(tasks_data / "plans" / "ln.yaml"), "--database-url", url]) == 0
    assert archived(url) == {"LN": False, "SR": True}
