"""/import in the chat takes an Excel 台账 and a PDF as it takes a .docx (issue 11, family 7),
and answers a .doc with what to do instead."""

from __future__ import annotations

from pathlib import Path

from tests.importer.test_importer_formats import write_ledger, write_pdf

from .conftest import COORDINATOR


async def _upload(hc, path: Path, name: str, code: str):
    data = path.read_bytes()
    hc.session.files["DOC-1"] = data
    return await hc.send(COORDINATOR, caption=f"/import {code}", document=(name, len(data)))


async def test_import_an_xlsx_ledger_in_the_chat(hc, tmp_path: Path) -> None:
    summary = await _upload(hc, write_ledger(tmp_path / "ledger.xlsx"), "台账.xlsx", "MS")
    assert "MS" in summary.text and len(summary.buttons()) == 5
    await hc.press(COORDINATOR, summary.button("确认导入"))
    assert (hc.settings.data.tasks_data / "plans" / "ms.yaml").is_file()


async def test_import_a_pdf_in_the_chat(hc, tmp_path: Path) -> None:
    summary = await _upload(hc, write_pdf(tmp_path / "plan.pdf"), "方案.pdf", "MP")
    assert "MP" in summary.text and len(summary.buttons()) == 5


async def test_a_doc_gets_a_save_as_docx_answer(hc, tmp_path: Path) -> None:
    path = tmp_path / "plan.doc"
    path.write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 60)
    answer = await _upload(hc, path, "方案.doc", "MD")
    assert len(answer.messages) == 1 and not answer.buttons()
    assert "另存为" in answer.text and ".docx" in answer.text
