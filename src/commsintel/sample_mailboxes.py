"""A deterministic sample workspace: four Northwind members and two years of their mail.

Used by `make run` (the embedded demo imports these mailboxes) and by tests. The mix is
what a sales team's mailboxes really hold: customer threads at ~40 accounts with
different rhythms (weekly lately, only a year ago, a burst long ago), colleagues on cc
and bcc, accounts two members share (one message, same Message-ID, in both mailboxes),
free-mail correspondents with provider aliases and mixed-case addresses, people who only
ever wrote in, internal mail, and ~15% newsletters, notifications and bounces.

Every random choice comes from a `random.Random` seeded with the caller's seed plus a
stable offset (per account, per pair of colleagues, per member), never the global
generator or the clock, so the same seed gives byte-identical mailboxes.
"""

from __future__ import annotations

import base64
import functools
import html
import quopri
import random
import unicodedata
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from email.parser import BytesHeaderParser
from email.utils import format_datetime, formataddr, parseaddr, parsedate_to_datetime
from pathlib import Path

# ---------------------------------------------------------------------------------------
# Public model


@dataclass(frozen=True)
class SampleMember:
    member_id: str
    name: str
    address: str


@dataclass(frozen=True)
class SampleWorkspace:
    workspace_id: str
    own_domain: str
    members: tuple[SampleMember, ...]


SAMPLE_WORKSPACE = SampleWorkspace(
    workspace_id="northwind",
    own_domain="northwind.io",
    members=(
        SampleMember("alice", "Alice Martin", "alice@northwind.io"),
        SampleMember("ben", "Ben Okafor", "ben@northwind.io"),
        SampleMember("chloe", "Chloe Nakamura", "chloe@northwind.io"),
        SampleMember("diego", "Diego Alvarez", "diego@northwind.io"),
    ),
)

_SPAN = timedelta(days=730)

# ---------------------------------------------------------------------------------------
# Data tables


@dataclass(frozen=True)
class _Region:
    utc_offset_minutes: int
    dst_rule: str | None  # "eu", "us", "au" (southern hemisphere) or None
    phone: str  # "#" is a digit; ranges reserved for fiction where the country has one
    language: str = "en"


_REGIONS = {
    "uk": _Region(0, "eu", "+44 20 7946 0###"),
    "ie": _Region(0, "eu", "+353 1 555 ####"),
    "de": _Region(60, "eu", "+49 30 5555 ###", "de"),
    "fr": _Region(60, "eu", "+33 1 99 00 ## ##", "fr"),
    "nl": _Region(60, "eu", "+31 20 555 ####"),
    "es": _Region(60, "eu", "+34 91 555 ## ##"),
    "se": _Region(60, "eu", "+46 8 555 ### ##"),
    "no": _Region(60, "eu", "+47 55 55 ## ##"),
    "us-east": _Region(-300, "us", "+1 212-555-01##"),
    "us-central": _Region(-360, "us", "+1 312-555-01##"),
    "us-mountain": _Region(-420, "us", "+1 303-555-01##"),
    "us-west": _Region(-480, "us", "+1 415-555-01##"),
    "ca": _Region(-300, "us", "+1 416-555-01##"),
    "au-east": _Region(600, "au", "+61 2 5550 ####"),
    "au-west": _Region(480, None, "+61 8 5550 ####"),
}

# The sample workspace's members by position; another workspace reuses them by index.
_MEMBER_PROFILES = (
    ("Head of Sales", "uk", "+44 20 7946 0132"),
    ("Account Executive", "uk", "+44 20 7946 0177"),
    ("Account Executive", "uk", "+44 20 7946 0419"),
    ("Account Executive, North America", "us-east", "+1 212-555-0148"),
)


@dataclass(frozen=True)
class _Company:
    name: str
    website: str  # registrable domain
    region: str
    owners: tuple[int, ...]  # member indexes; two owners make a shared account
    rhythm: str  # see _thread_start_days
    contacts: tuple[str, ...]
    mail_domain: str = ""  # when addresses live on a subdomain of the website
    address_style: str = "first.last"
    signatures: bool = True
    outlook: bool = False  # Outlook clients: html mail, "RE:", Exchange Message-IDs


