from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SmsConfig(AppConfig):
    name = "siaga.sms"
    label = "sms"
    verbose_name = _("SMS (gateway Kannel)")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from siaga.alerts import channels
        from siaga.core.events import register_transactional_hook
        from siaga.sms import crews
        from siaga.sms.channel import CHANNEL

        channels.register(CHANNEL)
        register_transactional_hook(crews.TOPICS, crews.enqueue)
