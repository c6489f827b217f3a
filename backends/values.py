"""Values computed from what a customer did: lifetime value and churn risk, with its reasons
and a suggested next action; and the allowed tiers and segments.

Pure computation on plain inputs (`Activity`), configured by `values.toml` (`ValuesConfig`;
every setting has a default, documented in the README). The store gathers the inputs and
writes the results whenever an import or an inbound message changes them; the demo goes
through the same code.
"""

from __future__ import annotations

import functools
import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from backends.base import InvalidInput

#: The environment variable naming the file (before "values.toml next to the store").
ENV_VALUES = "VISTA_VALUES"
FILE_NAME = "values.toml"

DAY = 86_400

#: The tiers and segments allowed when values.toml names none.
DEFAULT_TIERS = ("bronze", "silver", "gold", "platinum")
DEFAULT_SEGMENTS = ("consumer", "business")

CALL_BACK = "call back"
VOUCHER = "voucher"
ESCALATE = "escalate to retention"


@dataclass(frozen=True, slots=True)
class ChurnWeights:
    """How much each signal counts in the churn score (normalised by their sum)."""

    recency: float = 0.35  # no order for a long time
    frequency: float = 0.10  # few orders in the last year
    monetary: float = 0.05  # little spent
    complaints: float = 0.25  # recent or open complaints
    satisfaction: float = 0.20  # a low CSAT or NPS answer
    contacts: float = 0.05  # many contacts lately


@dataclass(frozen=True, slots=True)
class ValuesConfig:
    """`values.toml`: the store's currency, the allowed tiers and segments, churn settings."""

    currency: str = "EUR"
    tiers: tuple[str, ...] = DEFAULT_TIERS
    segments: tuple[str, ...] = DEFAULT_SEGMENTS
    weights: ChurnWeights = field(default_factory=ChurnWeights)
    at_risk: float = 0.5  # a score from here on flags the customer at risk
    suggest_from: float = 0.3  # a score from here on suggests a next action
    recency_start_days: int = 90  # no order for longer starts to count...
    recency_full_days: int = 365  # ...and counts fully from here
    complaint_days: int = 30  # complaints this recent count
    contact_days: int = 30  # contacts this recent count
    many_contacts: int = 4  # this many recent contacts count fully
    monetary_full: float = 500.0  # a lifetime value from here on counts as no risk
    path: Path | None = None


@dataclass(frozen=True, slots=True)
class Order:
    at: int  # unix seconds
    total: float
    status: str = ""
    number: str = ""


@dataclass(frozen=True, slots=True)
class Deduction:
    """A refund or a return, with the order it belongs to ('' when the source did not say)."""

    kind: str  # refund or return
    amount: float
    order: str = ""


@dataclass(frozen=True, slots=True)
class Activity:
    """What one customer did, as the computation needs it."""

    orders: tuple[Order, ...] = ()
    deductions: tuple[Deduction, ...] = ()
    complaints_recent: int = 0  # complaints within `complaint_days`
    complaints_open: int = 0  # complaint contacts not resolved
    csat_last: int | None = None  # 1..5
    nps_last: int | None = None  # 0..10
    contacts_recent: int = 0  # contacts within `contact_days`


@dataclass(frozen=True, slots=True)
class Values:
    lifetime_value: float
    churn_score: float  # 0..1
    churn_risk: bool
    reasons: tuple[str, ...]
    next_action: str  # '' when nothing is suggested


#: Order statuses that bring no money.
NOT_SPENT = frozenset({"cancelled", "canceled", "failed", "void", "rejected"})


def survey_score(raw: object, low: int, high: int) -> int | None:
    """A survey answer as a whole number within [low, high] (CSAT 1-5, NPS 0-10); None
    for anything else (text, out of range)."""
    try:
        value = int(float(str(raw)))
    except (TypeError, ValueError):
        return None
    return value if low <= value <= high else None


def lifetime_value(activity: Activity) -> float:
    """Orders (not cancelled) minus refunds, and minus returns whose order saw no refund (a
    refunded return is deducted once), rounded to cents."""
    spent = sum(o.total for o in activity.orders if o.status.lower() not in NOT_SPENT)
    refunded = {d.order for d in activity.deductions if d.kind == "refund" and d.order}
    taken = 0.0
    for d in activity.deductions:
        if d.kind == "refund" or not (d.order and d.order in refunded):
            taken += d.amount
    return round(spent - taken, 2)


