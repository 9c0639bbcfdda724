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
from email.message import Message
from email.parser import BytesParser
from email.policy import EmailPolicy
from functools import lru_cache
from typing import Any

from store.records import content_hash

#: a turn longer than this is cut (pasted logs, whole newsletters); `meta.truncated` says so
MAX_TEXT_CHARS = 50_000


@lru_cache(maxsize=8192)
def _content_header(name: str, value: str) -> Any:
    return policy.default.header_factory(name, value)


class _ContentCachingPolicy(EmailPolicy):
    """`policy.default`, except that parsed Content-* headers are memoised.

    The modern policy re-parses a header on every access, and both the feed parser and
    the part walk ask for Content-Type several times per part; these values repeat across
    messages ("text/plain; charset=utf-8"), and header objects are immutable, so sharing
    them is safe. It halves the parsing time of a typical message.
    """

    def header_fetch_parse(self, name: str, value: Any) -> Any:
        if hasattr(value, "name") or not name.lower().startswith("content-"):
            return super().header_fetch_parse(name, value)
        return _content_header(name, "".join(_LINESEP.split(value)))


_LINESEP = re.compile(r"\r\n|\r|\n")
_PARSER = BytesParser(policy=_ContentCachingPolicy())
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
    headers = _Headers(msg)

    senders = headers.addresses("From") or headers.addresses("Sender") or headers.addresses("Reply-To")
    if not senders:
        raw_from = headers.text("From")
        if raw_from:
            raise MessageParseError(f"From header has no e-mail address: {raw_from[:200]!r}")
        raise MessageParseError("no From header: cannot tell who wrote it")
    from_name, from_addr = senders[0]
    to_addrs = [a for _n, a in headers.addresses("To")]
    cc_addrs = [a for _n, a in headers.addresses("Cc")]
    subject = headers.text("Subject")

    sent_at, date_source = _date(headers, fallback_date)
    leaves = _leaves(msg)
    body, body_kind, body_leaf = _body(leaves)
    attachments = _attachments(leaves, body_leaf)
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
    mid = _first_id(headers.raw("Message-ID") or "")
    in_reply_to = _ids(headers.raw("In-Reply-To") or "")
    references = _ids(headers.raw("References") or "")
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


def _clean(text: str, hint: str | None = None) -> str:
    """Undeclared 8-bit header bytes come back as surrogates: decode them as UTF-8, else
    as the message's declared charset (`hint`), else as Windows-1252 (what such mailers
    almost always meant); statistical detection is unreliable on a few words."""
    if not any("\udc80" <= ch <= "\udcff" for ch in text):
        return text
    data = text.encode("utf-8", "surrogateescape")
    for charset in ("utf-8", hint, "windows-1252"):
        if not charset:
            continue
        try:
            return data.decode(charset)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("latin-1")


_FOLD = re.compile(r"\r?\n(?=[ \t])")
_CHARSET_PARAM = re.compile(r'charset\s*=\s*"?([A-Za-z0-9_.:-]+)', re.IGNORECASE)


class _Headers:
    """A message's headers, read raw once and decoded on demand.

    The modern policy's header registry is thorough but slow (a few hundred microseconds
    per header), so the raw value is decoded with `email.header`/`email.utils` first and
    the registry is the fallback for what that cannot read.
    """

    def __init__(self, msg: Message) -> None:
        self.msg = msg
        self._raw: dict[str, str] = {}
        for key, value in msg.raw_items():  # type: ignore[attr-defined]
            self._raw.setdefault(key.lower(), _FOLD.sub("", str(value)))
        found = _CHARSET_PARAM.search(self._raw.get("content-type", ""))
        #: the charset the message declares for its text: the best guess for raw 8-bit headers
        self.hint = found.group(1).lower() if found else None

    def clean(self, text: str) -> str:
        return _clean(text, self.hint)

    def raw(self, name: str) -> str | None:
        return self._raw.get(name.lower())

    def text(self, name: str) -> str:
        """The decoded text ('' if absent); never raises on a malformed header."""
        raw = self.raw(name)
        if raw is None:
            return ""
        try:
            return self.clean(str(make_header(decode_header(raw)))).strip()
        except Exception:
            pass
        try:
            return self.clean(str(self.msg.get(name, ""))).strip()
        except Exception:
            return self.clean(raw).strip()

    def addresses(self, name: str) -> list[tuple[str, str]]:
        """[(display name, lower-cased address)]; malformed headers go to the registry."""
        raw = self.raw(name)
        if raw is None:
            return []
        out: list[tuple[str, str]] = []
        for disp, spec in email.utils.getaddresses([raw]):
            spec = self.clean(spec).strip().lower()
            if _is_addr(spec):
                out.append((_decode_words(disp, self.hint), spec))
        if out:
            return out
        try:
            header = self.msg.get(name)
            for addr in getattr(header, "addresses", ()):
                spec = self.clean(addr.addr_spec or "").strip().lower()
                if _is_addr(spec):
                    out.append((self.clean(addr.display_name or ""), spec))
        except Exception:
            return []
        return out


