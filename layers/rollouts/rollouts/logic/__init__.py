"""Use cases: one function per thing the system does, composing the pure parts and the adapters."""
