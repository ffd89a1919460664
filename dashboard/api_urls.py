from django.urls import path

from dashboard import api

app_name = "api"

urlpatterns = [
    path("posts", api.posts_create, name="posts"),
]
