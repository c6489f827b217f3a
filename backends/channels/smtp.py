"""E-mail out over SMTP (smtplib): STARTTLS or implicit TLS, authentication, proper MIME.

A reply is a UTF-8 text part (with an HTML alternative when its template has
one), a Message-ID built from the message's idempotency key (so a retry after
a crash carries the same id and mail systems can drop the copy), and
In-Reply-To / References from the customer's thread, so the reply threads.
One connection is kept open across a batch and dropped when idle.
"""

from __future__ import annotations

import re
import smtplib
import socket
import ssl
import time
from email import policy as email_policy
from email.headerregistry import Address, BaseHeader, HeaderRegistry
from email.message import EmailMessage
from email.utils import formatdate, getaddresses

from backends.base import InvalidInput
from backends.channels.config import SmtpSettings
from backends.channels.connector import (
    Outbound,
    PermanentFailure,
    ProviderReceipt,
    SendError,
    TemporaryFailure,
)
from backends.models import Channel

#: A kept connection older than this (idle) is closed before the next send; relays drop
#: idle sessions, and finding out mid-send would cost a retry.
IDLE_SECONDS = 20.0

_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")

#: An address with non-ASCII characters (RFC 6531): one @, no spaces, controls or brackets.
_INTERNATIONAL = re.compile(
    r"[^\s@<>()\[\]\\,;:\"\x00-\x1f\x7f]+@[^\s@<>()\[\]\\,;:\"\x00-\x1f\x7f]+"
)


class _Headers(HeaderRegistry):
    """The standard header registry, remembering the class it makes per header name
    (the stock one builds a new class on every header set: a fifth of building a message)."""

    def __init__(self) -> None:
        super().__init__()
        self._made: dict[str, type[BaseHeader]] = {}

    def __getitem__(self, name: str) -> type[BaseHeader]:
        key = name.lower()
        made = self._made.get(key)
        if made is None:
            made = self._made[key] = super().__getitem__(name)
        return made


#: email's default policy (RFC 5322, UTF-8 aware) with the remembering header registry.
POLICY = email_policy.default.clone(header_factory=_Headers())
#: How a message goes on the wire: CRLF line ends; UTF-8 headers where the relay takes them.
_WIRE = POLICY.clone(linesep="\r\n")
_WIRE_UTF8 = _WIRE.clone(utf8=True)


def _one_line(text: str) -> str:
    """Header text from customer data: no line breaks or control characters (no injection)."""
    return _CONTROL.sub(" ", text).strip()


def _failure(code: int, text: bytes | str, what: str) -> SendError:
    reason = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    line = f"{what}: {code} {_one_line(reason)}".strip()
    return PermanentFailure(line) if 500 <= code < 600 else TemporaryFailure(line)


