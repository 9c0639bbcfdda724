"""The question engine shared by the Slack bot and `convoscope ask`: parse, then answer."""

from bot.questions.answers import Answer, Engine, answer_payload
from bot.questions.parser import Query, parse

__all__ = ["Answer", "Engine", "Query", "answer_payload", "parse"]
