"""The oracle of T7: who may see what, written from the documentation alone.

This module deliberately imports nothing from kamfit. It models the state the state
machine builds (organisations, users, memberships, people, cycles, raters, releases)
as plain Python, and answers, for a user and an API request, the status code and the
ids a list must hold, from the rules written in:

- ``docs/user/assessments.md`` "Who sees what" and "Releasing results";
- ``docs/user/organisations.md`` "Data isolation" (another organisation's objects and
  organisations you are not a member of answer 404, your role's refusals 403);
- ``docs/user/members.md`` (the members list: owner and HR only);
- ``docs/security/permission-matrix.md`` (the API's rows for these routes; anonymous
  API calls answer 401);
- ``docs/security/accounts.md`` / RELIABILITY A9 (deactivation and removal from an
  organisation end the user's sessions at once).

If kamfit's code and this model disagree, one of them is wrong: the test prints the
steps that led there.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# docs/user/assessments.md, "Who sees what": owner, HR, director and consultant keep
# people and cycles and read every result; line manager, assessor and participant do not.
MANAGE_PEOPLE = frozenset({"owner", "hr", "director", "consultant"})
# docs/user/members.md: the members page (and its API) belongs to owner and HR.
MANAGE_MEMBERS = frozenset({"owner", "hr"})
ROLES = ("owner", "hr", "director", "manager", "assessor", "participant", "consultant")

OK = 200
UNAUTHENTICATED = 401  # the API's answer without a live session (Bearer challenge)
FORBIDDEN = 403
HIDDEN = 404


@dataclass(frozen=True)
class Answer:
    """What an API request must answer: a status, and for a 200 list the ids it holds."""

    status: int
    ids: frozenset[object] | None = None


@dataclass
class UserM:
    username: str
    active: bool = True
    signed_in: bool = True


@dataclass
class PersonM:
    org: int
    reference: str
    user: int | None = None
    manager: int | None = None  # a person's pk


@dataclass
class CycleM:
    org: int
    status: str = "draft"  # draft → open → closed


@dataclass
class RaterM:
    cycle: int
    person: int
    user: int
    source: str
    submitted: bool = False


@dataclass
class World:
    """Everything the oracle knows, keyed by the database ids the API uses."""

    orgs: dict[int, str] = field(default_factory=dict)  # pk → slug
    users: dict[int, UserM] = field(default_factory=dict)
    roles: dict[tuple[int, int], str] = field(default_factory=dict)  # (user, org) → role
    memberships: dict[tuple[int, int], int] = field(default_factory=dict)  # → membership pk
    people: dict[int, PersonM] = field(default_factory=dict)
    cycles: dict[int, CycleM] = field(default_factory=dict)
    released: dict[tuple[int, int], bool] = field(default_factory=dict)  # (cycle, person)
    raters: dict[int, RaterM] = field(default_factory=dict)

    # --- who is asking --------------------------------------------------------------

    def signed_in(self, user: int) -> bool:
        """A request carries a live session: the user is active and was not signed out."""
        u = self.users[user]
        return u.active and u.signed_in

    def role(self, user: int, org: int) -> str | None:
        """The user's role in ``org``, or None for a non-member."""
        return self.roles.get((user, org))

    def _gate(self, user: int, org: int) -> Answer | None:
        """401 without a session, 404 for an organisation the user is not a member of."""
        if not self.signed_in(user):
            return Answer(UNAUTHENTICATED)
        if self.role(user, org) is None:
            return Answer(HIDDEN)
        return None

    # --- the rules ------------------------------------------------------------------

    def sees_person(self, user: int, person: int) -> bool:
        """Managers of people see everyone; others themself and their direct reports."""
        p = self.people[person]
        if self.role(user, p.org) in MANAGE_PEOPLE:
            return True
        if p.user == user:
            return True
        return p.manager is not None and self.people[p.manager].user == user

    def reads_result(self, user: int, cycle: int, person: int) -> bool:
        """Every result for managers of people; the person's own and their line
        manager's direct reports' only once released."""
        c = self.cycles[cycle]
        if (cycle, person) not in self.released:
            return False
        if self.role(user, c.org) in MANAGE_PEOPLE:
            return True
        if not self.released[(cycle, person)]:
            return False
        p = self.people[person]
        if p.user == user:
            return True
        return p.manager is not None and self.people[p.manager].user == user

    # --- the API's answers ----------------------------------------------------------

    def organisations(self, user: int) -> Answer:
        if not self.signed_in(user):
            return Answer(UNAUTHENTICATED)
        mine = {(self.orgs[o], role) for (u, o), role in self.roles.items() if u == user}
        return Answer(OK, frozenset(mine))

    def people_list(self, user: int, org: int) -> Answer:
        if (gate := self._gate(user, org)) is not None:
            return gate
        ids = {pk for pk, p in self.people.items() if p.org == org and self.sees_person(user, pk)}
        return Answer(OK, frozenset(ids))

    def person_detail(self, user: int, org: int, person: int) -> Answer:
        if (gate := self._gate(user, org)) is not None:
            return gate
        if self.people[person].org != org or not self.sees_person(user, person):
            return Answer(HIDDEN)
        return Answer(OK)

    def cycle_list(self, user: int, org: int) -> Answer:
        if (gate := self._gate(user, org)) is not None:
            return gate
        if self.role(user, org) not in MANAGE_PEOPLE:
            return Answer(FORBIDDEN)
        return Answer(OK, frozenset(pk for pk, c in self.cycles.items() if c.org == org))

    def cycle_detail(self, user: int, org: int, cycle: int) -> Answer:
        if (gate := self._gate(user, org)) is not None:
            return gate
        if self.cycles[cycle].org != org:
            return Answer(HIDDEN)  # another organisation's id: 404 before any 403
        if self.role(user, org) not in MANAGE_PEOPLE:
            return Answer(FORBIDDEN)
        return Answer(OK)

    def result(self, user: int, org: int, cycle: int, person: int) -> Answer:
        if (gate := self._gate(user, org)) is not None:
            return gate
        if self.cycles[cycle].org != org or not self.reads_result(user, cycle, person):
            return Answer(HIDDEN)
        return Answer(OK)

    def my_forms(self, user: int, org: int) -> Answer:
        if (gate := self._gate(user, org)) is not None:
            return gate
        ids = {pk for pk, r in self.raters.items() if r.user == user and self._org_of(r) == org}
        return Answer(OK, frozenset(ids))

    def form_detail(self, user: int, org: int, rater: int) -> Answer:
        if (gate := self._gate(user, org)) is not None:
            return gate
        r = self.raters[rater]
        if r.user != user or self._org_of(r) != org:
            return Answer(HIDDEN)  # someone else's form answers as if it did not exist
        return Answer(OK)

    def gone(self, user: int, org: int) -> Answer:
        """Something deleted: 404 to everyone (401 without a session)."""
        return self._gate(user, org) or Answer(HIDDEN)

    def member_list(self, user: int, org: int) -> Answer:
        if (gate := self._gate(user, org)) is not None:
            return gate
        if self.role(user, org) not in MANAGE_MEMBERS:
            return Answer(FORBIDDEN)
        ids = {pk for (_, o), pk in self.memberships.items() if o == org}
        return Answer(OK, frozenset(ids))

    def _org_of(self, rater: RaterM) -> int:
        return self.cycles[rater.cycle].org
