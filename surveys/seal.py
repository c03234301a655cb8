"""Sealing a ballot for the box: AES-GCM under the ballot key, padded to one size.

A sealed ballot is ``version ‖ nonce ‖ AES-256-GCM(answers and day)`` from
``cryptography`` (no home-made cryptography). The 256-bit key is derived with
HKDF-SHA256 from ``CEPING_BALLOT_KEY``, so any long random string will do. The
associated data binds a ciphertext to its box row, evaluation and rater group:
someone who can write to the database cannot move a sealed ballot to another
group or evaluation, nor copy it into a second row, without failing
authentication when it is counted.

The plaintext is padded to a length fixed by the questionnaire (room for every
item at its longest), so the size of a box row — visible to anyone who reads
the database — says nothing about how long a comment is, and cannot be matched
with the comment's length once the ballot is counted.
"""
from __future__ import annotations

import datetime as dt
import json
import os
from functools import lru_cache
from typing import Optional, Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from models import ItemKind

VERSION = b"\x01"
NONCE_BYTES = 12
_LENGTH_BYTES = 4
#: Room for one answer row ``[item, seq, option, text]`` without its text, in bytes, generously.
_ROW_BYTES = 48
#: A text answer's JSON (UTF-8, escapes for control characters) is at most 6 bytes per character.
_BYTES_PER_CHAR = 6
_BLOCK = 512

#: One answer as stored: (item_id, seq, option_id, text).
AnswerRow = tuple[int, int, Optional[int], Optional[str]]


class Damaged(ValueError):
    """A sealed ballot that fails authentication: altered, moved, or sealed under another key."""


@lru_cache(maxsize=8)
def _cipher(key_text: str) -> AESGCM:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"ceping ballot box v1").derive(
        key_text.encode("utf-8"))
    return AESGCM(key)


def _associated(box_id: str, evaluation_id: int, rater_group_id: int) -> bytes:
    return f"{box_id}:{evaluation_id}:{rater_group_id}".encode("ascii")


def padded_size(items: Sequence, text_max: int) -> int:
    """The plaintext size every ballot of a questionnaire is padded to.

    ``items`` are the questionnaire's items (anything with ``kind`` and ``scale``):
    a choice item needs one row (a multiple-choice item one per option), a text
    item one row plus its longest text.
    """
    size = 64
    for item in items:
        if item.kind in (ItemKind.TEXT, ItemKind.FILL):
            size += _ROW_BYTES + _BYTES_PER_CHAR * text_max
        elif item.kind is ItemKind.MULTIPLE and item.scale is not None:
            size += _ROW_BYTES * max(1, len(item.scale.options))
        else:
            size += _ROW_BYTES
    return -(-size // _BLOCK) * _BLOCK


def seal(key_text: str, box_id: str, evaluation_id: int, rater_group_id: int, day: dt.date,
         answers: Sequence[AnswerRow], pad_to: int) -> bytes:
    """Encrypt a ballot's answers and day for the box row ``box_id``.

    A ballot longer than ``pad_to`` (a questionnaire edited past its estimate
    cannot happen while frozen, but a larger text limit can) is padded to the
    next multiple of ``pad_to`` rather than refused.
    """
    body = json.dumps({"d": day.isoformat(), "a": [list(row) for row in answers]},
                      ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    plain_length = _LENGTH_BYTES + len(body)
    target = max(pad_to, -(-plain_length // pad_to) * pad_to)
    plain = len(body).to_bytes(_LENGTH_BYTES, "big") + body + bytes(target - plain_length)
    nonce = os.urandom(NONCE_BYTES)
    return VERSION + nonce + _cipher(key_text).encrypt(nonce, plain, _associated(box_id, evaluation_id, rater_group_id))


def unseal(key_text: str, box_id: str, evaluation_id: int, rater_group_id: int,
           sealed: bytes) -> tuple[dt.date, list[AnswerRow]]:
    """The day and answers of a sealed ballot; raises :class:`Damaged` if it fails authentication."""
    sealed = bytes(sealed)
    if len(sealed) < 1 + NONCE_BYTES + 16 or sealed[:1] != VERSION:
        raise Damaged("not a sealed ballot")
    nonce, ciphertext = sealed[1:1 + NONCE_BYTES], sealed[1 + NONCE_BYTES:]
    try:
        plain = _cipher(key_text).decrypt(nonce, ciphertext, _associated(box_id, evaluation_id, rater_group_id))
    except InvalidTag:
        raise Damaged("authentication failed") from None
    length = int.from_bytes(plain[:_LENGTH_BYTES], "big")
    try:
        body = json.loads(plain[_LENGTH_BYTES:_LENGTH_BYTES + length].decode("utf-8"))
        day = dt.date.fromisoformat(body["d"])
        answers = [(int(i), int(s), None if o is None else int(o), t) for i, s, o, t in body["a"]]
    except (ValueError, KeyError, TypeError) as error:
        # Authenticated but unreadable: sealed by a different version of this code. Never count it.
        raise Damaged(f"unreadable content: {error.__class__.__name__}") from None
    return day, answers
