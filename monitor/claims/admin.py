"""The claim bank in the admin: leads edit claims and review matches here until the dashboard has pages."""
from django.contrib import admin

from monitor.claims.models import Claim, ClaimMatch


@admin.register(Claim)
class ClaimAdmin(admin.ModelAdmin):
    list_display = ("text", "verdict", "language", "publisher", "published_at", "invented")
    list_filter = ("verdict", "language", "invented")
    search_fields = ("text", "publisher", "review_url")
    readonly_fields = ("source_id", "created_at", "updated_at")


@admin.register(ClaimMatch)
class ClaimMatchAdmin(admin.ModelAdmin):
    list_display = ("claim", "post", "score", "stance", "status", "flag")
    list_filter = ("status", "stance")
    raw_id_fields = ("post", "claim", "flag")
    readonly_fields = ("score", "method", "evidence", "created_at", "updated_at")
