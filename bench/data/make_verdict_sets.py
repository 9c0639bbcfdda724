"""Write the labelled sets of bench/verdicts_resolution.py (issue #19).

* `resolution_conversations.jsonl`: short conversations (call, chat, e-mail) labelled
  resolved / unresolved / pending, assembled from hand-written openings, agent answers,
  closing turns and promises; a third get ASR noise (lower case, no punctuation, a dropped
  or misheard word) and some carry a vendor status.
* `fact_statements.jsonl`: agent statements about the demo company's facts
  (config.example.toml) labelled contradicts true/false, written with numbers as digits
  and as words, ranges, bounds, negation, hedges, questions, reported speech, ASR noise.

The split is decided here, before any tuning: `split` = "heldout" when the first byte of
sha1(id) is < 128 (50%), else "dev". Run: `python bench/data/make_verdict_sets.py`.
The generator is deterministic (random.Random(19)).
"""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
R = random.Random(19)

OPENINGS = [
    "my internet keeps dropping every few minutes",
    "I was charged twice for my subscription this month",
    "I can't log in to my account, it says my password is wrong",
    "my order hasn't arrived and the tracking hasn't moved in a week",
    "the app crashes every time I open the payment screen",
    "I want to know why my bill went up by twenty dollars",
    "my router light is blinking orange and nothing loads",
    "I never received the refund for the jacket I returned",
    "the TV box shows error 404 when I start a movie",
    "I need to change the address on my contract",
    "my phone has no signal at home since Monday",
    "the discount code from your email doesn't apply at checkout",
]
ANSWERS = [
    "I've reset the connection on our side, can you restart the router?",
    "I can see the duplicate charge and I've reversed it.",
    "I've sent you a password reset link just now.",
    "I've re-sent the order with express shipping.",
    "please update the app to the latest version and try again.",
    "that was the end of your promotional price; I've applied a loyalty discount.",
    "I've pushed a firmware update to your box.",
    "I've checked the return and released the refund.",
    "I've updated the address, you'll see it on your next bill.",
    "I've re-activated the code, please try it again.",
]
RESOLVED = [
    "Okay, that fixed it, thank you so much!",
    "Yes it's working now, thanks.",
    "Great, I can log in now. Thanks for your help.",
    "Perfect, thanks, that's all I needed.",
    "Brilliant, problem solved.",
    "Ah yes I see it now. Thank you!",
    "That did the trick, cheers.",
    "Everything's fine now, have a nice day.",
    "Oh good, it loads again. Thanks a lot.",
    "Thanks, I've received the email and changed the password.",
    "Lovely, that sorts it. Bye!",
    "It works, you're a star.",
    "Okay great, the code went through.",
    "Right, the charge is gone from my banking app. Thank you.",
    "Much better, the picture is back.",
    "Okay, thank you, that answers my question.",
    "Wonderful, all sorted then.",
    "Got it working, thanks for being patient with me.",
    "I just tried again and it's fine. Thanks.",
    "Fantastic, that's exactly what I wanted.",
    "Yes, it's back to normal. Thank you.",
    "Thanks, it isn't dropping any more.",
    "No more errors, thanks!",
    "that's great it's fixed thanks bye",
]
UNRESOLVED = [
    "It's still not working.",
    "No, that didn't help at all.",
    "I've restarted it three times and nothing changed.",
    "Still the same error, honestly.",
    "That's not what I asked. I'll have to call back later.",
    "This is useless, I'm getting nowhere.",
    "I still can't log in.",
    "The charge is still there on my statement.",
    "Well it hasn't arrived, so no.",
    "That didn't fix it, the light is still orange.",
    "I'm still without internet, this is ridiculous.",
    "Sorry but it's crashing again.",
    "It still says the code is invalid.",
    "So I'm supposed to just wait? That doesn't solve anything.",
    "Nope, same problem as before.",
    "I'll call again tomorrow then, because this isn't fixed.",
    "the signal is still gone",
    "It worked for a minute and now it's down again.",
    "I don't see any change on my side.",
    "You haven't answered my question.",
    "Nothing has changed, the refund is not there.",
    "This is the third time and it's still broken.",
    "I give up, I'll go to another provider.",
    "Hmm, no, still getting the error page.",
]
COMMITMENTS = [
    "I'll call you back tomorrow morning with an update.",
    "A technician will visit on Friday between 8 and 12.",
    "I've escalated this to our billing team, they'll contact you within 48 hours.",
    "I'll email you as soon as the carrier replies.",
    "Our engineer will come by on Monday to check the line.",
    "I'm going to look into it and get back to you by Thursday.",
    "Someone from the technical team will call you this afternoon.",
    "I've opened a ticket and we'll follow up next week.",
    "You'll hear back from our returns team in two days.",
    "Let me check with my supervisor, I'll ring you back in an hour.",
    "I will send you an update by email tomorrow.",
    "we'll reach out on Wednesday once the part is in",
]
NEUTRAL_CLOSE = ["Okay.", "Alright, thanks.", "Okay, bye.", "Fine.", "Thanks."]
# tricky: look like one thing, are another (label in the tuple)
TRICKY = [
    ("Did that fix it? Let me check... yes, it works now.", "resolved"),
    ("If it still isn't working tomorrow I'll call you, but it looks fine now.", "resolved"),
    ("My neighbour said it didn't help him, but for me it's working now.", "resolved"),
    ("It's not broken any more, thanks.", "resolved"),
    ("I wouldn't say it's fixed, it's still slow.", "unresolved"),
    ("Thanks for trying, but the problem is still there.", "unresolved"),
    ("You said it would work after the restart. It doesn't.", "unresolved"),
    ("Thank you, but I still haven't got my money.", "unresolved"),
    ("Great, thanks. Wait, no, it's crashed again.", "unresolved"),
    ("Not working, not working at all.", "unresolved"),
]
STATUS = {"resolved": ["solved", "closed"], "unresolved": ["open"], "pending": ["pending", "hold"]}
MISHEARD = {"working": "walking", "fixed": "fix", "thanks": "thank", "still": "steal", "help": "health",
            "call": "cold", "refund": "re fund", "internet": "in a net"}


