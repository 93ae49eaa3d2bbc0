"""Key shapes of the rollouts table that more than one module writes."""


def rollout_pk(rollout_id: str) -> str:
    return f"ROLLOUT#{rollout_id}"
