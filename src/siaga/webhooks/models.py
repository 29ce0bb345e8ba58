"""Outbound webhooks to other command-centre systems: subscriptions, deliveries, and every attempt."""

from __future__ import annotations

import secrets
import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def _secret() -> str:
    return secrets.token_hex(32)


class Webhook(models.Model):
    """A receiver: its URL, the topics it wants (prefixes) and the secret that signs what it gets."""

    name = models.CharField(_("nama"), max_length=100, unique=True)
    url = models.URLField(_("URL"), max_length=500)
    secret = models.CharField(_("rahasia HMAC"), max_length=128, default=_secret)
    topics = models.CharField(_("topik"), max_length=300, default="incident.,dispatch.",
                              help_text=_("Awalan topik, dipisah koma (mis. incident.,dispatch.)."))
    active = models.BooleanField(_("aktif"), default=True)
    created_at = models.DateTimeField(_("dibuat"), default=timezone.now)
    format = models.CharField(_("isi"), max_length=8, default="event",
                              choices=[("event", _("Peristiwa Siaga112 (dengan EIDO di dalamnya)")),
                                       ("eido", _("Dokumen EIDO saja (untuk POST /api/v1/eido mitra)"))])
    partner_name = models.CharField(
        _("nama kita di sisi mitra"), max_length=64, blank=True,
        help_text=_("Dikirim sebagai X-Siaga-Integration: nama integrasi yang dibuat mitra untuk kita (rahasia "
                    "HMAC webhook ini = rahasianya)."))
    partner = models.ForeignKey("core.Integration", on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="+", verbose_name=_("mitra di sini"),
                                help_text=_("Integrasi mitra yang sama di sistem ini: perubahan yang datang darinya "
                                            "tidak dikirim balik kepadanya."))

    class Meta:
        verbose_name = _("webhook")
        verbose_name_plural = _("webhook")

    def __str__(self) -> str:
        return self.name

    def prefixes(self) -> tuple[str, ...]:
        return tuple(p.strip() for p in self.topics.split(",") if p.strip())


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Menunggu")
    SENDING = "sending", _("Sedang dikirim")
    DELIVERED = "delivered", _("Terkirim")
    RETRYING = "retrying", _("Akan dicoba lagi")
    GAVE_UP = "gave_up", _("Gagal (berhenti mencoba)")


class Delivery(models.Model):
    """One event for one webhook: sent until the receiver answers 2xx, tried again by the outbox's policy."""

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.UUIDField(_("ID peristiwa"), default=uuid.uuid4, editable=False)
    topic = models.CharField(_("topik"), max_length=64)
    payload = models.JSONField(_("isi"))
    status = models.CharField(_("status"), max_length=10, choices=DeliveryStatus.choices,
                              default=DeliveryStatus.PENDING, db_index=True)
    attempts = models.PositiveSmallIntegerField(_("percobaan"), default=0)
    next_attempt_at = models.DateTimeField(_("percobaan berikutnya"), default=timezone.now, db_index=True)
    lease_until = models.DateTimeField(_("dipegang sampai"), null=True, blank=True)
    last_error = models.CharField(_("galat terakhir"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("dibuat"), default=timezone.now)
    delivered_at = models.DateTimeField(_("terkirim"), null=True, blank=True)

    class Meta:
        verbose_name = _("pengiriman webhook")
        verbose_name_plural = _("pengiriman webhook")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["webhook", "event_id"], name="uniq_delivery_event")]

    def __str__(self) -> str:
        return f"{self.webhook} {self.topic} ({self.status})"


class Attempt(models.Model):
    """One HTTP attempt of a delivery, as it went."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_rows")
    number = models.PositiveSmallIntegerField(_("ke-"))
    at = models.DateTimeField(_("waktu"), default=timezone.now)
    status_code = models.PositiveSmallIntegerField(_("kode HTTP"), null=True, blank=True)
    error = models.CharField(_("galat"), max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(_("durasi (ms)"), default=0)

    class Meta:
        verbose_name = _("percobaan pengiriman")
        verbose_name_plural = _("percobaan pengiriman")
        ordering = ["delivery", "number"]
        constraints = [models.UniqueConstraint(fields=["delivery", "number"], name="uniq_attempt_number")]

    def __str__(self) -> str:
        return f"#{self.number} {self.status_code or self.error[:40]}"
