"""The question engine shared by the Slack bot and `convoscope ask`: parse a question into
the typed query (`store.query.Query`), then answer it."""

from bot.questions.answers import Answer, Engine, answer_payload
from bot.questions.parser import parse
from store.query import Query

__all__ = ["Answer", "Engine", "Query", "answer_payload", "parse"]