_C = _Company
_COMPANIES = (
    _C("Acme Logistics", "acme-logistics.co.uk", "uk", (0,), "weekly",
       ("Jürgen Müller", "Sarah O'Neill", "Tom Hughes"), mail_domain="eu.acme-logistics.co.uk",
       outlook=True),
    _C("Brightpath", "brightpath.com", "us-east", (1,), "steady",
       ("Priya Shah", "Marcus Reed", "Elena Petrova"), mail_domain="mail.brightpath.com"),
    _C("Kestrel Analytics", "kestrel-analytics.io", "uk", (0, 1), "weekly",
       ("Hannah Lewis", "Oliver Grant", "Maya Fischer", "James Whitfield")),
    _C("Halden Maschinenbau", "halden-maschinenbau.de", "de", (2,), "steady",
       ("Klaus Becker", "Anja Schröder", "Stefan Wolf"), outlook=True),
    _C("Coral Bay Health", "coralbayhealth.com.au", "au-east", (3,), "year_ago",
       ("Liam O'Connor", "Grace Nguyen")),
    _C("Bluefin Capital", "bluefincapital.com", "us-east", (0,), "burst_old",
       ("Robert Hale", "Natalie Brooks"), address_style="flast", outlook=True),
    _C("Ostara Foods", "ostarafoods.co.uk", "uk", (1,), "recent_new",
       ("Fiona MacLeod", "Daniel Price")),
    _C("Pinecrest Software", "pinecrest.io", "us-west", (2, 3), "steady",
       ("Kevin Zhang", "Ashley Moore", "Ryan Patel", "Megan Torres"), address_style="first"),
    _C("Lumen Retail Group", "lumenretail.com", "us-central", (3,), "weekly",
       ("Brian Walsh", "Tiffany Adams", "Carlos Mendes")),
    _C("Vireo Energy", "vireo-energy.de", "de", (0,), "year_ago",
       ("Markus Hoffmann", "Lena Krüger")),
    _C("Marlowe & Finch", "marlowefinch.co.uk", "uk", (1,), "occasional",
       ("Edward Marlowe",), signatures=False),
    _C("Tidewater Freight", "tidewaterfreight.com", "us-east", (2,), "burst_old",
       ("Jessica Long", "Mark Davidson", "Paul Rivera")),
    _C("Sunbird Travel", "sunbird.com.au", "au-east", (1,), "steady",
       ("Chloe Baxter", "Nathan Kerr")),
    _C("Quillon Labs", "quillon.io", "uk", (3,), "recent_new",
       ("Imogen Blake", "Arjun Nair"), address_style="first"),
    _C("Northgate Insurance", "northgate-insurance.co.uk", "uk", (2,), "weekly",
       ("David Thompson", "Rebecca Shaw", "Simon Clarke", "Aisha Rahman"), outlook=True),
    _C("Fjordline Data", "fjordline.no", "no", (0,), "occasional",
       ("Søren Nilsen", "Ingrid Halvorsen")),
    _C("Atelier Rousseau", "atelier-rousseau.fr", "fr", (2,), "steady",
       ("Élodie Rousseau", "François Lefèvre")),
    _C("Granite Peak Outdoors", "granitepeak.com", "us-mountain", (3,), "year_ago",
       ("Tyler Jensen", "Amanda Cole"), signatures=False),
    _C("Helix Biotech", "helixbio.com", "us-east", (0, 2), "steady",
       ("Dr. Susan Park", "Michael Obi", "Claire Dubois"), outlook=True),
    _C("Meridian Hotels", "meridianhotels.com", "uk", (1,), "occasional",
       ("Victoria Hayes",)),
    _C("Saffron Kitchen Co", "saffronkitchen.co.uk", "uk", (3,), "burst_old",
       ("Ravi Kapoor", "Emily Stone"), signatures=False),
    _C("Kupfer & Sohn", "kupfer-sohn.de", "de", (1,), "recent_new",
       ("Thomas Kupfer", "Julia Weiß"), address_style="flast"),
    _C("Orbital Media", "orbitalmedia.io", "us-west", (0,), "steady",
       ("Jordan Lee", "Samantha Reyes", "Chris Olsen")),
    _C("Redwood Civic", "redwoodcivic.org", "us-west", (2,), "occasional",
       ("Patricia Gomez",)),
    _C("Thornbury Estates", "thornbury-estates.co.uk", "uk", (0,), "year_ago",
       ("Charles Thornbury", "Lucy Fenwick")),
    _C("Cascadia Robotics", "cascadia-robotics.com", "us-west", (3,), "weekly",
       ("Eric Nakamura", "Hailey Brooks", "Wei Chen"), mail_domain="us.cascadia-robotics.com"),
    _C("Wattle & Co", "wattleandco.com.au", "au-east", (2,), "occasional",
       ("Mia Thompson",), address_style="first"),
    _C("Nimbus Payments", "nimbuspay.io", "ie", (1, 3), "weekly",
       ("Ciarán Murphy", "Niamh Doyle", "Sean Gallagher", "Ruth Kelly", "Adam Byrne")),
    _C("Larkspur Learning", "larkspurlearning.com", "us-east", (0,), "burst_old",
       ("Karen Mitchell", "Joshua Bell")),
    _C("Delft Instruments", "delft-instruments.nl", "nl", (3,), "steady",
       ("Pieter Jansen", "Sanne de Boer"), address_style="flast"),
    _C("Everly Fashion", "everlyfashion.com", "uk", (1,), "year_ago",
       ("Sophie Bennett", "Harriet Cole")),
    _C("Polaris Fleet", "polarisfleet.se", "se", (2,), "recent_new",
       ("Björn Lindqvist", "Elin Sandberg")),
    _C("Ironbark Mining", "ironbarkmining.com.au", "au-west", (0,), "occasional",
       ("Jack Sullivan",), outlook=True),
    _C("Stonebridge Bank", "stonebridgebank.co.uk", "uk", (2, 3), "year_ago",
       ("Andrew Fraser", "Helen Carter", "Nikhil Rao"), outlook=True),
    _C("Maple & Oak Realty", "mapleoak.ca", "ca", (3,), "occasional",
       ("Jennifer Tremblay",)),
    _C("Veridian Pharma", "veridianpharma.com", "us-east", (1,), "steady",
       ("Laura Bennett", "Steven Wright", "Olga Ivanova"), mail_domain="mail.veridianpharma.com",
       outlook=True),
    _C("Castellan Security", "castellan-security.es", "es", (0,), "weekly",
       ("José Martínez", "Lucía Fernández")),
    _C("Blue Harbour Studios", "blueharbour.ie", "ie", (2,), "burst_old",
       ("Siobhán Kelly", "Conor Walsh")),
    _C("Zephyr Mobility", "zephyr-mobility.de", "de", (3,), "year_ago",
       ("Felix Wagner", "Katrin Schulz")),
    _C("Ashcombe Partners", "ashcombe.co.uk", "uk", (1,), "occasional",
       ("Henry Ashcombe", "Isla Grant"), address_style="first"),
)  # fmt: skip

# A customer address a member sometimes types in a different case, and a customer who
# sometimes writes from a personal address (same name and signature: one person).
_CASE_VARIANTS = {
    "Marcus Reed": "Marcus.Reed@Mail.Brightpath.com",
    "Hannah Lewis": "Hannah.Lewis@Kestrel-Analytics.io",
}
_PERSONAL_ADDRESSES = {"Priya Shah": "priya.shah.home@gmail.com"}

_CUSTOMER_TITLES = (
    "Head of Procurement", "VP Sales", "Chief Revenue Officer", "Operations Director",
    "Head of IT", "Sales Operations Manager", "Finance Director", "Customer Success Lead",
    "Chief Operating Officer", "Senior Buyer", "Head of Partnerships", "Managing Director",
)  # fmt: skip

# (subject, opening lines, attachment (file name, content type) or None, who starts it)
_TOPICS = (
    ("Northwind x {company}: intro",
     ("Great to meet you last week. As promised, a short overview of how Northwind gives "
      "your team one view of every customer conversation.",
      "Would you have 30 minutes next week to go through it with the team?"), None, "member"),
    ("Following up on today's call",
     ("Thanks for the time today. Next steps as discussed:",
      "1. We send over the security overview\n2. You share the mailboxes for the pilot\n"
      "3. We regroup on {weekday} to review"), None, "member"),
    ("Proposal for {company}",
     ("Please find attached our proposal for {company}, based on {seats} seats.",
      "Happy to walk through the numbers whenever suits."),
     ("Northwind_Proposal_{slug}.pdf", "application/pdf"), "member"),
    ("{company} renewal {year}",
     ("Your subscription renews at the end of {month}. Could we find 20 minutes to review "
      "usage and anything you would like to change?",), None, "member"),
    ("Onboarding plan",
     ("Attached is the onboarding plan we discussed. Week one covers connecting mailboxes "
      "and sharing settings; week two is training for the wider team.",),
     ("Onboarding_plan_{slug}.csv", "text/csv"), "member"),
    ("Question about the data export",
     ("Quick one: is the nightly export still landing in our bucket? The dashboard shows "
      "the last file from {weekday}.",), None, "customer"),
    ("Security questionnaire",
     ("Our infosec team sent over their vendor questionnaire, attached. Could you fill in "
      "sections 3 and 5 by the end of the month?",),
     ("Vendor_security_questionnaire.csv", "text/csv"), "customer"),
    ("Invoice {invoice}",
     ("Please find invoice {invoice} attached. Payment terms are 30 days as usual.",),
     ("Invoice_{invoice}.pdf", "application/pdf"), "member"),
    ("Meeting next week?",
     ("Are you free for a call next week? {weekday} afternoon works well on my side.",),
     None, "either"),
    ("QBR agenda \N{EN DASH} Q{quarter}",
     ("Draft agenda for our quarterly review:",
      "- Adoption by team\n- Connection strength reporting\n- Roadmap and open requests"),
     None, "member"),
    ("Contract redlines",
     ("Legal came back with a few redlines on the MSA, mostly around the liability cap. "
      "Marked-up copy attached.",), ("MSA_redlines_{slug}.pdf", "application/pdf"),
     "customer"),
    ("Feature request: Salesforce sync",
     ("The team keeps asking whether Northwind can push activity back into Salesforce. "
      "Is that on the roadmap?",), None, "customer"),
    ("Pilot results",
     ("The pilot wrapped up on {weekday}. Headline: 14 of 16 users active every week and "
      "2,300 records created without anyone typing them in.",), None, "either"),
    ("Checking in",
     ("It has been a while, so I wanted to check in and hear how things are going at "
      "{company}.",), None, "member"),
    ("Training for the {team} team",
     ("Shall we book the training session for your {team} team? Two 45-minute slots "
      "usually work best.",), None, "member"),
    ("Sandbox access",
     ("Could we get access to a sandbox workspace? Our IT team wants to test the mailbox "
      "connection before we roll out.",), None, "customer"),
    ("Reference call",
     ("Would you be open to a short reference call with a prospect in your industry? "
      "Twenty minutes, whenever suits.",), None, "member"),
    ("Updated order form",
     ("Attached is the updated order form with the extra {seats} seats.",),
     ("Order_form_{slug}.pdf", "application/pdf"), "member"),
    ("Invoice query",
     ("Our finance team has a question on the last invoice: the seat count looks higher "
      "than what we agreed.",), None, "customer"),
    ("Pricing question",
     ("Before our budget meeting: is the price per seat fixed for a two-year term, or does "
      "it move with volume?",), None, "customer"),
)  # fmt: skip

