"""Public identifiers: a prefix and a time-ordered random part, like ULIDs."""

from __future__ import annotations

import random
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case


def new_id(prefix: str, now_ms: int | None = None) -> str:
    """`prefix_` + 26 characters: 48 bits of milliseconds then 80 random bits, so ids sort by time."""
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    # Not secrets, only unique: the module PRNG (reseeded in each forked child) saves a syscall.
    value = (ms << 80) | random.getrandbits(80)
    chars = []
    for _ in range(26):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return f"{prefix}_{''.join(reversed(chars))}"