def asr(text: str) -> str:
    """Lower case, no punctuation, one word misheard or dropped."""
    words = "".join(ch for ch in text.lower() if ch.isalnum() or ch in " '").split()
    k = R.randrange(len(words)) if words else 0
    if words and R.random() < 0.5:
        w = words[k]
        words[k] = MISHEARD.get(w, w)
    elif len(words) > 4 and words[k] not in ("not", "still", "no", "didn't", "isn't", "haven't", "can't"):
        del words[k]
    return " ".join(words)


def split_of(key: str) -> str:
    return "heldout" if hashlib.sha1(key.encode()).digest()[0] < 128 else "dev"


def conversations() -> list[dict]:
    out = []
    plans: list[tuple[str, str | None, str]] = []
    # each closing in several contexts (opening, answer, channel, noise drawn anew)
    for _ in range(4):
        plans += [("resolved", None, c) for c in RESOLVED]
        plans += [("unresolved", None, c) for c in UNRESOLVED]
    for _ in range(5):
        plans += [("pending", m, R.choice(NEUTRAL_CLOSE)) for m in COMMITMENTS]
        plans += [(label, None, c) for c, label in TRICKY]
    plans += [("unresolved", "__reply__", "") for _ in range(16)]  # customer wrote last
    for n, (label, commit, close) in enumerate(plans):
        channel = R.choice(["call", "call", "chat", "email"])
        if commit == "__reply__":
            channel = R.choice(["chat", "email"])
            close = R.choice(["But the charge is on my card again today, see attached.",
                              "I did that yesterday, the app shows the same screen.",
                              "Which menu? I don't have that option.",
                              "And what about the second invoice?"])  # fmt: skip
            commit = None
        noisy = channel == "call" and R.random() < 0.5
        turns = [("customer", R.choice(OPENINGS)), ("agent", "Sorry to hear that. " + R.choice(ANSWERS))]
        if commit:
            turns.append(("agent", commit))
        turns.append(("customer", close))
        if channel == "call" and label != "unresolved" and R.random() < 0.5:
            turns.append(("agent", "Is there anything else I can help with?"))
            turns.append(("customer", "No, that's it."))
        if noisy:
            turns = [(s, asr(t)) for s, t in turns]
        meta = {}
        if channel in ("chat", "email") and R.random() < 0.3:
            meta["ticket_status"] = R.choice(STATUS[label])
        cid = f"res-{n:03d}"
        out.append({"id": cid, "channel": channel, "turns": [{"speaker": s, "text": t} for s, t in turns],
                    "metadata": meta, "label": label, "asr_noise": noisy, "base": close or commit,
                    "split": split_of(cid)})  # fmt: skip
    return out


