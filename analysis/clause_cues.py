"""The cue lists and windows of the clause reader (`analysis.clauses`), kept apart so the
grammar's vocabulary can be read (and extended) on its own. Each list says in its comment
what a word in it does; multi-word cues are tuples of words, longest first.
"""

from __future__ import annotations

import re

#: words between a negation cue and the match for the cue to still apply
NEG_WINDOW = 6
#: words back from the match that a reporting verb may stand
REPORT_WINDOW = 12

TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)*|[.!?;:,\"“”\n—–]| - ")
STRONG = {".", "!", "?", ";", "\n"}
WEAK = {",", ":", "—", "–", " - "}
QUOTES = {'"', "“", "”"}

#: words that end a clause (they start the next one)
TERMINATORS = frozenset(
    [
        "but",
        "however",
        "although",
        "though",
        "yet",
        "except",
        "because",
        "cause",
        "cos",
        "whereas",
        "otherwise",
        "instead",
        "then",
        "whereby",
        "unlike",
    ]
)
#: multi-word clause boundaries
TERMINATOR_PHRASES = (("other", "than"), ("apart", "from"), ("rather", "than"))
#: these end a clause only when a new subject follows ("and I'm cancelling")
COORDINATORS = frozenset({"and", "or", "so", "plus"})
#: after a coordinator these open a new clause ("..., so yeah consider it done")
DISCOURSE_MARKERS = frozenset({"yeah", "yes", "ok", "okay", "right", "anyway", "basically", "honestly"})
#: after "so" / "and" a wh-question opens a new clause: "you clearly can't help so who's above
#: you" (the negation stays in the first clause)
COORDINATED_WH = frozenset({"who", "who's", "whos", "what", "what's", "whats", "where", "where's", "how", "why", "when"})
#: words that end a clause in unpunctuated speech, so a "you" after them is a new subject,
#: not an object: "you never get charged for this again you have my word"
CLAUSE_FINAL_ADVERBS = frozenset({"again", "anymore", "though", "too", "either", "already", "ok", "okay", "today", "tomorrow"})
#: a negation's scope ends after these (unpunctuated speech): "i'm not paying for this anymore
#: cancel it" — the cancelling is not negated
NEG_SCOPE_ENDERS = frozenset({"anymore", "again"})
#: a promise (or any match) attributed to a rule after it in the sentence is the rule's, not
#: the speaker's own: "we guarantee to respond within eight weeks, that's the regulator's
#: rule", "you're guaranteed a response within 5 working days under our complaints policy"
ATTRIBUTION_NOUNS = frozenset({"policy", "policies", "rule", "rules", "regulation", "regulations", "law"})
ATTRIBUTION_OPENERS = frozenset({"under", "per", "that's", "thats", "it's", "its", "by", "according", "regulator's", "regulators", "company"})
#: ... and the rule must be the company's or the regulator's: "it's my right under consumer
#: law" or "under your cancellation policy" leave a customer's "I want to cancel" standing
ATTRIBUTION_OWNERS = frozenset({"our", "company", "company's", "regulator", "regulator's", "regulators", "ofcom", "ofgem", "fca", "statutory"})
ATTRIBUTION_WINDOW = 4
#: "i'd ask for a supervisor but i know they'll just say the same": a conditional "would"
#: with a "but" after it is what the speaker would do, not does (wishes and requests keep
#: counting: "i'd like a manager but ...")
WOULD_OPENERS = frozenset({"i'd", "id", "we'd"})
WOULD_REQUEST_VERBS = frozenset({"like", "love", "prefer", "rather", "want", "appreciate", "be", "really", "just", "very", "much"})
#: "id promise if i could": "I'd" + a verb with "if <subject> could / were ..." after it is the
#: same unreal conditional as the "but" form
WOULD_IF_VERBS = frozenset({"could", "were", "was", "had", "could've"})
#: ... whose subject is the speaker or "it" ("if I could", "if it were up to me"); "if you
#: were to put the price up" is a condition on the listener (a threat that counts)
#: who may stand before "asking" for it to pass on someone's question ("you're asking is the
#: date guaranteed"); "I'm asking ..." is the speaker's own request (v8 round)
ASKING_SUBJECTS = frozenset({"you're", "youre", "you", "u", "they're", "theyre", "they", "he's", "she's", "he", "she", "people", "everyone"})
WOULD_IF_SUBJECTS = frozenset({"i", "we", "it"})
#: the opener may be the match's own first word only when heard "id" ("id promise if i could")
WOULD_OPENERS_IN_MATCH = frozenset({"id"})
#: an option the speaker names and then waives: "I know I'm entitled to escalate it but I'd
#: rather give you a chance", "I could request escalation to a manager, but I would prefer to
#: resolve this with you" (a cue before the match, "but" + a preference after it)
WAIVER_CUES: tuple[tuple[str, ...], ...] = tuple(
    tuple(c.split())
    for c in ("could", "entitled to", "the right to", "my right to", "my rights to", "within my rights", "the option to",
              "i can always", "free to", "i know i can", "i'm allowed to", "i am allowed to")
)
#: ... the cue governs the match: it ends at most this many words before it ("entitled to
#: escalate", "within my rights to ask for", "I could request escalation to a manager"), none
#: of them punctuation, a subject or one of `WAIVER_BREAKS` (the cue's own verb phrase)
WAIVER_GAP = 5
WAIVER_BREAKS = frozenset({"so", "and", "but", "then", "because", "cos", "or"})
#: ... and after "but" a first-person subject + one of these ("but I'd rather", "but I'm happy
#: to wait", "but I'll hold off"); a bare "first" or "happy" is any sentence's word
WAIVER_PREFERENCES = frozenset({"rather", "prefer", "preferred", "happy to", "instead", "hold off", "for now"})
FIRST_PERSON = frozenset({"i", "i'm", "im", "i'll", "ill", "i'd", "id", "i've", "ive", "we", "we're", "we'll", "we'd", "we've"})
#: "could you ..." asks the listener: not a waiver's "I could"
SECOND_PERSON = frozenset({"you", "u", "ya", "ye", "yous", "you'd", "someone", "somebody", "anyone"})
#: "could have" / "would have" + one of these is the main verb "have" ("is there a team leader
#: I could have a word with"), not a past counterfactual ("I could have cancelled")
HAVE_OBJECTS = frozenset({"a", "an", "the", "my", "your", "some", "someone", "somebody", "anyone", "any", "one", "that", "this"})
#: a reassurance in the form of a question: "don't you worry love, it'll be fitted tuesday"
REASSURANCE_VERBS = frozenset({"worry", "fret", "fear"})
#: in "if you can't sort it find me someone who can" the negation stays in the antecedent: a
#: request verb after the negated verb's own words opens the consequent
IF_CONSEQUENT_VERBS = frozenset({"find", "get", "put", "give", "fetch", "transfer", "pass", "connect", "let", "send", "gis", "gimme"})
IF_VERB_GOVERNORS = frozenset({"to", "and", "or", "me", "us", "not", "can't", "cant", "cannot", "don't", "dont", "won't", "wont",
                               "didn't", "didnt", "will", "can", "could", "would", "should", "do", "does", "did", "help", "you"})
