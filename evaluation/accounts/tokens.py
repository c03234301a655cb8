"""API tokens: created for an account, shown once, stored only as a SHA-256 hash.

A token is ``cp_`` followed by 32 random bytes in URL-safe base64 (256 bits), so an
unsalted SHA-256 is enough: nobody can guess a token from its hash, and looking the
hash up through a unique index reveals nothing about the plain token through timing
(the comparison happens on hashes of the attacker's guess, never on the secret).
"""
from __future__ import annotations

import hashlib
import secrets
from typing import Optional

from sqlalchemy import select, update

from extensions import db
from models import ApiToken, User

from evaluation.accounts.audit import record
from evaluation.services import ServiceError

TOKEN_PREFIX = "cp_"
#: Longest header value worth hashing; a real token is 46 characters.
MAX_TOKEN_LENGTH = 200


def hash_token(plain: str) -> str:
    """The stored form of a token: SHA-256 as 64 hex digits."""
    return hashlib.sha256(plain.encode("utf-8")).hexdigest()


def create_token(username: str) -> str:
    """Create a token for an active account and return it in plain (the only time it exists).

    Raises :class:`ServiceError` when the account does not exist or is disabled.
    """
    user = db.session.scalar(select(User).where(User.username == (username or "").strip()))
    if user is None:
        raise ServiceError(f"用户 {username} 不存在 / No user {username!r}.")
    if not user.active:
        raise ServiceError(f"用户 {username} 已停用 / User {username!r} is disabled.")
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    db.session.add(ApiToken(user_id=user.id, token_hash=hash_token(plain)))
    record("token_create", f"账号 {user.username}", role=user.role.value)  # never the token itself
    db.session.commit()
    return plain


def user_for_token(plain: Optional[str]) -> Optional[User]:
    """The active account a token belongs to, or None (unknown, revoked, malformed, disabled)."""
    if not plain or not plain.startswith(TOKEN_PREFIX) or len(plain) > MAX_TOKEN_LENGTH:
        return None
    token = db.session.scalar(
        select(ApiToken).where(ApiToken.token_hash == hash_token(plain), ApiToken.revoked.is_(False)))
    if token is None or not token.user.active:
        return None
    return token.user


def revoke_tokens(username: str) -> int:
    """Revoke every token of an account; returns how many were still valid."""
    user_id = db.session.scalar(select(User.id).where(User.username == (username or "").strip()))
    if user_id is None:
        raise ServiceError(f"用户 {username} 不存在 / No user {username!r}.")
    revoked = db.session.execute(
        update(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked.is_(False))
        .values(revoked=True).execution_options(synchronize_session=False)
    ).rowcount
    record("user_edit", f"账号 {(username or '').strip()}", op="tokens_revoke", tokens=revoked)
    db.session.commit()
    return revoked
