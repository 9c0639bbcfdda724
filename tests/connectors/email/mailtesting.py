"""Test helpers for the email connector: message builders and a handle on a real Dovecot.

(A plainly named module rather than a package: a `tests/.../email` package would shadow
the stdlib `email`.)
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import psutil
import pytest
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
        """Start and wait for the greeting; if the port was taken meanwhile (other test
        runs share the machine), move to another free port and try again."""
        for attempt in range(3):
            if attempt:
                self._move_port()
            with (self.root / "stderr.log").open("ab") as err:
                self.proc = subprocess.Popen(
                    ["dovecot", "-F", "-c", str(self.conf)],
                    stdout=subprocess.DEVNULL, stderr=err, start_new_session=True,
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
        log = ""
        for name in ("dovecot.log", "stderr.log"):
            if (self.root / name).exists():
                log += (self.root / name).read_text(errors="replace")[-2000:]
        raise RuntimeError(f"dovecot did not start on port {self.port}:\n{log}")

    def _move_port(self) -> None:
        new = _free_port()
        text = self.conf.read_text()
        self.conf.write_text(text.replace(f"    port = {self.port}\n", f"    port = {new}\n"))
        self.port = new

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
        self.proc = None
        pid_file = self.root / "run" / "master.pid"
        pid_file.unlink(missing_ok=True)

    def restart(self) -> None:
        self.stop()
        self.start()

    def kick(self) -> None:
        """Disconnect every session of the test user (an admin action or a server hiccup)."""
        # `doveadm kick` finds sessions through Dovecot's anvil, which learns of a session a
        # moment after its login ("no users kicked", exit 68). On a loaded machine that moment
        # has outlasted ten seconds (CI, once), so after two seconds of retrying the session's
        # imap process is ended directly: for the client it is the same dropped connection.
        deadline = time.monotonic() + 2
        while True:
            done = subprocess.run(["doveadm", "-c", str(self.conf), "kick", USER],
                                  capture_output=True)  # fmt: skip
            if done.returncode == 0:
                return
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
        if not self._end_imap_sessions():
            raise RuntimeError(f"doveadm kick failed and no imap process runs: {done.stdout!r}")

    def _end_imap_sessions(self) -> int:
        """SIGTERM this server's logged-in imap processes; how many there were."""
        if self.proc is None:
            return 0
        sessions = [p for p in psutil.Process(self.proc.pid).children(recursive=True)
                    if p.name() == "imap"]  # fmt: skip
        for p in sessions:
            p.terminate()
        psutil.wait_procs(sessions, timeout=5)
        return len(sessions)

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
            for start in range(0, len(messages), 200):  # MULTIAPPEND: one round trip per 200
                c.multiappend(folder, [
                    {"msg": raw, "date": T0 + timedelta(seconds=start + i)}
                    for i, raw in enumerate(messages[start : start + 200])
                ])  # fmt: skip
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


# -- real-world messages ------------------------------------------------------------------------


def _mime(headers: str, body: bytes, encoding: str = "ascii") -> bytes:
    return headers.strip("\n").replace("\n", "\r\n").encode(encoding) + b"\r\n\r\n" + body


