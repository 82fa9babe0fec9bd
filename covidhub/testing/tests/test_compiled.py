"""Hot reads compiled once: the same rows as `values_list()`, for any parameter value, on
each database connection."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connections

from covidhub.testing.compiled import CompiledRows
from covidhub.testing.models import Site

pytestmark = pytest.mark.django_db


def _sites(commune_id: int, name: str) -> Any:
    return (
        Site.objects.filter(commune_id=commune_id, name__gte=name)
        .order_by("name")
        .values_list("uuid", "name", "is_active", "commune__name")
    )


def test_rows_are_those_of_values_list_for_each_parameter(area_tree: dict[str, Any]) -> None:
    commune, far = area_tree["commune"], area_tree["far_commune"]
    for name, where in (("Bắc", commune), ("Đông", commune), ("Nam", far)):
        Site.objects.create(name=name, commune=where)
    compiled = CompiledRows(_sites, int, str)
    for commune_id, name in ((commune.pk, "A"), (commune.pk, "C"), (far.pk, "A"), (0, "A")):
        expected = list(_sites(commune_id, name))
        assert compiled.rows(commune_id, name) == expected
    # Converted as the ORM converts them (UUIDs, booleans), whatever the database.
    uuid, _name, active, _commune = compiled.rows(commune.pk, "A")[0]
    assert type(uuid).__name__ == "UUID" and active is True


def test_compiled_once_per_connection(
    area_tree: dict[str, Any], django_assert_num_queries: Any
) -> None:
    compiled = CompiledRows(_sites, int, str)
    compiled.rows(area_tree["commune"].pk, "A")
    kept = connections["default"].__dict__["_covidhub_compiled_rows"]
    cached = kept[compiled._key]
    with django_assert_num_queries(1):
        compiled.rows(area_tree["far_commune"].pk, "B")
    assert kept[compiled._key] is cached


def test_parameters_are_checked() -> None:
    compiled = CompiledRows(_sites, int, str)
    with pytest.raises(TypeError):
        compiled.rows("1", "A")
    with pytest.raises(ValueError):
        compiled.rows(1)
    with pytest.raises(ImproperlyConfigured):
        CompiledRows(_sites, float)
    unused = CompiledRows(lambda commune_id: Site.objects.values_list("name"), int)
    with pytest.raises(ImproperlyConfigured):
        unused.rows(1)


def test_a_uuid_parameter_is_bound_as_the_database_takes_it(area_tree: dict[str, Any]) -> None:
    """A UUID is a parameter of its own type on PostgreSQL and 32 hex digits on SQLite:
    either way each value finds its own row, and an unknown one none."""
    import uuid

    sites = [Site.objects.create(name=n, commune=area_tree["commune"]) for n in ("Bắc", "Nam")]
    compiled = CompiledRows(
        lambda key: Site.objects.filter(uuid=key).values_list("name", flat=False), uuid.UUID
    )
    for site in sites:
        assert compiled.rows(site.uuid) == [(site.name,)]
    assert compiled.rows(uuid.uuid4()) == []
    with pytest.raises(TypeError):
        compiled.rows(str(sites[0].uuid))


def test_binary_rows_are_those_of_values_list(area_tree: dict[str, Any]) -> None:
    """On PostgreSQL a read of plain columns comes in binary (timestamps, dates, UUIDs,
    booleans, integers, text, through a join and an annotation): the rows are exactly
    those of `values_list()`, which reads text. A read with a JSON or address column keeps
    the text format (its binary form loads differently)."""
    import datetime
    import uuid

    from django.db.models import Count, F

    from covidhub.audit.models import AuditEvent

    commune = area_tree["commune"]
    for name in ("Bắc", "Nam"):
        Site.objects.create(name=name, commune=commune)
    midnight = datetime.datetime(2021, 8, 2, 23, 59, 59, 999_999, tzinfo=datetime.UTC)
    Site.objects.filter(name="Nam").update(created_at=midnight)

    def sites(commune_id: int) -> Any:
        return (
            Site.objects.filter(commune_id=commune_id)
            .annotate(same=F("commune_id"), created_day=F("created_at__date"), n=Count("pk"))
            .order_by("name")
            .values_list(
                "uuid", "name", "is_active", "created_at", "created_day", "commune", "n",
                "commune__name", "commune__level", "same",
            )
        )  # fmt: skip

    compiled = CompiledRows(sites, int)
    rows = compiled.rows(commune.pk)
    assert rows == list(sites(commune.pk)) and len(rows) == 2
    assert rows[1][3] == midnight and rows[1][3].tzinfo is not None
    assert type(rows[0][0]) is uuid.UUID
    database = connections["default"]
    binary = database.__dict__["_covidhub_compiled_rows"][compiled._key][-1]
    assert binary is (database.vendor == "postgresql")

    def events(action: str) -> Any:
        return AuditEvent.objects.filter(action=action).values_list("details", "client_address")

    AuditEvent.objects.create(
        action="test.read", details={"n": 1}, client_address="10.0.0.1", object_type="x"
    )
    compiled_events = CompiledRows(events, str)
    assert (
        compiled_events.rows("test.read") == list(events("test.read")) == [({"n": 1}, "10.0.0.1")]
    )
    assert database.__dict__["_covidhub_compiled_rows"][compiled_events._key][-1] is False
