"""Background work of the exchange: the worker drains the outbox."""

from __future__ import annotations

from django.tasks import task


def exchange_drain(*, max_batches: int = 1000) -> dict[str, int]:
    """Push every endpoint's due records, batch after batch, until none is due."""
    from covidhub.core.enqueue import kick_taken
    from covidhub.exchange.outbox import KICK_KEY, endpoints
    from covidhub.exchange.push import Partner, exchange_push

    kick_taken(KICK_KEY)
    totals: dict[str, int] = {}
    for endpoint in endpoints():
        # One kept connection per endpoint for the whole drain.
        with Partner(endpoint) as partner:
            for _ in range(max_batches):
                counts = exchange_push(endpoint=endpoint, partner=partner)
                for key, value in counts.items():
                    totals[key] = totals.get(key, 0) + value
                if not any(counts.values()) or counts.get("failed"):
                    break  # nothing due, or the partner is down: the backoff decides
    return totals


@task()
def exchange_push_pending() -> dict[str, int]:
    """Send the queued doses and results to the national systems (kicked after each
    commit that queues some, and every minute by the scheduler)."""
    return exchange_drain()


@task()
def immunizations_import_run_task(job_uuid: str) -> str:
    """Apply a long FHIR Immunization import, chunk by chunk (exchange.inbound)."""
    from covidhub.exchange.inbound import immunizations_import_run

    return str(immunizations_import_run(job_uuid=job_uuid).status)
