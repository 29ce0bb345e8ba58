from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ShiftsConfig(AppConfig):
    name = "siaga.shifts"
    label = "shifts"
    verbose_name = _("Shift 24x7")