def real_world_corpus(big_attachment_mb: int = 0) -> dict[str, bytes]:
    """Messages as real mailers send them, by name. The ones that cannot be ingested are
    named 'bad_*'. With `big_attachment_mb`, also one with an attachment that large."""
    from email.header import Header
    from email.mime.application import MIMEApplication
    from email.mime.multipart import MIMEMultipart
    from email.mime.text import MIMEText

    c: dict[str, bytes] = {}
    jp_body = "返金をお願いします。注文番号は1234です。".encode("iso-2022-jp")
    c["iso2022jp"] = _mime(
        """
From: {jp_name} <taro@example.jp>
To: support@acme.test
Subject: {jp_subject}
Date: Mon, 02 Mar 2026 10:00:00 +0900
Message-ID: <jp-1@example.jp>
MIME-Version: 1.0
Content-Type: text/plain; charset=ISO-2022-JP
Content-Transfer-Encoding: 7bit
""".format(jp_name=Header("山田 太郎", "iso-2022-jp").encode(),
           jp_subject=Header("返金のお願い", "iso-2022-jp").encode()),
        jp_body,
    )
    c["windows1252"] = _mime(
        """
From: "Zoë Müller" <zoe@example.de>
To: support@acme.test
Subject: Rechnung
Date: Mon, 02 Mar 2026 11:00:00 +0100
Message-ID: <cp1252-1@example.de>
Content-Type: text/plain; charset="windows-1252"
Content-Transfer-Encoding: 8bit
""",
        "Ich habe 49,90 € bezahlt – “doppelt”! Bitte prüfen.".encode("windows-1252"),
        "windows-1252",
    )
    c["koi8r"] = _mime(
        """
From: ivan@example.ru
To: support@acme.test
Subject: {ru_subject}
Date: Mon, 02 Mar 2026 12:00:00 +0300
Message-ID: <koi8-1@example.ru>
Content-Type: text/plain; charset=koi8-r
Content-Transfer-Encoding: 8bit
""".format(ru_subject=Header("Возврат платежа", "koi8-r").encode()),
        "Верните, пожалуйста, деньги за заказ. Спасибо.".encode("koi8-r"),
    )
    c["undeclared_8bit"] = (
        b"From: Fran\xc3\xa7ois <francois@example.fr>\r\n"
        b"To: support@acme.test\r\n"
        b"Subject: Probl\xc3\xa8me de facture\r\n"
        b"Date: Mon, 02 Mar 2026 13:00:00 +0100\r\n"
        b"Message-ID: <undeclared-1@example.fr>\r\n"
        b"Content-Type: text/plain\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\n"
        + "Ma facture est fausse, le montant débité est trop élevé. Merci de vérifier ce problème très rapidement.".encode("latin-1")
    )
    c["unknown_charset"] = _mime(
        """
From: legacy@example.com
To: support@acme.test
Subject: old mailer
Date: Mon, 02 Mar 2026 13:30:00 +0000
Message-ID: <unknown-cs@example.com>
Content-Type: text/plain; charset=x-no-such-charset
Content-Transfer-Encoding: 8bit
""",
        "Das Gerät ist kaputt, bitte um Rückruf wegen der Garantie für mein Gerät.".encode(),
    )

    outer = MIMEMultipart("mixed")
    outer["From"] = "Nested Customer <nested@example.org>"
    outer["To"] = "support@acme.test"
    outer["Subject"] = "Photos of the damaged parcel"
    outer["Date"] = "Tue, 03 Mar 2026 09:00:00 +0000"
    outer["Message-ID"] = "<nested-1@example.org>"
    alt = MIMEMultipart("alternative")
    alt.attach(MIMEText("The parcel arrived broken, see the photos.", "plain", "utf-8"))
    related = MIMEMultipart("related")
    related.attach(MIMEText("<p>The parcel arrived <b>broken</b>, see the photos.</p>", "html", "utf-8"))
    img = MIMEApplication(b"\x89PNG\r\n\x1a\n" + b"\x00" * 1000, "png", Name="inline.png")
    img.replace_header("Content-Type", 'image/png; name="inline.png"')
    img.add_header("Content-ID", "<img1>")
    related.attach(img)
    alt.attach(related)
    outer.attach(alt)
    pdf = MIMEApplication(b"%PDF-1.4\n" + b"x" * 5000, "pdf")
    pdf.add_header("Content-Disposition", "attachment", filename="receipt.pdf")
    outer.attach(pdf)
    fwd = EmailMessage()
    fwd["From"] = "courier@example.net"
    fwd["Subject"] = "Delivery confirmation"
    fwd.set_content("Delivered.")
    from email.mime.message import MIMEMessage

    outer.attach(MIMEMessage(fwd))
    c["nested"] = outer.as_bytes()

    c["no_date"] = _mime(
        """
From: nodate@example.org
To: support@acme.test
Subject: where is my order
Message-ID: <nodate-1@example.org>
""",
        b"I am still waiting for my order.",
    )
    html = EmailMessage()
    html["From"] = "html-only@example.org"
    html["To"] = "support@acme.test"
    html["Subject"] = "HTML only"
    html["Date"] = "Tue, 03 Mar 2026 10:00:00 +0000"
    html["Message-ID"] = "<html-1@example.org>"
    html.set_content(
        "<html><head><style>p{color:red}</style></head><body><p>I want to "
        "<b>cancel</b> my subscription.</p><ul><li>plan: gold</li></ul></body></html>",
        subtype="html",
    )
    c["html_only"] = html.as_bytes()
    c["malformed_headers"] = (
        b"From: Broken Person <broken@example.org>\r\n"
        b"To: undisclosed-recipients:;\r\n"
        b"Subject: =?utf-8?q?unterminated encoded word\r\n"
        b"Date: 32 Foo 2026 99:99:99 +9999\r\n"
        b"Message-ID: no-angle-brackets@example.org\r\n"
        b"This line is not a header at all\r\n"
        b"Content-Type: text/plain; charset=\"utf-8\r\n\r\n"
        b"The headers are broken but the words are fine."
    )
    c["bad_no_from"] = _mime(
        """
To: support@acme.test
Subject: who am I
Date: Tue, 03 Mar 2026 11:00:00 +0000
Message-ID: <nofrom@example.org>
""",
        b"A message without any sender.",
    )
    c["bad_from_without_address"] = _mime(
        """
From: just a name
To: support@acme.test
Subject: no address
Date: Tue, 03 Mar 2026 11:00:00 +0000
""",
        b"text",
    )
    c["bad_binary"] = bytes(range(256)) * 4
    if big_attachment_mb:
        big = EmailMessage()
        big["From"] = "bigfile@example.org"
        big["To"] = "support@acme.test"
        big["Subject"] = "the full log export"
        big["Date"] = "Tue, 03 Mar 2026 12:00:00 +0000"
        big["Message-ID"] = "<big-1@example.org>"
        big.set_content("Attached is the export you asked for.")
        big.add_attachment(os.urandom(big_attachment_mb * 1024 * 1024), maintype="application",
                           subtype="zip", filename="export.zip")  # fmt: skip
        c["big_attachment"] = big.as_bytes()
    return c


# -- fixtures (imported by the conftest of every test folder that needs a real Dovecot) ----


@pytest.fixture(scope="session")
def tls_cert() -> Iterator[tuple[Path, Path]]:
    """A self-signed certificate for IP 127.0.0.1 (cert, key), made with openssl."""
    if shutil.which("openssl") is None:
        pytest.fail("openssl is missing: install it (make sysdeps-test)")
    folder, cert, key = make_cert()
    yield cert, key
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def dovecot(tls_cert: tuple[Path, Path]) -> Iterator[Dovecot]:
    """A real Dovecot on 127.0.0.1 for one test, stopped and removed after it."""
    if shutil.which("dovecot") is None or shutil.which("doveadm") is None:
        pytest.fail("dovecot-imapd is missing: install it (make sysdeps-test)")
    server = launch_dovecot(*tls_cert)
    yield server
    server.stop()
    shutil.rmtree(server.root, ignore_errors=True)