SUBJECTS = frozenset(
    [
        "i",
        "i'm",
        "im",
        "i'll",
        "i've",
        "ive",
        "i'd",
        "we",
        "we're",
        "we'll",
        "we've",
        "we'd",
        "you",
        "you're",
        "youre",
        "you'll",
        "you've",
        "he",
        "he's",
        "she",
        "she's",
        "they",
        "they're",
        "they'll",
        "it's",
    ]
)
#: "you" after a verb is its object ("I can't give you my word"), not a new clause's
#: subject; after these words (or at a clause start) it is a subject again
OBJECT_PRONOUNS = frozenset(["you"])
SUBJECT_INTROS = frozenset(
    ["and", "or", "but", "so", "that", "if", "when", "because", "cause", "cos", "then", "until", "unless", "whether", "once", "since", "as", "before", "after", "while", "where", "how", "what", "why"]
)
FIRST_PERSON = frozenset(
    ["i", "i'm", "im", "i'll", "i've", "ive", "i'd", "we", "we're", "we'll", "we've", "we'd"]
)

#: negation, refusal and inability cues, longest first (one cue = a tuple of words)
NEGATION_CUES: tuple[tuple[str, ...], ...] = tuple(
    tuple(c.split())
    for c in sorted(
        {
            "not", "never", "no", "nobody", "no one", "nothing", "nothing's", "neither", "nor", "without",
            "hardly", "no longer", "no need to", "no need for", "no point", "no intention of", "no way",
            "can't", "cant", "cannot", "can not", "couldn't", "couldnt", "won't", "wont", "wouldn't",
            "wouldnt", "don't", "dont", "do not", "doesn't", "doesnt", "does not", "didn't", "didnt",
            "did not", "isn't", "isnt", "aren't", "arent", "wasn't", "wasnt", "weren't", "haven't",
            "havent", "hasn't", "hasnt", "hadn't", "shouldn't", "mustn't", "ain't", "unable to",
            "refuse to", "impossible to", "nah", "needn't", "neednt", "need not",
            # v9 round: a quantifier that negates its noun ("none of our calls are recorded")
            # and reluctance ("i'm reluctant to escalate this", "hesitant to cancel")
            "none of", "reluctant to", "hesitant to", "unwilling to", "loath to", "loth to",
            # typed "can't be bothered": "cba asking for a supervisor tbh"
            "cba",
        },
        key=lambda c: -len(c.split()),
    )
)  # fmt: skip
#: "cba" after one of these is the bank, not "can't be bothered" ("moved to cba")
CBA_BANK_BEFORE = frozenset({"to", "with", "at", "from", "the", "for", "of", "join", "joined", "use", "using"})
#: a cue word followed by one of these is not a negation of what follows
PSEUDO_NEGATION: dict[str, frozenset[str]] = {
    "no": frozenset(
        [
            "problem",
            "problems",
            "worries",
            "worry",
            "doubt",
            "matter",
            "thanks",
            "thank",
            "please",
            "sir",
            "madam",
            "ma'am",
            "i",
            "i'm",
            "im",
            "we",
            "you",
            "yes",
            "no",
            "choice",
            "alternative",
            "other",
        ]
    ),
    "not": frozenset(["only", "just", "a", "problem", "sure"]),
    "don't": frozenset(["worry", "care", "know", "mind"]),
    "dont": frozenset(["worry", "care", "know", "mind"]),
    "do not": frozenset(["worry", "hesitate"]),
    "can't": frozenset(["wait", "believe", "stand"]),
    "cant": frozenset(["wait", "believe", "stand"]),
    "never": frozenset(["mind"]),
    "without": frozenset(["a"]),  # "without a doubt"
    "nothing": frozenset(["else"]),
    # a reassurance, not a negation of the promise beside it: "you need not worry" (v8 round)
    "need not": frozenset(["worry", "fret", "panic", "be worried"]),
    "needn't": frozenset(["worry", "fret", "panic"]),
    "neednt": frozenset(["worry", "fret", "panic"]),
}
#: "no" / "nah" before a form of address is an answer, not a negation of what follows ("nah
#: bruv just get me your manager", "no mate i want it cancelled"; v8 round)
VOCATIVES = frozenset(["bruv", "bro", "mate", "pal", "love", "luv", "darling", "darlin", "hun", "babe", "bab", "fam",
                       "man", "chale", "boss", "sweetheart", "dear", "buddy", "dude", "lad", "son", "chief"])  # fmt: skip
