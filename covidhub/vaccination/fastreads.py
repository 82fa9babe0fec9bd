"""The reads of a booking and of an injection as hand-written joins: one round trip each,
without the ORM's per-call query compilation (most of these busy requests' CPU).

Like `covidhub.core.rawsql`, but over a join: each model's columns and value converters
are worked out once per process, and the rows come back as ordinary model instances with
their relations set, converted exactly as the ORM would (UUIDs, dates, JSON on SQLite too).
Portable SQL (PostgreSQL and SQLite). Scoping stays with the callers.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, models

from covidhub.people.models import Person
from covidhub.vaccination import rules
from covidhub.vaccination.models import (
    Booking,
    Campaign,
    Dose,
    LotAllocation,
    Registration,
    Session,
    VaccinationSite,
    Vaccine,
    VaccineLot,
)

_Converter = Callable[[Any, Any, Any], Any]


@dataclass(frozen=True)
class _Part:
    """One model's columns in a join, under a table alias."""

    model: type[models.Model]
    columns: str
    attnames: list[str]
    converters: list[tuple[int, list[_Converter], Any]]

    @classmethod
    def of(cls, model: type[models.Model], alias: str, *names: str) -> _Part:
        """All the model's columns, or only the fields `names` (the others deferred); in
        the model's field order, which `Model.from_db` expects. No alias: unqualified."""
        quote = connection.ops.quote_name
        fields = [f for f in model._meta.concrete_fields if not names or f.name in names]
        converters = []
        for index, field in enumerate(fields):
            col = field.get_col(alias or str(model._meta.db_table))
            found = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
            if found:
                converters.append((index, found, col))
        return cls(
            model=model,
            columns=", ".join(
                f"{alias}.{quote(str(f.column))}" if alias else quote(str(f.column)) for f in fields
            ),
            attnames=[f.attname for f in fields],
            converters=converters,
        )

    def instance(self, row: Sequence[Any], start: int) -> tuple[Any, int]:
        end = start + len(self.attnames)
        values = list(row[start:end])
        for index, funcs, col in self.converters:
            value = values[index]
            for func in funcs:
                value = func(value, col, connection)
            values[index] = value
        return self.model.from_db(connection.alias, self.attnames, values), end


_plans: dict[tuple[str, str], tuple[str, list[_Part]]] = {}
_whole: dict[tuple[str, type[models.Model]], _Part] = {}


def whole_row_columns(model: type[models.Model]) -> str:
    """All of `model`'s columns, unqualified (for RETURNING), in `instance_from_row`'s order."""
    return _whole_part(model).columns


def instance_from_row[M: models.Model](model: type[M], row: Sequence[Any]) -> M:
    """An instance from a row of `whole_row_columns(model)`, converted as the ORM would."""
    instance, _end = _whole_part(model).instance(row, 0)
    return instance  # type: ignore[no-any-return]


def _whole_part(model: type[models.Model]) -> _Part:
    key = (connection.vendor, model)
    part = _whole.get(key)
    if part is None:
        part = _whole[key] = _Part.of(model, "")
    return part


def _plan(name: str, build: Callable[[], tuple[str, list[_Part]]]) -> tuple[str, list[_Part]]:
    key = (connection.vendor, name)
    plan = _plans.get(key)
    if plan is None:
        plan = _plans[key] = build()
    return plan


