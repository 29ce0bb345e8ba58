"""What the EWS carousel carries: one :class:`OnAir` row per warning thread that has been on TV, and the
carousel's version (:class:`CarouselState`), which changes whenever what is on air changes."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class OnAir(models.Model):
    thread = models.OneToOneField("alerts.Thread", on_delete=models.PROTECT, related_name="on_air")
    alert = models.ForeignKey("alerts.Alert", on_delete=models.PROTECT, related_name="+")  # the message on air
    package_id = models.PositiveSmallIntegerField(_("package_id"), null=True, blank=True)  # None: off air
    level = models.CharField(_("level"), max_length=8)  # AWAS | SIAGA | WASPADA | END
    message = models.JSONField(_("pesan EWS"))  # siaga.ews.sections.Message fields
    end_text = models.CharField(_("teks saat berakhir"), max_length=300, blank=True)  # its END, if it expires
    expires_at = models.DateTimeField(_("berlaku sampai"), null=True, blank=True)
    ended_at = models.DateTimeField(_("berakhir"), null=True, blank=True)
    updated_at = models.DateTimeField(_("diperbarui"), default=timezone.now)

    class Meta:
        verbose_name = _("peringatan di siaran EWS")
        verbose_name_plural = _("peringatan di siaran EWS")
        ordering = ["package_id"]

    def __str__(self) -> str:
        return f"{self.package_id} {self.level} {self.thread_id}"


class CarouselState(models.Model):
    name = models.CharField(max_length=40, unique=True, default="default")
    version = models.PositiveSmallIntegerField(default=0)  # 0-31, as on air
    digest = models.CharField(max_length=64, blank=True)  # of what that version carries
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("versi karusel EWS")
        verbose_name_plural = _("versi karusel EWS")

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"
