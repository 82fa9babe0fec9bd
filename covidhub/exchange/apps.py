from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExchangeConfig(AppConfig):
    name = "covidhub.exchange"
    label = "exchange"
    verbose_name = _("Exchange with national systems")

    def ready(self) -> None:
        from covidhub.core import schedule
        from covidhub.exchange.outbox import connect
        from covidhub.exchange.tasks import exchange_push_pending

        connect()
        # Catches the rows of a kick that never reached the queue and the retries whose
        # backoff has run out.
        schedule.register("exchange.push", every_seconds=60, task=exchange_push_pending)
