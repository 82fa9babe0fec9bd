"""Keys: development CSCA/DSC, the CSR path, loading, encryption, development refusal."""

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from covidhub.certificates.dcc import (
    DSC_USAGE_OIDS,
    KeyAndCertificate,
    KeyMaterialInvalid,
    certificate_is_development,
    certificate_load,
    certificate_usages,
    csr_sign_with_csca,
    development_csca_generate,
    development_dsc_generate,
    dsc_key_and_csr_generate,
    kid_for_certificate,
    private_key_load,
    private_key_serialize,
    signer_from_keys,
    signer_load,
)
from covidhub.certificates.dcc.keys import CertificateKind
from covidhub.certificates.tests.dcc_data import TESTDATA

ALL_KINDS: frozenset[CertificateKind] = frozenset({"v", "t", "r"})
NOW = datetime(2022, 3, 1, 8, 0, tzinfo=UTC)
PASSPHRASE = b"correct horse battery staple"


@pytest.fixture(scope="module")
def csca():
    return development_csca_generate(now=NOW)


@pytest.fixture(scope="module")
def dsc(csca):
    return development_dsc_generate(csca=csca, now=NOW)


def test_development_csca_is_a_self_signed_p256_ca(csca):
    certificate = csca.certificate
    assert isinstance(csca.private_key, ec.EllipticCurvePrivateKey)
    assert isinstance(csca.private_key.curve, ec.SECP256R1)
    assert certificate.subject == certificate.issuer
    certificate.verify_directly_issued_by(certificate)
    constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert constraints.ca
    assert certificate_is_development(certificate)


def test_development_dsc_is_signed_by_csca_with_dcc_usages(csca, dsc):
    dsc.certificate.verify_directly_issued_by(csca.certificate)
    assert certificate_usages(dsc.certificate) == ALL_KINDS
    assert certificate_is_development(dsc.certificate)
    assert dsc.certificate.not_valid_before_utc == NOW


def test_dsc_usage_can_be_restricted_or_absent(csca):
    vaccination_only = development_dsc_generate(csca=csca, now=NOW, usages=("v",))
    assert certificate_usages(vaccination_only.certificate) == frozenset(("v",))
    unrestricted = development_dsc_generate(csca=csca, now=NOW, usages=None)
    assert certificate_usages(unrestricted.certificate) is None


def test_usage_oids_of_both_arcs_are_recognised(csca):
    # Ukraine's DSC in the public test data uses the 1.3.6.1.4.1.0.1847 arc.
    ukraine = json.loads((TESTDATA / "UA/2DCode/raw/1.json").read_text())
    certificate = certificate_load(base64.b64decode(ukraine["TESTCTX"]["CERTIFICATE"]))
    assert certificate_usages(certificate) == ALL_KINDS
    assert DSC_USAGE_OIDS["t"][0].dotted_string == "1.3.6.1.4.1.1847.2021.1.1"
    assert DSC_USAGE_OIDS["v"][0].dotted_string == "1.3.6.1.4.1.1847.2021.1.2"
    assert DSC_USAGE_OIDS["r"][0].dotted_string == "1.3.6.1.4.1.1847.2021.1.3"


def test_kid_is_sha256_prefix_of_certificate_der_as_in_austrian_test_data():
    austria = json.loads((TESTDATA / "AT/2DCode/raw/1.json").read_text())
    der = base64.b64decode(austria["TESTCTX"]["CERTIFICATE"])
    assert kid_for_certificate(certificate_load(der)) == hashlib.sha256(der).digest()[:8]
    # The same kid that Austria put in the protected header of its certificates.
    assert kid_for_certificate(certificate_load(der)).hex() == "d919375fc1e7b6b2"


def test_production_path_csr_signed_by_csca_then_loaded(csca):
    key, csr = dsc_key_and_csr_generate(
        organization="Sở Y tế tỉnh Hải Dương", common_name="Hai Duong DSC 2022"
    )
    assert csr.is_signature_valid
    csr_pem = csr.public_bytes(serialization.Encoding.PEM)
    assert csr_pem.startswith(b"-----BEGIN CERTIFICATE REQUEST-----")
    # Stand-in for the national CSCA: our development CSCA signs the request.
    certificate = csr_sign_with_csca(
        csr=x509.load_pem_x509_csr(csr_pem), csca=csca, now=NOW, usages=("v", "t", "r")
    )
    signer = signer_load(
        certificate_data=certificate.public_bytes(serialization.Encoding.DER),
        private_key_data=private_key_serialize(private_key=key, passphrase=PASSPHRASE),
        passphrase=PASSPHRASE,
        allow_development=True,
        csca=csca.certificate,
    )
    assert signer.kid == kid_for_certificate(certificate)
    assert signer.algorithm == "ES256"
    # Issued by a development CSCA: production refuses it.
    assert signer.is_development
    with pytest.raises(KeyMaterialInvalid) as caught:
        signer_from_keys(private_key=key, certificate=certificate, allow_development=False)
    assert caught.value.code == "development_key_refused"


