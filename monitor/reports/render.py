"""The weekly report as charts (PNG), a PDF and a CSV, from ``report_data_build``'s dict.

Everything here reads the stored dict only: counts are already cells
(``{"n": 12 | None, "shown": "12" | "< 5"}``), so a hidden count cannot leak
into a chart. A hidden count is drawn as a hatched bar up to the threshold,
labelled "< N", and a line chart leaves a gap there.
"""
from __future__ import annotations

import csv
import io
import logging
import textwrap
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display: workers and web servers are headless
# fontTools logs every font subset of a PDF at INFO: noise in a worker's log.
logging.getLogger("fontTools").setLevel(logging.WARNING)
from matplotlib import pyplot as plt  # noqa: E402
from matplotlib.backends.backend_pdf import PdfPages  # noqa: E402

from monitor.exports import csv_safe  # noqa: E402

# Type 42 (TrueType) fonts keep the PDF's text extractable and searchable;
# post text is never read as TeX or mathtext ("$5 $10" stays as written).
RC = {"pdf.fonttype": 42, "ps.fonttype": 42, "text.usetex": False, "text.parse_math": False, "svg.fonttype": "none"}
LINES_PER_PAGE = 62
WRAP = 100
MAX_BARS = 12
COLOURS = ("#9aa5b1", "#b0413e")  # previous week, this week


@contextmanager
def _drawing():
    with matplotlib.rc_context(RC), warnings.catch_warnings():
        # Scripts the bundled fonts lack (N'Ko, Tifinagh) draw as boxes; that is not an error.
        warnings.filterwarnings("ignore", message=r"Glyph .* missing from")
        warnings.filterwarnings("ignore", message=r".*missing from font")
        yield


def _short(label: str, n: int = 38) -> str:
    label = " ".join(str(label).split())
    return label if len(label) <= n else label[: n - 1] + "…"


def _bar_values(cells: list[dict], threshold: int) -> tuple[list[float], list[bool]]:
    values = [float(c["n"]) if c["n"] is not None else float(threshold) for c in cells]
    hidden = [c["n"] is None for c in cells]
    return values, hidden


def _paired_bars(ax, rows: list[dict], threshold: int, title: str) -> None:
    rows = rows[:MAX_BARS]
    labels = [_short(r["label"]) for r in rows]
    y = list(range(len(rows)))
    for offset, key, colour, name in ((0.2, "previous", COLOURS[0], "previous week"), (-0.2, "current", COLOURS[1], "this week")):
        values, hidden = _bar_values([r[key] for r in rows], threshold)
        bars = ax.barh([i + offset for i in y], values, height=0.4, color=colour, label=name)
        for bar, is_hidden, row in zip(bars, hidden, rows):
            if is_hidden:
                bar.set_hatch("///")
                bar.set_alpha(0.45)
            ax.annotate(row[key]["shown"], (bar.get_width(), bar.get_y() + bar.get_height() / 2),
                        xytext=(3, 0), textcoords="offset points", va="center", fontsize=7)
    ax.set_yticks(y, labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_title(title, fontsize=11)
    ax.legend(fontsize=7, loc="lower right")
    ax.set_xlabel(f"flags (hatched: fewer than {threshold}, drawn at {threshold})", fontsize=7)


def _single_bars(ax, labels: list[str], cells: list[dict], threshold: int, title: str, xlabel: str) -> None:
    values, hidden = _bar_values(cells, threshold)
    bars = ax.barh(range(len(values)), values, color=COLOURS[1])
    for bar, is_hidden, cell in zip(bars, hidden, cells):
        if is_hidden:
            bar.set_hatch("///")
            bar.set_alpha(0.45)
        ax.annotate(cell["shown"], (bar.get_width(), bar.get_y() + bar.get_height() / 2),
                    xytext=(3, 0), textcoords="offset points", va="center", fontsize=7)
    ax.set_yticks(range(len(values)), [_short(label) for label in labels], fontsize=8)
    ax.invert_yaxis()
    ax.set_title(title, fontsize=11)
    ax.set_xlabel(xlabel, fontsize=7)


def _trajectories(ax_daily, ax_weekly, narratives: list[dict], threshold: int) -> None:
    for i, narrative in enumerate(narratives[:5]):
        name = f"#{i + 1} {_short(narrative['label'], 24)}"
        daily = [d["count"]["n"] if d["count"]["n"] is not None else float("nan") for d in narrative["daily"]]
        ax_daily.plot([d["day"][5:] for d in narrative["daily"]], daily, marker="o", label=name)
        weekly = [h["size"]["n"] if h["size"]["n"] is not None else float("nan") for h in narrative["history"]]
        ax_weekly.plot([h["week"][5:] for h in narrative["history"]], weekly, marker="o", label=name)
    ax_daily.set_title("Top narratives: posts per day this week", fontsize=11)
    ax_weekly.set_title("Top narratives: posts per week", fontsize=11)
    for ax in (ax_daily, ax_weekly):
        ax.tick_params(labelsize=7)
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=7)
        ax.set_xlabel(f"gaps: fewer than {threshold}", fontsize=7)


