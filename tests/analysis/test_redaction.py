"""Redaction: written and spoken card numbers (Luhn), SSNs, phones, e-mails, IBANs."""

from __future__ import annotations

import pytest

from analysis.redaction import RedactionOptions, luhn_ok, redact


@pytest.mark.parametrize(
    "text",
    [
        "my card is 4111 1111 1111 1111 thanks",
        "my card is 4111-1111-1111-1111 thanks",
        "my card is 4111111111111111 thanks",
        "my card is four one one one one one one one one one one one one one one one thanks",
        "it's four one one one, double one double one, one one one one, triple one one thanks",
        "it is four one one one dash one one one one dash one one one one dash one one one one",
        "card 5500 0000 0000 0004 thanks",
    ],
)
def test_card_numbers_written_and_spoken_are_redacted(text: str) -> None:
    r = redact(text)
    (span,) = r.spans
    assert span.kind == "CARD"
    # everything around the span is kept, the span itself becomes the marker
    assert r.text == text[: span.start] + "[PII:CARD]" + text[span.end :]
    assert not any(ch.isdigit() for ch in r.text)
    assert " one " not in r.text and "four" not in r.text


def test_non_luhn_number_is_not_a_card() -> None:
    assert not luhn_ok("4111111111111112")
    for text in ("order 4111 1111 1111 1112 shipped", "order four one one one one one one one one one one one one one one two"):
        r = redact(text)
        assert "CARD" not in r.text
        assert not [s for s in r.spans if s.kind == "CARD"]


def test_ssn_phone_email_iban() -> None:
    r = redact("SSN 123-45-6789, call +44 20 7946 0958, mail jane.doe@example.com, IBAN GB82 WEST 1234 5698 7654 32.")
    assert r.text == "SSN [PII:SSN], call [PII:PHONE], mail [PII:EMAIL], IBAN [PII:IBAN]."
    assert [s.kind for s in r.spans] == ["SSN", "PHONE", "EMAIL", "IBAN"]


def test_spoken_phone_with_double_and_oh() -> None:
    r = redact("you can reach me on four one five, double five five, oh one three four")
    assert r.text == "you can reach me on [PII:PHONE]"


def test_bad_iban_checksum_and_ordinary_numbers_are_kept() -> None:
    text = "IBAN GB83 WEST 1234 5698 7654 32, paid 25.99 on 12/03/2024, oh no, one or two"
    assert redact(text).text == text


def test_kinds_option_limits_what_is_redacted() -> None:
    r = redact("mail a@b.co card 4111 1111 1111 1111", RedactionOptions(kinds=["email"]))
    assert r.text == "mail [PII:EMAIL] card 4111 1111 1111 1111"
    with pytest.raises(ValueError, match="unknown"):
        RedactionOptions(kinds=["passport"])


# -- slow: a spoken card number through real Whisper, and the silenced audio copy ---------


@pytest.mark.slow
@pytest.mark.espeak
def test_spoken_card_number_is_redacted_from_transcript_and_audio(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import shutil
    import subprocess
    from pathlib import Path

    import numpy as np

    from analysis.asr.audio import SAMPLE_RATE, load
    from analysis.asr.options import AsrOptions
    from analysis.asr.transcriber import Transcriber
    from analysis.redaction_audio import spans_in_time, write_silenced_copy

    if not (shutil.which("espeak-ng") and shutil.which("sox")):
        pytest.fail("espeak-ng and sox are needed (make sysdeps-test)")
    wav = tmp_path / "card.wav"
    text = ("Thank you. My card number is four one one one, one one one one, one one one one, "
            "one one one one. Please charge it today.")  # fmt: skip
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "140", "-w", str(wav), text], check=True)
    call = tmp_path / "call.wav"
    subprocess.run(["sox", str(wav), "-r", "16000", str(call)], check=True)

    cache = Path(__import__("os").environ.get("CONVOSCOPE_CACHE", "~/.cache/convoscope")).expanduser()
    # one synthetic voice: diarization off (two speakers are assumed by default, which would
    # split this monologue; cross-turn card numbers are redact_conversation's test)
    transcript = Transcriber(AsrOptions(language="en", diarization="off"), cache).transcribe(call)
    results = [redact(t.text) for t in transcript.turns]
    joined = " ".join(r.text for r in results)
    assert "[PII:CARD]" in joined, [t.text for t in transcript.turns]
    assert "4111" not in joined and "four one one one" not in joined.lower()

    spans = spans_in_time(transcript.turns, results)
    assert len(spans) == 1
    out = write_silenced_copy(call, tmp_path / "redacted" / "1.flac", spans)
    original, copy = load(call).channels[0], load(out).channels[0]
    a, b = (int(x * SAMPLE_RATE) for x in spans[0])
    assert np.abs(copy[a:b]).max() == 0.0  # the card number is silence
    assert np.abs(original[a:b]).max() > 0.05  # ...where there was speech
    before = slice(0, max(a - SAMPLE_RATE // 4, 1))
    assert np.abs(copy[before]).max() > 0.05  # the rest is kept


def test_card_number_with_a_lost_digit_is_redacted_only_after_a_card_word() -> None:
    # 15 digits, Luhn fails: ASR lost one digit of a dictated card number
    assert redact("my card number is 411111111111111 thanks").text == "my card number is [PII:CARD] thanks"
    assert redact("my visa is four one one one one one one one one one one one one one one").text == "my visa is [PII:CARD]"
    assert redact("tracking number 411111111111111 thanks").text == "tracking number 411111111111111 thanks"
