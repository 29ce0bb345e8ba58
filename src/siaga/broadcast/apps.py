from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BroadcastConfig(AppConfig):
    name = "siaga.broadcast"
    label = "broadcast"
    verbose_name = _("Siaran EWS (TV digital)")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from siaga.alerts import channels
        from siaga.broadcast.channel import CHANNEL

        channels.register(CHANNEL)
