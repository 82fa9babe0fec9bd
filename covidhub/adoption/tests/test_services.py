from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone

from covidhub.adoption.errors import RosterChanged, UploadAlreadyDecided
from covidhub.adoption.models import RosterMember, RosterUpload
from covidhub.adoption.services import (
    roster_members_match,
    roster_upload_apply,
    roster_upload_create,
    roster_upload_discard,
)
from covidhub.adoption.tests.conftest import roster_csv, staff_row
from covidhub.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def _current(agency: Any) -> list[RosterMember]:
    return list(
        RosterMember.objects.filter(agency=agency, left_at__isnull=True).order_by("id_number")
    )


def test_import_creates_members_and_audits(agencies: dict[str, Any], upload_roster: Any) -> None:
    upload = upload_roster(agencies["district"], [staff_row(1), staff_row(2)])
    assert upload.status == RosterUpload.Status.APPLIED
    assert upload.joined_count == 2 and upload.left_count == 0
    assert upload.rows == []  # the parsed rows are not kept once decided
    assert len(_current(agencies["district"])) == 2
    assert AuditEvent.objects.filter(action="adoption.roster.imported").count() == 1


def test_reupload_records_joiners_and_leavers_without_duplicates(
    agencies: dict[str, Any], upload_roster: Any
) -> None:
    agency = agencies["district"]
    upload_roster(agency, [staff_row(1), staff_row(2), staff_row(3)])
    same = upload_roster(agency, [staff_row(1), staff_row(2), staff_row(3)])
    assert (same.joined_count, same.left_count, same.updated_count) == (0, 0, 0)
    promoted = staff_row(2)
    promoted[4] = "Trưởng phòng"
    second = upload_roster(agency, [staff_row(1), promoted, staff_row(4)])
    assert (second.joined_count, second.left_count, second.updated_count) == (1, 1, 1)
    assert [m.id_number[-1] for m in _current(agency)] == ["1", "2", "4"]
    left = RosterMember.objects.get(left_at__isnull=False)
    assert left.id_number.endswith("3") and left.left_upload == second
    assert RosterMember.objects.get(id_number__endswith="2").position == "Trưởng phòng"
    # The leaver comes back: a new membership, the old one stays as history.
    third = upload_roster(agency, [staff_row(1), promoted, staff_row(4), staff_row(3)])
    assert third.joined_count == 1
    assert RosterMember.objects.filter(id_number__endswith="3").count() == 2
    assert RosterMember.objects.filter(agency=agency).count() == 5


def test_import_only_good_rows_keeps_members_whose_row_is_bad(
    agencies: dict[str, Any], upload_roster: Any
) -> None:
    agency = agencies["district"]
    upload_roster(agency, [staff_row(1), staff_row(2), staff_row(3)])
    broken = staff_row(2)
    broken[1] = "not a date"
    upload = upload_roster(agency, [staff_row(1), broken], apply=False)
    assert upload.bad_count == 1 and upload.good_count == 1
    upload = roster_upload_apply(actor=upload.uploaded_by, upload=upload)
    # 3 is gone from the file: a leaver; 2 only has a bad row: kept as is.
    assert upload.left_count == 1
    assert [m.id_number[-1] for m in _current(agency)] == ["1", "2"]


def test_import_nothing(agencies: dict[str, Any], upload_roster: Any, head: Any) -> None:
    upload = upload_roster(agencies["district"], [staff_row(1)], apply=False)
    roster_upload_discard(actor=head, upload=upload)
    upload.refresh_from_db()
    assert upload.status == RosterUpload.Status.DISCARDED and upload.rows == []
    assert RosterMember.objects.count() == 0
    with pytest.raises(UploadAlreadyDecided):
        roster_upload_apply(actor=head, upload=upload)


