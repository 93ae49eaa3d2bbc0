"""The state machines: their sources in src/ and the build that composes them into <strategy>.asl.json."""
