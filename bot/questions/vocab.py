"""The question vocabulary: which words say which filter, metric, grouping or view.

Kept as data (regex alternatives → value) so the meaning of a word is in one place and
the phrasing corpus (tests/data/questions.tsv) checks all of it. Patterns are matched on
the folded question (lower case, no accents: `linking.fold`).
"""

from __future__ import annotations

import re

# -- flags (families of store.query.FLAG_FAMILIES) ---------------------------------------
FLAG_WORDS: list[tuple[str, str]] = [
    (r"(?:incorrect|wrong|false|inaccurate|bad|misleading) (?:info(?:rmations?)?|answers?|statements?|advice)"
     r"|misinform\w*|incorrect[_ ]information|gave (?:the )?wrong (?:info\w*|answers?)", "incorrect_information"),
    (r"unresolved(?: issues?| problems?| flags?)?|unresolved[_ ]issues?", "unresolved"),
    (r"angry|angri(?:er|est|ly)|furious|upset|irate|enraged|livid|heated|hostile|mad(?= (?:customers?|callers?))"
     r"|anger (?:flags?|alerts?)", "angry"),
    (r"(?:compliance|complience|compliane|complaince)(?: (?:violations?|issues?|problems?|breach(?:es)?|flags?|failures?))?"
     r"|non-?compliant|violations?|(?:missed|missing|skipped) (?:the )?disclosures?|disclosures?", "compliance"),
    (r"prohibited(?: (?:phrases?|words?|language|terms?|statements?))?|forbidden (?:phrases?|words?|language)"
     r"|banned (?:phrases?|words?)", "prohibited"),
    (r"escalat\w*(?: requests?)?|(?:asked|asking|wanted|ask|asks) (?:for|to speak to|to talk to) (?:a |the |your )?(?:manager|supervisor)", "escalation"),
    (r"churn\w*(?: risks?)?|(?:threaten\w*|want\w*|going) to (?:leave|cancel|switch)|cancell?ation(?: threats?| risks?)?s?"
     r"|at risk of (?:leaving|churn\w*)", "churn"),
    (r"repeat(?:ed)? (?:contacts?|callers?|customers?|calls?|chats?|emails?)|repeats", "repeat"),
    (r"trend (?:alerts?|flags?)|trends|anomal\w*", "trend"),
    (r"profan\w*|swear\w*|curs(?:ing|e words?)|abusive(?: language)?|obscen\w*|foul language", "profanity"),
    (r"long silences?|dead air|long holds?|silences|silent", "silence"),
    (r"flagged|flags?|alerts?|alarms?|any flags", "any"),
]  # fmt: skip
FLAG_RX = [(re.compile(rf"\b(?:{w})\b"), fam) for w, fam in FLAG_WORDS]

# -- channels, directions, review states, resolution --------------------------------------
CHANNEL_WORDS: list[tuple[str, str]] = [
    (r"phone calls?|voice calls?|calls?|phone|calll?s|cals|callz|voice", "call"),
    (r"e-?mails?|emials?|emalis?|mails?", "email"),
    (r"live chats?|chats?|chat sessions?|chatz|messages? on chat|web ?chats?", "chat"),
]
CHANNEL_RX = [(re.compile(rf"\b(?:{w})\b"), ch) for w, ch in CHANNEL_WORDS]
DIRECTION_WORDS = [(r"inbound|incoming|in-?bound", "inbound"), (r"outbound|outgoing|out-?bound", "outbound")]
DIRECTION_RX = [(re.compile(rf"\b(?:{w})\b"), d) for w, d in DIRECTION_WORDS]
REVIEW_WORDS: list[tuple[str, str]] = [
    (r"unreviewed|un-reviewed|not (?:yet )?reviewed|awaiting review|pending review|needing review|open|to review"
     r"|still open|nobody (?:has )?reviewed|no one (?:has )?reviewed", "open"),
    (r"confirmed", "confirmed"),
    (r"dismissed|thrown out|rejected", "dismissed"),
    (r"contested|disputed|challenged", "contested"),
]  # fmt: skip
REVIEW_RX = [(re.compile(rf"\b(?:{w})\b"), s) for w, s in REVIEW_WORDS]
RESOLUTION_WORDS: list[tuple[str, str]] = [
    (r"(?:were |was |got |that were |that got )?resolved|fixed|solved", "resolved"),
    (r"(?:still )?pending resolution|awaiting resolution|no verdict", "pending"),
]
RESOLUTION_RX = [(re.compile(rf"\b(?:{w})\b"), s) for w, s in RESOLUTION_WORDS]

