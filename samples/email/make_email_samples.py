"""Writes the demo email threads in this folder as .eml files (one message per file).

    .venv/bin/python samples/email/make_email_samples.py

Agents write from @acme.example (set `email.agent_domains = ["acme.example"]`). Threads:
a refund complaint, a billing question with a PDF, an angry customer, a happy one, and a
follow-up by the customer of calls 01/07 (phone +1 415 555 0134, account AC-20931) about
the same repeated refund. One customer message is HTML-only (as webmail often sends).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
SUPPORT = "Acme Support <support@acme.example>"


@dataclass
class Mail:
    name: str
    sender: str
    to: str
    subject: str
    when: datetime
    body: str
    mid: str
    reply_to: list[str] | None = None
    html: bool = False
    attachment: tuple[str, bytes] | None = None


def at(day: int, hour: int, minute: int = 0, tz: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=timezone(timedelta(hours=tz)))


def quote(text: str) -> str:
    return "\n".join("> " + line if line else ">" for line in text.strip().splitlines())


REFUND_1 = """Hello,

I returned the WH-300 headphones on November 2nd (return label RT-88412) and the
parcel was delivered to your warehouse on November 5th. It is now two weeks later and
I still have not received the refund of 129.00 EUR. Could you please tell me when
it will be paid?

Kind regards,
Tom Becker"""
REFUND_2 = """Hi Tom,

thank you for your patience. I checked return RT-88412: it was received but the refund
was not triggered because of a warehouse scanning error. I have released it now; you
will see 129.00 EUR on your card within 3 to 5 business days.

Best regards,
Daniel
Acme Support"""
REFUND_3 = """Hi Daniel,

the refund arrived this morning. Thanks for sorting it out.

Tom"""

BILLING_1 = """Hello Acme team,

my invoice INV-2026-1187 for November shows VAT at 19 %, but our company is based in
Austria and we gave you our VAT ID (ATU12345678). Shouldn't this be reverse charge?
I attached the invoice.

Thanks,
Aisha Khan
Finance, Khan Logistics"""
BILLING_2 = """Dear Aisha,

you are right: the VAT ID was on the account but not applied to the invoice. I have
issued a corrected invoice (INV-2026-1187-C) with reverse charge and credited the
difference of 38.00 EUR to your account.

Kind regards,
Maria
Acme Billing"""

ANGRY_1 = """THIS IS THE THIRD TIME I AM WRITING!!!

My internet has been down since Monday. Nobody calls back, your chat bot is useless
and I am paying for a service I do not get. This is absolutely unacceptable.

If this is not fixed by tomorrow I am cancelling my contract and I will tell everyone
I know to stay away from Acme.

Victor Hale"""
ANGRY_2 = """Dear Mr Hale,

I am very sorry for the outage and for the missing call-backs. A technician is booked
for tomorrow between 8 and 12, and I have credited one month of service to your account.

Best regards,
Alex
Acme Support"""
ANGRY_3 = """A credit is not what I asked for. I want a working connection. Tomorrow is the
last chance, otherwise I cancel. Terrible service.

Victor"""

HAPPY_1 = """<html><body>
<p>Hi Acme,</p>
<p>I just wanted to say <b>thank you</b> to Jo from your support team. My router was
replaced within a day and everything works perfectly now. Great service, really
appreciated!</p>
<p>Best wishes,<br>Nora Lind</p>
</body></html>"""
HAPPY_2 = """Hi Nora,

thank you so much for the kind words, I have passed them on to Jo. Enjoy the fast
connection!

Best regards,
Sam
Acme Support"""

REPEAT_1 = """Hello,

I have now called you twice (ticket T-5531) about being charged twice for my
subscription: 49.00 USD on November 1st and again on November 2nd. On the phone I was
promised a refund within three days. It has been more than a week and I still have not
received it. I want this refund now, and I want a confirmation in writing.

Sam Rivera
Account AC-20931
+1 415 555 0134"""
REPEAT_2 = """Dear Sam,

I am sorry that you had to contact us again. I can confirm that the refund of 49.00 USD
for the duplicate charge on account AC-20931 was sent today; you will receive a
confirmation email from our payment provider.

