"""A real IMAP server for tests: Debian's dovecot on a loopback port, as a non-root user,
from a temporary configuration (one static password, maildirs in a temp directory).

Skips, saying why, when dovecot is not installed (`apt-get install -y dovecot-imapd`).
"""

from __future__ import annotations

import grp
import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

DOVECOT = "/usr/sbin/dovecot"
PASSWORD = "imap-password-for-tests"
USER = "support"

_CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = no
auth_mechanisms = plain login
disable_plaintext_auth = no
listen = 127.0.0.1
protocols = imap
default_login_user = {user}
default_internal_user = {user}
default_internal_group = {group}
mail_location = maildir:{root}/mail/%u
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
  chroot =
}}
service anvil {{
  chroot =
}}
passdb {{
  driver = static
  args = password={password}
}}
userdb {{
  driver = static
  args = uid={user} gid={group} home={root}/home/%u
}}
"""


@dataclass
class Dovecot:
    port: int
    root: Path

    def client(self) -> imaplib.IMAP4:
        conn = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        conn.login(USER, PASSWORD)
        conn.select("INBOX")
        return conn

    def append(self, raw: bytes, *, seen: bool = False) -> None:
        conn = self.client()
        try:
            status, data = conn.append("INBOX", "(\\Seen)" if seen else None, None, raw)
            assert status == "OK", data
        finally:
            conn.logout()

    def clear(self) -> None:
        conn = self.client()
        try:
            conn.store("1:*", "+FLAGS", "(\\Deleted)")
            conn.expunge()
        except imaplib.IMAP4.error:
            pass  # an empty mailbox
        finally:
            conn.logout()

    def flags(self) -> list[set[str]]:
        """Each message's flags, oldest first."""
        conn = self.client()
        try:
            _, data = conn.fetch("1:*", "(FLAGS)")
        except imaplib.IMAP4.error:
            return []
        finally:
            conn.logout()
        found = []
        for item in data:
            if isinstance(item, bytes) and b"FLAGS (" in item:
                inside = item.split(b"FLAGS (", 1)[1].split(b")", 1)[0].decode()
                found.append(set(inside.split()))
        return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    if not shutil.which(DOVECOT):
        pytest.skip(
            "IMAP poller tests need dovecot: apt-get install -y dovecot-imapd",
            allow_module_level=False,
        )
    as_root = os.geteuid() == 0
    user = "nobody" if as_root else pwd.getpwuid(os.geteuid()).pw_name
    group = grp.getgrgid(pwd.getpwnam(user).pw_gid).gr_name
    root = Path(tempfile.mkdtemp(prefix="vista-dovecot-"))
    port = _free_port()
    for sub in ("run", "state", "mail", "home"):
        (root / sub).mkdir()
    config = root / "dovecot.conf"
    config.write_text(
        _CONFIG.format(root=root, user=user, group=group, port=port, password=PASSWORD)
    )
    if as_root:  # dovecot is run as `nobody`, never as root
        root.chmod(0o755)
        for path in (root, *root.rglob("*")):
            os.chown(path, pwd.getpwnam(user).pw_uid, pwd.getpwnam(user).pw_gid)
    process = subprocess.Popen(
        [DOVECOT, "-F", "-c", str(config)],
        cwd=root,
        user=user if as_root else None,
        group=group if as_root else None,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 15
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
                err = process.stderr.read().decode() if process.stderr else ""
                shutil.rmtree(root, ignore_errors=True)
                pytest.skip(f"dovecot did not start: {err.strip() or log.strip()[-500:]}")
            time.sleep(0.05)
    try:
        yield Dovecot(port, root)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(root, ignore_errors=True)
