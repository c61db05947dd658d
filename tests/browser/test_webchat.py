"""The web chat in headless Chromium against `python -m bot` in local mode.

One story, in order (the tests share the process and the browser): a liaison opens an item
from the morning brief and answers its card with 进行中 and a reply; the coordinator's /status
shows it; /scorecard's picture shows as a photo that a click enlarges; on Monday 09:00 the
weekly digest arrives; /export gives an .xlsx that openpyxl opens; bad input gets clear answers.
Every wait is a WebDriverWait on the page (no fixed sleeps).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import REPO, LocalProcess

pytestmark = pytest.mark.browser

COORDINATOR = 7_000_001  # 张督办
LIAISON = 7_000_002  # 李晓梅, 上饶市卫生健康委员会
GROUP = -1_001_000_000_001  # 上饶市卫健督办工作群, subscribed to the weekly digest
WAIT = 60  # seconds: a reminder comes from the scheduler's first tick after the clock moves
WAIT_DIGEST = 180
REF = re.compile(r"\b[A-Z]{2}-[A-Z]?\d+\b")
SCREENSHOT = REPO / "docs" / "webchat.png"
# the /status answer (not a notice the scheduler sends meanwhile): "已办结 0 · … · 进行中 1 · …"
IN_PROGRESS = re.compile(r"(?:进行中|in progress)\s*([\d,]+)")


def is_status(message: dict[str, Any]) -> bool:
    return bool(IN_PROGRESS.search(message["text"]))


_MESSAGES_JS = """
const after = arguments[0];
return [...document.querySelectorAll('#messages .msg')]
  .filter((m) => Number(m.dataset.messageId) > after)
  .map((m) => ({
    id: Number(m.dataset.messageId),
    bot: m.dataset.fromBot === '1',
    version: Number(m.dataset.version),
    text: (m.querySelector('.text') || {}).innerText || '',
    buttons: [...m.querySelectorAll('.inline-keyboard button')].map((b) => b.innerText.trim()),
    file: (m.querySelector('a.document') || {dataset: {}}).dataset.fileName || null,
    photo: !!m.querySelector('a.photo img'),
  }));
