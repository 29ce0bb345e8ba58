"""What the EWS carousel carries: one :class:`OnAir` row per warning thread that has been on TV (the warning
as it goes on air, until it ends or expires), and the carousel's state (:class:`CarouselState`): the
version of each sub-table, which changes only when that sub-table's content changes."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class OnAir(models.Model):
    thread = models.OneToOneField("alerts.Thread", on_delete=models.PROTECT, related_name="on_air")
    alert = models.ForeignKey("alerts.Alert", on_delete=models.PROTECT, related_name="+")  # the latest message
    level = models.CharField(_("level"), max_length=8)  # AWAS | SIAGA | WASPADA on air
    message = models.JSONField(_("pesan EWS"))  # siaga.ews.sections.Message fields
    expires_at = models.DateTimeField(_("berlaku sampai"), null=True, blank=True)
    ended_at = models.DateTimeField(_("berakhir"), null=True, blank=True)  # a Cancel, or "nothing on TV"
    updated_at = models.DateTimeField(_("diperbarui"), default=timezone.now)

    class Meta:
        verbose_name = _("peringatan di siaran EWS")
        verbose_name_plural = _("peringatan di siaran EWS")
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.level} {self.thread_id}"


def _zero_versions() -> dict[str, int]:
    return {"TRDW": 0, "TCDW": 0, "TMDW": 0}


class CarouselState(models.Model):
    name = models.CharField(max_length=40, unique=True, default="default")
    versions = models.JSONField(default=_zero_versions)  # sub-table -> version_number 0-31, as on air
    digests = models.JSONField(default=dict)  # sub-table -> digest of the content that version carries
    revision = models.PositiveIntegerField(default=0)  # every change of what is on air, counted
    form = models.CharField(max_length=8, blank=True)  # the TMDW form the versions are for
    notes = models.JSONField(default=list)  # what the last plan had to give to fit (for a person)
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("versi karusel EWS")
        verbose_name_plural = _("versi karusel EWS")

    def __str__(self) -> str:
        return f"{self.name} r{self.revision} {self.versions}"
