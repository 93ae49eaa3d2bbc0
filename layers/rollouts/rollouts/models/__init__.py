"""Pydantic models: the spec, the rollout, decisions, signals and the API contract."""
