"""`transaction_lock`: only inside a transaction (a lock outside one would end at once and
hold nothing); on PostgreSQL the second holder waits for the first to commit."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction

from covidhub.core.locks import transaction_lock


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_it_refuses():
    with pytest.raises(RuntimeError):
        transaction_lock("anything")
    with transaction.atomic():
        transaction_lock("anything")  # inside one it is taken (a no-op on SQLite)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_second_holder_waits_for_the_first_to_commit():
    order: list[str] = []
    taken = threading.Event()

    def first() -> None:
        try:
            with transaction.atomic():
                transaction_lock("covidhub.test")
                taken.set()
                time.sleep(0.5)
                order.append("first done")
        finally:
            connection.close()

    def second() -> None:
        try:
            taken.wait(5)
            with transaction.atomic():
                transaction_lock("covidhub.test")
                order.append("second in")
            with transaction.atomic():
                transaction_lock("covidhub.other")  # another name does not wait
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert order == ["first done", "second in"]
