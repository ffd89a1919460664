from django.apps import AppConfig


class MonitorConfig(AppConfig):
    name = "monitor"
    verbose_name = "Vigie monitor"
    default_auto_field = "django.db.models.BigAutoField"
