"""`channels.toml`: the connectors that carry replies out, and the dispatcher's retry policy.

Secrets never live in the file, the database or the output: a connector names
an environment variable (`password_env`) or a file (`password_file`) and the
password is read only when the connector connects.

    [dispatch]
    max_attempts = 8          # then the message is marked failed
    backoff_seconds = 30      # the first retry; doubles each time
    backoff_max_seconds = 3600
    lease_seconds = 120       # a claimed message waits this long for a dead dispatcher
    batch = 100
    connections = 4           # sessions to a relay at once

    [connectors.mail]
    type = "smtp"
    channels = ["email"]
    host = "smtp.example.com"
    port = 587
    security = "starttls"     # "starttls", "tls" (implicit, port 465) or "none"
    username = "support@example.com"
    password_env = "SMTP_PASSWORD"
    from = "Customer care <support@example.com>"

    [connectors.whatsapp]
    type = "whatsapp"           # the WhatsApp Cloud API (Graph API)
    phone_number_id = "106540352242922"
    token_env = "WHATSAPP_TOKEN"  # or token_file
    api_url = "https://graph.facebook.com/v21.0"
    template_language = "en_US"  # for templates stored without a language

    [connectors.sms]
    type = "sms"                # Twilio's Messages API
    account_sid = "AC..."
    from = "+15005550006"       # or messaging_service_sid = "MG..."
    token_env = "TWILIO_AUTH_TOKEN"  # or token_file
    api_url = "https://api.twilio.com"
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from backends.base import InvalidInput
from backends.models import Channel

#: The environment variable naming the file (after `--channels`, before "next to the store").
ENV_CHANNELS = "VISTA_CHANNELS"
FILE_NAME = "channels.toml"

SECURITY = ("starttls", "tls", "none")
GRAPH_API_URL = "https://graph.facebook.com/v21.0"
TWILIO_API_URL = "https://api.twilio.com"


@dataclass(frozen=True, slots=True)
class Secret:
    """Where a password is kept; what it is stays unsaid until `reveal`."""

    env: str | None = None
    file: Path | None = None

    def __repr__(self) -> str:
        return f"Secret({self.describe()})"

    def describe(self) -> str:
        """Where the secret comes from and whether it is there, never the secret itself."""
        if self.env is not None:
            return f"${self.env} ({'set' if os.environ.get(self.env) else 'not set'})"
        if self.file is not None:
            state = "readable" if os.access(self.file, os.R_OK) else "not readable"
            return f"file {self.file} ({state})"
        return "none"

    def reveal(self) -> str:
        """The secret, or InvalidInput naming where it should have been."""
        if self.env is not None:
            value = os.environ.get(self.env)
            if not value:
                raise InvalidInput(f"the environment variable {self.env} is not set")
            return value
        if self.file is not None:
            try:
                return self.file.read_text("utf-8").rstrip("\r\n")
            except OSError as e:
                raise InvalidInput(
                    f"cannot read the password file {self.file}: {e.strerror}"
                ) from e
        raise InvalidInput("no password configured")


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    name: str
    channels: frozenset[Channel]
    host: str
    port: int
    security: str
    sender: str
    username: str | None = None
    password: Secret | None = None
    timeout: float = 10.0
    ca_file: Path | None = None  # trust this CA (a relay with an in-house certificate)
    kind: str = "smtp"


@dataclass(frozen=True, slots=True)
class WhatsAppSettings:
    name: str
    phone_number_id: str
    token: Secret
    api_url: str = GRAPH_API_URL  # the version is part of it
    template_language: str = "en_US"
    timeout: float = 10.0
    channels: frozenset[Channel] = frozenset({Channel.WHATSAPP})
    kind: str = "whatsapp"


@dataclass(frozen=True, slots=True)
class SmsSettings:
    name: str
    account_sid: str
    token: Secret
    sender: str = ""  # the From number
    messaging_service_sid: str = ""
    api_url: str = TWILIO_API_URL
    status_callback: str = ""  # where Twilio posts delivery statuses (the SMS webhook)
    timeout: float = 10.0
    channels: frozenset[Channel] = frozenset({Channel.SMS})
    kind: str = "sms"


#: Any connector's settings; `kind` says which.
ConnectorSettings = SmtpSettings | WhatsAppSettings | SmsSettings


@dataclass(frozen=True, slots=True)
class DispatchSettings:
    max_attempts: int = 8
    backoff_seconds: float = 30.0
    backoff_max_seconds: float = 3600.0
    lease_seconds: float = 120.0
    batch: int = 100
    poll_seconds: float = 1.0
    connections: int = 4  # sessions to a provider at once (one per sending thread)


@dataclass(frozen=True, slots=True)
class ChannelsConfig:
    path: Path | None
    connectors: tuple[ConnectorSettings, ...] = ()
    dispatch: DispatchSettings = field(default_factory=DispatchSettings)

    def connector(self, name: str) -> ConnectorSettings:
        for c in self.connectors:
            if c.name == name:
                return c
        known = ", ".join(c.name for c in self.connectors) or "none"
        raise InvalidInput(f"no connector named {name!r} in {self.path} (configured: {known})")


def locate(explicit: str | Path | None, store: Path | None) -> Path | None:
    """The channels file: `--channels`, else $VISTA_CHANNELS, else channels.toml next to
    the store (None when that does not exist)."""
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get(ENV_CHANNELS)
    if env:
        return Path(env).expanduser()
    if store is not None:
        beside = store.expanduser().parent / FILE_NAME
        if beside.exists():
            return beside
    return None


def load(path: Path | None) -> ChannelsConfig:
    """Read and check the file; None (no file) is an empty configuration.

    Raises:
        InvalidInput: unreadable file, bad TOML, an unknown key or a wrong value,
            naming the file and the key.
    """
    if path is None:
        return ChannelsConfig(None)
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except FileNotFoundError as e:
        raise InvalidInput(f"no channels file at {path}") from e
    except OSError as e:
        raise InvalidInput(f"cannot read {path}: {e.strerror}") from e
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise InvalidInput(f"{path}: not valid TOML ({e})") from e
    _only(data, ("dispatch", "connectors"), f"{path}")
    dispatch = _dispatch(data.get("dispatch", {}), f"{path} [dispatch]")
    connectors = data.get("connectors", {})
    if not isinstance(connectors, dict):
        raise InvalidInput(f"{path}: [connectors] must be a table of named connectors")
    built = tuple(
        _connector(name, table, path.parent, f"{path} [connectors.{name}]")
        for name, table in connectors.items()
    )
    return ChannelsConfig(path, built, dispatch)


def _only(table: Any, keys: tuple[str, ...], where: str) -> None:
    if not isinstance(table, dict):
        raise InvalidInput(f"{where} must be a table")
    unknown = sorted(set(table) - set(keys))
    if unknown:
        raise InvalidInput(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(keys)})")


def _number(table: dict[str, Any], key: str, default: float, where: str, low: float) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < low:
        raise InvalidInput(f"{where}: {key} must be a number of at least {low:g}")
    return float(value)


def _dispatch(table: Any, where: str) -> DispatchSettings:
    _only(
        table,
        (
            "max_attempts",
            "backoff_seconds",
            "backoff_max_seconds",
            "lease_seconds",
            "batch",
            "poll_seconds",
            "connections",
        ),
        where,
    )
    d = DispatchSettings()
    return DispatchSettings(
        max_attempts=int(_number(table, "max_attempts", d.max_attempts, where, 1)),
        backoff_seconds=_number(table, "backoff_seconds", d.backoff_seconds, where, 0),
        backoff_max_seconds=_number(table, "backoff_max_seconds", d.backoff_max_seconds, where, 0),
        lease_seconds=_number(table, "lease_seconds", d.lease_seconds, where, 0.1),
        batch=int(_number(table, "batch", d.batch, where, 1)),
        poll_seconds=_number(table, "poll_seconds", d.poll_seconds, where, 0.01),
        connections=int(_number(table, "connections", d.connections, where, 1)),
    )


def _text(table: dict[str, Any], key: str, where: str, default: str | None = None) -> str:
    value = table.get(key, default)
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{where}: {key} must be a non-empty string")
    return value.strip()


def _connector(name: str, table: Any, base: Path, where: str) -> ConnectorSettings:
    if not isinstance(table, dict):
        raise InvalidInput(f"{where} must be a table")
    for secret in ("password", "token", "auth_token", "access_token"):
        if secret in table:
            what = "password" if secret == "password" else "token"
            raise InvalidInput(
                f"{where}: a {what} does not belong in the file; name an environment "
                f"variable ({what}_env) or a file ({what}_file)"
            )
    kind = table.get("type")
    if kind == "whatsapp":
        return _whatsapp(name, table, base, where)
    if kind == "sms":
        return _sms(name, table, base, where)
    if kind != "smtp":
        raise InvalidInput(f'{where}: type must be "smtp", "whatsapp" or "sms" (got {kind!r})')
    _only(
        table,
        (
            "type",
            "channels",
            "host",
            "port",
            "security",
            "username",
            "password_env",
            "password_file",
            "from",
            "timeout",
            "ca_file",
        ),
        where,
    )
    raw = table.get("channels", ["email"])
    try:
        channels = frozenset(Channel(c) for c in raw)
    except (TypeError, ValueError) as e:
        raise InvalidInput(f"{where}: channels must be a list of channel names") from e
    if channels != {Channel.EMAIL}:
        raise InvalidInput(f"{where}: an smtp connector carries only the email channel")
    security = table.get("security", "starttls")
    if security not in SECURITY:
        raise InvalidInput(f"{where}: security must be one of {', '.join(SECURITY)}")
    port = table.get("port", 465 if security == "tls" else 587)
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise InvalidInput(f"{where}: port must be a number from 1 to 65535")
    if "password_env" in table and "password_file" in table:
        raise InvalidInput(f"{where}: give password_env or password_file, not both")
    password: Secret | None = None
    if "password_env" in table:
        password = Secret(env=_text(table, "password_env", where))
    elif "password_file" in table:
        password = Secret(file=(base / _text(table, "password_file", where)).expanduser())
    username = table.get("username")
    if username is not None:
        username = _text(table, "username", where)
    if password is not None and username is None:
        raise InvalidInput(f"{where}: a password needs a username")
    ca_file = table.get("ca_file")
    return SmtpSettings(
        name=name,
        channels=channels,
        host=_text(table, "host", where),
        port=port,
        security=security,
        sender=_text(table, "from", where),
        username=username,
        password=password,
        timeout=_number(table, "timeout", 10.0, where, 0.1),
        ca_file=(base / _text(table, "ca_file", where)) if ca_file is not None else None,
    )


def _channels(table: dict[str, Any], where: str, only: Channel) -> frozenset[Channel]:
    raw = table.get("channels", [only.value])
    try:
        channels = frozenset(Channel(c) for c in raw)
    except (TypeError, ValueError) as e:
        raise InvalidInput(f"{where}: channels must be a list of channel names") from e
    if channels != {only}:
        raise InvalidInput(f"{where}: a {table['type']} connector carries only the {only} channel")
    return channels


def _token(table: dict[str, Any], base: Path, where: str) -> Secret:
    if "token_env" in table and "token_file" in table:
        raise InvalidInput(f"{where}: give token_env or token_file, not both")
    if "token_env" in table:
        return Secret(env=_text(table, "token_env", where))
    if "token_file" in table:
        return Secret(file=(base / _text(table, "token_file", where)).expanduser())
    raise InvalidInput(f"{where}: name the token's environment variable (token_env) or file")


def _url(table: dict[str, Any], where: str, default: str) -> str:
    url = _text(table, "api_url", where, default).rstrip("/")
    if not url.startswith(("https://", "http://")):
        raise InvalidInput(f"{where}: api_url must start with https:// or http://")
    return url


def _whatsapp(name: str, table: dict[str, Any], base: Path, where: str) -> WhatsAppSettings:
    keys = ("type", "channels", "phone_number_id", "token_env", "token_file", "api_url")
    _only(table, (*keys, "template_language", "timeout"), where)
    api_url = _url(table, where, GRAPH_API_URL)
    if not urlsplit(api_url).path.strip("/"):
        raise InvalidInput(f"{where}: api_url must end with the Graph API version (.../v21.0)")
    number_id = _text(table, "phone_number_id", where)
    if not number_id.isdigit():
        raise InvalidInput(f"{where}: phone_number_id must be the number's id (digits)")
    return WhatsAppSettings(
        name=name,
        channels=_channels(table, where, Channel.WHATSAPP),
        phone_number_id=number_id,
        token=_token(table, base, where),
        api_url=api_url,
        template_language=_text(table, "template_language", where, "en_US"),
        timeout=_number(table, "timeout", 10.0, where, 0.1),
    )


def _sms(name: str, table: dict[str, Any], base: Path, where: str) -> SmsSettings:
    keys = ("type", "channels", "account_sid", "from", "messaging_service_sid", "token_env")
    _only(table, (*keys, "token_file", "api_url", "status_callback", "timeout"), where)
    sender = _text(table, "from", where) if "from" in table else ""
    service = (
        _text(table, "messaging_service_sid", where) if "messaging_service_sid" in table else ""
    )
    if not (sender or service):
        raise InvalidInput(
            f"{where}: give the number to send from (from) or a messaging_service_sid"
        )
    callback = _text(table, "status_callback", where) if "status_callback" in table else ""
    return SmsSettings(
        name=name,
        channels=_channels(table, where, Channel.SMS),
        account_sid=_text(table, "account_sid", where),
        token=_token(table, base, where),
        sender=sender,
        messaging_service_sid=service,
        api_url=_url(table, where, TWILIO_API_URL),
        status_callback=callback,
        timeout=_number(table, "timeout", 10.0, where, 0.1),
    )
