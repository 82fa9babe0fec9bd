"""SMART Health Cards issued per second in one process, against the bare JWS sign.

    .venv/bin/python bench/bench_health_cards.py [--count 2000] [--rounds 5]

Target (issue 20): SHC issue ≥ 1,000/s per process. In process, no database (the
series look-up of `formats.certificate_health_card` is one indexed query, measured by
the API benchmarks): what is measured is building and signing the card.

- "baseline: bare JWS sign" is the ES256 signature over an already encoded
  `header.payload` (the same card's), with the r||s conversion and base64url: the floor
  of any JWS issuer in Python.
- "ours: SHC issue" is `healthcards.shc.card_issue` on the DCC payloads of a two-dose
  series: FHIR bundle from the records, minified JSON, raw DEFLATE, sign, `shc:/` text.
- "ours: DDCC:VS document" is `healthcards.fhir.ddcc_vs_document` (no signature), and
  "ours: SHC QR as SVG" the QR image the citizen page draws (reported, not targeted).

Rounds alternate the cases so that load from other processes hits them alike; the figure
is the best round of each (rate per wall second), CPU rate beside it.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _measure(name: str, count: int, fn: Callable[[], Any]) -> dict[str, Any]:
    started_wall = time.perf_counter()
    started_cpu = time.process_time()
    for _index in range(count):
        fn()
    wall = time.perf_counter() - started_wall
    cpu = time.process_time() - started_cpu
    return {"name": name, "count": count, "per_second": count / wall, "cpu_per_second": count / cpu}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args()

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    from covidhub.certificates.dcc import hcert_build_vaccination
    from covidhub.certificates.healthcards import shc
    from covidhub.certificates.healthcards.fhir import (
        ddcc_vs_document,
        shc_bundle,
        vaccination_record,
    )

    private_key = ec.generate_private_key(ec.SECP256R1())
    kid = shc.public_jwk(private_key.public_key())["kid"]
    records = [
        vaccination_record(
            hcert_build_vaccination(
                family_name="Nguyễn",
                given_name="Văn An",
                date_of_birth="1968-11-02",
                prophylaxis="1119349007",
                medicinal_product="EU/1/20/1528",
                manufacturer="ORG-100030215",
                dose_number=dose,
                total_doses=2,
                vaccination_date=date(2021, 8, 1) + timedelta(days=28 * dose),
                issuer="Sở Y tế tỉnh Hải Dương",
            )
        )
        for dose in (1, 2)
    ]
    now = datetime.now(UTC)
    card = shc.card_issue(
        issuer="https://covidhub.example",
        not_before=int(now.timestamp()),
        fhir_bundle=shc_bundle(records),
        private_key=private_key,
        kid=kid,
    )
    signing_input = card.jws.rsplit(".", 1)[0].encode("ascii")

    def bare_sign() -> None:
        der = private_key.sign(signing_input, ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        shc.b64url(r.to_bytes(32, "big") + s.to_bytes(32, "big"))

    def issue() -> None:
        shc.card_issue(
            issuer="https://covidhub.example",
            not_before=int(now.timestamp()),
            fhir_bundle=shc_bundle(records),
            private_key=private_key,
            kid=kid,
            record_id=records[-1].certificate_id,
        )

    def ddcc() -> None:
        ddcc_vs_document(
            records[-1],
            identifier_system="https://covidhub.example/uvci",
            issued_at=now,
            valid_until=now + timedelta(days=365),
        )

    def qr() -> None:
        shc.qr_svg(text=card.qr_texts[0])

    cases: list[tuple[str, Callable[[], None], int]] = [
        ("baseline: bare JWS sign (ES256, P-256)", bare_sign, options.count),
        ("ours: SHC issue (bundle, JSON, DEFLATE, sign, shc:/)", issue, options.count),
        ("ours: DDCC:VS document", ddcc, options.count),
        ("ours: SHC QR as SVG", qr, max(options.count // 50, 10)),
    ]
    for _name, fn, _count in cases:
        for _ in range(20):
            fn()
    best: dict[str, dict[str, Any]] = {}
    for _round in range(options.rounds):
        for name, fn, count in cases:
            figure = _measure(name, count, fn)
            if name not in best or figure["per_second"] > best[name]["per_second"]:
                best[name] = figure
    print(f"card: {len(card.jws)} JWS characters, {len(card.qr_texts)} QR code(s)")
    for figure in best.values():
        print(
            f"{figure['name']:<56} {figure['per_second']:>9.0f}/s wall"
            f"  {figure['cpu_per_second']:>9.0f}/s CPU  ({figure['count']} per round)"
        )
    issued = best[cases[1][0]]
    ratio = issued["per_second"] / best[cases[0][0]]["per_second"]
    print(f"SHC issue / bare JWS sign = {ratio:.0%} wall")
    print(
        f"target (≥ 1,000 SHC/s per process): "
        f"{'met' if issued['per_second'] >= 1000 else 'NOT met'} ({issued['per_second']:.0f}/s)"
    )


if __name__ == "__main__":
    main()
