"""Storing a new certificate and its audit row in one round trip on PostgreSQL.

Through the ORM, issuing one certificate costs four round trips (BEGIN, the certificate
INSERT, the audit INSERT, COMMIT) and two compiled inserts: more than signing it. Here one
statement inserts both rows: a statement is a transaction of its own, so the certificate
is never stored without its audit row, nor the audit row without the certificate.
`ON CONFLICT DO NOTHING` answers a retry (the partial unique constraint "one live
certificate per source") without an error, and the audit row is inserted only for the
certificate row that was. As with `bulk_create` in the batch path, no model signals are
sent (nothing subscribes to these two models'). Other databases (SQLite in development
and tests) keep the ORM path in `services.certificate_issue`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.backends.base.base import BaseDatabaseWrapper

from covidhub.audit.models import AuditEvent
from covidhub.certificates.models import IssuedCertificate
from covidhub.core import request_context
from covidhub.core.rawsql import insert_returning_pk


def single_statement_supported() -> bool:
    """Whether the default database takes data-modifying CTEs (PostgreSQL does)."""
    return bool(connections[DEFAULT_DB_ALIAS].vendor == "postgresql")


def issued_audit_event(
    *, certificate: IssuedCertificate, actor: Any, details: dict[str, Any]
) -> AuditEvent:
    """The unsaved audit row that `audit_record(obj=certificate, ...)` would write.

    The same fields, from the same sources (request context, authenticated actor); a test
    compares it with the row `audit_record` writes, so that the two cannot drift apart.
    """
    context = request_context.current()
    return AuditEvent(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        actor_role="",
        action="certificates.certificate.issued",
        object_type=certificate._meta.label_lower,
        object_id=str(certificate.uuid),
        person_uuid=certificate.person.uuid,
        request_id=context.request_id if context else "",
        client_address=context.client_address if context else None,
        details=details,
    )


@cache
def _fields(model: type[models.Model]) -> tuple[models.Field[Any, Any], ...]:
    """The fields an INSERT of `model` writes: all but the primary key."""
    return tuple(field for field in model._meta.concrete_fields if not field.primary_key)


_statements: dict[str, str] = {}


def _statement(database: BaseDatabaseWrapper) -> str:
    """The INSERT of both rows, built once per process (it depends only on the models)."""
    statement = _statements.get(database.vendor)
    if statement is None:
        statement = _statements[database.vendor] = _statement_build(database.ops.quote_name)
    return statement


def _statement_build(quote: Callable[[str], str]) -> str:
    certificate_fields, audit_fields = _fields(IssuedCertificate), _fields(AuditEvent)
    certificate_columns = ", ".join(quote(str(field.column)) for field in certificate_fields)
    audit_columns = ", ".join(quote(str(field.column)) for field in audit_fields)
    primary_key = quote(str(IssuedCertificate._meta.pk.column))  # type: ignore[union-attr]
    placeholders = ", ".join(["%s"] * len(certificate_fields))
    audit_placeholders = ", ".join(["%s"] * len(audit_fields))
    # In INSERT ... SELECT, PostgreSQL types the untyped literals by the target columns,
    # as in VALUES; the audit row exists only if the certificate row was inserted.
    return (
        f"WITH certificate AS ("  # noqa: S608 - names from model metadata, values as parameters
        f"INSERT INTO {quote(IssuedCertificate._meta.db_table)} ({certificate_columns}) "
        f"VALUES ({placeholders}) ON CONFLICT DO NOTHING RETURNING {primary_key}"
        f"), audit AS ("
        f"INSERT INTO {quote(AuditEvent._meta.db_table)} ({audit_columns}) "
        f"SELECT {audit_placeholders} FROM certificate"
        f") SELECT {primary_key} FROM certificate"
    )


def _values(obj: models.Model, database: BaseDatabaseWrapper) -> list[Any]:
    # What the ORM's insert compiler does per field: pre_save fills auto_now_add.
    return [
        field.get_db_prep_save(field.pre_save(obj, True), database) for field in _fields(type(obj))
    ]


def certificate_store_with_audit(*, certificate: IssuedCertificate, event: AuditEvent) -> bool:
    """Insert `certificate` and `event` in one statement; False if a live one exists.

    On success `certificate` is a saved instance (primary key set). Nothing is written
    when the source already has a live certificate.
    """
    # The wrapper itself, not the `connection` proxy: each field's preparation reads it
    # several times, and every read through the proxy is a context-local look-up.
    database = connections[DEFAULT_DB_ALIAS]
    # As `save()` does: an unsaved person is refused, not stored as a NULL reference.
    certificate._prepare_related_fields_for_save(operation_name="save")  # type: ignore[attr-defined]
    values = _values(certificate, database) + _values(event, database)
    return insert_returning_pk(certificate, database, _statement(database), values)
