from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AreasConfig(AppConfig):
    name = "covidhub.areas"
    label = "areas"
    verbose_name = _("Administrative areas")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from covidhub.areas.models import Area
        from covidhub.areas.selectors import areas_cache_clear

        post_save.connect(areas_cache_clear, sender=Area)
        post_delete.connect(areas_cache_clear, sender=Area)
