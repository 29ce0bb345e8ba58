"""Incident categories, incidents with their timeline, and dispatches to agencies."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from siaga.core.models import Agency, Kecamatan, Kelurahan


class Priority(models.IntegerChoices):
    CRITICAL = 1, _("P1 Kritis")
    HIGH = 2, _("P2 Tinggi")
    MEDIUM = 3, _("P3 Sedang")
    LOW = 4, _("P4 Rendah")


class Category(models.Model):
    """What kind of emergency; brings a default priority and the agencies usually sent."""

    code = models.SlugField(_("kode"), max_length=40, unique=True)
    name = models.CharField(_("nama"), max_length=100)
    name_en = models.CharField(_("nama (Inggris)"), max_length=100, blank=True)
    default_priority = models.PositiveSmallIntegerField(_("prioritas bawaan"), choices=Priority.choices,
                                                        default=Priority.MEDIUM)
    default_agencies = models.ManyToManyField(Agency, blank=True, related_name="categories",
                                              verbose_name=_("instansi bawaan"))
    sort_order = models.PositiveSmallIntegerField(_("urutan"), default=100)
    active = models.BooleanField(_("aktif"), default=True)

    class Meta:
        verbose_name = _("kategori kejadian")
        verbose_name_plural = _("kategori kejadian")
        ordering = ["sort_order", "name"]

    def __str__(self) -> str:
        return self.name


class IncidentStatus(models.TextChoices):
    NEW = "new", _("Baru")
    VERIFIED = "verified", _("Terverifikasi")
    DISPATCHED = "dispatched", _("Diteruskan ke instansi")
    ON_SCENE = "on_scene", _("Petugas di lokasi")
    RESOLVED = "resolved", _("Tertangani")
    CLOSED = "closed", _("Ditutup")
    CANCELLED = "cancelled", _("Dibatalkan")
    DUPLICATE = "duplicate", _("Duplikat")


OPEN_STATUSES = (IncidentStatus.NEW, IncidentStatus.VERIFIED, IncidentStatus.DISPATCHED,
                 IncidentStatus.ON_SCENE, IncidentStatus.RESOLVED)


class TicketCounter(models.Model):
    """The last ticket number issued per prefix and year (``CLG-2026-000123``)."""

    prefix = models.CharField(max_length=10)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["prefix", "year"], name="uniq_ticket_counter")]

    def __str__(self) -> str:
        return f"{self.prefix}-{self.year}: {self.last}"


class Incident(models.Model):
    """A real emergency being handled: from the first report to closure."""

    ticket = models.CharField(_("nomor tiket"), max_length=24, unique=True, editable=False)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="incidents",
                                 verbose_name=_("kategori"))
    priority = models.PositiveSmallIntegerField(_("prioritas"), choices=Priority.choices)
    status = models.CharField(_("status"), max_length=12, choices=IncidentStatus.choices,
                              default=IncidentStatus.NEW, db_index=True)
    description = models.TextField(_("uraian"), blank=True)
    lat = models.FloatField(_("lintang"), null=True, blank=True)
    lon = models.FloatField(_("bujur"), null=True, blank=True)
    location_accuracy_m = models.FloatField(_("akurasi lokasi (m)"), null=True, blank=True)
    location_source = models.CharField(_("sumber lokasi"), max_length=12, blank=True)
    address = models.CharField(_("alamat"), max_length=300, blank=True)
    kelurahan = models.ForeignKey(Kelurahan, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="incidents", verbose_name=_("kelurahan"))
    kecamatan = models.ForeignKey(Kecamatan, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="incidents", verbose_name=_("kecamatan"))
    reporter_name = models.CharField(_("nama pelapor"), max_length=100, blank=True)
    reporter_phone = models.CharField(_("telepon pelapor"), max_length=32, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("dibuat oleh"))
    created_at = models.DateTimeField(_("dibuat"), default=timezone.now, db_index=True)
    shift = models.ForeignKey("shifts.Shift", on_delete=models.PROTECT, null=True, blank=True,
                              related_name="incidents", verbose_name=_("shift"))
    updated_at = models.DateTimeField(_("diperbarui"), auto_now=True)
    verified_at = models.DateTimeField(_("diverifikasi"), null=True, blank=True)
    dispatched_at = models.DateTimeField(_("pertama diteruskan"), null=True, blank=True)
    on_scene_at = models.DateTimeField(_("pertama di lokasi"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("tertangani"), null=True, blank=True)
    closed_at = models.DateTimeField(_("ditutup"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("dibatalkan"), null=True, blank=True)
    duplicate_of = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="duplicates", verbose_name=_("duplikat dari"))
    eido_tracking_id = models.CharField(_("ID pelacakan EIDO"), max_length=200, null=True, blank=True, unique=True,
                                        help_text=_("Kejadian yang diserahkan sistem mitra: ID pelacakan mereka."))
    eido_partner = models.ForeignKey("core.Integration", on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+", verbose_name=_("mitra EIDO"))
    client_ref = models.CharField(_("kunci idempoten"), max_length=64, null=True, blank=True, unique=True,
                                  help_text=_("Dikirim klien; pembuatan ulang dengan kunci sama mengembalikan "
                                              "kejadian yang sama."))

    class Meta:
        verbose_name = _("kejadian")
        verbose_name_plural = _("kejadian")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(lat__isnull=True) | Q(lat__gte=-90, lat__lte=90),
                                   name="incident_lat_range"),
            models.CheckConstraint(condition=Q(lon__isnull=True) | Q(lon__gte=-180, lon__lte=180),
                                   name="incident_lon_range"),
        ]

    def __str__(self) -> str:
        return self.ticket

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class IncidentEvent(models.Model):
    """One line of an incident's timeline (status changes, dispatch steps, notes)."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="timeline")
    at = models.DateTimeField(_("waktu"), default=timezone.now)
    kind = models.CharField(_("jenis"), max_length=32)
    actor = models.CharField(_("pelaku"), max_length=100)
    message = models.TextField(_("pesan"), blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)

    class Meta:
        verbose_name = _("riwayat kejadian")
        verbose_name_plural = _("riwayat kejadian")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind}: {self.message[:60]}"


