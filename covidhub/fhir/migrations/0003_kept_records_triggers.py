"""The database keeps `PatientRecords` in step with the records it was built from,
whatever writes them (the ORM, raw SQL, an import, an operator's psql).

- A dose, result or care order written (inserted, changed, deleted) marks its person's
  kept records stale (both people when a record moves from one to another); so does a
  self-check (through its order), and a change of a sample, a tube or a tube result that
  a person's result was read with. Marking is an upsert: `generation` + 1 and the text
  emptied, the row made if there was none (a reader that read the records before the
  write then cannot keep what it built: it keeps text only while `generation` is what it
  read, and inserts only where there was no row).
- A change of what a vaccine or a lot shows in an Immunization moves `RecordsEpoch` on:
  every kept text built before is then not served (each is rebuilt at its next read).
- A person deleted takes their row with them.

PostgreSQL: statement triggers over the rows each statement wrote (one set-based upsert for
an import), calling one SQL function; SQLite: row triggers doing the same.
"""

from django.db import migrations

PG_FORWARD = """
CREATE OR REPLACE FUNCTION fhir_records_stale(people bigint[]) RETURNS void AS $$
    INSERT INTO fhir_patientrecords (person_id, generation)
    SELECT DISTINCT p, 1 FROM unnest(people) AS p WHERE p IS NOT NULL ORDER BY 1
    ON CONFLICT (person_id) DO UPDATE
        SET generation = fhir_patientrecords.generation + 1, immunizations = NULL;
$$ LANGUAGE sql;

-- Statement triggers, with the rows the statement wrote (transition tables): an import
-- of 200,000 results marks its people in one set-based upsert, not one per row.
CREATE OR REPLACE FUNCTION fhir_records_of_person() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM fhir_records_stale(ARRAY(SELECT person_id FROM new_rows));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM fhir_records_stale(ARRAY(SELECT person_id FROM old_rows));
    ELSE
        PERFORM fhir_records_stale(ARRAY(
            SELECT person_id FROM old_rows UNION SELECT person_id FROM new_rows));
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION fhir_records_of_check() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM fhir_records_stale(ARRAY(
            SELECT o.person_id FROM homecare_careorder o
             WHERE o.id IN (SELECT order_id FROM new_rows)));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM fhir_records_stale(ARRAY(
            SELECT o.person_id FROM homecare_careorder o
             WHERE o.id IN (SELECT order_id FROM old_rows)));
    ELSE
        PERFORM fhir_records_stale(ARRAY(
            SELECT o.person_id FROM homecare_careorder o
             WHERE o.id IN (SELECT order_id FROM old_rows UNION SELECT order_id FROM new_rows)));
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

-- Samples, tubes and tube results: the people whose results were read with a row that
-- changed (a tube's scans before it has results mark nobody).
CREATE OR REPLACE FUNCTION fhir_records_of_sample() RETURNS trigger AS $$
BEGIN
    PERFORM fhir_records_stale(ARRAY(
        SELECT r.person_id FROM new_rows n JOIN old_rows o ON o.id = n.id
          JOIN testing_result r ON r.sample_id = n.id
         WHERE o IS DISTINCT FROM n));
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION fhir_records_of_tube() RETURNS trigger AS $$
BEGIN
    PERFORM fhir_records_stale(ARRAY(
        SELECT r.person_id FROM new_rows n JOIN old_rows o ON o.id = n.id
          JOIN testing_sample s ON s.tube_id = n.id
          JOIN testing_result r ON r.sample_id = s.id
         WHERE o IS DISTINCT FROM n));
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION fhir_records_of_tube_result() RETURNS trigger AS $$
BEGIN
    PERFORM fhir_records_stale(ARRAY(
        SELECT r.person_id FROM new_rows n JOIN old_rows o ON o.id = n.id
          JOIN testing_result r ON r.tube_result_id = n.id
         WHERE o IS DISTINCT FROM n));
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION fhir_records_epoch_next() RETURNS trigger AS $$
BEGIN
    INSERT INTO fhir_recordsepoch (id, value) VALUES (1, 1)
    ON CONFLICT (id) DO UPDATE SET value = fhir_recordsepoch.value + 1;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION fhir_records_of_deleted_person() RETURNS trigger AS $$
BEGIN
    DELETE FROM fhir_patientrecords WHERE person_id IN (SELECT id FROM old_rows);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
""" + "".join(
    f"""
CREATE TRIGGER fhir_records_{short}_insert AFTER INSERT ON {table}
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION {function}();
CREATE TRIGGER fhir_records_{short}_update AFTER UPDATE ON {table}
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION {function}();
CREATE TRIGGER fhir_records_{short}_delete AFTER DELETE ON {table}
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION {function}();
"""
    for short, table, function in (
        ("dose", "vaccination_dose", "fhir_records_of_person"),
        ("result", "testing_result", "fhir_records_of_person"),
        ("careorder", "homecare_careorder", "fhir_records_of_person"),
        ("check", "homecare_selfcheck", "fhir_records_of_check"),
    )
) + "".join(
    f"""
CREATE TRIGGER fhir_records_{short} AFTER UPDATE ON {table}
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION {function}();
"""
    for short, table, function in (
        ("sample", "testing_sample", "fhir_records_of_sample"),
        ("tube", "testing_tube", "fhir_records_of_tube"),
        ("tube_result", "testing_tuberesult", "fhir_records_of_tube_result"),
    )
) + """
CREATE TRIGGER fhir_records_vaccine AFTER UPDATE ON vaccination_vaccine
    FOR EACH ROW WHEN (
        (OLD.code, OLD.name, OLD.prophylaxis_code, OLD.product_code, OLD.primary_doses,
         OLD.manufacturer_code)
        IS DISTINCT FROM
        (NEW.code, NEW.name, NEW.prophylaxis_code, NEW.product_code, NEW.primary_doses,
         NEW.manufacturer_code))
    EXECUTE FUNCTION fhir_records_epoch_next();
CREATE TRIGGER fhir_records_lot AFTER UPDATE ON vaccination_vaccinelot
    FOR EACH ROW WHEN ((OLD.number, OLD.expiry_date) IS DISTINCT FROM (NEW.number, NEW.expiry_date))
    EXECUTE FUNCTION fhir_records_epoch_next();
CREATE TRIGGER fhir_records_person AFTER DELETE ON people_person
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION fhir_records_of_deleted_person();
"""

