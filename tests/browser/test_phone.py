"""The web chat at phone width (390 × 844, an iPhone 12–15): the chat fills the screen, the
message box and the send button are on screen, the people list is an overlay opened from the
chat's head. Its own local mode process and browser (module-scoped fixtures of conftest)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import REPO, LocalProcess
from tests.browser.test_webchat import LIAISON, WebChat

pytestmark = pytest.mark.browser

PHONE = (390, 844)
SCREENSHOT = REPO / "docs" / "webchat-phone.png"

_RECT_JS = """
const r = arguments[0].getBoundingClientRect();
return {left: r.left, right: r.right, top: r.top, bottom: r.bottom,
        width: r.width, height: r.height};
"""


@pytest.fixture(scope="module")
def phone(driver: Any, local_mode: LocalProcess) -> WebChat:
    driver.set_window_size(*PHONE)
    page = WebChat(driver, local_mode.url)
    page.open()
    return page


def viewport(chat: WebChat) -> tuple[int, int]:
    return tuple(chat.driver.execute_script("return [window.innerWidth, window.innerHeight];"))


def on_screen(chat: WebChat, selector: str) -> dict[str, float]:
    node = chat.css(selector)
    assert node.is_displayed(), selector
    rect = chat.driver.execute_script(_RECT_JS, node)
    width, height = viewport(chat)
    assert rect["width"] > 0 and rect["height"] > 0, (selector, rect)
    assert 0 <= rect["left"] and rect["right"] <= width, (selector, rect, width)
    assert 0 <= rect["top"] and rect["bottom"] <= height, (selector, rect, height)
    return rect


def test_the_chat_is_usable_at_phone_width(phone: WebChat) -> None:
    width, _ = viewport(phone)
    assert width <= PHONE[0]
    # nothing wider than the screen: no sideways scrolling of the page
    assert phone.driver.execute_script("return document.documentElement.scrollWidth;") <= width
    text = on_screen(phone, "#text")
    send = on_screen(phone, "#send")
    assert text["width"] >= width / 2  # room to type
    assert send["top"] < text["bottom"] and send["bottom"] > text["top"]  # side by side
    # the people list is off screen until asked for
    sidebar = phone.driver.execute_script(_RECT_JS, phone.css("#sidebar"))
    assert sidebar["right"] <= 0, sidebar


def test_the_people_list_opens_over_the_chat_and_closes_on_a_choice(
    phone: WebChat, tmp_path_factory: pytest.TempPathFactory
) -> None:
    phone.click("#people-toggle")
    phone.wait.until(
        lambda d: phone.css("#people-toggle").get_attribute("aria-expanded") == "true"
    )
    phone.wait.until(
        lambda d: phone.driver.execute_script(_RECT_JS, phone.css("#sidebar"))["left"] >= 0
    )
    on_screen(phone, f'button.person[data-person-id="{LIAISON}"]')
    phone.click(f'button.person[data-person-id="{LIAISON}"]')
    phone.wait.until(lambda d: phone.css("#chat").get_attribute("data-person-id") == str(LIAISON))
    phone.wait.until(
        lambda d: phone.css("#people-toggle").get_attribute("aria-expanded") == "false"
    )
    phone.wait.until(
        lambda d: phone.driver.execute_script(_RECT_JS, phone.css("#sidebar"))["right"] <= 0
    )
    before = phone.send("/my")
    answer = phone.wait_bot(before, what="answering /my")
    assert answer["text"]
    on_screen(phone, "#text")
    on_screen(phone, "#send")
    phone.wait.until(lambda d: not phone.toasts())
    phone.driver.execute_script(
        "const m = document.getElementById('messages');m.scrollTop = m.scrollHeight;"
    )
    if os.environ.get("UPDATE_SCREENSHOT"):
        path = SCREENSHOT
    else:
        path = tmp_path_factory.mktemp("phone") / "webchat-phone.png"
    assert phone.driver.save_screenshot(str(path))
    assert Path(path).stat().st_size > 0