_LOCAL_TOPICS = {
    "de": ("Angebot für {company}",
           ("anbei wie besprochen unser Angebot für {seats} Nutzer. Für Rückfragen stehe "
            "ich gerne zur Verfügung.",), ("Angebot_{slug}.pdf", "application/pdf"), "member"),
    "fr": ("Suite à notre échange",
           ("merci pour votre temps aujourd'hui. Comme convenu, voici le récapitulatif et "
            "les prochaines étapes.",), None, "member"),
}  # fmt: skip

_GREETINGS = {
    "en": ("Hi {first},", "Hello {first},", "{first},", "Hi {first},", "Good morning {first},"),
    "de": ("Hallo {first},", "Guten Tag {first},"),
    "fr": ("Bonjour {first},",),
}
_CLOSINGS = {
    "en": ("Best,", "Thanks,", "Cheers,", "Kind regards,", "Best regards,", "Many thanks,"),
    "de": ("Viele Grüße", "Beste Grüße"),
    "fr": ("Bien cordialement,", "Merci,"),
}

_CUSTOMER_REPLIES = (
    "Thanks {first}, that works for us.",
    "Could you send over the updated numbers before {weekday}?",
    "{weekday} at 3pm works for me. I'll send an invite.",
    "From our side the rollout can start on the 1st.",
    "We discussed it internally and have a couple of questions, mostly about data retention.",
    "Sorry for the slow reply, it's been a busy couple of weeks.",
    "Perfect, thank you. I'll share it with the team.",
    "Can we push this to next week? Quarter end is taking over.",
    "Legal is reviewing now; I'll come back to you by Friday.",
    "Great news, we're good to go.",
    "One more question: does the pilot include calendar sync?",
    "Adding a colleague who will own this on our side going forward.",
)
_MEMBER_REPLIES = (
    "Thanks {first}, really helpful.",
    "Great, I'll send the invite for {weekday}.",
    "Good question. Short answer: yes, it's included in every plan.",
    "From next month you'll see the new sharing controls in the app.",
    "No problem at all, next week works.",
    "I've checked with our product team and will come back to you by {weekday}.",
    "Understood. I'll hold the current pricing until the end of the quarter.",
    "Thanks for the quick turnaround!",
    "Happy to jump on a call if that's easier.",
)

_INTERNAL_TOPICS = (
    ("Handover: {company}",
     "I'm handing {company} over to you from next month. Main contact is {contact}; they "
     "care most about reporting. Notes are in the account record."),
    ("Can you cover my {weekday} call with {company}?",
     "I'm at the dentist on {weekday} morning. Could you take the 10:00 with {contact}? "
     "Agenda is in the invite."),
    ("Lunch on {weekday}?", "Fancy lunch on {weekday}? The new ramen place opened."),
    ("Deck for the {company} QBR",
     "Could you look over the QBR deck before I send it to {contact}? Slides 4-7 are new."),
    ("Intro request: {contact} at {company}",
     "You know {contact} from your time at the conference, right? Would you mind "
     "introducing me?"),
    ("Commission statement question",
     "My statement for last month looks off by one deal. Did yours come through correctly?"),
    ("Pricing exception for {company}",
     "{contact} is asking for a 15% discount on a two-year term. OK to go ahead?"),
)  # fmt: skip

_INTERNAL_REPLIES = (
    "Sure, leave it with me.",
    "Sounds good!",
    "Yes, works for me.",
    "Done, I've left a few comments.",
    "From my side that's fine, as long as finance signs off.",
    "Can we talk it through at standup tomorrow?",
)

# (name, address, alias or case variant used now and then, member index, topics)
_FREEMAIL_PEOPLE = (
    ("Sam Patel", "sam.patel@gmail.com", "Sam.Patel@googlemail.com", 0),
    ("Raj Mehta", "rajmehta.consulting@gmail.com", None, 0),
    ("Laura Chen", "laura.chen@outlook.com", "Laura.Chen@Outlook.com", 1),
    ("Emma Wilson", "emmawilson82@outlook.com", None, 1),
    ("Mike Johnson", "mjohnson1984@yahoo.com", None, 2),
    ("Hannah Schmidt", "hannah.schmidt@gmail.com", None, 2),
    ("Carlos Ruiz", "carlos.ruiz@yahoo.com", "Carlos.Ruiz@Yahoo.com", 3),
    ("Aoife Byrne", "aoife.byrne@gmail.com", None, 3),
)
_FRIENDLY_REPLIES = (
    "Sounds great, let's do it.",
    "Thanks! Tuesday works for me.",
    "Ha, yes, good to hear from you.",
    "Sorry, only just seeing this. Next week?",
    "Perfect, thank you so much.",
)
_FREEMAIL_TOPICS = (
    ("Coffee next week?", "Are you around for a coffee next week? Would be good to catch up."),
    ("Intro to a friend",
     "A friend runs sales ops at a logistics firm and is looking at tools like Northwind. "
     "Happy for me to introduce you?"),
    ("Catching up", "Long time! How are things at Northwind? Still enjoying it?"),
    ("Quick favour", "Could you have a look at my CV before I send it out? No rush."),
    ("That article", "Saw this and thought of our conversation about forecasting."),
)  # fmt: skip

# People who wrote in and were never written back to: (name, address, member, subject, body)
_INBOUND_ONLY = (
    ("Jake Morrison", "jake@growthleadsagency.com", 0, "Quick question, {first}",
     "Are you the right person to talk to about outbound lead generation at Northwind?"),
    ("Greg Fields", "greg.fields1971@yahoo.com", 0, "Northwind pricing",
     "Saw your talk online. What does Northwind cost for a five person team?"),
    ("Olivia Grant", "olivia.grant@talentbridge.co.uk", 1, "Senior AE opportunity",
     "I'm working on a Senior AE role at a Series B fintech and your background stood out."),
    ("Lucy Tran", "lucy@podcastpilot.fm", 1, "Guest spot on Revenue Reimagined",
     "Would you like to come on our podcast to talk about relationship intelligence?"),
    ("Nina Kowalski", "nina.k@datascale.io", 2, "Partnership idea",
     "We integrate with most CRMs and think there is a fit with Northwind. Open to a chat?"),
    ("Pieter de Vries", "pieter@devries-advies.nl", 2, "Reseller in the Benelux?",
     "Do you work with resellers in the Netherlands? We advise mid-sized logistics firms."),
    ("Ahmed Hassan", "ahmed.hassan@brightwave-consulting.com", 3, "Data enrichment for Northwind",
     "We help SaaS teams enrich CRM records. Worth 15 minutes next week?"),
    ("Rachel Adams", "rachel.adams@eventsphere.com", 3, "Speaking slot at SaaS Connect NYC",
     "We have a last-minute speaking slot at SaaS Connect NYC. Interested?"),
)  # fmt: skip

