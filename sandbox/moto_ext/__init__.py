"""Extensions to moto that make it the local cloud: one module per service, installed once per process.

- `core`: the account, the registry `LocalCloud` fills and clears, `replace` (the one way an extension changes one
  of moto's attributes, each recorded in `core.REPLACED`), `submit`, which delivers asynchronous work on a thread each.
- `clock`: simulated time on the virtual clock; everything that waits for it or reads it goes through there.
- `cloudformation`, `lambda_`, `events`, `cloudwatch`, `stepfunctions`, `dynamodb`, `sqs`, `sagemaker`: what each
  service needs.

`tests/integration/test_moto_seams.py` checks that every attribute replaced is still what it was in moto 5.2.5.
"""

from __future__ import annotations

import functools


@functools.cache
def install() -> None:
    from sandbox.moto_ext import (
        clock,
        cloudformation,
        cloudwatch,
        dynamodb,
        events,
        lambda_,
        sagemaker,
        sqs,
        stepfunctions,
    )

    cloudformation.install()
    lambda_.install()
    events.install()
    stepfunctions.install()
    cloudwatch.install()
    clock.install()
    sqs.install()
    dynamodb.install()
    sagemaker.install()
