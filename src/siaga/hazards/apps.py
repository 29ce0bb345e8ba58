from django.apps import AppConfig


class HazardsConfig(AppConfig):
    name = "siaga.hazards"
    label = "hazards"
    verbose_name = "Bahaya (BMKG)"
    default_auto_field = "django.db.models.BigAutoField"