# -- metrics -------------------------------------------------------------------------------
METRIC_WORDS: list[tuple[str, str]] = [
    (r"customer sentiment|customer mood|customer'?s? sentiment|customer satisfaction|csat", "customer_sentiment"),
    (r"agent sentiment|agent'?s? sentiment|agent tone|agent mood", "agent_sentiment"),
    (r"sentiment(?: score)?s?|sentimnet|sentimet|mood|satisfaction", "sentiment"),
    (r"anger(?: scores?| levels?)?|angriness", "anger"),
    (r"(?:first )?response times?|(?:first )?reply times?|time to (?:first )?(?:response|reply|respond|answer)"
     r"|first responses?|wait(?:ing)? times?|wait(?:ed|s|ing)? (?:for|until) (?:the |a |an )?(?:first )?(?:answers?|replies|reply|responses?)|response|answered|replied|responded", "response_time"),
    (r"(?:agent )?talk(?:[- ]time)? ratio|agent talk(?:ing)?(?: time)? share|talk share|agent talk time", "agent_talk_ratio"),
    (r"interruptions?|interupt\w*|interrupt\w*|talk-?overs?|over-?talk(?:ing)?|cross-?talk", "interruptions"),
    (r"(?:(?:put )?on hold )?in silence|(?:put )?on hold|silence(?: time)?|dead air|non-?talk(?: time)?|hold time|quiet time", "silence"),
    (r"duration|length|handle time|handling time|aht|talk time", "duration"),
    (r"turns|messages|exchanges|back[- ]and[- ]forths?", "turns"),
]  # fmt: skip
METRIC_RX = [(re.compile(rf"\b(?:{w})\b"), m) for w, m in METRIC_WORDS]
#: words that say "long" or "short" about an interaction: a duration condition.
DURATION_ADJ = r"longer|long|lasting|lasted|last|shorter|short|taking|took|over|under|more than|less than"

# comparators -> op (the op when the phrase is before the number)
OPS: list[tuple[str, str]] = [
    (r">=|=>|at least|no (?:less|fewer) than|not (?:less|fewer) than|minimum(?: of)?|or more", ">="),
    (r"<=|=<|at most|no more than|not more than|up to|maximum(?: of)?|or less|or fewer|within", "<="),
    (r">|more than|greater than|higher than|bigger than|larger than|longer than|over|above|exceed(?:s|ed|ing)?"
     r"|in excess of|beyond|past|worse than|moer than|mroe than|more then|longer then|slower than|later than", ">"),
    (r"<|less than|fewer than|lower than|smaller than|shorter than|under|below|beneath|less then"
     r"|shorter then|lower then|faster than|quicker than", "<"),
    (r"=|equal to|exactly|of exactly", "="),
]  # fmt: skip
OP_RX = [(re.compile(rf"(?:(?<=\s)|^)(?:{w})(?=\s|$|\d|-)"), op) for w, op in OPS]

# units -> seconds (durations) or a scale
TIME_UNITS: list[tuple[str, float]] = [
    (r"h|hr|hrs|hour|hours", 3600.0), (r"m|min|mins|minute|minutes|minuts|minutse", 60.0),
    (r"s|sec|secs|second|seconds", 1.0),
]
NUMBER_WORDS = {"zero": 0, "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
                "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15,
                "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "ninety": 90,
                "a couple of": 2, "a couple": 2, "a few": 3, "half an": 0.5, "half a": 0.5, "a half": 0.5,
                "twice": 2, "once": 1, "three times": 3}  # fmt: skip

# -- grouping -------------------------------------------------------------------------------
GROUP_WORDS: list[tuple[str, str]] = [
    (r"agents?|reps?|representatives?|people|staff|employees?|operators?|advisors?|who(?:se)?", "agent"),
    (r"queues?|teams?|departments?|depts?|lines?|skills?", "queue"),
    (r"topics?|reasons?|subjects?|contact reasons?|call drivers?|drivers?", "topic"),
    (r"channels?", "channel"),
    (r"days?|daily|dates?|weekdays?|day of (?:the )?week", "day"),
    (r"weeks?|weekly", "week"),
    (r"clusters?|issues?|issue groups?|problems?", "cluster"),
    (r"customers?|callers?|clients?|accounts?", "customer"),
    (r"flags?|flag kinds?|flag types?|kinds? of flags?", "flag"),
]  # fmt: skip
GROUP_RX = [(re.compile(rf"^(?:{w})$"), g) for w, g in GROUP_WORDS]

