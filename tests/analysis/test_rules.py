"""The rules engine: phrase / near / semantic / metric / attribute conditions, scopes,
negation, any/all, ASR-tolerant matching and evidence; config validation."""

from __future__ import annotations

import pytest

from analysis.flags import from_rule_hits
from analysis.rules import RuleEngine, RuleOptions, compile_condition, default_rules
from store.records import Interaction, Turn

DISCLOSURE = "This call may be recorded for quality and training purposes."


def _call(*turns: tuple[str, str, float, float], **attrs: object) -> Interaction:
    it = Interaction("call", "t", "x", "h", turns=[Turn(i, sp, tx, start=s, end=e) for i, (sp, tx, s, e) in enumerate(turns)])
    for k, v in attrs.items():
        setattr(it, k, v)
    return it


def _engine(*rules: dict) -> RuleEngine:
    return RuleEngine([RuleOptions(**r) for r in rules])


DISCLOSURE_RULE = {
    "name": "recording_disclosure",
    "flag": "compliance_missing",
    "severity": "high",
    "when": {"not": {"phrase": "this call may be recorded", "speaker": "agent", "within_seconds": 60}},
}


def test_disclosure_present_absent_late_or_said_by_the_customer() -> None:
    eng = _engine(DISCLOSURE_RULE)
    ok = _call(("agent", f"Hello, {DISCLOSURE} How can I help?", 1.0, 6.0), ("customer", "Hi", 7.0, 8.0))
    assert eng.evaluate(ok, {}) == []
    missing = _call(("agent", "Hello, how can I help?", 1.0, 3.0), ("customer", "Hi", 4.0, 5.0))
    (hit,) = eng.evaluate(missing, {})
    assert hit.rule.kind == "compliance_missing"
    assert "absent" in hit.evidence[0] and "agent" in hit.evidence[0]["absent"]
    late = _call(("agent", "Hello", 1.0, 2.0), ("agent", DISCLOSURE, 75.0, 80.0))
    assert len(eng.evaluate(late, {})) == 1
    by_customer = _call(("agent", "Hello", 1.0, 2.0), ("customer", DISCLOSURE, 3.0, 8.0))
    assert len(eng.evaluate(by_customer, {})) == 1


@pytest.mark.parametrize(
    "garbled",
    [
        "Hello, this call may be recorded for quality and training porpoises.",
        "Hello, this cal may be recorded for quality and training purposes.",
        "Hello this call maybe recorded for quality and training purposes",
        "Hello, this call may be ricorded for quality and training purposes.",
    ],
)
def test_disclosure_still_found_when_asr_garbles_a_word(garbled: str) -> None:
    eng = _engine(DISCLOSURE_RULE | {"when": {"not": {"phrase": "this call may be recorded for quality and training purposes", "speaker": "agent", "within_seconds": 60}}})
    assert eng.evaluate(_call(("agent", garbled, 0.5, 5.0)), {}) == []


def test_phrase_evidence_has_span_and_time() -> None:
    eng = _engine({"name": "promise", "flag": "prohibited_phrase", "when": {"phrase": "guaranteed", "speaker": "agent"}})
    it = _call(("customer", "Will it work?", 0.0, 2.0), ("agent", "Yes, it is guaranteed to work.", 2.0, 6.0))
    (hit,) = eng.evaluate(it, {})
    (ev,) = hit.evidence
    assert ev["seq"] == 1 and ev["speaker"] == "agent"
    assert it.turns[1].text[ev["char_start"] : ev["char_end"]] == "guaranteed"
    assert 2.0 < ev["start"] < ev["end"] < 6.0
    assert ev["how"] == "exact"
    (flag,) = from_rule_hits(7, [hit])
    assert flag.kind == "prohibited_phrase" and flag.rule == "promise" and flag.interaction_id == 7
    assert flag.severity == 2 and "guaranteed" in (flag.summary or "")


def test_engines_from_the_same_rules_share_their_compiled_phrase_lists() -> None:
    """Each engine built from the shipped rules (analyzer, `score`, a test) compiled their
    ~190,000 phrases again; a phrase list is now built once per process and shared, and a
    list that differs in a phrase, `fuzzy`, `phonetic` or `except` gets its own."""
    rule = {"name": "promise", "when": {"phrase": ["guaranteed", "promise"], "except": "no promise"}}
    a, b = _engine(rule), _engine(rule)
    (ca,), (cb,) = [c for _r, c in a.compiled], [c for _r, c in b.compiled]
    assert ca.set is cb.set and ca.excepts is cb.excepts
    for other in ({"phrase": ["guaranteed"], "except": "no promise"},
                  {"phrase": ["guaranteed", "promise"], "fuzzy": 90, "except": "no promise"},
                  {"phrase": ["guaranteed", "promise"], "phonetic": False, "except": "no promise"}):
        ((_r, c),) = _engine({"name": "promise", "when": other}).compiled
        assert c.set is not ca.set and c.excepts is ca.excepts
    ((_r, c),) = _engine({"name": "promise", "when": {**rule["when"], "except": "promise me"}}).compiled
    assert c.set is ca.set and c.excepts is not ca.excepts
    it = _call(("agent", "I promise it is guaranteed.", 0, 3), ("agent", "There is no promise.", 3, 6))
    assert [h.evidence for h in a.evaluate(it, {})] == [h.evidence for h in b.evaluate(it, {})] != []