# (display name, address, List-Id, interval in days, headlines)
_NEWSLETTERS = (
    ("Revenue Weekly", "digest@news.revenueweekly.com", "weekly.news.revenueweekly.com", 14),
    ("CRM Insider", "insider@mail.crminsider.com", "crm-insider.mail.crminsider.com", 30),
    ("The Logistics Ledger", "newsletter@logisticsledger.com", "ledger.logisticsledger.com", 21),
    ("SaaS Pricing Digest", "hello@pricingdigest.io", "digest.pricingdigest.io", 30),
    ("London Tech Events", "events@londontechevents.co.uk", "events.londontechevents.co.uk", 28),
)
_HEADLINES = (
    "Why pipeline reviews fail", "Forecasting with fewer spreadsheets",
    "The new buyer journey", "Pricing pages that convert", "What CROs want in 2026",
    "Five renewal plays that work", "Inside a 40-person RevOps team",
    "Discounting without regret", "Events worth your time this month",
)  # fmt: skip

# (display name, address, subject templates)
_NOTIFIERS = (
    ("TaskForge", "notifications@taskforge.app",
     ("You were assigned “Prepare {company} QBR deck”", "3 tasks due this week")),
    ("Paperlane", "noreply@paperlane.io",
     ("Completed: Order form \N{EN DASH} {company}", "{contact} viewed “Northwind MSA”")),
    ("Huddle Calendar", "noreply@huddlecal.com",
     ("Reminder: call with {contact} tomorrow", "New booking: demo with {company}")),
    ("Ledgerly", "no-reply@ledgerly.com", ("Your receipt from Ledgerly #{number}",)),
    ("Slackline", "notifications@slackline.chat", ("New messages in #deals-{slug}",)),
)  # fmt: skip

_FORMER_CONTACTS = ("Gary Lewis", "Monica Hale", "Owen Price", "Tara Quinn", "Victor Shaw")

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_LONG_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_LONG_MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip

# ---------------------------------------------------------------------------------------
# Internal model

_Address = tuple[str, str]  # (display name, address)


@dataclass(frozen=True)
class _Person:
    name: str
    address: str
    region: str
    signature: str = ""
    outlook: bool = False
    alias: str = ""  # a case variant or second address this person also uses

    @property
    def first(self) -> str:
        return _first_name(self.name)


@dataclass(frozen=True)
class _Mail:
    date: datetime
    sender: _Address
    to: tuple[_Address, ...]
    subject: str
    message_id: str
    text: str
    cc: tuple[_Address, ...] = ()
    bcc: tuple[_Address, ...] = ()
    in_reply_to: str = ""
    references: tuple[str, ...] = ()
    html: bool = False
    attachment: tuple[str, str, bytes] | None = None  # file name, content type, content
    extra_headers: tuple[tuple[str, str], ...] = ()
    delivery_status: str = ""  # set on bounces: a multipart/report is rendered

    def holders(self) -> set[str]:
        """The (lower-cased) addresses in whose mailbox this message sits."""
        everyone = (self.sender, *self.to, *self.cc, *self.bcc)
        return {address.lower() for _, address in everyone}


# ---------------------------------------------------------------------------------------
# Public API


def generate_sample_messages(
    member: SampleMember,
    workspace: SampleWorkspace = SAMPLE_WORKSPACE,
    *,
    seed: int = 7,
    end: datetime = datetime(2026, 11, 1, tzinfo=UTC),
) -> Iterator[bytes]:
    """Raw RFC 5322 messages in `member`'s mailbox (inbox and sent), oldest first."""
    holder = member.address.lower()
    for mail in _workspace_mail(workspace, seed, end):
        if holder in mail.holders():
            yield _render(mail, holder)


def write_sample_mailboxes(directory: Path, *, seed: int = 7) -> dict[str, Path]:
    """One mboxrd file per member of the sample workspace; member_id -> path."""
    directory.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for member in SAMPLE_WORKSPACE.members:
        path = directory / f"{member.member_id}.mbox"
        with path.open("wb") as mbox:
            for raw in generate_sample_messages(member, seed=seed):
                mbox.write(_mbox_entry(raw))
        paths[member.member_id] = path
    return paths


# ---------------------------------------------------------------------------------------
# Building the workspace's mail


@functools.lru_cache(maxsize=8)
def _workspace_mail(workspace: SampleWorkspace, seed: int, end: datetime) -> tuple[_Mail, ...]:
    team = [_member_person(workspace, index) for index in range(len(workspace.members))]
    mail: list[_Mail] = []
    for company in _COMPANIES:
        mail += _account_mail(company, team, seed, end)
    mail += _internal_mail(team, seed, end)
    for index, member in enumerate(workspace.members):
        rng = random.Random(seed + _stable_offset("member:" + member.member_id))
        mail += _private_mail(rng, index, team, end)
    start = end - _SPAN
    kept = [m for m in mail if start <= m.date < end]
    return tuple(sorted(kept, key=lambda m: (m.date.astimezone(UTC), m.message_id)))


def _member_person(workspace: SampleWorkspace, index: int) -> _Person:
    member = workspace.members[index]
    title, region, phone = _MEMBER_PROFILES[index % len(_MEMBER_PROFILES)]
    company = workspace.own_domain.split(".")[0].title()
    signature = f"{member.name}\n{title} | {company}\n{phone}\nhttps://{workspace.own_domain}"
    return _Person(member.name, member.address, region, signature)


def _account_mail(company: _Company, team: list[_Person], seed: int, end: datetime) -> list[_Mail]:
    """Every thread with one customer account, as its owners (and cc'd colleagues) hold it."""
    rng = random.Random(seed + _stable_offset("account:" + company.website))
    owners = list(dict.fromkeys(team[i % len(team)] for i in company.owners))
    contacts = [_customer(rng, company, name) for name in company.contacts]
    language = _REGIONS[company.region].language
    topics = [*_TOPICS, *([_LOCAL_TOPICS[language]] * 3 if language in _LOCAL_TOPICS else [])]
    mail: list[_Mail] = []
    for days_ago in _thread_start_days(rng, company.rhythm):
        owner = rng.choice(owners)
        colleagues = [p for p in team if p is not owner]
        if len(owners) > 1 and rng.random() < 0.7:
            cc_team = [p for p in owners if p is not owner]
        elif colleagues and rng.random() < 0.08:
            cc_team = [rng.choice(colleagues)]
        else:
            cc_team = []
        topic = rng.choice(topics)
        mail += _customer_thread(
            rng,
            end - timedelta(days=days_ago),
            company,
            topic,
            owner,
            cc_team,
            contacts,
            colleagues,
        )
    return mail


