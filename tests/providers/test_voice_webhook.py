"""Twilio Voice status callbacks on a live server: signed like the SMS webhook, the agent
named in the callback URL, ringing -> in-progress -> completed as the call's states; and
the public knowledge search a website calls without a token."""

from __future__ import annotations

import sqlite3
from contextlib import closing

import httpx

from backends.models import CallState
from backends.providers import twilio
from tests.providers.conftest import AUTH_TOKEN, ChannelServer

VOICE_PATH = "/api/v1/calls/twilio"


def _form(status: str, sid: str = "CA0123456789abcdef0123456789abcdef") -> dict[str, str]:
    return {
        "AccountSid": "ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
        "CallSid": sid,
        "CallStatus": status,
        "From": "+393470000420",
        "To": "+390212345678",
        "Direction": "inbound",
        "ApiVersion": "2010-04-01",
    }


def _post(
    server: ChannelServer,
    form: dict[str, str],
    query: str = "?agent=giulia",
    token: str = AUTH_TOKEN,
) -> httpx.Response:
    url = server.url + VOICE_PATH + query
    headers = {"x-twilio-signature": twilio.signature(token, url, form.items())}
    return httpx.post(url, data=form, headers=headers)


def _calls(server: ChannelServer) -> list[tuple[str, str, str]]:
    with closing(sqlite3.connect(server.live.db)) as conn:
        return conn.execute("SELECT call_id, state, agent FROM calls ORDER BY call_id").fetchall()


def test_a_ringing_then_answered_then_completed_call(channels: ChannelServer) -> None:
    answer = _post(channels, _form("ringing"))
    assert answer.status_code == 200 and answer.text.startswith("<?xml")
    assert _calls(channels) == [("CA0123456789abcdef0123456789abcdef", "ringing", "giulia")]
    backend = channels.live.backend_for("giulia")
    try:
        contact = backend.lookup(phone="+393470000420").customer.open_contacts[0]
        assert contact.assignee == "giulia"
        assert _post(channels, _form("in-progress")).status_code == 200
        assert _post(channels, _form("completed")).status_code == 200
        call = backend.calls(contact.id)[0]
        assert call.state is CallState.ENDED and call.new_caller
    finally:
        backend.close()


def test_an_unsigned_or_wrongly_signed_callback_changes_nothing(channels: ChannelServer) -> None:
    form = _form("ringing", "CAbad")
    unsigned = httpx.post(channels.url + VOICE_PATH, data=form)
    assert unsigned.status_code == 401
    assert _post(channels, form, token="not-the-token").status_code == 403
    # the agent is part of the signed URL: changing it breaks the signature
    url = channels.url + VOICE_PATH + "?agent=giulia"
    headers = {"x-twilio-signature": twilio.signature(AUTH_TOKEN, url, form.items())}
    moved = httpx.post(channels.url + VOICE_PATH + "?agent=marco", data=form, headers=headers)
    assert moved.status_code == 403
    assert _calls(channels) == []


def test_a_callback_with_an_unknown_status_is_refused(channels: ChannelServer) -> None:
    assert _post(channels, _form("teleported")).status_code == 400
    assert _calls(channels) == []


def test_kb_search_is_public_and_read_only(channels: ChannelServer) -> None:
    found = httpx.get(
        channels.url + "/api/v1/kb/search", params={"q": "reso rimborso", "lang": "it"}
    )
    assert found.status_code == 200
    assert found.headers["access-control-allow-origin"] == "*"
    hits = found.json()
    assert hits and all(h["language"] == "it" for h in hits)
    # the other knowledge endpoints need a token
    assert httpx.get(channels.url + "/api/v1/kb/articles").status_code == 401
    assert (
        httpx.post(channels.url + "/api/v1/kb/articles", json={"articles": []}).status_code == 401
    )
    # a wrong token is refused even where none is needed
    wrong = httpx.get(
        channels.url + "/api/v1/kb/search",
        params={"q": "reso"},
        headers={"authorization": "Bearer nope"},
    )
    assert wrong.status_code == 401
