"""An IMAP mailbox as an e-mail channel: fetch what is unseen, hand each message on, mark it seen.

`MailboxPoller.poll_once` logs in, selects the mailbox and, for each UNSEEN message
(oldest first) not already refused, fetches it with BODY.PEEK[] (which leaves it
unseen) and calls `handle(raw)`. Only when `handle` returns is the message marked
`\\Seen`: a crash or an unavailable store leaves it for the next poll (delivery is
idempotent by Message-ID, so a message handled but not yet marked is not stored
twice). A message `handle` refuses as invalid (`InvalidInput`: no usable sender,
over the size limit) is flagged `$VistaRefused` and left unseen for a person to
read; it is not tried again. IDLE is not used: `run` polls every `interval` seconds.
"""

from __future__ import annotations

import imaplib
import logging
import os
import ssl
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from backends.base import InvalidInput, Unavailable

log = logging.getLogger("vista.providers.imap")

REFUSED_FLAG = "$VistaRefused"
ENV_HOST = "VISTA_IMAP_HOST"
ENV_PORT = "VISTA_IMAP_PORT"
ENV_USER = "VISTA_IMAP_USER"
ENV_PASSWORD = "VISTA_IMAP_PASSWORD"
ENV_MAILBOX = "VISTA_IMAP_MAILBOX"
ENV_SECURITY = "VISTA_IMAP_SECURITY"  # tls (default), starttls, or plain (loopback tests only)
SECURITY = ("tls", "starttls", "plain")
MAX_BATCH = 200  # messages per poll: a huge backlog drains over several polls


@dataclass(frozen=True, slots=True)
class ImapSettings:
    """Where the mailbox is and how to log in. The password is left out of repr()."""

    host: str
    user: str
    password: str = field(repr=False)
    port: int = 993
    mailbox: str = "INBOX"
    security: str = "tls"
    timeout: float = 30.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ImapSettings:
        """The settings in `environ` (default: the process environment).

        Raises:
            InvalidInput: a variable is missing or malformed (named in the message).
        """
        env = os.environ if environ is None else environ
        missing = [v for v in (ENV_HOST, ENV_USER, ENV_PASSWORD) if not env.get(v, "").strip()]
        if missing:
            raise InvalidInput(f"set {', '.join(missing)} to poll an IMAP mailbox")
        security = env.get(ENV_SECURITY, "tls").strip().lower() or "tls"
        if security not in SECURITY:
            raise InvalidInput(f"{ENV_SECURITY} must be one of {', '.join(SECURITY)}")
        raw_port = env.get(ENV_PORT, "").strip()
        if raw_port and not raw_port.isdigit():
            raise InvalidInput(f"{ENV_PORT} must be a port number")
        default_port = 993 if security == "tls" else 143
        return cls(
            host=env[ENV_HOST].strip(),
            user=env[ENV_USER].strip(),
            password=env[ENV_PASSWORD],
            port=int(raw_port) if raw_port else default_port,
            mailbox=env.get(ENV_MAILBOX, "").strip() or "INBOX",
            security=security,
        )


@dataclass(frozen=True, slots=True)
class PollReport:
    """One poll: how many unseen messages were handled, refused, or left for next time."""

    handled: int = 0
    refused: int = 0
    left: int = 0  # not reached: the batch stopped on an error, or over MAX_BATCH


class MailboxPoller:
    """Polls one mailbox; `handle(raw)` delivers a message or raises."""

    def __init__(self, settings: ImapSettings, handle: Callable[[bytes], object]) -> None:
        self.settings = settings
        self.handle = handle

    def _connect(self) -> imaplib.IMAP4:
        s = self.settings
        try:
            if s.security == "tls":
                conn: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                    s.host, s.port, ssl_context=ssl.create_default_context(), timeout=s.timeout
                )
            else:
                conn = imaplib.IMAP4(s.host, s.port, timeout=s.timeout)
                if s.security == "starttls":
                    conn.starttls(ssl.create_default_context())
            conn.login(s.user, s.password)
        except (OSError, imaplib.IMAP4.error) as e:
            raise Unavailable(f"IMAP {s.host}:{s.port}: {_words(e)}") from e
        return conn

    def poll_once(self) -> PollReport:
        """Handle every unseen, unrefused message once.

        Raises:
            Unavailable: the server cannot be reached or refuses the login or mailbox.
            VistaError: `handle` failed other than by refusing the message (the
                message stays unseen; the ones before it are marked).
        """
        conn = self._connect()
        try:
            status, _ = conn.select(_quote(self.settings.mailbox))
            if status != "OK":
                raise Unavailable(f"IMAP mailbox {self.settings.mailbox!r} cannot be opened")
            status, data = conn.uid("SEARCH", "UNSEEN", "UNKEYWORD", REFUSED_FLAG)
            if status != "OK":
                raise Unavailable(f"IMAP search failed: {_words(data)}")
            uids = [int(u) for u in (data[0] or b"").split()]
            uids.sort()
            handled = refused = 0
            batch = uids[:MAX_BATCH]
            for i, uid in enumerate(batch):
                raw = self._fetch(conn, uid)
                if raw is None:  # expunged meanwhile
                    continue
                try:
                    self.handle(raw)
                except InvalidInput as e:
                    log.warning("IMAP message uid %s refused: %s", uid, e)
                    conn.uid("STORE", str(uid), "+FLAGS", f"({REFUSED_FLAG})")
                    refused += 1
                    continue
                except Exception:
                    log.info("IMAP poll stopped at uid %s; %d left", uid, len(uids) - i)
                    raise
                conn.uid("STORE", str(uid), "+FLAGS", "(\\Seen)")
                handled += 1
            return PollReport(handled, refused, len(uids) - len(batch))
        except (OSError, imaplib.IMAP4.error) as e:
            raise Unavailable(f"IMAP {self.settings.host}: {_words(e)}") from e
        finally:
            try:
                conn.logout()
            except (OSError, imaplib.IMAP4.error):
                pass

    def _fetch(self, conn: imaplib.IMAP4, uid: int) -> bytes | None:
        status, data = conn.uid("FETCH", str(uid), "(BODY.PEEK[])")
        if status != "OK":
            raise Unavailable(f"IMAP fetch of uid {uid} failed: {_words(data)}")
        for item in data:
            if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
                return item[1]
        return None

    def run(
        self,
        interval: float,
        stop: threading.Event,
        on_report: Callable[[PollReport], object] | None = None,
    ) -> None:
        """Poll every `interval` seconds until `stop` is set; an unreachable server is
        logged and tried again at the next turn."""
        while not stop.is_set():
            try:
                report = self.poll_once()
            except Unavailable as e:
                log.warning("%s", e)
            else:
                if on_report is not None:
                    on_report(report)
            stop.wait(interval)


def _quote(mailbox: str) -> str:
    return '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _words(error: object) -> str:
    text = error.decode("utf-8", "replace") if isinstance(error, bytes) else str(error)
    return " ".join(text.split())[:200]
