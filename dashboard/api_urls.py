from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from dashboard import api

app_name = "api"

urlpatterns = [
    path("posts", api.PostsView.as_view(), name="posts"),
    path("posts/<int:post_id>", api.PostDetailView.as_view(), name="post"),
    path("posts/<int:post_id>/similar", api.PostSimilarView.as_view(), name="post_similar"),
    path("flags", api.FlagsView.as_view(), name="flags"),
    path("flags/<int:flag_id>", api.FlagDetailView.as_view(), name="flag"),
    path("search", api.SearchView.as_view(), name="search"),
    # The OpenAPI schema and its docs pages (assets from drf-spectacular-sidecar, no CDN).
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema"), name="redoc"),
]
