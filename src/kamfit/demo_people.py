"""The demo organisation's key account team: people, two assessment cycles and plans.

Thirty people: three regional heads of key accounts, their 24 key account managers and
three internal candidates. All but the heads are assessed in a closed "2025 KAM review"
against the global account manager profile, by self, line manager, peer and other raters,
with psychometric results from two fictional providers, SBI quick checks, five released
results and six development plans. An open "2026 mid-year check" of one
manager's team leaves work waiting: a self form to fill and manager forms half done.

Ratings come from a seeded model: each person has a true level per requirement (the
required level, shifted by their overall ability and a personal strength or weakness),
and each rater sees it through their own leniency and some noise. A few people rate
themselves well above (blind spots) or below (hidden strengths) what others see.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.utils.text import slugify

from kamfit.assessments import services as assess
from kamfit.assessments.models import Cycle, Person, PersonKind, Rater, Source
from kamfit.assessments.services import ImportedRating, PersonInput, RatingInput
from kamfit.development import services as develop
from kamfit.development.models import Action, ActionStatus
from kamfit.domain import development
from kamfit.frameworks.queries import get_scale
from kamfit.orgs.models import Membership, Organisation, Role
from kamfit.profiles.models import ProfileStatus, ProfileVersion, Requirement

if TYPE_CHECKING:
    from django.contrib.auth.models import User

__all__ = ["load_demo_people"]

SEED = 2025
WEAK = -1.0  # from this ability down, attributes fall short too
GLOBAL, NATIONAL = "global-account-manager", "national-account-manager"
REVIEW = "2025 KAM review"
MID_YEAR = "2026 mid-year check"
ACCOUNTS = [  # username, first name, last name, role: raters beyond demo.py's users
    ("daniel.manager", "Daniel", "Brooks", Role.MANAGER),
    ("mei.manager", "Mei Lin", "Tan", Role.MANAGER),
    ("lena.peer", "Lena", "Fischer", Role.PARTICIPANT),
    ("tomas.peer", "Tomás", "Ortega", Role.PARTICIPANT),
    ("oliver.peer", "Oliver", "Grant", Role.PARTICIPANT),
    ("jessica.peer", "Jessica", "Moreno", Role.PARTICIPANT),
    ("marcus.peer", "Marcus", "Bell", Role.PARTICIPANT),
    ("priya.peer", "Priya", "Raman", Role.PARTICIPANT),
    ("kenji.peer", "Kenji", "Watanabe", Role.PARTICIPANT),
    ("aditi.peer", "Aditi", "Sharma", Role.PARTICIPANT),
    ("liam.peer", "Liam", "Nguyen", Role.PARTICIPANT),
    ("chloe.service", "Chloe", "Martin", Role.PARTICIPANT),
    ("marco.supply", "Marco", "Rossi", Role.PARTICIPANT),
]


@dataclass(frozen=True)
class Spec:
    """A demo person and the hidden truth the ratings are drawn from."""

    ref: str
    name: str
    unit: str
    title: str
    manager: str  # reference
    profile: str
    background: str
    note: str
    accounts: tuple[str, ...]
    ability: float  # levels above (+) or below (-) the global profile's requirements
    username: str = ""
    self_bias: float = 0.3  # how much higher than others they rate themselves
    kind: str = PersonKind.KAM


S, OTH, U = "sales", "other", "unknown"  # background: sales, not sales, unknown
G, N = GLOBAL, NATIONAL
MIA, DANIEL, MEI = "E1001", "E1002", "E1003"
PAULA = "E1101"
PEOPLE = [
    Spec(MIA, "Mia Okafor", "EMEA", "Head of key accounts, EMEA", "", "", S,
         "Twelve years in industrial sales; ran the Benelux field team", (), 0.0, "mia.manager"),
    Spec(DANIEL, "Daniel Brooks", "Americas", "Director, key accounts Americas", "", "", S,
         "Came up through distributor sales in the Midwest", (), 0.0, "daniel.manager"),
    Spec(MEI, "Mei Lin Tan", "APAC", "Head of key accounts, APAC", "", "", S,
         "Sales and country management in Singapore and Malaysia", (), 0.0, "mei.manager"),
    # Mia's team: EMEA and UK & Ireland.
    Spec("E1101", "Paula Novak", "EMEA", "Global account manager", MIA, G, S,
         "Field sales, then national accounts in Central Europe",
         ("Helvion Chemicals", "Baltra Foods", "Kestrel Rail"), -0.55, "paula.participant", 0.4),
    Spec("E1102", "Lena Fischer", "EMEA", "Senior global account manager", MIA, G, S,
         "Key account manager at a packaging supplier before joining",
         ("Rhenvald Automotive", "Corvane Glass", "Nordkap Shipping", "Ostara Pharma"), 0.35,
         "lena.peer", 0.1),
    Spec("E1103", "Tomás Ortega", "EMEA", "Global account manager", MIA, G, S,
         "Top territory seller in Iberia three years running",
         ("Sierra Alta Cementos", "Iberagro"), -0.75, "tomas.peer", 1.1),
    Spec("E1104", "Amira Haddad", "EMEA", "National account manager", MIA, N, S,
         "Trade sales in the Gulf, then national accounts", ("Soleva Cosmetics",), -0.9),
    Spec("E1105", "Pieter de Vries", "EMEA", "National account manager", MIA, N, S,
         "Inside sales, then Benelux key accounts", ("Dunvale Dairies", "Maasport Logistics"),
         -0.6),
    Spec("E1106", "Oliver Grant", "UK & Ireland", "Global account manager", MIA, G, S,
         "Joined from a competitor in 2022",
         ("Pennine Water", "Ashcombe Foods", "Calloway Marine"), -0.3, "oliver.peer"),
    Spec("E1107", "Siobhan Kelly", "UK & Ireland", "National account manager", MIA, N, U,
         "Came with the Shannonside acquisition; earlier roles not on file",
         ("Liffey Brewing Co", "Corrib Health"), -1.1),
    Spec("E1108", "Rahul Mehta", "UK & Ireland", "Key account manager", MIA, N, S,
         "Graduate scheme, then field sales in the Midlands",
         ("Wexcombe Packaging", "Harrowgate Retail Supplies"), -0.8),
    # Daniel's team: the Americas.
    Spec("E1201", "Jessica Moreno", "Americas", "Senior global account manager", DANIEL, G, S,
         "Fifteen years in chemicals distribution",
         ("Tidewater Petrochem", "Great Plains Grain Co-op", "Cobalt Bay Electronics",
          "Redcliff Mining"), 0.25, "jessica.peer", 0.2),
    Spec("E1202", "Marcus Bell", "Americas", "Global account manager", DANIEL, G, S,
         "Record-setting new-business seller", ("Ironvale Steel", "Lakeshore Paper"), -0.85,
         "marcus.peer", 1.1),
    Spec("E1203", "Priya Raman", "Americas", "Global account manager", DANIEL, G, OTH,
         "Engineering: six years as a process engineer before moving to accounts",
         ("Andara Copper", "Northgate Utilities", "Bluewing Aerospace"), 0.2, "priya.peer", -0.9),
    Spec("E1204", "Carlos Mendes", "Americas", "National account manager", DANIEL, N, S,
         "Distributor sales in Brazil", ("Paraná Alimentos", "Verdemar Bebidas"), -0.9),
    Spec("E1205", "Ethan Clarke", "Americas", "National account manager", DANIEL, N, S,
         "Inside sales team lead", ("Summit Hardware Supply",), -1.35),
    Spec("E1206", "Ana Sofía Ruiz", "Americas", "Key account manager", DANIEL, N, S,
         "Channel sales in Mexico", ("Monterra Cementos", "Bajío Auto Parts"), -0.7),
    Spec("E1207", "Kevin O'Neill", "Americas", "Global account manager", DANIEL, G, S,
         "Account executive at a logistics firm",
         ("Silverline Freight", "Harborview Hospitals", "Prairie Wind Energy"), -0.4),
    Spec("E1208", "Hannah Weiss", "Americas", "National account manager", DANIEL, N, U,
         "CV on file says 'commercial roles'; details unknown", ("Cascadia Timber",), -0.9),
    # Mei Lin's team: APAC.
    Spec("E1301", "Kenji Watanabe", "APAC", "Senior global account manager", MEI, G, S,
         "Ran the Tokai region for a Japanese distributor",
         ("Tokaido Precision", "Sakurajima Components", "Hokuto Rail"), 0.4, "kenji.peer", 0.0),
    Spec("E1302", "Aditi Sharma", "APAC", "Global account manager", MEI, G, S,
         "Enterprise sales in Mumbai and Singapore",
         ("Indus Valley Textiles", "Lotusgate Semiconductors"), 0.15, "aditi.peer", -0.9),
    Spec("E1303", "Liam Nguyen", "APAC", "Global account manager", MEI, G, S,
         "Sales engineer, then regional sales", ("Mekong Beverages", "Harbourline Ports"),
         -0.45, "liam.peer", 0.4),
    Spec("E1304", "Sun-hee Park", "APAC", "National account manager", MEI, N, S,
         "Retail key accounts for five years", ("Hanbit Electronics", "Jeju Fresh Foods"), -0.65),
    Spec("E1305", "Ravi Iyer", "APAC", "National account manager", MEI, N, S,
         "Inside sales, then the Chennai customer desk", ("Coromandel Fertilisers",), -1.2),
    Spec("E1306", "Ben Harris", "APAC", "Key account manager", MEI, N, S,
         "Field sales in New South Wales", ("Southern Reach Mining", "Kiwi Harbour Foods"), -0.75),
    Spec("E1307", "Yuki Sato", "APAC", "Global account manager", MEI, G, S,
         "Export sales manager at a machinery maker",
         ("Fujimori Robotics", "Osaka Bay Chemicals"), -0.35),
    Spec("E1308", "Mateo Santos", "APAC", "Key account manager", MEI, N, S,
         "Transferred from the Manila sales office", ("Visayas Packaging",), -1.0),
    # Internal candidates for a national account role, assessed at an assessment centre.
    Spec("E1401", "Grace Liu", "EMEA", "Senior product marketing manager", "", N, OTH,
         "Marketing: led the launch of the Series 7 range", (), -0.95,
         kind=PersonKind.CANDIDATE),
    Spec("E1402", "Tom Becker", "Americas", "Applications engineering lead", "", N, OTH,
         "Engineering: twelve years supporting the largest customers on site", (), -1.25,
         kind=PersonKind.CANDIDATE),
    Spec("E1403", "Fatima Ali", "UK & Ireland", "Customer service team leader", "", N, OTH,
         "Customer service: runs the UK key-account service desk", (), -1.9,
         kind=PersonKind.CANDIDATE),
]  # fmt: skip
BY_REF = {p.ref: p for p in PEOPLE}
KAMS = [p for p in PEOPLE if p.manager]
CANDIDATES = [p for p in PEOPLE if p.kind == PersonKind.CANDIDATE]
TWO_PEERS = {"E1205", "E1208", "E1305", "E1308"}  # the min-peer rule hides their peers
SILENT_PEER = "E1107"  # three peers asked, one never answered
SILENT_SELF = "E1106"
LENIENCY = {"mia.manager": -0.1, "daniel.manager": 0.15, "mei.manager": 0.0}
OTHERS = {  # a customer-facing colleague who sees part of the work
    "chloe.service": ("E1101", "E1105", "E1107", "E1108"),
    "marco.supply": ("E1201", "E1204", "E1301", "E1304", "E1306"),
}
OTHER_KEYS = frozenset({
    "customer-focus", "trustworthy", "reputation-for-fulfilment", "communication", "listening",
    "problem-solving", "managing-conflict", "team-player", "detail-management",
})  # fmt: skip
PEER_UNSURE_SHARE = 0.35  # how often a peer cannot judge one of these
PEERS_UNSURE = {"financially-aware", "negotiation", "delegation", "calculated-risk-taking"}
ASSESSORS = ("arun.assessor", "connor.consultant")

# What a rater writes at a low (1-2), middle (3) and high (4-5) level; {a} is an account,
# {p} its possessive.
EVIDENCE = {
    "analytical": (
        "Quotes {p} volumes but has not asked why the margin fell; finance did the analysis.",
        "Tracks {p} sales and margin monthly and spots the trends; cost-to-serve needs help.",
        "Built the cost-to-serve model for {a} that showed which sites lose money; terms reset.",
    ),
    "networking": (
        "Contacts at {a} are the buyer and one planner; nobody above category level.",
        "Knows {p} buying and supply chain teams well; first meeting with their ops director.",
        "Known from the shop floor to the COO at {a}; invited to their supplier strategy day.",
    ),
    "knowledge": (
        "Still learning the range; relies on the technical team for most {a} questions.",
        "Knows our range and {p} plants well; less sure of their end markets and rivals.",
        "Explains {p} market, their customers and our supply chain better than anyone.",
    ),
    "influencing": (
        "Takes {p} requests back as given; has not yet changed a decision on either side.",
        "Got {a} to trial consignment stock after two attempts; internal influence patchier.",
        "Moved {p} board to a three-year sole-supply deal and got operations to back it.",
    ),
    "financially-aware": (
        "Agreed the {a} rebate without checking what it did to our margin.",
        "Understands the {a} account P&L and payment terms; needs finance for a business case.",
        "Built the {a} business case with their CFO's team, working capital on both sides.",
    ),
    "communication": (
        "Updates on {a} are long and miss the point; the team has to ask what is needed.",
        "Clear written updates on {a}; presenting to senior people is still a little nervous.",
        "The {a} quarterly review deck became the team template: short, clear, their language.",
    ),
    "vision-creativity": (
        "Runs {a} as it was handed over; no new ideas for the account this year.",
        "Suggested a joint packaging-waste project with {a}; still at the idea stage.",
        "Came up with the shared-inventory scheme that turned {a} from tenders to partnership.",
    ),
    "strategic": (
        "The {a} plan is a list of volume targets; no view of where the customer is heading.",
        "Sound one-year plan for {a}; the three-year view is still thin.",
        "Wrote a three-year plan with {p} supply director that both boards signed off.",
    ),
    "trustworthy": (
        "Promised {a} a delivery date operations had not agreed; the customer noticed.",
        "Reliable with {a}: does what was said and warns early when something slips.",
        "{p} buyers share their forecasts here before their own sales team sees them.",
    ),
    "detail-management": (
        "{a} contract amendments sat unsigned for weeks; two invoices disputed as a result.",
        "Keeps {p} CRM records and contract dates in order, with the odd reminder.",
        "Nothing on {a} slips: every action from the quarterly review is tracked and closed.",
    ),
    "tenacious": (
        "Dropped the {a} tender after the first rejection.",
        "Kept going through three rounds of {a} supplier audits.",
        "Spent eighteen months getting onto {p} approved list after others gave up; won it.",
    ),
    "problem-solving": (
        "Passes {p} quality complaints to the plant and waits.",
        "Sorted the {a} labelling problem with the plant and logistics within a week.",
        "Led the cross-functional fix for the recurring {a} line stoppages; none since March.",
    ),
    "drive": (
        "Does what is asked on {a}, rarely more.",
        "Hit the {a} targets for the year and is pushing for the next step.",
        "Sets {a} targets above the ones given and brings the account team along.",
    ),
    "credibility-experience": (
        "New to accounts of {p} size; their senior people still ask for the manager.",
        "Credible with {p} buyers and engineers; less so with their executives so far.",
        "{p} executives treat this as advice from an industry expert, not a supplier pitch.",
    ),
    "negotiation": (
        "Conceded 4% to {a} in the first meeting and got nothing in return.",
        "Held the {a} price rise at 3.5% against a 5% ask, traded for a longer contract.",
        "Closed the {a} framework deal: committed volume, index-linked prices, no new rebate.",
    ),
    "listening": (
        "In {a} meetings talks more than the customer and misses what they ask for.",
        "Listens well to {p} buyers; sometimes jumps to our solution too soon.",
        "Picked up the sustainability worry at {a} that nobody else had noticed.",
    ),
    "delegation": (
        "Chases {a} orders personally instead of using the service team.",
        "Hands {a} service tasks to the customer team and checks in weekly.",
        "Built an {a} account team across four functions that runs without hand-holding.",
    ),
    "reputation-for-fulfilment": (
        "Two commitments to {a} were missed in 2025 and not flagged.",
        "Known for delivering what is promised to {a}, mostly on time.",
        "When a commitment is made to {a}, operations plan around it: it always lands.",
    ),
    "calculated-risk-taking": (
        "Avoids any {a} proposal that needs sign-off above the manager.",
        "Proposed the {a} pilot with a clear fall-back if the volumes did not come.",
        "Took the {a} capacity bet with a written downside case; paid back in nine months.",
    ),
    "open-mindedness": (
        "Dismissed {p} idea of vendor-managed inventory without looking at it.",
        "Open to {p} proposals once the numbers are on the table.",
        "Changed the {a} approach after hearing the plant team's objections; better for it.",
    ),
    "sharing": (
        "What is known about {a} stays in personal notes; colleagues hear late.",
        "Shares {a} news in the team meeting when asked.",
        "Wrote the {a} lessons-learned note the whole team now uses.",
    ),
    "team-player": (
        "Works {a} alone; colleagues in other countries are not kept in the loop.",
        "Works well with the service and plant teams when {a} has a problem.",
        "Covered a colleague's accounts for three months while running {a}.",
    ),
    "assertiveness": (
        "Agreed to {p} extra service demands without pushing back.",
        "Said no to an unpaid {a} trial, politely and with reasons.",
        "Told our production director the {a} plan would fail as written, and was right.",
    ),
    "resilience": (
        "Losing the {a} tender round knocked confidence for weeks.",
        "Recovered well after the {a} volume cut and kept the relationship going.",
        "Steady through the {a} recall: calm with the customer, calm with the plant.",
    ),
    "customer-focus": (
        "Sees {a} through our product list rather than their needs.",
        "Knows what {a} values and checks the service levels every month.",
        "Reshaped our delivery model around {p} new plants before they asked.",
    ),
    "managing-conflict": (
        "Let the {a} invoicing dispute reach their CFO before acting.",
        "Settled the {a} pricing dispute between our plant and their buyers.",
        "Brokered the {a} settlement between both legal teams without losing the account.",
    ),
}
CONTEXTS = (
    " Seen at the {a} quarterly review.",
    " Came up again in the {a} account review.",
    " Same picture on {a}.",
    " Observed on the {a} site visit.",
)
CANDIDATE_CASE = "Assessment centre, {a} case study. "

# Psychometric providers (fictional): name, instrument, scale, {attribute: their scale name}.
NORTHFIELD = ("Northfield Assessments", "Northfield Work Styles Inventory", "sten", {
    "drive": "Achievement drive", "resilience": "Composure under pressure",
    "tenacious": "Persistence", "open-mindedness": "Openness to ideas",
    "team-player": "Collaboration", "sharing": "Knowledge sharing",
    "customer-focus": "Service orientation", "calculated-risk-taking": "Prudent risk",
    "trustworthy": "Integrity", "detail-management": "Conscientiousness",
})  # fmt: skip
PRAXIS = ("Praxis Talent", "Praxis Leadership Potential Profile", "percentile", {
    "vision-creativity": "Conceptual thinking", "influencing": "Persuasion",
    "networking": "Social boldness", "strategic": "Strategic reasoning",
    "analytical": "Numerical reasoning", "assertiveness": "Assertiveness",
    "listening": "Empathic listening", "managing-conflict": "Conflict handling",
})  # fmt: skip
TESTED = (  # provider, people, when
    (NORTHFIELD, ("E1101", "E1102", "E1103", "E1104", "E1105", "E1106", "E1107", "E1108",
                  "E1201", "E1202", "E1301", "E1302"), dt.date(2025, 4, 8)),
    (PRAXIS, ("E1101", "E1102", "E1204", "E1207", "E1303", "E1304", "E1307"),
     dt.date(2025, 9, 16)),
    (NORTHFIELD, ("E1401", "E1402", "E1403"), dt.date(2025, 10, 14)),
    (PRAXIS, ("E1401", "E1402", "E1403"), dt.date(2025, 10, 14)),
)  # fmt: skip
QUICK_CHECKS = {  # person: (who answers, note)
    "E1101": ("mia.manager", "Strong with Baltra's buyers; not yet in front of their board."),
    "E1103": ("mia.manager", "Sells hard; the account plans are thin."),
    "E1105": ("mia.manager", ""),
    "E1106": ("mia.manager", "Knows the water industry inside out."),
    "E1107": ("mia.manager", "Needs support on the Corrib renewal."),
    "E1108": ("mia.manager", ""),
    "E1204": ("hana.hr", "Answered from the 2025 review notes."),
    "E1205": ("hana.hr", ""),
    "E1304": ("hana.hr", ""),
    "E1306": ("hana.hr", "Several answers left open: ask Mei Lin."),
}
RELEASED = ("E1101", "E1102", "E1105", "E1201", "E1303")
DONE, BUSY, WAITING = ActionStatus.DONE, ActionStatus.IN_PROGRESS, ActionStatus.PLANNED
PLANS = {  # person: status of the first actions (the others stay planned); first three released
    "E1101": (DONE, DONE, BUSY),
    "E1105": (DONE, BUSY),
    "E1303": (DONE, BUSY),
    "E1204": (BUSY,),
    "E1107": (WAITING,),  # due in September and not started: late
    "E1306": (DONE,),
}
PROGRESS = {  # action type: (note in progress, note when done); {a} account, {m} manager
    "course": (
        "First module done; the rest is booked for January.",
        "Done in May; used it on {a}.",
    ),
    "workshop": ("First day done, second booked.", "Done; three decisions for {a} came of it."),
    "e-learning": ("Half the modules done.", "All modules done; summary shared with {m}."),
    "practice": ("Under way on {a}; {m} reviewed the first draft.", "Presented on {a}."),
    "coaching": ("Monthly sessions with {m} since April.", "Six sessions done; {a} went well."),
    "mentoring": ("Paired with Lena Fischer; met three times.", "Mentoring closed in August."),
    "stretch-assignment": ("Leading the {a} supplier day.", "Led the {a} supplier day in May."),
    "shadowing": ("Two days with Kenji Watanabe's team so far.", "Done; write-up sent to {m}."),
    "feedback": ("Asked three colleagues after the {a} review.", "Discussed the themes with {m}."),
}
DUE = {DONE: dt.date(2026, 6, 30), BUSY: dt.date(2027, 1, 29), WAITING: dt.date(2026, 9, 30)}
GAIN = {DONE: 1.0, BUSY: 0.7}  # how much an action moved the level by the mid-year check
MID_YEAR_TEAM = MIA
MID_YEAR_SUBMITTED = ("E1101", "E1102", "E1104", "E1105")  # Mia's submitted manager forms
MID_YEAR_DRAFT = "E1103"
MID_YEAR_SELF = ("E1102", "E1103")


def load_demo_people(org: Organisation, *, password: str, hashed: str = "") -> None:
    """Create the demo team, its cycles, results and plans, once.

    ``hashed`` is ``password`` already hashed by the caller, if it has it: hashing is slow
    on purpose, so the demo hashes its one shared password once.
    """
    version = (
        ProfileVersion.objects.filter(
            profile__organisation=org, profile__key=GLOBAL, status=ProfileStatus.PUBLISHED
        )
        .order_by("-number")
        .first()
    )
    if version is None:
        return
    users = _accounts(org, password, hashed)
    if Person.objects.filter(organisation=org).exists():
        return
    hr = users["hana.hr"]
    assess.upsert_people(org, hr, [_person_input(p) for p in PEOPLE])
    demo = _Demo(org, version, users, np.random.default_rng(SEED))
    review = demo.review()
    demo.quick_checks()
    improved = demo.plans(review)
    demo.mid_year(improved)


def demo_member(
    org: Organisation, account: tuple[str, str, str, str], *, password: str, hashed: str
) -> tuple[User, str]:
    """A demo account with its role in ``org``, created once; return it and the hash.

    Every demo account shares one password, hashed once (hashing is slow on purpose):
    pass back the returned hash for the next account.
    """
    username, first, last, role = account
    user_model = get_user_model()
    user = user_model.objects.filter(username=username).first()
    if user is None:
        hashed = hashed or make_password(password)
        user = user_model.objects.create_user(
            username=username,
            first_name=first,
            last_name=last,
            email=f"{username}@example.com",
        )
        user.password = hashed
        user.save(update_fields=["password"])
    Membership.objects.get_or_create(user=user, organisation=org, defaults={"role": role})
    return user, hashed


def _accounts(org: Organisation, password: str, hashed: str) -> dict[str, User]:
    """Create the extra member accounts the raters need; return every member by username."""
    for account in ACCOUNTS:
        _user, hashed = demo_member(org, account, password=password, hashed=hashed)
    memberships = Membership.objects.filter(organisation=org).select_related("user")
    return {m.user.username: m.user for m in memberships}


def _person_input(p: Spec) -> PersonInput:
    return PersonInput(
        reference=p.ref,
        name=p.name,
        email=f"{p.username}@example.com"
        if p.username
        else f"{slugify(p.name).replace('-', '.')}@acme-supplies.example",
        kind=p.kind,
        job_title=p.title,
        unit=p.unit,
        manager=p.manager,
        background=p.background,
        background_note=p.note,
        profile=p.profile,
        username=p.username,
        accounts=p.accounts,
    )


@dataclass(frozen=True)
class RaterPlan:
    """One rater's part in a cycle: who, as what, how lenient, and how the form arrives."""

    ref: str
    username: str
    source: str
    bias: float
    how: str  # "import" (bulk, by HR), "form" (filled in kamfit), "silent" (never answered)
    keys: frozenset[str] | None = None  # the requirements this rater can judge; None: all