# (statement, contradicts) per fact subject; facts as in config.example.toml
STATEMENTS: list[tuple[str, bool]] = [
    # refund processing time: 3-5 business days
    ("Your refund will be on your card within 24 hours.", True),
    ("The refund takes three to five business days.", False),
    ("You should get the money back in 3-5 working days.", False),
    ("Refunds usually arrive in about a week.", False),
    ("The refund will be processed in two days.", True),
    ("It won't take more than a week for the refund to show.", False),
    ("I can't say exactly when the refund arrives.", False),
    ("Refunds take up to a month.", True),
    ("You'll have your money back tomorrow... I mean within five business days.", False),
    ("Your refund goes out today and takes four business days.", False),
    ("Refunds take at least three weeks, I'm afraid.", True),
    ("Is the refund going to take two days?", False),
    ("The website says refunds take two days, but it's actually three to five business days.", False),
    ("I'm not sure how long the refund takes, maybe a few days.", False),
    ("We'll reimburse you within one business day.", True),
    ("the refund takes ten business days", True),
    ("refund should be back in five working days", False),
    ("your money back will take twenty four hours", True),
    ("It doesn't take two days, it takes three to five business days.", False),
    ("You'll see the refund in 2 to 3 months.", True),
    # relabelled True (resolution3): word-form durations are read now, and the independent
    # fresh set (bench/data/README.md) labels "instant" / "lifetime" as misstatements
    ("Refunds are instant.", True),
    ("The refund needs between three and five business days.", False),
    ("If the refund took longer than five business days, call us.", False),
    ("The refund will take no more than 5 business days.", False),
    ("refund is usually in your account in about 48 hours", True),
    ("Give it 4 or 5 business days for the refund.", False),
    ("The refund takes six weeks.", True),
    ("You get your money back in a couple of days.", True),
    ("Refunds land within 3 business days.", False),
    ("our refunds take fourteen days", True),
    # cancellation fee: 25 USD
    ("The cancellation fee is $25.", False),
    ("There's a cancellation fee of twenty-five dollars.", False),
    ("There is no cancellation fee at all.", True),
    ("The early termination fee is 50 dollars.", True),
    ("The cancellation fee is a hundred dollars.", True),
    ("I'm not sure what the cancellation fee is, let me check.", False),
    ("Is there a cancellation fee?", False),
    ("You'd pay a termination fee of $25 if you leave now.", False),
    ("the cancellation fee would be twenty five bucks", False),
    ("The cancellation charge is 10 dollars.", True),
    ("cancellation fee is fifteen usd", True),
    ("We waive the cancellation fee... no, sorry, it's 25 dollars.", False),
    ("The cancellation fee is free of charge for you.", True),
    ("My colleague said the cancellation fee is $100, but it's actually $25.", False),
    ("The cancellation fee is at most 25 dollars.", False),
    ("The cancellation fee is over $200.", True),
    ("the early termination fee is 75 dollars", True),
    ("If there were a cancellation fee it would be on the invoice.", False),
    ("You won't be charged a cancellation fee.", True),
    ("Cancellation fee: $25, billed on your last invoice.", False),
    # warranty period: 2 years
    ("The warranty is two years.", False),
    ("You have a one year warranty on that.", True),
    ("It comes with a 24 month guarantee.", False),
    ("The warranty covers 5 years.", True),
    ("The warranty lasts six months.", True),
    ("I don't know how long the warranty is.", False),
    ("Is it still under warranty after 2 years?", False),
    ("The warranty is 2 years from delivery.", False),
    ("warranty is three years on all devices", True),
    ("The guarantee runs for ninety days.", True),
    ("The warranty is at least a year.", False),
    ("The warranty doesn't last more than a year.", True),
    ("The warranty is valid for up to two years.", False),
    ("it's guaranteed for two years", False),
    ("It's guaranteed for a lifetime.", True),  # relabelled, see "Refunds are instant."
    ("the warranty ended after 12 months", True),
    ("Your warranty is good for 730 days.", False),
    ("The warranty is probably two years, maybe less.", False),
    ("We give you a ten year warranty.", True),
    ("Warranty period is eighteen months.", True),
    # refunds on digital goods: no
    ("We can refund digital purchases.", True),
    ("We don't refund digital goods.", False),
    ("Downloads are not refundable.", False),
    ("I can refund the e-book for you.", True),
    ("Digital gift codes can't be refunded, sorry.", False),
    ("Can I get a refund on a download?", False),
    ("I'll refund the download right away.", True),
    ("No refunds on digital items, unfortunately.", False),
    ("we do refund digital orders within 14 days", True),
    ("I'm not sure if digital goods can be refunded.", False),
    ("The gift card is refundable.", True),
    ("Sadly the ebook cannot be returned or refunded.", False),
    ("If it were a digital order I couldn't refund it.", False),
    ("Your download has been refunded.", True),
    ("Digital downloads are never refunded.", False),
]
PARAPHRASE_PREFIX = ["", "Okay so ", "Right, ", "Just so you know, ", "Let me tell you, ", "Basically "]


def statements() -> list[dict]:
    out = []
    n = 0
    for text, contra in STATEMENTS:
        pre = R.sample(PARAPHRASE_PREFIX[1:], 2)
        variants = [text] + [p + text[0].lower() + text[1:] for p in pre]
        variants.append(asr(text))
        for v in variants:
            sid = f"fact-{n:03d}"
            n += 1
            out.append({"id": sid, "text": v, "contradicts": contra, "asr_noise": v == variants[-1],
                        "base": text, "split": split_of(sid)})  # fmt: skip
    return out


def main() -> None:
    for name, rows in (("resolution_conversations.jsonl", conversations()),
                       ("fact_statements.jsonl", statements())):  # fmt: skip
        with open(HERE / name, "w", encoding="utf-8") as fh:
            for r in rows:
                fh.write(json.dumps(r, ensure_ascii=False) + "\n")
        held = sum(r["split"] == "heldout" for r in rows)
        print(f"wrote {name}: {len(rows)} rows, {held} held out")


if __name__ == "__main__":
    main()
