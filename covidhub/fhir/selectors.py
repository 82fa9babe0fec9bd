"""Reads of the FHIR surface: scoped through the reader's people, audited like every read.

Each resource type has one or more sources (`Clinical`: a table read through a scoped
queryset `*_for`, a builder call, and the search parameters it supports); an Observation
is a test result or one vital sign of a home-care self-check, and a search pages over all
of a type's sources in one statement. Organization and Location describe public places (the sites
listed on the booking pages) and are read by any authenticated reader.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import (
    Exists,
    F,
    IntegerField,
    Model,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.http import QueryDict
from django.utils.translation import gettext as _

from covidhub.audit.alerts import staff_lookup_charge
from covidhub.audit.models import AuditEvent
from covidhub.audit.services import audit_event_new
from covidhub.core.localcache import LocalCache
from covidhub.core.replicas import replica_caught_up_to
from covidhub.core.text import fold_ascii
from covidhub.fhir import codes, resources
from covidhub.fhir.access import STAFF, VITAL_SIGNS, Reader, people_for
from covidhub.fhir.errors import BadRequest, NotFound
from covidhub.fhir.search import (
    Paging,
    combine,
    date_q,
    paging_parse,
    token_split,
    unknown_params_refuse,
    uuid_q,
)
from covidhub.homecare.models import CareOrder, SelfCheck
from covidhub.people.models import Person
from covidhub.testing.models import Lab, Result, Sample, Site, Tube
from covidhub.vaccination.models import Dose, VaccinationSite

Resource = dict[str, Any]
CLINICAL_TYPES = (
    "Patient",
    "Immunization",
    "Observation",
    "DiagnosticReport",
    "Specimen",
    "Condition",
)
PLACE_TYPES = ("Organization", "Location")
RESOURCE_TYPES = (*CLINICAL_TYPES, *PLACE_TYPES)


# Audit ---------------------------------------------------------------------------------


def audit_reads(reader: Reader, action: str, items: Iterable[tuple[Model, Any]]) -> None:
    """One audit event per (record, person UUID) read, in one insert."""
    if not reader.audited:
        return
    details = {"client": reader.client_id} if reader.client_id else None
    events = [
        audit_event_new(
            actor=reader.user,
            actor_role=reader.role,
            action=action,
            obj=obj,
            person_uuid=person_uuid,
            details=details,
        )
        for obj, person_uuid in items
    ]
    if len(events) == 1:
        events[0].save(force_insert=True)  # one statement, no transaction of its own
    elif events:
        AuditEvent.objects.bulk_create(events)


def lookups_charge(reader: Reader, person_uuids: Iterable[Any]) -> None:
    """A staff member's look-ups count against their hourly budget (as on every page)."""
    if reader.kind == STAFF:
        for person_uuid in dict.fromkeys(person_uuids):
            staff_lookup_charge(actor=reader.user, person_uuid=person_uuid)


def _uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise NotFound() from exc


# Scoped querysets -----------------------------------------------------------------------


def patients_for(reader: Reader) -> QuerySet[Person]:
    return people_for(reader).select_related("commune__parent__parent")


def doses_for(reader: Reader) -> QuerySet[Dose]:
    return (
        Dose.objects.filter(person__in=people_for(reader))
        .select_related("vaccine", "lot", "site")
        .annotate(person_key=F("person__uuid"))
    )


def results_for(reader: Reader) -> QuerySet[Result]:
    return (
        Result.objects.filter(person__in=people_for(reader))
        .select_related("site", "tube_result__lab")
        .annotate(person_key=F("person__uuid"), tube_key=F("sample__tube__uuid"))
    )


def checks_for(reader: Reader) -> QuerySet[SelfCheck]:
    return SelfCheck.objects.filter(order__person__in=people_for(reader)).annotate(
        person_key=F("order__person__uuid")
    )


def care_conditions_for(reader: Reader) -> QuerySet[CareOrder]:
    """F0 home-care orders (the confirmed cases; an F1's quarantine is no condition)."""
    return CareOrder.objects.filter(
        person__in=people_for(reader), kind=CareOrder.Kind.HOME_CARE
    ).annotate(person_key=F("person__uuid"))


def _tube_subject() -> Subquery:
    return Subquery(
        Sample.objects.filter(tube=OuterRef("pk"), status=Sample.Status.ACTIVE).values(
            "person__uuid"
        )[:1]
    )