def test_a_decision_is_made_once(agencies: dict[str, Any], upload_roster: Any, head: Any) -> None:
    upload = upload_roster(agencies["district"], [staff_row(1)], apply=False)
    roster_upload_apply(actor=head, upload=upload)
    with pytest.raises(UploadAlreadyDecided):
        roster_upload_apply(actor=head, upload=upload)
    assert RosterMember.objects.count() == 1


def test_an_older_check_cannot_undo_a_newer_import(
    agencies: dict[str, Any], upload_roster: Any, head: Any
) -> None:
    agency = agencies["district"]
    old = upload_roster(agency, [staff_row(1)], apply=False)
    upload_roster(agency, [staff_row(1), staff_row(2)])
    agency.refresh_from_db()
    with pytest.raises(RosterChanged):
        roster_upload_apply(actor=head, upload=old)
    assert len(_current(agency)) == 2


def test_member_known_by_phone_gains_identity_number(
    agencies: dict[str, Any], upload_roster: Any
) -> None:
    agency = agencies["district"]
    no_id = staff_row(1)
    no_id[2] = ""
    upload_roster(agency, [no_id])
    member = RosterMember.objects.get()
    assert member.match_key == "phone:+84913000001"
    second = upload_roster(agency, [staff_row(1)])
    assert (second.joined_count, second.left_count, second.updated_count) == (0, 0, 1)
    member.refresh_from_db()
    assert member.match_key == "id:030085000001" and member.left_at is None


def test_matching_by_identity_number_and_by_phone(
    agencies: dict[str, Any], upload_roster: Any, make_citizen: Any, make_person: Any
) -> None:
    by_id = make_citizen(
        "+84987000001", full_name="Nguyễn Văn Một", id_type="cccd", id_number="030085000001"
    )
    by_phone = make_citizen("+84913000002", full_name="Nguyễn Văn Hai")
    # A person on someone else's account (a dependant): a person, but no account of their own.
    parent = make_citizen("+84987000009", full_name="Trần Văn Chín")
    dependant = make_person(
        full_name="Trần Văn Ba",
        managed_by=parent,
        relationship="parent",
        id_type="cccd",
        id_number="030085000003",
    )
    upload_roster(agencies["district"], [staff_row(1), staff_row(2), staff_row(3), staff_row(4)])
    members = {m.id_number[-1]: m for m in _current(agencies["district"])}
    assert members["1"].account == by_id and members["1"].person is not None
    assert members["2"].account == by_phone
    assert members["3"].person == dependant and members["3"].account is None
    assert members["4"].person is None and members["4"].account is None


def test_accounts_created_later_are_matched_by_the_refresh(
    agencies: dict[str, Any], upload_roster: Any, make_citizen: Any
) -> None:
    upload_roster(agencies["district"], [staff_row(1)])
    assert RosterMember.objects.get().account is None
    user = make_citizen("+84913000001", full_name="Nguyễn Văn Một")
    roster_members_match()
    assert RosterMember.objects.get().account == user


def test_file_level_refusal_saves_nothing(agencies: dict[str, Any], head: Any) -> None:
    from covidhub.adoption.rosters import RosterFileInvalid

    with pytest.raises(RosterFileInvalid):
        roster_upload_create(
            actor=head,
            agency=agencies["district"],
            data=roster_csv([["x"]], header=["a", "b"]),
            file_name="x.csv",
        )
    assert RosterUpload.objects.count() == 0


def test_snapshot_is_replaced_the_same_day(agencies: dict[str, Any], upload_roster: Any) -> None:
    from covidhub.adoption.models import AdoptionSnapshot
    from covidhub.adoption.services import adoption_snapshot_take

    upload_roster(agencies["district"], [staff_row(1)])
    adoption_snapshot_take()
    upload_roster(agencies["district"], [staff_row(1), staff_row(2)])
    adoption_snapshot_take()
    snapshot = AdoptionSnapshot.objects.get()
    assert snapshot.day == timezone.localdate() and snapshot.staff == 2
    assert timezone.localdate() - datetime.timedelta(days=1) != snapshot.day
