"""Writes the demo chat exports (zendesk.json, intercom.json, front.json) in this folder.

The documents are built with the local vendor fakes from tests/fakes/vendors.py, so they
have exactly the shapes the API sources read (the Intercom fake is checked against
Intercom's OpenAPI description in the tests). Deterministic: re-running rewrites the same
bytes. Import them with `[[chat.exports]]` entries (see README, "Chat vendors").

The conversations:
* zendesk #5101 — a refund chat (billing), resolved politely;
* zendesk #5102 — a technical-support chat that goes badly (anger, manager request);
* intercom 8801 — a happy one (quick fix, thanks);
* intercom 8802 — a bot handover (Fin answers, the customer asks for a person, an admin
  takes over);
* front cnv_sms0134 — an SMS chat from +1 415 555 0134 (Sam Rivera, account AC-20931), the
  customer of the repeat-refund sample call (samples/calls/call_07_repeat_refund.json) and
  email (samples/email/05_repeat_refund_*.eml), the morning after both;
* front cnv_mail77 — a calm delivery question.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.append(str(HERE.parents[1] / "tests" / "fakes"))

from vendors import FrontFake, IntercomFake, ZendeskFake  # noqa: E402


def at(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp())


def zendesk_doc() -> dict:
    z = ZendeskFake()
    z.add_user(361001, "Maria Lopez", "agent", "maria.lopez@acme.example")
    z.add_user(361002, "Tom Becker", "agent", "tom.becker@acme.example")
    z.add_user(480011, "Priya Nair", "end-user", "priya.nair@example.com")
    z.add_user(480012, "Greg Olsen", "end-user", "greg.olsen@example.net")

    z.clock = at("2026-11-17T13:02:00")
    z.add_ticket(5101, subject="Refund for a cancelled order", requester_id=480011,
                 assignee_id=361001, group_id=360001, tags=["refund"])
    for author, text in [
        (480011, "Hi, I cancelled order 88412 last week but I was still charged $59.90. "
                 "Can I get a refund please?"),
        (361001, "<p>Hi Priya, thanks for reaching out. I can see the cancellation and the "
                 "charge.</p>"),
        (361001, "I have issued a full refund of $59.90 to your card; it should show up in "
                 "3 to 5 business days."),
        (480011, "Great, thank you for sorting that out so quickly."),
        (361001, "You're welcome! Is there anything else I can help with?"),
        (480011, "No, that's all. Have a nice day."),
    ]:
        z.add_comment(5101, author, text, channel="chat")
    z.add_comment(5101, 361001, "refund ref RF-22817", public=False)

    z.clock = at("2026-11-19T16:40:00")
    z.add_ticket(5102, subject="App crashes after update", requester_id=480012,
                 assignee_id=361002, group_id=360002, tags=["technical", "escalated"])
    for author, text in [
        (480012, "Since yesterday's update the app crashes every time I open my invoices."),
        (361002, "Have you tried turning it off and on again?"),
        (480012, "Of course I did. Three times. It still crashes."),
        (361002, "Please reinstall the app and clear the cache."),
        (480012, "I already reinstalled it twice! This is ridiculous, I have wasted my whole "
                 "afternoon on this."),
        (361002, "There is nothing else I can do from here."),
        (480012, "That is not acceptable. I want to speak to your manager. If this is not "
                 "fixed I will cancel my account."),
        (361002, "I will pass it on."),
    ]:
        z.add_comment(5102, author, text, channel="chat")
    return {
        "tickets": [z.tickets[5101], z.tickets[5102]],
        "users": list(z.users.values()),
        "groups": list(z.groups.values()),
        "comments": {str(k): v for k, v in z.comments.items()},
    }


def intercom_doc() -> dict:
    ic = IntercomFake()
    sam = ic.author("admin", "991", "Sam Okafor", "sam.okafor@acme.example")
    kim = ic.author("admin", "992", "Kim Tanaka", "kim.tanaka@acme.example")
    fin = ic.author("bot", "7001", "Fin", None)
    lena = ic.author("user", "6651f0a1", "Lena Fischer", "lena.fischer@example.org")
    omar = ic.author("lead", "6651f0b7", "Omar Haddad", "omar.haddad@example.com")

    ic.clock = at("2026-11-18T10:15:00")
    ic.add_conversation("8801", author=lena, body="<p>Hi! How do I change the email on my "
                        "account?</p>", contact_id="6651f0a1", admin_assignee_id=991,
                        team_assignee_id=4501, title="Change account email")
    ic.add_part("8801", sam, "<p>Hi Lena! Go to <b>Settings &gt; Profile</b>, then click "
                "<i>Edit email</i>.</p>")
    ic.add_part("8801", lena, "<p>Found it, done. That was easy!</p>")
    ic.add_part("8801", sam, "<p>Perfect. Thanks for being with us, have a great day!</p>")
    ic.add_part("8801", lena, "<p>Thank you, you're awesome 😊</p>")
    ic.add_part("8801", sam, None, part_type="close")

    ic.clock = at("2026-11-21T19:05:00")
    ic.add_conversation("8802", author=omar, body="<p>My package says delivered but it is not "
                        "here.</p>", contact_id="6651f0b7", admin_assignee_id=992,
                        team_assignee_id=4502, title="Package not received")
    ic.add_part("8802", fin, "<p>Sorry to hear that! Packages marked delivered sometimes arrive "
                "within 24 hours. Would you like to read our guide on missing parcels?</p>")
    ic.add_part("8802", omar, "<p>No, I want to talk to a person please.</p>")
    ic.add_part("8802", fin, "<p>Got it, I'm handing you over to the team. Typical reply time: "
                "a few minutes.</p>")
    ic.add_part("8802", kim, None, part_type="assignment")
    ic.add_part("8802", kim, "<p>Hi Omar, Kim here. I've opened a trace with the carrier and "
                "will send a replacement if it doesn't show up by tomorrow.</p>")
    ic.add_part("8802", omar, "<p>Okay, thanks.</p>")
    return {"type": "conversation.list",
            "conversations": [ic.conversations["8801"], ic.conversations["8802"]],
            "teams": list(ic.teams.values())}


def front_doc() -> dict:
    fr = FrontFake()
    alex = fr.teammate("tea_6b1", "Alex", "Moreno", "alex.moreno@acme.example")
    jo = fr.teammate("tea_6b2", "Jo", "Chen", "jo.chen@acme.example")

    fr.clock = at("2026-11-24T08:20:00")
    fr.add_conversation("cnv_sms0134", subject="Refund still missing", handle="+14155550134",
                        assignee=alex, tags=["billing"])
    fr.add_message("cnv_sms0134", inbound=True, sender_name="Sam Rivera",
                   body="Hi, this is Sam Rivera, account AC-20931. I called yesterday and "
                        "emailed last night about the double charge (ticket T-5531) and the "
                        "refund still hasn't arrived. This is the third time I'm asking.")
    fr.add_message("cnv_sms0134", inbound=False,
                   body="<p>Thanks for your message! An agent will reply shortly.</p>")
    fr.add_message("cnv_sms0134", inbound=False, author=alex,
                   body="<div>Hi Sam, I'm sorry about the wait. I can see yesterday's call; the "
                        "refund was approved but not sent. I've pushed it through now, so it will be "
                        "back on your card within 24 hours.</div>")
    fr.add_message("cnv_sms0134", inbound=True, sender_name="Sam Rivera",
                   body="I was promised that yesterday too. I'll believe it when I see it.")

    fr.clock = at("2026-11-20T11:40:00")
    fr.add_conversation("cnv_mail77", subject="Delivery date", handle="ana.souza@example.com",
                        assignee=jo, tags=["delivery"])
    fr.add_message("cnv_mail77", inbound=True, sender_name="Ana Souza",
                   body="<p>Hello, when will order 90211 be delivered?</p>")
    fr.add_message("cnv_mail77", inbound=False, author=jo,
                   body="<p>Hi Ana, it ships today and should arrive on Monday.</p>")
    fr.add_message("cnv_mail77", inbound=True, sender_name="Ana Souza",
                   body="<p>Perfect, thanks!</p>")
    convs = sorted(fr.conversations, key=lambda c: fr.last_at[c], reverse=True)
    return {"_results": [fr.conversations[c] for c in convs],
            "messages": {c: sorted(fr.messages[c], key=lambda m: -m["created_at"])
                         for c in convs}}


def main() -> None:
    for name, doc in (("zendesk", zendesk_doc()), ("intercom", intercom_doc()),
                      ("front", front_doc())):
        path = HERE / f"{name}.json"
        path.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", "utf-8")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