def _customer(rng: random.Random, company: _Company, name: str) -> _Person:
    domain = company.mail_domain or company.website
    address = f"{_local_part(name, company.address_style)}@{domain}"
    signature = ""
    if company.signatures:
        slug = _local_part(name, "first-last")
        signature = (
            f"{name}\n{rng.choice(_CUSTOMER_TITLES)} | {company.name}\n"
            f"{_phone(rng, company.region)}\n"
            f"https://www.linkedin.com/in/{slug}-{rng.getrandbits(24):06x}"
        )
    alias = _CASE_VARIANTS.get(name) or _PERSONAL_ADDRESSES.get(name, "")
    return _Person(name, address, company.region, signature, company.outlook, alias)


def _thread_start_days(rng: random.Random, rhythm: str) -> list[float]:
    """Days before `end` on which threads start; the rhythm shapes connection strength."""
    days: list[float] = []
    if rhythm == "weekly":  # close lately, a few older threads
        days += _every(rng, start=100, stop=1, step=(5, 9))
        days += [rng.uniform(110, 720) for _ in range(6)]
    elif rhythm == "steady":  # about monthly for two years
        days += _every(rng, start=725, stop=2, step=(20, 40))
    elif rhythm == "year_ago":  # a busy quarter a year or so ago, then silence
        days += _every(rng, start=470, stop=330, step=(5, 12))
    elif rhythm == "burst_old":  # a few intense weeks nearly two years ago
        days += _every(rng, start=705, stop=670, step=(1.5, 4))
    elif rhythm == "recent_new":  # a new account
        days += _every(rng, start=55, stop=1, step=(3, 6))
    else:  # occasional
        days += [rng.uniform(5, 720) for _ in range(rng.randint(3, 6))]
    return days


def _every(
    rng: random.Random, *, start: float, stop: float, step: tuple[float, float]
) -> list[float]:
    days, day = [], start - rng.uniform(0, step[1])
    while day > stop:
        days.append(day)
        day -= rng.uniform(*step)
    return days


def _customer_thread(
    rng: random.Random,
    when: datetime,
    company: _Company,
    topic: tuple,
    owner: _Person,
    cc_team: list[_Person],
    contacts: list[_Person],
    colleagues: list[_Person],
) -> list[_Mail]:
    subject_template, opening, attachment, starter = topic
    main = contacts[0] if rng.random() < 0.5 else rng.choice(contacts)
    others = [c for c in contacts if c is not main]
    cc_customers = rng.sample(others, k=min(len(others), rng.choice((0, 0, 0, 1, 1, 2))))
    member_starts = starter == "member" or (starter == "either" and rng.random() < 0.6)
    length = rng.choices((1, 2, 3, 4, 5, 6), weights=(20, 26, 22, 14, 10, 8))[0]
    values = _template_values(rng, company, when)
    local_topic = topic in _LOCAL_TOPICS.values()

    team_side, customer_side = [owner, *cc_team], [main, *cc_customers]
    sides = (team_side, customer_side) if member_starts else (customer_side, team_side)
    sender = sides[0][0]
    to = [_addressed(rng, sides[1][0])]
    cc = [_addressed(rng, p) for p in (*cc_customers, *cc_team)]
    bcc: list[_Person] = []
    if member_starts and rng.random() < 0.12:
        unseen = [p for p in colleagues if p not in cc_team]
        unseen += [c for c in others if c not in cc_customers]
        bcc = [rng.choice(unseen)] if unseen else []
    moment = _business_moment(rng, when, sender.region)

    thread: list[_Mail] = []
    for position in range(length):
        if thread:
            previous = thread[-1]
            sender = _replier(rng, sides[position % 2], previous)
            to = [previous.sender]
            cc = []
            if rng.random() < 0.8:  # reply all
                skip = (sender.address.lower(), sender.alias.lower(), previous.sender[1].lower())
                cc = [a for a in (*previous.to, *previous.cc) if a[1].lower() not in skip]
            moment = _reply_moment(rng, previous.date, sender.region)
            bcc = []
        on_team = sender in team_side
        if local_topic:
            language = _REGIONS[company.region].language
        else:
            language = "en" if on_team else _REGIONS[sender.region].language
        values["first"] = _first_name(to[0][0])
        greeting = rng.choice(_GREETINGS[language]).format(**values)
        if thread:
            pool = _MEMBER_REPLIES if on_team else _CUSTOMER_REPLIES
            lines = [line.format(**values) for line in rng.sample(pool, rng.choice((1, 1, 2)))]
        else:
            lines = [line.format(**values) for line in opening]
        text = _letter(greeting, lines, rng.choice(_CLOSINGS[language]), sender)
        subject = subject_template.format(**values)
        if thread:
            subject = ("RE: " if sender.outlook else "Re: ") + subject
            text += "\n\n" + _quote(thread[-1], sender.outlook)
        from_address = sender.address
        if sender.alias.endswith("@gmail.com") and rng.random() < 0.25:
            from_address = sender.alias  # a customer writing from home, same signature
        thread.append(
            _Mail(
                date=moment,
                sender=(sender.name, from_address),
                to=tuple(to),
                cc=tuple(cc),
                bcc=tuple((p.name, p.address) for p in bcc),
                subject=subject,
                message_id=_message_id(rng, from_address, moment, outlook=sender.outlook),
                text=text,
                **_threaded_under(thread[-1] if thread else None),
                html=sender.outlook,
                attachment=_attachment(attachment, values)
                if not thread and attachment and rng.random() < 0.6
                else None,
            )
        )
    return thread


def _threaded_under(previous: _Mail | None) -> dict:
    """In-Reply-To and References of a message answering `previous`."""
    if previous is None:
        return {}
    return {
        "in_reply_to": previous.message_id,
        "references": (*previous.references, previous.message_id),
    }


def _replier(rng: random.Random, side: list[_Person], previous: _Mail) -> _Person:
    """Who answers for one side: someone on that side who received the previous message."""
    received = {address.lower() for _, address in (*previous.to, *previous.cc)}
    eligible = [p for p in side if received & {p.address.lower(), p.alias.lower()}]
    if not eligible:
        return side[0]
    return eligible[0] if len(eligible) == 1 or rng.random() < 0.8 else rng.choice(eligible[1:])


def _addressed(rng: random.Random, person: _Person) -> _Address:
    """How a sender writes a recipient: now and then the case variant someone typed."""
    if person.alias.lower() == person.address.lower() and rng.random() < 0.3:
        return person.name, person.alias
    return person.name, person.address