def test_production_dsc_is_not_development():
    ca_key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "CSCA Viet Nam")])
    national = x509.CertificateBuilder().subject_name(name).issuer_name(name)
    national = national.public_key(ca_key.public_key()).serial_number(1)
    national = national.not_valid_before(NOW).not_valid_after(NOW + timedelta(days=3650))
    national_certificate = national.sign(ca_key, hashes.SHA256())
    key, csr = dsc_key_and_csr_generate(organization="So Y te Hai Duong", common_name="DSC")
    certificate = csr_sign_with_csca(
        csr=csr,
        csca=KeyAndCertificate(private_key=ca_key, certificate=national_certificate),
        now=NOW,
    )
    signer = signer_from_keys(
        private_key=key,
        certificate=certificate,
        allow_development=False,
        csca=national_certificate,
    )
    assert not signer.is_development


def test_certificate_from_another_csca_is_refused(dsc):
    other_csca = development_csca_generate(now=NOW)
    with pytest.raises(KeyMaterialInvalid) as caught:
        signer_from_keys(
            private_key=dsc.private_key,
            certificate=dsc.certificate,
            allow_development=True,
            csca=other_csca.certificate,
        )
    assert caught.value.code == "certificate_invalid"


def test_certificate_for_another_key_is_refused(csca, dsc):
    other = development_dsc_generate(csca=csca, now=NOW)
    with pytest.raises(KeyMaterialInvalid) as caught:
        signer_from_keys(
            private_key=other.private_key, certificate=dsc.certificate, allow_development=True
        )
    assert caught.value.code == "key_mismatch"


def test_private_key_is_serialized_encrypted_only(dsc):
    pem = private_key_serialize(private_key=dsc.private_key, passphrase=PASSPHRASE)
    assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    loaded = private_key_load(data=pem, passphrase=PASSPHRASE)
    assert loaded.private_numbers() == dsc.private_key.private_numbers()
    with pytest.raises(KeyMaterialInvalid) as caught:
        private_key_serialize(private_key=dsc.private_key, passphrase=b"")
    assert caught.value.code == "passphrase_required"


def test_wrong_passphrase_and_clear_text_keys_are_refused(dsc):
    pem = private_key_serialize(private_key=dsc.private_key, passphrase=PASSPHRASE)
    with pytest.raises(KeyMaterialInvalid) as caught:
        private_key_load(data=pem, passphrase=b"wrong")
    assert caught.value.code == "passphrase_wrong"
    clear = dsc.private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(KeyMaterialInvalid) as caught:
        private_key_load(data=clear, passphrase=PASSPHRASE)
    assert caught.value.code == "key_not_encrypted"


def test_small_rsa_keys_are_refused():
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505
    pem = small.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(PASSPHRASE),
    )
    with pytest.raises(KeyMaterialInvalid) as caught:
        private_key_load(data=pem, passphrase=PASSPHRASE)
    assert caught.value.code == "unsupported_key"


def test_certificates_load_from_pem_and_der(dsc):
    pem = dsc.certificate.public_bytes(serialization.Encoding.PEM)
    der = dsc.certificate.public_bytes(serialization.Encoding.DER)
    assert certificate_load(pem) == dsc.certificate
    assert certificate_load(der) == dsc.certificate
    with pytest.raises(KeyMaterialInvalid) as caught:
        certificate_load(b"not a certificate")
    assert caught.value.code == "certificate_invalid"


def test_certificate_with_malformed_extension_is_refused_at_load():
    """Public test case CO15: its DSC has an empty ExtendedKeyUsage; RFC 5280 needs 1..MAX."""
    case = json.loads((TESTDATA / "common/2DCode/raw/CO15.json").read_text())
    with pytest.raises(KeyMaterialInvalid) as caught:
        certificate_load(base64.b64decode(case["TESTCTX"]["CERTIFICATE"]))
    assert caught.value.code == "certificate_invalid"


def test_ps256_dsc_uses_rsa_3072(csca):
    rsa_dsc = development_dsc_generate(csca=csca, now=NOW, algorithm="PS256")
    assert isinstance(rsa_dsc.private_key, rsa.RSAPrivateKey)
    assert rsa_dsc.private_key.key_size == 3072
    signer = signer_from_keys(
        private_key=rsa_dsc.private_key, certificate=rsa_dsc.certificate, allow_development=True
    )
    assert signer.algorithm == "PS256"
