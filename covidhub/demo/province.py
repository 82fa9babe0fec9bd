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
import itertools
import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone

from covidhub.accounts.models import User
from covidhub.areas.served import served_communes
from covidhub.core.models import Setting
from covidhub.core.text import fold_ascii, icao_transliterate
from covidhub.demo import names
from covidhub.people.identity import cccd_province_codes
from covidhub.people.models import Person

CHUNK = 1_000
# Household sizes and their weights (12, 22, 25, 26, 10, 5), summed once.
_SIZES = [1, 2, 3, 4, 5, 6]
_SIZE_WEIGHTS = list(itertools.accumulate([12, 22, 25, 26, 10, 5]))
BULK_THRESHOLD = 100_000  # people; from here a PostgreSQL load defers secondary indexes
PROGRESS_KEY = "demo.people_chunks"
TODAY = datetime.date(2021, 8, 17)  # the day of the seed letter: ages are as of then


@functools.cache
def _cumulative(pairs: tuple[tuple[str, int], ...]) -> tuple[list[str], list[int]]:
    return [p[0] for p in pairs], list(itertools.accumulate(p[1] for p in pairs))


def _weighted(rng: random.Random, pairs: list[tuple[str, int]]) -> str:
    # The same draw as rng.choices(values, weights=…), whose sums are made once here.
    values, cumulative = _cumulative(tuple(pairs))
    return rng.choices(values, cum_weights=cumulative)[0]


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


# The places of birth that CCCD numbers are made in, as 3-digit codes (the official
# 2-digit province code, zero-padded): Hải Dương (030) and its neighbours first, in the
# order earlier runs used, then every other province of the country's tree. Each gives a
# million 6-digit serials, so 63 million people get distinct numbers.
_CCCD_FIRST = ("030", "031", "033", "034", "001", "022", "027", "035")
SERIALS_PER_PROVINCE = 1_000_000


@functools.cache
def cccd_provinces() -> tuple[str, ...]:
    every = sorted(cccd_province_codes())  # the areas tree's provinces, as the validator has them
    return _CCCD_FIRST + tuple(code for code in every if code not in _CCCD_FIRST)