class DispatchStatus(models.TextChoices):
    REQUESTED = "requested", _("Diminta")
    ACKNOWLEDGED = "acknowledged", _("Diterima instansi")
    EN_ROUTE = "en_route", _("Dalam perjalanan")
    ON_SCENE = "on_scene", _("Di lokasi")
    COMPLETED = "completed", _("Selesai")
    DECLINED = "declined", _("Ditolak")
    CANCELLED = "cancelled", _("Ditarik")


ACTIVE_DISPATCH = (DispatchStatus.REQUESTED, DispatchStatus.ACKNOWLEDGED, DispatchStatus.EN_ROUTE,
                   DispatchStatus.ON_SCENE)


class Dispatch(models.Model):
    """An incident sent to one agency (optionally one named unit), and its progress."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="dispatches",
                                 verbose_name=_("kejadian"))
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="dispatches",
                               verbose_name=_("instansi"))
    unit_name = models.CharField(_("unit"), max_length=100, blank=True, default="")
    status = models.CharField(_("status"), max_length=12, choices=DispatchStatus.choices,
                              default=DispatchStatus.REQUESTED, db_index=True)
    requested_at = models.DateTimeField(_("diminta"), default=timezone.now)
    acknowledged_at = models.DateTimeField(_("diterima"), null=True, blank=True)
    en_route_at = models.DateTimeField(_("berangkat"), null=True, blank=True)
    on_scene_at = models.DateTimeField(_("tiba di lokasi"), null=True, blank=True)
    completed_at = models.DateTimeField(_("selesai"), null=True, blank=True)
    declined_at = models.DateTimeField(_("ditolak"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("ditarik"), null=True, blank=True)
    reason = models.CharField(_("alasan"), max_length=300, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                     blank=True, related_name="+", verbose_name=_("diminta oleh"))
    sms_steps = models.JSONField(_("langkah lewat SMS"), default=list, blank=True,
                                 help_text=_("Status yang dilaporkan petugas lewat SMS."))

    class Meta:
        verbose_name = _("penugasan")
        verbose_name_plural = _("penugasan")
        ordering = ["requested_at", "id"]
        constraints = [
            # One active dispatch per agency and unit: repeating a dispatch returns the same one.
            models.UniqueConstraint(
                fields=["incident", "agency", "unit_name"],
                condition=Q(status__in=["requested", "acknowledged", "en_route", "on_scene"]),
                name="uniq_active_dispatch",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.incident.ticket} → {self.agency}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_DISPATCH


class EidoMapping(models.Model):
    """How a partner's words for an incident type or an agency map to ours (an admin keeps this table).

    ``external`` is what the partner's EIDO says: its incident type code (``incidentTypeInternalCode``) or
    NENA registry text, or an agency component's ``$id``. A row without a partner holds for every partner.
    """

    class Kind(models.TextChoices):
        CATEGORY = "category", _("Kategori kejadian")
        AGENCY = "agency", _("Instansi")

    kind = models.CharField(_("jenis"), max_length=8, choices=Kind.choices)
    partner = models.ForeignKey("core.Integration", on_delete=models.CASCADE, null=True, blank=True,
                                related_name="+", verbose_name=_("mitra"),
                                help_text=_("Kosong: berlaku untuk semua mitra."))
    external = models.CharField(_("istilah mitra"), max_length=200)
    local = models.CharField(_("kode di Siaga112"), max_length=40,
                             help_text=_("Kode kategori atau kode instansi Siaga112."))

    class Meta:
        verbose_name = _("pemetaan EIDO")
        verbose_name_plural = _("pemetaan EIDO")
        constraints = [models.UniqueConstraint(fields=["kind", "partner", "external"], name="uniq_eido_mapping")]

    def __str__(self) -> str:
        return f"{self.external} -> {self.local}"
