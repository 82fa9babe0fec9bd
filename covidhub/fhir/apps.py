from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FhirConfig(AppConfig):
    name = "covidhub.fhir"
    label = "fhir"
    verbose_name = _("FHIR")

    def ready(self) -> None:
        from covidhub.core import schedule
        from covidhub.fhir.tasks import fhir_exports_expire

        schedule.register("fhir.exports.expire", every_seconds=3600, task=fhir_exports_expire)
