"""The app's three secrets: the session key, the code key and the ballot key.

* ``SECRET_KEY`` signs session cookies and form tokens.
* ``CODE_KEY`` (``CEPING_CODE_KEY``) turns a printed code into the hash the
  database stores; changing it invalidates every printed slip.
* ``BALLOT_KEY`` (``CEPING_BALLOT_KEY``) seals ballots in the box until they are
  counted (surveys/seal.py). The database never holds it: whoever reads the
  database alone sees ciphertext in the box. Losing it loses the sealed ballots
  not yet counted — the box stays small for that reason.

In production (``CEPING_ENV=production``) all three come from the environment
and must differ from one another: a leaked session key then opens no ballot.
Anywhere else a missing session or ballot key is generated once into the
instance folder (mode 0600) and read back on every start, so the README's run
never serves with a key printed in this repository, and two processes starting
together agree on one key.
"""
from __future__ import annotations

import os
import secrets
from typing import Optional

from flask import Flask

#: The value Config used to fall back to; refused everywhere now, kept so old settings fail loudly.
DEFAULT_SECRET = "dev-only-change-me"


def configure_keys(app: Flask) -> None:
    """Fill SECRET_KEY, CODE_KEY and BALLOT_KEY in ``app.config``, or refuse to start."""
    config = app.config
    if os.environ.get("CEPING_ENV") == "production":
        _require_production_keys(config)
        return
    if not config.get("SECRET_KEY") or config["SECRET_KEY"] == DEFAULT_SECRET:
        config["SECRET_KEY"] = instance_secret(app.instance_path, "secret_key")
    # Codes printed before a session-key rotation keep working only when CODE_KEY is set on its own;
    # outside production it defaults to the session key, as it always has.
    config["CODE_KEY"] = config.get("CODE_KEY") or config["SECRET_KEY"]
    if not config.get("BALLOT_KEY"):
        config["BALLOT_KEY"] = instance_secret(app.instance_path, "ballot_key")


def _require_production_keys(config) -> None:
    """Production: every key set in the environment, none the published default, all distinct."""
    secret, code, ballot = config.get("SECRET_KEY"), config.get("CODE_KEY"), config.get("BALLOT_KEY")
    if not secret or secret == DEFAULT_SECRET:
        raise RuntimeError("SECRET_KEY must be set in production (CEPING_ENV=production).")
    if not code:
        raise RuntimeError("CEPING_CODE_KEY must be set in production (CEPING_ENV=production).")
    if not ballot:
        raise RuntimeError("CEPING_BALLOT_KEY must be set in production (CEPING_ENV=production).")
    if len({secret, code, ballot}) != 3:
        raise RuntimeError("SECRET_KEY, CEPING_CODE_KEY and CEPING_BALLOT_KEY must all differ in production.")


def instance_secret(folder: str, name: str) -> str:
    """The secret stored in ``folder/name``, created (mode 0600, 256 random bits) if absent.

    Written to a private temporary file and linked into place: the link fails if
    another process got there first, and both then read the one file that won.
    """
    path = os.path.join(folder, name)
    existing = _read(path)
    if existing:
        return existing
    os.makedirs(folder, exist_ok=True)
    temporary = f"{path}.{os.getpid()}.{secrets.token_hex(4)}"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(32) + "\n")
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
    finally:
        os.unlink(temporary)
    value = _read(path)
    if not value:
        raise RuntimeError(f"could not create the key file {path}")
    return value


def _read(path: str) -> Optional[str]:
    try:
        with open(path, encoding="ascii") as handle:
            return handle.read().strip() or None
    except FileNotFoundError:
        return None
