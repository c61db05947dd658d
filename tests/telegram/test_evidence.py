"""Evidence opens from /task: a 📎 button on the card (with how many pieces there are) sends
the photos and files again by their Telegram file_id, each with whose it is; the export has an
evidence column (how many, and the names, as text)."""

from __future__ import annotations

import io

from aiogram.methods import SendDocument, SendMessage, SendPhoto
from openpyxl import load_workbook

from .conftest import COORDINATOR, FINANCE, LIAISON


async def with_evidence(h) -> None:
    card = await h.send(LIAISON, "/task SR-2")
    await h.send(LIAISON, reply_to=card.last_id, photo=True, caption="现场照片")
    await h.send(LIAISON, reply_to=card.last_id, document=("=验收方案.pdf", 1000))


async def test_the_cards_button_sends_the_evidence_again(h):
    plain = await h.send(COORDINATOR, "/task SR-2")
    assert not any("📎" in label for label, _ in plain.buttons())  # nothing to open yet
    await with_evidence(h)
    card = await h.send(COORDINATOR, "/task SR-2")
    assert any("📎" in label and "2" in label for label, _ in card.buttons()), card.buttons()

    opened = await h.press(COORDINATOR, card.button("📎"))
    photos = [c for c in opened.calls if isinstance(c, SendPhoto)]
    files = [c for c in opened.calls if isinstance(c, SendDocument)]
    assert [p.photo for p in photos] == ["PHOTO-BIG"] and [f.document for f in files] == ["DOC-1"]
    assert all(int(c.chat_id) == COORDINATOR for c in photos + files)
    assert "SR-2" in photos[0].caption and "现场照片" in photos[0].caption
    assert "张三" in files[0].caption


async def test_only_who_may_see_the_item_gets_its_evidence(h):
    await with_evidence(h)
    card = await h.send(COORDINATOR, "/task SR-2")
    data = card.button("📎")
    other = await h.press(FINANCE, data)  # 市财政局 has no part in SR-2
    assert not [c for c in other.calls if isinstance(c, SendPhoto | SendDocument)]
    assert other.alerts and "SR-2" in other.alerts[-1]
    assert not [c for c in other.calls if isinstance(c, SendMessage)]


async def test_the_export_has_an_evidence_column_as_text(h):
    await with_evidence(h)
    sent = await h.send(COORDINATOR, "/export SR")
    doc = next(c for c in sent.calls if isinstance(c, SendDocument)).document
    ws = load_workbook(io.BytesIO(doc.data)).active
    header = [c.value for c in ws[1]]
    column = header.index("佐证材料")
    rows = {(r[1].value, r[4].value): r[column] for r in ws.iter_rows(min_row=2)}
    cell = rows[("SR-2", "上饶市卫生健康委员会")]
    assert cell.value == "2: 照片、=验收方案.pdf" and cell.data_type == "s"
    assert rows[("SR-1", "市财政局")].value in (None, "")