def test_near_within_word_distance() -> None:
    eng = _engine({"name": "refund_never", "when": {"near": ["refund", "never"], "distance": 5}})
    assert len(eng.evaluate(_call(("customer", "I never got the refund you promised", 0, 3)), {})) == 1
    assert eng.evaluate(_call(("customer", "I never said anything about it and later I asked for a refund", 0, 3)), {}) == []
    (hit,) = eng.evaluate(_call(("customer", "the refnd never came", 0, 3)), {})  # ASR near-miss
    assert hit.rule.kind == "rule:refund_never"


def test_conditions_on_metrics_attributes_turns_and_combinators() -> None:
    eng = _engine(
        {"name": "long_silence_billing", "when": {"all": [{"metric": "non_talk_seconds", "gt": 30}, {"queue": ["billing"]}]}},
        {"name": "upset_end", "when": {"any": [{"metric": "customer_trend_end", "le": -1}, {"metric": "anger", "ge": 0.8}]}},
        {"name": "greeting", "when": {"phrase": "hello", "within_turns": 1, "negate": True}},
        {"name": "chat_only", "channels": ["chat"], "when": {"phrase": "hello"}},
    )
    it = _call(("agent", "Good morning", 0, 1), ("agent", "hello", 2, 3), queue="billing")
    fired = {h.rule.name for h in eng.evaluate(it, {"non_talk_seconds": 31.0, "customer_trend_end": 0.5, "anger": 0.9})}
    assert fired == {"long_silence_billing", "upset_end", "greeting"}
    it.queue = "sales"
    fired = {h.rule.name for h in eng.evaluate(it, {"non_talk_seconds": 31.0, "customer_trend_end": 2.0, "anger": 0.1})}
    assert fired == {"greeting"}


def test_semantic_condition_with_an_embedding_function() -> None:
    import numpy as np

    vocab = ["supervisor", "weather"]

    def embed(texts: list[str]) -> np.ndarray:  # a bag-of-words encoder: cosine is meaningful
        rows = np.array([[1.0 if w in t.lower() else 0.0 for w in vocab] + [0.1] for t in texts])
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)

    eng = RuleEngine([RuleOptions(name="esc", when={"semantic": "I need a supervisor", "threshold": 0.9})], embed)
    assert eng.needs_embeddings
    assert len(eng.evaluate(_call(("customer", "get me a supervisor", 0, 1)), {})) == 1
    assert eng.evaluate(_call(("customer", "nice weather", 0, 1)), {}) == []


@pytest.mark.parametrize(
    ("when", "message"),
    [
        ({"phrase": "x", "speeker": "agent"}, "unknown key"),
        ({"phrase": "x", "speaker": "boss"}, "speaker"),
        ({"metric": "silence", "gt": 1}, "unknown metric"),
        ({"metric": "anger"}, "needs one of gt"),
        ({"near": ["a"]}, "exactly two"),
        ({"phrase": "x", "near": ["a", "b"]}, "exactly one of"),
        ({"all": []}, "non-empty list"),
        ({"semantic": "x", "threshold": 2}, "threshold"),
    ],
)
def test_bad_conditions_are_rejected_with_the_key(when: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        compile_condition(when, "rules.r.when")
    with pytest.raises(ValueError, match=r"rules\.r\.when"):
        RuleOptions(name="r", when=when)


def test_shipped_rules_load_and_cover_the_built_in_kinds() -> None:
    kinds = {r.kind for r in default_rules()}
    assert kinds == {"compliance_missing", "prohibited_phrase", "escalation_request", "churn_risk"}


@pytest.mark.slow  # a real CLI process or a long run: `make test` keeps it, test-fast does not
def test_config_without_rules_uses_the_shipped_ones_and_validates_rules() -> None:
    from convoscope.config import ConfigError, from_dict

    assert {r.name for r in from_dict({}).rules} == {r.name for r in default_rules()}
    cfg = from_dict({"rules": [{"name": "r1", "severity": "low", "when": {"phrase": "refund"}}]})
    assert [r.kind for r in cfg.rules] == ["rule:r1"]
    with pytest.raises(ConfigError, match=r"rules\.0"):
        from_dict({"rules": [{"name": "r1", "severity": "urgent", "when": {"phrase": "refund"}}]})


def test_semantic_condition_finds_one_sentence_in_a_long_email() -> None:
    import numpy as np

    vocab = ["supervisor", "weather", "invoice", "delivery", "garden"]

    def embed(texts: list[str]) -> np.ndarray:
        rows = np.array([[1.0 if w in t.lower() else 0.0 for w in vocab] + [0.05] for t in texts])
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)

    filler = "The weather was fine. My invoice arrived. The delivery came late. The garden is nice. "
    email = filler * 3 + "I need a supervisor now. " + filler
    it = Interaction("email", "t", "e", "h", turns=[Turn(0, "customer", email)])
    eng = RuleEngine([RuleOptions(name="esc", when={"semantic": "supervisor", "threshold": 0.9})], embed)
    (hit,) = eng.evaluate(it, {})
    (ev,) = hit.evidence
    assert ev["matched"].strip() == "I need a supervisor now."
