"""Ballot codes (测评码): generation, normalisation and keyed hashing.

A code is 12 symbols from a 31-letter alphabet without look-alikes
(no 0/O/1/I/L): log2(31**12) ≈ 59.4 bits of entropy. It is printed in groups
of four (``K7QX-M3PD-9TWR``) and accepted in any case, with spaces and
hyphens ignored. Only HMAC-SHA256(key, normalised code) is ever stored.
"""
from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from typing import Optional

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 12
GROUP = 4
ENTROPY_BITS = LENGTH * math.log2(len(ALPHABET))

_ALLOWED = set(ALPHABET)


def generate_code() -> str:
    """Return a fresh code, normalised (no hyphens), from the OS's CSPRNG."""
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def format_code(code: str) -> str:
    """Group a normalised code for printing: ``K7QXM3PD9TWR`` → ``K7QX-M3PD-9TWR``."""
    return "-".join(code[i:i + GROUP] for i in range(0, len(code), GROUP))


def normalise_code(raw: Optional[str]) -> Optional[str]:
    """Canonical form of what a rater typed, or None if it cannot be a code.

    Case is folded and spaces/hyphens dropped. Look-alike letters are *not*
    mapped (O→0 etc.) because they never occur in a code: such input is
    simply not a code, which keeps the rule easy to explain.
    """
    if raw is None or len(raw) > 64:
        return None
    cleaned = "".join(ch for ch in raw.upper() if ch not in " -\t\u3000")
    if len(cleaned) != LENGTH or not set(cleaned) <= _ALLOWED:
        return None
    return cleaned


def hash_code(code: str, key: str) -> str:
    """Keyed hash of a normalised code: what the database stores and looks up."""
    return hmac.new(key.encode("utf-8"), code.encode("ascii"), hashlib.sha256).hexdigest()
