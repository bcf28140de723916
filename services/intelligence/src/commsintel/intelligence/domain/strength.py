"""Connection strength: recency- and frequency-weighted (docs/decisions/0004).

Each interaction contributes a weight that halves every `half_life` days, so ten emails
last month outweigh ten emails a year ago. A member's strength with a record is the sum
of the decayed weights of their interactions with it; the record's strength is its
strongest member's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum

SECONDS_PER_DAY = 86_400.0
MASS_MAIL_PARTICIPANTS = 10


class StrengthLevel(IntEnum):
    VERY_WEAK = 1
    WEAK = 2
    GOOD = 3
    STRONG = 4
    VERY_STRONG = 5


# Lower bounds of each level, in "fresh two-way emails" worth of strength.
LEVEL_FLOORS = (
    (StrengthLevel.VERY_STRONG, 12.0),
    (StrengthLevel.STRONG, 5.0),
    (StrengthLevel.GOOD, 2.0),
    (StrengthLevel.WEAK, 0.5),
)


@dataclass(frozen=True, slots=True)
class StrengthModel:
    half_life_days: float = 90.0
    sent_weight: float = 1.0
    received_weight: float = 0.6
    mass_mail_factor: float = 0.2

    def weight(self, direction: str, participant_count: int) -> float:
        """What one email is worth when fresh: a member writing counts more than being
        written to, and mail to many recipients counts little."""
        base = self.sent_weight if direction == "sent" else self.received_weight
        if participant_count > MASS_MAIL_PARTICIPANTS:
            base *= self.mass_mail_factor
        return base

    def decay(self, age_seconds: float) -> float:
        """Interactions in the future of `as_of` do not count yet."""
        if age_seconds < 0:
            return 0.0
        return math.exp(-math.log(2) * age_seconds / (self.half_life_days * SECONDS_PER_DAY))


@dataclass(frozen=True, slots=True)
class DecayedScore:
    """A sum of decayed weights kept at an anchor time: value(t) = value * decay(t - anchor).

    Folding interactions in any order gives the same value (up to float rounding)."""

    value: float = 0.0
    anchor: datetime | None = None

    def add(self, weight: float, at: datetime, model: StrengthModel) -> DecayedScore:
        if self.anchor is None:
            return DecayedScore(weight, at)
        if at >= self.anchor:
            aged = self.value * model.decay((at - self.anchor).total_seconds())
            return DecayedScore(aged + weight, at)
        return DecayedScore(
            self.value + weight * model.decay((self.anchor - at).total_seconds()), self.anchor
        )

    def at(self, when: datetime, model: StrengthModel) -> float:
        if self.anchor is None or when < self.anchor:
            return 0.0 if self.anchor is None else self.value
        return self.value * model.decay((when - self.anchor).total_seconds())


def level_of(strength: float) -> StrengthLevel:
    for level, floor in LEVEL_FLOORS:
        if strength >= floor:
            return level
    return StrengthLevel.VERY_WEAK


def rank_key(score: DecayedScore, model: StrengthModel) -> float:
    """A sort key that orders scores by their value at any moment after all anchors:
    ln(value) + ln2 * anchor / half_life, which does not depend on the moment."""
    if score.anchor is None or score.value <= 0:
        return -math.inf
    half_life_seconds = model.half_life_days * SECONDS_PER_DAY
    return math.log(score.value) + math.log(2) * score.anchor.timestamp() / half_life_seconds
