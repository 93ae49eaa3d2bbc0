"""SageMaker Rollouts domain package, shipped to every function as a layer."""
