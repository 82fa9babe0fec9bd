"""The EU Digital COVID Certificate (HC1) core: payloads, UVCIs, keys, signing, verifying.

Pure Python without Django, so that the certificates app, the offline verifier and the
benchmarks share one implementation. Errors carry a stable `code` (`errors.py`);
verification never raises on input and reports a `Reason` instead.
"""

from .codec import HC1_PREFIX, DecodeFailed, hc1_decode, hc1_encode
from .errors import DccError, KeyMaterialInvalid, PayloadInvalid, UvciInvalid
from .keys import (
    DEVELOPMENT_MARKER,
    DSC_USAGE_OIDS,
    DocumentSigner,
    KeyAndCertificate,
    SigningAlgorithm,
    SigningKey,
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
from .names import name_normalize, name_transliterate_icao
from .payload import (
    COUNTRY_VIET_NAM,
    DISEASE_COVID_19,
    TEST_RESULT_DETECTED,
    TEST_RESULT_NOT_DETECTED,
    TEST_TYPE_NAAT,
    Hcert,
    hcert_build_recovery,
    hcert_build_test,
    hcert_build_vaccination,
    hcert_issuable_check,
)
from .qr import qr_matrix, qr_png, qr_svg, qr_svg_page
from .schema import SchemaIssue, hcert_schema_check, hcert_schema_issues
from .signing import hc1_issue, hcert_sign
from .uvci import uvci_checksum_character, uvci_generate, uvci_validate
from .valuesets import TEST_TYPE_RAT, ValueSets, hcert_codes_check, value_sets_load
from .verify import Reason, TrustList, VerificationResult, hc1_verify, trust_list_build

__all__ = [
    "COUNTRY_VIET_NAM",
    "DEVELOPMENT_MARKER",
    "DISEASE_COVID_19",
    "DSC_USAGE_OIDS",
    "HC1_PREFIX",
    "TEST_RESULT_DETECTED",
    "TEST_RESULT_NOT_DETECTED",
    "TEST_TYPE_NAAT",
    "TEST_TYPE_RAT",
    "DccError",
    "DecodeFailed",
    "DocumentSigner",
    "Hcert",
    "KeyAndCertificate",
    "KeyMaterialInvalid",
    "PayloadInvalid",
    "Reason",
    "SchemaIssue",
    "SigningAlgorithm",
    "SigningKey",
    "TrustList",
    "UvciInvalid",
    "ValueSets",
    "VerificationResult",
    "certificate_is_development",
    "certificate_load",
    "certificate_usages",
    "csr_sign_with_csca",
    "development_csca_generate",
    "development_dsc_generate",
    "dsc_key_and_csr_generate",
    "hc1_decode",
    "hc1_encode",
    "hc1_issue",
    "hc1_verify",
    "hcert_build_recovery",
    "hcert_build_test",
    "hcert_build_vaccination",
    "hcert_codes_check",
    "hcert_issuable_check",
    "hcert_schema_check",
    "hcert_schema_issues",
    "hcert_sign",
    "kid_for_certificate",
    "name_normalize",
    "name_transliterate_icao",
    "private_key_load",
    "private_key_serialize",
    "qr_matrix",
    "qr_png",
    "qr_svg",
    "qr_svg_page",
    "signer_from_keys",
    "signer_load",
    "trust_list_build",
    "uvci_checksum_character",
    "uvci_generate",
    "uvci_validate",
    "value_sets_load",
]
