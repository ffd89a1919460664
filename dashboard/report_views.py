"""Weekly reports and early-warning alerts: list, read, download, acknowledge.

Reports are for leads, researchers and admins (``reports.view_weeklyreport``);
alerts for reviewers, leads and admins (``reports.view_alert``), and only leads
acknowledge them (``reports.change_alert``).
"""
from __future__ import annotations

import base64

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from monitor.reports.alerts import AlertNotFound, alert_acknowledge
from monitor.reports.models import Alert
from monitor.reports.render import report_chart_pngs
from monitor.reports.selectors import alerts_list, report_get, reports_list
from monitor.weeks import week_bounds

from .views import role_required

REPORT_PERM = "reports.view_weeklyreport"
ALERT_PERM = "reports.view_alert"
ACK_PERM = "reports.change_alert"


def _can(perm: str):
    return lambda user: user.is_active and user.has_perm(perm)


def _report_or_404(week: str):
    try:
        week_bounds(week)
    except ValueError:
        raise Http404("not an ISO week") from None
    report = report_get(week=week)
    if report is None:
        raise Http404("no report for this week")
    return report


@require_GET
@role_required(_can(REPORT_PERM))
def reports(request):
    return render(request, "dashboard/reports.html", {"reports": reports_list()})


@require_GET
@role_required(_can(REPORT_PERM))
def report_detail(request, week: str):
    report = _report_or_404(week)
    charts = [
        (name, "data:image/png;base64," + base64.b64encode(png).decode("ascii"))
        for name, png in report_chart_pngs(report.data)
    ]
    return render(request, "dashboard/report.html", {"report": report, "data": report.data, "charts": charts})


@require_GET
@role_required(_can(REPORT_PERM))
def report_pdf_download(request, week: str):
    report = _report_or_404(week)
    response = HttpResponse(bytes(report.pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="vigie-report-{report.week}.pdf"'
    return response


@require_GET
@role_required(_can(REPORT_PERM))
def report_csv_download(request, week: str):
    report = _report_or_404(week)
    response = HttpResponse(report.csv, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="vigie-report-{report.week}.csv"'
    return response


@require_GET
@role_required(_can(ALERT_PERM))
def alerts(request):
    status = request.GET.get("status", "")
    if status not in Alert.Status.values:
        status = ""
    return render(request, "dashboard/alerts.html", {
        "alerts": alerts_list(status=status or None),
        "status": status,
        "statuses": Alert.Status.values,
        "can_acknowledge": request.user.has_perm(ACK_PERM),
    })


@require_POST
@role_required(_can(ACK_PERM))
def alert_acknowledge_view(request, alert_id: int):
    try:
        alert = alert_acknowledge(alert_id=alert_id, user=request.user)
    except AlertNotFound:
        raise Http404("no such alert") from None
    messages.success(request, f"Alert on {alert.community.name} acknowledged.")
    return redirect("dashboard:alerts")