def tubes_for(reader: Reader) -> QuerySet[Tube]:
    visible = Sample.objects.filter(
        tube=OuterRef("pk"), status=Sample.Status.ACTIVE, person__in=people_for(reader)
    )
    return Tube.objects.filter(Exists(visible)).annotate(subject_key=_tube_subject())


# Builders over loaded rows ----------------------------------------------------------------


def _immunization(dose: Any) -> Resource:
    return resources.immunization(dose, person_uuid=dose.person_key)


def _observation(result: Any) -> Resource:
    return resources.observation(result, person_uuid=result.person_key, tube_uuid=result.tube_key)


def _report(result: Any) -> Resource:
    return resources.diagnostic_report(
        result, person_uuid=result.person_key, tube_uuid=result.tube_key
    )


def _specimen(tube: Any) -> Resource:
    return resources.specimen(tube, subject_uuid=tube.subject_key if tube.capacity == 1 else None)


def _uuid_id(resource_id: str) -> Q | None:
    try:
        return Q(uuid=uuid.UUID(resource_id))
    except ValueError:
        return None


@dataclass(frozen=True)
class Clinical:
    """How one source of a clinical resource type (a table, one resource a row) is read and
    searched. Every source of a type takes the same search parameters."""

    queryset: Callable[[Reader], QuerySet[Any]]
    build: Callable[[Any], Resource]
    person_of: Callable[[Any], Any]
    params: dict[str, Callable[[str], Q]]
    last_updated: str
    order: tuple[str, ...]
    action: str
    # The row filter of a resource id of this source, None for an id of another source.
    id_q: Callable[[str], Q | None] = _uuid_id
    # What a client's scopes must cover to read this source (`Reader.reads`): the resource
    # type itself unless said (a vital sign is an Observation of home care's).
    reads_as: str = ""


def _patient_identifier(text: str) -> Q:
    system, value = token_split(text)
    if not value:
        raise BadRequest(_("identifier needs a value: system|value or value."))
    if system == codes.SID_PERSON:
        return uuid_q("uuid", "Patient")(value)
    by_system = {v: k for k, v in codes.ID_SYSTEMS.items()}
    normalised = value.replace(" ", "").upper()
    if system in by_system:
        return Q(id_type=by_system[system], id_number=normalised)
    if system:
        return Q(pk__in=[])
    return Q(id_number=normalised) | uuid_q("uuid", "Patient")(value)


def _gender(text: str) -> Q:
    sexes = {v: k for k, v in resources.GENDER.items()}
    if text not in ("male", "female", "other", "unknown"):
        raise BadRequest(_("gender is one of male, female, other, unknown."))
    return Q(sex=sexes[text]) if text in sexes else Q(pk__in=[])


def _name(text: str) -> Q:
    folded = fold_ascii(text)
    if not folded:
        raise BadRequest(_("name needs some letters."))
    return Q(search_name__contains=folded)


def _birthdate(text: str) -> Q:
    if text.isdigit() and len(text) == 4:
        return Q(birth_year=int(text))
    return date_q("birth_date", as_date=True)(text)


def _test_code(text: str) -> Q:
    system, code = token_split(text)
    if system not in (None, "", codes.LOINC):
        return Q(pk__in=[])
    types = [t for t, pair in codes.LOINC_BY_TEST_TYPE.items() if pair[0] == code]
    return Q(test_type__in=types)


_result_last_updated = Coalesce("amended_at", "released_at")


# Every row (an empty Q() would vanish from the OR of a search's alternatives).
_EVERY = Q(pk__isnull=False)


def _vital_id(vital: str) -> Callable[[str], Q | None]:
    """`<check UUID>-<vital>` of this vital; None for any other id."""

    def id_q(resource_id: str) -> Q | None:
        head, _sep, suffix = resource_id.rpartition("-")
        if suffix != vital:
            return None
        return _uuid_id(head)

    return id_q


def _vital_id_param(vital: str) -> Callable[[str], Q]:
    id_q = _vital_id(vital)

    def one(text: str) -> Q:
        value = text.strip().rpartition("/")[2] if "/" in text else text.strip()
        return id_q(value) or Q(pk__in=[])

    return one


