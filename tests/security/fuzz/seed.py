"""Seed the API fuzzer's data and write its identities.

``python -m tests.security.fuzz.seed --out identities.json`` loads the demo (the
Warwick framework and Acme, with one account per role and a year of assessment data)
into the database the environment names, adds a member of Northwind (the demo's second
organisation) and a consultant assigned only to Northwind, and issues one API token per
identity. It writes a Web Fuzzing Commons authentication file: one entry per identity,
each with its ``Authorization: Bearer …`` header; Schemathesis reads it with
``--auth-wfc`` and ``--auth-wfc-user``.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

# (name, username, organisation slug, role): the first five are Acme's own demo accounts.
IDENTITIES = (
    ("acme-hr", "hana.hr", "acme-supplies", "hr"),
    ("acme-owner", "olivia.owner", "acme-supplies", "owner"),
    ("acme-manager", "mia.manager", "acme-supplies", "manager"),
    ("acme-assessor", "arun.assessor", "acme-supplies", "assessor"),
    ("acme-participant", "paula.participant", "acme-supplies", "participant"),
    ("northwind-hr", "nora.northwind", "northwind", "hr"),
    ("unassigned-consultant", "uma.unassigned", "northwind", "consultant"),
)


def seed() -> dict[str, object]:
    """Load the data; return the WFC document with one token per identity."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kamfit.web.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    from kamfit.demo import load_demo
    from kamfit.members.tokens import issue_token
    from kamfit.orgs.models import Membership, Organisation

    load_demo()
    users = get_user_model().objects
    auth = []
    for name, username, slug, role in IDENTITIES:
        org = Organisation.objects.get(slug=slug)
        user, _ = users.get_or_create(username=username)
        Membership.objects.get_or_create(user=user, organisation=org, defaults={"role": role})
        _token, secret = issue_token(user, org, f"fuzz {name}", days=1)
        auth.append(
            {
                "name": name,
                "fixedHeaders": [{"name": "Authorization", "value": f"Bearer {secret}"}],
            }
        )
    return {"schemaVersion": "0.1.0", "auth": auth}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    args.out.write_text(json.dumps(seed(), indent=2), "utf-8")


if __name__ == "__main__":
    main()
