from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FhirConfig(AppConfig):
    name = "covidhub.fhir"
    label = "fhir"
    verbose_name = _("FHIR")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from covidhub.areas.models import Area
        from covidhub.core import schedule
        from covidhub.fhir.everything import area_cache
        from covidhub.fhir.selectors import place_cache
        from covidhub.fhir.tasks import fhir_exports_expire
        from covidhub.testing.models import Lab, Site
        from covidhub.vaccination.models import VaccinationSite

        schedule.register("fhir.exports.expire", every_seconds=3600, task=fhir_exports_expire)
        # A place's Organization and Location are cached per process (selectors.place_cache),
        # and so is a patient's commune with its district and province (everything.area_cache).
        for model in (VaccinationSite, Site, Lab, Area):
            for signal in (post_save, post_delete):
                signal.connect(
                    place_cache.clear,
                    sender=model,
                    dispatch_uid=f"fhir.places.{model.__name__}.{signal}",
                )
        for signal in (post_save, post_delete):
            signal.connect(area_cache.clear, sender=Area, dispatch_uid=f"fhir.areas.{signal}")
