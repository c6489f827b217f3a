"""WhatsApp out through the Cloud API (Graph API `POST /{phone_number_id}/messages`).

Free text inside the 24-hour window; outside it, the approved template the
reply fills, named with its language and body parameters (the outbox finds
them). The wamid the API answers is the receipt's id: status webhooks name it.
"""

from __future__ import annotations

from backends.base import InvalidInput
from backends.channels.config import WhatsAppSettings
from backends.channels.connector import (
    Outbound,
    PermanentFailure,
)
from backends.channels.provider_http import HttpConnector, failure, json_object, one_line
from backends.providers import whatsapp
from backends.providers.delivery import ProviderRequest, SendResult


class WhatsAppConnector(HttpConnector):
    """The `Connector` for the WhatsApp Cloud API."""

    kind = "whatsapp"

    def __init__(self, settings: WhatsAppSettings) -> None:
        super().__init__(settings)
        self.settings = settings
        # api_url ends with the Graph API version: https://graph.facebook.com/v21.0
        self._base, _, self._version = settings.api_url.rstrip("/").rpartition("/")

    def request(self, message: Outbound) -> ProviderRequest:
        """The Graph API request for `message` (PermanentFailure for an unusable one)."""
        s = self.settings
        token = self._token()
        try:
            if message.template:
                return whatsapp.template_request(
                    s.phone_number_id,
                    token,
                    message.recipient,
                    message.template,
                    message.template_language or s.template_language,
                    message.template_parameters,
                    version=self._version,
                    base=self._base,
                )
            return whatsapp.text_request(
                s.phone_number_id,
                token,
                message.recipient,
                message.body,
                version=self._version,
                base=self._base,
            )
        except InvalidInput as e:
            raise PermanentFailure(e.message) from e

    def parse(self, status: int, body: bytes) -> SendResult:
        return whatsapp.parse_send_response(status, body)

    def check(self) -> str:
        """GET the phone number object: the token works and the number is the account's."""
        s = self.settings
        token = self._token()
        url = f"{s.api_url}/{s.phone_number_id}"
        answer = self._http.call(ProviderRequest("GET", url, {"authorization": f"Bearer {token}"}))
        data = json_object(answer.content)
        if answer.status_code != 200:
            error = data.get("error")
            words = str(error.get("message", "")) if isinstance(error, dict) else ""
            raise failure(answer.status_code, words)
        number = one_line(str(data.get("display_phone_number", "")))
        name = one_line(str(data.get("verified_name", "")))
        return f"{url} answered: {number or s.phone_number_id}{f' ({name})' if name else ''}"
