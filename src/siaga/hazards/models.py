"""Feeds and their health, and hazard events: one row per quake, however many records described it."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
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
    bad_records = models.PositiveBigIntegerField(_("rekaman rusak"), default=0)
    last_bad_records = models.PositiveIntegerField(_("rekaman rusak pada dokumen terakhir"), default=0)
    last_bad_record = models.CharField(_("rekaman rusak terakhir"), max_length=500, blank=True)
    last_bad_record_at = models.DateTimeField(_("rekaman rusak terakhir pada"), null=True, blank=True)
    clock_skew_seconds = models.FloatField(_("selisih jam (detik)"), null=True, blank=True,
                                           help_text=_("Seberapa jauh di masa depan waktu kirim terakhir yang "
                                                       "dibatasi; kosong: jam umpan wajar."))  # until a sane one
    clock_skew_at = models.DateTimeField(_("selisih jam terlihat"), null=True, blank=True)
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

    def overdue(self, now: datetime | None = None) -> bool:
        """The last attempt is older than three poll intervals plus the poll deadline: the poller is stuck or
        gone, whatever the last attempt said."""
        if self.last_attempt_at is None:
            return False
        allowed = 3 * settings.POLL_INTERVAL_SECONDS + settings.POLL_DEADLINE_SECONDS
        return ((now or timezone.now()) - self.last_attempt_at).total_seconds() > allowed

    def status(self, now: datetime | None = None) -> str:
        """``new`` (never tried), ``failing``, ``degraded`` (overdue, bad records in the last document, or a
        clock that ran ahead) or ``ok``."""
        if self.last_attempt_at is None:
            return "new"
        if self.consecutive_failures:
            return "failing"
        if self.overdue(now) or self.last_bad_records or self.clock_skew_seconds is not None:
            return "degraded"
        return "ok"

    def problems(self, now: datetime | None = None) -> list[str]:
        """What is wrong with the feed now, in words for the desk."""
        found = []
        if self.consecutive_failures:
            found.append(self.last_error)
        if self.overdue(now):
            found.append(str(_("percobaan terakhir terlambat: poller macet atau berhenti")))
        if self.last_bad_records:
            found.append(str(_("%(n)d rekaman rusak pada dokumen terakhir: %(what)s")
                             % {"n": self.last_bad_records, "what": self.last_bad_record}))
        if self.clock_skew_seconds is not None:
            found.append(str(_("waktu kirim %(s).0f detik di masa depan (dibatasi ke sekarang)")
                             % {"s": self.clock_skew_seconds}))
        return found


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
    potential_known = models.BooleanField(_("kalimat potensi dikenal"), default=True)
    identifiers = models.JSONField(default=list)  # BMKG's names for it: shakemap:..., inatews:...
    variants = models.JSONField(default=list)  # [time, lat, lon, magnitude] of each record merged into it
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
    review = models.JSONField(_("perlu ditinjau"), default=list)  # reason codes a person should check
    reviewed_at = models.DateTimeField(_("ditinjau"), null=True, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", verbose_name=_("ditinjau oleh"))

    class Meta:
        verbose_name = _("kejadian gempa")
        verbose_name_plural = _("kejadian gempa")
        ordering = ["-origin_time"]

    def __str__(self) -> str:
        return f"M{self.magnitude:.1f} {self.region} ({self.key})"

    @property
    def needs_review(self) -> bool:
        return bool(self.review) and self.reviewed_at is None
