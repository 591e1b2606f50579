"""The supervisor dashboard and its CSV exports (supervisors and admins only)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Response, render_template, request, stream_with_context
from flask_babel import gettext as _
from flask_login import current_user

from callcenter import connections_dashboard, dashboard
from callcenter.dashboard import DashboardError
from core.extensions import db, login_manager
from core.models import Role

dashboard_bp = Blueprint(
    "dashboard", __name__, url_prefix="/console/dashboard", template_folder="templates"
)

CSV_MIMETYPE = "text/csv"
"""Flask adds the charset (UTF-8) to text types itself: named here, it came twice."""


@dashboard_bp.before_request
def _require_supervisor() -> Any:
    """Let only supervisors and admins in; an operator gets 403."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not current_user.may(Role.SUPERVISOR):
        message = _("The dashboard is for supervisors; your account may not open it.")
        return render_template("console/dashboard_error.html", message=message), 403
    return None


@dashboard_bp.errorhandler(DashboardError)
def _bad_request(error: DashboardError) -> tuple[str, int]:
    """Explain a date or range that cannot be used."""
    return render_template("console/dashboard_error.html", message=str(error)), 400


@dashboard_bp.route("/")
def index() -> str:
    """Show a day's figures (today unless ?day=YYYY-MM-DD) and the charts."""
    day_arg = request.args.get("day")
    day = dashboard.parse_day(day_arg) if day_arg else dashboard.today()
    figures = dashboard.dashboard_figures(db.session, day)
    hours = [f"{hour:02d}" for hour in range(dashboard.HOURS_IN_DAY)]
    missed_chart = dashboard.bar_chart_svg(
        figures.missed_per_hour, hours, _("Missed calls per hour, %(day)s", day=day.isoformat())
    )
    queue_chart = dashboard.line_chart_svg(
        [(dashboard.sample_label(at), count) for at, count in figures.queue_length],
        _("Open callbacks through %(day)s", day=day.isoformat()),
    )
    return render_template(
        "console/dashboard.html",
        figures=figures,
        missed_chart=missed_chart,
        queue_chart=queue_chart,
        export_from=day.isoformat(),
        export_to=day.isoformat(),
    )


@dashboard_bp.route("/export/callbacks.csv")
def export_callbacks() -> Response:
    """Stream the callbacks first missed between ?from and ?to (YYYY-MM-DD, both included)."""
    first, last = dashboard.parse_range(request.args.get("from"), request.args.get("to"))
    rows = dashboard.callbacks_csv(db.session, first, last)
    return _csv_response(rows, f"callbacks-{first}-{last}.csv")


@dashboard_bp.route("/export/applications.csv")
def export_applications() -> Response:
    """Stream the applications created between ?from and ?to (YYYY-MM-DD, both included)."""
    first, last = dashboard.parse_range(request.args.get("from"), request.args.get("to"))
    rows = dashboard.applications_csv(db.session, first, last)
    return _csv_response(rows, f"applications-{first}-{last}.csv")


def _csv_response(rows: Any, filename: str) -> Response:
    return Response(
        stream_with_context(rows),
        mimetype=CSV_MIMETYPE,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "X-Content-Type-Options": "nosniff",
        },
    )


# ------------------------------------------------------------------ the connection clock


@dashboard_bp.context_processor
def _connection_alerts() -> dict[str, Any]:
    """Offer the dashboard's pages the overdue connections (read only where shown)."""
    return {"overdue_connections": lambda: connections_dashboard.overdue_lines(db.session)}


@dashboard_bp.route("/connections")
def connections() -> str:
    """Show the connection clock's figures for ?from..?to (default: the last 30 days)."""
    first, last = _connection_range()
    return render_template(
        "console/dashboard_connections.html",
        figures=connections_dashboard.connection_figures(db.session, first, last),
        refresh_seconds=CONNECTIONS_REFRESH_SECONDS,
    )


@dashboard_bp.route("/export/connections.csv")
def export_connections() -> Response:
    """Stream the applications behind the connection figures for ?from..?to."""
    first, last = _connection_range()
    rows = connections_dashboard.connections_csv(db.session, first, last)
    return _csv_response(rows, f"connections-{first}-{last}.csv")


CONNECTIONS_REFRESH_SECONDS = 300
"""The connection figures page reloads itself this often."""


def _connection_range() -> tuple[date, date]:
    if request.args.get("from") is None and request.args.get("to") is None:
        return connections_dashboard.default_range()
    return dashboard.parse_range(request.args.get("from"), request.args.get("to"))
