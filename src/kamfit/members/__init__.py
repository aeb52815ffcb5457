"""Organisation members, invitations by e-mail and personal API tokens."""
