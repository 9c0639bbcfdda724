"""Entity linking: the agent, queue, topic, cluster or customer a question names, resolved
against the values the store has (`store.entities.EntityValues`).

Matching is case- and accent-insensitive ("jose" finds "José Núñez"), takes first names,
last names and common nicknames ("Maria" → "Maria Lopez", "Bob" → "Robert King"), and
forgives one typo in a word of four or more letters ("biling" → "billing", "Mraia" →
"Maria"; two in words of eight or more), using rapidfuzz's Damerau-Levenshtein distance.
A mention that fits several values of one kind is returned with all of them: the parser
records the candidates and the bot asks, it never guesses.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass

from rapidfuzz.distance import DamerauLevenshtein

from store.entities import EntityValues

KINDS = ("agent", "queue", "topic", "cluster", "customer")

# Common English nicknames and short forms → the given names they stand for (both ways
# are looked up: "Bob" finds "Robert", "Robert" finds "Bob").
NICKNAMES: dict[str, tuple[str, ...]] = {
    "alex": ("alexander", "alexandra", "alexis"), "al": ("albert", "alan", "alfred"),
    "andy": ("andrew", "andrea"), "bob": ("robert",), "bobby": ("robert",), "rob": ("robert",),
    "robbie": ("robert",), "bill": ("william",), "billy": ("william",), "will": ("william",),
    "liz": ("elizabeth",), "beth": ("elizabeth", "bethany"), "betty": ("elizabeth",),
    "lisa": ("elizabeth",), "mike": ("michael",), "mick": ("michael",), "kate": ("katherine", "catherine", "kathleen"),
    "katie": ("katherine", "catherine"), "cathy": ("catherine",), "tom": ("thomas",), "tommy": ("thomas",),
    "jim": ("james",), "jimmy": ("james",), "jamie": ("james",), "dan": ("daniel",), "danny": ("daniel",),
    "dave": ("david",), "chris": ("christopher", "christine", "christina"), "sam": ("samuel", "samantha"),
    "nick": ("nicholas", "nicolas"), "joe": ("joseph",), "joey": ("joseph",), "matt": ("matthew",),
    "pat": ("patrick", "patricia"), "jen": ("jennifer",), "jenny": ("jennifer",), "maggie": ("margaret",),
    "meg": ("margaret",), "peggy": ("margaret",), "andi": ("andrea",), "tony": ("anthony", "antonio"),
    "steve": ("steven", "stephen"), "ben": ("benjamin",), "jon": ("jonathan",), "greg": ("gregory",),
    "ken": ("kenneth",), "ron": ("ronald",), "sue": ("susan", "suzanne"), "vicky": ("victoria",),
    "pepe": ("jose",), "paco": ("francisco",), "lupe": ("guadalupe",), "manu": ("manuel",),
    "fer": ("fernando",), "nacho": ("ignacio",), "lola": ("dolores",), "charlie": ("charles",),
    "chuck": ("charles",), "ed": ("edward",), "eddie": ("edward",), "ted": ("edward", "theodore"),
    "fred": ("frederick",), "harry": ("henry", "harold"), "jack": ("john",), "johnny": ("john",),
    "larry": ("lawrence",), "leo": ("leonardo", "leonard"), "max": ("maximilian", "maxwell"),
    "nate": ("nathan", "nathaniel"), "pete": ("peter",), "phil": ("philip", "phillip"),
    "ray": ("raymond",), "rick": ("richard",), "dick": ("richard",), "rich": ("richard",),
    "sandy": ("sandra",), "stan": ("stanley",), "terry": ("terence", "teresa"), "tim": ("timothy",),
    "val": ("valerie",), "vince": ("vincent",), "zach": ("zachary",), "abby": ("abigail",),
    "becky": ("rebecca",), "deb": ("deborah",), "debbie": ("deborah",), "jess": ("jessica",),
    "judy": ("judith",), "kim": ("kimberly",), "mandy": ("amanda",), "nancy": ("anne", "ann"),
    "nikki": ("nicole",), "pam": ("pamela",), "tina": ("christina",), "wendy": ("gwendolyn",),
    "lena": ("helena", "magdalena"), "sasha": ("alexander", "alexandra"), "misha": ("mikhail",),
    "hans": ("johannes",), "sepp": ("josef",), "rafa": ("rafael",), "javi": ("javier",),
    "guille": ("guillermo",), "alejo": ("alejandro",), "santi": ("santiago",), "mari": ("maria",),
}  # fmt: skip


def fold(text: str) -> str:
    """Lower case without accents, one character per character (so offsets survive):
    "José Núñez" → "jose nunez"."""
    out = []
    for ch in text:
        base = unicodedata.normalize("NFKD", ch)
        base = "".join(c for c in base if not unicodedata.combining(c)) or ch
        low = base.lower()
        out.append(low if len(low) == 1 else ch.lower()[:1] or ch)
    return "".join(out)


def norm(text: str) -> str:
    """`fold`, with punctuation and underscores as spaces, collapsed: "Billing_Support" →
    "billing support"."""
    return " ".join(re.sub(r"[^\w@.+-]|_", " ", fold(text)).split())


def singular(word: str) -> str:
    w = word
    if len(w) > 4 and w.endswith("ies"):
        return w[:-3] + "y"
    if len(w) > 4 and w.endswith(("ches", "shes", "sses", "xes")):
        return w[:-2]
    if len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        return w[:-1]
    return w


def _phrase_key(text: str) -> str:
    return " ".join(singular(w) for w in norm(text).split())


@dataclass(frozen=True, slots=True)
class Link:
    """A mention linked to stored values: `values` has one element, or several when the
    mention is ambiguous (then the user chooses)."""

    kind: str
    values: tuple[str, ...]
    how: str  # "exact", "name", "nickname", "fuzzy"

    @property
    def ambiguous(self) -> bool:
        return len(self.values) > 1


class Linker:
    """Looks phrases up in the store's values; built once per set of values."""

    def __init__(self, values: EntityValues) -> None:
        self.values = values
        # phrase key -> kind -> canonical values, for exact phrase matches
        self.exact: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        # single-word name parts of agents/customers (first/last/nickname) -> kind -> values
        self.names: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        self.nick: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        for kind, items in (("agent", values.agents), ("queue", values.queues), ("topic", values.topics),
                            ("cluster", tuple(label for _id, label in values.clusters)),
                            ("customer", values.customers)):  # fmt: skip
            for v in items:
                if not v:
                    continue
                self._add(self.exact, _phrase_key(v), kind, v)
                if kind in ("queue", "topic", "cluster"):
                    words = norm(v).split()
                    # "Billing Support" is also "billing"; "router_issue" also "router issue"
                    if len(words) > 1 and words[-1] in ("support", "team", "queue", "desk", "issue", "issues",
                                                        "problem", "problems", "dept", "department"):
                        self._add(self.exact, _phrase_key(" ".join(words[:-1])), kind, v)
                if kind in ("agent", "customer"):
                    parts = norm(v).split()
                    if len(parts) > 1 and "@" not in v:
                        for p in parts:
                            if len(p) > 1:
                                self._add(self.names, p, kind, v)
                        for nick, fulls in NICKNAMES.items():
                            if parts[0] in fulls:
                                self._add(self.nick, nick, kind, v)
                            if parts[0] == nick:
                                for f in fulls:
                                    self._add(self.nick, f, kind, v)
        for kind, alias, value in values.aliases:
            key = _phrase_key(alias)
            if key == _phrase_key(value):
                continue
            self._add(self.names, key, kind, value)
        self._fuzzy_keys = sorted(set(self.exact) | set(self.names))

    @staticmethod
    def _add(index: dict[str, dict[str, list[str]]], key: str, kind: str, value: str) -> None:
        # values differing only in case are one entity: the store's filters compare
        # case-insensitively ("Billing" and "billing" are the same queue, not a choice)
        if key and value.casefold() not in {v.casefold() for v in index[key][kind]}:
            index[key][kind].append(value)

    def lookup(self, phrase: str, kinds: tuple[str, ...] = KINDS, *, fuzzy: bool = True) -> list[Link]:
        """Every kind `phrase` can name, best first within each kind; [] when none."""
        key = _phrase_key(phrase)
        if not key:
            return []
        out: list[Link] = []
        for index, how in ((self.exact, "exact"), (self.names, "name"), (self.nick, "nickname")):
            hit = index.get(key)
            if hit:
                for kind in kinds:
                    if hit.get(kind) and not any(link.kind == kind for link in out):
                        out.append(Link(kind, tuple(hit[kind]), how))
        if out or not fuzzy:
            return out
        return self._fuzzy(key, kinds)

    def _fuzzy(self, key: str, kinds: tuple[str, ...]) -> list[Link]:
        n = len(key.replace(" ", ""))
        if n < 4 or key.isdigit():
            return []
        limit = 2 if n >= 8 else 1
        best: dict[str, tuple[int, list[str]]] = {}
        for cand in self._fuzzy_keys:
            if abs(len(cand) - len(key)) > limit or (cand[:1] != key[:1] and limit == 1 and n < 6):
                continue
            d = DamerauLevenshtein.distance(key, cand, score_cutoff=limit)
            if d > limit:
                continue
            for index in (self.exact, self.names):
                for kind, vals in index.get(cand, {}).items():
                    if kind not in kinds:
                        continue
                    got = best.get(kind)
                    if got is None or d < got[0]:
                        best[kind] = (d, list(vals))
                    elif d == got[0]:
                        got[1].extend(v for v in vals if v not in got[1])
        return [Link(kind, tuple(best[kind][1]), "fuzzy") for kind in kinds if kind in best]

    def cluster_id(self, label: str) -> str | None:
        """The id of the cluster with this label."""
        for cid, lab in self.values.clusters:
            if lab == label:
                return cid
        return None
