"""The consent rule itself: what counts as a reply on each channel, and the boundaries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from backends.consent import REPLY_WINDOW, consent_channel, consent_problem, parse_consent
from backends.models import Channel

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize("channel", list(REPLY_WINDOW))
def test_each_channel_window_inclusive_then_consent_needed(channel: Channel) -> None:
    window = REPLY_WINDOW[channel]
    rule = {"now": NOW, "contact_channel": channel}
    assert consent_problem(channel, {}, last_inbound_at=NOW - window, **rule) is None
    late = NOW - window - timedelta(seconds=1)
    problem = consent_problem(channel, {}, last_inbound_at=late, **rule)
    assert problem is not None and f"no {channel.value} consent" in problem
    assert consent_problem(channel, {channel.value: True}, last_inbound_at=late, **rule) is None
    assert consent_problem(channel, {channel.value: False}, last_inbound_at=late, **rule)
    assert consent_problem(channel, {}, last_inbound_at=None, **rule)  # never wrote: proactive


def test_the_windows_named_in_the_error() -> None:
    email = consent_problem(
        Channel.EMAIL, {}, now=NOW, contact_channel=Channel.EMAIL, last_inbound_at=None
    )
    sms = consent_problem(
        Channel.SMS, {}, now=NOW, contact_channel=Channel.SMS, last_inbound_at=None
    )
    assert email is not None and "30 days" in email
    assert sms is not None and "24 hours" in sms


def test_chat_and_web_need_no_consent_and_another_channel_is_proactive() -> None:
    for channel in (Channel.CHAT, Channel.WEB):
        assert (
            consent_problem(channel, {}, now=NOW, contact_channel=channel, last_inbound_at=None)
            is None
        )
    assert consent_problem(
        Channel.SMS, {}, now=NOW, contact_channel=Channel.WHATSAPP, last_inbound_at=NOW
    )


def test_consent_values_as_sources_write_them() -> None:
    assert [parse_consent(v) for v in ("yes", "TRUE", "1", "opt-in", True)] == [True] * 5
    assert [parse_consent(v) for v in ("no", "false", "0", "opt-out", "")] == [False] * 5
    assert parse_consent("perhaps") is None
    assert consent_channel(" WhatsApp ") is Channel.WHATSAPP
    with pytest.raises(ValueError, match="channels: email, sms, whatsapp, phone"):
        consent_channel("chat")