class _Demo:
    """The demo build: shared model of the truth, and one method per part."""

    def __init__(
        self,
        org: Organisation,
        version: ProfileVersion,
        users: Mapping[str, User],
        rng: np.random.Generator,
    ) -> None:
        self.org, self.version, self.users, self.rng = org, version, users, rng
        self.hr = users["hana.hr"]
        self.people = {p.reference: p for p in Person.objects.filter(organisation=org)}
        requirements = list(
            Requirement.objects.filter(version=version, included=True)
            .select_related("competency")
            .order_by("position", "id")
        )
        self.required = {r.competency.key: r.required_level for r in requirements}
        self.names = {r.competency.key: r.competency.name for r in requirements}
        kinds = {r.competency.key: r.competency.kind for r in requirements}
        self.levels = len(get_scale(version.framework_version))
        self.truth = {
            p.ref: {
                key: level
                + p.ability * _spread(kinds[key], p.ability)
                + float(rng.normal(0, 0.25 if kinds[key] == "A" else 0.45))
                for key, level in self.required.items()
            }
            for p in PEOPLE
            if p.manager or p.kind == PersonKind.CANDIDATE
        }

    # --- ratings ------------------------------------------------------------------

    def _level(self, truth: float, bias: float) -> int:
        value = truth + bias + float(self.rng.normal(0, 0.5))
        return int(min(max(round(value), 1), self.levels))

    def _evidence(self, ref: str, key: str, level: int, candidate: bool) -> str:
        accounts = BY_REF[ref].accounts or _unit_accounts(BY_REF[ref].unit)
        account = accounts[int(self.rng.integers(len(accounts)))]
        texts = EVIDENCE.get(key)
        band = 0 if level <= 2 else 1 if level == 3 else 2
        if texts is None:
            text = f"{self.names.get(key, key)}: level {level}, seen on {account}."
        else:
            text = texts[band].format(a=account, p=_possessive(account))
        if candidate:
            return CANDIDATE_CASE.format(a=account) + text
        if self.rng.random() < 0.25:
            other = accounts[int(self.rng.integers(len(accounts)))]
            text += CONTEXTS[int(self.rng.integers(len(CONTEXTS)))].format(a=other)
        return text

    def answers(
        self, plan: RaterPlan, truth: Mapping[str, float], *, only: int | None = None
    ) -> dict[str, RatingInput]:
        """A rater's form for one person, drawn from ``truth`` (``only``: the first n)."""
        leniency = plan.bias + float(self.rng.normal(0, 0.2))
        candidate = BY_REF[plan.ref].kind == PersonKind.CANDIDATE
        out: dict[str, RatingInput] = {}
        for key in list(self.required)[:only]:
            if plan.keys is not None and key not in plan.keys:
                continue
            unsure = plan.source == Source.PEER and key in PEERS_UNSURE
            if unsure and self.rng.random() < PEER_UNSURE_SHARE:
                out[key] = RatingInput(None)  # cannot judge
                continue
            level = self._level(truth[key], leniency)
            out[key] = RatingInput(level, self._evidence(plan.ref, key, level, candidate))
        return out

    def _submit(
        self, cycle: Cycle, plan: RaterPlan, truth: Mapping[str, float], *, draft: bool = False
    ) -> None:
        """Fill a rater's form in kamfit, as the rater (a draft keeps half the answers)."""
        rater = Rater.objects.get(
            assessee__cycle=cycle,
            assessee__person=self.people[plan.ref],
            user=self.users[plan.username],
        )
        user = self.users[plan.username]
        form = assess.draft_form(rater, user)
        half = len(self.required) // 2 if draft else None
        assess.save_form(form, user, self.answers(plan, truth, only=half), submit=not draft)

    def _raters(self, p: Spec) -> list[RaterPlan]:
        """Who rates ``p`` in the 2025 review."""
        if p.kind == PersonKind.CANDIDATE:
            return [RaterPlan(p.ref, u, Source.OTHER, 0.0, "import") for u in ASSESSORS]
        plans = []
        if p.username:
            how = "form" if p.username == "paula.participant" else "import"
            how = "silent" if p.ref == SILENT_SELF else how
            plans.append(RaterPlan(p.ref, p.username, Source.SELF, p.self_bias, how))
        manager = BY_REF[p.manager].username
        how = "form" if manager == "mia.manager" else "import"
        plans.append(RaterPlan(p.ref, manager, Source.MANAGER, LENIENCY[manager], how))
        for i, peer in enumerate(self._peers(p)):
            how = "silent" if p.ref == SILENT_PEER and i == 0 else "import"
            plans.append(RaterPlan(p.ref, peer, Source.PEER, 0.15, how))
        for username, refs in OTHERS.items():
            if p.ref in refs:
                plans.append(RaterPlan(p.ref, username, Source.OTHER, 0.0, "import", OTHER_KEYS))
        return plans

    def _peers(self, p: Spec) -> list[str]:
        """Account-holding colleagues: the same team first, then from other teams."""
        holders = [k for k in KAMS if k.username and k.ref != p.ref]
        team = [k.username for k in holders if k.manager == p.manager]
        rest = [k.username for k in holders if k.manager != p.manager]
        self.rng.shuffle(team)
        self.rng.shuffle(rest)
        return (team + rest)[: 2 if p.ref in TWO_PEERS else 3]

    # --- the parts ------------------------------------------------------------------

    def review(self) -> Cycle:
        """The closed 2025 review: everyone in key accounts and three candidates."""
        cycle = assess.create_cycle(
            self.org,
            self.hr,
            title=REVIEW,
            profile_version=self.version,
            due_on=dt.date(2025, 11, 28),
            note="Everyone in key accounts against the global account manager profile; "
            "candidates through the October assessment centre.",
        )
        people = [self.people[p] for p in self.truth]
        assess.add_people(cycle, self.hr, people)
        plans = [plan for p in PEOPLE if p.ref in self.truth for plan in self._raters(p)]
        assessees = {a.person.reference: a for a in cycle.assessees.select_related("person")}
        for plan in plans:
            if plan.how == "silent" and plan.source != Source.SELF:
                assess.add_rater(
                    assessees[plan.ref], self.hr, username=plan.username, source=plan.source
                )
        assess.open_cycle(cycle)
        rows = [
            ImportedRating(plan.ref, plan.username, plan.source, key, a.level, a.evidence)
            for plan in plans
            if plan.how == "import"
            for key, a in self.answers(plan, self.truth[plan.ref]).items()
        ]
        assess.import_ratings(cycle, self.hr, rows, reason="Collected in the survey tool")
        for plan in plans:
            if plan.how == "form":
                self._submit(cycle, plan, self.truth[plan.ref])
        self._amend(cycle)
        self.psychometrics()  # imported while the review is open, so they count in it
        return assess.close_cycle(cycle)

    def _amend(self, cycle: Cycle) -> None:
        """Mia corrects one submitted form after the calibration meeting."""
        mia = self.users["mia.manager"]
        rater = Rater.objects.get(
            assessee__cycle=cycle, assessee__person__reference="E1105", user=mia
        )
        form = assess.amend_form(
            rater,
            mia,
            reason="Calibration meeting: the negotiation evidence was for another account",
        )
        answers = {
            r.competency.key: RatingInput(r.level, r.evidence)
            for r in form.ratings.select_related("competency")
        }
        answers["negotiation"] = RatingInput(
            3, "Held the Dunvale price rise at 3.5% against a 5% ask, traded for a longer contract."
        )
        assess.save_form(form, mia, answers, submit=True)

    def psychometrics(self) -> None:
        """Results for the attributes from two providers, on their own scales."""
        rows = []
        for (provider, instrument, scale, scales), refs, when in TESTED:
            for ref in refs:
                for key, name in scales.items():
                    if key not in self.required:
                        continue
                    level = self.truth[ref][key] + float(self.rng.normal(0, 0.4))
                    sten = min(max(1 + (level - 1) * 9 / (self.levels - 1), 1.0), 10.0)
                    value = round(sten) if scale == "sten" else _percentile(sten)
                    rows.append(
                        assess.PsychometricInput(
                            ref, key, provider, scale, value, when, instrument, name
                        )
                    )
        assess.save_psychometrics(self.org, self.hr, rows)

    def quick_checks(self) -> None:
        """The SBI quick check for ten KAMs, by their manager or HR."""
        questions = [q.key for q in development.shipped_quick_check().questions]
        for ref, (username, note) in QUICK_CHECKS.items():
            unsure = 0.25 if username == "hana.hr" else 0.03
            answers: dict[str, bool | None] = {}
            for i, key in enumerate(questions):
                chance = 1 / (1 + math.exp(-3 * (BY_REF[ref].ability + 0.7) + 0.3 * (i % 3)))
                roll = self.rng.random()
                answers[key] = None if roll < unsure else bool(self.rng.random() < chance)
            assess.record_quick_check(self.people[ref], self.users[username], answers, note=note)

    def plans(self, cycle: Cycle) -> dict[str, dict[str, float]]:
        """Release five results, make six plans; return the gains: {person: {key: levels}}."""
        assessees = {a.person.reference: a for a in cycle.assessees.select_related("person")}
        assess.release_results(cycle, self.hr, [assessees[r] for r in RELEASED])
        gains: dict[str, dict[str, float]] = {}
        for ref, steps in PLANS.items():
            spec = BY_REF[ref]
            manager = self.users[BY_REF[spec.manager].username]
            owner = self.users[spec.username] if spec.username else manager
            plan = develop.create_plan(
                assessees[ref], self.hr, owner=owner, due_on=dt.date(2026, 12, 31)
            )
            actions = plan.actions.order_by("position")[: len(steps)]
            for i, (action, status) in enumerate(zip(actions, steps, strict=True)):
                develop.update_action(action, self.hr, _moved(action, DUE[status], owner))
                if status == WAITING:
                    continue
                notes = PROGRESS.get(action.action_type, ("Started.", "Done."))
                account = (spec.accounts or ("the account",))[i % max(len(spec.accounts), 1)]
                note = notes[status == DONE].format(a=account, m=manager.first_name)
                develop.update_progress(action, owner, status=status, progress_note=note)
                gains.setdefault(ref, {})[action.competency_key] = GAIN[status]
        return gains

    def mid_year(self, gains: Mapping[str, Mapping[str, float]]) -> None:
        """The open mid-year check of Mia's team: some forms in, some waiting."""
        cycle = assess.create_cycle(
            self.org,
            self.hr,
            title=MID_YEAR,
            profile_version=self.version,
            due_on=dt.date(2026, 12, 11),
            note="Mid-year check of the EMEA and UK & Ireland team before the 2027 plans.",
        )
        team = [p for p in KAMS if p.manager == MID_YEAR_TEAM]
        assess.add_people(cycle, self.hr, [self.people[p.ref] for p in team])
        paula = cycle.assessees.get(person__reference=PAULA)
        peers = [p.username for p in team if p.username and p.ref != PAULA]
        for username in peers:
            assess.add_rater(paula, self.hr, username=username, source=Source.PEER)
        assess.open_cycle(cycle)
        truth = {
            ref: {k: v + gains.get(ref, {}).get(k, 0.1) for k, v in t.items()}
            for ref, t in self.truth.items()
        }
        for username in peers:
            self._submit(cycle, RaterPlan(PAULA, username, Source.PEER, 0.15, "form"), truth[PAULA])
        for ref in MID_YEAR_SUBMITTED:
            plan = RaterPlan(ref, "mia.manager", Source.MANAGER, LENIENCY["mia.manager"], "form")
            self._submit(cycle, plan, truth[ref])
        plan = RaterPlan(
            MID_YEAR_DRAFT, "mia.manager", Source.MANAGER, LENIENCY["mia.manager"], "form"
        )
        self._submit(cycle, plan, truth[MID_YEAR_DRAFT], draft=True)
        for ref in MID_YEAR_SELF:
            spec = BY_REF[ref]
            plan = RaterPlan(ref, spec.username, Source.SELF, spec.self_bias, "form")
            self._submit(cycle, plan, truth[ref])


