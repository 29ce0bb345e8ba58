"""Shifts: their definitions, the dated shifts, the roster, attendance and handovers."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ShiftDefinition(models.Model):
    """A daily shift (Pagi 07:00-15:00 ...), in Jakarta time. The active definitions tile the 24 hours
    exactly; they are changed together (see :func:`siaga.shifts.actions.do_define_shifts`)."""

    code = models.SlugField(_("kode"), max_length=20, unique=True)
    name = models.CharField(_("nama"), max_length=40)
    start = models.TimeField(_("mulai (WIB)"))
    end = models.TimeField(_("selesai (WIB)"))
    min_operators = models.PositiveSmallIntegerField(_("minimal operator"), default=3)
    min_supervisors = models.PositiveSmallIntegerField(_("minimal supervisor"), default=1)
    active = models.BooleanField(_("aktif"), default=True)

    class Meta:
        verbose_name = _("definisi shift")
        verbose_name_plural = _("definisi shift")
        ordering = ["start"]

    def __str__(self) -> str:
        return f"{self.name} {self.start:%H:%M}-{self.end:%H:%M}"

    @property
    def duration(self) -> timedelta:
        return duration(self.start, self.end)


def duration(start: time, end: time) -> timedelta:
    minutes = (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)
    return timedelta(minutes=minutes if minutes > 0 else minutes + 24 * 60)


class Shift(models.Model):
    """One shift on one date (the night shift's date is the evening it starts)."""

    date = models.DateField(_("tanggal"), db_index=True)
    definition = models.ForeignKey(ShiftDefinition, on_delete=models.PROTECT, related_name="shifts",
                                   verbose_name=_("shift"))
    starts_at = models.DateTimeField(_("mulai"))
    ends_at = models.DateTimeField(_("selesai"))

    class Meta:
        verbose_name = _("shift")
        verbose_name_plural = _("shift")
        ordering = ["starts_at"]
        constraints = [models.UniqueConstraint(fields=["date", "definition"], name="uniq_shift_date")]

    def __str__(self) -> str:
        return f"{self.definition.name} {self.date:%Y-%m-%d}"

    def contains(self, moment: datetime) -> bool:
        return self.starts_at <= moment < self.ends_at


class RosterRole(models.TextChoices):
    OPERATOR = "operator", _("Operator")
    SUPERVISOR = "supervisor", _("Supervisor")


class RosterEntry(models.Model):
    """A person planned for a shift, as operator or supervisor."""

    shift = models.ForeignKey(Shift, on_delete=models.PROTECT, related_name="roster", verbose_name=_("shift"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="roster_entries",
                             verbose_name=_("petugas"))
    role = models.CharField(_("peran"), max_length=12, choices=RosterRole.choices)
    note = models.CharField(_("catatan"), max_length=200, blank=True)
    planned = models.BooleanField(_("terjadwal"), default=True,
                                  help_text=_("Tidak: masuk tanpa jadwal (pengganti), tercatat dari absensi."))

    class Meta:
        verbose_name = _("jadwal petugas")
        verbose_name_plural = _("jadwal petugas")
        ordering = ["shift__starts_at", "role", "user__username"]
        constraints = [models.UniqueConstraint(fields=["shift", "user"], name="uniq_roster_person")]

    def __str__(self) -> str:
        return f"{self.shift}: {self.user} ({self.role})"


class Attendance(models.Model):
    """When a rostered person actually started and ended the shift."""

    entry = models.OneToOneField(RosterEntry, on_delete=models.PROTECT, related_name="attendance")
    started_at = models.DateTimeField(_("mulai bertugas"))
    ended_at = models.DateTimeField(_("selesai bertugas"), null=True, blank=True)

    class Meta:
        verbose_name = _("absensi")
        verbose_name_plural = _("absensi")

    def __str__(self) -> str:
        return f"{self.entry}: {self.started_at:%H:%M}-{self.ended_at:%H:%M}" if self.ended_at else str(self.entry)

    @property
    def late_minutes(self) -> int:
        late = (self.started_at - self.entry.shift.starts_at).total_seconds() / 60
        return max(0, int(late)) if late > settings.SHIFT_GRACE_MINUTES else 0

    @property
    def early_minutes(self) -> int:
        if self.ended_at is None:
            return 0
        early = (self.entry.shift.ends_at - self.ended_at).total_seconds() / 60
        return max(0, int(early)) if early > settings.SHIFT_GRACE_MINUTES else 0


class Handover(models.Model):
    """What the outgoing supervisor hands to the next shift, with what is still open attached."""

    from_shift = models.ForeignKey(Shift, on_delete=models.PROTECT, related_name="handovers_out",
                                   verbose_name=_("dari shift"))
    to_shift = models.ForeignKey(Shift, on_delete=models.PROTECT, related_name="handovers_in",
                                 verbose_name=_("ke shift"))
    note = models.TextField(_("catatan serah terima"))
    open_items = models.JSONField(_("yang masih terbuka"), default=dict)
    written_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("ditulis oleh"))
    written_at = models.DateTimeField(_("ditulis"), default=timezone.now)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                        related_name="+", verbose_name=_("diterima oleh"))
    acknowledged_at = models.DateTimeField(_("diterima"), null=True, blank=True)

    class Meta:
        verbose_name = _("serah terima")
        verbose_name_plural = _("serah terima")
        ordering = ["-written_at"]
        constraints = [models.UniqueConstraint(fields=["from_shift"], name="uniq_handover_per_shift")]

    def __str__(self) -> str:
        return f"{self.from_shift} → {self.to_shift}"


class HandoverVersion(models.Model):
    """Every text a handover had, in order: a rewrite adds a version, it never replaces one."""

    handover = models.ForeignKey(Handover, on_delete=models.PROTECT, related_name="versions",
                                 verbose_name=_("serah terima"))
    number = models.PositiveIntegerField(_("versi"))
    note = models.TextField(_("catatan serah terima"))
    open_items = models.JSONField(_("yang masih terbuka"), default=dict)
    written_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("ditulis oleh"))
    written_at = models.DateTimeField(_("ditulis"))

    class Meta:
        verbose_name = _("versi serah terima")
        verbose_name_plural = _("versi serah terima")
        ordering = ["handover", "number"]
        constraints = [models.UniqueConstraint(fields=["handover", "number"], name="uniq_handover_version")]

    def __str__(self) -> str:
        return f"{self.handover} v{self.number}"