def _vital_code(vital: str) -> Callable[[str], Q]:
    """A LOINC code of this vital sign (or the vital-signs category) matches its rows."""
    loinc = {code for code, _display in codes.VITALS[vital][1]}

    def one(text: str) -> Q:
        system, code = token_split(text)
        if system not in (None, "", codes.LOINC) or code not in loinc:
            return Q(pk__in=[])
        return _EVERY

    return one


def _vital_source(vital: str) -> Clinical:
    field = codes.VITALS[vital][0]
    return Clinical(
        queryset=lambda r: checks_for(r).filter(**{f"{field}__isnull": False}),
        build=lambda check: resources.vital_sign(check, vital=vital, person_uuid=check.person_key),
        person_of=lambda c: c.person_key,
        params={
            "_id": _vital_id_param(vital),
            "patient": uuid_q("order__person__uuid", "Patient"),
            "subject": uuid_q("order__person__uuid", "Patient"),
            "date": date_q("measured_at"),
            "code": _vital_code(vital),
            "_lastUpdated": date_q("created_at"),
        },
        last_updated="created_at",
        order=("measured_at", "id"),
        action="fhir.observation.searched",
        id_q=_vital_id(vital),
        reads_as=VITAL_SIGNS,
    )


def _condition_code(text: str) -> Q:
    system, code = token_split(text)
    if system in (None, "", codes.SNOMED) and code == codes.SCT_COVID19[0]:
        return _EVERY
    return Q(pk__in=[])


def _clinical_status(text: str) -> Q:
    _system, code = token_split(text)
    if code == "resolved":
        return Q(status=CareOrder.Status.RELEASED)
    if code == "active":
        return Q(status__in=(CareOrder.Status.OPEN, CareOrder.Status.REFERRED))
    return Q(pk__in=[])


CLINICAL: dict[str, tuple[Clinical, ...]] = {}
_SOURCES: dict[str, Clinical | tuple[Clinical, ...]] = {
    "Patient": Clinical(
        queryset=patients_for,
        build=resources.patient,
        person_of=lambda p: p.uuid,
        params={
            "_id": uuid_q("uuid", "Patient"),
            "identifier": _patient_identifier,
            "name": _name,
            "gender": _gender,
            "birthdate": _birthdate,
            "_lastUpdated": date_q("updated_at"),
        },
        last_updated="updated_at",
        order=("id",),
        action="fhir.patient.searched",
    ),
    "Immunization": Clinical(
        queryset=lambda r: doses_for(r).filter(status=Dose.Status.VALID),
        build=_immunization,
        person_of=lambda d: d.person_key,
        params={
            "_id": uuid_q("uuid", "Immunization"),
            "patient": uuid_q("person__uuid", "Patient"),
            "date": date_q("administered_at"),
            "_lastUpdated": date_q("updated_at"),
        },
        last_updated="updated_at",
        order=("administered_at", "id"),
        action="fhir.immunization.searched",
    ),
    # A test result, or one vital sign of a home-care self-check.
    "Observation": (
        Clinical(
            queryset=lambda r: results_for(r).annotate(last_updated=_result_last_updated),
            build=_observation,
            person_of=lambda r: r.person_key,
            params={
                "_id": uuid_q("uuid", "Observation"),
                "patient": uuid_q("person__uuid", "Patient"),
                "subject": uuid_q("person__uuid", "Patient"),
                "date": date_q("collected_at"),
                "code": _test_code,
                "_lastUpdated": date_q("last_updated"),
            },
            last_updated="last_updated",
            order=("collected_at", "id"),
            action="fhir.observation.searched",
        ),
        *(_vital_source(vital) for vital in codes.VITALS),
    ),
    "DiagnosticReport": Clinical(
        queryset=lambda r: results_for(r).annotate(last_updated=_result_last_updated),
        build=_report,
        person_of=lambda r: r.person_key,
        params={
            "_id": uuid_q("uuid", "DiagnosticReport"),
            "patient": uuid_q("person__uuid", "Patient"),
            "subject": uuid_q("person__uuid", "Patient"),
            "date": date_q("collected_at"),
            "code": _test_code,
            "_lastUpdated": date_q("last_updated"),
        },
        last_updated="last_updated",
        order=("collected_at", "id"),
        action="fhir.diagnosticreport.searched",
    ),
    "Specimen": Clinical(
        queryset=tubes_for,
        build=_specimen,
        person_of=lambda t: t.subject_key if t.capacity == 1 else None,
        params={
            "_id": uuid_q("uuid", "Specimen"),
            "patient": lambda text: _specimen_patient(text),
            "subject": lambda text: _specimen_patient(text),
            "collected": date_q("collected_at"),
        },
        last_updated="collected_at",
        order=("collected_at", "id"),
        action="fhir.specimen.searched",
    ),
    # The confirmed case followed at home (an F0's home-care order).
    "Condition": Clinical(
        queryset=care_conditions_for,
        build=lambda o: resources.care_condition(o, person_uuid=o.person_key),
        person_of=lambda o: o.person_key,
        params={
            "_id": uuid_q("uuid", "Condition"),
            "patient": uuid_q("person__uuid", "Patient"),
            "subject": uuid_q("person__uuid", "Patient"),
            "onset-date": date_q("onset_date", as_date=True),
            "clinical-status": _clinical_status,
            "code": _condition_code,
            "_lastUpdated": date_q("updated_at"),
        },
        last_updated="updated_at",
        order=("onset_date", "id"),
        action="fhir.condition.searched",
    ),
}
for _type, _found in _SOURCES.items():
    CLINICAL[_type] = _found if isinstance(_found, tuple) else (_found,)


