"""One way to write a date in text built in Python: the pages' format of each language."""

from __future__ import annotations

import datetime
import re
from pathlib import Path

from django.utils import timezone, translation

from covidhub.core.dates import date_text

DAY = datetime.date(2021, 10, 11)
ROOT = Path(__file__).resolve().parents[3]


def test_date_text_is_day_first_in_vietnamese_and_unambiguous_in_english():
    with translation.override("vi"):
        assert date_text(DAY) == "11/10/2021"
        assert date_text(DAY, language="en") == "11 Oct 2021"
    with translation.override("en"):
        assert date_text(DAY) == "11 Oct 2021"
        assert date_text(DAY, language="vi") == "11/10/2021"
        # Asking for another language leaves the active one as it was.
        assert translation.get_language() == "en"


def test_a_moment_is_written_as_its_local_day():
    # 23:30 UTC on 10 October is already 11 October in Hà Nội (UTC+7).
    moment = datetime.datetime(2021, 10, 10, 23, 30, tzinfo=datetime.UTC)
    assert date_text(moment, language="vi") == "11/10/2021"
    assert date_text(timezone.make_naive(moment), language="en") == "11 Oct 2021"


# Where a day-first numeric date stays on purpose: what people type or import is parsed
# in that format (forms, rosters, registration lists), and the bilingual paper documents
# (labels "Vietnamese / English") write one date for both readers, as Vietnamese write it.
NUMERIC_ALLOWED = {
    "covidhub/portal/forms.py",
    "covidhub/vaccination/forms.py",
    "covidhub/adoption/rosters.py",
    "covidhub/vaccination/services/registration.py",
    "covidhub/testing/document.py",
    "covidhub/homecare/document.py",
}


def test_no_text_built_in_python_writes_a_date_day_first_in_every_language():
    """A date in an SMS, an e-mail, a notice or a message goes through `date_text`: a
    strftime("%d/%m/%Y") shows 11/10/2021 to an English reader, who reads 10 November."""
    numeric = re.compile(r"%d/%m/%Y|:%d/%m")
    found = []
    for path in sorted((ROOT / "covidhub").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if "/tests/" in relative or "/migrations/" in relative or relative in NUMERIC_ALLOWED:
            continue
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if numeric.search(line):
                found.append(f"{relative}:{number}: {line.strip()}")
    assert found == []
