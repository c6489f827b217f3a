"""Contract: values computed from imported data. Lifetime value is the orders minus refunds
in the store's currency; churn risk rises with an old last order, complaints and a poor
survey answer, and says why and what to do. (Imports stamp their own time: the events
here are dated from the real clock.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from backends.base import Backend, InvalidInput
from tests.backends.conftest import BackendFactory

CUSTOMERS = (
    "id,first_name,last_name,email\n"
    "V-1,Ilaria,Bonfanti,ilaria.bonfanti@posta-prova.it\n"
    "V-2,Tullio,Carminati,tullio.carminati@posta-prova.it\n"
)


def _ago(days: float) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _import(backend: Backend, tmp_path: Path, name: str, text: str, kind: str) -> None:
    path = tmp_path / name
    path.write_text(text, "utf-8")
    report = backend.import_file(path, source="shop", kind=kind)
    assert report.skipped == 0, report


def _customer(backend: Backend, surname: str) -> int:
    [hit] = backend.search_customers(surname)
    return hit.id


@pytest.fixture
def admin(make_backend: BackendFactory, tmp_path: Path) -> Backend:
    backend = make_backend("admin")
    _import(backend, tmp_path, "customers.csv", CUSTOMERS, "customers")
    return backend


def test_two_orders_make_the_lifetime_value_and_a_refund_lowers_it(
    admin: Backend, tmp_path: Path
) -> None:
    orders = (
        "id,at,kind,email,number,status,total\n"
        f"E-1,{_ago(10)},order,ilaria.bonfanti@posta-prova.it,SO-1,delivered,250\n"
        f"E-2,{_ago(5)},order,ilaria.bonfanti@posta-prova.it,SO-2,delivered,80\n"
    )
    _import(admin, tmp_path, "orders.csv", orders, "events")
    ilaria = admin.get_customer(_customer(admin, "Bonfanti"))
    assert (f"{ilaria.lifetime_value:.2f}", ilaria.currency) == ("330.00", "EUR")
    assert not ilaria.churn_risk and ilaria.churn_reasons == () and ilaria.next_action == ""
    refund = (
        "id,at,kind,email,total,payload\n"
        f'E-3,{_ago(2)},refund,ilaria.bonfanti@posta-prova.it,30,"{{""order"": ""SO-1""}}"\n'
    )
    _import(admin, tmp_path, "refund.csv", refund, "events")
    assert f"{admin.get_customer(ilaria.id).lifetime_value:.2f}" == "300.00"
    again = admin.get_customer(ilaria.id)  # importing the same refund again changes nothing
    _import(admin, tmp_path, "refund.csv", refund, "events")
    assert admin.get_customer(ilaria.id).lifetime_value == again.lifetime_value


def test_churn_risk_rises_with_an_old_last_order_complaints_and_a_poor_survey(
    admin: Backend, tmp_path: Path
) -> None:
    email = "tullio.carminati@posta-prova.it"
    orders = (
        "id,at,kind,email,number,status,total\n"
        f"T-1,{_ago(400)},order,{email},TO-1,delivered,250\n"
        f"T-2,{_ago(210.2)},order,{email},TO-2,delivered,80\n"
    )
    _import(admin, tmp_path, "orders.csv", orders, "events")
    tullio = admin.get_customer(_customer(admin, "Carminati"))
    assert tullio.churn_reasons == ("no order in 210 days",)
    assert tullio.next_action == "" and not tullio.churn_risk
    complaints = (
        "id,at,kind,email,summary,payload\n"
        f"T-3,{_ago(3)},ticket,{email},Complaint: parcel damaged,\n"
        f'T-4,{_ago(12)},email,{email},Late delivery,"{{""intent"": ""complaint""}}"\n'
        f"T-5,{_ago(45)},ticket,{email},Complaint: too old to count,\n"
        f'T-6,{_ago(2)},survey,{email},Survey,"{{""csat"": 2, ""nps"": 8}}"\n'
    )
    _import(admin, tmp_path, "complaints.csv", complaints, "events")
    after = admin.get_customer(tullio.id)
    assert after.churn_score > tullio.churn_score
    assert ", ".join(after.churn_reasons) == (
        "no order in 210 days, 2 complaints in 30 days, CSAT 2/5"
    )
    assert after.churn_risk and after.next_action == "escalate to retention"
    assert f"{after.lifetime_value:.2f}" == "330.00"


def test_tier_and_segment_take_only_the_configured_values(make_backend: BackendFactory) -> None:
    backend = make_backend()
    with pytest.raises(InvalidInput, match="allowed: bronze, silver, gold, platinum"):
        backend.edit_profile(4, "tier", "diamond")
    with pytest.raises(InvalidInput, match="allowed: consumer, business"):
        backend.edit_profile(4, "segment", "vip")
    assert backend.edit_profile(4, "tier", "Gold").tier == "gold"
    assert backend.edit_profile(4, "segment", "").segment == ""


def test_the_store_id_is_one_uuid_per_store(make_backend: BackendFactory) -> None:
    first, second = make_backend().store_id(), make_backend("admin").store_id()
    assert first == second
    assert len(first) == 36 and first.count("-") == 4 and first[14] == "4"
