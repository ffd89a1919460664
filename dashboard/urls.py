from django.contrib.auth import views as auth_views
from django.urls import path

from . import claim_views, report_views, search_views, views

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
    path("search/", search_views.search, name="search"),
    path("search/export.<str:fmt>", search_views.search_export, name="search_export"),
    path("audit/", views.audit, name="audit"),
    path("audit/export.csv", views.audit_export, name="audit_export"),
    path("quality/", views.quality, name="quality"),
    path("quality/sample/", views.quality_sample_view, name="quality_sample"),
    path("quality/<int:sample_id>/", views.quality_review_view, name="quality_review"),
    path("reports/", report_views.reports, name="reports"),
    path("reports/<str:week>/", report_views.report_detail, name="report"),
    path("reports/<str:week>/report.pdf", report_views.report_pdf_download, name="report_pdf"),
    path("reports/<str:week>/report.csv", report_views.report_csv_download, name="report_csv"),
    path("claims/", claim_views.claims, name="claims"),
    path("claims/new/", claim_views.claim_create, name="claim_create"),
    path("claims/<int:claim_id>/", claim_views.claim_detail, name="claim"),
    path("claims/<int:claim_id>/edit/", claim_views.claim_edit, name="claim_edit"),
    path("claims/<int:claim_id>/matches.<str:fmt>", claim_views.claim_export, name="claim_export"),
    path("alerts/", report_views.alerts, name="alerts"),
    path("alerts/<int:alert_id>/acknowledge/", report_views.alert_acknowledge_view, name="alert_acknowledge"),
]