def _cccd(index: int, sex: str, birth_year: int) -> str:
    """A citizen identity number of the official shape: province of birth (3 digits),
    century and sex (1), year of birth (2), serial (6). Unique per person index: the
    province and the serial alone tell two indexes apart."""
    provinces = cccd_provinces()
    if index >= len(provinces) * SERIALS_PER_PROVINCE:
        raise ValueError(f"no unique CCCD number beyond {len(provinces)} million people")
    century_digit = {1900: 0, 2000: 2}[birth_year // 100 * 100] + (1 if sex == "F" else 0)
    province = provinces[index // SERIALS_PER_PROVINCE]
    return f"{province}{century_digit}{birth_year % 100:02d}{index % SERIALS_PER_PROVINCE:06d}"


# Mobile prefixes of the household heads' phones (+84 and 9 digits): 10 million numbers
# each, the first as earlier runs made them.
_PHONE_PREFIXES = ("98", "97", "96", "86", "32", "33", "34", "35", "36", "37", "38", "39")


def _phone(index: int) -> str:
    prefix = _PHONE_PREFIXES[index // 10_000_000]
    return f"+84{prefix}{index % 10_000_000:07d}"


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
        size = min(end - index, rng.choices(_SIZES, cum_weights=_SIZE_WEIGHTS)[0])
        commune_id, commune_path = rng.choice(communes)
        street = (
            f"Số {rng.randint(1, 300)} {rng.choice(names.STREETS)}"
            if rng.random() < 0.4
            else f"{rng.choice(names.HAMLETS)}"
        )
        surname = _weighted(rng, names.SURNAMES)
        head_sex = rng.choice("MF")
        head_year = TODAY.year - rng.randint(22, 70)
        phone = _phone(index)
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
                    *_name_forms(full_name),
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


# -- the bulk path: set-based SQL on PostgreSQL ----------------------------------------
# A load of millions is made by PostgreSQL itself (INSERT … SELECT over generate_series),
# from the same name lists, household shapes, ages, identity numbers and phones as
# `generate_chunk`; Python only sends the lists. Every draw is a hash of the person's (or
# household's) index, so a chunk's rows are the same however often it is made.
HOUSEHOLD_BLOCK = 40  # people; a chunk of 1,000 is 25 blocks, so no household crosses one
HOUSEHOLD_SHAPES = 256


@functools.cache
def household_positions() -> tuple[int, ...]:
    """For each of HOUSEHOLD_SHAPES ways to cut a block of 40 people into households (the
    sizes drawn with generate_chunk's weights), each person's place in their household:
    0 is its head, 1 the spouse, then children and parents."""
    rng = random.Random("covidhub-demo-households")
    positions: list[int] = []
    for _shape in range(HOUSEHOLD_SHAPES):
        left = HOUSEHOLD_BLOCK
        while left:
            size = min(left, rng.choices(_SIZES, cum_weights=_SIZE_WEIGHTS)[0])
            positions += range(size)
            left -= size
    return tuple(positions)


def _expanded(pairs: list[tuple[str, int]]) -> list[str]:
    """A weighted list as a flat one (weights over 5): a uniform pick is a weighted draw."""
    return [name for name, weight in pairs for _n in range(max(1, weight // 5))]


def _forms(values: list[str]) -> tuple[list[str], list[str], list[str]]:
    folded = [fold_ascii(v) for v in values]
    return values, folded, [icao_transliterate(v) for v in values]


_PEOPLE_SQL = """
WITH idx AS (
    SELECT i, (%(pos)s::int[])[1 + (((hashint8extended(i / {block}, 7) & 9223372036854775807) %% {shapes}) * {block}
                               + i %% {block})::int] AS pos
      FROM generate_series(%(first)s::bigint, %(last)s::bigint - 1) AS i
), h AS (
    SELECT i, pos, i - pos AS hd,
           -- draw k for this person / for its household: a 31-bit hash
           (hashint8extended(i, 0) & 9223372036854775807) AS r0, (hashint8extended(i, 1) & 9223372036854775807) AS r1,
           (hashint8extended(i, 2) & 9223372036854775807) AS r2, (hashint8extended(i, 3) & 9223372036854775807) AS r3,
           (hashint8extended(i - pos, 10) & 9223372036854775807) AS h0, (hashint8extended(i - pos, 11) & 9223372036854775807) AS h1,
           (hashint8extended(i - pos, 12) & 9223372036854775807) AS h2, (hashint8extended(i - pos, 13) & 9223372036854775807) AS h3
      FROM idx
), m AS (
    SELECT h.*,
           CASE WHEN pos = 0 THEN 'self' WHEN pos = 1 THEN 'spouse'
                WHEN r0 %% 10 < 8 THEN 'child' ELSE 'parent' END AS relationship,
           CASE WHEN h0 %% 2 = 0 THEN 'M' ELSE 'F' END AS head_sex,
           {year} - 22 - (h0 / 2 %% 49)::int AS head_year
      FROM h
), p AS (
    SELECT m.*,
           CASE WHEN pos = 0 THEN head_sex WHEN pos = 1 THEN (CASE head_sex WHEN 'M' THEN 'F' ELSE 'M' END)
                WHEN r1 %% 2 = 0 THEN 'M' ELSE 'F' END AS sex,
           CASE relationship WHEN 'self' THEN head_year
                WHEN 'spouse' THEN head_year + (r1 / 2 %% 11)::int - 5
                WHEN 'child' THEN least({year}, head_year + 20 + (r1 / 2 %% 21)::int)
                ELSE head_year - 20 - (r1 / 2 %% 11)::int END AS year,
           1 + (CASE WHEN relationship IN ('self', 'child') THEN h1 ELSE r2 END
                %% cardinality(%(sur)s::text[]))::int AS s
      FROM m
), n AS (
    SELECT p.*,
           CASE WHEN sex = 'M' THEN 1 + (r3 %% cardinality(%(mm)s::text[]))::int
                ELSE 1 + (r3 %% cardinality(%(mf)s::text[]))::int END AS mi,
           CASE WHEN sex = 'M' THEN 1 + (r3 / 1000 %% cardinality(%(gm)s::text[]))::int
                ELSE 1 + (r3 / 1000 %% cardinality(%(gf)s::text[]))::int END AS gi,
           (%(communes)s::bigint[])[1 + (h2 %% cardinality(%(communes)s::bigint[]))::int] AS commune_id
      FROM p
)
INSERT INTO {person} (uuid, full_name, search_name, icao_name, birth_year, birth_date, sex,
    nationality, id_type, id_number, phone, email, address_line, commune_id, commune_path,
    managed_by_id, relationship, created_at, updated_at)
SELECT overlay(overlay(md5('person-' || i) PLACING '4' FROM 13) PLACING '8' FROM 17)::uuid,
       (%(sur)s::text[])[s] || ' ' || (CASE sex WHEN 'M' THEN (%(mm)s::text[])[mi] ELSE (%(mf)s::text[])[mi] END)
           || ' ' || (CASE sex WHEN 'M' THEN (%(gm)s::text[])[gi] ELSE (%(gf)s::text[])[gi] END),
       (%(sur_f)s::text[])[s] || ' ' || (CASE sex WHEN 'M' THEN (%(mm_f)s::text[])[mi] ELSE (%(mf_f)s::text[])[mi] END)
           || ' ' || (CASE sex WHEN 'M' THEN (%(gm_f)s::text[])[gi] ELSE (%(gf_f)s::text[])[gi] END),
       (%(sur_i)s::text[])[s] || '<' || (CASE sex WHEN 'M' THEN (%(mm_i)s::text[])[mi] ELSE (%(mf_i)s::text[])[mi] END)
           || '<' || (CASE sex WHEN 'M' THEN (%(gm_i)s::text[])[gi] ELSE (%(gf_i)s::text[])[gi] END),
       year,
       CASE WHEN r2 / 7 %% 100 < 92 THEN make_date(year, 1 + (r0 / 10 %% 12)::int, 1 + (r0 / 120 %% 28)::int) END,
       sex, 'VN',
       CASE WHEN {year} - year >= 14 THEN 'cccd' ELSE '' END,
       CASE WHEN {year} - year >= 14 THEN
           (%(cccd)s::text[])[1 + (i / {serials})::int]
           || ((CASE WHEN year >= 2000 THEN 2 ELSE 0 END) + (CASE sex WHEN 'F' THEN 1 ELSE 0 END))
           || lpad((year %% 100)::text, 2, '0') || lpad((i %% {serials})::text, 6, '0')
       ELSE '' END,
       CASE WHEN pos = 0 THEN '+84' || (%(prefixes)s::text[])[1 + (hd / 10000000)::int]
                              || lpad((hd %% 10000000)::text, 7, '0') ELSE '' END,
       '',
       CASE WHEN h3 %% 10 < 4
            THEN 'Số ' || (1 + h3 / 10 %% 300) || ' ' || (%(streets)s::text[])[1 + (h3 / 3000 %% cardinality(%(streets)s::text[]))::int]
            ELSE (%(hamlets)s::text[])[1 + (h3 / 3000 %% cardinality(%(hamlets)s::text[]))::int] END,
       n.commune_id, a.path,
       %(user_base)s::bigint + (hd - %(first)s::bigint),
       relationship, %(now)s, %(now)s
  FROM n JOIN {area} a ON a.id = n.commune_id
"""

_USERS_SQL = """
INSERT INTO {user} (id, password, last_login, is_superuser, username, first_name, last_name,
    email, is_staff, is_active, date_joined, uuid, kind, phone, display_name, language,
    last_seen_at, created_at, updated_at)
SELECT %(user_base)s::bigint + (i - %(first)s::bigint), %(password)s, NULL, false,
       'c-demo-' || i, '', '', '', false, true, %(now)s,
       overlay(overlay(md5('user-' || i) PLACING '4' FROM 13) PLACING '8' FROM 17)::uuid,
       'citizen',
       '+84' || (%(prefixes)s::text[])[1 + (i / 10000000)::int] || lpad((i %% 10000000)::text, 7, '0'),
       '', 'vi', NULL, %(now)s, %(now)s
  FROM generate_series(%(first)s::bigint, %(last)s::bigint - 1) AS i
 WHERE (%(pos)s::int[])[1 + (((hashint8extended(i / {block}, 7) & 9223372036854775807) %% {shapes}) * {block}
                          + i %% {block})::int] = 0
"""


def _sql_lists(communes: list[tuple[int, str]], password: str) -> dict[str, object]:
    lists: dict[str, object] = {
        "pos": list(household_positions()),
        "communes": [pk for pk, _path in communes],
        "cccd": list(cccd_provinces()),
        "prefixes": list(_PHONE_PREFIXES),
        "streets": list(names.STREETS),
        "hamlets": list(names.HAMLETS),
        "password": password,
    }
    for key, values in (
        ("sur", _expanded(names.SURNAMES)),
        ("mm", names.MIDDLE_MALE),
        ("mf", names.MIDDLE_FEMALE),
        ("gm", names.GIVEN_MALE),
        ("gf", names.GIVEN_FEMALE),
    ):
        lists[key], lists[f"{key}_f"], lists[f"{key}_i"] = _forms(list(values))
    return lists


def _people_insert_sql(*, first: int, last: int, lists: dict[str, object]) -> int:
    """People of indexes [first, last) and their household heads' accounts; returns the
    people made. Account ids follow the largest one so far (gaps where no head is)."""
    if last > len(cccd_provinces()) * SERIALS_PER_PROVINCE:
        raise ValueError(f"no unique CCCD number beyond {len(cccd_provinces())} million people")
    fmt = {
        "block": HOUSEHOLD_BLOCK,
        "shapes": HOUSEHOLD_SHAPES,
        "year": TODAY.year,
        "serials": SERIALS_PER_PROVINCE,
        "person": Person._meta.db_table,
        "user": User._meta.db_table,
        "area": "areas_area",
    }
    params: dict[str, Any] = {**lists, "first": first, "last": last, "now": timezone.now()}
    params["user_base"] = _next_user_id() + 1
    with connection.cursor() as cursor:
        # The lists are parameters: a generic plan (which a statement prepared after a few
        # executions may get) would cast them anew for every row (10,000 elements each);
        # a custom plan folds them into constants once.
        cursor.execute("SET LOCAL plan_cache_mode = force_custom_plan")
        cursor.execute(_USERS_SQL.format(**fmt), params)
        cursor.execute(_PEOPLE_SQL.format(**fmt), params)
        return int(cursor.rowcount)


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
            _secondary_indexes_deferred([User._meta.db_table, Person._meta.db_table], unique=True)
            if bulk
            else contextlib.nullcontext()
        ),
    ):
        if bulk:
            # PostgreSQL makes the rows itself, half a million people a statement.
            lists = _sql_lists(communes, password)
            _foreign_key_triggers_off()
            per_batch = 500
            for first in range(done, wanted_chunks, per_batch):
                last = min(first + per_batch, wanted_chunks)
                made += _people_insert_sql(first=first * CHUNK, last=last * CHUNK, lists=lists)
                Setting.objects.filter(key=PROGRESS_KEY).update(value={"chunks": last})
                if log is not None:
                    log.write(
                        f"  {made:,} people ({made / (time.perf_counter() - started):,.0f}/s)\n"
                    )
            done = wanted_chunks
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
def _secondary_indexes_deferred(tables: list[str], *, unique: bool = False) -> Iterator[None]:
    """PostgreSQL, large loads: drop the tables' indexes and build them once at the end
    (a sort and one pass instead of millions of random inserts into a B-tree). Primary keys
    stay; unique indexes and constraints stay too unless `unique` (then they are rebuilt
    like the others, and a duplicate fails the rebuild and the whole load with it — they
    still guard the data). Call inside the load's transaction."""
    with connection.cursor() as cursor:
        # Unique constraints first (their index goes with them); never one a foreign key
        # relies on.
        saved_constraints: list[tuple[str, str, str]] = []
        if unique:
            cursor.execute(
                "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) "
                "FROM pg_constraint c WHERE c.conrelid = ANY(%s::regclass[]) AND c.contype = 'u' "
                "AND c.conindid NOT IN (SELECT conindid FROM pg_constraint WHERE contype = 'f')",
                [tables],
            )
            saved_constraints = cursor.fetchall()
            for table, name, _definition in saved_constraints:
                cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        cursor.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary "
            "AND (%s OR NOT i.indisunique) "
            "AND i.indexrelid NOT IN (SELECT conindid FROM pg_constraint)",
            [tables, unique],
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
            cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
            for table, name, definition in saved_constraints:
                cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
            for _name, definition in saved:
                # A partitioned table's index is defined ON ONLY the parent; built on the
                # parent it is built on every partition.
                cursor.execute(definition.replace(" ON ONLY ", " ON ", 1))


def _foreign_key_triggers_off() -> None:
    """The bulk rows' foreign keys hold by construction (communes from the tree, accounts
    made by the same statement pair): skip the per-row trigger checks, which a load of
    millions would otherwise queue in memory until the commit. Superusers only; this
    transaction only (SET LOCAL), and the demo generator is refused in production."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        row = cursor.fetchone()
        if row and row[0]:
            cursor.execute("SET LOCAL session_replication_role = replica")


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