#: a "not" after a noun and before a determiner or object pronoun negates that noun phrase
#: only, not the request beside it: "put the organ grinder on not the monkey", "the person
#: who decides not you" (constituent negation; v8 round). A "not" after one of these words
#: negates its verb as usual ("it's not the fee", "i do not the ...").
CONTRASTIVE_NOT_NEXT = frozenset(["you", "u", "ya", "him", "her", "them", "me", "us", "the", "a", "an", "some", "this", "that", "another", "some"])
#: before a negation cue these make it a verb negation, never a contrastive one
NOT_VERB_BEFORE = frozenset(["i", "i'm", "im", "we", "we're", "you", "you're", "it", "it's", "its", "that's", "thats", "there's",
                             "he", "she", "they", "they're", "he's", "she's", "if", "or", "whether", "why", "do", "does", "did",
                             "am", "be", "been", "being", "have", "has", "had", "will", "would", "can", "could", "should",
                             "shall", "may", "might", "must", "to", "and", "but", "so", "just", "please", "certainly",
                             "definitely", "probably", "really", "still", "yet", "is", "are", "was", "were"])  # fmt: skip
#: "why don't you ..." / "why not ..." suggest, they do not negate
WHY = frozenset({"why"})
#: verbs a negation reaches through a new subject: "I don't think I'll cancel"
NEG_RAISERS = frozenset(
    [
        "think",
        "believe",
        "expect",
        "want",
        "wanna",
        "say",
        "said",
        "saying",
        "mean",
        "suppose",
        "feel",
        "plan",
        "need",
        "reckon",
        "imagine",
        "asked",
        "ask",
        "asking",
    ]
)

#: a subject after these starts a relative clause, still in the negation's scope
#: ("that is not something we can guarantee")
RELATIVE_HEADS = frozenset(
    ["something", "anything", "nothing", "everything", "what", "which", "one", "thing"]
)

