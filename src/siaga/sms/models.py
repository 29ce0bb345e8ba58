"""SMS: who gets warnings by SMS, which crews work dispatches by SMS, every message out and in.

A :class:`Message` is one SMS to one number, one try: a warning to a subscriber (tied to the alert's
delivery row), a dispatch to a crew, or a reply to a message that came in. The gateway's delivery reports
move its status on (handed to the gateway, accepted by the operator's SMSC, delivered to the phone, or
failed); a retry is a new row. An :class:`Inbound` is one SMS that came in, kept once however often the
gateway posts it, with what it did.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SubscriberKind(models.TextChoices):
    RESIDENT = "warga", _("Warga")
    RT_RW = "rtrw", _("Ketua RT/RW")
    SIREN = "sirine", _("Penjaga sirene")
    OFFICIAL = "pejabat", _("Pejabat")


class Subscriber(models.Model):
    """A number that gets the city's warnings for its kecamatan (or its kelurahan's kecamatan)."""

    phone = models.CharField(_("nomor (E.164)"), max_length=16, unique=True)
    name = models.CharField(_("nama"), max_length=100, blank=True)
    kind = models.CharField(_("jenis"), max_length=8, choices=SubscriberKind.choices, default=SubscriberKind.RESIDENT)
    kecamatan = models.ForeignKey("core.Kecamatan", on_delete=models.PROTECT, related_name="+",
                                  verbose_name=_("kecamatan"))
    kelurahan = models.ForeignKey("core.Kelurahan", on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+", verbose_name=_("kelurahan"))
    active = models.BooleanField(_("aktif"), default=True, db_index=True)
    source = models.CharField(_("sumber"), max_length=8, default="admin",
                              choices=[("admin", _("Admin")), ("csv", _("Impor CSV")), ("sms", _("SMS DAFTAR"))])
    created_at = models.DateTimeField(_("terdaftar"), default=timezone.now)
    updated_at = models.DateTimeField(_("diubah"), default=timezone.now)
    stopped_at = models.DateTimeField(_("berhenti"), null=True, blank=True)

    class Meta:
        verbose_name = _("pelanggan SMS peringatan")
        verbose_name_plural = _("pelanggan SMS peringatan")
        ordering = ["kecamatan", "phone"]
        indexes = [models.Index(fields=["kecamatan", "active"], name="sms_subscriber_area")]

    def __str__(self) -> str:
        return f"{self.phone} ({self.name or self.get_kind_display()})"


class CrewMember(models.Model):
    """A crew's number: it gets its agency's dispatches and may answer them by SMS."""

    agency = models.ForeignKey("core.Agency", on_delete=models.PROTECT, related_name="crew_phones",
                               verbose_name=_("instansi"))
    phone = models.CharField(_("nomor (E.164)"), max_length=16, unique=True)
    name = models.CharField(_("nama / unit"), max_length=100)
    active = models.BooleanField(_("aktif"), default=True)
    created_at = models.DateTimeField(_("dibuat"), default=timezone.now)

    class Meta:
        verbose_name = _("nomor petugas")
        verbose_name_plural = _("nomor petugas")
        ordering = ["agency", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.phone})"


class Purpose(models.TextChoices):
    ALERT = "alert", _("Peringatan")
    DISPATCH = "dispatch", _("Penugasan")
    REPLY = "reply", _("Balasan")


class MessageStatus(models.TextChoices):
    QUEUED = "queued", _("Antre")
    SUBMITTED = "submitted", _("Diserahkan ke gateway")
    REFUSED = "refused", _("Ditolak gateway")
    ACCEPTED = "accepted", _("Diterima SMSC")
    DELIVERED = "delivered", _("Sampai di ponsel")
    FAILED = "failed", _("Gagal terkirim")


FINAL = (MessageStatus.REFUSED, MessageStatus.DELIVERED, MessageStatus.FAILED)


class Message(models.Model):
    """One SMS to one number, one try."""

    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)  # names it in delivery reports
    purpose = models.CharField(_("keperluan"), max_length=8, choices=Purpose.choices, db_index=True)
    to = models.CharField(_("ke"), max_length=16, db_index=True)
    text = models.TextField(_("isi"))
    encoding = models.CharField(_("pengodean"), max_length=4, default="gsm7")
    parts = models.PositiveSmallIntegerField(_("bagian"), default=1)
    attempt = models.PositiveSmallIntegerField(_("percobaan ke-"), default=1)
    delivery = models.ForeignKey("alerts.Delivery", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="sms_messages")
    dispatch = models.ForeignKey("incidents.Dispatch", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="sms_messages")
    reply_to = models.ForeignKey("Inbound", on_delete=models.PROTECT, null=True, blank=True, related_name="replies")
    status = models.CharField(_("status"), max_length=10, choices=MessageStatus.choices,
                              default=MessageStatus.QUEUED, db_index=True)
    answer = models.CharField(_("jawaban gateway"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("dibuat"), default=timezone.now, db_index=True)
    due_at = models.DateTimeField(_("dikirim paling cepat"), default=timezone.now)
    submitted_at = models.DateTimeField(_("diserahkan"), null=True, blank=True)
    reported_at = models.DateTimeField(_("laporan terakhir"), null=True, blank=True)
    reports = models.JSONField(_("laporan pengiriman"), default=list, blank=True)

    class Meta:
        verbose_name = _("SMS keluar")
        verbose_name_plural = _("SMS keluar")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "due_at"], name="sms_message_due")]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} -> {self.to} ({self.status})"


class Inbound(models.Model):
    """One SMS that came in through the gateway, and what it did."""

    gateway_id = models.CharField(_("id gateway"), max_length=64, unique=True)
    sender = models.CharField(_("dari"), max_length=40)
    phone = models.CharField(_("dari (E.164)"), max_length=16, blank=True, db_index=True)
    receiver = models.CharField(_("ke"), max_length=40, blank=True)
    text = models.CharField(_("isi"), max_length=1000)
    received_at = models.DateTimeField(_("diterima"), default=timezone.now, db_index=True)
    outcome = models.CharField(_("hasil"), max_length=24, blank=True)
    detail = models.CharField(_("keterangan"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("SMS masuk")
        verbose_name_plural = _("SMS masuk")
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.sender}: {self.text[:40]}"


def _place_code() -> str:
    import secrets

    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"  # nothing a crew could misread on a small screen (0/o, 1/l)
    return "".join(secrets.choice(alphabet) for _ in range(8))


class PlaceLink(models.Model):
    """The public page of a dispatch's place, for a short link in an SMS: the place and nothing personal
    (no name, number or description), open for ``SIAGA_SMS_PLACE_LINK_DAYS``."""

    code = models.CharField(max_length=12, unique=True, default=_place_code)
    dispatch = models.ForeignKey("incidents.Dispatch", on_delete=models.CASCADE, related_name="place_links")
    lat = models.FloatField(null=True, blank=True)
    lon = models.FloatField(null=True, blank=True)
    place = models.CharField(_("tempat"), max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    class Meta:
        verbose_name = _("tautan lokasi")
        verbose_name_plural = _("tautan lokasi")

    def __str__(self) -> str:
        return self.code