def _specimen_patient(text: str) -> Q:
    key = uuid_q("person__uuid", "Patient")(text)
    return Q(
        Exists(Sample.objects.filter(tube=OuterRef("pk"), status=Sample.Status.ACTIVE).filter(key))
    )


# Read ------------------------------------------------------------------------------------


def clinical_read(*, reader: Reader, resource_type: str, resource_id: str) -> Resource:
    """One clinical resource the reader may see (audited), else NotFound."""
    for spec in sources_read(reader, resource_type):
        key = spec.id_q(resource_id)
        if key is None:
            continue
        queryset = spec.queryset(reader)
        if resource_type == "Immunization":
            queryset = doses_for(reader)  # a voided dose reads as entered-in-error
        row = queryset.filter(key).first()
        if row is None:
            continue
        person_uuid = spec.person_of(row)
        lookups_charge(reader, [person_uuid] if person_uuid else [])
        audit_reads(reader, f"fhir.{resource_type.lower()}.read", [(row, person_uuid)])
        return spec.build(row)
    raise NotFound()


def sources_read(reader: Reader, resource_type: str) -> tuple[Clinical, ...]:
    """The sources of `resource_type` the reader's scopes cover (all of them for people
    and staff, whose areas alone decide)."""
    return tuple(
        spec for spec in CLINICAL[resource_type] if reader.reads(spec.reads_as or resource_type)
    )


def _filtered(spec: Clinical, reader: Reader, params: QueryDict) -> QuerySet[Any]:
    queryset = spec.queryset(reader)
    for name, one in spec.params.items():
        if name in params:
            queryset = queryset.filter(combine(params, name, one))
    return queryset


def _page_of_sources(
    sources: tuple[Clinical, ...], reader: Reader, params: QueryDict, paging: Paging
) -> list[tuple[Clinical, Any]]:
    """One page over several sources: the page's (time, source, key) in one UNION ALL
    statement ordered and cut by the database, then each source's rows of the page by
    key (one statement a source with rows on the page)."""
    parts = [
        _filtered(spec, reader, params)
        .order_by()
        .annotate(
            sort_at=F(spec.order[0]),
            source_no=Value(number, output_field=IntegerField()),
            row_key=F("pk"),
        )
        .values_list("sort_at", "source_no", "row_key")
        for number, spec in enumerate(sources)
    ]
    union = parts[0].union(*parts[1:], all=True).order_by("sort_at", "source_no", "row_key")
    keys = list(union[paging.offset : paging.offset + paging.count + 1])
    wanted: dict[int, list[Any]] = {}
    for _at, number, key in keys:
        wanted.setdefault(number, []).append(key)
    loaded = {
        (number, row.pk): row
        for number, pks in wanted.items()
        for row in sources[number].queryset(reader).filter(pk__in=pks)
    }
    return [
        (sources[number], loaded[(number, key)])
        for _at, number, key in keys
        if (number, key) in loaded
    ]


