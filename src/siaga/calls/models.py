"""112 calls, the CTI events they are built from, caller locations and caller sanctions."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from siaga.core.models import Integration, Kelurahan


class CallState(models.TextChoices):
    RINGING = "ringing", _("Berdering")
    ACTIVE = "active", _("Berlangsung")
    ENDED = "ended", _("Selesai")


class Outcome(models.TextChoices):
    """The tag of a call, as in Cilegon's SOP (plus abandoned and test)."""

    UNTAGGED = "", _("Belum ditandai")
    NORMAL = "normal", _("Normal (darurat/laporan)")
    GHOST = "ghost", _("Ghost / diam")
    PRANK = "prank", _("Prank / iseng")
    INFORMATION = "information", _("Informasi")
    ABANDONED = "abandoned", _("Tak terjawab")
    TEST = "test", _("Uji coba")


OPERATOR_OUTCOMES = (Outcome.NORMAL, Outcome.GHOST, Outcome.PRANK, Outcome.INFORMATION, Outcome.ABANDONED,
                     Outcome.TEST)


class Call(models.Model):
    """One call attempt to 112, answered or not.

    Built from CTI events in whatever order they arrive: each time is the PBX's own, and the call's
    ``state`` follows from which times are known, so a late ``offered`` after ``ended`` is reconciled.
    """

    # Indexes are paid on every CTI event (a call's row changes with each, and a change of state is not a
    # HOT update): none that another one already serves. The (integration, call_ref) constraint serves
    # look-ups by PBX, the (caller, -offered_at) index those by number.
    integration = models.ForeignKey(Integration, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="calls", verbose_name=_("PBX"), db_index=False)
    call_ref = models.CharField(_("ID panggilan PBX"), max_length=128)
    # NULL, not "": there is no usable number (withheld or unparseable); look-ups by number never match it.
    caller = models.CharField(_("nomor penelepon (E.164)"), max_length=32, null=True, blank=True)  # noqa: DJ001
    caller_raw = models.CharField(_("nomor seperti diterima"), max_length=64, blank=True)
    caller_withheld = models.BooleanField(_("nomor disembunyikan"), default=False)
    line = models.CharField(_("jalur"), max_length=64, blank=True)
    state = models.CharField(_("keadaan"), max_length=8, choices=CallState.choices, default=CallState.RINGING)
    offered_at = models.DateTimeField(_("masuk"), null=True, blank=True, db_index=True)
    answered_at = models.DateTimeField(_("dijawab"), null=True, blank=True)
    ended_at = models.DateTimeField(_("berakhir"), null=True, blank=True)
    first_seen_at = models.DateTimeField(_("pertama diterima"), default=timezone.now)
    agent = models.CharField(_("agen PBX"), max_length=64, blank=True)
    operator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="calls_answered", verbose_name=_("operator"))
    transferred_to = models.CharField(_("dialihkan ke"), max_length=64, blank=True)
    transferred_at = models.DateTimeField(_("dialihkan"), null=True, blank=True)
    end_cause = models.CharField(_("sebab berakhir"), max_length=64, blank=True)
    outcome = models.CharField(_("penandaan"), max_length=12, choices=Outcome.choices, blank=True, default="")
    outcome_auto = models.BooleanField(_("ditandai otomatis"), default=False)
    tagged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+", verbose_name=_("ditandai oleh"))
    tagged_at = models.DateTimeField(_("ditandai"), null=True, blank=True)
    notes = models.TextField(_("catatan"), blank=True)
    incident = models.ForeignKey("incidents.Incident", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="calls", verbose_name=_("kejadian"))
    shift = models.ForeignKey("shifts.Shift", on_delete=models.PROTECT, null=True, blank=True, related_name="calls",
                              verbose_name=_("shift"))
    caller_blocked = models.BooleanField(_("penelepon sedang diblokir"), default=False)
    anomalies = models.JSONField(_("kejanggalan"), default=list, blank=True)

    class Meta:
        verbose_name = _("panggilan")
        verbose_name_plural = _("panggilan")
        ordering = ["-offered_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["integration", "call_ref"], name="uniq_call_per_pbx"),
        ]
        indexes = [models.Index(fields=["caller", "-offered_at"], name="call_caller_recent"),
                   # plain b-trees: db_index on a CharField adds a second, LIKE-prefix one on PostgreSQL
                   models.Index(fields=["state"], name="call_state"),
                   models.Index(fields=["outcome"], name="call_outcome")]

    def __str__(self) -> str:
        return f"{self.caller or self.caller_raw or '?'} @ {self.offered_at or self.first_seen_at:%Y-%m-%d %H:%M}"

    @property
    def answer_seconds(self) -> float | None:
        if self.offered_at and self.answered_at:
            return (self.answered_at - self.offered_at).total_seconds()
        return None


