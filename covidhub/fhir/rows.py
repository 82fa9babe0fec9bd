"""The columns each FHIR builder reads, fetched as plain rows (`values_list`) instead of
model instances with their relations: a `$everything` or a bulk export then costs no
instance, no related instance and no query compilation per record.

A `Shape` lists `values_list()` lookups and turns each row into an attribute object that
the builders in `resources` read exactly as they read a model instance (UUIDs come as the
text the builders write them as): `lot__number` becomes `row.lot.number`, and a relation whose key (`lot_id`, `tube_result__lab_id`) is
NULL becomes None, as an unset foreign key would. The builders stay the one place that
says what a resource holds; a test compares what they build from these rows with what
they build from model instances.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db.models import CharField, F, Func


class Row:
    """A record's columns as attributes (what a builder reads of a model instance)."""

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)

    def __getattr__(self, name: str) -> Any:
        # Only for what is not set (typing: a row's columns are of any type).
        raise AttributeError(name)

    def __repr__(self) -> str:
        return f"Row({self.__dict__!r})"


def _maker(names: Sequence[str], indexes: Sequence[int]) -> Callable[[Sequence[Any]], Row]:
    """A function building one (possibly nested) Row from a tuple, for the lookups
    `names` found at `indexes` of the tuple."""
    flat: list[tuple[str, int]] = []
    groups: dict[str, tuple[list[str], list[int]]] = {}
    for name, index in zip(names, indexes, strict=True):
        head, _sep, rest = name.partition("__")
        if rest:
            group = groups.setdefault(head, ([], []))
            group[0].append(rest)
            group[1].append(index)
        else:
            flat.append((name, index))
    keys = dict(flat)
    nested = [
        (head, keys.get(f"{head}_id"), _maker(sub_names, sub_indexes))
        for head, (sub_names, sub_indexes) in groups.items()
    ]

    def make(row: Sequence[Any]) -> Row:
        obj = Row()
        values = obj.__dict__
        for name, index in flat:
            values[name] = row[index]
        for head, key_index, sub in nested:
            values[head] = None if key_index is not None and row[key_index] is None else sub(row)
        return obj

    return make


class UUIDText(Func):
    """A UUID column as its canonical text (8-4-4-4-12), formatted by the database."""

    output_field = CharField()
    template = "(%(expressions)s)::text"  # PostgreSQL

    def __init__(self, expression: Any) -> None:
        super().__init__(expression)

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, Any]:
        # Kept as 32 hex digits on SQLite: dashed here as PostgreSQL writes it.
        sql, params = compiler.compile(self.source_expressions[0])
        parts = " || '-' || ".join(
            f"substr({sql}, {start}, {length})"
            for start, length in ((1, 8), (9, 4), (13, 4), (17, 4), (21, 12))
        )
        return f"CASE WHEN {sql} IS NULL THEN NULL ELSE {parts} END", params * 6


def _column(lookup: str) -> Any:
    """A UUID column (`uuid`, `…__uuid`) as its text, formatted by the database: every
    builder writes it as text, and Python's UUID-to-text was a tenth of an export's CPU."""
    if lookup == "uuid" or lookup.endswith("__uuid"):
        return UUIDText(F(lookup))
    return lookup


class Shape:
    """`values_list(*shape.columns)` rows made into `Row`s by `shape.row`: one attribute per
    lookup (in `lookups`), UUIDs as text."""

    def __init__(self, *lookups: str) -> None:
        self.lookups = lookups
        self.columns = tuple(_column(lookup) for lookup in lookups)
        self.row = _maker(lookups, range(len(lookups)))

    def through(self, relation: str) -> tuple[Any, ...]:
        """The columns of this shape read through `relation` (a relation, or a
        FilteredRelation's alias) of another model: to join them to that model's read."""
        return tuple(_column(f"{relation}__{lookup}") for lookup in self.lookups)

    def at(self, offset: int) -> Callable[[Sequence[Any]], Row]:
        """`row`, for this shape's columns found from `offset` on in a longer row (a read
        that joins them to another shape's, `through`)."""
        return _maker(self.lookups, range(offset, offset + len(self.lookups)))


# What each builder of `resources` reads (with the keys the selectors need besides).
PATIENT = Shape(
    "id",
    "uuid",
    "updated_at",
    "id_type",
    "id_number",
    "phone",
    "email",
    "birth_date",
    "birth_year",
    "full_name",
    "sex",
    "nationality",
    "address_line",
    "commune_id",
)

IMMUNIZATION = Shape(
    "uuid",
    "series",
    "dose_number",
    "status",
    "administered_at",
    "created_at",
    "updated_at",
    "given_elsewhere",
    "elsewhere_place",
    "elsewhere_country",
    "lot_id",
    "lot__number",
    "lot__expiry_date",
    "site_id",
    "site__uuid",
    "vaccine__code",
    "vaccine__name",
    "vaccine__prophylaxis_code",
    "vaccine__product_code",
    "vaccine__primary_doses",
    "vaccine__manufacturer_code",
)

_RESULT = (
    "uuid",
    "outcome",
    "version",
    "test_type",
    "pooled",
    "collected_at",
    "released_at",
    "amended_at",
    "site_id",
    "site__uuid",
    "tube_result_id",
    "tube_result__ct_value",
    "tube_result__lab_id",
    "tube_result__lab__uuid",
)
# Observation and DiagnosticReport (one result is both).
RESULT = Shape(*_RESULT)

_TUBE = (
    "uuid",
    "barcode",
    "capacity",
    "member_count",
    "status",
    "collected_at",
    "closed_at",
    "shipped_at",
    "received_at",
    "resulted_at",
)
SPECIMEN = Shape("id", *_TUBE)
# A result with its tube (Patient/$everything reads a person's results and specimens in
# one query).
RESULT_WITH_TUBE = Shape(*_RESULT, "sample__tube_id", *(f"sample__tube__{n}" for n in _TUBE))

# A home-care self-check (its vital signs) and an F0's order (the confirmed case).
SELF_CHECK = Shape(
    "uuid",
    "measured_at",
    "created_at",
    "temperature",
    "spo2",
    "pulse",
    "breathing_rate",
    "warning_signs",
)
CARE_CONDITION = Shape(
    "uuid",
    "status",
    "source",
    "source_reference",
    "start_date",
    "onset_date",
    "released_at",
    "created_at",
    "updated_at",
)
