"""Public warnings: threads of CAP messages (Alert, Update, Cancel), drafts awaiting approval, deliveries.

An issued :class:`Alert` is immutable (the model refuses to save it twice, the admin is read-only); a change
is a new message in the same :class:`Thread`, referencing the one before. Each :class:`Delivery` is one
message for one target of one channel, with its attempts, last error and times; (alert, channel, target)
is unique, so nothing is sent twice for the same alert and target.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Display(models.TextChoices):
    NONE = "none", _("Tidak tampil di TV")
    TICKER = "ticker", _("Teks berjalan (bawah layar)")
    FULLSCREEN = "fullscreen", _("Layar penuh")


class Thread(models.Model):
    """One warning over its life: the first Alert, its Updates, and its Cancel."""

    key = models.CharField(_("kunci"), max_length=80, unique=True)
    hazard_event = models.ForeignKey("hazards.HazardEvent", on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="threads")
    origin = models.CharField(_("asal"), max_length=10, choices=[("bmkg", "BMKG"), ("manual", _("Manual"))])
    current = models.ForeignKey("Alert", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    active = models.BooleanField(_("aktif"), default=True, db_index=True)
    display = models.CharField(_("tampilan"), max_length=12, choices=Display.choices, default=Display.NONE)
    ews_level = models.CharField(_("level EWS"), max_length=8, blank=True)
    exercise = models.BooleanField(_("latihan"), default=False)
    expires_at = models.DateTimeField(_("berakhir"), null=True, blank=True)
    digest = models.CharField(max_length=300, blank=True)  # what the last automatic message said, in short
    held = models.BooleanField(_("ditahan supervisor"), default=False,
                               help_text=_("Setelah Update/Cancel oleh supervisor, perubahan otomatis dari BMKG "
                                           "hanya disiarkan bila lebih berat."))
    held_display = models.CharField(max_length=12, blank=True)
    held_level = models.CharField(max_length=8, blank=True)
    created_at = models.DateTimeField(_("dibuat"), default=timezone.now)
    updated_at = models.DateTimeField(_("diperbarui"), default=timezone.now)

    class Meta:
        verbose_name = _("rangkaian peringatan")
        verbose_name_plural = _("rangkaian peringatan")
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return self.key


class Alert(models.Model):
    """One issued CAP message. Never changed after it is saved."""

    thread = models.ForeignKey(Thread, on_delete=models.PROTECT, related_name="alerts")
    identifier = models.CharField(_("identifier CAP"), max_length=200, unique=True)
    sender = models.CharField(_("pengirim"), max_length=200)
    sent = models.DateTimeField(_("dikirim"), db_index=True)
    sent_text = models.CharField(max_length=32)  # exactly as in the XML: what references repeat
    status = models.CharField(_("status CAP"), max_length=10)
    msg_type = models.CharField(_("jenis pesan"), max_length=10)
    references = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    display = models.CharField(_("tampilan"), max_length=12, choices=Display.choices)
    ews_level = models.CharField(_("level EWS"), max_length=8, blank=True)
    event = models.CharField(_("kejadian"), max_length=120)
    headline = models.CharField(_("judul"), max_length=300)
    headline_en = models.CharField(_("judul (Inggris)"), max_length=300, blank=True)
    instruction = models.TextField(_("arahan"), blank=True)
    severity = models.CharField(_("keparahan"), max_length=10)
    urgency = models.CharField(_("urgensi"), max_length=10)
    expires = models.DateTimeField(_("berlaku sampai"), null=True, blank=True)
    area_codes = models.JSONField(_("kode wilayah"), default=list)  # Kemendagri codes of the kecamatan
    postcodes = models.JSONField(_("kode pos"), default=list)
    xml = models.TextField(_("CAP XML"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    created_at = models.DateTimeField(_("dibuat"), default=timezone.now)

    class Meta:
        verbose_name = _("pesan peringatan (CAP)")
        verbose_name_plural = _("pesan peringatan (CAP)")
        ordering = ["-sent", "-id"]

    def __str__(self) -> str:
        return f"{self.msg_type} {self.identifier}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not kwargs.pop("_allow_update", False):
            raise PermissionError("an issued alert is immutable; issue an Update or a Cancel instead")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("an issued alert is never deleted")

    @property
    def exercise(self) -> bool:
        return self.status == "Exercise"


class DraftStatus(models.TextChoices):
    DRAFT = "draft", _("Draf")
    SUBMITTED = "submitted", _("Menunggu persetujuan")
    APPROVED = "approved", _("Disetujui dan disiarkan")
    REJECTED = "rejected", _("Ditolak")


class Draft(models.Model):
    """A manual alert (flood, industrial chemical release, fire...): written by one user, approved by another."""

    HAZARDS = [
        ("banjir", _("Banjir")),
        ("kimia", _("Kebocoran gas / bahan kimia")),
        ("kebakaran", _("Kebakaran")),
        ("tsunami", _("Tsunami")),
        ("gempa", _("Gempa bumi")),
        ("longsor", _("Tanah longsor")),
        ("cuaca", _("Cuaca ekstrem")),
        ("lainnya", _("Lainnya")),
    ]
    hazard = models.CharField(_("bahaya"), max_length=12, choices=HAZARDS)
    thread = models.ForeignKey(Thread, on_delete=models.PROTECT, null=True, blank=True, related_name="drafts",
                               help_text=_("Kosong untuk peringatan baru; diisi untuk Update / Cancel."))
    msg_type = models.CharField(_("jenis pesan"), max_length=10, default="Alert",
                                choices=[("Alert", "Alert"), ("Update", "Update"), ("Cancel", "Cancel")])
    display = models.CharField(_("tampilan"), max_length=12, choices=Display.choices, default=Display.TICKER)
    severity = models.CharField(_("keparahan"), max_length=10, default="Severe")
    urgency = models.CharField(_("urgensi"), max_length=10, default="Immediate")
    certainty = models.CharField(_("kepastian"), max_length=10, default="Likely")
    response = models.CharField(_("tindakan"), max_length=10, default="Prepare")
    headline = models.CharField(_("judul"), max_length=200)
    description = models.TextField(_("uraian"))
    instruction = models.TextField(_("arahan"))
    headline_en = models.CharField(_("judul (Inggris)"), max_length=200, blank=True)
    description_en = models.TextField(_("uraian (Inggris)"), blank=True)
    instruction_en = models.TextField(_("arahan (Inggris)"), blank=True)
    area_codes = models.JSONField(_("kecamatan"), default=list)  # Kemendagri codes; empty = the whole city
    expires_hours = models.PositiveSmallIntegerField(_("berlaku (jam)"), default=6)
    exercise = models.BooleanField(_("latihan"), default=False)
    status = models.CharField(_("status"), max_length=10, choices=DraftStatus.choices, default=DraftStatus.DRAFT,
                              db_index=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    approver = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+")
    decision_note = models.CharField(_("catatan keputusan"), max_length=300, blank=True)
    alert = models.OneToOneField(Alert, on_delete=models.PROTECT, null=True, blank=True, related_name="draft")
    created_at = models.DateTimeField(_("dibuat"), default=timezone.now)
    submitted_at = models.DateTimeField(_("diajukan"), null=True, blank=True)
    decided_at = models.DateTimeField(_("diputuskan"), null=True, blank=True)

    class Meta:
        verbose_name = _("draf peringatan")
        verbose_name_plural = _("draf peringatan")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_hazard_display()}: {self.headline}"


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", _("Antre")
    SENDING = "sending", _("Sedang dikirim")
    SENT = "sent", _("Terkirim")
    RETRYING = "retrying", _("Akan dicoba lagi")
    GAVE_UP = "gave_up", _("Gagal (berhenti mencoba)")
    SUPERSEDED = "superseded", _("Tidak dikirim: sudah ada pesan lebih baru")


class Delivery(models.Model):
    """One message to one target of one channel."""

    alert = models.ForeignKey(Alert, on_delete=models.PROTECT, related_name="deliveries")
    channel = models.CharField(_("kanal"), max_length=16, db_index=True)
    target = models.CharField(_("tujuan"), max_length=300)
    status = models.CharField(_("status"), max_length=10, choices=DeliveryStatus.choices,
                              default=DeliveryStatus.QUEUED, db_index=True)
    attempts = models.PositiveSmallIntegerField(_("percobaan"), default=0)
    last_error = models.CharField(_("galat terakhir"), max_length=500, blank=True)
    next_attempt_at = models.DateTimeField(_("percobaan berikutnya"), default=timezone.now, db_index=True)
    lease_until = models.DateTimeField(_("dipegang sampai"), null=True, blank=True)
    created_at = models.DateTimeField(_("dibuat"), default=timezone.now)
    first_attempt_at = models.DateTimeField(_("percobaan pertama"), null=True, blank=True)
    sent_at = models.DateTimeField(_("terkirim"), null=True, blank=True)
    result = models.JSONField(_("hasil"), default=dict, blank=True)  # e.g. the WAV path, the MQTT message id

    class Meta:
        verbose_name = _("pengiriman peringatan")
        verbose_name_plural = _("pengiriman peringatan")
        ordering = ["-created_at", "channel", "target"]
        constraints = [models.UniqueConstraint(fields=["alert", "channel", "target"], name="uniq_alert_delivery")]

    def __str__(self) -> str:
        return f"{self.channel}:{self.target} ({self.status})"


class DeliveryAttempt(models.Model):
    """One try of a delivery, as it went: kept for every try (the delivery keeps only the summary)."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_rows")
    number = models.PositiveSmallIntegerField(_("ke-"))
    at = models.DateTimeField(_("waktu"), default=timezone.now)
    ok = models.BooleanField(_("berhasil"), default=False)
    error = models.CharField(_("galat"), max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(_("durasi (ms)"), default=0)
    result = models.JSONField(_("hasil"), default=dict, blank=True)

    class Meta:
        verbose_name = _("percobaan pengiriman peringatan")
        verbose_name_plural = _("percobaan pengiriman peringatan")
        ordering = ["delivery", "number"]
        constraints = [models.UniqueConstraint(fields=["delivery", "number"], name="uniq_alert_attempt_number")]

    def __str__(self) -> str:
        return f"#{self.number} {'ok' if self.ok else self.error[:40]}"


class ExternalAlert(models.Model):
    """A CAP message from another sender (e.g. BMKG nowcasts for Banten), shown in the command centre."""

    identifier = models.CharField(max_length=300)
    sender = models.CharField(max_length=300)
    sent = models.DateTimeField(db_index=True)
    status = models.CharField(max_length=10)
    msg_type = models.CharField(max_length=10)
    event = models.CharField(_("kejadian"), max_length=200, blank=True)
    headline = models.CharField(_("judul"), max_length=500, blank=True)
    severity = models.CharField(max_length=10, blank=True)
    urgency = models.CharField(max_length=10, blank=True)
    area_desc = models.CharField(_("wilayah"), max_length=500, blank=True)
    expires = models.DateTimeField(null=True, blank=True)
    valid = models.BooleanField(_("CAP 1.2 sah"), default=True)
    problems = models.JSONField(default=list)
    signature = models.CharField(_("tanda tangan"), max_length=8, default="unsigned",
                                 choices=[("unsigned", _("Tanpa tanda tangan")), ("valid", _("Bertanda tangan, sah")),
                                          ("invalid", _("Bertanda tangan, TIDAK sah"))])
    signature_detail = models.CharField(_("keterangan tanda tangan"), max_length=300, blank=True)
    signer = models.CharField(_("penanda tangan"), max_length=300, blank=True)
    signer_trusted = models.BooleanField(_("penanda tangan dipercaya"), default=False)
    xml = models.TextField()
    feed = models.ForeignKey("hazards.Feed", on_delete=models.SET_NULL, null=True, blank=True)
    source_url = models.URLField(max_length=500, blank=True, db_index=True)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("peringatan eksternal (CAP)")
        verbose_name_plural = _("peringatan eksternal (CAP)")
        ordering = ["-sent"]
        constraints = [models.UniqueConstraint(fields=["sender", "identifier"], name="uniq_external_cap")]

    def __str__(self) -> str:
        return f"{self.sender}: {self.headline or self.event}"