def _spread(kind: str, ability: float) -> float:
    """How far a person's ability moves requirements of ``kind`` from the required level.

    Skills that training builds (C) differ most between people; attributes (A) differ
    little among those already in key account roles, and only the weakest fall short on
    them too, which is what keeps someone "not yet" rather than "ready with development".
    """
    if kind == "C":
        return 1.6
    if kind == "A":
        return 1.0 if ability <= WEAK else 0.3
    return 1.0


def _possessive(name: str) -> str:
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def _unit_accounts(unit: str) -> tuple[str, ...]:
    """Accounts of a unit's KAMs: what a candidate's assessment-centre cases are about."""
    return tuple(a for p in KAMS if p.unit == unit for a in p.accounts)


def _percentile(sten: float) -> int:
    """The percentile a sten stands for (normal scores, mean 5.5, SD 2), 1 to 99."""
    share = 0.5 * (1 + math.erf((sten - 5.5) / 2 / math.sqrt(2)))
    return int(min(max(round(100 * share), 1), 99))


def _moved(action: Action, due_on: dt.date, owner: User) -> develop.ActionInput:
    """The action as it is, with a new due date."""
    return develop.ActionInput(
        competency=action.competency_key,
        title=action.title,
        action_type=action.action_type,
        description=action.description,
        owner=owner.username,
        due_on=due_on,
        status=action.status,
    )
