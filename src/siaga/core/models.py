"""Regions, agencies, people and machines that act, and the append-only audit log."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Region(models.Model):
    """An administrative area with its codes and its boundary as GeoJSON (lon/lat)."""

    code = models.CharField(_("kode Kemendagri"), max_length=20, unique=True)
    bps_code = models.CharField(_("kode BPS"), max_length=20, blank=True)
    name = models.CharField(_("nama"), max_length=100)
    geometry = models.JSONField(_("batas wilayah (GeoJSON)"))
    bbox = models.JSONField(_("kotak batas"), default=list)
    centroid_lat = models.FloatField(_("lintang pusat"))
    centroid_lon = models.FloatField(_("bujur pusat"))
    source = models.CharField(_("sumber data"), max_length=200, blank=True)

    class Meta:
        abstract = True
        ordering = ["code"]


class Kecamatan(Region):
    """A district (kecamatan) of the city."""

    class Meta(Region.Meta):
        verbose_name = _("kecamatan")
        verbose_name_plural = _("kecamatan")

    def __str__(self) -> str:
        return self.name


class Kelurahan(Region):
    """A village-level area (kelurahan) with its postcode."""

    kecamatan = models.ForeignKey(Kecamatan, on_delete=models.PROTECT, related_name="kelurahan",
                                  verbose_name=_("kecamatan"))
    postcode = models.CharField(_("kode pos"), max_length=5)

    class Meta(Region.Meta):
        verbose_name = _("kelurahan")
        verbose_name_plural = _("kelurahan")

    def __str__(self) -> str:
        return f"{self.name}, {self.kecamatan.name}"


class Agency(models.Model):
    """An agency that receives dispatches (Damkar, Polres, PSC 119, BPBD, ...)."""

    code = models.SlugField(_("kode"), max_length=20, unique=True)
    name = models.CharField(_("nama"), max_length=200)
    short_name = models.CharField(_("nama singkat"), max_length=50)
    phone = models.CharField(_("telepon"), max_length=40, blank=True)
    email = models.EmailField(_("surel"), blank=True)
    active = models.BooleanField(_("aktif"), default=True)
    notes = models.TextField(_("catatan"), blank=True)

    class Meta:
        verbose_name = _("instansi")
        verbose_name_plural = _("instansi")
        ordering = ["short_name"]

    def __str__(self) -> str:
        return self.short_name


class UserProfile(models.Model):
    """What Siaga112 needs to know about a user beyond Django's: agency, PBX extension."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="siaga_profile")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, null=True, blank=True, related_name="members",
                               verbose_name=_("instansi"),
                               help_text=_("Wajib untuk peran instansi: pengguna hanya melihat instansinya."))
    extension = models.CharField(_("ekstensi / agen PBX"), max_length=64, null=True, blank=True, unique=True,
                                 help_text=_("Nama agen yang dikirim PBX saat panggilan dijawab."))
    ring_muted = models.BooleanField(_("bunyi dering dimatikan"), default=False,
                                     help_text=_("Konsol operator tidak membunyikan panggilan masuk (kedip dan judul "
                                                 "tab tetap)."))

    class Meta:
        verbose_name = _("profil pengguna")
        verbose_name_plural = _("profil pengguna")

    def __str__(self) -> str:
        return str(self.user)


def hash_token(token: str) -> str:
    """Tokens are stored as SHA-256: a leaked database does not leak working tokens."""
    return hashlib.sha256(token.encode()).hexdigest()


