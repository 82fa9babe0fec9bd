"""Background work of the FHIR surface: bulk exports and their expiry."""

from __future__ import annotations

from django.tasks import task

from covidhub.fhir import bulk


@task()
def fhir_export_run(job_uuid: str) -> int:
    """Write one bulk export's NDJSON files; returns the resources written."""
    job = bulk.export_run(job_uuid=job_uuid)
    return job.resources_written if job is not None else 0


@task()
def fhir_exports_expire() -> int:
    """Hourly: delete the files of expired, cancelled and failed exports."""
    return bulk.exports_expire()
