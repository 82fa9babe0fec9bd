"""Names (NFC and ICAO 9303) and UVCIs (format, randomness, Luhn mod 38 checksum)."""

import re
import unicodedata

import pytest

from covidhub.certificates.dcc import (
    UvciInvalid,
    name_normalize,
    name_transliterate_icao,
    uvci_checksum_character,
    uvci_generate,
    uvci_validate,
)


@pytest.mark.parametrize(
    ("printed", "icao"),
    [
        ("Nguyễn", "NGUYEN"),
        ("Trần Thị Bảo Ngọc", "TRAN<THI<BAO<NGOC"),
        ("Đặng Đức", "DANG<DUC"),
        ("đỗ ưng ơn", "DO<UNG<ON"),
        ("Lê  Văn   Hưng", "LE<VAN<HUNG"),
        ("Phạm-Hoàng", "PHAM<HOANG"),
        # The schema's own examples, and the DCC specimen name.
        ("d'Červenková Panklová", "DCERVENKOVA<PANKLOVA"),
        ("Jiřina-Maria Alena", "JIRINA<MARIA<ALENA"),
        ("Musterfrau-Gößinger", "MUSTERFRAU<GOESSINGER"),
        ("Ærøskøbing Łódź", "AEROESKOEBING<LODZ"),
        ("O'Brien 3rd", "OBRIEN<RD"),
        ("  -Nguyễn- ", "NGUYEN"),
    ],
)
def test_icao_transliteration(printed, icao):
    assert name_transliterate_icao(printed) == icao


def test_icao_transliteration_of_decomposed_input_equals_composed():
    composed = "Nguyễn Thị Hường"
    decomposed = unicodedata.normalize("NFD", composed)
    assert decomposed != composed
    assert name_transliterate_icao(decomposed) == name_transliterate_icao(composed)
    assert name_normalize(decomposed) == composed


def test_icao_transliteration_drops_other_scripts_and_caps_length():
    assert name_transliterate_icao("阮 Văn") == "VAN"
    long_name = " ".join(["Nguyễn"] * 20)
    transliterated = name_transliterate_icao(long_name)
    assert len(transliterated) <= 80
    assert re.fullmatch(r"[A-Z<]*", transliterated)
    assert not transliterated.endswith("<")


def test_generated_uvci_has_format_and_valid_checksum():
    uvci = uvci_generate()
    assert re.fullmatch(r"URN:UVCI:01:VN:[0-9A-Z]{26}#[0-9A-Z/:]", uvci)
    uvci_validate(uvci)


def test_generated_uvcis_are_random():
    assert len({uvci_generate() for _ in range(200)}) == 200


@pytest.mark.parametrize(
    "uvci",
    [
        # Austrian test certificates, made by the hcert-kotlin reference implementation.
        "URN:UVCI:01:AT:10807843F94AEE0EE5093FBC254BD813#B",
        "URN:UVCI:01:AT:71EE2559DE38C6BF7304FB65A1A451EC#3",
        "URN:UVCI:01:AT:858CC18CFCF5965EF82F60E493349AA5#K",
        "URN:UVCI:01:AT:B5921A35D6A0D696421B3E2462178297#I",
    ],
)
def test_checksum_matches_reference_implementation(uvci):
    uvci_validate(uvci)


def test_checksum_examples_from_schema_discussion():
    # eu-dcc-schema issue #63: '01LUX/18737512422923' -> 'E' with the charset without '#'.
    assert uvci_checksum_character("01LUX/18737512422923") == "E"


def test_checksum_detects_every_single_character_change():
    uvci = uvci_generate()
    body, _, checksum = uvci.partition("#")
    opaque_start = len("URN:UVCI:01:VN:")
    for index in range(opaque_start, len(body)):
        for replacement in "0A9Z":
            if body[index] == replacement:
                continue
            changed = body[:index] + replacement + body[index + 1 :]
            with pytest.raises(UvciInvalid) as caught:
                uvci_validate(f"{changed}#{checksum}")
            assert caught.value.code == "uvci_checksum"


def test_checksum_detects_adjacent_transposition():
    body = "URN:UVCI:01:VN:AB34567890CDEFGHJKLMNPQRST"
    swapped = body[:15] + body[16] + body[15] + body[17:]
    assert uvci_checksum_character(body) != uvci_checksum_character(swapped)


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("URN:UVCI:01:VN:ABC#", "uvci_format"),
        ("urn:uvci:01:VN:ABC#A", "uvci_format"),
        ("URN:UVCI:02:VN:ABC#A", "uvci_format"),
        ("URN:UVCI:01:VN:AB C#A", "uvci_format"),
        ("URN:UVCI:01:VN:" + "A" * 80, "uvci_format"),
        ("URN:UVCI:01:VN:ABCDEF", "uvci_checksum_missing"),
    ],
)
def test_malformed_uvcis_are_refused_with_code(value, code):
    with pytest.raises(UvciInvalid) as caught:
        uvci_validate(value)
    assert caught.value.code == code


def test_checksum_is_optional_for_foreign_uvcis_but_checked_when_present():
    uvci_validate("URN:UVCI:01:UA:0E5566930619555B9E2520C4F3889304", require_checksum=False)
    with pytest.raises(UvciInvalid) as caught:
        uvci_validate("URN:UVCI:01:AT:10807843F94AEE0EE5093FBC254BD813#C", require_checksum=False)
    assert caught.value.code == "uvci_checksum"
