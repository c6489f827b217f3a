"""The HTTP side of the API connectors (WhatsApp, SMS): one kept client, and what an answer means.

A timeout, a dropped connection, a throttle (429) or the provider's own failure
(5xx) is worth another try; any other refusal (4xx) is final, with the
provider's words. A refused credential (401) is the configuration's fault, not
the message's, so it waits for a fix as SMTP's refused login does.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from backends.base import InvalidInput
from backends.channels.config import SmsSettings, WhatsAppSettings
from backends.channels.connector import (
    Outbound,
    PermanentFailure,
    ProviderReceipt,
    SendError,
    TemporaryFailure,
)
from backends.models import Channel
from backends.providers.delivery import ProviderRequest, SendResult

if TYPE_CHECKING:
    import httpx

_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def one_line(text: str) -> str:
    """Provider text for the operator: one line, no control characters."""
    return _CONTROL.sub(" ", text).strip()


class ProviderClient:
    """An httpx client for one provider's API, opened at first use and kept until `close`."""

    def __init__(self, name: str, timeout: float) -> None:
        self.name = name
        self.timeout = timeout
        self._client: httpx.Client | None = None

    def _session(self) -> httpx.Client:
        import httpx  # see `call`

        if self._client is None:
            self._client = httpx.Client(timeout=self.timeout, follow_redirects=False)
        return self._client

    def call(self, request: ProviderRequest) -> httpx.Response:
        """Send `request`; a transport trouble is a TemporaryFailure naming the host."""
        import httpx  # here, not at import: httpx's own CLI module loads rich when it can

        try:
            return self._session().request(
                request.method, request.url, headers=request.headers, content=request.body or None
            )
        except httpx.TimeoutException as e:
            self.close()
            host = httpx.URL(request.url).netloc.decode()
            raise TemporaryFailure(f"{host} did not answer within {self.timeout:g} s") from e
        except httpx.HTTPError as e:
            self.close()
            host = httpx.URL(request.url).netloc.decode()
            raise TemporaryFailure(f"{host}: {one_line(str(e)) or type(e).__name__}") from e

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def receipt(status: int, result: SendResult) -> ProviderReceipt:
    """The receipt of an accepted send, or the failure the answer means."""
    if result.provider_message_id is not None:
        return ProviderReceipt(provider_id=result.provider_message_id)
    raise failure(status, result.error, retryable=result.retryable)


def failure(status: int, words: str, *, retryable: bool = False) -> SendError:
    """What a refusal with HTTP `status` means for the message."""
    text = one_line(words) or f"HTTP {status}"
    if status == 401:
        return TemporaryFailure(f"authentication refused: {text}")
    if retryable or status == 429 or status >= 500:
        return TemporaryFailure(f"HTTP {status}: {text}")
    return PermanentFailure(f"HTTP {status}: {text}" if status >= 300 else text)


def json_object(body: bytes) -> dict[str, Any]:
    """A JSON object answer ({} for anything else)."""
    try:
        data = json.loads(body) if body.strip() else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


#: The settings of a connector to a provider's HTTP API.
ProviderSettings = WhatsAppSettings | SmsSettings


class HttpConnector:
    """What the connectors to a provider's HTTP API share: the settings' name and channels,
    one kept-alive client, the token read at each send, and `send` as `request` then
    `parse` of the answer. A subclass gives `request`, `parse` and `check`."""

    kind = ""

    def __init__(self, settings: ProviderSettings) -> None:
        self.name = settings.name
        self.channels: frozenset[Channel] = settings.channels
        self._secret = settings.token
        self._http = ProviderClient(settings.name, settings.timeout)

    def _token(self) -> str:
        try:
            return self._secret.reveal()
        except InvalidInput as e:  # the token's variable or file is missing: wait for a fix
            raise TemporaryFailure(e.message) from e

    def request(self, message: Outbound) -> ProviderRequest:
        raise NotImplementedError

    def parse(self, status: int, body: bytes) -> SendResult:
        raise NotImplementedError

    def send(self, message: Outbound) -> ProviderReceipt:
        answer = self._http.call(self.request(message))
        return receipt(answer.status_code, self.parse(answer.status_code, answer.content))

    def close(self) -> None:
        self._http.close()
