from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AlertsConfig(AppConfig):
    name = "siaga.alerts"
    label = "alerts"
    verbose_name = _("Peringatan dini")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from siaga.alerts import actions, channels, external, public
        from siaga.core import warnings
        from siaga.hazards import actions as hazards
        from siaga.hazards import poller

        channels.register_built_in()
        warnings.register_provider(public.active_warnings)
        # the data flows hazards -> alerts: the alerts take the decisions and the CAP feeds from there
        hazards.on_decision(actions.consume_decision)
        poller.handle_kind("cap", external.ingest_document)
