from __future__ import annotations

from django.tasks import task

from covidhub.notifications import services


@task(queue_name="notifications")
def message_deliver(message_id: int) -> str:
    return services.message_deliver(message_id=message_id)


@task(queue_name="notifications")
def message_deliver_many(message_ids: list[int]) -> dict[str, int]:
    return services.message_deliver_many(message_ids=message_ids)


@task()
def message_sweep() -> int:
    return services.message_sweep()
