"""Sentiment: the flair turn classifier (trained offline), VADER, and Contact-Lens scores.

The pipeline loads one classifier with `load_turn_classifier(options, cache_dir)`, calls
`predict(texts)` per batch of turns and `summarise(turns, sentiments)` per interaction;
`convoscope models prepare` calls `ensure_model(options, cache_dir)` once per machine.
"""

from analysis.sentiment.classifier import (
    FlairTurnClassifier,
    ModelNotPrepared,
    TurnClassifier,
    TurnSentiment,
    VaderTurnClassifier,
    load_turn_classifier,
)
from analysis.sentiment.contact_lens import SentimentSummary, summarise
from analysis.sentiment.options import SentimentOptions
from analysis.sentiment.training import TrainResult, cached_model, ensure_model, train_model

__all__ = [
    "FlairTurnClassifier",
    "ModelNotPrepared",
    "SentimentOptions",
    "SentimentSummary",
    "TrainResult",
    "TurnClassifier",
    "TurnSentiment",
    "VaderTurnClassifier",
    "cached_model",
    "ensure_model",
    "load_turn_classifier",
    "summarise",
    "train_model",
]