class SmtpConnector:
    """The `Connector` for e-mail through an SMTP relay."""

    kind = "smtp"

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self.name = settings.name
        self.channels: frozenset[Channel] = settings.channels
        pairs = getaddresses([settings.sender])
        if len(pairs) != 1 or "@" not in pairs[0][1]:
            raise InvalidInput(
                f"connector {settings.name}: from {settings.sender!r} is not an address"
            )
        self._from_name, self._from_addr = pairs[0]
        self.domain = self._from_addr.rsplit("@", 1)[1]
        self._smtp: smtplib.SMTP | None = None
        self._used = 0.0

    # -- the message -----------------------------------------------------------------

    def message_id(self, key: str) -> str:
        return f"<{key}@{self.domain}>"

    def build(self, message: Outbound) -> EmailMessage:
        """The MIME message for `message` (raises PermanentFailure for an unusable address)."""
        if not message.recipient:
            raise PermanentFailure("the customer has no e-mail address")
        mail = EmailMessage(policy=POLICY)
        try:
            mail["From"] = Address(self._from_name, addr_spec=self._from_addr)
            name = _one_line(message.recipient_name)
            if message.recipient.isascii():
                mail["To"] = Address(name, addr_spec=message.recipient)
            elif _INTERNATIONAL.fullmatch(message.recipient):
                # email's Address refuses a non-ASCII local part; SMTPUTF8 carries it as is
                quoted = name.replace("\\", "\\\\").replace('"', '\\"')
                mail["To"] = f'"{quoted}" <{message.recipient}>' if name else message.recipient
            else:
                raise ValueError(message.recipient)
        except (ValueError, IndexError) as e:
            raise PermanentFailure(f"not an e-mail address: {message.recipient!r}") from e
        mail["Subject"] = _one_line(message.subject) or "Re:"
        mail["Date"] = formatdate(usegmt=True)
        mail["Message-ID"] = self.message_id(message.key)
        if message.in_reply_to:
            mail["In-Reply-To"] = message.in_reply_to
        if message.references:
            mail["References"] = " ".join(message.references)
        mail.set_content(message.body, charset="utf-8")
        if message.html:
            mail.add_alternative(message.html, subtype="html", charset="utf-8")
        return mail

    # -- the connection ----------------------------------------------------------------

    def _tls(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        if self.settings.ca_file is not None:
            context.load_verify_locations(cafile=str(self.settings.ca_file))
        return context

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        smtp: smtplib.SMTP
        if s.security == "tls":
            smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=self._tls())
        else:
            smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        try:
            smtp.ehlo()
            if s.security == "starttls":
                smtp.starttls(context=self._tls())
                smtp.ehlo()
            if s.username is not None:
                password = s.password.reveal() if s.password is not None else ""
                smtp.login(s.username, password)
        except BaseException:
            _quietly_close(smtp)
            raise
        return smtp

    def _session(self) -> smtplib.SMTP:
        if self._smtp is not None and time.monotonic() - self._used > IDLE_SECONDS:
            self.close()
        if self._smtp is None:
            self._smtp = self._connect()
        return self._smtp

    def close(self) -> None:
        if self._smtp is not None:
            _quietly_close(self._smtp)
            self._smtp = None

    # -- the Connector ----------------------------------------------------------------

    def send(self, message: Outbound) -> ProviderReceipt:
        mail = self.build(message)
        # flattened once here (send_message would copy the message, parse its addresses
        # again and flatten it); an address beyond ASCII needs the relay's SMTPUTF8
        international = not (message.recipient.isascii() and self._from_addr.isascii())
        wire = mail.as_bytes(policy=_WIRE_UTF8 if international else _WIRE)
        options = ["SMTPUTF8", "BODY=8BITMIME"] if international else []
        try:
            smtp = self._session()
            refused = smtp.sendmail(self._from_addr, [message.recipient], wire, options)
        except SendError:
            raise
        except smtplib.SMTPRecipientsRefused as e:
            self.close()
            code, text = next(iter(e.recipients.values()), (550, b"refused"))
            raise _failure(code, text, "recipient refused") from e
        except smtplib.SMTPAuthenticationError as e:
            # a credentials problem is the configuration's, not the message's: wait for a fix
            self.close()
            raise TemporaryFailure(
                f"authentication refused: {e.smtp_code} {_one_line(str(e.smtp_error))}"
            ) from e
        except smtplib.SMTPResponseException as e:
            self.close()
            raise _failure(e.smtp_code, e.smtp_error, "refused") from e
        except smtplib.SMTPNotSupportedError as e:
            raise PermanentFailure(
                f"{message.recipient!r} is not ASCII and the relay does not take SMTPUTF8"
            ) from e
        except (smtplib.SMTPException, OSError) as e:
            self.close()
            raise TemporaryFailure(_connection_reason(e, self.settings)) from e
        except InvalidInput as e:  # the password's variable or file is missing
            self.close()
            raise TemporaryFailure(e.message) from e
        self._used = time.monotonic()
        if refused:  # several recipients, some refused: we only ever send to one
            code, text = next(iter(refused.values()))
            raise _failure(code, text, "recipient refused")
        return ProviderReceipt(provider_id=str(mail["Message-ID"]))

    def check(self) -> str:
        """Connect, say EHLO, start TLS and log in; then hang up."""
        s = self.settings
        try:
            smtp = self._connect()
        except smtplib.SMTPAuthenticationError as e:
            raise PermanentFailure(
                f"authentication refused: {e.smtp_code} {_one_line(str(e.smtp_error))}"
            ) from e
        except smtplib.SMTPResponseException as e:
            raise _failure(e.smtp_code, e.smtp_error, "refused") from e
        except (smtplib.SMTPException, OSError) as e:
            raise TemporaryFailure(_connection_reason(e, s)) from e
        except InvalidInput as e:
            raise PermanentFailure(e.message) from e
        try:
            banner = _one_line((smtp.ehlo_resp or b"").decode("utf-8", "replace").split("\n")[0])
        finally:
            _quietly_close(smtp)
        how = {"starttls": "STARTTLS", "tls": "TLS", "none": "no TLS"}[s.security]
        who = f", logged in as {s.username}" if s.username else ""
        return f"{s.host}:{s.port} answered ({banner or 'no banner'}), {how}{who}"


def _connection_reason(error: BaseException, s: SmtpSettings) -> str:
    if isinstance(error, ConnectionRefusedError):
        return f"connection refused by {s.host}:{s.port}"
    if isinstance(error, socket.timeout | TimeoutError):
        return f"{s.host}:{s.port} did not answer within {s.timeout:g} s"
    if isinstance(error, ssl.SSLError):
        return f"TLS with {s.host}:{s.port} failed: {_one_line(str(error))}"
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return f"{s.host}:{s.port} closed the connection"
    text = _one_line(str(error)) or type(error).__name__
    return f"{s.host}:{s.port}: {text}"


def _quietly_close(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        try:
            smtp.close()
        except OSError:
            pass
