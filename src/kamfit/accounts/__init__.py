"""Accounts: sign-in, two-factor authentication, sessions, passwords and lockout."""
