"""One raw RFC 5322 message (bytes) -> a `ParsedMessage`, or `MessageParseError` with a reason.

Real mail is messy, so every step has a fallback rather than a crash: the stdlib parser with
`policy.default` reads the structure; a header the modern policy cannot parse is re-read
raw; a part whose charset is missing, wrong or unknown is decoded by detection
(charset-normalizer); HTML-only bodies become text with inscriptis; attachments are reduced
to metadata (name, type, size). Quoted replies and signatures are cut with mail-parser-reply
so a turn holds only what its sender wrote. Only what makes a message unusable (no headers
at all, no sender address) raises `MessageParseError`, which the caller quarantines.
"""

from __future__ import annotations

import email.utils
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.parser import BytesParser
from typing import Any

from store.records import content_hash

#: a turn longer than this is cut (pasted logs, whole newsletters); `meta.truncated` says so
MAX_TEXT_CHARS = 50_000
_PARSER = BytesParser(policy=policy.default)
_ID_RE = re.compile(r"<([^<>\s]+)>")
_REPLY_PREFIX = re.compile(
    r"^\s*(?:(?:re|fw|fwd|aw|wg|sv|vs|antw|antwort|rif|tr|odp|res|enc|rv|r)\s*(?:\[\d+\])?\s*[:：]\s*)+",
    re.IGNORECASE,
)
_WS = re.compile(r"\s+")
_QUOTED_LINE = re.compile(r"^[ \t]*>.*$\n?", re.MULTILINE)


class MessageParseError(ValueError):
    """The message cannot be ingested; the text is the quarantine reason."""


@dataclass(slots=True)
class Attachment:
    filename: str | None
    content_type: str
    size: int

    def as_dict(self) -> dict[str, Any]:
        return {"filename": self.filename, "content_type": self.content_type, "size": self.size}


@dataclass(slots=True)
class ParsedMessage:
    """What a thread needs from one message."""

    #: the Message-ID without angle brackets, or 'sha256:<content hash>' when missing
    message_id: str
    has_message_id: bool
    #: over sender, recipients, subject, date, full body and attachments (not transport
    #: headers), so the same message fetched twice hashes the same
    content_hash: str
    sent_at: datetime
    #: 'header' (Date:), or 'received' (IMAP INTERNALDATE / mbox From_ line / file time)
    date_source: str
    from_addr: str
    from_name: str | None
    to_addrs: list[str]
    cc_addrs: list[str]
    subject: str
    norm_subject: str
    in_reply_to: list[str]
    references: list[str]
    #: what the sender wrote: quotes and signature cut when `strip_quotes`
    text: str
    body_kind: str  # 'plain' | 'html' | 'none'
    quotes_stripped: bool
    truncated: bool
    attachments: list[Attachment] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)


def normalise_subject(subject: str) -> str:
    """'RE: Fwd: [Ticket]  Refund ' -> '[ticket] refund': reply/forward prefixes off, case folded."""
    s = _REPLY_PREFIX.sub("", subject or "")
    return _WS.sub(" ", s).strip().casefold()


