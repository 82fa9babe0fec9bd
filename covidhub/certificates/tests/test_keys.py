"""Signing keys: development keys, CSR + import, rotation, the production guard."""

from datetime import timedelta
from io import StringIO

import pytest
from cryptography.hazmat.primitives import serialization
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from covidhub.certificates.dcc import (
    certificate_load,
    csr_sign_with_csca,
    development_csca_generate,
    kid_for_certificate,
)
from covidhub.certificates.errors import KeyRefused
from covidhub.certificates.keystore import (
    signer_cache_clear,
    signer_current,
    signing_key_create_development,
    signing_key_import_certificate,
    signing_key_request,
    signing_key_retire,
)
from covidhub.certificates.models import SigningKey, TrustedCertificate
from covidhub.certificates.services import certificate_issue_vaccination
from covidhub.certificates.verification import certificate_verify

pytestmark = pytest.mark.django_db


def test_private_key_is_stored_encrypted_only(signing_key):
    stored = SigningKey.objects.get(pk=signing_key.pk).private_key_encrypted
    assert stored.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    with pytest.raises(TypeError):
        serialization.load_pem_private_key(stored.encode(), password=None)


def test_development_key_is_in_the_trust_list(signing_key):
    entry = TrustedCertificate.objects.get(signing_key=signing_key)
    assert entry.kid == signing_key.kid
    assert entry.source == "own"
    assert signing_key.is_development


def test_production_refuses_to_sign_with_a_development_key(
    signing_key, settings, make_person, vaccination_facts
):
    person = make_person()
    settings.PRODUCTION = True
    with pytest.raises(KeyRefused) as caught:
        certificate_issue_vaccination(facts=vaccination_facts(person))
    assert caught.value.code == "development_key_refused"
    # Even when the signer was loaded (cached) before the switch.
    settings.PRODUCTION = False
    signer_current(now=timezone.now())
    settings.PRODUCTION = True
    with pytest.raises(KeyRefused):
        certificate_issue_vaccination(facts=vaccination_facts(person))


def test_production_refuses_to_create_development_keys(db, settings, monkeypatch):
    settings.PRODUCTION = True
    monkeypatch.setenv("COVIDHUB_DSC_PASSPHRASE", "a production secret")
    with pytest.raises(KeyRefused):
        signing_key_create_development(actor=None)
    with pytest.raises(CommandError):
        call_command("certificates_dev_keys", stdout=StringIO())


