"""Providers deliver again what they are not sure we got: WhatsApp's Cloud API redelivers a
notification with the same message id (wamid), Twilio retries an SMS webhook with the same
MessageSid. Through the real webhook endpoints, signed as the providers sign, on a SQLite
store and on a PostgreSQL one: a new id is stored, the same id again is stored once and
still answered 200 (else the provider keeps retrying), also when both copies arrive at once.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from backends import copy_store
from tests.postgres_server import COPIES, read_store
from tests.providers.conftest import ChannelServer, fixture_bytes, fixture_form
from tests.race import at_once

TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


@pytest.fixture(params=["sqlite", "postgres"])
def served(
    request: pytest.FixtureRequest, channels_server: ChannelServer, demo_db: Path
) -> Iterator[ChannelServer]:
    """The channels server on this test's store: the demo file, or a PostgreSQL copy."""
    if request.param == "postgres":
        server = request.getfixturevalue("postgres_server")
        url = str(server.create(server.new_name()))
        copy_store(str(demo_db), url)
        COPIES[demo_db] = url  # read_store reads the database the server writes
        channels_server.live.serve(url)
    else:
        channels_server.live.serve(demo_db)
    yield channels_server
    COPIES.pop(demo_db, None)


def _stored(demo_db: Path, channel: str, external_id: str) -> int:
    """Messages of `channel` stored under the provider's id."""
    found = read_store(
        demo_db,
        "SELECT count(*) FROM messages WHERE channel = ? AND external_id = ?",
        channel,
        external_id,
    )
    return int(found[0][0])


def _whatsapp(wamid: str) -> bytes:
    """The documented text notification, carrying the message id `wamid`."""
    body = json.loads(fixture_bytes("whatsapp/text.json"))
    body["entry"][0]["changes"][0]["value"]["messages"][0]["id"] = wamid
    return json.dumps(body).encode()


def _at_once(post: Callable[[], httpx.Response]) -> list[httpx.Response]:
    """The same delivery posted twice at one moment: both answers."""
    return at_once([post, post])


def test_a_redelivered_whatsapp_message_is_stored_once(
    served: ChannelServer, demo_db: Path
) -> None:
    wamid = "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA="
    first = served.post_whatsapp(_whatsapp(wamid))
    again = served.post_whatsapp(_whatsapp(wamid))
    assert first.status_code == again.status_code == 200
    assert (first.json()["delivered"], first.json()["duplicates"]) == (1, 0)
    assert (again.json()["delivered"], again.json()["duplicates"]) == (0, 1)
    assert _stored(demo_db, "whatsapp", wamid) == 1
    # another message id from the same sender is another message
    other = served.post_whatsapp(_whatsapp(wamid + "2"))
    assert other.status_code == 200 and other.json()["delivered"] == 1
    assert _stored(demo_db, "whatsapp", wamid + "2") == 1
    # both copies of a redelivery at the same moment: one stored, both answered 200
    racing = "wamid.racing-redelivery"
    answers = _at_once(lambda: served.post_whatsapp(_whatsapp(racing)))
    assert [a.status_code for a in answers] == [200, 200]
    assert sorted(a.json()["duplicates"] for a in answers) == [0, 1]
    assert _stored(demo_db, "whatsapp", racing) == 1


def test_a_redelivered_sms_is_stored_once(served: ChannelServer, demo_db: Path) -> None:
    form = fixture_form("sms/incoming_sms.json")
    sid = form["MessageSid"]
    for _ in range(2):
        answer = served.post_sms(form)
        assert answer.status_code == 200 and answer.text == TWIML
    assert _stored(demo_db, "sms", sid) == 1
    fresh = {**form, "MessageSid": sid[:-4] + "beef", "SmsSid": sid[:-4] + "beef"}
    fresh["SmsMessageSid"] = fresh["SmsSid"]
    assert served.post_sms(fresh).status_code == 200
    assert _stored(demo_db, "sms", fresh["MessageSid"]) == 1
    racing = {**form, "MessageSid": "SMracing", "SmsSid": "SMracing", "SmsMessageSid": "SMracing"}
    answers = _at_once(lambda: served.post_sms(racing))
    assert [(a.status_code, a.text) for a in answers] == [(200, TWIML), (200, TWIML)]
    assert _stored(demo_db, "sms", "SMracing") == 1