Kind regards,
Maria
Acme Billing"""


def _pdf() -> bytes:
    return (b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\n% invoice INV-2026-1187\n"
            + b"0" * 2048 + b"\n%%EOF\n")  # fmt: skip


MAILS: list[Mail] = [
    Mail("01_refund_1", "Tom Becker <tom.becker@example.com>", SUPPORT,
         "Refund for returned headphones (RT-88412)", at(16, 9, 14, 1), REFUND_1,
         "refund-1@mail.example.com"),
    Mail("01_refund_2", "Daniel (Acme Support) <daniel@acme.example>", "tom.becker@example.com",
         "Re: Refund for returned headphones (RT-88412)", at(16, 15, 2),
         REFUND_2 + "\n\nOn Mon, 16 Nov 2026 09:14, Tom Becker wrote:\n" + quote(REFUND_1),
         "reply-1@acme.example", ["refund-1@mail.example.com"]),
    Mail("01_refund_3", "Tom Becker <tom.becker@example.com>", "daniel@acme.example",
         "Re: Re: Refund for returned headphones (RT-88412)", at(19, 8, 40, 1),
         REFUND_3 + "\n\nOn 16.11.2026 15:02, Daniel wrote:\n" + quote(REFUND_2),
         "refund-2@mail.example.com", ["refund-1@mail.example.com", "reply-1@acme.example"]),
    Mail("02_billing_1", "Aisha Khan <aisha.khan@khan-logistics.example>", "billing@acme.example",
         "VAT on invoice INV-2026-1187", at(17, 10, 5, 1), BILLING_1,
         "vat-1@khan-logistics.example", attachment=("INV-2026-1187.pdf", _pdf())),
    Mail("02_billing_2", "Maria (Acme Billing) <maria@acme.example>",
         "aisha.khan@khan-logistics.example", "RE: VAT on invoice INV-2026-1187", at(17, 13, 30),
         BILLING_2, "reply-2@acme.example", ["vat-1@khan-logistics.example"]),
    Mail("03_angry_1", "Victor Hale <victor.hale@example.org>", SUPPORT,
         "Internet down for 4 days - third email", at(18, 7, 51), ANGRY_1,
         "angry-1@example.org"),
    Mail("03_angry_2", "Alex (Acme Support) <alex@acme.example>", "victor.hale@example.org",
         "Re: Internet down for 4 days - third email", at(18, 11, 20),
         ANGRY_2 + "\n\nVictor Hale wrote on 18 Nov 2026:\n" + quote(ANGRY_1),
         "reply-3@acme.example", ["angry-1@example.org"]),
    Mail("03_angry_3", "Victor Hale <victor.hale@example.org>", "alex@acme.example",
         "Re: Re: Internet down for 4 days - third email", at(18, 11, 47), ANGRY_3,
         "angry-2@example.org", ["angry-1@example.org", "reply-3@acme.example"]),
    Mail("04_happy_1", "Nora Lind <nora.lind@example.se>", SUPPORT, "Thank you!",
         at(20, 18, 3, 1), HAPPY_1, "happy-1@example.se", html=True),
    Mail("04_happy_2", "Kim (Acme Support) <kim.tanaka@acme.example>", "nora.lind@example.se",
         "Re: Thank you!", at(21, 9, 12), HAPPY_2, "reply-4@acme.example",
         ["happy-1@example.se"]),
    Mail("05_repeat_refund_1", "Sam Rivera <sam.rivera@example.com>", "billing@acme.example",
         "Still no refund for the double charge (ticket T-5531)", at(23, 20, 20, -8), REPEAT_1,
         "repeat-1@example.com"),
    Mail("05_repeat_refund_2", "Maria (Acme Billing) <maria@acme.example>",
         "sam.rivera@example.com",
         "Re: Still no refund for the double charge (ticket T-5531)", at(24, 8, 5),
         REPEAT_2 + "\n\nOn Mon, 23 Nov 2026, Sam Rivera wrote:\n" + quote(REPEAT_1),
         "reply-5@acme.example", ["repeat-1@example.com"]),
]  # fmt: skip


def build(mail: Mail) -> bytes:
    msg = EmailMessage()
    msg["From"] = mail.sender
    msg["To"] = mail.to
    msg["Subject"] = mail.subject
    msg["Date"] = format_datetime(mail.when)
    msg["Message-ID"] = f"<{mail.mid}>"
    if mail.reply_to:
        msg["In-Reply-To"] = f"<{mail.reply_to[-1]}>"
        msg["References"] = " ".join(f"<{r}>" for r in mail.reply_to)
    msg.set_content(mail.body + "\n", subtype="html" if mail.html else "plain")
    if mail.attachment:
        name, data = mail.attachment
        msg.add_attachment(data, maintype="application", subtype="pdf", filename=name)
    return msg.as_bytes()


def main() -> None:
    for mail in MAILS:
        path = HERE / f"{mail.name}.eml"
        path.write_bytes(build(mail))
        print(path.name)


if __name__ == "__main__":
    main()
