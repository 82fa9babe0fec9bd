from __future__ import annotations

import datetime

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Area(models.Model):
    """An administrative unit: province → district → commune, kept as a tree.

    `path` is materialised ("30/288/10507/") so that a subtree is one indexed prefix
    query. Codes are unique within a level nationally, so a path is unique. A unit that
    the state merges away is dissolved with a successor; rows pointing at it stay valid.
    """

    class Level(models.IntegerChoices):
        PROVINCE = 1, _("Province")
        DISTRICT = 2, _("District")
        COMMUNE = 3, _("Commune")

    level = models.PositiveSmallIntegerField(_("level"), choices=Level.choices)
    code = models.CharField(_("official code"), max_length=10)
    name = models.CharField(_("official name"), max_length=120)
    division_type = models.CharField(_("division type"), max_length=40, blank=True)
    search_name = models.CharField(max_length=120, db_index=True, editable=False)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent"),
    )
    path = models.CharField(max_length=64, unique=True, editable=False)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    dissolved_on = models.DateField(_("dissolved on"), null=True, blank=True)
    successor = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="predecessors",
        verbose_name=_("succeeded by"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["path"]
        verbose_name = _("area")
        verbose_name_plural = _("areas")
        constraints = [
            models.UniqueConstraint(fields=["level", "code"], name="area_level_code_unique"),
            models.CheckConstraint(
                condition=Q(level=1, parent__isnull=True) | Q(level__gt=1, parent__isnull=False),
                name="area_parent_matches_level",
            ),
        ]
        indexes = [models.Index(fields=["parent", "name"])]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.dissolved_on is None

    def is_valid_on(self, day: datetime.date) -> bool:
        if self.valid_from and day < self.valid_from:
            return False
        return not (self.dissolved_on and day >= self.dissolved_on)

    def contains(self, other: Area) -> bool:
        return other.path.startswith(self.path)
