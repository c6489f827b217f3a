"""KPI figures as short text: shared by `vista stats`, the Supervisor screen and the wallboard,
so the three always print the same value for the same report. No Textual here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from backends.models import AtRiskContact, KpiReport, KpiTrendPoint
from console.format import DASH, TIMEZONE, duration, when
from console.safe_text import clean

SPARK_CHARS = "▁▂▃▄▅▆▇█"


def percent(ratio: float | None) -> str:
    """A 0..1 ratio as `93.1%`."""
    return DASH if ratio is None else f"{100 * ratio:.1f}%"


def number(value: float | None, digits: int = 1) -> str:
    return DASH if value is None else f"{value:.{digits}f}"


def spark(values: Sequence[float | None]) -> str:
    """A one-line sparkline; a gap (space) where nothing was measured."""
    known = [v for v in values if v is not None]
    if not known:
        return " " * len(values)
    low, high = min(known), max(known)
    span = high - low
    out = []
    for v in values:
        if v is None:
            out.append(" ")
        elif span == 0:
            out.append(SPARK_CHARS[0] if high == 0 else SPARK_CHARS[3])
        else:
            out.append(SPARK_CHARS[round((v - low) / span * (len(SPARK_CHARS) - 1))])
    return "".join(out)


@dataclass(frozen=True)
class KpiLine:
    """One KPI as the UIs show it: a label, the value, a detail and the trend series."""

    key: str
    label: str
    value: str
    detail: str
    trend: tuple[float | None, ...]


def _series(trend: Sequence[KpiTrendPoint], name: str) -> tuple[float | None, ...]:
    return tuple(getattr(p, name) for p in trend)


def kpi_lines(r: KpiReport) -> list[KpiLine]:
    """The headline KPIs of a report, in the order every view shows them."""
    t = r.trend
    s = r.satisfaction
    return [
        KpiLine(
            "arrivals", "Arrivals", f"{r.arrivals:,}", "contacts created", _series(t, "arrivals")
        ),
        KpiLine(
            "asa",
            "Avg speed of answer",
            duration(r.asa.avg_seconds),
            f"{r.asa.count:,} assigned",
            _series(t, "asa_seconds"),
        ),
        KpiLine(
            "frt",
            "First response time",
            duration(r.first_response.avg_seconds),
            f"{r.first_response.count:,} first replies",
            _series(t, "frt_seconds"),
        ),
        KpiLine(
            "aht",
            "Avg handle time",
            duration(r.handle.avg_seconds),
            f"{r.handle.count:,} handled",
            _series(t, "aht_seconds"),
        ),
        KpiLine(
            "resolution",
            "Resolution time",
            duration(r.resolution.avg_seconds),
            f"{r.resolution.count:,} resolved",
            _series(t, "resolution_seconds"),
        ),
        KpiLine(
            "sla",
            "SLA attainment",
            percent(r.sla.attainment),
            f"{r.sla.met:,} met, {r.sla.breached:,} breached",
            _series(t, "sla_attainment"),
        ),
        KpiLine("unanswered", "Unanswered", f"{r.unanswered:,}", "no reply yet", ()),
        KpiLine(
            "abandoned",
            "Abandoned",
            f"{r.abandoned:,}",
            f"{percent(r.abandon_rate)} of arrivals",
            _series(t, "abandoned"),
        ),
        KpiLine(
            "csat",
            "CSAT",
            number(s.csat_avg) + (" / 5" if s.csat_avg is not None else ""),
            f"{s.csat_responses:,} answers, {number(s.csat_percent, 0)}% 4-5"
            if s.csat_responses
            else "no survey answers",
            _series(t, "csat_avg"),
        ),
        KpiLine(
            "nps",
            "NPS",
            number(s.nps, 0) if s.nps is None else f"{s.nps:+.0f}",
            f"{s.promoters}/{s.passives}/{s.detractors} pro/pas/det"
            if s.nps_responses
            else "no survey answers",
            (),
        ),
    ]


def window_title(r: KpiReport) -> str:
    """`2026-11-26 05:00 – 2026-11-27 05:00 UTC · all channels · per hour`."""
    chan = r.channel.value if r.channel is not None else "all channels"
    return f"{when(r.since)} – {when(r.until)} {TIMEZONE} · {chan} · trend per {r.bucket.value}"


def masked_name(name: str) -> str:
    """Initials only: `Lena Ferrara` -> `L. F.` (personal data on a wall screen)."""
    initials = [next((ch for ch in part if ch.isalnum()), "") for part in clean(name).split(" ")]
    return " ".join(f"{ch.upper()}." for ch in initials if ch) or "•"


def customer_label(c: AtRiskContact, unmask: bool) -> str:
    return clean(c.customer_name, max_length=30) if unmask else masked_name(c.customer_name)