#: requests phrased as questions: they ask for the thing, so the match counts
REQUEST_OPENERS: tuple[tuple[str, ...], ...] = tuple(
    tuple(c.split())
    for c in (
        "can i", "could i", "may i", "can we", "could we", "can you", "could you", "would you",
        "will you", "can u", "could u", "can someone", "could someone", "can somebody", "is there",
        "is it possible", "would it be possible", "how do i", "how can i", "how would i",
        "how do we", "how can we", "what do i need to", "what do i have to", "where do i",
        "any chance", "can't you", "cant you", "why can't i", "why cant i", "please",
        "can your", "could your", "can a", "could a",
        # the thing asked for in the passive: "can this be escalated", "could my account be closed"
        "can this be", "could this be", "can it be", "could it be",
    )
)  # fmt: skip
FILLERS = frozenset(
    [
        "so",
        "ok",
        "okay",
        "um",
        "uh",
        "er",
        "erm",
        "well",
        "and",
        "hi",
        "hello",
        "hey",
        "yeah",
        "yes",
        "right",
        "look",
        "listen",
        "please",
        "oh",
        # an apology before the question: "sorry did they guarantee you the price?"
        "sorry",
        "pardon",
    ]
)
AUXILIARIES = frozenset(
    [
        "is",
        "are",
        "was",
        "were",
        "do",
        "does",
        "did",
        "has",
        "have",
        "had",
        "will",
        "would",
        "shall",
        "should",
        "can",
        "could",
        "may",
        "might",
        "must",
        "isn't",
        "aren't",
        "wasn't",
        "weren't",
        "don't",
        "doesn't",
        "didn't",
        "hasn't",
        "haven't",
        "won't",
        "wouldn't",
        "can't",
        "couldn't",
        "shouldn't",
    ]
)
WH_WORDS = frozenset(["what", "why", "when", "where", "who", "whom", "which", "how", "whose"])

#: reporting verbs: the complement after them is someone's reported words
REPORTING = frozenset(
    [
        "said",
        "says",
        "say",
        "saying",
        "told",
        "tells",
        "tell",
        "telling",
        "asked",
        "asks",
        "suggested",
        "suggests",
        "recommended",
        "recommends",
        "advised",
        "advises",
        "mentioned",
        "mentions",
        "claimed",
        "claims",
        # "you're asking is the install date guaranteed": the listener's question repeated
        "asking",
        "wrote",
        "writes",
        "stated",
        "states",
        "state",
        "promised",
        "reckons",
        "insisted",
        "insists",
    ]
)
#: a reporting verb in its base form with no subject (or only "please") is an imperative,
#: the speaker's own request ("please tell me how to close my account"), not reported words
IMPERATIVE_REPORTING = frozenset(["tell", "ask", "say"])
#: "can you tell me ...", "could u say ...": the listener asked to tell, a request
REQUEST_SUBJECTS = frozenset(["you", "u", "ya", "someone", "somebody", "anyone"])
REQUEST_MODALS = frozenset(["can", "could", "would", "will", "pls", "please"])
#: modals between a reporting verb and its subject ("I can tell you", "she'll tell you")
REPORT_MODALS = frozenset(["can", "could", "will", "would", "should", "must", "may", "might", "shall", "do", "did", "does"])
IMPERATIVE_OPENERS = frozenset(["", "please", "pls", "plz", "so", "just", "kindly"])
REPORTING_PHRASES: tuple[tuple[str, ...], ...] = (
    ("according", "to"), ("wants", "me", "to"), ("wanted", "me", "to"), ("wants", "us", "to"),
    ("wanted", "us", "to"), ("was", "told"), ("were", "told"), ("been", "told"), ("apparently",),
    # someone else's question passed on: "my mum wants to know how to close her account"
    ("wants", "to", "know"), ("wanted", "to", "know"), ("wants", "to", "find", "out"),
    ("wanted", "to", "find", "out"),
)  # fmt: skip
PASSIVE_REPORT = frozenset(
    {("was", "told"), ("were", "told"), ("been", "told"), ("according", "to"), ("apparently",)}
)
SUBJECT_SKIP = frozenset(
    [
        "already",
        "just",
        "also",
        "never",
        "even",
        "clearly",
        "literally",
        "keeps",
        "kept",
        "has",
        "have",
        "had",
    ]
)

