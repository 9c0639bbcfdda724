"""How an interaction ended: the single definition of "low/high satisfaction" and "good/bad".

Low satisfaction means the customer *ended* negative: the last quarter of the customer's
sentiment trend (Contact Lens style, -5..+5) or, without a trend, the customer's overall
sentiment (then the whole conversation's). A success outcome in the metadata (e.g.
`outcome = "sale"`) outranks sentiment when judging what the best agents do.
"""

from __future__ import annotations

from analysis.patterns.options import TraitOptions
from store.patterns import InteractionFacts


def end_sentiment(f: InteractionFacts) -> float | None:
    """The customer's sentiment at the end (-5..+5), or None when nothing was scored."""
    if f.customer_trend:
        last = [v for v in f.customer_trend if v is not None]
        if last:
            return float(f.customer_trend[-1] if f.customer_trend[-1] is not None else last[-1])
    if f.sentiment_customer is not None:
        return float(f.sentiment_customer)
    if f.sentiment is not None:
        return float(f.sentiment)
    return None


def satisfaction(f: InteractionFacts, options: TraitOptions) -> str | None:
    """'low', 'high', or None for interactions in between or unscored."""
    s = end_sentiment(f)
    if s is None:
        return None
    if s <= options.low_at:
        return "low"
    if s >= options.high_at:
        return "high"
    return None


def success(f: InteractionFacts, options: TraitOptions) -> bool | None:
    """True/False for a good/bad interaction (metadata outcome first, else satisfaction)."""
    if options.success_key and options.success_key in f.metadata:
        value = f.metadata.get(options.success_key)
        return str(value).lower() in {v.lower() for v in options.success_values}
    sat = satisfaction(f, options)
    return None if sat is None else sat == "high"
