from django.apps import AppConfig


class NarrativesConfig(AppConfig):
    """Weekly narratives: groups of posts telling the same story, followed week to week."""

    name = "monitor.narratives"
    label = "narratives"
    verbose_name = "Vigie narratives"
    default_auto_field = "django.db.models.BigAutoField"
