"""The multi-armed bandit: posteriors, P(best) weights, floors and caps, drift, schedules and stopping; pure code.

A bandit rollout sets the variants' weights after every batch of requests to half P(variant is best | rewards so
far) (Thompson sampling as probability matching) and half the allocation of information-directed sampling, resets an
arm whose latest batch contradicts its history, and stops when one variant has led with P(best) >= 0.95 for 3
updates. Standard library and pydantic only: it runs in a Lambda,
where numpy's import would cost more than the computation.

Modules: `models` (the statistics, the design, the summary), `posterior` (Beta and normal posteriors, P(best) and
the best arm's moments by quadrature), `weights` (P(best) mixed with information-directed sampling, floors and caps,
the summary a "Bandit Reweighted" decision carries), `drift` (discount and change detector), `schedule` (batch sizes
and the stopping rule). Import from the modules: this package exports nothing, so that reading a stored rollout,
which holds `models`' types, does not import the maths.

The defaults of `BanditDesign`, and why (each is a constant of `models`, `DEFAULT_FLOOR` and so on; a bandit spec
sets them per rollout with the fields of the same names, `rollouts.strategies.bandit.BanditStrategy`, which default to
the same constants):

- information share 0.5: information-directed sampling explores where a request teaches the most, and half of the
  weights at P(best) keep every arm that may be best explored (`rollouts.bandit.weights` says why not all IDS).
- floor 0: a floor is a regret of floor x gap on every request, forever, and performance-anchors 1.4 found that it
  does not help after a change; set one when a variant must keep serving for another reason.
- discount 1 (none) and the change detector on at |z| >= 4: forgetting costs regret on stationary rewards at every
  update, while the detector costs nothing until it fires and then forgets at once the history of the arm that
  changed. The detector sees the arms that carry traffic; an arm starved of traffic that later improves is found
  only through a discount below 1 or a floor, at their price.
- batches of 100 doubling to 500 requests: small first batches, where batching costs the most, and then a cadence
  (50 s at 10 requests per second) a little faster than the aws-samples pipeline's 60 s.

`make bench-bandit` (bench/bandit.py) measures these defaults against per-request Thompson sampling, UCB1,
epsilon-greedy (bench/bandit_baselines.py) and the aws-samples pipeline, and each default against one alternative;
docs/benchmarks.md.
"""
