"""Feeds and their health, and hazard events: one row per quake, however many records described it."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class FeedKind(models.TextChoices):
    BMKG = "bmkg", "BMKG (autogempa / gempaterkini / gempadirasakan)"
    INATEWS = "inatews", "BMKG InaTEWS"
    USGS = "usgs", "USGS GeoJSON"
    CAP = "cap", _("CAP eksternal")


class Feed(models.Model):
    """One polled URL and how it is doing: the health record the command centre watches."""

    name = models.CharField(_("nama"), max_length=100, unique=True)
    kind = models.CharField(_("jenis"), max_length=10, choices=FeedKind.choices)
    url = models.URLField(_("URL"), max_length=500)
    drill = models.BooleanField(_("latihan"), default=False,
                                help_text=_("Semua peringatan dari umpan ini berstatus Exercise (latihan)."))
    enabled = models.BooleanField(_("aktif"), default=True)
    etag = models.CharField(max_length=200, blank=True)
    last_modified = models.CharField(max_length=100, blank=True)
    last_attempt_at = models.DateTimeField(_("percobaan terakhir"), null=True, blank=True)
    last_success_at = models.DateTimeField(_("berhasil terakhir"), null=True, blank=True)
    last_error_at = models.DateTimeField(_("galat terakhir pada"), null=True, blank=True)
    last_error = models.CharField(_("galat terakhir"), max_length=500, blank=True)
    last_status = models.PositiveSmallIntegerField(_("kode HTTP terakhir"), null=True, blank=True)
    last_duration_ms = models.PositiveIntegerField(_("durasi terakhir (ms)"), default=0)
    consecutive_failures = models.PositiveIntegerField(_("gagal berturut-turut"), default=0)
    polls = models.PositiveBigIntegerField(_("jumlah permintaan"), default=0)
    not_modified = models.PositiveBigIntegerField(_("tidak berubah (304)"), default=0)
    records_new = models.PositiveBigIntegerField(_("rekaman baru"), default=0)
    records_repeat = models.PositiveBigIntegerField(_("rekaman berulang"), default=0)
    newest_record_at = models.DateTimeField(_("rekaman terbaru"), null=True, blank=True)
    lag_seconds = models.FloatField(_("jeda (detik)"), null=True, blank=True,
                                    help_text=_("Dari waktu rekaman terbaru sampai Siaga112 melihatnya."))
    updated_at = models.DateTimeField(_("diperbarui"), default=timezone.now)

    class Meta:
        verbose_name = _("umpan data")
        verbose_name_plural = _("umpan data")
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def healthy(self) -> bool:
        return self.consecutive_failures == 0 and self.last_success_at is not None


class HazardEvent(models.Model):
    """One earthquake (and its tsunami warning, if any), merged from every record of every feed."""

    key = models.CharField(_("kunci"), max_length=64, unique=True)
    origin_time = models.DateTimeField(_("waktu gempa"), db_index=True)
    lat = models.FloatField(_("lintang"))
    lon = models.FloatField(_("bujur"))
    magnitude = models.FloatField(_("magnitudo"))
    depth_km = models.FloatField(_("kedalaman (km)"), null=True, blank=True)
    region = models.CharField(_("wilayah"), max_length=300, blank=True)
    potential_text = models.CharField(_("potensi (BMKG)"), max_length=300, blank=True)
    tsunami_potential = models.BooleanField(_("berpotensi tsunami"), default=False)
    felt_text = models.CharField(_("dirasakan"), max_length=500, blank=True)
    sources = models.JSONField(_("sumber"), default=list)
    fingerprints = models.JSONField(default=list)  # hashes of the records already applied (repeats change nothing)
    warning = models.JSONField(_("peringatan InaTEWS"), null=True, blank=True)
    warning_sent = models.DateTimeField(_("InaTEWS dikirim"), null=True, blank=True)
    inatews_phase = models.PositiveSmallIntegerField(_("tahap PD"), null=True, blank=True)
    display = models.CharField(_("tampilan"), max_length=12, default="none")
    ews_level = models.CharField(_("level EWS"), max_length=8, blank=True)
    reasons = models.JSONField(_("alasan"), default=list)
    distance_km = models.FloatField(_("jarak (km)"), default=0)
    exercise = models.BooleanField(_("latihan"), default=False)
    stale = models.BooleanField(_("terlambat"), default=False,
                                help_text=_("Terlihat terlalu lama setelah kejadian: dicatat, tidak disiarkan."))
    record_time = models.DateTimeField(_("waktu rekaman terbaru"), null=True, blank=True)
    first_seen_at = models.DateTimeField(_("pertama terlihat"), default=timezone.now)
    updated_at = models.DateTimeField(_("diperbarui"), default=timezone.now)
    revision = models.PositiveIntegerField(_("revisi"), default=1)

    class Meta:
        verbose_name = _("kejadian gempa")
        verbose_name_plural = _("kejadian gempa")
        ordering = ["-origin_time"]

    def __str__(self) -> str:
        return f"M{self.magnitude:.1f} {self.region} ({self.key})"