PG_BACKWARD = (
    "".join(
        f"DROP TRIGGER IF EXISTS {name} ON {table};\n"
        for name, table in (
            *(
                (f"fhir_records_{short}_{event}", table)
                for short, table in (
                    ("dose", "vaccination_dose"),
                    ("result", "testing_result"),
                    ("careorder", "homecare_careorder"),
                    ("check", "homecare_selfcheck"),
                )
                for event in ("insert", "update", "delete")
            ),
            ("fhir_records_sample", "testing_sample"),
            ("fhir_records_tube", "testing_tube"),
            ("fhir_records_tube_result", "testing_tuberesult"),
            ("fhir_records_vaccine", "vaccination_vaccine"),
            ("fhir_records_lot", "vaccination_vaccinelot"),
            ("fhir_records_person", "people_person"),
        )
    )
    + """
DROP FUNCTION IF EXISTS fhir_records_of_person();
DROP FUNCTION IF EXISTS fhir_records_of_check();
DROP FUNCTION IF EXISTS fhir_records_of_sample();
DROP FUNCTION IF EXISTS fhir_records_of_tube();
DROP FUNCTION IF EXISTS fhir_records_of_tube_result();
DROP FUNCTION IF EXISTS fhir_records_epoch_next();
DROP FUNCTION IF EXISTS fhir_records_of_deleted_person();
DROP FUNCTION IF EXISTS fhir_records_stale(bigint[]);
"""
)


def _sqlite_stale(people: str) -> str:
    """SQLite: the upsert of PG's fhir_records_stale for the person ids `people` selects
    (a SELECT of one column named p; WHERE true: the upsert's parsing needs a WHERE)."""
    return (
        "INSERT INTO fhir_patientrecords (person_id, generation) "
        f"SELECT DISTINCT p, 1 FROM ({people}) WHERE p IS NOT NULL "
        "ON CONFLICT (person_id) DO UPDATE "
        "SET generation = generation + 1, immunizations = NULL;"
    )


_EPOCH_NEXT = (
    "INSERT INTO fhir_recordsepoch (id, value) VALUES (1, 1) "
    "ON CONFLICT (id) DO UPDATE SET value = value + 1;"
)
_VACCINE_COLUMNS = (
    "code",
    "name",
    "prophylaxis_code",
    "product_code",
    "primary_doses",
    "manufacturer_code",
)