def parse_message(
    raw: bytes,
    *,
    fallback_date: datetime | None = None,
    strip_quotes: bool = True,
    reply_languages: tuple[str, ...] = ("en",),
) -> ParsedMessage:
    """Parse one message; raise `MessageParseError` (the quarantine reason) if unusable."""
    if not raw or not raw.strip():
        raise MessageParseError("empty message")
    try:
        msg = _PARSER.parsebytes(raw)
    except Exception as exc:  # the feed parser is lenient; anything here is exotic
        raise MessageParseError(f"MIME parser failed: {type(exc).__name__}: {exc}") from exc
    if not msg.keys():
        raise MessageParseError("no header section: not an RFC 5322 message")
    defects = [type(d).__name__ for d in msg.defects]

    senders = _addresses(msg, "From") or _addresses(msg, "Sender") or _addresses(msg, "Reply-To")
    if not senders:
        raw_from = _header_text(msg, "From")
        if raw_from:
            raise MessageParseError(f"From header has no e-mail address: {raw_from[:200]!r}")
        raise MessageParseError("no From header: cannot tell who wrote it")
    from_name, from_addr = senders[0]
    to_addrs = [a for _n, a in _addresses(msg, "To")]
    cc_addrs = [a for _n, a in _addresses(msg, "Cc")]
    subject = _header_text(msg, "Subject")

    sent_at, date_source = _date(msg, fallback_date)
    body, body_kind, body_part = _body(msg)
    attachments = _attachments(msg, body_part)
    truncated = len(body) > MAX_TEXT_CHARS
    body = body[:MAX_TEXT_CHARS]
    text, stripped = (_strip_reply(body, reply_languages) if strip_quotes else (body.strip(), False))

    # A received time (no Date header) can differ between two copies of one message (a
    # mailbox rebuilt after a UIDVALIDITY reset), so only a Date header enters the hash.
    digest = content_hash(
        from_addr, to_addrs, cc_addrs, subject,
        sent_at.isoformat() if date_source == "header" else None, body,
        [a.as_dict() for a in attachments],
    )
    mid = _first_id(_header_text(msg, "Message-ID"))
    in_reply_to = _ids(_header_text(msg, "In-Reply-To"))
    references = _ids(_header_text(msg, "References"))
    return ParsedMessage(
        message_id=mid or f"sha256:{digest}",
        has_message_id=mid is not None,
        content_hash=digest,
        sent_at=sent_at,
        date_source=date_source,
        from_addr=from_addr,
        from_name=from_name or None,
        to_addrs=to_addrs,
        cc_addrs=cc_addrs,
        subject=subject,
        norm_subject=normalise_subject(subject),
        in_reply_to=in_reply_to,
        references=references,
        text=text,
        body_kind=body_kind,
        quotes_stripped=stripped,
        truncated=truncated,
        attachments=attachments,
        defects=defects,
    )


# -- headers -----------------------------------------------------------------------------


def _clean(text: str) -> str:
    """Undeclared 8-bit header bytes come back as surrogates; decode them by detection."""
    if not any("\udc80" <= ch <= "\udcff" for ch in text):
        return text
    return decode_bytes(text.encode("utf-8", "surrogateescape"), None)


def _raw_header(msg: Message, name: str) -> str | None:
    for key, value in msg.raw_items():  # type: ignore[attr-defined]
        if key.lower() == name.lower():
            return str(value)
    return None


def _header_text(msg: Message, name: str) -> str:
    """The header's decoded text ('' if absent); never raises on a malformed header."""
    try:
        value = msg.get(name)
        if value is None:
            return ""
        return _clean(str(value)).strip()
    except Exception:
        raw = _raw_header(msg, name)
        if raw is None:
            return ""
        try:
            return _clean(str(make_header(decode_header(raw)))).strip()
        except Exception:
            return _clean(raw).strip()


def _addresses(msg: Message, name: str) -> list[tuple[str, str]]:
    """[(display name, lower-cased address)] of an address header; malformed ones re-read raw."""
    out: list[tuple[str, str]] = []
    try:
        header = msg.get(name)
        if header is None:
            return []
        for addr in getattr(header, "addresses", ()):
            spec = _clean(addr.addr_spec or "").strip().lower()
            if "@" in spec:
                out.append((_clean(addr.display_name or ""), spec))
    except Exception:
        out = []
    if out:
        return out
    text = _header_text(msg, name)
    for disp, spec in email.utils.getaddresses([text]):
        spec = spec.strip().lower()
        if "@" in spec and " " not in spec:
            out.append((disp, spec))
    return out


def _first_id(value: str) -> str | None:
    ids = _ids(value)
    if ids:
        return ids[0]
    token = value.strip().strip("<>").strip()
    return token if token and " " not in token else None


def _ids(value: str) -> list[str]:
    seen: list[str] = []
    for mid in _ID_RE.findall(value or ""):
        if mid not in seen:
            seen.append(mid)
    return seen


