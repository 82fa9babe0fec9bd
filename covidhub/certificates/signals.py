"""Events of the certificates capability that the layers above subscribe to.

`certificates_revoked(sender=IssuedCertificate, certificates=QuerySet)` is sent inside the
transaction that revokes them (one certificate, or every certificate of a signing key), so
that a receiver writing in that transaction (the exchange outbox) commits or rolls back
with the revocation. A queryset, so that a key's thousands are answered set-based.
"""

from __future__ import annotations

from django.dispatch import Signal

certificates_revoked = Signal()
