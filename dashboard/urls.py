from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

app_name = "dashboard"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    # Django's LogoutView only accepts POST: a link or an <img> cannot log a reviewer out.
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", views.queue, name="queue"),
    path("flags/<int:flag_id>/", views.flag_detail, name="flag"),
    path("flags/<int:flag_id>/decide/", views.flag_decide_view, name="flag_decide"),
    path("flags/<int:flag_id>/claim/", views.flag_claim_view, name="flag_claim"),
    path("flags/<int:flag_id>/release/", views.flag_release_view, name="flag_release"),
    path("flags/<int:flag_id>/reassign/", views.flag_reassign_view, name="flag_reassign"),
    path("flags/<int:flag_id>/cluster/", views.cluster_decide_view, name="cluster_decide"),
    path("batches/<slug:batch>/undo/", views.batch_undo, name="batch_undo"),
    path("decisions/<int:decision_id>/revert/", views.decision_revert_view, name="decision_revert"),
    path("settings/", views.settings_view, name="settings"),
    path("audit/", views.audit, name="audit"),
    path("audit/export.csv", views.audit_export, name="audit_export"),
    path("quality/", views.quality, name="quality"),
    path("quality/sample/", views.quality_sample_view, name="quality_sample"),
    path("quality/<int:sample_id>/", views.quality_review_view, name="quality_review"),
]
