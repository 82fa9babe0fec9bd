"""The every-page suite's layout checks catch what they name (each on a page made to have it,
beside the same page without it): content cut off inside the page, a select whose shown
choice does not fit, a fixed-size SVG drawn in a box of another size (a cropped QR code or
blank space under it), a table that scrolls sideways on a desktop, and a cancel button
styled as the main action."""

from __future__ import annotations

from typing import Any

import pytest

from covidhub.core.tests.page_checks import PAGE_FACTS, layout_problems, page_problems

pytestmark = pytest.mark.browser

STYLE = """<style>:root { --green: #0b5d3b; }
button { background: #fff; } button.main { background: var(--green); color: #fff; }
main { max-width: 30rem; } .wrap { overflow-x: auto; } .clip { overflow: hidden; }
select { width: 12rem; font-size: 16px; } .qr svg { width: 12rem; height: auto; }</style>"""
LONG = "Trạm Y tế P. Cẩm Thượng — 07/12/2026 07:00 (còn 50 chỗ, RT-PCR)"
SVG = '<svg {size} class="segno"><title>QR</title><rect width="174" height="174"/></svg>'


def _problems(chromium: Any, body: str, *, width: int) -> list[str]:
    page = chromium.new_page(viewport={"width": width, "height": 800})
    try:
        page.set_content(f'<html lang="vi"><head>{STYLE}</head><body><main>{body}</main></body>')
        facts = page.evaluate(PAGE_FACTS)
        return layout_problems(facts, width=width) + page_problems(facts, language="vi", port=80)
    finally:
        page.close()


@pytest.mark.parametrize(
    ("bad", "good", "width", "expected"),
    [
        (
            f'<div class="clip" style="white-space: nowrap">{LONG} {LONG}</div>',
            f'<div class="clip">{LONG} {LONG}</div>',
            390,
            "cut off: div",
        ),
        (
            f'<select id="slot"><option>{LONG}</option></select>',
            '<select id="slot"><option>Trạm Y tế</option></select>',
            390,
            "cut off: select #slot",
        ),
        (
            '<div class="qr">' + SVG.format(size='width="174" height="174"') + "</div>",
            '<div class="qr">' + SVG.format(size='viewBox="0 0 174 174"') + "</div>",
            390,
            "without a viewBox",
        ),
        (
            f'<div class="wrap"><table><tr><td style="min-width: 60rem">{LONG}</td></tr></table></div>',
            f'<div class="wrap"><table><tr><td>{LONG}</td></tr></table></div>',
            1366,
            "scrolls sideways inside the page",
        ),
        (
            '<form><button class="main">Hủy lịch hẹn</button></form>',
            '<form><button>Hủy lịch hẹn</button> <button class="main">Chuyển</button></form>',
            390,
            "looks like the main action",
        ),
    ],
)
def test_each_check_catches_its_problem_and_only_it(chromium, bad, good, width, expected):
    found = _problems(chromium, bad, width=width)
    assert any(expected in problem for problem in found), found
    assert _problems(chromium, good, width=width) == []