def _table(model: type[models.Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _uuid_param(model: type[models.Model], value: uuid.UUID | str) -> Any:
    return model._meta.get_field("uuid").get_db_prep_value(value, connection)  # type: ignore[union-attr]


def _rows(name: str, build: Callable[[], tuple[str, list[_Part]]], params: list[Any]) -> list[Any]:
    with connection.cursor() as cursor:
        _rows_send(cursor, name, build, params)
        return _rows_from(cursor, name, build)


def _rows_send(
    cursor: Any, name: str, build: Callable[[], tuple[str, list[_Part]]], params: list[Any]
) -> None:
    cursor.execute(_plan(name, build)[0], params)


def _rows_from(cursor: Any, name: str, build: Callable[[], tuple[str, list[_Part]]]) -> list[Any]:
    """The instances of the rows of `_rows_send`'s statement (fetched now)."""
    _sql, parts = _plan(name, build)
    rows = cursor.fetchall()
    out = []
    for row in rows:
        instances = []
        position = 0
        for part in parts:
            instance, position = part.instance(row, position)
            instances.append(instance)
        out.append(instances)
    return out


def _session_sql() -> tuple[str, list[_Part]]:
    parts = [
        _Part.of(Session, "s"),
        _Part.of(Campaign, "c"),
        _Part.of(Vaccine, "v"),
        _Part.of(VaccinationSite, "st"),
    ]
    sql = (
        f"SELECT {', '.join(p.columns for p in parts)} FROM {_table(Session)} s "  # noqa: S608 - names from model metadata
        f"JOIN {_table(Campaign)} c ON c.id = s.campaign_id "
        f"JOIN {_table(Vaccine)} v ON v.id = c.vaccine_id "
        f"JOIN {_table(VaccinationSite)} st ON st.id = s.site_id "
        "WHERE s.uuid = %s"
    )
    return sql, parts


def session_with_campaign(session_uuid: uuid.UUID) -> Session | None:
    """A session by its uuid with its campaign (and the campaign's vaccine) and its site."""
    found = _rows("session", _session_sql, [_uuid_param(Session, session_uuid)])
    if not found:
        return None
    session, campaign, vaccine, site = found[0]
    campaign.vaccine = vaccine
    session.campaign = campaign
    session.site = site
    return session  # type: ignore[no-any-return]


def _household_person_sql() -> tuple[str, list[_Part]]:
    parts = [_Part.of(Person, "p"), _Part.of(Registration, "r")]
    sql = (
        f"SELECT {', '.join(p.columns for p in parts)} FROM {_table(Person)} p "  # noqa: S608 - names from model metadata
        f"LEFT JOIN {_table(Registration)} r ON r.person_id = p.id "
        "WHERE p.managed_by_id = %s AND p.uuid = %s"
    )
    return sql, parts


def household_person_with_registration(*, account: Any, person_uuid: uuid.UUID) -> Person | None:
    """A person of the account's household (the citizen's scope, as in
    `person_queryset_for_actor`) with their vaccination registration, if any, loaded."""
    found = _rows(
        "household_person", _household_person_sql, [account.pk, _uuid_param(Person, person_uuid)]
    )
    if not found:
        return None
    person, registration = found[0]
    relation = Person.vaccination_registration.related  # type: ignore[attr-defined]
    if registration.pk is None:
        relation.set_cached_value(person, None)  # not registered: no query to find out
    else:
        relation.set_cached_value(person, registration)
        Registration.person.field.set_cached_value(registration, person)  # type: ignore[attr-defined]
    return person  # type: ignore[no-any-return]


def _booking_sql() -> tuple[str, list[_Part]]:
    parts = [
        _Part.of(Booking, "b"),
        _Part.of(Session, "s"),
        _Part.of(VaccinationSite, "st"),
        _Part.of(Person, "p"),
    ]
    sql = (
        f"SELECT {', '.join(p.columns for p in parts)} FROM {_table(Booking)} b "  # noqa: S608 - names from model metadata
        f"JOIN {_table(Session)} s ON s.id = b.session_id "
        f"JOIN {_table(VaccinationSite)} st ON st.id = s.site_id "
        f"JOIN {_table(Person)} p ON p.id = b.person_id "
        "WHERE b.uuid = %s"
    )
    return sql, parts


def booking_with_site_and_person(booking_uuid: uuid.UUID) -> Booking | None:
    """A booking by its uuid with its session, the session's site and the person (the
    caller checks that the actor may see the site)."""
    found = _rows("booking", _booking_sql, [_uuid_param(Booking, booking_uuid)])
    if not found:
        return None
    booking, session, site, person = found[0]
    session.site = site
    booking.session = session
    booking.person = person
    return booking  # type: ignore[no-any-return]


def _allocation_sql() -> tuple[str, list[_Part]]:
    parts = [_Part.of(LotAllocation, "a"), _Part.of(VaccineLot, "l"), _Part.of(Vaccine, "v")]
    sql = (
        f"SELECT {', '.join(p.columns for p in parts)} FROM {_table(LotAllocation)} a "  # noqa: S608 - names from model metadata
        f"JOIN {_table(VaccineLot)} l ON l.id = a.lot_id "
        f"JOIN {_table(Vaccine)} v ON v.id = l.vaccine_id "
        "WHERE a.site_id = %s AND l.uuid = %s"
    )
    return sql, parts


def allocation_at_site(*, site_id: int, lot_uuid: uuid.UUID | str) -> LotAllocation | None:
    """The site's allocation of a lot (by the lot's uuid), with the lot and its vaccine."""
    found = _rows("allocation", _allocation_sql, [site_id, _uuid_param(VaccineLot, lot_uuid)])
    if not found:
        return None
    allocation, lot, vaccine = found[0]
    lot.vaccine = vaccine
    allocation.lot = lot
    return allocation  # type: ignore[no-any-return]


def _history_sql() -> tuple[str, list[_Part]]:
    parts = [
        _Part.of(Dose, "d", "sequence", "series", "dose_number", "day"),
        _Part.of(Vaccine, "v"),
    ]
    sql = (
        f"SELECT {', '.join(p.columns for p in parts)} FROM {_table(Dose)} d "  # noqa: S608 - names from model metadata
        f"JOIN {_table(Vaccine)} v ON v.id = d.vaccine_id "
        "WHERE d.person_id = %s AND d.status = %s ORDER BY d.sequence"
    )
    return sql, parts


def dose_history(person_id: int) -> list[tuple[int, rules.DoseFact]]:
    """The person's valid doses in order, each with its overall sequence number."""
    with connection.cursor() as cursor:
        dose_history_send(cursor, person_id)
        return dose_history_from(cursor)


def dose_history_send(cursor: Any, person_id: int) -> None:
    """`dose_history` in two halves, for statements sent together (`rawsql.pipelined`):
    execute the read on `cursor` …"""
    _rows_send(cursor, "history", _history_sql, [person_id, Dose.Status.VALID.value])


def dose_history_from(cursor: Any) -> list[tuple[int, rules.DoseFact]]:
    """… and take its rows from `cursor` when they are needed."""
    found = _rows_from(cursor, "history", _history_sql)
    return [
        (dose.sequence, rules.DoseFact(vaccine, dose.series, dose.dose_number, dose.day))
        for dose, vaccine in found
    ]
