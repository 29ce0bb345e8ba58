from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "siaga.webhooks"
    label = "webhooks"
    verbose_name = _("Webhook keluar")

    def ready(self) -> None:
        from siaga.core.events import register_transactional_hook
        from siaga.webhooks import outbox
        register_transactional_hook(outbox.TOPICS, outbox.enqueue)
