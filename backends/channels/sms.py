"""SMS out through Twilio's Messages API (`POST /2010-04-01/Accounts/{sid}/Messages.json`).

Basic auth with the account SID and auth token, form fields To, From (or a
MessagingServiceSid) and Body. The message SID the API answers is the
receipt's id: status callbacks name it.
"""

from __future__ import annotations

import base64

from backends.base import InvalidInput
from backends.channels.config import SmsSettings
from backends.channels.connector import (
    Outbound,
    PermanentFailure,
)
from backends.channels.provider_http import HttpConnector, failure, json_object, one_line
from backends.providers import twilio
from backends.providers.delivery import ProviderRequest, SendResult


class SmsConnector(HttpConnector):
    """The `Connector` for SMS through Twilio."""

    kind = "sms"

    def __init__(self, settings: SmsSettings) -> None:
        super().__init__(settings)
        self.settings = settings

    def request(self, message: Outbound) -> ProviderRequest:
        """The Messages API request for `message` (PermanentFailure for an unusable one)."""
        s = self.settings
        token = self._token()
        try:
            return twilio.messages_request(
                s.account_sid,
                token,
                message.recipient,
                message.body,
                from_=s.sender,
                messaging_service_sid=s.messaging_service_sid,
                status_callback=s.status_callback,
                base=s.api_url,
            )
        except InvalidInput as e:
            raise PermanentFailure(e.message) from e

    def parse(self, status: int, body: bytes) -> SendResult:
        return twilio.parse_send_response(status, body)

    def check(self) -> str:
        """GET the account resource: the SID and the token belong together."""
        s = self.settings
        token = self._token()
        url = f"{s.api_url}/2010-04-01/Accounts/{s.account_sid}.json"
        credentials = base64.b64encode(f"{s.account_sid}:{token}".encode()).decode()
        answer = self._http.call(
            ProviderRequest("GET", url, {"authorization": f"Basic {credentials}"})
        )
        data = json_object(answer.content)
        if answer.status_code != 200:
            raise failure(answer.status_code, str(data.get("message", "")))
        name = one_line(str(data.get("friendly_name", "")))
        status = one_line(str(data.get("status", "")))
        return f"{url} answered: {name or s.account_sid}{f' ({status})' if status else ''}"
