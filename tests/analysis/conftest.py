"""Helpers for the call/ASR tests: synthesised calls (espeak-ng + sox) and one Whisper model.

The synthesis reuses samples/make_calls.py (the generator of the committed sample calls),
so test calls and sample calls are made the same way. The Whisper model is loaded once
per session from the real cache ($CONVOSCOPE_CACHE or ~/.cache/convoscope, where
`make models` joins it), so the slow tests share one load.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest
from rules_helpers import _bag_embed, _blind_embed
from scriptload import load_script

from analysis.rules import RuleEngine, default_rules

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def make_calls_module() -> ModuleType:
    """samples/make_calls.py as a module (scripts, `render`, `write_opus`, `Line`)."""
    return load_script("samples/make_calls.py")


@pytest.fixture
def synth_call(tmp_path: Path, make_calls_module: ModuleType) -> Callable[..., Path]:
    """Make a call from (speaker, text[, pause]) tuples: `synth_call("x.opus", lines, mono=False)`."""
    if shutil.which("espeak-ng") is None or shutil.which("sox") is None:
        pytest.fail("espeak-ng and sox are needed (make sysdeps-test installs them)")
    mc = make_calls_module

    def make(name: str, lines: list[tuple], *, mono: bool = False, voice_lang: str = "") -> Path:
        script = [mc.Line(s, t, *rest) for s, t, *rest in lines]
        if voice_lang:
            old = (mc.AGENT_VOICE, mc.CUSTOMER_VOICE)
            mc.AGENT_VOICE, mc.CUSTOMER_VOICE = f"{voice_lang}+m3", f"{voice_lang}+f3"
            try:
                audio = mc.render(script, mono=mono)
            finally:
                mc.AGENT_VOICE, mc.CUSTOMER_VOICE = old
        else:
            audio = mc.render(script, mono=mono)
        path = tmp_path / name
        mc.write_opus(path, audio)
        return path

    return make


def model_cache() -> Path:
    return Path(os.environ.get("CONVOSCOPE_CACHE", "~/.cache/convoscope")).expanduser()


@pytest.fixture(scope="session")
def asr_transcriber():
    """One real Transcriber (packaged Whisper base, CPU int8) for the whole session."""
    from analysis.asr import AsrOptions, Transcriber

    return Transcriber(AsrOptions(), model_cache())


@pytest.fixture(scope="session")
def shipped() -> RuleEngine:
    """The shipped rules with a bag-of-words stand-in encoder (building them takes ~2 s:
    once per worker). test_rules_clauses.py overrides it with its own vocabulary."""
    return RuleEngine(default_rules(), _bag_embed)


@pytest.fixture(scope="session")
def shipped_phrases_only() -> RuleEngine:
    """The shipped rules where no semantic condition can decide (one-hot stand-in vectors)."""
    return RuleEngine(default_rules(), _blind_embed)
