from django.apps import AppConfig


class ReportsConfig(AppConfig):
    """Weekly trend reports and early-warning alerts."""

    name = "monitor.reports"
    label = "reports"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Reports and alerts"
