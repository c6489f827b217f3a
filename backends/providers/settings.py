"""The channels' secrets and limits, read from the environment (never from argv or a file
the console prints). A webhook whose secret is missing answers 503 and names the variable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from backends.base import InvalidInput

WHATSAPP_APP_SECRET = "VISTA_WHATSAPP_APP_SECRET"
WHATSAPP_VERIFY_TOKEN = "VISTA_WHATSAPP_VERIFY_TOKEN"
TWILIO_AUTH_TOKEN = "VISTA_TWILIO_AUTH_TOKEN"
PUBLIC_URL = "VISTA_PUBLIC_URL"
EMAIL_MAX_BYTES = "VISTA_EMAIL_MAX_BYTES"
DEFAULT_EMAIL_MAX_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ChannelSettings:
    """What the webhooks need to trust a provider. Secrets are left out of repr()."""

    whatsapp_app_secret: str = field(default="", repr=False)
    whatsapp_verify_token: str = field(default="", repr=False)
    twilio_auth_token: str = field(default="", repr=False)
    public_url: str = ""  # the server's address as providers see it (behind a proxy)
    email_max_bytes: int = DEFAULT_EMAIL_MAX_BYTES

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ChannelSettings:
        """The settings in `environ` (default: the process environment).

        Raises:
            InvalidInput: VISTA_EMAIL_MAX_BYTES or VISTA_PUBLIC_URL is malformed.
        """
        env = os.environ if environ is None else environ
        raw_max = env.get(EMAIL_MAX_BYTES, "").strip()
        if raw_max and (not raw_max.isdigit() or int(raw_max) <= 0):
            raise InvalidInput(f"{EMAIL_MAX_BYTES} must be a positive number of bytes")
        public = env.get(PUBLIC_URL, "").strip().rstrip("/")
        if public and not public.startswith(("http://", "https://")):
            raise InvalidInput(f"{PUBLIC_URL} must start with http:// or https://")
        return cls(
            whatsapp_app_secret=env.get(WHATSAPP_APP_SECRET, "").strip(),
            whatsapp_verify_token=env.get(WHATSAPP_VERIFY_TOKEN, "").strip(),
            twilio_auth_token=env.get(TWILIO_AUTH_TOKEN, "").strip(),
            public_url=public,
            email_max_bytes=int(raw_max) if raw_max else DEFAULT_EMAIL_MAX_BYTES,
        )
