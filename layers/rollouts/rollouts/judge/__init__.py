"""The statistical judge: candidate vs baseline metrics in, an outcome with its evidence out; pure code.

Modules: `outcome` (Outcome, evidence and the verdict types every strategy shares), `sequential` (group-sequential
rates, the boundaries and their power), `msprt` (always-valid rates), `means` (mean rewards), `rank`
(Mann-Whitney, spent over the looks), `threshold`, `ab` (an A/B test's mean reward), `family` (one false-alarm rate
for the whole verdict: guardrails.family_alpha split over the checks), `agreement` (a shadow's one-sided tests).
Import from the modules: this package exports nothing, so that reading a stored rollout,
which holds `outcome`'s types, does not import the tests.
"""