def clinical_search(
    *, reader: Reader, resource_type: str, params: QueryDict
) -> tuple[list[Resource], Paging, bool]:
    """A page of matches (audited), the paging used, and whether more follow."""
    unknown_params_refuse(params, frozenset(CLINICAL[resource_type][0].params))
    sources = sources_read(reader, resource_type)
    paging = paging_parse(params)
    if not sources:
        found = []
    elif len(sources) == 1:
        spec = sources[0]
        queryset = _filtered(spec, reader, params)
        found = [
            (spec, row)
            for row in queryset.order_by(*spec.order)[
                paging.offset : paging.offset + paging.count + 1
            ]
        ]
    else:
        found = _page_of_sources(sources, reader, params, paging)
    more = len(found) > paging.count
    found = found[: paging.count]
    people = [spec.person_of(row) for spec, row in found]
    if resource_type == "Patient" and "identifier" in params:
        lookups_charge(reader, people)  # a number typed in finds one person: a look-up
    action = sources[0].action
    audit_reads(
        reader, action, [(row, person) for (_s, row), person in zip(found, people, strict=True)]
    )
    return [spec.build(row) for spec, row in found], paging, more


# Organization and Location -----------------------------------------------------------

# Public reference data read by every $everything: the Organization and Location of a
# place, kept a few minutes per process (a renamed site shows within PLACE_CACHE_SECONDS;
# a change saved in this process clears it at once, see apps.py).
PLACE_CACHE_SECONDS = 300
place_cache: LocalCache[list[Resource]] = LocalCache("fhir.places", ttl_seconds=PLACE_CACHE_SECONDS)
_PLACE_MODEL: dict[str, Any] = {
    "vaccination_site": VaccinationSite,
    "testing_site": Site,
    "lab": Lab,
}


def place_resources(kind: str, pk: int) -> list[Resource]:
    """[Organization, Location] of one place (by primary key), through the cache."""

    def load() -> list[Resource] | None:
        # What is kept is read on the primary (a lagging standby's copy would be kept).
        with replica_caught_up_to(None):
            place = (
                _PLACE_MODEL[kind]
                .objects.select_related("commune__parent__parent")
                .filter(pk=pk)
                .first()
            )
        if place is None:
            return None
        return [resources.organization(kind, place), resources.location(kind, place)]

    return place_cache.get_or_load((kind, pk), load) or []


PLACE_MODELS: dict[str, Any] = {
    "vs": ("vaccination_site", VaccinationSite),
    "ts": ("testing_site", Site),
    "lab": ("lab", Lab),
}


def _place_split(resource_id: str) -> tuple[str, Any, uuid.UUID]:
    prefix, _sep, rest = resource_id.partition("-")
    if prefix not in PLACE_MODELS:
        raise NotFound()
    kind, model = PLACE_MODELS[prefix]
    return kind, model, _uuid(rest)


def place_read(*, resource_type: str, resource_id: str) -> Resource:
    kind, model, key = _place_split(resource_id)
    place = model.objects.select_related("commune__parent__parent").filter(uuid=key).first()
    if place is None:
        raise NotFound()
    build = resources.organization if resource_type == "Organization" else resources.location
    return build(kind, place)


def place_search(*, resource_type: str, params: QueryDict) -> tuple[list[Resource], Paging, bool]:
    unknown_params_refuse(params, frozenset({"_id", "name"}))
    paging = paging_parse(params)
    wanted_ids: set[str] | None = None
    if "_id" in params:
        for value in params.getlist("_id"):
            ids = set(value.split(","))
            wanted_ids = ids if wanted_ids is None else wanted_ids & ids
    found: list[tuple[str, Any]] = []
    for prefix, (kind, model) in PLACE_MODELS.items():
        queryset = model.objects.select_related("commune__parent__parent")
        for value in params.getlist("name"):
            names = Q(pk__in=[])
            for part in value.split(","):
                names |= Q(name__icontains=part.strip())
            queryset = queryset.filter(names)
        if wanted_ids is not None:
            keys = []
            for text in wanted_ids:
                head, _sep, rest = text.partition("-")
                if head == prefix:
                    try:
                        keys.append(uuid.UUID(rest))
                    except ValueError:
                        continue
            queryset = queryset.filter(uuid__in=keys)
        found += [(kind, place) for place in queryset.order_by("name", "id")]
    page = found[paging.offset : paging.offset + paging.count]
    more = len(found) > paging.offset + paging.count
    build = resources.organization if resource_type == "Organization" else resources.location
    return [build(kind, place) for kind, place in page], paging, more
