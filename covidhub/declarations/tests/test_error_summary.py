"""A long form (the declaration is ~2,900 px) lists its problems at the top, each linked to
its field (the GOV.UK error summary), and keeps each field's own message."""

import re

import pytest

pytestmark = pytest.mark.django_db


def test_declaration_errors_are_summarised_at_the_top_with_links(citizen, citizen_person, login):
    client = login(citizen)
    page = client.post(f"/declarations/{citizen_person.uuid}/new/", {"phone": ""})
    assert page.status_code == 200
    html = page.content.decode()
    summary = html.split('class="error-summary"', 1)[1].split("</div>", 1)[0]
    assert html.index('class="error-summary"') < html.index('<form method="post" novalidate>')
    targets = re.findall(r'href="#([^"]+)"', summary)
    assert len(targets) >= 3
    for target in targets:
        assert f'id="{target}"' in html, target  # every link lands on its field
    assert "id_phone" in targets
