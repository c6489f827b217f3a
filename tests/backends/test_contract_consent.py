"""Contract: consent per channel, enforced on every reply path. A reply to the customer's own
message on that contact within the channel's window goes out without consent; anything else
(after the window, on another channel) needs the customer's consent on that channel. Consent
is set in Vista with its provenance, or imported with a source record (newest wins)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from backends.base import Backend, InvalidInput
from backends.models import Channel, Direction
from tests.backends.conftest import BackendFactory
from tests.conftest import NOW


def _wrote(backend: Backend, channel: Channel, sender: str, ago: timedelta) -> tuple[int, int]:
    """(contact id, customer id) of a new customer who wrote `ago`."""
    result = backend.deliver_inbound(channel, sender, "Buongiorno, una domanda", at=NOW - ago)
    return result.contact.id, result.customer_id


def _sent(backend: Backend, contact_id: int) -> list[str]:
    messages = backend.get_contact(contact_id).messages
    return [m.body for m in messages if m.direction is Direction.OUTBOUND]


def test_a_reply_within_the_window_needs_no_consent(backend: Backend) -> None:
    cid, customer = _wrote(backend, Channel.SMS, "+39 347 555 0301", timedelta(hours=24))
    assert backend.get_customer(customer).consents == {}
    assert backend.reply(cid, "Le rispondo subito").channel is Channel.SMS  # exactly 24 h: in


def test_a_message_after_the_window_is_refused_without_consent_and_sent_with_it(
    backend: Backend,
) -> None:
    cid, customer = _wrote(backend, Channel.SMS, "+39 347 555 0302", timedelta(hours=24, seconds=1))
    with pytest.raises(InvalidInput, match="no sms consent") as refused:
        backend.reply(cid, "Un'offerta per lei")
    assert refused.value.title == "Consent"
    assert _sent(backend, cid) == []
    backend.set_consent(customer, "sms", True)
    assert backend.reply(cid, "Un'offerta per lei").channel is Channel.SMS
    backend.set_consent(customer, "sms", False)  # withdrawn: refused again
    with pytest.raises(InvalidInput, match="no sms consent"):
        backend.reply(cid, "Un'altra offerta")
    assert _sent(backend, cid) == ["Un'offerta per lei"]


def test_an_email_thread_stays_a_reply_for_30_days(backend: Backend) -> None:
    # (an inbound message older than 30 days is refused: the window's far side is in
    # tests/unit/test_consent.py)
    inside, _c = _wrote(backend, Channel.EMAIL, "anna.consenso1@posta-prova.it", timedelta(days=30))
    assert backend.reply(inside, "Gentile cliente, ecco la risposta").channel is Channel.EMAIL


def test_a_message_on_another_channel_is_proactive(backend: Backend) -> None:
    cid, customer = _wrote(backend, Channel.SMS, "+39 347 555 0303", timedelta(minutes=5))
    with pytest.raises(InvalidInput, match="no phone consent"):
        backend.reply(cid, "La richiamo domani", channel="phone")
    assert _sent(backend, cid) == []
    backend.set_consent(customer, "phone", True)
    assert backend.reply(cid, "La richiamo domani", channel="phone").channel is Channel.PHONE


def test_a_consent_set_in_vista_shows_who_and_when(backend: Backend) -> None:
    _cid, customer = _wrote(backend, Channel.SMS, "+39 347 555 0304", timedelta(minutes=5))
    profile = backend.set_consent(customer, "WhatsApp", True)
    assert profile.consents == {"whatsapp": True}
    [log] = profile.consent_log
    assert (log.channel, log.granted, log.source, log.at) == ("whatsapp", True, "agent:giulia", NOW)
    with pytest.raises(InvalidInput, match="email, sms, whatsapp, phone"):
        backend.set_consent(customer, "fax", True)


def test_a_supervisor_cannot_set_consent(make_backend: BackendFactory) -> None:
    giulia = make_backend()
    _cid, customer = _wrote(giulia, Channel.SMS, "+39 347 555 0305", timedelta(minutes=5))
    with pytest.raises(Exception) as refused:  # ReadOnly / Forbidden, by backend
        make_backend("anna").set_consent(customer, "sms", True)
    assert type(refused.value).__name__ in ("ReadOnly", "Forbidden")
    assert giulia.get_customer(customer).consents == {}


CRM = (
    "id,first_name,last_name,email,consent_whatsapp,consent_sms,consent_at\n"
    "C-1,Ottavia,Zanardelli,ottavia.zanardelli@posta-prova.it,yes,no,2026-03-01T10:00:00Z\n"
)
SHOP_OLDER = (
    "id,first_name,last_name,email,consent_whatsapp,consent_at\n"
    "W-1,Ottavia,Zanardelli,ottavia.zanardelli@posta-prova.it,no,2025-01-01\n"
)
SHOP_NEWER = (
    "id,first_name,last_name,email,consent_whatsapp,consent_at\n"
    "W-1,Ottavia,Zanardelli,ottavia.zanardelli@posta-prova.it,opt-out,2026-06-01\n"
)


def test_imported_consents_the_newest_wins_with_its_provenance(
    make_backend: BackendFactory, tmp_path: Path
) -> None:
    admin = make_backend("admin")
    for name, text in (("crm.csv", CRM), ("shop.csv", SHOP_OLDER)):
        (tmp_path / name).write_text(text, "utf-8")
    admin.import_file(tmp_path / "crm.csv", source="crm")
    admin.import_file(tmp_path / "shop.csv", source="webshop")
    [hit] = admin.search_customers("Zanardelli")
    customer = admin.get_customer(hit.id)
    assert customer.consents == {"whatsapp": True, "sms": False}
    log = {c.channel: c for c in customer.consent_log}
    assert (log["whatsapp"].source, log["whatsapp"].at.isoformat()) == (
        "crm",
        "2026-03-01T10:00:00+00:00",
    )
    (tmp_path / "shop.csv").write_text(SHOP_NEWER, "utf-8")
    admin.import_file(tmp_path / "shop.csv", source="webshop")
    customer = admin.get_customer(hit.id)
    assert customer.consents == {"whatsapp": False, "sms": False}
    assert {c.channel: c.source for c in customer.consent_log}["whatsapp"] == "webshop"
    # a consent given in Vista now is newer than both: a re-import keeps it
    admin.set_consent(hit.id, "whatsapp", True)
    admin.import_file(tmp_path / "shop.csv", source="webshop")
    assert admin.get_customer(hit.id).consents["whatsapp"] is True
