"""POST /invoke/{endpoint_name} on the local cloud: a user who calls again gets the same variant, across a weight change
that widens the candidate, and the groups follow the endpoint's weights (docs/operations.md, "A/B tests: keeping a
user in one group").

The route is the real AbInvokeFunction: it reads the endpoint's current weights, assigns the user with
`rollouts.assignment.assign` and calls InvokeEndpoint with `TargetVariant`, which the local SageMaker routes to that
variant's model (`sandbox.moto_ext.sagemaker`); each answer is the score of the model that served it.
"""

from __future__ import annotations

from collections import Counter

from rollouts.assignment import assign
from rollouts.aws.invoke import forget_endpoint_weights
from sandbox.cloud import LocalCloud
from sandbox.dataplane import DataPlane, ModelBehaviour
from sandbox.moto_ext import core
from sandbox.scenarios import BASELINE_MODEL, CANDIDATE_MODEL

ENDPOINT = "churn-ab"
ROLLOUT_ID = "r-5a1e5b00c0de"
USERS = 500
# The candidate's share of the users may differ from its weight by this many points: with 500 users its standard
# deviation is 1.3 points at 10 % and 1.8 at 20 %, so 6 and 8 points are 4.5 of them. (The rollout id is fixed, so
# the groups, and this test's result, are the same at every run.)
TOLERANCE_POINTS = {10.0: 6.0, 20.0: 8.0}
BASELINE = ModelBehaviour()  # scores rise with tenure
CANDIDATE = ModelBehaviour(score_on="age")  # another model: another score for the same request
ROW = {"age": 58.0, "income": 61_000.0, "tenure_months": 4.0}
PAYLOAD = ",".join(f"{value:.2f}" for value in ROW.values())


def _endpoint(cloud: LocalCloud, baseline_weight: float, candidate_weight: float) -> None:
    """ENDPOINT with the baseline on v1 and the candidate on a variant of its model's name, tagged for the route."""
    sm = cloud.client("sagemaker")
    variants = []
    for name, model, weight in (
        ("v1", BASELINE_MODEL, baseline_weight),
        (CANDIDATE_MODEL, CANDIDATE_MODEL, candidate_weight),
    ):
        sm.create_model(
            ModelName=model,
            ExecutionRoleArn=f"arn:aws:iam::{core.ACCOUNT}:role/sagemaker-execution",
            PrimaryContainer={"Image": f"683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1#{model}"},
        )
        variants.append(
            {
                "VariantName": name,
                "ModelName": model,
                "InstanceType": "ml.m5.large",
                "InitialInstanceCount": 1,
                "InitialVariantWeight": weight,
            }
        )
    sm.create_endpoint_config(EndpointConfigName=f"{ENDPOINT}-ab", ProductionVariants=variants)
    sm.create_endpoint(
        EndpointName=ENDPOINT,
        EndpointConfigName=f"{ENDPOINT}-ab",
        Tags=[{"Key": "rollouts:ab-invoke", "Value": "true"}],  # the route's opt-in
    )


def _call(cloud: LocalCloud, user: str, request: int) -> str:
    """One request of `user` through the route, without weights: the variant that answered."""
    response = cloud.api(
        "POST",
        f"/invoke/{ENDPOINT}",
        {
            "user_id": user,
            "rollout_id": ROLLOUT_ID,
            "payload": PAYLOAD,
            "content_type": "text/csv",
            "inference_id": f"{user}-{request}",
        },
    )
    assert response.status == 200, response.body
    variant = str(response.body["variant"])
    # The answer is the score of the model behind that variant: the request went where the route said.
    model = {"v1": BASELINE, CANDIDATE_MODEL: CANDIDATE}[variant]
    assert abs(float(response.body["body"]) - model.score(ROW)) <= 1e-6
    return variant


def _round(cloud: LocalCloud, users: list[str], requests: int, first: int) -> dict[str, set[str]]:
    """Each user calls `requests` times; the variants each was served by."""
    served: dict[str, set[str]] = {user: set() for user in users}
    for request in range(first, first + requests):
        for user in users:
            served[user].add(_call(cloud, user, request))
    return served


def _check_split(groups: dict[str, str], candidate_weight: float) -> None:
    share = 100 * Counter(groups.values())[CANDIDATE_MODEL] / len(groups)
    assert abs(share - candidate_weight) <= TOLERANCE_POINTS[candidate_weight], (candidate_weight, share)


def test_a_user_keeps_their_variant_across_calls_and_across_a_widening_of_the_candidate(cloud: LocalCloud) -> None:
    # Given an endpoint at 90/10 whose variants serve two models that score differently, opened to the route
    _endpoint(cloud, 90.0, 10.0)
    DataPlane(cloud, ENDPOINT, {BASELINE_MODEL: BASELINE, CANDIDATE_MODEL: CANDIDATE})  # InvokeEndpoint scores
    users = [f"customer-{number:04d}" for number in range(USERS)]

    # When every user calls twice
    before = _round(cloud, users, requests=2, first=0)

    # Then each user got one variant, the one the assignment names for the endpoint's weights, and the groups are
    # the 10 % split
    assert all(len(variants) == 1 for variants in before.values())
    groups_before = {user: variants.pop() for user, variants in before.items()}
    assert all(groups_before[user] == assign(user, ROLLOUT_ID, {"v1": 90, CANDIDATE_MODEL: 10}) for user in users)
    _check_split(groups_before, 10.0)

    # When the candidate is widened to 20 % and every user calls twice more
    cloud.client("sagemaker").update_endpoint_weights_and_capacities(
        EndpointName=ENDPOINT,
        DesiredWeightsAndCapacities=[
            {"VariantName": "v1", "DesiredWeight": 80.0},
            {"VariantName": CANDIDATE_MODEL, "DesiredWeight": 20.0},
        ],
    )
    # The route reads the weights at most every 10 s (of real time, which virtual time does not move): the test
    # lets those 10 s pass by emptying the cache.
    forget_endpoint_weights()
    after = _round(cloud, users, requests=2, first=2)

    # Then each user again got one variant; every user of the candidate kept it, and those who moved went from the
    # baseline to the candidate only, so the groups are the 20 % split
    assert all(len(variants) == 1 for variants in after.values())
    groups_after = {user: variants.pop() for user, variants in after.items()}
    assert all(groups_after[user] == CANDIDATE_MODEL for user in users if groups_before[user] == CANDIDATE_MODEL)
    moved = [user for user in users if groups_before[user] != groups_after[user]]
    assert moved and all(groups_before[user] == "v1" for user in moved)
    _check_split(groups_after, 20.0)