def _changed(columns: tuple[str, ...]) -> str:
    return " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in columns)


def _sqlite_forward() -> list[str]:
    statements = []
    for table in ("vaccination_dose", "testing_result", "homecare_careorder"):
        short = table.split("_", 1)[1]
        statements += [
            f"CREATE TRIGGER fhir_records_{short}_insert AFTER INSERT ON {table} BEGIN "
            + _sqlite_stale("SELECT NEW.person_id AS p")
            + " END;",
            f"CREATE TRIGGER fhir_records_{short}_delete AFTER DELETE ON {table} BEGIN "
            + _sqlite_stale("SELECT OLD.person_id AS p")
            + " END;",
            f"CREATE TRIGGER fhir_records_{short}_update AFTER UPDATE ON {table} BEGIN "
            + _sqlite_stale("SELECT OLD.person_id AS p UNION SELECT NEW.person_id")
            + " END;",
        ]
    check_people = (
        "SELECT person_id AS p FROM homecare_careorder WHERE id IN ({orders})"
    )
    statements += [
        "CREATE TRIGGER fhir_records_check_insert AFTER INSERT ON homecare_selfcheck BEGIN "
        + _sqlite_stale(check_people.format(orders="NEW.order_id"))
        + " END;",
        "CREATE TRIGGER fhir_records_check_delete AFTER DELETE ON homecare_selfcheck BEGIN "
        + _sqlite_stale(check_people.format(orders="OLD.order_id"))
        + " END;",
        "CREATE TRIGGER fhir_records_check_update AFTER UPDATE ON homecare_selfcheck BEGIN "
        + _sqlite_stale(check_people.format(orders="OLD.order_id, NEW.order_id"))
        + " END;",
        "CREATE TRIGGER fhir_records_sample AFTER UPDATE ON testing_sample BEGIN "
        + _sqlite_stale("SELECT person_id AS p FROM testing_result WHERE sample_id = NEW.id")
        + " END;",
        "CREATE TRIGGER fhir_records_tube AFTER UPDATE ON testing_tube BEGIN "
        + _sqlite_stale(
            "SELECT r.person_id AS p FROM testing_sample s "
            "JOIN testing_result r ON r.sample_id = s.id WHERE s.tube_id = NEW.id"
        )
        + " END;",
        "CREATE TRIGGER fhir_records_tube_result AFTER UPDATE ON testing_tuberesult BEGIN "
        + _sqlite_stale("SELECT person_id AS p FROM testing_result WHERE tube_result_id = NEW.id")
        + " END;",
        "CREATE TRIGGER fhir_records_vaccine AFTER UPDATE ON vaccination_vaccine "
        f"WHEN {_changed(_VACCINE_COLUMNS)} BEGIN {_EPOCH_NEXT} END;",
        "CREATE TRIGGER fhir_records_lot AFTER UPDATE ON vaccination_vaccinelot "
        f"WHEN {_changed(('number', 'expiry_date'))} BEGIN {_EPOCH_NEXT} END;",
        "CREATE TRIGGER fhir_records_person AFTER DELETE ON people_person BEGIN "
        "DELETE FROM fhir_patientrecords WHERE person_id = OLD.id; END;",
    ]
    return statements


_SQLITE_TRIGGERS = [
    *(
        f"fhir_records_{short}_{event}"
        for short in ("dose", "result", "careorder", "check")
        for event in ("insert", "delete", "update")
    ),
    "fhir_records_sample",
    "fhir_records_tube",
    "fhir_records_tube_result",
    "fhir_records_vaccine",
    "fhir_records_lot",
    "fhir_records_person",
]


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FORWARD)
    elif vendor == "sqlite":
        for statement in _sqlite_forward():
            schema_editor.execute(statement)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD)
    elif vendor == "sqlite":
        for name in _SQLITE_TRIGGERS:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name};")


class Migration(migrations.Migration):
    dependencies = [
        ("fhir", "0002_kept_records"),
        ("vaccination", "0002_vaccines"),
        ("testing", "0003_copies_without_constraints"),
        ("homecare", "0004_protocol_per_province"),
    ]
    operations = [migrations.RunPython(forward, backward)]