def _internal_mail(team: list[_Person], seed: int, end: datetime) -> list[_Mail]:
    """Monthly team updates from the first member, and threads between each pair."""
    mail: list[_Mail] = []
    if len(team) < 2:
        return mail
    lead, rest = team[0], team[1:]
    rng = random.Random(seed + _stable_offset("internal:team"))
    for months_ago in range(24, 0, -1):
        when = end - timedelta(days=months_ago * 30.4 - rng.uniform(0, 5))
        moment = _business_moment(rng, when, lead.region)
        text = _letter(
            "Hi team,",
            [
                "Quick update ahead of the month close: pipeline is up on last month and "
                "renewals are on track.",
                "From next week, pipeline review moves to Thursdays.",
            ],
            "Thanks,",
            lead,
        )
        month = _LONG_MONTHS[moment.month - 1]
        update = _Mail(
            moment,
            (lead.name, lead.address),
            tuple((p.name, p.address) for p in rest),
            f"Team update \N{EN DASH} {month} {moment.year}",
            _message_id(rng, lead.address, moment),
            text,
        )
        mail += [update, *_internal_replies(rng, update, team, rng.choice((0, 1, 1, 2)))]
    for i, first in enumerate(team):
        for second in team[i + 1 :]:
            key = f"internal:{first.address}:{second.address}"
            rng = random.Random(seed + _stable_offset(key))
            for _ in range(rng.randint(5, 8)):
                sender, recipient = rng.sample([first, second], 2)
                when = end - timedelta(days=rng.uniform(1, 728))
                subject, body = rng.choice(_INTERNAL_TOPICS)
                company = rng.choice(_COMPANIES)
                values = {
                    "company": company.name,
                    "contact": company.contacts[0],
                    "weekday": rng.choice(_LONG_WEEKDAYS),
                }
                moment = _business_moment(rng, when, sender.region)
                text = _letter(f"Hi {recipient.first},", [body.format(**values)], "Thanks,", sender)
                opener = _Mail(
                    moment,
                    (sender.name, sender.address),
                    ((recipient.name, recipient.address),),
                    subject.format(**values),
                    _message_id(rng, sender.address, moment),
                    text,
                )
                mail += [opener, *_internal_replies(rng, opener, team, rng.randint(0, 3))]
    return mail


def _internal_replies(
    rng: random.Random, opener: _Mail, team: list[_Person], count: int
) -> list[_Mail]:
    by_address = {p.address.lower(): p for p in team}
    involved = [by_address[a[1].lower()] for a in (opener.sender, *opener.to)]
    replies, previous = [], opener
    for _ in range(count):
        candidates = [p for p in involved if p.address != previous.sender[1]]
        sender = rng.choice(candidates)
        addressed = [(p.name, p.address) for p in involved if p is not sender]
        to = (previous.sender,)
        moment = _reply_moment(rng, previous.date, sender.region)
        text = _letter(
            f"Hi {_first_name(previous.sender[0])},",
            [rng.choice(_INTERNAL_REPLIES)],
            "",
            sender,
            short=True,
        )
        reply = _Mail(
            moment,
            (sender.name, sender.address),
            to,
            "Re: " + opener.subject,
            _message_id(rng, sender.address, moment),
            text + "\n\n" + _quote(previous, False),
            cc=tuple(a for a in addressed if a not in to),
            **_threaded_under(previous),
        )
        replies.append(reply)
        previous = reply
    return replies


def _private_mail(
    rng: random.Random, index: int, team: list[_Person], end: datetime
) -> list[_Mail]:
    """What only this member's mailbox holds: free mail, cold inbound, automated mail."""
    me = team[index]
    mine = [c for c in _COMPANIES if index in (o % len(team) for o in c.owners)] or [
        _COMPANIES[index % len(_COMPANIES)]
    ]
    mail: list[_Mail] = []
    for name, address, alias, owner in _FREEMAIL_PEOPLE:
        if owner % len(team) == index:
            mail += _freemail_threads(
                rng, me, _Person(name, address, me.region, alias=alias or ""), end
            )
    for name, address, owner, subject, body in _INBOUND_ONLY:
        if owner % len(team) == index:
            mail += _inbound_only(rng, me, (name, address), subject, body, end)
    mail += _newsletters(rng, me, end)
    mail += _notifications(rng, me, mine, end)
    mail += _bounces(rng, me, mine, end)
    return mail


def _freemail_threads(
    rng: random.Random, me: _Person, friend: _Person, end: datetime
) -> list[_Mail]:
    mail: list[_Mail] = []
    for _ in range(rng.randint(6, 10)):
        subject, body = rng.choice(_FREEMAIL_TOPICS)
        starts_with_me = rng.random() < 0.5
        sender, recipient = (me, friend) if starts_with_me else (friend, me)
        previous: _Mail | None = None
        moment = _business_moment(rng, end - timedelta(days=rng.uniform(1, 728)), me.region)
        for position in range(rng.choice((1, 2, 2, 3, 4))):
            if previous:
                sender, recipient = recipient, sender
                moment = _reply_moment(rng, previous.date, me.region)
            from_address = sender.address
            if sender is friend and friend.alias and rng.random() < 0.35:
                from_address = friend.alias  # googlemail.com alias or the same address in caps
            lines = [body] if position == 0 else [rng.choice(_FRIENDLY_REPLIES)]
            text = _letter(f"Hi {recipient.first},", lines, "", sender, short=sender is friend)
            previous = _Mail(
                moment,
                (sender.name, from_address),
                ((recipient.name, recipient.address),),
                ("Re: " if previous else "") + subject,
                _message_id(rng, from_address, moment),
                text + ("\n\n" + _quote(previous, False) if previous else ""),
                **_threaded_under(previous),
            )
            mail.append(previous)
    return mail


def _inbound_only(
    rng: random.Random, me: _Person, sender: _Address, subject: str, body: str, end: datetime
) -> list[_Mail]:
    """A cold sender following up on their own unanswered email."""
    person = _Person(sender[0], sender[1], "uk")
    mail: list[_Mail] = []
    moment = _business_moment(rng, end - timedelta(days=rng.uniform(20, 700)), "uk")
    subject = subject.format(first=me.first)
    for position in range(rng.randint(1, 4)):
        lines = [body] if position == 0 else ["Just bumping this to the top of your inbox."]
        previous = mail[-1] if mail else None
        mail.append(
            _Mail(
                moment,
                sender,
                ((me.name, me.address),),
                ("Re: " if previous else "") + subject,
                _message_id(rng, person.address, moment),
                _letter(f"Hi {me.first},", lines, "Best,", person),
                **_threaded_under(previous),
            )
        )
        moment = _business_moment(rng, moment + timedelta(days=rng.uniform(4, 12)), "uk")
    return mail


def _newsletters(rng: random.Random, me: _Person, end: datetime) -> list[_Mail]:
    mail: list[_Mail] = []
    for name, address, list_id, interval in rng.sample(_NEWSLETTERS, 2):
        domain = address.split("@")[1]
        day = end - _SPAN + timedelta(days=rng.uniform(0, interval))
        while day < end:
            moment = day.replace(hour=7, minute=rng.randint(0, 10), second=rng.randint(0, 59))
            token = f"{rng.getrandbits(64):016x}"
            headline = rng.choice(_HEADLINES)
            text = (
                f"{name}\n\n{headline}\n\nThis issue: three stories on how sales teams "
                f"work with their data.\n\nRead online: https://{domain}/issues/{token[:8]}\n\n"
                f"You are receiving this because you subscribed as {me.address}.\n"
                f"Unsubscribe: https://{domain}/u/{token}"
            )
            mail.append(
                _Mail(
                    moment,
                    (name, address),
                    ((me.name, me.address),),
                    f"{name}: {headline}",
                    f"<{token}.{moment:%Y%m%d}@{domain}>",
                    text,
                    html=True,
                    extra_headers=(
                        ("List-Id", f"{name} <{list_id}>"),
                        (
                            "List-Unsubscribe",
                            f"<mailto:unsubscribe+{token}@{domain}>, <https://{domain}/u/{token}>",
                        ),
                        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
                        ("Precedence", "bulk"),
                    ),
                )
            )
            day += timedelta(days=interval)
    return mail


