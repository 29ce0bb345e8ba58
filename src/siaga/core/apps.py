from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "siaga.core"
    label = "core"
    verbose_name = _("Inti: wilayah, instansi, audit")

    def ready(self) -> None:
        from siaga.core import signals  # noqa: F401  (login audit)