class ApiToken(models.Model):
    """A bearer token for a user (``sgu_...``), for scripts and other command-centre systems."""

    PREFIX = "sgu_"
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("nama"), max_length=100)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    hint = models.CharField(_("awal token"), max_length=12, editable=False)
    created_at = models.DateTimeField(_("dibuat"), default=timezone.now)
    expires_at = models.DateTimeField(_("kedaluwarsa"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("dicabut"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("terakhir dipakai"), null=True, blank=True)

    class Meta:
        verbose_name = _("token API")
        verbose_name_plural = _("token API")

    def __str__(self) -> str:
        return f"{self.name} ({self.hint}…)"

    @classmethod
    def issue(cls, user: Any, name: str, expires_at: Any = None) -> tuple[ApiToken, str]:
        """Create a token; the clear text is returned once and never stored."""
        key = cls.PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(user=user, name=name, key_hash=hash_token(key), hint=key[:12],
                                   expires_at=expires_at)
        return token, key

    def usable(self, now: Any = None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class Integration(models.Model):
    """A machine that posts to Siaga112: a PBX (CTI events) or an AML location provider.

    It authenticates with a bearer token (``sgi_...``, stored hashed) or with an HMAC signature made
    with ``hmac_secret`` (which must be stored in clear to verify; keep the database private).
    """

    class Kind(models.TextChoices):
        PBX = "pbx", _("PBX / CTI")
        AML = "aml", _("Penyedia lokasi AML")
        MONITOR = "monitor", _("Pemantauan (Prometheus)")
        PARTNER = "partner", _("Mitra pusat komando (EIDO)")

    PREFIX = "sgi_"
    name = models.SlugField(_("nama"), max_length=64, unique=True)
    kind = models.CharField(_("jenis"), max_length=8, choices=Kind.choices)
    description = models.CharField(_("keterangan"), max_length=200, blank=True)
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    hmac_secret = models.CharField(_("rahasia HMAC"), max_length=128, blank=True)
    active = models.BooleanField(_("aktif"), default=True)
    created_at = models.DateTimeField(_("dibuat"), default=timezone.now)

    class Meta:
        verbose_name = _("integrasi")
        verbose_name_plural = _("integrasi")

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.name}"

    def rotate_token(self) -> str:
        key = self.PREFIX + secrets.token_urlsafe(32)
        self.token_hash = hash_token(key)
        self.save(update_fields=["token_hash"])
        return key


class EvacuationSite(models.Model):
    """A tsunami evacuation site the city has announced. Its position is entered by the city; until then it
    is listed but not drawn (positions are never guessed)."""

    class Kind(models.TextChoices):
        TEMPORARY = "temporary", _("Tempat evakuasi sementara")
        FINAL = "final", _("Titik evakuasi akhir")
        ASSEMBLY = "assembly", _("Titik kumpul")
        EVACUATION = "evacuation", _("Lokasi evakuasi")

    name = models.CharField(_("nama"), max_length=200, unique=True)
    kind = models.CharField(_("jenis"), max_length=12, choices=Kind.choices)
    area = models.CharField(_("wilayah / akses"), max_length=200, blank=True)
    lat = models.FloatField(_("lintang"), null=True, blank=True)
    lon = models.FloatField(_("bujur"), null=True, blank=True)
    capacity = models.PositiveIntegerField(_("kapasitas (orang)"), null=True, blank=True)
    source = models.URLField(_("sumber"), max_length=300, blank=True)
    notes = models.TextField(_("catatan"), blank=True)

    class Meta:
        verbose_name = _("tempat evakuasi tsunami")
        verbose_name_plural = _("tempat evakuasi tsunami")
        ordering = ["kind", "name"]
        constraints = [
            models.CheckConstraint(condition=models.Q(lat__isnull=True, lon__isnull=True)
                                   | models.Q(lat__gte=-90, lat__lte=90, lon__gte=-180, lon__lte=180),
                                   name="evacuation_site_position"),
        ]

    def __str__(self) -> str:
        return self.name


class EvacuationRoute(models.Model):
    """A tsunami evacuation route; its line (GeoJSON LineString, lon/lat) is drawn by the city."""

    name = models.CharField(_("nama"), max_length=200, unique=True)
    area = models.CharField(_("wilayah"), max_length=200, blank=True)
    geometry = models.JSONField(_("garis (GeoJSON LineString)"), null=True, blank=True)
    source = models.URLField(_("sumber"), max_length=300, blank=True)
    notes = models.TextField(_("catatan"), blank=True)

    class Meta:
        verbose_name = _("jalur evakuasi tsunami")
        verbose_name_plural = _("jalur evakuasi tsunami")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        geometry = self.geometry
        if geometry in (None, ""):
            return
        coords = geometry.get("coordinates") if isinstance(geometry, dict) else None
        if not isinstance(geometry, dict) or geometry.get("type") != "LineString" or not isinstance(coords, list) \
                or len(coords) < 2:
            raise ValidationError({"geometry": _("Harus GeoJSON LineString dengan minimal 2 titik [bujur, lintang].")})
        for point in coords:
            if (not isinstance(point, list) or len(point) < 2 or not all(isinstance(v, (int, float)) for v in point[:2])
                    or not (-180 <= point[0] <= 180 and -90 <= point[1] <= 90)):
                raise ValidationError({"geometry": _("Titik %(point)s bukan [bujur, lintang] yang sah.")
                                       % {"point": point}})


class UserPresence(models.Model):
    """When a user was last seen (a page, an API call, a live stream): the wall's "who is on duty"."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="presence")
    last_seen = models.DateTimeField(_("terakhir terlihat"), db_index=True)
    last_path = models.CharField(_("halaman terakhir"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("kehadiran pengguna")
        verbose_name_plural = _("kehadiran pengguna")

    def __str__(self) -> str:
        return f"{self.user} @ {self.last_seen:%H:%M}"


class AuditQuerySet(models.QuerySet["AuditLog"]):
    def update(self, **kwargs: Any) -> int:
        raise PermissionError("the audit log is append-only: rows cannot be updated")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("the audit log is append-only: rows cannot be deleted")


class AuditLog(models.Model):
    """One row per write: who, when, what, and the object before and after.

    Append-only: the model, its queryset and the admin refuse changes and deletions, and a database
    trigger refuses UPDATE (and DELETE on PostgreSQL), so not even a raw query through the application
    can rewrite history. The actor is kept both as a link and as text, so the row stays readable.
    """

    at = models.DateTimeField(_("waktu"), default=timezone.now, db_index=True)
    actor_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("pengguna"))
    actor = models.CharField(_("pelaku"), max_length=100)
    action = models.CharField(_("tindakan"), max_length=64, db_index=True)
    object_type = models.CharField(_("jenis objek"), max_length=64)
    object_id = models.CharField(_("id objek"), max_length=64)
    before = models.JSONField(_("sebelum"), null=True, blank=True)
    after = models.JSONField(_("sesudah"), null=True, blank=True)
    note = models.CharField(_("catatan"), max_length=500, blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        verbose_name = _("log audit")
        verbose_name_plural = _("log audit")
        ordering = ["-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor} {self.action} {self.object_type}#{self.object_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise PermissionError("the audit log is append-only: rows cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("the audit log is append-only: rows cannot be deleted")


class AppendOnlyQuerySet(models.QuerySet[Any]):
    def update(self, **kwargs: Any) -> int:
        raise PermissionError("the audit chain is append-only: seals cannot be updated")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("the audit chain is append-only: seals cannot be deleted")


class AuditSeal(models.Model):
    """One link of the audit log's hash chain: ``hash`` = SHA-256 of the previous seal's hash and the sealed
    row's content (see :mod:`siaga.core.auditchain`). Seals are added in commit order shortly after each
    audited transaction commits; a row changed or removed after it was sealed, or a seal removed, breaks the
    chain where ``siaga audit verify`` can see it. Append-only like the audit log.
    """

    audit = models.OneToOneField(AuditLog, on_delete=models.PROTECT, related_name="seal",
                                 verbose_name=_("baris audit"))
    prev_hash = models.CharField(_("hash sebelumnya"), max_length=64, blank=True)
    hash = models.CharField(_("hash"), max_length=64)
    sealed_at = models.DateTimeField(_("disegel"), default=timezone.now)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("segel audit")
        verbose_name_plural = _("segel audit")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.pk} audit#{self.audit_id} {self.hash[:12]}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise PermissionError("the audit chain is append-only: seals cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("the audit chain is append-only: seals cannot be deleted")


class AuditChainHead(models.Model):
    """The end of the chain: its last hash and length. Locked while seals are added, so there is one chain."""

    name = models.CharField(max_length=20, unique=True, default="default")
    last_hash = models.CharField(max_length=64, blank=True)
    seals = models.PositiveBigIntegerField(default=0)
    last_audit_id = models.BigIntegerField(default=0)  # every audit row above this id is unsealed
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("ujung rantai audit")
        verbose_name_plural = _("ujung rantai audit")

    def __str__(self) -> str:
        return f"{self.seals} {self.last_hash[:12]}"


class Lease(models.Model):
    """Who runs a piece of work that must run once among all nodes (the EWS carousel, the hazard pollers).

    A node holds a lease until ``expires_at`` and renews it well before; another node takes it over only
    once it has expired. ``generation`` counts the changes of holder, so work can tell a takeover from a
    renewal. Times are the database's clock, the one clock all nodes share (siaga.core.leases).
    """

    name = models.CharField(max_length=64, primary_key=True)
    holder = models.CharField(max_length=200, blank=True, default="")
    generation = models.BigIntegerField(default=0)
    acquired_at = models.DateTimeField(null=True, blank=True)
    renewed_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()

    class Meta:
        verbose_name = _("hak menjalankan peran")

    def __str__(self) -> str:
        return f"{self.name}: {self.holder or '-'} (generation {self.generation})"
