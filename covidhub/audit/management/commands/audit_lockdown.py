"""Give the audit table to a separate owner role; the application keeps INSERT and SELECT."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction

from covidhub.audit.lockdown import LockdownError, audit_lockdown_statements


class Command(BaseCommand):
    help = (
        "PostgreSQL: make a role without login the owner of the audit table and its trigger "
        "functions, and grant the application role INSERT and SELECT only. Run it as a "
        "superuser (DATABASE_URL of an administrator), after migrations."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--owner-role", default="covidhub_audit_owner")
        parser.add_argument("--app-role", required=True, help="the role the application uses")
        parser.add_argument("--print", action="store_true", help="only print the SQL")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            statements = audit_lockdown_statements(
                owner_role=options["owner_role"], app_role=options["app_role"]
            )
        except LockdownError as error:
            raise CommandError(str(error)) from error
        if options["print"]:
            self.stdout.write(";\n".join(statements) + ";")
            return
        if connection.vendor != "postgresql":
            raise CommandError("audit_lockdown is for PostgreSQL; SQLite has no roles")
        with transaction.atomic(), connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
        self.stdout.write(
            f"audit table owned by {options['owner_role']}; "
            f"{options['app_role']} may INSERT and SELECT only"
        )
