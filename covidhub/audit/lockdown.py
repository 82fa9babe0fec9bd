"""PostgreSQL: the audit table belongs to a role the application cannot become.

The owner of a table may TRUNCATE it, drop its triggers or the table itself, whatever the
triggers say. ``audit_lockdown_statements`` gives ownership of the audit table and of its
trigger functions to a separate role without login, leaves the application role INSERT
and SELECT only, and takes the ``public`` schema from the application role if it owns it
(a schema's owner may drop any table in it); the application keeps USAGE and CREATE there
so that migrations still create its other tables. ``manage.py audit_lockdown`` runs the
statements (as a superuser), ``--print`` shows them for docs/operations.md.
"""

from __future__ import annotations

import re

AUDIT_TABLE = "audit_auditevent"
AUDIT_FUNCTIONS = ("audit_event_append_only()", "audit_event_no_truncate()")
ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class LockdownError(ValueError):
    pass


def role_name_check(name: str) -> str:
    """Role names go into DDL, which takes no parameters: only plain identifiers."""
    if not ROLE_NAME.match(name):
        raise LockdownError(f"not a plain role name: {name!r}")
    return name


def audit_lockdown_statements(*, owner_role: str, app_role: str) -> list[str]:
    """The statements, in order; each may run again without harm."""
    owner = role_name_check(owner_role)
    app = role_name_check(app_role)
    if owner == app:
        raise LockdownError("the owner role must not be the application role")
    # Role names are checked plain identifiers above: DDL takes no parameters.
    statements = [
        f"""DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{owner}') THEN
        CREATE ROLE {owner} NOLOGIN;
    END IF;
    IF pg_has_role('{app}', '{owner}', 'MEMBER') THEN
        RAISE EXCEPTION 'role {app} is a member of {owner}: revoke it first';
    END IF;
    -- A schema's owner may drop any table in it (PostgreSQL 15 gives public to the
    -- database owner, often the application).
    IF pg_has_role('{app}', (SELECT nspowner FROM pg_namespace WHERE nspname = 'public'),
                   'MEMBER') THEN
        ALTER SCHEMA public OWNER TO {owner};
    END IF;
END $$""",  # noqa: S608
        f"GRANT USAGE, CREATE ON SCHEMA public TO {app}",
        f"ALTER TABLE {AUDIT_TABLE} OWNER TO {owner}",
        # PostgreSQL: the table is partitioned by month (covidhub.core.partitions); a
        # partition has an owner of its own, who could truncate or drop it.
        f"""DO $$ DECLARE part regclass; BEGIN
    FOR part IN SELECT inhrelid::regclass FROM pg_inherits
                WHERE inhparent = to_regclass('{AUDIT_TABLE}') LOOP
        EXECUTE format('ALTER TABLE %s OWNER TO {owner}', part);
        EXECUTE format('REVOKE ALL ON %s FROM PUBLIC, {app}', part);
    END LOOP;
END $$""",  # noqa: S608
    ]
    statements += [f"ALTER FUNCTION {function} OWNER TO {owner}" for function in AUDIT_FUNCTIONS]
    statements += [
        f"REVOKE ALL ON {AUDIT_TABLE} FROM PUBLIC, {app}",
        f"GRANT SELECT, INSERT ON {AUDIT_TABLE} TO {app}",
    ]
    return statements
