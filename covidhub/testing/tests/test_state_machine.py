"""A Hypothesis state machine over registrations, collections, handovers, results (one by
one and imported), amendments and retests. After every step: nobody has a result for a
sample they were not in, every member of a resulted pool has exactly one outcome, and
nothing skipped a step."""

from __future__ import annotations

import contextlib
import datetime
import itertools
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from covidhub.core.errors import DomainError
from covidhub.people.personal_qr import personal_qr_text
from covidhub.testing import collection, imports, registration, results
from covidhub.testing.models import (
    Amendment,
    Appointment,
    Result,
    Sample,
    Shipment,
    Tube,
    TubeResult,
)

pytestmark = pytest.mark.django_db

_barcodes = itertools.count(1)


class World:
    people: list[Any]
    sampler: Any
    technician: Any
    technician2: Any
    site: Any
    lab: Any
    testing_round: Any


class TestingMachine(RuleBasedStateMachine):
    world: World

    def __init__(self) -> None:
        super().__init__()
        self.session: Any = None
        # Each example runs in a savepoint rolled back at the end: examples start equal.
        self._atomic = transaction.atomic()
        self._atomic.__enter__()

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    # Registration -----------------------------------------------------------------
    @rule(who=st.integers(0, 7))
    def register(self, who: int) -> None:
        person = self.world.people[who]
        with contextlib.suppress(DomainError):
            registration.appointment_book(
                actor=person.managed_by, person=person, testing_round=self.world.testing_round
            )

    # Collection -------------------------------------------------------------------
    @rule(pool=st.sampled_from([1, 2, 3, 5]))
    def open_session_and_tube(self, pool: int) -> None:
        self.session = collection.session_open(
            actor=self.world.sampler, site=self.world.site, pool_size=pool
        )
        collection.scan_handle(
            actor=self.world.sampler, session=self.session, text=f"HYP{next(_barcodes):06d}"
        )

    @rule()
    def new_tube(self) -> None:
        if self.session is not None:
            with contextlib.suppress(DomainError):
                collection.scan_handle(
                    actor=self.world.sampler, session=self.session, text=f"HYP{next(_barcodes):06d}"
                )

    @rule(who=st.integers(0, 7), by_appointment=st.booleans())
    def collect(self, who: int, by_appointment: bool) -> None:
        if self.session is None:
            return
        person = self.world.people[who]
        booked = Appointment.objects.filter(person=person, status="booked").first()
        text = booked.qr_text if (by_appointment and booked) else personal_qr_text(person)
        with contextlib.suppress(DomainError):
            collection.scan_handle(actor=self.world.sampler, session=self.session, text=text)

    @rule(
        who=st.lists(st.integers(0, 7), min_size=1, max_size=4, unique=True),
        remove_first=st.booleans(),
    )
    def queue_to_lab(self, who: list[int], remove_first: bool) -> None:
        """A whole queue in one step (a pool, maybe a correction, handover, receipt), so
        that deep states are reached often."""
        session = collection.session_open(
            actor=self.world.sampler, site=self.world.site, pool_size=len(who)
        )
        collection.scan_handle(
            actor=self.world.sampler, session=session, text=f"HYP{next(_barcodes):06d}"
        )
        placed = []
        for index in who:
            try:
                out = collection.person_to_tube(
                    actor=self.world.sampler, session=session, person=self.world.people[index]
                )
                placed.append(out.sample)
            except DomainError:
                pass
        if remove_first and placed and placed[0] is not None:
            collection.sample_remove(actor=self.world.sampler, sample=placed[0], reason="wrong")
        try:
            shipment = collection.shipment_create(
                actor=self.world.sampler, session=session, lab=self.world.lab
            )
        except DomainError:
            return
        results.shipment_receive(
            actor=self.world.technician,
            shipment=shipment,
            barcodes=list(shipment.tubes.values_list("barcode", flat=True)),
        )

    @rule(data=st.data())
    def correct(self, data: st.DataObject) -> None:
        samples = list(
            Sample.objects.filter(status="active", tube__status__in=["open", "closed"]).order_by(
                "id"
            )[:30]
        )
        if not samples:
            return
        sample = data.draw(st.sampled_from(samples))
        with contextlib.suppress(DomainError):
            collection.sample_remove(actor=self.world.sampler, sample=sample, reason="mistake")

    @rule()
    def hand_over(self) -> None:
        if self.session is None:
            return
        with contextlib.suppress(DomainError):
            collection.shipment_create(
                actor=self.world.sampler, session=self.session, lab=self.world.lab
            )

    @rule(data=st.data())
    def receive(self, data: st.DataObject) -> None:
        shipment = Shipment.objects.filter(status="sent").first()
        if shipment is None:
            return
        codes = list(shipment.tubes.order_by("id").values_list("barcode", flat=True))
        everything = data.draw(st.booleans())
        scanned = (
            codes
            if everything or not codes
            else data.draw(st.lists(st.sampled_from(codes), unique=True))
        )
        results.shipment_receive(actor=self.world.technician, shipment=shipment, barcodes=scanned)

    # Results ----------------------------------------------------------------------
    @rule(data=st.data(), value=st.sampled_from(["negative", "positive", "invalid"]))
    def record(self, data: st.DataObject, value: str) -> None:
        # Mostly tubes waiting for a result; sometimes any tube (which must be refused).
        waiting = Tube.objects.filter(status="received") if data.draw(st.booleans()) else None
        tubes = list(
            (waiting if waiting is not None else Tube.objects.all())
            .order_by("-id")
            .values_list("barcode", flat=True)[:20]
        )
        if not tubes:
            return
        barcode = data.draw(st.sampled_from(tubes))
        with contextlib.suppress(DomainError):
            results.tube_result_record(
                actor=self.world.technician, lab=self.world.lab, barcode=barcode, value=value
            )

    @rule(data=st.data())
    def import_file(self, data: st.DataObject) -> None:
        tubes = list(Tube.objects.order_by("-id").values_list("barcode", flat=True)[:20])
        if not tubes:
            return
        rows = data.draw(
            st.lists(
                st.tuples(st.sampled_from(tubes), st.sampled_from(["neg", "pos", "inv", "??"])),
                max_size=6,
            )
        )
        content = ("barcode,result\n" + "".join(f"{b},{v}\n" for b, v in rows)).encode()
        batch = imports.import_validate(
            actor=self.world.technician, lab=self.world.lab, file_name="h.csv", content=content
        )
        imports.import_commit(
            actor=self.world.technician, batch=batch, import_good_rows=data.draw(st.booleans())
        )

    @rule(data=st.data(), value=st.sampled_from(["negative", "positive", "invalid"]))
    def amend(self, data: st.DataObject, value: str) -> None:
        recorded = list(TubeResult.objects.filter(lab=self.world.lab).order_by("id")[:20])
        if not recorded:
            return
        tube_result = data.draw(st.sampled_from(recorded))
        try:
            amendment = results.amendment_request(
                actor=self.world.technician,
                tube_result=tube_result,
                new_value=value,
                new_ct_value=None,
                reason="re-run",
            )
            results.amendment_decide(
                actor=self.world.technician2, amendment=amendment, approve=data.draw(st.booleans())
            )
        except DomainError:
            pass

    # Invariants -------------------------------------------------------------------
    @invariant()
    def nobody_gets_a_result_for_a_sample_they_were_not_in(self) -> None:
        for r in Result.objects.select_related("sample", "tube_result"):
            assert r.person_id == r.sample.person_id
            assert r.sample.status == Sample.Status.ACTIVE
            assert r.sample.tube_id == r.tube_result.tube_id

    @invariant()
    def every_member_of_a_resulted_tube_has_exactly_one_outcome(self) -> None:
        for tube_result in TubeResult.objects.select_related("tube"):
            members = set(
                Sample.objects.filter(tube=tube_result.tube, status="active").values_list(
                    "id", flat=True
                )
            )
            outcomes = list(
                Result.objects.filter(tube_result=tube_result).values_list("sample_id", "outcome")
            )
            assert sorted(s for s, _o in outcomes) == sorted(members)
            expected = {
                "negative": {"negative"},
                "invalid": {"invalid"},
                "positive": {"pool_positive"} if len(members) > 1 else {"positive"},
            }[tube_result.value]
            assert {o for _s, o in outcomes} <= expected

    @invariant()
    def nothing_skips_a_step(self) -> None:
        for tube in Tube.objects.all():
            has_result = TubeResult.objects.filter(tube=tube).exists()
            assert has_result == (tube.status == Tube.Status.RESULTED)
            if has_result and tube.test_type == "pcr":
                assert tube.received_at is not None and tube.shipped_at is not None
        for appointment in Appointment.objects.all():
            in_tube = Sample.objects.filter(appointment=appointment, status="active").exists()
            assert in_tube == (appointment.status == Appointment.Status.COLLECTED)
        for r in Result.objects.all():
            retest = Appointment.objects.filter(retest_of=r).first()
            if r.needs_retest:
                assert retest is not None and retest.status != Appointment.Status.CANCELLED
            elif retest is not None:
                assert retest.status in (Appointment.Status.CANCELLED, Appointment.Status.COLLECTED)
        assert Amendment.objects.filter(status="approved", decided_by=None).count() == 0


def test_state_machine(
    make_person: Any,
    make_citizen: Any,
    sampler: Any,
    technician: Any,
    technician2: Any,
    site: Any,
    lab: Any,
    commune_officer: Any,
    area_tree: Any,
) -> None:
    world = World()
    world.people = []
    for n in range(8):
        account = make_citizen(f"+8491200{n:04d}", full_name=f"Người Thử {'ABCDEFGH'[n]}")
        world.people.append(account.people.get())
    world.sampler, world.technician, world.technician2 = sampler, technician, technician2
    world.site, world.lab = site, lab
    today = timezone.localdate()
    world.testing_round = registration.round_create(
        actor=commune_officer,
        name="Đợt",
        area=area_tree["commune"],
        sites=[site],
        starts_on=today,
        ends_on=today + datetime.timedelta(days=3),
        test_type="pcr",
        pool_size=3,
    )
    TestingMachine.world = world
    run_state_machine_as_test(
        TestingMachine,
        settings=settings(
            max_examples=40,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
