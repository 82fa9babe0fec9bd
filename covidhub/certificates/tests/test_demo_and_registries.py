"""The demo seeder (idempotent) and the registrations made in AppConfig.ready()."""

import pytest

from covidhub.certificates.demo import certificates_seed
from covidhub.certificates.models import IssuedCertificate, SigningKey

pytestmark = pytest.mark.django_db


def test_seeder_is_idempotent(make_citizen):
    from covidhub.accounts.models import User

    user = make_citizen("+84912000001")
    User.objects.filter(pk=user.pk).update(username="c-persona-0001")
    lines = certificates_seed(people=10)
    assert any("development signing key" in line for line in lines)
    assert SigningKey.objects.count() == 1
    # Nothing made up: certificates come only from the doses and results of the demo.
    count = IssuedCertificate.objects.count()
    assert count == 0
    certificates_seed(people=10)
    assert SigningKey.objects.count() == 1
    assert IssuedCertificate.objects.count() == count


def test_seeder_does_nothing_in_production(db, settings):
    settings.PRODUCTION = True
    assert certificates_seed() == []
    assert not SigningKey.objects.exists()


def test_registrations():
    from covidhub.accounts.workspaces import workspace_links_for
    from covidhub.core.tasks_catalog import entry_url_name

    assert entry_url_name("certificate") == "certificates:mine"
    sampler_links = {link.url_name for link in workspace_links_for(frozenset({"sampler"}))}
    assert "certificates:verify" in sampler_links
    assert "certificates:keys" not in sampler_links
    admin_links = {link.url_name for link in workspace_links_for(frozenset({"administrator"}))}
    assert {"certificates:keys", "certificates:revocations", "certificates:rules"} <= admin_links