class CtiEvent(models.Model):
    """A CTI event exactly as a PBX sent it; (PBX, event_id) is unique, so retries are stored once."""

    # served by the (integration, event_id) constraint: no index of its own
    integration = models.ForeignKey(Integration, on_delete=models.PROTECT, related_name="cti_events",
                                    db_index=False)
    event_id = models.CharField(max_length=128)
    type = models.CharField(max_length=20)
    call = models.ForeignKey(Call, on_delete=models.PROTECT, related_name="cti_events")
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)
    payload = models.JSONField()
    payload_hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("peristiwa CTI")
        verbose_name_plural = _("peristiwa CTI")
        ordering = ["occurred_at", "id"]
        constraints = [models.UniqueConstraint(fields=["integration", "event_id"], name="uniq_cti_event")]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class LocationFix(models.Model):
    """A caller position from AML (SMS or HTTPS), attached to the call it belongs to when known."""

    call = models.ForeignKey(Call, on_delete=models.PROTECT, null=True, blank=True, related_name="location_fixes",
                             verbose_name=_("panggilan"))
    caller = models.CharField(_("nomor"), max_length=32, null=True, blank=True, db_index=True)  # noqa: DJ001
    transport = models.CharField(_("saluran"), max_length=8)  # sms | https
    has_fix = models.BooleanField(_("ada posisi"))
    lat = models.FloatField(_("lintang"), null=True, blank=True)
    lon = models.FloatField(_("bujur"), null=True, blank=True)
    radius_m = models.FloatField(_("radius (m)"), null=True, blank=True)
    fix_time = models.DateTimeField(_("waktu posisi"), null=True, blank=True)
    method = models.CharField(_("metode"), max_length=12)
    confidence_pct = models.FloatField(_("keyakinan (%)"), null=True, blank=True)
    imei = models.CharField(_("IMEI"), max_length=20, blank=True)
    kelurahan = models.ForeignKey(Kelurahan, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    raw = models.TextField(_("pesan asli"))
    received_at = models.DateTimeField(_("diterima"), default=timezone.now, db_index=True)
    integration = models.ForeignKey(Integration, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    digest = models.CharField(max_length=64, blank=True)  # of the message as received: the same one is one fix

    class Meta:
        verbose_name = _("posisi AML")
        verbose_name_plural = _("posisi AML")
        ordering = ["-received_at"]
        constraints = [models.UniqueConstraint(fields=["integration", "digest"], condition=~models.Q(digest=""),
                                               name="uniq_aml_message")]

    def __str__(self) -> str:
        return f"{self.caller or '?'} {self.lat},{self.lon} ±{self.radius_m} m" if self.has_fix else f"{self.caller} -"


class SanctionStage(models.TextChoices):
    WARN = "warn", _("Peringatan")
    BLOCK = "block", _("Blokir")


class CallerSanction(models.Model):
    """A warning or a block for a number, one per strike of the staged blocking policy."""

    caller = models.CharField(_("nomor"), max_length=32, db_index=True)
    stage = models.CharField(_("tahap"), max_length=8, choices=SanctionStage.choices)
    strike = models.PositiveSmallIntegerField(_("pelanggaran ke-"))
    duration = models.CharField(_("durasi"), max_length=16, blank=True)  # "24h", "3d", "permanent"
    starts_at = models.DateTimeField(_("mulai"), default=timezone.now)
    ends_at = models.DateTimeField(_("berakhir"), null=True, blank=True)  # null + block = permanent
    reason = models.CharField(_("alasan"), max_length=300)
    call = models.ForeignKey(Call, on_delete=models.PROTECT, null=True, blank=True, related_name="sanctions")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    lifted_at = models.DateTimeField(_("dicabut"), null=True, blank=True)
    lifted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+")
    lift_reason = models.CharField(_("alasan pencabutan"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("sanksi penelepon")
        verbose_name_plural = _("sanksi penelepon")
        ordering = ["-starts_at", "-id"]

    def __str__(self) -> str:
        return f"{self.caller} {self.stage} #{self.strike}"

    def is_active_block(self, now: object = None) -> bool:
        moment = now or timezone.now()
        return (self.stage == SanctionStage.BLOCK and self.lifted_at is None
                and (self.ends_at is None or self.ends_at > moment))  # type: ignore[operator]
