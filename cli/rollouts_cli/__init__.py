"""The `rollouts` command and its Python client for the SageMaker Rollouts API (tooling: never in a Lambda).

`RolloutsClient` signs each request with SigV4 (botocore's signer, the standard credential chain) and answers the
API's JSON; `rollouts_cli.cli` is the command line over it.
"""

from rollouts_cli.client import ApiError, RolloutsClient

__all__ = ["ApiError", "RolloutsClient"]
