"""Sticky A/B assignment: each user gets one variant from a hash of the user id and the rollout id, with no table.

Standard library only, so that client code outside Lambda can import it (with `rollouts.aws.invoke.invoke`, which
also sends the request) and compute the same assignment as the API's `POST /invoke/{endpoint_name}` route.

How a user is assigned (weighted rendezvous hashing, also called an exponential race):
- for each variant with a weight above 0, hash the triple (rollout id, user id, variant name) with SHA-256: each
  field UTF-8 encoded and preceded by its length in bytes (4 bytes, big-endian), so no two triples share a key;
- read the first 8 bytes of the digest as a big-endian integer, keep its top 52 bits, and map them to a number
  `u` in the open interval (0, 1): `u = (bits + 0.5) / 2**52`, exact in a float;
- the variant's score is `-ln(u) / share`; the variant with the lowest score wins (ties, which need equal floats,
  go to the smaller name).

`-ln(u)` is exponentially distributed, so a variant wins with probability share / sum of shares: the groups match
the weights, and weights that sum to anything positive work (only the ratios count).

Why not one hash and cumulative buckets (`u` in [0, 1) cut by the variants in name order)? Both give the same
split, but they differ when the weights change, as they do when an A/B test widens its groups. With buckets, a
variant's interval moves whenever a variant before it changes: ramping two candidates together from 5 % to 10 %
each (baseline 90 % to 80 %) would move every user of the first candidate to the second. With a score per variant,
what a user's variant is depends only on the ratios between weights, which gives this guarantee:

    A user on variant `v` stays on `v` after a weight change if, for every other variant `x`, the ratio
    weight(v) / weight(x) did not fall.

So: the variant whose share grows keeps all its users (a candidate going from 10 % to 20 % keeps everyone it had,
and takes the users it gains from the baseline only); variants that grow together keep theirs; a new variant
takes users only for itself; a variant set to 0 or removed hands only its own users to the others, in proportion
to their weights. Users do move away from a variant whose share fell relative to another, as they must.

Stable across processes, machines and Python versions: no `hash()` (which is salted per process), no random
state, and the variants' order in the mapping does not matter. The score uses `math.log` of the platform's C
library; two platforms whose `log` differ in the last bit could disagree only for a user whose two best scores
are within one rounding step of each other, about one user in 10**15.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping

# bits + 0.5 needs one bit more than bits: 52 + 1 fit a float's 53-bit significand, so u is exact, never 0 or 1.
_BITS = 52


def shares(weights: Mapping[str, float]) -> dict[str, float]:
    """The weights as shares that sum to 1, in name order; ValueError naming the problem when they cannot be."""
    if not weights:
        raise ValueError("weights: give at least one variant and its weight")
    for name, weight in weights.items():
        if not name:
            raise ValueError("weights: a variant name must not be empty")
        if not math.isfinite(weight) or weight < 0:
            raise ValueError(f"weights: the weight of {name!r} must be a finite number >= 0, got {weight!r}")
    total = math.fsum(weights.values())
    if total <= 0:
        raise ValueError("weights: at least one variant needs a weight above 0")
    return {name: weights[name] / total for name in sorted(weights)}


def assign(user_id: str, rollout_id: str, weights: Mapping[str, float]) -> str:
    """The variant of `user_id` in the A/B test `rollout_id`: always the same for the same inputs.

    `weights` maps variant names to weights of any positive total (SageMaker's variant weights, percentages,
    shares); a variant of weight 0 gets no user. What happens to users when the weights change is in the module's
    docstring: the variant whose share grows keeps every user it had.
    """
    if not user_id:
        raise ValueError("user_id: must not be empty")
    if not rollout_id:
        raise ValueError("rollout_id: must not be empty")
    prefix = _field(rollout_id) + _field(user_id)
    scores = [
        (-math.log(_uniform(prefix + _field(name))) / share, name)
        for name, share in shares(weights).items()
        if share > 0
    ]
    return min(scores)[1]


def _field(value: str) -> bytes:
    """A field of the hashed key: its UTF-8 bytes after their length, so that no two triples make the same key."""
    data = value.encode("utf-8")
    return len(data).to_bytes(4, "big") + data


def _uniform(key: bytes) -> float:
    """A number in (0, 1) from the first 8 bytes of the key's SHA-256 digest."""
    bits = int.from_bytes(hashlib.sha256(key).digest()[:8], "big") >> (64 - _BITS)
    return (bits + 0.5) / (1 << _BITS)