def report_figures(data: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """Yield ``(name, figure)`` for every chart of the report; the caller closes them."""
    threshold = data["min_count"]
    breakdowns = data["breakdowns"]
    fig, axes = plt.subplots(1, 2, figsize=(11.69, 6.5))
    _paired_bars(axes[0], breakdowns["community"], threshold, "Flags by community")
    _paired_bars(axes[1], breakdowns["category"], threshold, "Flags by category")
    fig.tight_layout()
    yield "flags", fig

    fig, axes = plt.subplots(1, 2, figsize=(11.69, 5))
    _paired_bars(axes[0], breakdowns["language"], threshold, "Flags by language")
    _paired_bars(axes[1], breakdowns["platform"], threshold, "Flags by platform")
    fig.tight_layout()
    yield "flags-language-platform", fig

    if data["narratives"]:
        fig, axes = plt.subplots(1, 2, figsize=(11.69, 5))
        _trajectories(axes[0], axes[1], data["narratives"], threshold)
        fig.tight_layout()
        yield "narratives", fig

    places, claims = data["places"][:15], data["claims"]["rows"][:10]
    if places or claims:
        fig, axes = plt.subplots(1, 2, figsize=(11.69, 6))
        if places:
            _single_bars(axes[0], [f"{p['name']} ({p['country']})" for p in places], [p["posts"] for p in places],
                         threshold, "Places named in flagged posts", "flagged posts")
        else:
            axes[0].set_axis_off()
        if claims:
            _single_bars(axes[1], [c["text"] for c in claims], [c["matches"] for c in claims], threshold,
                         "Posts repeating fact-checked claims", "matching posts this week")
        else:
            axes[1].set_axis_off()
        fig.tight_layout()
        yield "places-claims", fig


def report_chart_pngs(data: dict[str, Any]) -> list[tuple[str, bytes]]:
    """Every chart as PNG bytes, for the HTML page."""
    out = []
    with _drawing():
        for name, fig in report_figures(data):
            buffer = io.BytesIO()
            fig.savefig(buffer, format="png", dpi=90)
            plt.close(fig)
            out.append((name, buffer.getvalue()))
    return out


def report_lines(data: dict[str, Any]) -> list[str]:
    """The report as plain text lines (the PDF's text pages)."""
    t = data["totals"]
    lines = [
        f"Vigie weekly trend report, {data['week']} ({data['start'][:10]} to {data['end'][:10]}, UTC)",
        f"Generated {data['generated_at'][:16].replace('T', ' ')} UTC. Counts below {data['min_count']} "
        f"are shown as \"< {data['min_count']}\"; authors are pseudonymous.",
        "",
        f"Posts this week: {t['posts']['shown']}. Flags (not dismissed): {t['flags']['shown']} "
        f"(previous week {t['previous_flags']['shown']}, change {t['change']['shown']}).",
    ]
    titles = {"community": "Flags by community", "category": "Flags by category",
              "language": "Flags by language", "platform": "Flags by platform"}
    for key, title in titles.items():
        lines += ["", title, f"  {'':40} {'this week':>10} {'previous':>10}  change"]
        for row in data["breakdowns"][key]:
            lines.append(f"  {_short(row['label'], 40):40} {row['current']['shown']:>10} "
                         f"{row['previous']['shown']:>10}  {row['change']['shown']}")
        if not data["breakdowns"][key]:
            lines.append("  (no flags)")
    lines += ["", "Top growing narratives"]
    if not data["narratives"]:
        lines.append("  (none this week)")
    for i, n in enumerate(data["narratives"], 1):
        lines.append(f"  {i}. {n['label']} — against {n['community']}: {n['size']['shown']} posts "
                     f"(previous week {n['previous_size']['shown']}, change {n['growth']['shown']}), "
                     f"flagged {n['flagged']['shown']}")
        if n["terms"]:
            lines.append("     terms: " + ", ".join(n["terms"]))
        lines.append("     per day: " + ", ".join(f"{d['day'][5:]} {d['count']['shown']}" for d in n["daily"]))
        lines.append("     per week: " + ", ".join(f"{h['week']} {h['size']['shown']}" for h in n["history"]))
        for ex in n["examples"]:
            lines.append(f"     - {ex['author']} ({ex['platform']}): {ex['text']}")
    lines += ["", "Places named in flagged posts (posts naming each place)"]
    for p in data["places"]:
        lines.append(f"  {p['name']:28} {p['country']:3} {_short(p['region'], 20):20} {p['posts']['shown']:>6}")
    if not data["places"]:
        lines.append("  (none)")
    r = data["reviewers"]
    lines += ["", "Review", f"  Decisions this week: {r['decisions']['shown']}; confirmed {r['confirmed']['shown']} "
              f"of {r['decided']['shown']} decided (confirm or dismiss): {r['confirmed_share']['shown']}.",
              f"  {'reviewer (pseudonym)':24} {'decisions':>9} {'confirm':>8} {'dismiss':>8} {'escalate':>8}"]
    for row in r["rows"]:
        lines.append(f"  {row['reviewer']:24} {row['decisions']['shown']:>9} {row['confirm']['shown']:>8} "
                     f"{row['dismiss']['shown']:>8} {row['escalate']['shown']:>8}")
    c = data["claims"]
    lines += ["", f"Misinformation: posts repeating fact-checked claims ({c['total']['shown']} this week)"]
    for row in c["rows"]:
        lines.append(f"  [{row['verdict']}] {_short(row['text'], 60)}: {row['matches']['shown']} "
                     f"(previous {row['previous']['shown']}, change {row['change']['shown']})")
    if not c["rows"]:
        lines.append("  (none)")
    lines += ["", "Spreading fastest (week on week)"]
    for row in c["fastest"]:
        lines.append(f"  {_short(row['text'], 70)}: {row['change']['shown']}")
    if not c["fastest"]:
        lines.append("  (none)")
    wrapped: list[str] = []
    for line in lines:
        indent = " " * (len(line) - len(line.lstrip(" ")) + 2)
        wrapped += textwrap.wrap(line, WRAP, subsequent_indent=indent, replace_whitespace=False) or [""]
    return wrapped


def report_pdf(data: dict[str, Any]) -> bytes:
    """The report as a PDF: text pages first, then one page per chart (A4 landscape)."""
    lines = report_lines(data)
    buffer = io.BytesIO()
    with _drawing(), PdfPages(buffer, metadata={"Title": f"Vigie weekly report {data['week']}",
                                                 "Creator": "Vigie"}) as pdf:
        for first in range(0, max(len(lines), 1), LINES_PER_PAGE):
            fig = plt.figure(figsize=(11.69, 8.27))
            for i, line in enumerate(lines[first : first + LINES_PER_PAGE]):
                fig.text(0.04, 0.96 - i * 0.0148, line, family="DejaVu Sans Mono", fontsize=7.5, va="top")
            pdf.savefig(fig)
            plt.close(fig)
        for _, fig in report_figures(data):
            pdf.savefig(fig)
            plt.close(fig)
    return buffer.getvalue()


def report_csv(data: dict[str, Any]) -> str:
    """The report's numbers as CSV: section, item, detail, this week, previous week, change."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["section", "item", "detail", "this_week", "previous_week", "change"])

    def row(*cells):
        writer.writerow([csv_safe(c) for c in cells])

    t = data["totals"]
    row("totals", "posts", "", t["posts"]["shown"], "", "")
    row("totals", "flags", "", t["flags"]["shown"], t["previous_flags"]["shown"], t["change"]["shown"])
    for key, rows in data["breakdowns"].items():
        for r in rows:
            row(f"flags_by_{key}", r["label"], "", r["current"]["shown"], r["previous"]["shown"], r["change"]["shown"])
    for n in data["narratives"]:
        row("narrative", n["label"], f"against {n['community']}", n["size"]["shown"], n["previous_size"]["shown"],
            n["growth"]["shown"])
        for d in n["daily"]:
            row("narrative_daily", n["label"], d["day"], d["count"]["shown"], "", "")
        for h in n["history"]:
            row("narrative_weekly", n["label"], h["week"], h["size"]["shown"], "", "")
    for p in data["places"]:
        row("place", p["name"], f"{p['country']} / {p['region']}", p["posts"]["shown"], "", "")
    r = data["reviewers"]
    row("review", "decisions", "", r["decisions"]["shown"], "", "")
    row("review", "confirmed_share", f"{r['confirmed']['shown']} of {r['decided']['shown']}",
        r["confirmed_share"]["shown"], "", "")
    for rr in r["rows"]:
        row("reviewer", rr["reviewer"], f"confirm {rr['confirm']['shown']}, dismiss {rr['dismiss']['shown']}, "
            f"escalate {rr['escalate']['shown']}", rr["decisions"]["shown"], "", "")
    for c in data["claims"]["rows"]:
        row("claim", c["text"], c["verdict"], c["matches"]["shown"], c["previous"]["shown"], c["change"]["shown"])
    return buffer.getvalue()
