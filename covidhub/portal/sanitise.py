"""Editors' formatted text, made safe with nh3 (an allow-list HTML sanitiser).

Only structural tags survive; links may be http(s), mailto or tel; images only from the
portal's own image store. Scripts, event handlers, styles and iframes are removed.
Text without any tag is treated as plain paragraphs.
"""

from __future__ import annotations

import html
import re

import nh3
from django.utils.html import escape

TAGS = {
    "p", "br", "strong", "b", "em", "i", "u", "ul", "ol", "li", "h2", "h3", "h4",
    "blockquote", "a", "img", "table", "thead", "tbody", "tr", "th", "td", "figure",
    "figcaption", "hr",
}  # fmt: skip
ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "width", "height"},
    "th": {"scope", "colspan", "rowspan"},
    "td": {"colspan", "rowspan"},
}
URL_SCHEMES = {"http", "https", "mailto", "tel"}
IMAGE_SRC = re.compile(r"/portal/images/[0-9a-f-]{36}/")
_BLANK_LINES = re.compile(r"\n\s*\n")


def _filter(tag: str, attribute: str, value: str) -> str | None:
    if tag == "img" and attribute == "src":
        return value if IMAGE_SRC.fullmatch(value) else None
    if attribute in ("width", "height"):
        return value if value.isdigit() and len(value) <= 4 else None
    return value


def rich_text_clean(text: str) -> str:
    """Safe HTML from an editor's text (HTML subset, or plain paragraphs)."""
    text = (text or "").replace("\r\n", "\n").strip()
    if "<" not in text:
        paragraphs = [p.strip() for p in _BLANK_LINES.split(text) if p.strip()]
        return "".join(f"<p>{escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)
    return nh3.clean(
        text,
        tags=TAGS,
        clean_content_tags={"script", "style"},
        attributes=ATTRIBUTES,
        attribute_filter=_filter,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    ).strip()


def plain_text_clean(text: str) -> str:
    """Plain text from anything (tickets): every tag removed; templates escape it again."""
    cleaned = nh3.clean(text or "", tags=set(), clean_content_tags={"script", "style"})
    return html.unescape(cleaned).strip()
