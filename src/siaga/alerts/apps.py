from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AlertsConfig(AppConfig):
    name = "siaga.alerts"
    label = "alerts"
    verbose_name = _("Peringatan dini")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from siaga.alerts import channels, public
        from siaga.core import warnings

        channels.register_built_in()
        warnings.register_provider(public.active_warnings)