def test_production_requires_a_passphrase(db, settings, monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    settings.PRODUCTION = True
    monkeypatch.delenv("COVIDHUB_DSC_PASSPHRASE", raising=False)
    monkeypatch.delenv("COVIDHUB_DSC_PASSPHRASE_FILE", raising=False)
    with pytest.raises(ImproperlyConfigured):
        signing_key_request(actor=None, organization="Sở Y tế", common_name="HD DSC")


def _national_csca():
    """A stand-in for the national CSCA (its names carry no development marker)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    from covidhub.certificates.dcc import KeyAndCertificate

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Bộ Y tế"),
            x509.NameAttribute(NameOID.COMMON_NAME, "VN CSCA test"),
        ]
    )
    now = timezone.now() - timedelta(days=1)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, hashes.SHA256())
    )
    return KeyAndCertificate(private_key=key, certificate=certificate)


def test_csr_flow_signs_in_production(
    db, settings, monkeypatch, tmp_path, make_person, vaccination_facts
):
    monkeypatch.setenv("COVIDHUB_DSC_PASSPHRASE", "a production secret")
    settings.PRODUCTION = True
    out = StringIO()
    csr_path = tmp_path / "dsc.csr"
    call_command("certificates_dsc_request", "--out", str(csr_path), stdout=out)
    key = SigningKey.objects.get(status="pending")
    assert key.csr_pem == csr_path.read_text()
    csca = _national_csca()
    from cryptography import x509

    signed = csr_sign_with_csca(
        csr=x509.load_pem_x509_csr(csr_path.read_bytes()),
        csca=csca,
        now=timezone.now() - timedelta(hours=1),
    )
    cert_path = tmp_path / "dsc.pem"
    cert_path.write_bytes(signed.public_bytes(serialization.Encoding.PEM))
    csca_path = tmp_path / "csca.pem"
    csca_path.write_bytes(csca.certificate.public_bytes(serialization.Encoding.PEM))
    call_command(
        "certificates_dsc_import",
        str(key.uuid),
        str(cert_path),
        "--csca",
        str(csca_path),
        stdout=out,
    )
    key.refresh_from_db()
    assert key.status == "active" and not key.is_development
    assert key.kid == kid_for_certificate(signed).hex()
    certificate = certificate_issue_vaccination(facts=vaccination_facts(make_person()))
    assert certificate.kid == key.kid
    assert certificate_verify(text=certificate.hc1).valid


def test_import_refuses_a_certificate_for_another_key(db, tmp_path):
    pending = signing_key_request(actor=None, organization="Sở Y tế", common_name="HD DSC")
    other = signing_key_request(actor=None, organization="Sở Y tế", common_name="other")
    from cryptography import x509

    csca = _national_csca()
    signed_other = csr_sign_with_csca(
        csr=x509.load_pem_x509_csr(other.csr_pem.encode()), csca=csca, now=timezone.now()
    )
    with pytest.raises(KeyRefused) as caught:
        signing_key_import_certificate(
            actor=None,
            key=pending,
            certificate_data=signed_other.public_bytes(serialization.Encoding.PEM),
        )
    assert caught.value.code == "key_mismatch"
    pending.refresh_from_db()
    assert pending.status == "pending"
    with pytest.raises(KeyRefused) as caught:
        signing_key_import_certificate(actor=None, key=pending, certificate_data=b"garbage")
    assert caught.value.code == "certificate_invalid"


def test_production_refuses_importing_a_development_signed_dsc(db, settings, monkeypatch):
    from cryptography import x509

    monkeypatch.setenv("COVIDHUB_DSC_PASSPHRASE", "a production secret")
    settings.PRODUCTION = True
    pending = signing_key_request(actor=None, organization="Sở Y tế", common_name="HD DSC")
    dev_csca = development_csca_generate(now=timezone.now() - timedelta(days=1))
    signed = csr_sign_with_csca(
        csr=x509.load_pem_x509_csr(pending.csr_pem.encode()), csca=dev_csca, now=timezone.now()
    )
    with pytest.raises(KeyRefused) as caught:
        signing_key_import_certificate(
            actor=None,
            key=pending,
            certificate_data=signed.public_bytes(serialization.Encoding.PEM),
        )
    assert caught.value.code == "development_key_refused"


def test_rotation_newest_valid_key_signs_and_old_certificates_verify(
    make_person, vaccination_facts
):
    now = timezone.now()
    old, _ = signing_key_create_development(actor=None, now=now - timedelta(days=30))
    person = make_person()
    old_certificate = certificate_issue_vaccination(facts=vaccination_facts(person, dose=1))
    assert old_certificate.kid == old.kid
    out = StringIO()
    call_command("certificates_keys", "rotate", stdout=out)
    new = SigningKey.objects.exclude(pk=old.pk).get()
    new_certificate = certificate_issue_vaccination(facts=vaccination_facts(person, dose=2))
    assert new_certificate.kid == new.kid != old.kid
    assert certificate_verify(text=old_certificate.hc1).valid
    assert certificate_verify(text=new_certificate.hc1).valid
    call_command("certificates_keys", "list", stdout=out)
    assert f"* {new.uuid}" in out.getvalue()
    # Retiring the newest falls back to the older one that is still valid.
    signing_key_retire(actor=None, key=new)
    signer_cache_clear()
    third = certificate_issue_vaccination(facts=vaccination_facts(person, dose=3, total=3))
    assert third.kid == old.kid
    assert certificate_verify(text=new_certificate.hc1).valid


def test_key_not_yet_valid_does_not_sign(make_person, vaccination_facts):
    current, _ = signing_key_create_development(actor=None, now=timezone.now() - timedelta(days=1))
    signing_key_create_development(actor=None, now=timezone.now() + timedelta(days=5))
    certificate = certificate_issue_vaccination(facts=vaccination_facts(make_person()))
    assert certificate.kid == current.kid


def test_trust_list_import_from_test_data_pem_and_json(db, tmp_path, client):
    import base64
    import json

    from covidhub.certificates.tests.dcc_data import TESTDATA as testdata

    case = json.loads((testdata / "AT/2DCode/raw/1.json").read_text())
    der = base64.b64decode(case["TESTCTX"]["CERTIFICATE"])
    pem_path = tmp_path / "national.pem"
    pem_path.write_bytes(certificate_load(der).public_bytes(serialization.Encoding.PEM))
    out = StringIO()
    call_command("certificates_trust_import", str(pem_path), stdout=out)
    assert "1 new" in out.getvalue()
    published = client.get("/certificates/trust-list.json").json()
    json_path = tmp_path / "list.json"
    json_path.write_text(json.dumps(published))
    call_command("certificates_trust_import", str(json_path), stdout=out)
    assert "0 new" in out.getvalue()
    assert TrustedCertificate.objects.filter(source="imported").count() == 1
    bad = tmp_path / "bad.pem"
    bad.write_bytes(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    with pytest.raises(CommandError):
        call_command("certificates_trust_import", str(bad), stdout=out)
