"""A synthetic province: households of people with Vietnamese names in real communes.

Deterministic: chunk k of 1,000 people is generated from its own seeded RNG, so that a
run can resume where an earlier one stopped and a repeat run changes nothing. On
PostgreSQL rows go in with COPY (≥ 20,000 people a second); elsewhere in bulk inserts.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import io
import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone

from covidhub.accounts.models import User
from covidhub.areas.served import served_communes
from covidhub.core.models import Setting
from covidhub.core.text import fold_ascii, icao_transliterate
from covidhub.demo import names
from covidhub.people.models import Person

CHUNK = 1_000
BULK_THRESHOLD = 100_000  # people; from here a PostgreSQL load defers secondary indexes
PROGRESS_KEY = "demo.people_chunks"
TODAY = datetime.date(2021, 8, 17)  # the day of the seed letter: ages are as of then


def _weighted(rng: random.Random, pairs: list[tuple[str, int]]) -> str:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


@dataclass
class Generated:
    users: list[tuple[object, ...]]
    people: list[tuple[object, ...]]


USER_COLUMNS = (
    "password",
    "last_login",
    "is_superuser",
    "username",
    "first_name",
    "last_name",
    "email",
    "is_staff",
    "is_active",
    "date_joined",
    "uuid",
    "kind",
    "phone",
    "display_name",
    "language",
    "last_seen_at",
    "created_at",
    "updated_at",
)
PERSON_COLUMNS = (
    "uuid",
    "full_name",
    "search_name",
    "icao_name",
    "birth_year",
    "birth_date",
    "sex",
    "nationality",
    "id_type",
    "id_number",
    "phone",
    "email",
    "address_line",
    "commune_id",
    "commune_path",
    "managed_by_id",
    "relationship",
    "created_at",
    "updated_at",
)


@functools.lru_cache(maxsize=65536)
def _name_forms(full_name: str) -> tuple[str, str]:
    """Folded and ICAO forms; names repeat a lot, so each is computed once."""
    return fold_ascii(full_name), icao_transliterate(full_name)


def _person_name(rng: random.Random, sex: str, surname: str | None = None) -> str:
    surname = surname or _weighted(rng, names.SURNAMES)
    if sex == "M":
        return f"{surname} {rng.choice(names.MIDDLE_MALE)} {rng.choice(names.GIVEN_MALE)}"
    return f"{surname} {rng.choice(names.MIDDLE_FEMALE)} {rng.choice(names.GIVEN_FEMALE)}"


def _cccd(index: int, sex: str, birth_year: int) -> str:
    century_digit = {1900: 0, 2000: 2}[birth_year // 100 * 100] + (1 if sex == "F" else 0)
    # Province of birth: Hải Dương (030) for the first million, then neighbours, so that
    # the 6-digit serial stays unique.
    province = ["030", "031", "033", "034", "001", "022", "027", "035"][index // 1_000_000 % 8]
    return f"{province}{century_digit}{birth_year % 100:02d}{index % 1_000_000:06d}"


def generate_chunk(
    *, chunk: int, communes: list[tuple[int, str]], first_user_id: int, password: str
) -> Generated:
    rng = random.Random(f"covidhub-demo-{chunk}")
    now = timezone.now()
    users: list[tuple[object, ...]] = []
    people: list[tuple[object, ...]] = []
    index = chunk * CHUNK
    end = index + CHUNK
    user_id = first_user_id
    while index < end:
        size = min(end - index, rng.choices([1, 2, 3, 4, 5, 6], weights=[12, 22, 25, 26, 10, 5])[0])
        commune_id, commune_path = rng.choice(communes)
        street = (
            f"Số {rng.randint(1, 300)} {rng.choice(names.STREETS)}"
            if rng.random() < 0.4
            else f"{rng.choice(names.HAMLETS)}"
        )
        surname = _weighted(rng, names.SURNAMES)
        head_sex = rng.choice("MF")
        head_year = TODAY.year - rng.randint(22, 70)
        phone = f"+8498{index:07d}"
        user_id += 1
        users.append(
            (
                password,
                None,
                False,
                f"c-demo-{index}",
                "",
                "",
                "",
                False,
                True,
                now,
                uuid.UUID(int=rng.getrandbits(128), version=4),
                "citizen",
                phone,
                "",
                "vi",
                None,
                now,
                now,
            )
        )
        members: list[tuple[str, str, int]] = [("self", head_sex, head_year)]
        if size >= 2:
            members.append(
                ("spouse", "F" if head_sex == "M" else "M", head_year + rng.randint(-5, 5))
            )
        for _n in range(size - len(members)):
            if rng.random() < 0.8:
                members.append(
                    ("child", rng.choice("MF"), min(TODAY.year, head_year + rng.randint(20, 40)))
                )
            else:
                members.append(("parent", rng.choice("MF"), head_year - rng.randint(20, 30)))
        for relationship, sex, year in members:
            full_name = _person_name(
                rng, sex, surname if relationship in ("self", "child") else None
            )
            full_date = rng.random() < 0.92
            birth_date = (
                datetime.date(year, rng.randint(1, 12), rng.randint(1, 28)) if full_date else None
            )
            adult = TODAY.year - year >= 14
            id_type = "cccd" if adult else ""
            id_number = _cccd(index, sex, year) if adult else ""
            people.append(
                (
                    uuid.UUID(int=rng.getrandbits(128), version=4),
                    full_name,
                    fold_ascii(full_name),
                    icao_transliterate(full_name),
                    year,
                    birth_date,
                    sex,
                    "VN",
                    id_type,
                    id_number,
                    phone if relationship == "self" else "",
                    "",
                    street,
                    commune_id,
                    commune_path,
                    user_id,
                    relationship,
                    now,
                    now,
                )
            )
            index += 1
    return Generated(users=users, people=people)


def _copy_rows(table: str, columns: tuple[str, ...], rows: list[tuple[object, ...]]) -> None:
    with connection.cursor() as cursor:
        raw = cursor.cursor
        with raw.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:  # type: ignore[attr-defined]
            for row in rows:
                copy.write_row(row)


def _insert_rows(table: str, columns: tuple[str, ...], rows: list[tuple[object, ...]]) -> None:
    """Other databases: through the ORM, which adapts UUIDs and dates per backend."""
    objects = [dict(zip(columns, row, strict=True)) for row in rows]
    if table == User._meta.db_table:
        User.objects.bulk_create([User(**fields) for fields in objects], batch_size=500)
    else:
        Person.objects.bulk_create([Person(**fields) for fields in objects], batch_size=500)


def province_generate(*, people: int, log: io.TextIOBase | None = None) -> dict[str, float]:
    """Make sure the first `people` synthetic people exist; return counts and the rate."""
    # The served provinces' communes only: people are never registered outside them.
    communes = list(served_communes().order_by("path").values_list("id", "path"))
    if not communes:
        raise RuntimeError("load the areas first (manage.py load_areas)")
    wanted_chunks = (people + CHUNK - 1) // CHUNK
    progress, _created = Setting.objects.get_or_create(
        key=PROGRESS_KEY, defaults={"value": {"chunks": 0}}
    )
    done = int(progress.value.get("chunks", 0))
    password = make_password(None)  # unusable: citizens sign in with a code
    postgres = connection.vendor == "postgresql"
    write = _copy_rows if postgres else _insert_rows
    started = time.perf_counter()
    made = 0
    # A large load on PostgreSQL runs as one transaction that defers the secondary
    # indexes: a run killed half-way leaves the database as it was, indexes included.
    bulk = postgres and (wanted_chunks - done) * CHUNK >= BULK_THRESHOLD
    outer = transaction.atomic() if bulk else contextlib.nullcontext()
    with (
        outer,
        (
            _secondary_indexes_deferred([User._meta.db_table, Person._meta.db_table])
            if bulk
            else contextlib.nullcontext()
        ),
    ):
        # Several chunks per COPY: fewer round trips, same rows.
        per_batch = 20 if postgres else 2
        for first in range(done, wanted_chunks, per_batch):
            last = min(first + per_batch, wanted_chunks)
            with transaction.atomic():
                next_id = _next_user_id()
                users: list[tuple[object, ...]] = []
                people_rows: list[tuple[object, ...]] = []
                for chunk in range(first, last):
                    generated = generate_chunk(
                        chunk=chunk, communes=communes, first_user_id=next_id, password=password
                    )
                    users += [(next_id + n + 1, *row) for n, row in enumerate(generated.users)]
                    people_rows += generated.people
                    next_id += len(generated.users)
                write(User._meta.db_table, ("id", *USER_COLUMNS), users)
                write(Person._meta.db_table, PERSON_COLUMNS, people_rows)
                Setting.objects.filter(key=PROGRESS_KEY).update(value={"chunks": last})
            made += len(people_rows)
            if log is not None and (last // per_batch) % 10 == 0:
                log.write(f"  {made:,} people ({made / (time.perf_counter() - started):,.0f}/s)\n")
    if postgres and made:
        _resync_sequence(User._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {Person._meta.db_table}")
    elapsed = time.perf_counter() - started
    return {"people": made, "seconds": elapsed, "per_second": made / elapsed if elapsed else 0.0}


@contextlib.contextmanager
def _secondary_indexes_deferred(tables: list[str]) -> Iterator[None]:
    """PostgreSQL, large loads: drop the non-unique indexes and build them once at the end
    (far cheaper than maintaining them row by row). Unique indexes stay: they guard data."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisunique AND NOT i.indisprimary",
            [tables],
        )
        saved = cursor.fetchall()
        for name, _definition in saved:
            cursor.execute(f"DROP INDEX {name}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            # Deferred foreign-key checks must run before an index can be built.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for _name, definition in saved:
                cursor.execute(definition)


def _next_user_id() -> int:
    last = User.objects.order_by("-id").values_list("id", flat=True).first()
    return int(last or 0)


def _resync_sequence(table: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"  # noqa: S608
        )


def chunks_for(people: int) -> Iterator[int]:
    yield from range((people + CHUNK - 1) // CHUNK)