def _clamp(x: float) -> float:
    return 0.0 if x < 0 else 1.0 if x > 1 else x


def compute(activity: Activity, now: int, cfg: ValuesConfig) -> Values:
    """Lifetime value, churn score (0..1), its reasons and the suggested next action."""
    ltv = lifetime_value(activity)
    w = cfg.weights
    parts: list[tuple[float, str]] = []  # (weighted share, reason)
    spent = [o for o in activity.orders if o.status.lower() not in NOT_SPENT]
    if spent:
        days = max(0, (now - max(o.at for o in spent)) // DAY)
        span = max(1, cfg.recency_full_days - cfg.recency_start_days)
        r = _clamp((days - cfg.recency_start_days) / span)
        parts.append((w.recency * r, f"no order in {days} days"))
        year = sum(1 for o in spent if now - o.at <= 365 * DAY)
        f = 1.0 if year == 0 else 0.5 if year == 1 else 0.0
        # said only when the recency reason is not: "no order in 210 days" says enough
        few = "only 1 order in 12 months" if year == 1 and r == 0 else ""
        parts.append((w.frequency * f, few))
        m = 1 - _clamp(ltv / cfg.monetary_full) if cfg.monetary_full > 0 else 0.0
        low = f"lifetime value {ltv:.2f} {cfg.currency}" if m >= 0.5 else ""
        parts.append((w.monetary * m, low))
    complaints = max(activity.complaints_recent, activity.complaints_open)
    if complaints:
        c = _clamp(complaints / 2)
        if activity.complaints_recent >= activity.complaints_open:
            text = f"{complaints} complaint{'' if complaints == 1 else 's'} in {cfg.complaint_days} days"
        else:
            text = f"{complaints} open complaint{'' if complaints == 1 else 's'}"
        parts.append((w.complaints * c, text))
    unhappy = 0.0
    said: list[str] = []
    if activity.csat_last is not None and activity.csat_last <= 3:
        unhappy = max(unhappy, 1.0 if activity.csat_last <= 2 else 0.5)
        said.append(f"CSAT {activity.csat_last}/5")
    if activity.nps_last is not None and activity.nps_last <= 6:
        unhappy = max(unhappy, _clamp((7 - activity.nps_last) / 7))
        said.append(f"NPS {activity.nps_last}/10")
    if said:
        parts.append((w.satisfaction * unhappy, ", ".join(said)))
    if activity.contacts_recent and cfg.many_contacts > 0:
        k = _clamp(activity.contacts_recent / cfg.many_contacts)
        n = activity.contacts_recent
        parts.append(
            (w.contacts * k, f"{n} contact{'' if n == 1 else 's'} in {cfg.contact_days} days")
        )
    total = _weight_sum(w)
    score = round(_clamp(sum(share for share, _r in parts) / total), 2)
    # reasons in a fixed order (recency, frequency, spend, complaints, satisfaction,
    # contacts), those that count
    reasons = tuple(reason for share, reason in parts if share > 0 and reason)
    # flagged at risk: a customer worth keeping (something spent) whose score reached it
    at_risk = score >= cfg.at_risk and ltv > 0
    return Values(ltv, score, at_risk, reasons, _action(score, complaints, unhappy, cfg))


@functools.cache
def _weight_sum(w: ChurnWeights) -> float:
    return sum(getattr(w, f.name) for f in fields(w)) or 1.0


def _action(score: float, complaints: int, unhappy: float, cfg: ValuesConfig) -> str:
    """Escalate an at-risk customer who complained; call back one who complained or was
    unhappy; offer a voucher to one drifting away; nothing below `suggest_from`."""
    if score < cfg.suggest_from:
        return ""
    if complaints and score >= cfg.at_risk:
        return ESCALATE
    if complaints or unhappy:
        return CALL_BACK
    return VOUCHER


def check_choice(field_name: str, value: str, allowed: tuple[str, ...]) -> str:
    """`value` (lower case) if it is one of `allowed` or empty (clears the field).

    Raises:
        InvalidInput: naming the allowed values.
    """
    v = value.strip().lower()
    if not v or not allowed or v in allowed:
        return v
    raise InvalidInput(
        f"{field_name} {value.strip()!r} is not allowed; allowed: {', '.join(allowed)}"
    )


# -- the configuration file -----------------------------------------------------------

_TOP = ("currency", "tiers", "segments", "churn")
_CHURN = (
    "at_risk",
    "suggest_from",
    "recency_start_days",
    "recency_full_days",
    "complaint_days",
    "contact_days",
    "many_contacts",
    "monetary_full",
    "weights",
)


def locate(store: Path | None) -> Path | None:
    """The values file: $VISTA_VALUES, else values.toml next to the store (None: defaults)."""
    env = os.environ.get(ENV_VALUES)
    if env:
        return Path(env).expanduser()
    if store is not None:
        beside = store.expanduser().parent / FILE_NAME
        if beside.exists():
            return beside
    return None


def load(path: Path | None) -> ValuesConfig:
    """Read and check the file; None is the defaults.

    Raises:
        InvalidInput: unreadable file, bad TOML, an unknown key or a wrong value, naming them.
    """
    if path is None:
        return ValuesConfig()
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except OSError as e:
        raise InvalidInput(f"cannot read values file {path}: {e.strerror or e}") from e
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise InvalidInput(f"{path}: not valid TOML ({e})") from e
    _only(data, _TOP, str(path))
    churn = data.get("churn", {})
    if not isinstance(churn, dict):
        raise InvalidInput(f"{path}: [churn] must be a table")
    _only(churn, _CHURN, f"{path} [churn]")
    weights = churn.get("weights", {})
    if not isinstance(weights, dict):
        raise InvalidInput(f"{path}: [churn.weights] must be a table")
    names = tuple(f.name for f in fields(ChurnWeights))
    _only(weights, names, f"{path} [churn.weights]")
    w = ChurnWeights(**{k: _number(v, f"{path} [churn.weights] {k}") for k, v in weights.items()})
    settings: dict[str, Any] = {}
    for key in _CHURN[:-1]:
        if key in churn:
            value = _number(churn[key], f"{path} [churn] {key}")
            settings[key] = int(value) if key.endswith(("_days", "contacts")) else value
    currency = str(data.get("currency", "EUR")).strip().upper()
    if len(currency) != 3 or not currency.isalpha():
        raise InvalidInput(f"{path}: currency must be a 3-letter code like EUR (got {currency!r})")
    return ValuesConfig(
        currency=currency,
        tiers=_names(data, "tiers", DEFAULT_TIERS, path),
        segments=_names(data, "segments", DEFAULT_SEGMENTS, path),
        weights=w,
        path=path,
        **settings,
    )


def _only(data: dict[str, Any], allowed: tuple[str, ...], where: str) -> None:
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise InvalidInput(f"{where}: unknown key {unknown[0]!r}; known: {', '.join(allowed)}")


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise InvalidInput(f"{where} must be a number of at least 0 (got {value!r})")
    return float(value)


def _names(data: dict[str, Any], key: str, default: tuple[str, ...], path: Path) -> tuple[str, ...]:
    if key not in data:
        return default
    value = data[key]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise InvalidInput(f"{path}: {key} must be a list of names")
    return tuple(dict.fromkeys(v.strip().lower() for v in value))


def stored_rows(
    activity: dict[int, Activity], ids: list[int], now: int, cfg: ValuesConfig
) -> list[tuple[Any, ...]]:
    """(lifetime value, currency, churn score, churn risk, reasons JSON, next action,
    customer id) of each customer of `ids`: what a store writes."""
    import json

    rows: list[tuple[Any, ...]] = []
    for cid in ids:
        got = compute(activity[cid], now, cfg)
        rows.append(
            (
                got.lifetime_value,
                cfg.currency,
                got.churn_score,
                int(got.churn_risk),
                json.dumps(list(got.reasons), ensure_ascii=False),
                got.next_action,
                cid,
            )
        )
    return rows
