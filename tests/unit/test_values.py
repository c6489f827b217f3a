"""Lifetime value and churn risk as computed (backends/values.py), and values.toml."""

from __future__ import annotations

from pathlib import Path

import pytest

from backends.base import InvalidInput
from backends.models import Channel
from backends.sqlite.backend import SQLiteBackend
from backends.values import (
    DAY,
    Activity,
    Deduction,
    Order,
    ValuesConfig,
    check_choice,
    compute,
    lifetime_value,
    load,
)

NOW = 1_790_000_000


def test_refunds_and_returns_come_off_once() -> None:
    orders = (Order(NOW, 250.0, "delivered", "A"), Order(NOW, 80.0, "delivered", "B"))
    assert lifetime_value(Activity(orders=orders)) == 330.0
    cancelled = (*orders, Order(NOW, 99.0, "cancelled", "C"))
    assert lifetime_value(Activity(orders=cancelled)) == 330.0
    refunded_return = (Deduction("return", 30.0, "A"), Deduction("refund", 30.0, "A"))
    assert lifetime_value(Activity(orders=orders, deductions=refunded_return)) == 300.0
    plain_return = (Deduction("return", 20.0, "B"),)
    assert lifetime_value(Activity(orders=orders, deductions=plain_return)) == 310.0


def test_recency_starts_to_count_after_90_days() -> None:
    cfg = ValuesConfig()
    before = Order(NOW - 200 * DAY, 300.0)
    fresh = compute(Activity(orders=(Order(NOW - 90 * DAY, 300.0), before)), NOW, cfg)
    stale = compute(Activity(orders=(Order(NOW - 91 * DAY, 300.0), before)), NOW, cfg)
    assert fresh.churn_score == 0.0 and fresh.reasons == ()
    assert stale.reasons == ("no order in 91 days",)


def test_actions_follow_the_reasons() -> None:
    cfg = ValuesConfig()
    old = (Order(NOW - 400 * DAY, 600.0),)
    assert compute(Activity(orders=old), NOW, cfg).next_action == "voucher"
    unhappy = Activity(orders=(Order(NOW - 10 * DAY, 600.0),), complaints_open=1, csat_last=1)
    assert compute(unhappy, NOW, cfg).next_action == "call back"
    both = Activity(orders=old, complaints_recent=2, csat_last=2)
    got = compute(both, NOW, cfg)
    assert got.churn_risk and got.next_action == "escalate to retention"
    assert got.reasons == ("no order in 400 days", "2 complaints in 30 days", "CSAT 2/5")


def test_weights_and_lists_come_from_values_toml(tmp_path: Path) -> None:
    path = tmp_path / "values.toml"
    path.write_text(
        'currency = "chf"\ntiers = ["Basic", "Premium"]\n'
        "[churn]\nat_risk = 0.2\n[churn.weights]\nrecency = 1.0\ncomplaints = 0\n",
        "utf-8",
    )
    cfg = load(path)
    assert (cfg.currency, cfg.tiers, cfg.segments) == (
        "CHF",
        ("basic", "premium"),
        ValuesConfig().segments,
    )
    got = compute(Activity(orders=(Order(NOW - 400 * DAY, 600.0),), complaints_recent=3), NOW, cfg)
    assert got.churn_risk  # recency weighs more; complaints not at all
    assert "3 complaints in 30 days" not in got.reasons
    path.write_text("[churn]\nat_risk = 'high'\n", "utf-8")
    with pytest.raises(InvalidInput, match="at_risk must be a number"):
        load(path)
    path.write_text("[churn.weight]\n", "utf-8")
    with pytest.raises(InvalidInput, match="unknown key"):
        load(path)


def test_a_choice_outside_the_list_names_the_allowed_ones() -> None:
    assert check_choice("tier", " Gold ", ("gold", "silver")) == "gold"
    assert check_choice("tier", "", ("gold",)) == ""
    with pytest.raises(InvalidInput, match=r"tier 'diamond' is not allowed; allowed: gold, silver"):
        check_choice("tier", "diamond", ("gold", "silver"))


def test_a_broken_values_file_stops_a_profile_edit_but_never_a_message(tmp_path: Path) -> None:
    (tmp_path / "values.toml").write_text("tiers = 'gold'\n", "utf-8")
    with SQLiteBackend(tmp_path / "vista.db", create=True) as backend:
        arrived = backend.deliver_inbound(Channel.SMS, "+39 347 555 0901", "Ciao")
        assert arrived.contact.id > 0
        with pytest.raises(InvalidInput, match="tiers must be a list of names"):
            backend.edit_profile(arrived.customer_id, "tier", "gold")