def _notifications(
    rng: random.Random, me: _Person, accounts: list[_Company], end: datetime
) -> list[_Mail]:
    mail: list[_Mail] = []
    for _ in range(rng.randint(40, 52)):
        name, address, subjects = rng.choice(_NOTIFIERS)
        company = rng.choice(accounts)
        values = {
            "company": company.name,
            "contact": company.contacts[0],
            "number": rng.randint(1000, 9999),
            "slug": _local_part(company.name, "slug"),
        }
        subject = rng.choice(subjects).format(**values)
        moment = _business_moment(rng, end - timedelta(days=rng.uniform(1, 728)), me.region)
        domain = address.split("@")[1]
        text = (
            f"{subject}\n\nOpen {name} to see the details.\n\n"
            f"This is an automated message from {name}. Please do not reply."
        )
        mail.append(
            _Mail(
                moment,
                (name, address),
                ((me.name, me.address),),
                subject,
                f"<{rng.getrandbits(80):020x}@{domain}>",
                text,
                extra_headers=(("Auto-Submitted", "auto-generated"),),
            )
        )
    return mail


def _bounces(
    rng: random.Random, me: _Person, accounts: list[_Company], end: datetime
) -> list[_Mail]:
    """Mail to someone who has left a customer, and the bounce that came back."""
    mail: list[_Mail] = []
    for name in rng.sample(_FORMER_CONTACTS, rng.randint(2, 4)):
        company = rng.choice(accounts)
        gone = (
            name,
            f"{_local_part(name, company.address_style)}@{company.mail_domain or company.website}",
        )
        moment = _business_moment(rng, end - timedelta(days=rng.uniform(2, 700)), me.region)
        sent = _Mail(
            moment,
            (me.name, me.address),
            (gone,),
            "Checking in",
            _message_id(rng, me.address, moment),
            _letter(
                f"Hi {_first_name(name)},",
                [f"It has been a while; how are things at {company.name}?"],
                "Best,",
                me,
            ),
        )
        bounced_at = moment + timedelta(seconds=rng.randint(3, 90))
        status = (
            f"Reporting-MTA: dns; googlemail.com\n"
            f"Arrival-Date: {format_datetime(moment)}\n\n"
            f"Final-Recipient: rfc822; {gone[1]}\nAction: failed\nStatus: 5.1.1\n"
            f"Diagnostic-Code: smtp; 550 5.1.1 <{gone[1]}>: Recipient address rejected: "
            f"User unknown"
        )
        bounce = _Mail(
            bounced_at,
            ("Mail Delivery Subsystem", "mailer-daemon@googlemail.com"),
            ((me.name, me.address),),
            "Delivery Status Notification (Failure)",
            _message_id(rng, "mailer-daemon@googlemail.com", bounced_at),
            f"Address not found\n\nYour message wasn't delivered to {gone[1]} because the "
            f"address couldn't be found, or is unable to receive mail.",
            extra_headers=(("Auto-Submitted", "auto-replied"),),
            delivery_status=status,
            **_threaded_under(sent),
        )
        mail += [sent, bounce]
    return mail


# ---------------------------------------------------------------------------------------
# Text, names and times


def _template_values(rng: random.Random, company: _Company, when: datetime) -> dict:
    return {
        "company": company.name,
        "slug": _local_part(company.name, "slug"),
        "weekday": rng.choice(_LONG_WEEKDAYS),
        "seats": rng.choice((12, 25, 40, 60, 120)),
        "year": when.year + (when.month > 9),
        "month": _LONG_MONTHS[(when.month + 1) % 12],
        "quarter": (when.month - 1) // 3 + 1,
        "invoice": f"NW-{when.year}-{rng.randint(100, 999)}",
        "team": rng.choice(("sales", "customer success", "partnerships", "operations")),
        "first": "",
    }


def _first_name(name: str) -> str:
    words = name.split() or [""]
    return words[1] if words[0].endswith(".") and len(words) > 2 else words[0]


def _letter(
    greeting: str, lines: Sequence[str], closing: str, sender: _Person, *, short: bool = False
) -> str:
    parts = [greeting, "", "\n\n".join(lines), ""]
    parts.append(f"{closing}\n{sender.first}" if closing else sender.first)
    if sender.signature and not short:
        parts += ["", "-- ", sender.signature]
    return "\n".join(parts)


def _quote(previous: _Mail, outlook: bool) -> str:
    """The previous message below the reply, as Gmail or Outlook would put it."""
    name, address = previous.sender
    if outlook:
        return (
            f"________________________________\nFrom: {name} <{address}>\n"
            f"Sent: {format_datetime(previous.date)}\nSubject: {previous.subject}\n\n"
            f"{previous.text}"
        )
    d = previous.date
    when = f"{_WEEKDAYS[d.weekday()]}, {d.day} {_MONTHS[d.month - 1]} {d.year} at {d:%H:%M}"
    quoted = "\n".join(("> " + line).rstrip() for line in previous.text.splitlines())
    return f"On {when}, {name} <{address}> wrote:\n{quoted}"


_TRANSLITERATION = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "ø": "o", "æ": "ae"})


def _local_part(name: str, style: str) -> str:
    plain = unicodedata.normalize("NFKD", name.lower().translate(_TRANSLITERATION))
    plain = "".join(c for c in plain if c.isalnum() or c in " -.")
    words = [w.strip(".") for w in plain.split() if not w.endswith(".")]  # drop "Dr."
    if style == "slug":
        return "-".join(words)
    first, last = words[0], "".join(words[1:])
    return {
        "first.last": f"{first}.{last}",
        "first-last": f"{first}-{last}",
        "first": first,
        "flast": first[0] + last,
    }[style]


def _phone(rng: random.Random, region: str) -> str:
    return "".join(str(rng.randint(0, 9)) if c == "#" else c for c in _REGIONS[region].phone)


def _attachment(spec: tuple[str, str], values: dict) -> tuple[str, str, bytes]:
    filename, content_type = spec
    filename = filename.format(**values)
    if content_type == "text/csv":
        content = (
            f"item,owner,due\nconnect mailboxes,{values['company']},week 1\ntraining,all,week 2\n"
        )
        return filename, content_type, content.encode()
    pdf = f"%PDF-1.4\n% {filename}\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
    return filename, content_type, pdf.encode()


def _message_id(rng: random.Random, sender: str, when: datetime, *, outlook: bool = False) -> str:
    """A unique id in the style of the sender's mail system (Exchange, Gmail, or their own)."""
    domain = sender.split("@")[1].lower()
    if outlook:
        server = rng.choice(("AM0PR04MB", "DB9PR08MB", "LO2P265MB", "SN6PR11MB")) + str(
            rng.randint(1000, 9999)
        )
        return f"<{server}{rng.getrandbits(96):024X}@{server}.prod.outlook.com>"
    if domain.endswith(("northwind.io", "gmail.com", "googlemail.com")) or rng.random() < 0.3:
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-+"
        token = "".join(rng.choice(alphabet) for _ in range(42))
        return f"<CA{token}@mail.gmail.com>"
    return f"<{when.astimezone(UTC):%Y%m%d%H%M%S}.{rng.getrandbits(48):012x}@{domain}>"


def _stable_offset(key: str) -> int:
    return zlib.crc32(key.encode())


