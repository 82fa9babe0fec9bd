"""A DSC whose extensions encode DER-default values (`critical` FALSE, `cA` FALSE), as
several national CAs issued them: cryptography refuses to parse such a certificate."""

from typing import Any

from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec


def _length(size: int) -> bytes:
    if size < 0x80:
        return bytes([size])
    encoded = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(encoded)]) + encoded


def _tlv(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + _length(len(content)) + content


def explicit_default_dsc(*, csca: Any, dsc: Any) -> bytes:
    """`dsc` re-issued by `csca` with every default in its extensions written out."""
    certificate = asn1_x509.Certificate.load(
        dsc.certificate.public_bytes(serialization.Encoding.DER)
    )
    tbs = certificate["tbs_certificate"]
    parts = [
        tbs[name].dump()
        for name in (
            "version",
            "serial_number",
            "signature",
            "issuer",
            "validity",
            "subject",
            "subject_public_key_info",
        )
    ]
    extensions = []
    for extension in tbs["extensions"]:
        value = extension["extn_value"].parsed.dump()
        if extension["extn_id"].native == "basic_constraints":
            value = _tlv(0x30, _tlv(0x01, b"\x00"))  # cA FALSE, its DEFAULT, encoded
        critical = _tlv(0x01, b"\xff" if extension["critical"].native else b"\x00")
        extensions.append(_tlv(0x30, extension["extn_id"].dump() + critical + _tlv(0x04, value)))
    parts.append(_tlv(0xA3, _tlv(0x30, b"".join(extensions))))
    tbs_der = _tlv(0x30, b"".join(parts))
    signature = csca.private_key.sign(tbs_der, ec.ECDSA(hashes.SHA256()))
    return _tlv(
        0x30,
        tbs_der + certificate["signature_algorithm"].dump() + _tlv(0x03, b"\x00" + signature),
    )
