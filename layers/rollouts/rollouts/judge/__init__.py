"""The statistical judge: candidate vs baseline metrics in, an outcome with its evidence out; pure code.

Modules: `outcome` (Outcome, evidence and the verdict types every strategy shares), `sequential` (group-sequential
rates), `msprt` (always-valid rates), `means` (latency means), `rank` (Mann-Whitney), `threshold`, `ab` (an A/B
test's mean reward). Import from the modules: this package exports nothing, so that reading a stored rollout,
which holds `outcome`'s types, does not import the tests.
"""