def _date(msg: Message, fallback: datetime | None) -> tuple[datetime, str]:
    when: datetime | None = None
    try:
        header = msg.get("Date")
        when = getattr(header, "datetime", None) if header is not None else None
    except Exception:
        when = None
    if when is None:
        raw = _raw_header(msg, "Date")
        if raw:
            try:
                when = email.utils.parsedate_to_datetime(raw.strip())
            except (TypeError, ValueError, IndexError, OverflowError):
                when = None
    if when is not None and 1980 <= when.year <= 2200:
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return when.astimezone(UTC), "header"
    if fallback is None:
        raise MessageParseError("no usable Date header and no received time to fall back on")
    if fallback.tzinfo is None:
        fallback = fallback.replace(tzinfo=UTC)
    return fallback.astimezone(UTC), "received"


# -- body and attachments ------------------------------------------------------------------


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Decode with the declared charset; if missing, unknown or wrong, detect it."""
    if charset:
        try:
            return data.decode(charset)
        except (LookupError, UnicodeDecodeError):
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is not None:
        return str(best)
    return data.decode("latin-1")  # every byte maps to a character: nothing is lost


def _part_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    try:
        charset = part.get_content_charset()
    except Exception:
        charset = None
    return decode_bytes(payload, charset)


def _is_attachment(part: Message) -> bool:
    try:
        disposition = part.get_content_disposition()
    except Exception:
        disposition = None
    if disposition == "attachment":
        return True
    try:
        filename = part.get_filename()
    except Exception:
        filename = None
    return bool(filename) and part.get_content_type() not in ("text/plain", "text/html")


def _body(msg: Message) -> tuple[str, str, Message | None]:
    """(text, 'plain'|'html'|'none', the part it came from); text/plain preferred."""
    part: Message | None = None
    if isinstance(msg, EmailMessage):
        try:
            part = msg.get_body(preferencelist=("plain", "html"))
        except Exception:
            part = None
    if part is None:  # odd structures get_body gives up on: first inline text part
        for kind in ("text/plain", "text/html"):
            part = next(
                (p for p in _leaves(msg) if p.get_content_type() == kind and not _is_attachment(p)),
                None,
            )
            if part is not None:
                break
    if part is None:
        return "", "none", None
    text = _part_text(part)
    if part.get_content_type() == "text/html":
        from inscriptis import get_text

        return get_text(text), "html", part
    return text, "plain", part


def _leaves(msg: Message) -> list[Message]:
    """Non-multipart parts, not descending into attached messages (message/rfc822)."""
    out: list[Message] = []
    stack = [msg]
    while stack:
        part = stack.pop(0)
        if part.is_multipart() and part.get_content_maintype() == "multipart":
            payload = part.get_payload()
            if isinstance(payload, list):
                stack[0:0] = payload
        else:
            out.append(part)
    return out


def _attachments(msg: Message, body_part: Message | None) -> list[Attachment]:
    out: list[Attachment] = []
    for part in _leaves(msg):
        if part is body_part or part is msg:
            continue
        ctype = part.get_content_type()
        if ctype in ("text/plain", "text/html") and not _is_attachment(part):
            continue  # the other alternative of the body, or an inline text fragment
        try:
            filename = part.get_filename()
        except Exception:
            filename = None
        if ctype == "message/rfc822":
            inner = part.get_payload()
            inner_msg = inner[0] if isinstance(inner, list) and inner else None
            size = len(inner_msg.as_bytes()) if isinstance(inner_msg, Message) else 0
            if not filename and isinstance(inner_msg, Message):
                filename = _header_text(inner_msg, "Subject") or "message.eml"
        else:
            payload = part.get_payload(decode=True)
            size = len(payload) if isinstance(payload, bytes) else 0
        out.append(Attachment(_clean(filename) if filename else None, ctype, size))
    return out


# -- quoted replies and signatures ---------------------------------------------------------


def _strip_reply(text: str, languages: tuple[str, ...]) -> tuple[str, bool]:
    """Keep what the sender wrote; fall back to the whole text if nothing would be left."""
    from mailparser_reply.parser import EmailMessage as ReplyMessage

    original = text.strip()
    if not original:
        return "", False
    try:
        parsed = ReplyMessage(text=original, languages=list(languages), keep_hyphen_lists=True).read()
        latest = parsed.replies[0].body if parsed.replies else original
    except Exception:  # a library hiccup must not lose the message
        latest = original
    latest = _QUOTED_LINE.sub("", latest).strip()
    if not latest:
        return original, False
    return latest, latest != original
