"""Accounts: sign-in and sessions, organiser accounts, API tokens, permissions and the audit log."""
