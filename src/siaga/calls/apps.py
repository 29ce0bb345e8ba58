from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CallsConfig(AppConfig):
    name = "siaga.calls"
    label = "calls"
    verbose_name = _("Panggilan 112")

    def ready(self) -> None:
        from siaga.calls import blocking

        blocking.stages()  # a bad SIAGA_BLOCK_STAGES stops the start with a clear message
