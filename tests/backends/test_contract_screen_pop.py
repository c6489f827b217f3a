"""Screen pop over every backend: a lookup by phone in any format, e-mail or order number
answers with the customer's card; a ringing call opens a phone contact offered to an agent,
an unknown number a "new caller"; answered and ended give the handle time."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backends.base import Capability, InvalidInput, ReadOnly
from backends.models import CallState, ContactStatus, LookupKind
from tests.backends.conftest import BackendFactory
from tests.conftest import NOW

pytestmark = pytest.mark.needs(Capability.CALLS)


def _formats(e164: str) -> list[str]:
    national = e164.removeprefix("+39")
    return [
        e164,
        national,
        f"0039 {national}",
        f"+39 {national[:3]} {national[3:6]} {national[6:]}",
    ]


def test_lookup_by_phone_in_any_format_finds_the_customer(make_backend: BackendFactory) -> None:
    backend = make_backend()
    customer = backend.get_customer(1)
    for written in _formats(customer.phones[0]):
        found = backend.lookup(written)
        assert found.kind is LookupKind.PHONE and found.value == customer.phones[0]
        assert found.customer is not None and found.customer.id == 1, written
        card = found.customer
        assert card.tier == customer.tier and card.segment == customer.segment
        assert card.churn_risk == customer.churn_risk
        assert card.facts is not None and card.facts.customer_id == 1


def test_lookup_by_email_and_order(make_backend: BackendFactory) -> None:
    backend = make_backend()
    customer = backend.get_customer(1)
    by_mail = backend.lookup(email=customer.emails[0].upper())
    assert [m.id for m in by_mail.matches] == [1]
    facts = backend.customer_facts(1)
    if facts.last_order_number:
        by_order = backend.lookup(order=facts.last_order_number.lower())
        assert by_order.kind is LookupKind.ORDER and [m.id for m in by_order.matches] == [1]
        assert by_order.matches[0].facts.last_order_number == facts.last_order_number


def test_lookup_of_an_unknown_number_finds_nobody_and_bad_input_is_refused(
    make_backend: BackendFactory,
) -> None:
    backend = make_backend()
    assert backend.lookup(phone="+39 347 000 0999").matches == ()
    with pytest.raises(InvalidInput):
        backend.lookup("")
    with pytest.raises(InvalidInput):
        backend.lookup(phone="not a number")
    with pytest.raises(InvalidInput):
        backend.lookup("x", phone="+39 347 000 0999")


def test_lookup_lists_open_contacts(make_backend: BackendFactory) -> None:
    backend = make_backend()
    call = backend.record_call("c-open", CallState.RINGING, backend.get_customer(5).phones[0])
    card = backend.lookup(backend.get_customer(5).phones[0]).customer
    assert card is not None and call.contact_id in [c.id for c in card.open_contacts]


def test_a_ringing_call_opens_a_phone_contact_offered_to_the_agent(
    make_backend: BackendFactory,
) -> None:
    backend = make_backend("giulia")
    phone = backend.get_customer(2).phones[0]
    since = backend.changes(-1).cursor
    call = backend.record_call(
        "CA-1", CallState.RINGING, phone.removeprefix("+39"), agent="marco", dialled="02 1234 5678"
    )
    assert call.customer_id == 2 and not call.new_caller and call.agent == "marco"
    contact = backend.get_contact(call.contact_id).contact
    assert contact.channel.value == "phone" and contact.assignee == "marco"
    assert contact.status is not ContactStatus.RESOLVED
    feed = backend.changes(since).changes
    assert ("ringing", call.contact_id) in [(c.action, c.entity_id) for c in feed]
    # the same caller again continues the same unresolved contact
    again = backend.record_call("CA-2", CallState.RINGING, phone)
    assert again.contact_id == call.contact_id
    assert [c.call_id for c in backend.calls(call.contact_id)][0:2] in (
        ["CA-1", "CA-2"],
        ["CA-2", "CA-1"],
    )


def test_answered_and_ended_give_the_handle_time_and_never_go_back(
    make_backend: BackendFactory,
) -> None:
    backend = make_backend()
    phone = backend.get_customer(3).phones[0]
    start = NOW - timedelta(minutes=10)
    backend.record_call("CA-9", CallState.RINGING, phone, at=start)
    backend.record_call("CA-9", CallState.ANSWERED, phone, at=start + timedelta(seconds=20))
    ended = backend.record_call(
        "CA-9",
        CallState.ENDED,
        phone,
        at=start + timedelta(minutes=4, seconds=20),
        recording="https://pbx.example/r/CA-9.mp3",
    )
    assert ended.state is CallState.ENDED and ended.handle_seconds == 240
    assert ended.recording == "https://pbx.example/r/CA-9.mp3"
    late = backend.record_call("CA-9", CallState.ANSWERED, phone)
    assert late.state is CallState.ENDED and late.handle_seconds == 240
    unanswered = backend.record_call("CA-10", CallState.ENDED, phone)
    assert unanswered.state is CallState.ENDED and unanswered.handle_seconds is None


def test_an_unknown_caller_is_a_new_caller_and_quick_create_names_them(
    make_backend: BackendFactory,
) -> None:
    backend = make_backend()
    call = backend.record_call("CA-new", CallState.RINGING, "347 000 0420", agent="giulia")
    assert call.new_caller
    assert "New caller" in backend.get_contact(call.contact_id).contact.subject
    named = backend.name_caller(call.customer_id, "Mario Nuovo", "Mario.Nuovo@Libero.IT")
    assert (named.first_name, named.last_name) == ("Mario", "Nuovo")
    assert backend.lookup(email="mario.nuovo@libero.it").customer.id == call.customer_id
    # a second call from the number is no longer new
    assert not backend.record_call("CA-new-2", CallState.RINGING, "+393470000420").new_caller


@pytest.mark.parametrize(
    ("call_id", "caller", "kwargs"),
    [
        ("", "+393470000420", {}),
        ("CA-x", "mario@example.com", {}),
        ("CA-x", "+393470000420", {"agent": "nobody"}),
        ("CA-x", "+393470000420", {"agent": "anna"}),  # a supervisor takes no calls
        ("CA-x", "+393470000420", {"recording": "javascript:alert(1)"}),
    ],
)
def test_bad_call_events_are_refused_and_store_nothing(
    make_backend: BackendFactory, call_id: str, caller: str, kwargs: dict[str, str]
) -> None:
    backend = make_backend()
    before = backend.changes(-1).cursor
    with pytest.raises(InvalidInput):
        backend.record_call(call_id, CallState.RINGING, caller, **kwargs)
    assert backend.changes(-1).cursor == before


def test_a_call_id_belongs_to_one_number(make_backend: BackendFactory) -> None:
    backend = make_backend()
    backend.record_call("CA-same", CallState.RINGING, "+393470000420")
    with pytest.raises(InvalidInput):
        backend.record_call("CA-same", CallState.ANSWERED, "+393470000421")


def test_read_only_backends_take_no_calls(make_backend: BackendFactory) -> None:
    backend = make_backend("giulia", read_only=True)
    assert backend.lookup(backend.get_customer(1).phones[0]).customer is not None
    with pytest.raises(ReadOnly):
        backend.record_call("CA-ro", CallState.RINGING, "+393470000420")


def test_a_call_answered_by_another_agent_pops_on_their_console(
    make_backend: BackendFactory,
) -> None:
    backend = make_backend()
    phone = backend.get_customer(4).phones[0]
    call = backend.record_call("CA-move", CallState.RINGING, phone, agent="marco")
    since = backend.changes(-1).cursor
    answered = backend.record_call("CA-move", CallState.ANSWERED, phone, agent="giulia")
    assert answered.agent == "giulia" and answered.state is CallState.ANSWERED
    assert backend.get_contact(call.contact_id).contact.assignee == "giulia"
    actions = [(c.action, c.entity_id) for c in backend.changes(since).changes]
    assert ("ringing", call.contact_id) in actions
    # the same agent again changes nothing
    again = backend.changes(-1).cursor
    backend.record_call("CA-move", CallState.ANSWERED, phone, agent="giulia")
    assert backend.changes(-1).cursor == again


@pytest.mark.needs(Capability.PERSONAL_DATA)
def test_an_erased_callers_number_and_recording_are_gone(make_backend: BackendFactory) -> None:
    admin = make_backend("admin")
    phone = admin.get_customer(3).phones[0]
    admin.record_call("CA-gone", CallState.RINGING, phone)
    ended = admin.record_call(
        "CA-gone", CallState.ENDED, phone, recording="https://pbx.example/r/CA-gone.mp3"
    )
    kept = admin.record_call("CA-kept", CallState.RINGING, admin.get_customer(4).phones[0])
    admin.erase_customer(3)
    (call,) = admin.calls(ended.contact_id)
    assert (call.caller, call.dialled, call.recording) == ("", "", "")
    assert call.state is CallState.ENDED  # what happened stays, not who
    assert admin.lookup(phone=phone).matches == ()
    assert admin.calls(kept.contact_id)[0].caller == kept.caller  # another caller's: kept
