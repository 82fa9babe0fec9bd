"""Adoption: agency reports (aggregates) and roster uploads for agency heads."""

from __future__ import annotations

from uuid import UUID

from django.http import HttpRequest
from ninja import File, Schema
from ninja.files import UploadedFile

from covidhub.accounts.api_auth import request_user, staff_auth
from covidhub.accounts.scoping import actor_scope
from covidhub.adoption.models import RosterUpload
from covidhub.adoption.rosters import roster_file_too_large, roster_max_bytes
from covidhub.adoption.selectors import (
    REPORT_ROLES,
    ROSTER_ROLES,
    AgencyRow,
    adoption_indicators,
    adoption_report,
    agency_get_for_actor,
    roster_upload_get_for_actor,
)
from covidhub.adoption.services import (
    roster_upload_apply,
    roster_upload_create,
    roster_upload_discard,
)
from covidhub.core.api_base import Router
from covidhub.core.errors import NotFound

router = Router(tags=["adoption"], auth=staff_auth)


class FiguresOut(Schema):
    staff: int
    with_account: int
    with_account_pct: float | None
    active_7d: int
    active_7d_pct: float | None
    not_started: int


class AgencyReportOut(Schema):
    uuid: UUID
    name: str
    kind: str
    parent_uuid: UUID | None
    area_code: str
    own: FiguresOut
    total: FiguresOut
    with_account_pct_change_7d: float | None
    rank: int


class IndicatorOut(Schema):
    agency_uuid: UUID
    name: str
    staff: int
    suppressed: bool
    percentages: dict[str, float | None]


class AgencyDetailOut(Schema):
    report: list[AgencyReportOut]
    indicators: list[IndicatorOut]


class RowErrorOut(Schema):
    row: int
    field: str
    message: str


class UploadOut(Schema):
    uuid: UUID
    agency_uuid: UUID
    status: str
    row_count: int
    good_count: int
    bad_count: int
    errors: list[RowErrorOut]
    joined_count: int
    left_count: int
    updated_count: int


def _require(request: HttpRequest, roles: tuple[str, ...]) -> None:
    if not actor_scope(request_user(request)).has_role(*roles):
        raise NotFound()


def _figures(f: object) -> FiguresOut:
    return FiguresOut(
        staff=f.staff,  # type: ignore[attr-defined]
        with_account=f.with_account,  # type: ignore[attr-defined]
        with_account_pct=f.account_pct,  # type: ignore[attr-defined]
        active_7d=f.active,  # type: ignore[attr-defined]
        active_7d_pct=f.active_pct,  # type: ignore[attr-defined]
        not_started=f.not_started,  # type: ignore[attr-defined]
    )


def _parent_uuids(rows: list[AgencyRow]) -> dict[int, UUID]:
    return {row.agency.pk: row.agency.uuid for row in rows}


def _row_out(row: AgencyRow, parents: dict[int, UUID]) -> AgencyReportOut:
    return AgencyReportOut(
        uuid=row.agency.uuid,
        name=row.agency.name,
        kind=row.agency.kind,
        parent_uuid=parents.get(row.agency.parent_id) if row.agency.parent_id else None,
        area_code=row.agency.area.code,
        own=_figures(row.own),
        total=_figures(row.total),
        with_account_pct_change_7d=row.account_change,
        rank=row.rank,
    )


def _upload_out(upload: RosterUpload) -> UploadOut:
    return UploadOut(
        uuid=upload.uuid,
        agency_uuid=upload.agency.uuid,
        status=upload.status,
        row_count=upload.row_count,
        good_count=upload.good_count,
        bad_count=upload.bad_count,
        errors=[
            RowErrorOut(row=e["row"], field=e["field"], message=e["message"]) for e in upload.errors
        ],
        joined_count=upload.joined_count,
        left_count=upload.left_count,
        updated_count=upload.updated_count,
    )


@router.get("/report", response=list[AgencyReportOut])
def report(request: HttpRequest) -> list[AgencyReportOut]:
    """Every agency the caller may see (in tree order, paginated), with its own and
    subtree figures, the change in a week and its rank among all of them."""
    _require(request, REPORT_ROLES)
    rows = adoption_report(actor=request_user(request))
    parents = _parent_uuids(rows)
    return [_row_out(row, parents) for row in rows]


@router.get("/agencies/{agency_uuid}", response=AgencyDetailOut)
def agency_detail(request: HttpRequest, agency_uuid: UUID) -> AgencyDetailOut:
    """One agency and the units below it; health measures only as suppressed aggregates."""
    _require(request, REPORT_ROLES)
    actor = request_user(request)
    agency = agency_get_for_actor(actor=actor, agency_uuid=agency_uuid)
    rows = adoption_report(actor=actor, root=agency)
    parents = _parent_uuids(rows)
    return AgencyDetailOut(
        report=[_row_out(row, parents) for row in rows],
        indicators=[
            IndicatorOut(
                agency_uuid=r.agency.uuid,
                name=r.label,
                staff=r.staff,
                suppressed=r.suppressed,
                percentages=r.values,
            )
            for r in adoption_indicators(agency=agency)
        ],
    )


@router.post("/agencies/{agency_uuid}/rosters", response={201: UploadOut})
def roster_upload(
    request: HttpRequest, agency_uuid: UUID, file: File[UploadedFile]
) -> tuple[int, UploadOut]:
    """Check a roster file (XLSX or CSV); nothing is imported until `apply`."""
    _require(request, ROSTER_ROLES)
    actor = request_user(request)
    agency = agency_get_for_actor(actor=actor, agency_uuid=agency_uuid, rosters=True)
    if file.size is not None and file.size > roster_max_bytes():
        raise roster_file_too_large()
    upload = roster_upload_create(
        actor=actor, agency=agency, data=file.read(), file_name=file.name or "roster"
    )
    return 201, _upload_out(upload)


@router.get("/rosters/{upload_uuid}", response=UploadOut)
def roster_upload_get(request: HttpRequest, upload_uuid: UUID) -> UploadOut:
    _require(request, ROSTER_ROLES)
    return _upload_out(
        roster_upload_get_for_actor(actor=request_user(request), upload_uuid=upload_uuid)
    )


@router.post("/rosters/{upload_uuid}/apply", response=UploadOut)
def roster_apply(request: HttpRequest, upload_uuid: UUID) -> UploadOut:
    """Import the good rows (joiners, updates, leavers); 409 if already decided."""
    _require(request, ROSTER_ROLES)
    actor = request_user(request)
    upload = roster_upload_get_for_actor(actor=actor, upload_uuid=upload_uuid)
    return _upload_out(roster_upload_apply(actor=actor, upload=upload))


@router.post("/rosters/{upload_uuid}/discard", response=UploadOut)
def roster_discard(request: HttpRequest, upload_uuid: UUID) -> UploadOut:
    """Import nothing from this file."""
    _require(request, ROSTER_ROLES)
    actor = request_user(request)
    upload = roster_upload_get_for_actor(actor=actor, upload_uuid=upload_uuid)
    return _upload_out(roster_upload_discard(actor=actor, upload=upload))
