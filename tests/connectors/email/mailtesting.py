"""Test helpers for the email connector: message builders and a handle on a real Dovecot.

(A plainly named module rather than a package: a `tests/.../email` package would shadow
the stdlib `email`.)
"""

from __future__ import annotations

import os
import pwd
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from imapclient import IMAPClient

from connectors.email.options import ImapAccountOptions
from connectors.email.threads import MailSettings

USER, PASSWORD = "agentdesk", "s3cret-pw"
SETTINGS = MailSettings(agent_domains=("acme.test",), reply_languages=("en",))
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def make_mail(
    n: int,
    *,
    sender: str = "",
    to: str = "support@acme.test",
    subject: str = "",
    body: str = "",
    reply_to: str | None = None,
    refs: list[str] | None = None,
    minutes: int | None = None,
    msgid: str | None = None,
) -> bytes:
    """A plain message with a deterministic Message-ID (`<m{n}@test>`) and date."""
    msg = EmailMessage()
    msg["From"] = sender or f"Customer {n} <customer{n}@example.org>"
    msg["To"] = to
    msg["Subject"] = subject or f"Question number {n}"
    msg["Date"] = format_datetime(T0 + timedelta(minutes=n if minutes is None else minutes))
    msg["Message-ID"] = f"<{msgid or f'm{n}@test'}>"
    if reply_to:
        msg["In-Reply-To"] = f"<{reply_to}>"
    if refs:
        msg["References"] = " ".join(f"<{r}>" for r in refs)
    msg.set_content(body or f"Hello, this is message {n}. Please help with my order {n}.")
    return msg.as_bytes()


# -- Dovecot --------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Dovecot:
    """A running Dovecot and helpers to fill its mailbox and disturb it."""

    root: Path
    conf: Path
    port: int
    cert: Path
    proc: subprocess.Popen | None = None
    host: str = "127.0.0.1"

    def start(self) -> None:
        for _ in range(3):
            self.proc = subprocess.Popen(
                ["dovecot", "-F", "-c", str(self.conf)],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
            )  # fmt: skip
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    with socket.create_connection((self.host, self.port), timeout=0.5) as s:
                        if s.recv(100).startswith(b"* OK"):
                            return
                except OSError:
                    time.sleep(0.05)
            self.stop()
        log = (self.root / "dovecot.log").read_text() if (self.root / "dovecot.log").exists() else ""
        raise RuntimeError(f"dovecot did not start on port {self.port}:\n{log[-2000:]}")

    def stop(self) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=5)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
            except ProcessLookupError:
                pass
        if self.proc.stderr:
            self.proc.stderr.close()
        self.proc = None
        pid_file = self.root / "run" / "master.pid"
        pid_file.unlink(missing_ok=True)

    def restart(self) -> None:
        self.stop()
        self.start()

    def kick(self) -> None:
        """Disconnect every session of the test user (an admin action or a server hiccup)."""
        subprocess.run(["doveadm", "-c", str(self.conf), "kick", USER], check=True,
                       capture_output=True)  # fmt: skip

    def set_uidvalidity(self, folder: str, value: int) -> None:
        subprocess.run(
            ["doveadm", "-c", str(self.conf), "mailbox", "update", "-u", USER,
             "--uid-validity", str(value), folder],
            check=True, capture_output=True,
        )  # fmt: skip

    def client(self) -> IMAPClient:
        c = IMAPClient(self.host, port=self.port, ssl=False, timeout=30)
        c.login(USER, PASSWORD)
        return c

    def append(self, folder: str, messages: list[bytes]) -> None:
        c = self.client()
        try:
            if not c.folder_exists(folder):
                c.create_folder(folder)
            for i, raw in enumerate(messages):
                c.append(folder, raw, msg_time=T0 + timedelta(seconds=i))
        finally:
            c.logout()

    def account(self, **overrides: object) -> ImapAccountOptions:
        opts: dict[str, object] = {
            "name": "support", "host": self.host, "port": self.port, "security": "plain",
            "username": USER, "password": PASSWORD, "folders": ["INBOX"],
            "reconnect_initial_seconds": 0.05, "reconnect_max_seconds": 0.2,
            "timeout_seconds": 20,
        }  # fmt: skip
        opts.update(overrides)
        return ImapAccountOptions(**opts)  # type: ignore[arg-type]




def _users() -> tuple[str, str]:
    """(login user, mail user): Dovecot refuses root for both."""
    if os.geteuid() == 0:
        return "dovenull", "dovecot"
    me = pwd.getpwuid(os.geteuid()).pw_name
    return me, me


def make_cert() -> tuple[Path, Path, Path]:
    """(folder, cert, key): a self-signed certificate for IP 127.0.0.1, made with openssl."""
    d = Path(tempfile.mkdtemp(prefix="convoscope-tls-"))
    os.chmod(d, 0o755)
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return d, cert, key


def launch_dovecot(cert: Path, key: Path) -> Dovecot:
    """Start a Dovecot in a fresh temp dir; the caller stops it and removes `root`."""
    login_user, mail_user = _users()
    root = Path(tempfile.mkdtemp(prefix="convoscope-dovecot-"))
    os.chmod(root, 0o755)
    for sub in ("run", "state", "mail"):
        (root / sub).mkdir()
    mail_pw = pwd.getpwnam(mail_user)
    os.chown(root / "mail", mail_pw.pw_uid, mail_pw.pw_gid)
    (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
    port = _free_port()
    conf = root / "dovecot.conf"
    conf.write_text(
        f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
mail_fsync = never
default_login_user = {login_user}
default_internal_user = {mail_user}
first_valid_uid = {min(mail_pw.pw_uid, 100)}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={mail_user} gid={mail_pw.pw_gid} home={root}/mail/%u
}}
mail_location = maildir:{root}/mail/%u/Maildir
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""
    )
    server = Dovecot(root=root, conf=conf, port=port, cert=cert)
    server.start()
    return server
