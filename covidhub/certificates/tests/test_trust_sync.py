"""The trust-list sync against a real HTTP server standing in for the trust hub."""

import base64
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO

import pytest
from cryptography.hazmat.primitives import serialization
from django.core.management import CommandError, call_command
from django.utils import timezone

from covidhub.certificates.dcc import development_csca_generate, development_dsc_generate
from covidhub.certificates.dcc.valuesets import packaged_value_set_documents
from covidhub.certificates.models import TrustedCertificate, ValueSetRelease

pytestmark = pytest.mark.django_db


class Hub:
    """Serves whatever `documents` holds, by path; `status` overrides the answer."""

    def __init__(self) -> None:
        self.documents: dict[str, bytes] = {}
        self.status: dict[str, int] = {}
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status = hub.status.get(self.path, 200 if self.path in hub.documents else 404)
                body = hub.documents.get(self.path, b"") if status == 200 else b"{}"
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hub"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hub():
    server = Hub()
    yield server
    server.close()


def _publish(hub: Hub, *, devices: int) -> None:
    now = timezone.now()
    csca = development_csca_generate(now=now - timedelta(days=2))
    dsc = development_dsc_generate(csca=csca, now=now - timedelta(days=1))
    der = dsc.certificate.public_bytes(serialization.Encoding.DER)
    hub.documents["/hub/trust-list.json"] = json.dumps(
        {"certificates": [{"certificate": base64.b64encode(der).decode()}]}
    ).encode()
    sets = json.loads(json.dumps(packaged_value_set_documents()))
    tests = sets["covid-19-lab-test-manufacturer-and-name"]
    tests["valueSetDate"] = "2023-06-30"
    for number in range(devices):
        tests["valueSetValues"][str(800000 + number)] = {
            "display": f"Device {number}",
            "lang": "en",
            "active": True,
            "system": "https://covid-19-diagnostics.jrc.ec.europa.eu/devices",
            "version": "2023-06-30",
        }
    hub.documents["/hub/value-sets.json"] = json.dumps(
        {"version": "release-7", "valueSets": sets}
    ).encode()


def test_sync_imports_dscs_and_keeps_value_set_versions(hub):
    _publish(hub, devices=500)
    out = StringIO()
    call_command("certificates_trust_sync", "--url", hub.url, stdout=out)
    assert "1 DSCs read, 1 new" in out.getvalue()
    assert TrustedCertificate.objects.count() == 1
    release = ValueSetRelease.objects.get()
    assert release.source == f"sync: {hub.url}"
    devices = release.documents["covid-19-lab-test-manufacturer-and-name"]["valueSetValues"]
    assert len(devices) == 88 + 500
    call_command("certificates_trust_sync", "--url", hub.url, stdout=out)
    assert ValueSetRelease.objects.count() == 1  # nothing changed: no new version
    assert TrustedCertificate.objects.count() == 1


@pytest.mark.parametrize(
    ("path", "status", "body", "message"),
    [
        ("/hub/value-sets.json", 500, None, r"sync_failed: .*500"),
        ("/hub/value-sets.json", 200, b"{not json", "sync_failed"),
        ("/hub/trust-list.json", 200, b'{"certificates": [{"certificate": "%%%"}]}', "sync_failed"),
        ("/hub/value-sets.json", 200, b'{"valueSets": {"x": {"valueSetId": 1}}}', "value_set_inv"),
    ],
)
def test_a_failing_hub_changes_nothing(hub, path, status, body, message):
    _publish(hub, devices=3)
    hub.status[path] = status
    if body is not None:
        hub.documents[path] = body
    with pytest.raises(CommandError, match=message):
        call_command("certificates_trust_sync", "--url", hub.url)
    assert not TrustedCertificate.objects.exists()
    assert not ValueSetRelease.objects.exists()


def test_unreachable_or_unconfigured_hub(hub):
    url = hub.url
    hub.close()
    with pytest.raises(CommandError, match="sync_failed"):
        call_command("certificates_trust_sync", "--url", url)
    with pytest.raises(CommandError, match=r"sync_failed: .*CERTIFICATES_TRUST_SYNC_URL"):
        call_command("certificates_trust_sync")
    hub.server = ThreadingHTTPServer(("127.0.0.1", 0), hub.server.RequestHandlerClass)
    hub.thread = threading.Thread(target=hub.server.serve_forever, daemon=True)
    hub.thread.start()
