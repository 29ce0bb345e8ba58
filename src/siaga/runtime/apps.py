from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RuntimeConfig(AppConfig):
    name = "siaga.runtime"
    label = "runtime"
    verbose_name = _("Operasi: server, peran latar, kesehatan")

    def ready(self) -> None:
        from siaga.runtime import checks  # noqa: F401  (registers the deployment checks)
