"""Pure planners, one module per strategy."""
