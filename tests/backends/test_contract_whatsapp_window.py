"""Contract: WhatsApp's 24-hour window through a backend. Free text is accepted within 24
hours of the customer's last WhatsApp message and refused after; a message on another
channel (an SMS) opens no WhatsApp window."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backends.base import Backend, InvalidInput
from backends.models import Channel, Direction
from tests.conftest import NOW


def _wrote(backend: Backend, channel: Channel, phone: str, ago: timedelta) -> int:
    result = backend.deliver_inbound(channel, phone, "Ciao, una domanda", at=NOW - ago)
    return result.contact.id


def _outbound(backend: Backend, contact_id: int) -> list[str]:
    messages = backend.get_contact(contact_id).messages
    return [m.body for m in messages if m.direction is Direction.OUTBOUND]


def test_free_text_23_hours_after_the_last_whatsapp_message_is_sent(backend: Backend) -> None:
    cid = _wrote(backend, Channel.WHATSAPP, "+39 347 555 0201", timedelta(hours=23))
    sent = backend.reply(cid, "Eccomi, mi dica")
    assert sent.channel is Channel.WHATSAPP
    assert _outbound(backend, cid) == ["Eccomi, mi dica"]


def test_free_text_25_hours_after_is_refused_and_a_template_is_sent(backend: Backend) -> None:
    cid = _wrote(backend, Channel.WHATSAPP, "+39 347 555 0202", timedelta(hours=25))
    with pytest.raises(InvalidInput, match="24-hour"):
        backend.reply(cid, "Eccomi, mi dica")
    assert _outbound(backend, cid) == []
    template = next(t for t in backend.templates() if t.whatsapp_approved)
    body = template.body.replace("{first_name}", "Anna")
    # a template outside the window is a proactive message: it needs the customer's consent
    backend.set_consent(backend.get_contact(cid).contact.customer_id, "whatsapp", True)
    assert backend.reply(cid, body, template=template.name).channel is Channel.WHATSAPP


def test_an_unapproved_template_is_still_free_text(backend: Backend) -> None:
    cid = _wrote(backend, Channel.WHATSAPP, "+39 347 555 0205", timedelta(hours=25))
    plain = [t for t in backend.templates() if not t.whatsapp_approved]
    assert plain, "the demo has templates not approved for WhatsApp"
    with pytest.raises(InvalidInput, match="24-hour"):
        backend.reply(cid, "Salve, come posso aiutarla?", template=plain[0].name)
    with pytest.raises(InvalidInput, match="24-hour|no template"):
        backend.reply(cid, "Salve", template="no-such-template")


def test_a_recent_sms_opens_no_whatsapp_window(backend: Backend) -> None:
    sms = _wrote(backend, Channel.SMS, "+39 347 555 0203", timedelta(minutes=5))
    with pytest.raises(InvalidInput, match="24-hour"):
        backend.reply(sms, "Le scrivo su WhatsApp", channel="whatsapp")
    assert _outbound(backend, sms) == []
    # the SMS itself may be answered by SMS
    assert backend.reply(sms, "Le rispondo qui").channel is Channel.SMS


def test_an_sms_does_not_reopen_an_old_whatsapp_conversation(backend: Backend) -> None:
    phone = "+39 347 555 0204"
    old = _wrote(backend, Channel.WHATSAPP, phone, timedelta(hours=30))
    sms = _wrote(backend, Channel.SMS, phone, timedelta(minutes=1))
    assert sms != old
    with pytest.raises(InvalidInput, match="24-hour"):
        backend.reply(old, "Eccomi")
    # a new WhatsApp message does
    again = _wrote(backend, Channel.WHATSAPP, phone, timedelta(minutes=1))
    assert again == old
    assert backend.reply(old, "Eccomi").channel is Channel.WHATSAPP
