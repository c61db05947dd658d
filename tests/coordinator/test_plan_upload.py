"""Plan uploads: what is accepted, the pending store, the importer run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.services import plan_upload as up
from bot.services.errors import ServiceError

from .test_handlers import PLAN

T0 = datetime(2025, 12, 20, 1, 0, tzinfo=UTC)


@pytest.mark.parametrize("name", ["plan.txt", "PLAN.MD", "方案.docx", "台账.xlsx", "方案.pdf"])
def test_accepted_files(name):
    assert up.check_upload(name, 1000) in up.SUFFIXES


@pytest.mark.parametrize(("name", "size", "code"), [
    ("plan.pages", 10, "unsupported_plan_file"),
    ("plan", 10, "unsupported_plan_file"),
    (None, 10, "unsupported_plan_file"),
    ("plan.docx", up.MAX_BYTES + 1, "plan_file_too_large"),
])  # fmt: skip
def test_refused_files(name, size, code):
    with pytest.raises(ServiceError) as exc:
        up.check_upload(name, size)
    assert exc.value.code == code


def test_parse_upload_and_summary():
    plan = up.parse_upload(PLAN.encode(), file_name="plan.txt", code="TS")
    summary = up.summarize(plan)
    assert summary.code == "TS" and summary.tasks == 2
    assert summary.milestones_per_year == {2026: 1, 2027: 1}


def test_parse_upload_refuses_garbage():
    with pytest.raises(ServiceError) as exc:
        up.parse_upload(b"\x00\x01 not a docx", file_name="plan.docx", code="TS")
    assert exc.value.code == "plan_input"


def test_pending_store_owner_expiry_capacity():
    plan = up.parse_upload(PLAN.encode(), file_name="plan.txt", code="TS")
    store = up.PendingUploads(ttl=timedelta(minutes=30), capacity=2)
    token = store.add(up.PendingPlan(plan, owner=1, created_at=T0, file_name="a.txt"))
    assert len(token.encode()) <= 10
    with pytest.raises(ServiceError):
        store.take(token, owner=2, now=T0)  # someone else's
    assert store.take(token, owner=1, now=T0).file_name == "a.txt"
    with pytest.raises(ServiceError):
        store.take(token, owner=1, now=T0)  # taken once
    old = store.add(up.PendingPlan(plan, owner=1, created_at=T0, file_name="old"))
    with pytest.raises(ServiceError) as exc:
        store.take(old, owner=1, now=T0 + timedelta(minutes=31))
    assert exc.value.code == "upload_expired"
    tokens = [
        store.add(up.PendingPlan(plan, owner=1, created_at=T0, file_name=str(i))) for i in range(3)
    ]
    assert len(store) == 2
    with pytest.raises(ServiceError):
        store.take(tokens[0], owner=1, now=T0)  # the oldest was dropped
    assert store.take(tokens[2], owner=1, now=T0).file_name == "2"
