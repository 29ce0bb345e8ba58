"""How the warnings desk and the public pages write CAP terms, policy reasons, displays and lags.

CAP's own words (Severe, Immediate, Alert, Cancel ...) stay in the XML; a person reads them in Bahasa
Indonesia (English through the language switch: the catalogue's context "CAP" gives CAP's words back).
"""

from typing import Any

from django import template
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from siaga.alerts.capbuild import bare_headline

register = template.Library()

CAP_TERMS = {
    "Alert": pgettext_lazy("CAP", "Peringatan"),
    "Update": pgettext_lazy("CAP", "Pembaruan"),
    "Cancel": pgettext_lazy("CAP", "Pembatalan"),
    "Ack": pgettext_lazy("CAP", "Tanda terima"),
    "Error": pgettext_lazy("CAP", "Galat"),
    "Actual": pgettext_lazy("CAP", "Sebenarnya"),
    "Exercise": pgettext_lazy("CAP", "Latihan"),
    "System": pgettext_lazy("CAP", "Sistem"),
    "Test": pgettext_lazy("CAP", "Uji coba"),
    "Draft": pgettext_lazy("CAP", "Konsep"),
    "Extreme": pgettext_lazy("CAP", "Ekstrem"),
    "Severe": pgettext_lazy("CAP", "Berat"),
    "Moderate": pgettext_lazy("CAP", "Sedang"),
    "Minor": pgettext_lazy("CAP", "Ringan"),
    "Unknown": pgettext_lazy("CAP", "Tidak diketahui"),
    "Immediate": pgettext_lazy("CAP", "Segera"),
    "Expected": pgettext_lazy("CAP", "Dalam waktu dekat (±1 jam)"),
    "Future": pgettext_lazy("CAP", "Mendatang"),
    "Past": pgettext_lazy("CAP", "Sudah lewat"),
    "Observed": pgettext_lazy("CAP", "Teramati"),
    "Likely": pgettext_lazy("CAP", "Kemungkinan besar"),
    "Possible": pgettext_lazy("CAP", "Mungkin"),
    "Unlikely": pgettext_lazy("CAP", "Kecil kemungkinan"),
    "Evacuate": pgettext_lazy("CAP", "Evakuasi"),
    "Shelter": pgettext_lazy("CAP", "Berlindung"),
    "Prepare": pgettext_lazy("CAP", "Bersiap"),
    "Execute": pgettext_lazy("CAP", "Laksanakan"),
    "Avoid": pgettext_lazy("CAP", "Hindari"),
    "Monitor": pgettext_lazy("CAP", "Pantau"),
    "Assess": pgettext_lazy("CAP", "Nilai"),
    "AllClear": pgettext_lazy("CAP", "Aman"),
    "None": pgettext_lazy("CAP", "Tidak ada"),
}


@register.filter
def cap_term(value: Any) -> str:
    """A CAP code word in the page's language (unknown words as they are)."""
    return str(CAP_TERMS.get(str(value), value))


@register.filter
def bare(headline: Any) -> str:
    """A headline without the "[LATIHAN]" mark: the page marks an exercise itself."""
    return bare_headline(str(headline or ""))


@register.filter
def reason(code: Any) -> str:
    from siaga.alerts.views import reason_text

    return reason_text(str(code))


@register.filter
def reasons(codes: Any) -> str:
    return "; ".join(reason(c) for c in (codes or []))


@register.filter
def display(value: Any) -> str:
    from siaga.alerts.models import Display

    try:
        return str(Display(value).label)
    except ValueError:
        return str(value)


@register.filter
def lag(seconds: Any) -> str:
    """A feed's lag as a person says it: 45 dtk, 12 mnt, 5 jam, 1238 hari."""
    if seconds is None or seconds == "":
        return ""
    value = float(seconds)
    if value < 120:
        return f"{value:.0f} {_('dtk')}"
    if value < 2 * 3600:
        return f"{value / 60:.0f} {_('mnt')}"
    if value < 48 * 3600:
        return f"{value / 3600:.0f} {_('jam')}"
    return f"{value / 86400:.0f} {_('hari')}"


@register.filter
def words(text: str) -> list[str]:
    """ "a b c" -> ["a", "b", "c"] (a list written inline in a template)."""
    return str(text).split()