def _business_moment(rng: random.Random, when: datetime, region: str) -> datetime:
    """A working-hours time in the region's local time on (or just before) `when`'s day."""
    day = when.astimezone(UTC).date()
    if day.weekday() >= 5 and rng.random() < 0.93:  # Saturday to Friday, Sunday to Monday
        day += timedelta(days=-1 if day.weekday() == 5 else 1)
    hour = rng.choices(range(8, 19), weights=(3, 6, 8, 8, 6, 5, 7, 7, 6, 4, 2))[0]
    return _local(day, hour, rng.randint(0, 59), rng.randint(0, 59), region)


def _reply_moment(rng: random.Random, previous: datetime, region: str) -> datetime:
    low, high = rng.choices(((12, 360), (360, 1800), (1800, 7200)), weights=(60, 30, 10))[0]
    instant = previous + timedelta(minutes=rng.uniform(low, high))
    local = instant.astimezone(_zone(region, instant.astimezone(UTC).date()))
    day, hour = local.date(), local.hour
    if hour >= 21 or hour < 7:  # answered the next morning
        day += timedelta(days=hour >= 21)
        hour = rng.choice((7, 8, 8, 9, 9, 10))
    if day.weekday() >= 5 and rng.random() < 0.9:
        day += timedelta(days=7 - day.weekday())
    if (day, hour) == (local.date(), local.hour):
        return local
    return _local(day, hour, rng.randint(0, 59), rng.randint(0, 59), region)


def _local(day: date, hour: int, minute: int, second: int, region: str) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=_zone(region, day))


def _zone(region: str, day: date) -> timezone:
    spec = _REGIONS[region]
    summer = spec.dst_rule is not None and _in_summer_time(spec.dst_rule, day)
    return timezone(timedelta(minutes=spec.utc_offset_minutes + 60 * summer))


def _in_summer_time(rule: str, day: date) -> bool:
    year = day.year
    if rule == "eu":
        return _last_sunday(year, 3) <= day < _last_sunday(year, 10)
    if rule == "us":
        return _nth_sunday(year, 3, 2) <= day < _nth_sunday(year, 11, 1)
    return not _nth_sunday(year, 4, 1) <= day < _nth_sunday(year, 10, 1)  # southern


def _nth_sunday(year: int, month: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(6 - first.weekday()) % 7 + 7 * (n - 1))


def _last_sunday(year: int, month: int) -> date:
    last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() + 1) % 7)


# ---------------------------------------------------------------------------------------
# Rendering


def _render(mail: _Mail, holder: str) -> bytes:
    headers = [
        f"Date: {format_datetime(mail.date)}",
        f"From: {_format_address(mail.sender)}",
        _address_header("To", mail.to),
    ]
    if mail.cc:
        headers.append(_address_header("Cc", mail.cc))
    if mail.bcc and mail.sender[1].lower() == holder:  # only the sender's copy shows Bcc
        headers.append(_address_header("Bcc", mail.bcc))
    headers += [f"Subject: {_encode_text(mail.subject)}", f"Message-ID: {mail.message_id}"]
    if mail.in_reply_to:
        headers.append(f"In-Reply-To: {mail.in_reply_to}")
    if mail.references:
        headers.append("References: " + "\n ".join(mail.references))
    headers += [f"{name}: {value}" for name, value in mail.extra_headers]
    headers.append("MIME-Version: 1.0")
    return ("\n".join(headers) + "\n" + _mime_body(mail)).encode("ascii")


def _mime_body(mail: _Mail) -> str:
    boundary = f"000000000000{zlib.crc32(mail.message_id.encode()):08x}"
    if mail.delivery_status:
        parts = [
            _text_part(mail.text),
            f"Content-Type: message/delivery-status\n\n{mail.delivery_status}\n",
        ]
        return _multipart("report", boundary, parts, "; report-type=delivery-status")
    body = _text_part(mail.text)
    if mail.html:
        body = _multipart("alternative", boundary + "a", [body, _html_part(mail.text)])
    if mail.attachment:
        filename, content_type, content = mail.attachment
        encoded = base64.encodebytes(content).decode("ascii")
        attachment = (
            f'Content-Type: {content_type}; name="{filename}"\n'
            f'Content-Disposition: attachment; filename="{filename}"\n'
            f"Content-Transfer-Encoding: base64\n\n{encoded}"
        )
        body = _multipart("mixed", boundary + "m", [body, attachment])
    return body


_TEXT_HEADERS = (
    'Content-Type: text/{subtype}; charset="UTF-8"\nContent-Transfer-Encoding: {encoding}'
)


def _text_part(text: str) -> str:
    if text.isascii():
        encoding, payload = "7bit", text
    else:
        encoding = "quoted-printable"
        payload = quopri.encodestring(text.encode("utf-8")).decode("ascii")
    return f"{_TEXT_HEADERS.format(subtype='plain', encoding=encoding)}\n\n{payload}\n"


def _html_part(text: str) -> str:
    paragraphs = "".join(
        f"<p>{html.escape(block).replace(chr(10), '<br>')}</p>\n" for block in text.split("\n\n")
    )
    document = f"<html><body>\n{paragraphs}</body></html>"
    ascii_html = document.encode("ascii", "xmlcharrefreplace").decode("ascii")
    return f"{_TEXT_HEADERS.format(subtype='html', encoding='7bit')}\n\n{ascii_html}\n"


def _multipart(subtype: str, boundary: str, parts: list[str], params: str = "") -> str:
    body = "".join(f"--{boundary}\n{part}\n" for part in parts)
    content_type = f'Content-Type: multipart/{subtype}; boundary="{boundary}"{params}'
    return f"{content_type}\n\n{body}--{boundary}--\n"


def _format_address(address: _Address) -> str:
    name, email = address
    if name.isascii():
        return formataddr((name, email))
    return f"{_encode_text(name)} <{email}>"


def _address_header(field_name: str, addresses: Sequence[_Address]) -> str:
    return f"{field_name}: " + ",\n ".join(_format_address(a) for a in addresses)


def _encode_text(text: str) -> str:
    """RFC 2047 Q-encoded words for non-ASCII header text, each word within 75 characters."""
    if text.isascii():
        return text
    words, current = [], ""
    for char in text:
        encoded = "".join(_q_encode(byte) for byte in char.encode("utf-8"))
        if len(current) + len(encoded) > 60:
            words.append(current)
            current = ""
        current += encoded
    words.append(current)
    return " ".join(f"=?UTF-8?Q?{word}?=" for word in words)


def _q_encode(byte: int) -> str:
    char = chr(byte)
    if char == " ":
        return "_"
    if char.isascii() and (char.isalnum() or char in "!*+-/"):
        return char
    return f"={byte:02X}"


def _mbox_entry(raw: bytes) -> bytes:
    """An mboxrd entry: a From_ line, then the message with body lines matching
    /^>*From / quoted with one more '>'."""
    headers = BytesHeaderParser().parsebytes(raw)
    envelope = parseaddr(headers["From"])[1]
    if envelope.lower().startswith("mailer-daemon@"):
        envelope = "MAILER-DAEMON"
    sent = parsedate_to_datetime(headers["Date"]).astimezone(UTC)
    stamp = (
        f"{_WEEKDAYS[sent.weekday()]} {_MONTHS[sent.month - 1]} {sent.day:2d} "
        f"{sent:%H:%M:%S} {sent.year}"
    )
    lines = raw.rstrip(b"\n").split(b"\n")
    escaped = [b">" + line if line.lstrip(b">").startswith(b"From ") else line for line in lines]
    return f"From {envelope} {stamp}\n".encode("ascii") + b"\n".join(escaped) + b"\n\n"