def _is_addr(spec: str) -> bool:
    local, at, domain = spec.rpartition("@")
    return bool(at and local and domain) and not any(c in spec for c in " <>,;\"")


def _decode_words(text: str, hint: str | None) -> str:
    if "=?" not in text:
        return _clean(text, hint).strip()
    try:
        return _clean(str(make_header(decode_header(text))), hint).strip()
    except Exception:
        return _clean(text, hint).strip()


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


def _date(headers: _Headers, fallback: datetime | None) -> tuple[datetime, str]:
    when: datetime | None = None
    raw = headers.raw("Date")
    if raw:
        try:
            when = email.utils.parsedate_to_datetime(raw.strip())
        except (TypeError, ValueError, IndexError, OverflowError):
            try:  # the registry reads a few forms parsedate does not
                when = getattr(headers.msg.get("Date"), "datetime", None)
            except Exception:
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


@dataclass(slots=True)
class _Leaf:
    """A non-multipart part with its type facts read once (each read re-parses a header)."""

    part: Message
    ctype: str
    attachment: bool
    filename: str | None


def _leaf(part: Message) -> _Leaf:
    try:
        ctype = part.get_content_type()
    except Exception:
        ctype = "application/octet-stream"
    try:
        disposition = part.get_content_disposition()
    except Exception:
        disposition = None
    try:
        filename = part.get_filename()
    except Exception:
        filename = None
    attachment = disposition == "attachment" or (
        bool(filename) and ctype not in ("text/plain", "text/html")
    ) or ctype == "message/rfc822"
    return _Leaf(part, ctype, attachment, _clean(filename) if filename else None)


def _leaves(msg: Message) -> list[_Leaf]:
    """Non-multipart parts in document order, not descending into attached messages."""
    out: list[_Leaf] = []
    stack = [msg]
    while stack:
        part = stack.pop(0)
        payload = part.get_payload()
        if part.is_multipart() and part.get_content_maintype() == "multipart":
            if isinstance(payload, list):
                stack[0:0] = payload
        else:
            out.append(_leaf(part))
    return out


def _body(leaves: list[_Leaf]) -> tuple[str, str, _Leaf | None]:
    """(text, 'plain'|'html'|'none', the leaf it came from): the first inline text/plain,
    else the first inline text/html (what `get_body` prefers, without its repeated parsing)."""
    for kind in ("text/plain", "text/html"):
        leaf = next((lf for lf in leaves if lf.ctype == kind and not lf.attachment), None)
        if leaf is None:
            continue
        text = _part_text(leaf.part)
        if kind == "text/html":
            from inscriptis import get_text

            # a newsletter-sized page would only be cut to MAX_TEXT_CHARS afterwards
            return get_text(text[: MAX_TEXT_CHARS * 20]), "html", leaf
        return text, "plain", leaf
    return "", "none", None


def _attachments(leaves: list[_Leaf], body: _Leaf | None) -> list[Attachment]:
    out: list[Attachment] = []
    for leaf in leaves:
        if leaf is body or (leaf.ctype in ("text/plain", "text/html") and not leaf.attachment):
            continue  # the body, its other alternative, or an inline text fragment
        filename = leaf.filename
        if leaf.ctype == "message/rfc822":
            inner = leaf.part.get_payload()
            inner_msg = inner[0] if isinstance(inner, list) and inner else None
            try:
                size = len(inner_msg.as_bytes()) if isinstance(inner_msg, Message) else 0
            except Exception:  # an attached message too broken to re-serialise
                size = 0
            if not filename and isinstance(inner_msg, Message):
                filename = _Headers(inner_msg).text("Subject") or "message.eml"
        else:
            payload = leaf.part.get_payload(decode=True)
            size = len(payload) if isinstance(payload, bytes) else 0
        out.append(Attachment(filename, leaf.ctype, size))
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