#: words that carry no meaning of their own (or whose meaning the grammar takes from the
#: words around them): left out of `Query.ignored`.
STOPWORDS = frozenset((
    "a", "an", "the", "of", "in", "on", "at", "for", "to", "from", "by", "with", "and", "or", "but",
    "is", "are", "was", "were", "be", "been", "being", "am", "do", "does", "did", "done", "have",
    "has", "had", "having", "will", "would", "can", "could", "should", "shall", "may", "might",
    "must", "i", "me", "my", "we", "us", "our", "you", "your", "he", "she", "it", "its", "they",
    "them", "their", "this", "that", "these", "those", "there", "here", "what", "which", "who",
    "whom", "whose", "when", "where", "why", "how", "all", "any", "some", "each", "every", "please",
    "pls", "plz", "show", "list", "give", "get", "find", "tell", "see", "display", "let", "lets",
    "let's", "want", "need", "know", "like", "just", "also", "so", "then", "than", "as", "into",
    "onto", "about", "over", "under", "up", "down", "out", "off", "again", "more", "most", "much",
    "many", "such", "only", "own", "same", "too", "very", "s", "t", "now", "ok", "okay", "hi",
    "hello", "hey", "thanks", "thank", "yo", "can't", "cannot", "not", "no", "nor", "if", "else",
    "one", "ones", "anything", "something", "stuff", "thing", "things", "me?", "us?", "bot",
    "convoscope", "kindly", "quickly", "pull", "bring", "fetch", "look", "looking", "check", "view",
    "got", "getting", "interactions", "interaction", "conversations", "conversation", "contacts",
    "contact", "tickets", "ticket", "cases", "case", "records", "record", "sessions", "session",
    "ones'", "were't", "isn't", "aren't", "weren't", "wasn't", "didn't", "don't", "doesn't",
    "handled", "handle", "took", "take", "taken", "via", "per", "across", "among", "between",
    "during", "while", "customers", "customer", "callers", "caller", "clients", "client", "people",
    "everyone", "everybody", "everything", "used", "use", "using", "given", "gave", "sounded",
    "sounds", "seemed", "analysed", "analyzed", "processed", "received", "made", "came", "come",
    "comes", "fired", "contacted", "talked", "happened", "went", "goes", "going", "gets", "seen",
    "raised", "logged", "recorded", "spoke", "spoken", "wrote", "written", "sent", "keep", "keeps",
    "kept", "result", "results", "breakdown", "compare", "comparison", "change", "changes",
    "changed", "vs", "versus", "overall", "currently", "right", "today's", "thx", "cheers", "w",
    "w/", "really", "whole", "entire", "u", "r", "requests", "request", "issues", "issue",
    "problems", "problem", "there's", "what's", "who's", "how's", "it's", "that's", "anyone", "ran", "run", "runs", "running",
    "someone", "somebody", "anybody", "i'd", "i'm", "i've", "i'll", "we'd", "we're", "we've", "who'd",
    "sorry", "cheers", "ta", "yet", "already", "pulling", "showing", "listing", "giving", "finding", "fetching", "mate", "folks", "guys", "lot", "bunch", "hiya",
))  # fmt: skip

# Abbreviations and chat spellings, replaced before parsing.
ABBREVIATIONS = {
    "yday": "yesterday", "ystday": "yesterday", "ystrdy": "yesterday", "ysterday": "yesterday", "ytd'y": "yesterday", "yest": "yesterday", "tdy": "today", "2day": "today",
    "tmrw": "tomorrow", "tmr": "tomorrow", "tmrow": "tomorrow", "wk": "week", "ystdy": "yesterday", "yestday": "yesterday", "wks": "weeks", "mo": "month",
    "mth": "month", "mths": "months", "ths": "this", "hw": "how", "w/": "with", "w/o": "without",
    "msgs": "messages", "mgr": "manager", "convos": "conversations", "esc": "escalations",
    "u": "you", "r": "are", "abt": "about", "bc": "because", "ppl": "people", "nr": "number", "no.": "number",
    "neg": "negative", "pos": "positive", "vol": "volume", "vols": "volumes", "avg": "average",
}  # fmt: skip
#: the words typos are corrected towards (one edit; two in long words)
VOCABULARY = sorted(set(["yesterday", "today", "tomorrow", "this", "last", "week", "weeks", "month", "months", "quarter", "year", "hours", "minutes", "seconds", "morning", "afternoon", "evening", "fortnight", "since", "between", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "january", "february", "march", "april", "june", "july", "august", "september", "october", "november", "december", "angry", "compliance", "violations", "violation", "escalations", "escalation", "escalated", "number", "many", "calls", "chats", "emails", "sentiment", "average", "interruptions", "silence", "silences", "unresolved", "resolved", "negative", "positive", "agents", "agent", "queue", "queues", "topics", "topic", "issues", "rising", "trending", "profanity", "swearing", "mentioning", "mentioned", "mentions", "ringing", "phoned", "rung", "containing", "longer", "shorter", "more", "less", "than", "which", "most", "highest", "lowest", "fewest", "breakdown", "flagged", "flags", "dismissed", "confirmed", "contested", "unreviewed", "response", "first", "duration", "common", "phrases", "repeat", "churn", "cancel", "incorrect", "information", "prohibited", "customers", "customer", "callers", "unhappy", "happy", "dissatisfied", "satisfied", "average", "compared", "versus", "inbound", "outbound", "technical", "resolution", "scorecard", "phrases", "anger", "complaining"]))  # fmt: skip
