"""Fingerprints of a statement stream: hashed k-grams of tokens, thinned by winnowing (as MOSS does).

Schleimer, Wilkerson and Aiken, "Winnowing: local algorithms for document fingerprinting"
(SIGMOD 2003): of every ``WINDOW`` consecutive k-gram hashes the smallest is kept (the rightmost
on ties), so any run of at least ``K + WINDOW - 1`` shared tokens shares a fingerprint, and a
fingerprint depends only on the tokens around it (edits elsewhere do not move it).

Hashes are stable across runs and machines (BLAKE2 of each token, then CPython's tuple hash of
integers, which is not salted), so two runs of the report give the same numbers.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

from resnet_signs.similarity.normalise import Unit

#: Tokens per k-gram: about one short statement (``V = Activation('relu')(V)`` is 9 tokens).
K = 12
#: k-grams per winnowing window: a shared run of K + WINDOW - 1 = 15 tokens is always found.
WINDOW = 4


@lru_cache(maxsize=65536)
def _token_id(token: str) -> int:
    return int.from_bytes(hashlib.blake2b(token.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "big")


def fingerprints(units: list[Unit]) -> dict[int, frozenset[int]]:
    """The winnowed k-gram hashes of ``units``' tokens, each with the units (indices) it spans.

    A stream shorter than ``K`` tokens has one fingerprint: all of it.
    """
    ids: list[int] = []
    owner: list[int] = []
    for index, unit in enumerate(units):
        for token in unit.tokens:
            ids.append(_token_id(token))
            owner.append(index)
    if not ids:
        return {}
    width = min(K, len(ids))
    hashes = [hash(tuple(ids[i:i + width])) for i in range(len(ids) - width + 1)]
    found: dict[int, set[int]] = {}
    for start in winnow(hashes, WINDOW):
        found.setdefault(hashes[start], set()).update(owner[start:start + width])
    return {h: frozenset(spanned) for h, spanned in found.items()}


def winnow(hashes: list[int], window: int) -> list[int]:
    """Positions of the hashes robust winnowing selects (each once, in order)."""
    if len(hashes) <= window:
        return [min(range(len(hashes)), key=lambda i: (hashes[i], -i))] if hashes else []
    chosen: list[int] = []
    for start in range(len(hashes) - window + 1):
        best = start
        for i in range(start + 1, start + window):
            if hashes[i] <= hashes[best]:
                best = i
        if not chosen or chosen[-1] != best:
            chosen.append(best)
    return chosen