"""


class WebChat:
    """What a person does in the page, and waits on what they would see."""

    def __init__(self, driver: Any, url: str) -> None:
        from selenium.common.exceptions import (
            NoSuchElementException,
            StaleElementReferenceException,
        )
        from selenium.webdriver.support.ui import WebDriverWait

        self.driver = driver
        self.url = url
        # live updates re-render lists and replace edited messages: look again, don't fail
        self.wait = WebDriverWait(
            driver,
            WAIT,
            ignored_exceptions=(NoSuchElementException, StaleElementReferenceException),
        )

    def click(self, selector: str, text: str | None = None) -> None:
        """Click the (first) element matching `selector` (and showing `text`), looking again
        when a live update replaced it."""
        from selenium.webdriver.common.by import By

        def clicked(driver: Any) -> bool:
            for node in driver.find_elements(By.CSS_SELECTOR, selector):
                if text is None or node.text.strip() == text:
                    node.click()
                    return True
            return False

        self.wait.until(clicked, f"nothing to click at {selector} {text or ''}")

    def css(self, selector: str) -> Any:
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.CSS_SELECTOR, selector)

    def open(self) -> None:
        self.driver.get(self.url)
        self.wait.until(lambda d: d.find_element("tag name", "body").get_attribute("data-ready"))
        assert self.css("body").get_attribute("data-ready") == "1"

    def be(self, person_id: int, chat_id: int | None = None) -> None:
        """Pick who I am (and the chat, default: my private chat with the bot)."""
        self.click(f'button.person[data-person-id="{person_id}"]')
        chat_id = chat_id or person_id
        if chat_id != person_id:
            self.click(f'button.chat-item[data-chat-id="{chat_id}"]')
        self.wait.until(
            lambda d: (
                self.css("#chat").get_attribute("data-chat-id") == str(chat_id)
                and self.css("#chat").get_attribute("data-person-id") == str(person_id)
            )
        )

    def messages(self, after: int = 0) -> list[dict[str, Any]]:
        return self.driver.execute_script(_MESSAGES_JS, after)

    def last_id(self) -> int:
        return max((m["id"] for m in self.messages()), default=0)

    def wait_bot(
        self, after: int, matches: Any = lambda m: True, what: str = "", timeout: float = WAIT
    ) -> dict[str, Any]:
        from selenium.webdriver.support.ui import WebDriverWait

        def found(_driver: Any) -> Any:
            return next((m for m in self.messages(after) if m["bot"] and matches(m)), None)

        wait = self.wait if timeout == WAIT else WebDriverWait(self.driver, timeout)
        return wait.until(found, f"no bot message {what} after #{after}")

    def send(self, text: str) -> int:
        """Type and send; returns the last message id before sending."""
        from selenium.webdriver.common.keys import Keys

        before = self.last_id()
        box = self.css("#text")
        box.clear()
        if text:
            self.driver.execute_script("arguments[0].value = arguments[1];", box, text)
        box.send_keys(Keys.ENTER)
        return before

    def in_message(self, message_id: int, selector: str) -> str:
        return f'#messages .msg[data-message-id="{message_id}"] {selector}'

    def press(self, message_id: int, label: str) -> None:
        self.click(self.in_message(message_id, ".inline-keyboard button"), label)

    def move_clock(self, button_id: str) -> str:
        before = self.css("#clock").get_attribute("data-now")
        self.click(f"#{button_id}")
        self.wait.until(lambda d: self.css("#clock").get_attribute("data-now") != before)
        return self.css("#clock").get_attribute("data-local")

    def toasts(self) -> list[str]:
        from selenium.webdriver.common.by import By

        return [t.text for t in self.driver.find_elements(By.CSS_SELECTOR, "#toasts .toast")]


@pytest.fixture(scope="module")
def chat(driver: Any, local_mode: LocalProcess) -> WebChat:
    page = WebChat(driver, local_mode.url)
    page.open()
    return page


@pytest.fixture(scope="module")
def story() -> dict[str, Any]:
    return {}


def test_local_mode_says_where_and_that_it_is_local(local_mode: LocalProcess) -> None:
    assert local_mode.address_line == (
        f"督办助手 local mode: open {local_mode.url} (loopback only, not a public server)"
    )


def test_the_page_shows_the_local_people_and_the_clock(chat: WebChat) -> None:
    from selenium.webdriver.common.by import By

    people = chat.driver.find_elements(By.CSS_SELECTOR, "button.person")
    names = " ".join(p.text for p in people)
    for name in ("张督办", "李晓梅", "王建国", "赵敏", "刘洋", "陈志强"):
        assert name in names
    for role in ("督办员", "联络员", "分管领导"):
        assert role in names
    assert "上饶市卫生健康委员会" in names and "信州区人民政府" in names
    assert chat.css("#clock").get_attribute("data-local").startswith("2025-12-24T08:5")
    assert "2025" in chat.css("#clock-time").text


@pytest.fixture(scope="module")
def screenshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """docs/webchat.png with UPDATE_SCREENSHOT=1 (for the README), else a temp file."""
    if os.environ.get("UPDATE_SCREENSHOT"):
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        return SCREENSHOT
    return tmp_path_factory.mktemp("screenshot") / "webchat.png"


def test_a_liaison_reports_progress_on_a_reminder(
    chat: WebChat, story: dict[str, Any], screenshot: Path
) -> None:
    chat.be(LIAISON)
    start = chat.last_id()
    local = chat.move_clock("clock-workday")  # 2025-12-24 09:00: the sending window opens
    assert local.startswith("2025-12-24T09:00")
    # the morning brief bundles the day's reminders; its item buttons open an item's card
    brief = chat.wait_bot(start, lambda m: "今日待办" in m["text"], "with the morning brief")
    item = next((b for b in brief["buttons"] if REF.search(b)), None)
    assert item, brief["buttons"]
    chat.press(brief["id"], item)
    reminder = chat.wait_bot(
        brief["id"], lambda m: "进行中" in m["buttons"], "with a 进行中 button"
    )
    refs = REF.findall(reminder["text"])
    assert refs, reminder["text"]
    story["ref"] = refs[0]

    chat.be(COORDINATOR)
    before = chat.send("/status")
    story["status_before"] = chat.wait_bot(before, is_status, "answering /status")["text"]

    chat.be(LIAISON)
    chat.press(reminder["id"], "进行中")
    chat.wait.until(
        lambda d: (
            chat.toasts()
            or any(
                m["id"] == reminder["id"] and m["version"] > reminder["version"]
                for m in chat.messages(reminder["id"] - 1)
            )
            or any(m["bot"] for m in chat.messages(chat.last_id() - 1) if m["id"] > reminder["id"])
        ),
        "the bot did not answer the 进行中 button",
    )

    chat.click(chat.in_message(reminder["id"], ".reply-action"))
    chat.wait.until(lambda d: chat.css("#reply-bar").is_displayed())
    sent_after = chat.send("已召开专题会议部署，公共卫生科设置完成 60%。")
    mine = chat.wait.until(
        lambda d: next((m for m in chat.messages(sent_after) if not m["bot"]), None)
    )
    assert chat.wait.until(lambda d: chat.css(chat.in_message(mine["id"], ".quote")).text)
    answer = chat.wait_bot(mine["id"], what="acknowledging the reply")
    assert answer["text"]
    chat.wait.until(lambda d: not chat.toasts())  # toasts fade after 4 s
    chat.driver.execute_script(
        "const m = document.getElementById('messages');m.scrollTop = m.scrollHeight;"
    )
    assert chat.driver.save_screenshot(str(screenshot))


def test_the_coordinator_sees_the_change_in_status(chat: WebChat, story: dict[str, Any]) -> None:
    chat.be(COORDINATOR)
    before = chat.send("/status")
    after = chat.wait_bot(before, is_status, "answering /status")["text"]
    counted = [int(n.replace(",", "")) for n in IN_PROGRESS.findall(after)]
    assert counted and counted[0] >= 1, after
    assert after != story["status_before"]


def test_the_scorecard_is_a_photo_that_enlarges(chat: WebChat) -> None:
    from selenium.webdriver.common.keys import Keys

    chat.be(COORDINATOR)
    before = chat.send("/scorecard")
    photo = chat.wait_bot(before, lambda m: m["photo"], "with the scorecard picture")
    assert "单位排名" in photo["text"]  # the caption
    assert "• 周" in photo["buttons"] and "月" in photo["buttons"]  # this week, or a month
    chat.click(chat.in_message(photo["id"], "a.photo"))
    big = chat.wait.until(lambda d: enlarged_width(chat), "the picture did not open enlarged")
    assert big == 1080  # the PNG's own width
    chat.css("body").send_keys(Keys.ESCAPE)
    chat.wait.until(lambda d: not d.find_elements("css selector", "#lightbox"))


def enlarged_width(chat: WebChat) -> int:
    """The natural width of the enlarged picture once it has loaded (0 before)."""
    return chat.driver.execute_script(
        "const i = document.querySelector('#lightbox img');"
        " return i && i.complete ? i.naturalWidth : 0;"
    )


def test_monday_morning_brings_the_weekly_digest(chat: WebChat) -> None:
    # the group subscribed to the digest receives nothing else, so it shows the digest as soon
    # as the scheduler plans it (private chats may still be busy with earlier notices)
    chat.be(COORDINATOR, GROUP)
    start = chat.last_id()
    local = chat.move_clock("clock-monday")
    assert local.startswith("2025-12-29T09:00")

    def digest(m: dict[str, Any]) -> bool:
        text = m["text"]
        return ("周报" in text or "Weekly digest" in text) and "2025年12月29日" in text

    chat.wait_bot(start, digest, "with the weekly digest of 2025-12-29", timeout=WAIT_DIGEST)


def test_the_ledger_downloads_as_xlsx(chat: WebChat, downloads: Path) -> None:
    import openpyxl

    chat.be(COORDINATOR)
    before = chat.send("/export")
    ledger = chat.wait_bot(before, lambda m: (m["file"] or "").endswith(".xlsx"), "with a ledger")
    chat.click(chat.in_message(ledger["id"], "a.document"))

    def downloaded(_driver: Any) -> Path | None:
        done = [p for p in downloads.glob("*.xlsx") if p.stat().st_size > 0]
        partial = list(downloads.glob("*.crdownload"))
        return done[0] if done and not partial else None

    path = chat.wait.until(downloaded, "the .xlsx was not downloaded")
    workbook = openpyxl.load_workbook(path, read_only=True)
    sheet = workbook.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) > 1 and any(cell for cell in rows[0])


def test_bad_input_gets_clear_answers(chat: WebChat, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    chat.be(LIAISON)
    chat.send("")
    chat.wait.until(
        lambda d: any(
            "消息为空" in n.text
            for n in d.find_elements(By.CSS_SELECTOR, "#messages .notice.error")
        ),
        "an empty message gave no notice",
    )

    before = chat.send("进" * 5000)
    chat.wait.until(
        lambda d: any(
            "拆成 2 条" in n.text
            for n in d.find_elements(By.CSS_SELECTOR, "#messages .notice.info")
        ),
        "a huge message was not split as Telegram does",
    )
    parts = chat.wait.until(
        lambda d: [m for m in chat.messages(before) if not m["bot"]][:2] or None
    )
    chat.wait.until(lambda d: len([m for m in chat.messages(before) if not m["bot"]]) == 2)
    chat.wait_bot(parts[0]["id"], what="answering the huge message")

    big = tmp_path / "扫描件.pdf"
    with big.open("wb") as handle:
        handle.truncate(21 * 1024 * 1024)  # over the 20 MB a bot may download
    last = chat.last_id()
    chat.css("#document-input").send_keys(str(big))
    upload = chat.wait.until(
        lambda d: next((m for m in chat.messages(last) if not m["bot"] and m["file"]), None),
        "the big file was not sent",
    )
    assert upload["file"] == "扫描件.pdf"
    chat.wait_bot(upload["id"], what="answering the oversized file")


_POST_FROM_ANOTHER_PAGE_JS = """
const done = arguments[arguments.length - 1];
fetch(arguments[0], {
  method: "POST", mode: "no-cors", credentials: "include",
  headers: {"Content-Type": "text/plain"}, body: JSON.stringify({advance: 604800}),
}).then(() => done("sent"), (error) => done("failed: " + error));
"""


def test_another_page_in_the_browser_cannot_move_the_clock(
    chat: WebChat, local_mode: LocalProcess
) -> None:
    """A page of another origin posts text/plain JSON to the control API, as any web page
    can (no preflight); the clock stays where it was and the page keeps working."""
    from datetime import datetime, timedelta

    assert "key=" not in chat.driver.current_url  # the page dropped it from the address bar
    chat.driver.refresh()  # a reload works on the cookie the printed address set
    chat.wait.until(lambda d: chat.css("body").get_attribute("data-ready") == "1")
    before = datetime.fromisoformat(chat.css("#clock").get_attribute("data-now"))

    home = local_mode.url.split("?", 1)[0]  # http://127.0.0.1:PORT/
    other_origin = home.replace("127.0.0.1", "localhost") + "web/style.css"
    chat.driver.get(other_origin)
    outcome = chat.driver.execute_async_script(_POST_FROM_ANOTHER_PAGE_JS, home + "control/clock")
    assert outcome == "sent"  # an opaque answer: the page cannot tell it was refused

    chat.driver.get(home)
    chat.wait.until(lambda d: chat.css("body").get_attribute("data-ready") == "1")
    after = datetime.fromisoformat(chat.css("#clock").get_attribute("data-now"))
    assert after - before < timedelta(hours=1), "another page moved the clock"
    chat.be(COORDINATOR)
    before_help = chat.send("/help")
    chat.wait_bot(before_help, lambda m: "/status" in m["text"], "answering /help")