#: "if it was up to me I'd guarantee it": the speaker says the power is not theirs, so the
#: consequent (with its own subject, which ends an ordinary antecedent) is still supposed
OUT_OF_MY_HANDS: frozenset[tuple[str, ...]] = frozenset(
    tuple(c.split())
    for c in (
        "if it was up to me", "if it were up to me", "if it was down to me", "if it were down to me",
        "if it was my call", "if it were my call", "if i had my way", "if it was my decision",
        "if it were my decision", "if it was just me", "if it were just me", "in an ideal world",
    )
)  # fmt: skip
#: conditional and irrealis cues (a match after them in the clause is supposed, not said)
HYPOTHETICAL_CUES: tuple[tuple[str, ...], ...] = tuple(
    tuple(c.split())
    for c in sorted(
        {
            "if", "unless", "whether", "suppose", "supposing", "assuming", "in case", "what if",
            "even if", "as long as", "provided that", "wish", "would love to", "i'd love to", "if only", "would have", "could have", "imagine", "could", "would",
            # an intention that did not happen: "I was going to ask for a manager, but ..."
            "was going to", "was gonna", "were going to", "was about to", "was planning to",
            "was thinking of", "was thinking about", "had planned to", "did think about",
            *(" ".join(c) for c in OUT_OF_MY_HANDS),
        },
        key=lambda c: -len(c.split()),
    )
)  # fmt: skip
#: hypothetical cues that mark what follows as not asserted at all: a counterfactual or wish
#: ("if only", "I wish"), an embedded question ("you asked whether we record calls") or an
#: intention that did not happen. A rule with `in_hypotheticals = "conditional"` counts a
#: match under a plain condition ("unless you object this call will be recorded") but not
#: under these. "if" is irrealis too when its clause has a subjunctive "were" / "had"
#: ("if this call were recorded you'd have heard a message"): `IRREALIS_VERBS`.
IRREALIS_CUES = frozenset(
    {
        ("whether",), ("wish",), ("if", "only"), ("would", "have"), ("could", "have"), ("imagine",),
        ("would", "love", "to"), ("i'd", "love", "to"), ("suppose",), ("supposing",), ("what", "if"),
        ("was", "going", "to"), ("was", "gonna"), ("were", "going", "to"), ("was", "about", "to"),
        ("was", "planning", "to"), ("was", "thinking", "of"), ("was", "thinking", "about"),
        ("had", "planned", "to"), ("did", "think", "about"), *OUT_OF_MY_HANDS,
    }
)  # fmt: skip
#: irrealis cues whose complement is a whole clause with its own subject ("I'd love to tell you
#: it'll be fixed", "I wish they'd guarantee it"): a subject after them does not end their
#: scope, as it ends an "if" antecedent
COMPLEMENT_CUES = frozenset({("wish",), ("would", "love", "to"), ("i'd", "love", "to"), ("if", "only"), ("imagine",)})
IRREALIS_VERBS = frozenset(["were", "weren't", "had", "hadn't"])
#: "... you would have heard": a past counterfactual after an "if" clause
COUNTERFACTUAL_MODALS = frozenset(["would", "could", "might", "should", "wouldn't", "couldn't", "you'd", "we'd", "i'd", "they'd", "he'd", "she'd", "it'd"])
COUNTERFACTUAL_HAVE = frozenset(["would've", "could've", "might've", "should've", "wouldve", "couldve"])
#: "I'd be grateful if a manager could call me", "I'd appreciate it if ...": a polite request,
#: not a supposition (the word before "if", or before "it if")
POLITE_IF = frozenset(["grateful", "appreciate", "appreciated", "thankful", "great", "helpful", "lovely", "nice", "ideal"])
#: a contrast after the match that takes it back for the present case: "calls may be recorded
#: on some lines but not this one" (`CONTRAST_NEGATION` then one of `CONTRAST_HERE`)
CONTRAST_NEGATION: tuple[tuple[str, ...], ...] = (("but", "not"), ("except", "not"), ("though", "not"))
CONTRAST_HERE: tuple[tuple[str, ...], ...] = tuple(
    tuple(c.split())
    for c in (
        "this one", "this call", "this line", "this conversation", "this time", "on this line",
        "on this call", "on this one", "here", "in this case", "in your case", "for you", "for this",
        "for this one", "yours", "you", "today", "right now", "now",
    )
)  # fmt: skip
ADVERBS = frozenset(
    ["now", "really", "just", "very", "much", "actually", "also", "still", "please", "honestly"]
)
#: "would"/"could" are irrealis except in requests and wishes for oneself
MODAL_NOT_HYPOTHETICAL = frozenset(["like", "prefer", "you", "i", "u", "rather"])
