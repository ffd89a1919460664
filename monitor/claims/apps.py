from django.apps import AppConfig


class ClaimsConfig(AppConfig):
    """The claim bank: fact-checked claims and the posts that repeat them."""

    name = "monitor.claims"
    label = "claims"
    verbose_name = "Vigie claim bank"
    default_auto_field = "django.db.models.BigAutoField"
