"""Benchmarks of the control plane: handler cold imports, reaction to an alarm, state transitions (`make bench`)."""
