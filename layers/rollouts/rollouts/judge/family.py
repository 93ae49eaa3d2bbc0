"""One false-alarm rate for the whole verdict: `guardrails.family_alpha` split across the critical checks.

A canary judged on several checks (error rates, latency, feedback) fails when any critical check fails. Each check
controls its own false-alarm rate over all its looks (group-sequential spending, or the always-valid mSPRT), so the
chance that an equal candidate fails the rollout is the chance that at least one check raises a false alarm, and by
Bonferroni's inequality

    P(any critical check fails an equal candidate) <= sum over the critical checks of alpha_i.

The split makes that sum `family_alpha`:

- A critical check with its own `alpha` uses it (precedence: the check's alpha, then its share of the family's).
- The critical checks without one split what the others leave equally: alpha_i = (family_alpha - sum of the own
  alphas) / (number of critical checks without an alpha). A spec whose own alphas leave nothing for them is refused.
- When every critical check has its own alpha, the family's bound is their sum, which may exceed `family_alpha`;
  the evidence says so (`family_alpha` in each verdict's evidence is the bound in force).
- An advisory check (`critical: false`) cannot fail the rollout and is outside the family; without an alpha it uses
  family_alpha / (number of critical checks), the equal split.
- Each check then spends its alpha over its own looks (O'Brien-Fleming-type spending over the planned steps for the
  group-sequential rate and feedback checks and for the rank test; the mSPRT is valid at any number of looks).

Why Bonferroni and not Holm. Holm's procedure rejects the smallest p-value at alpha / m, as Bonferroni does, and only
then tests the others at larger levels; its gain is in the rejections after the first. A canary stops at its first
failed critical check (the rollout rolls back), so no second rejection is ever made: for the event that matters,
"the rollout fails", Holm is Bonferroni. (The graphical group-sequential extension of Holm, Maurer and Bretz 2013,
passes a rejected check's alpha to the others for their later looks; with a stop at the first rejection there is
nothing to pass either.) The bound is sharp only for disjoint alarms; for independent checks the rate is
1 - prod(1 - alpha_i), a little lower, and positively correlated checks lower it further.

Pure code: no pydantic, so that the spec's validation can import it cheaply.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

_SLACK = 1e-12  # own alphas summing to family_alpha up to rounding leave nothing


class CheckAlpha(NamedTuple):
    """A statistical check as the split sees it."""

    name: str
    critical: bool
    alpha: float | None  # the check's own alpha, or None for its share of the family's


class AlphaShare(NamedTuple):
    """The alpha one check uses, and where it came from."""

    alpha: float
    own: bool  # the check's own alpha
    critical: bool
    family_alpha: float  # guardrails.family_alpha
    family_bound: float  # the sum of the alphas the critical checks use: the family-wise bound in force
    members: int  # critical checks in the family
    sharing: int  # critical checks splitting the family's remainder
    own_total: float  # the sum of the critical checks' own alphas

    @property
    def source(self) -> str:
        """One sentence: where the alpha came from."""
        if not self.critical:
            origin = (
                "its own alpha"
                if self.own
                else (f"guardrails.family_alpha {self.family_alpha:g} / {max(1, self.members)} critical checks")
            )
            return f"advisory, outside the family: {origin}"
        if self.own:
            text = "the check's own alpha"
        elif self.sharing == 1:
            left = f", less the checks' own alphas ({self.own_total:g})" if self.own_total > 0 else ""
            text = f"guardrails.family_alpha {self.family_alpha:g}{left}: the only critical check without its own"
        elif self.own_total > 0:
            text = (
                f"guardrails.family_alpha {self.family_alpha:g} less the checks' own alphas ({self.own_total:g}), "
                f"split equally over {self.sharing} critical checks (Bonferroni)"
            )
        else:
            text = (
                f"guardrails.family_alpha {self.family_alpha:g} split equally over {self.sharing} critical checks "
                "(Bonferroni)"
            )
        if self.family_bound > self.family_alpha + _SLACK:
            text += (
                f"; the critical checks' own alphas add up to {self.family_bound:g}, above guardrails.family_alpha "
                f"{self.family_alpha:g}: that sum is the family's bound"
            )
        return text


def split_alpha(family_alpha: float, checks: Iterable[CheckAlpha]) -> dict[str, AlphaShare]:
    """Each check's alpha by name (see the module's docstring); ValueError when the own alphas leave nothing."""
    listed = list(checks)
    critical = [check for check in listed if check.critical]
    own_total = sum(check.alpha for check in critical if check.alpha is not None)
    sharing = sum(1 for check in critical if check.alpha is None)
    remainder = family_alpha - own_total
    if sharing and remainder <= _SLACK:
        raise ValueError(
            f"the critical checks' own alphas add up to {own_total:g}, leaving nothing of guardrails.family_alpha "
            f"{family_alpha:g} for the {sharing} critical check{'s' if sharing != 1 else ''} without one: lower "
            "them, give every critical check an alpha, or raise family_alpha"
        )
    share = remainder / sharing if sharing else 0.0
    bound = own_total + (remainder if sharing else 0.0)
    advisory = family_alpha / max(1, len(critical))
    shares = {}
    for check in listed:
        if check.alpha is not None:
            alpha, own = check.alpha, True
        else:
            alpha, own = (share if check.critical else advisory), False
        shares[check.name] = AlphaShare(
            alpha=alpha,
            own=own,
            critical=check.critical,
            family_alpha=family_alpha,
            family_bound=bound,
            members=len(critical),
            sharing=sharing,
            own_total=own_total,
        )
    return shares
