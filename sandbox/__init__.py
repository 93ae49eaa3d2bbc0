"""The local cloud: moto with the extensions the control plane needs, and a simulated SageMaker data plane."""
