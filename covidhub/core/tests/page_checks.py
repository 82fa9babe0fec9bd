"""What the every-page browser suite looks for on a page (test_browser_every_page).

`PAGE_FACTS` runs in the page and returns what the checks need; `page_problems` turns the
facts into a list of problems, each one line a reviewer can act on.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any
from urllib.parse import urlsplit

# Runs in the browser: horizontal overflow, content cut off inside the page, headings and card
# titles that wrap one word per line, buttons styled as the main action, every text a reader
# sees (with option texts, placeholders, labels for screen readers and the title), and every
# address the page points to.
PAGE_FACTS = """() => {
  const lang = document.documentElement.lang;
  const skip = 'script, style, noscript, template, code, pre, kbd, samp, [translate="no"], '
    + '[lang]:not([lang="' + lang + '"])';
  const seen = (el) => el && el.checkVisibility && el.checkVisibility();
  const texts = [document.title];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || parent.closest(skip) || !seen(parent)) continue;
    if (node.textContent.trim()) texts.push(node.textContent.trim());
  }
  for (const el of document.querySelectorAll('option, [placeholder], [aria-label], img[alt], [title]')) {
    if (el.closest(skip)) continue;
    if (el.tagName === 'OPTION') texts.push(el.textContent.trim());
    for (const attr of ['placeholder', 'aria-label', 'alt', 'title']) {
      const value = el.getAttribute(attr);
      if (value) texts.push(value.trim());
    }
  }
  const wrapped = [];
  const titles = 'h1, h2, h3, h4, legend, .title, .card strong, .card > a';
  for (const el of document.querySelectorAll(titles)) {
    if (!seen(el)) continue;
    const words = el.innerText.trim().split(/\\s+/).filter(Boolean);
    if (words.length < 3) continue;
    const lines = new Set();
    const range = document.createRange();
    const walk = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let node = walk.nextNode(); node; node = walk.nextNode()) {
      range.selectNodeContents(node);
      for (const rect of range.getClientRects()) if (rect.width > 0) lines.add(Math.round(rect.top));
    }
    if (lines.size >= words.length) wrapped.push(el.innerText.trim().slice(0, 60));
  }
  const urls = [];
  for (const el of document.querySelectorAll('[href], [src], form[action]')) {
    urls.push(el.href || el.src || el.action || '');
  }
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
    + ' ' + JSON.stringify((el.innerText || el.getAttribute('aria-label') || '').trim().slice(0, 50));
  // Cut off without the page scrolling: a box that hides what overflows it, a select whose
  // shown choice is wider than the select, an SVG of a fixed size drawn in a box of another
  // (no viewBox: the drawing is cropped, or blank space is left beside and under it).
  const cut = [];
  for (const el of document.querySelectorAll('body *')) {
    // A text field scrolls its own value, as it should.
    if (!seen(el) || el.clientWidth <= 1 || el.matches('input, textarea, select')) continue;
    const style = getComputedStyle(el);
    const hides = style.overflowX === 'hidden' || style.overflowX === 'clip'
      || style.textOverflow === 'ellipsis';
    if (hides && el.scrollWidth > el.clientWidth + 1) cut.push('cut off: ' + name(el));
    // On a desktop a table is seen whole: no region of the page scrolls sideways there.
    const scrolls = style.overflowX === 'auto' || style.overflowX === 'scroll';
    if (scrolls && window.innerWidth >= 1024 && el.scrollWidth > el.clientWidth + 1) {
      cut.push('scrolls sideways inside the page: ' + name(el).slice(0, 60));
    }
  }
  const measure = document.createElement('canvas').getContext('2d');
  for (const el of document.querySelectorAll('select')) {
    const option = el.options[el.selectedIndex];
    if (!seen(el) || el.multiple || el.size > 1 || !option) continue;
    const style = getComputedStyle(el);
    measure.font = style.font;
    const room = el.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - 20;
    if (measure.measureText(option.text.trim()).width > room) {
      cut.push('cut off: select #' + el.id + ' shows ' + JSON.stringify(option.text.trim().slice(0, 60)));
    }
  }
  for (const svg of document.querySelectorAll('svg:not([viewBox])')) {
    const w = parseFloat(svg.getAttribute('width')), h = parseFloat(svg.getAttribute('height'));
    const box = svg.getBoundingClientRect();
    if (seen(svg) && w && h && (Math.abs(box.width - w) > 1 || Math.abs(box.height - h) > 1)) {
      cut.push('an SVG of ' + w + 'x' + h + ' without a viewBox drawn in ' + Math.round(box.width)
        + 'x' + Math.round(box.height) + ' (cropped or blank space): '
        + ((svg.querySelector('title') || {}).textContent || ''));
    }
  }
  // The look of the main action (the green of a submit button) on a button that cancels,
  // refuses or removes something.
  const probe = document.createElement('span');
  probe.style.background = 'var(--green)';
  document.body.appendChild(probe);
  const primary = getComputedStyle(probe).backgroundColor;
  probe.remove();
  const mainLooking = [];
  for (const el of document.querySelectorAll('button, a.button, input[type="submit"]')) {
    if (seen(el) && getComputedStyle(el).backgroundColor === primary) {
      mainLooking.push((el.innerText || el.value || '').trim());
    }
  }
  return {
    scrollWidth: document.documentElement.scrollWidth,
    width: document.documentElement.clientWidth,
    lang: document.documentElement.lang,
    texts: texts,
    wrapped: wrapped,
    urls: urls,
    cut: cut,
    mainLooking: mainLooking,
  };
}"""

# English a Vietnamese page must not show: words of interface chrome that are never part
# of a name, an address or demo data. The catalogue check below catches the marked strings.
ENGLISH_ON_VI = re.compile(
    r"\b(?:Select|Submit|Save|Cancel|Search|Booking|Status|Sign in|Sign out|Delete|Edit"
    r"|Download|Upload|Required|Loading|Error|Previous|Next|Total|Today|Yesterday|None"
    r"|True|False|the|and|your|with|this|from|days ago|Page \d)\b"
)
# A button that undoes or refuses something is never styled as the page's main action.
UNDOING = re.compile(
    r"^(?:Cancel|Reject|Decline|Delete|Remove|Withdraw|Hủy|Huỷ|Từ chối|Xóa|Xoá|Gỡ|Rút khỏi)\b"
)
SNAKE_CASE = re.compile(r"[a-z]+(?:_[a-z0-9]+)+")
SNAKE_LIST = re.compile(r"[a-z]+(?:_[a-z0-9]+)+(?:[,/ ]+[a-z]+(?:_[a-z0-9]+)*)+")
LOCAL_URL = re.compile(r"https?://(?:127\.0\.0\.1|localhost|0\.0\.0\.0|testserver)(?::(\d+))?")
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\w*\}|<[^>]+>")
LOCAL_HOSTS = {"127.0.0.1", "localhost", "0.0.0.0", "testserver"}  # noqa: S104


def _fragments(text: str, *, vietnamese: bool) -> list[str]:
    """The literal pieces of a message that are long enough to be recognised on a page."""
    pieces = []
    for piece in PLACEHOLDER.split(text):
        piece = piece.strip(" .,:;()\"'–—-\n")
        if len(piece) < 12 or len(piece.split()) < 2:
            continue
        if vietnamese != any(ord(c) > 127 for c in piece):
            continue
        pieces.append(piece)
    return pieces


@cache
def catalogue_fragments() -> tuple[frozenset[str], frozenset[str]]:
    """English source texts that have a Vietnamese translation, and those translations:
    the first must not appear on a Vietnamese page, the second not on an English one."""
    from django.utils.translation import trans_real

    catalog = trans_real.translation("vi")._catalog  # type: ignore[attr-defined]
    pairs = [
        (msgid, msgstr)
        for msgid, msgstr in catalog.items()
        if isinstance(msgid, str) and isinstance(msgstr, str) and msgstr and msgstr != msgid
    ]
    all_vi = "\n".join(msgstr for _m, msgstr in pairs)
    all_en = "\n".join(msgid for msgid, _m in pairs)
    english = {f for msgid, _m in pairs for f in _fragments(msgid, vietnamese=False)}
    vietnamese = {f for _m, msgstr in pairs for f in _fragments(msgstr, vietnamese=True)}
    return (
        frozenset(f for f in english if f not in all_vi),
        frozenset(f for f in vietnamese if f not in all_en),
    )


@cache
def raw_choice_values() -> frozenset[str]:
    """Stored values of every choice field whose label differs from the value."""
    from django.apps import apps

    values = set()
    for model in apps.get_models():
        for field in model._meta.get_fields():
            for value, label in getattr(field, "choices", None) or ():
                stored = isinstance(value, str) and value.isascii() and value.islower()
                if stored and len(value) >= 4 and str(label) != value:
                    values.add(value)
    return frozenset(values)


def page_problems(facts: dict[str, Any], *, language: str, port: int) -> list[str]:
    """Problems in the text and addresses of a page (the layout is checked per size)."""
    problems: list[str] = []
    if facts["lang"] != language:
        problems.append(f"untranslated: page language is {facts['lang']!r}, not {language!r}")
    text = "\n".join(facts["texts"])
    # A whole text (a label, a cell, a button) that is a message of the other language; a
    # message inside a longer text is most often a name (a site called "Điểm lấy mẫu …").
    pieces = {piece.strip(" :*.") for piece in facts["texts"]}
    english, vietnamese = catalogue_fragments()
    if language == "vi":
        for match in sorted(set(ENGLISH_ON_VI.findall(text))):
            problems.append(f"untranslated: English {match!r} on a Vietnamese page")
        for fragment in sorted(pieces & english):
            problems.append(f"untranslated: {fragment!r} shown in English")
        for value in sorted(pieces & raw_choice_values()):
            problems.append(f"raw enum value {value!r}")
    else:
        for fragment in sorted(pieces & vietnamese):
            problems.append(f"untranslated: Vietnamese {fragment!r} on an English page")
    for piece in sorted(p for p in pieces if SNAKE_CASE.fullmatch(p) or SNAKE_LIST.fullmatch(p)):
        problems.append(f"raw enum value {piece!r}")
    for label in facts["mainLooking"]:
        if UNDOING.match(label):
            problems.append(f"{label!r} looks like the main action (make it secondary or danger)")
    for url in facts["urls"]:
        parts = urlsplit(url)
        if parts.hostname in LOCAL_HOSTS and (parts.port or 80) != port:
            problems.append(f"link to another port: {url}")
    for match in LOCAL_URL.finditer(text):
        if int(match.group(1) or 80) != port:
            problems.append(f"address of another port shown: {match.group(0)}")
    return problems


def layout_problems(facts: dict[str, Any], *, width: int) -> list[str]:
    problems = []
    if facts["scrollWidth"] > facts["width"]:
        problems.append(f"{width}px: scrolls sideways ({facts['scrollWidth']}px wide)")
    for title in facts["wrapped"]:
        problems.append(f"{width}px: one word per line: {title!r}")
    problems += [f"{width}px: {cut}" for cut in facts["cut"]]
    return problems
