"""The local cloud: moto in process, with template.yaml itself deployed into it.

Resources come from the template: it is translated by the SAM translator and created through moto's
CloudFormation, except the two things moto cannot take that way (reference/local-cloud.md section 6): state
machines are created through the Step Functions API so that they execute, and API routes are served here from the
functions' Api events.
"""

from __future__ import annotations

import copy
import importlib
import io
import json
import logging
import os
import re
import urllib.parse
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sandbox import faults, moto_ext
from sandbox.moto_ext import clock, core
from sandbox.template import ROOT, load

STACK = "rollouts"
WEEK = 7 * 24 * 3600.0
T = TypeVar("T")
ARTIFACTS = "local-cloud-artifacts"
MANAGED_POLICIES = {
    name: f"arn:aws:iam::aws:policy/{path}"
    for name, path in {
        "AWSLambdaBasicExecutionRole": "service-role/AWSLambdaBasicExecutionRole",
        "AWSXrayWriteOnlyAccess": "AWSXrayWriteOnlyAccess",
        "AWSXRayDaemonWriteAccess": "AWSXRayDaemonWriteAccess",
        "AWSLambdaSQSQueueExecutionRole": "service-role/AWSLambdaSQSQueueExecutionRole",
        "AWSLambdaRole": "service-role/AWSLambdaRole",
    }.items()
}
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": core.REGION,
    "AWS_REGION": core.REGION,
}


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    function_name: str
    pattern: re.Pattern[str]


@dataclass
class ApiResponse:
    status: int
    body: Any
    headers: dict[str, str]


class _PolicyLoader:
    def load(self) -> dict[str, str]:
        return MANAGED_POLICIES


def _zip_stub() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README", "code runs in process from the repository; see sandbox/moto_ext/lambda_.py")
    return buffer.getvalue()


def _replace_refs(node: Any, literals: dict[str, Any]) -> Any:
    """Replace Ref / GetAtt of resources that are not in the stack with the values they will have."""
    if isinstance(node, dict):
        if set(node) == {"Ref"} and node["Ref"] in literals:
            return literals[node["Ref"]]["Ref"]
        if set(node) == {"Fn::GetAtt"} and node["Fn::GetAtt"][0] in literals:
            return literals[node["Fn::GetAtt"][0]][node["Fn::GetAtt"][1]]
        return {key: _replace_refs(value, literals) for key, value in node.items()}
    if isinstance(node, list):
        return [_replace_refs(value, literals) for value in node]
    return node


class LocalCloud:
    """Start with `with LocalCloud() as cloud:`; everything the template declares is then live in moto."""

    def __init__(self, time_scale: float | None = None, endpoint_update_seconds: float = 120.0) -> None:
        self.time_scale = time_scale
        self.endpoint_update_seconds = endpoint_update_seconds
        self.physical: dict[str, str] = {}
        self.state_machines: dict[str, str] = {}
        self.routes: list[Route] = []
        self.environment: dict[str, str] = {}
        self._mock: Any = None
        self._lambda: Any = None
        self._saved_env: dict[str, str | None] = {}

    # -- life cycle ---------------------------------------------------------------------------------------------

    def __enter__(self) -> LocalCloud:
        self.start()
        try:
            self.deploy()
        except BaseException:
            self.stop()  # a stack that did not deploy leaves no clock running for the next cloud of the process
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _setenv(self, values: dict[str, str]) -> None:
        for key, value in values.items():
            self._saved_env.setdefault(key, os.environ.get(key))
            os.environ[key] = value

    def start(self) -> None:
        from moto import mock_aws

        self._setenv(CREDENTIALS)
        # Handlers log and publish metrics as in Lambda; keep the local run's output for the people watching it.
        self._setenv({"POWERTOOLS_METRICS_DISABLED": "true", "POWERTOOLS_TRACE_DISABLED": "true"})
        self._mock = mock_aws(
            config={"lambda": {"use_docker": False}, "stepfunctions": {"execute_state_machine": True}}
        )
        self._mock.start()
        moto_ext.install()
        core.REGISTRY.__init__()  # type: ignore[misc]
        # Before any client of the control plane exists: a client copies its session's event hooks when it is made,
        # so a hook registered later (at the first injected fault, say) would miss the clients already cached.
        faults.install()
        clock.start(self.time_scale)
        core.REGISTRY.endpoint_update_seconds = self.endpoint_update_seconds
        self._reset_caches()

    def stop(self) -> None:
        core.REGISTRY.retire()
        clock.stop()
        core.REGISTRY.handlers.clear()
        self._lambda = None
        if self._mock is not None:
            self._mock.stop()
            self._mock = None
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env.clear()
        self._reset_caches()

    @staticmethod
    def _reset_caches() -> None:
        from rollouts.aws import clients, hooks
        from rollouts.settings import get_settings

        clients.reset()
        hooks.reset()
        get_settings.cache_clear()

    def client(self, service: str) -> Any:
        return core.session().client(service)

    # -- deploying template.yaml --------------------------------------------------------------------------------

    def deploy(self, parameters: dict[str, str] | None = None) -> None:
        from samtranslator.translator.transform import transform

        # The translator warns about its own unpublished usage metrics; nobody reads them here.
        logging.getLogger("samtranslator").setLevel(logging.ERROR)

        sam = load()
        state_machine_ids = [k for k, v in sam["Resources"].items() if v["Type"] == "AWS::Serverless::StateMachine"]
        names = {logical: self._state_machine_name(logical, sam["Resources"][logical]) for logical in state_machine_ids}
        literals = {
            logical: {"Ref": self._state_machine_arn(names[logical]), "Name": names[logical]}
            for logical in state_machine_ids
        }
        machines = {logical: sam["Resources"].pop(logical) for logical in state_machine_ids}
        sam = _replace_refs(sam, literals)

        s3 = self.client("s3")
        s3.create_bucket(Bucket=ARTIFACTS)
        for logical, resource in sam["Resources"].items():
            properties = resource.get("Properties", {})
            for key in ("CodeUri", "ContentUri"):
                if isinstance(properties.get(key), str):
                    s3.put_object(Bucket=ARTIFACTS, Key=f"{logical}.zip", Body=_zip_stub())
                    properties[key] = f"s3://{ARTIFACTS}/{logical}.zip"

        values = {p: str(v.get("Default", "")) for p, v in sam.get("Parameters", {}).items()}
        values.update(parameters or {})
        cfn = transform(copy.deepcopy(sam), values, _PolicyLoader())
        # API Gateway is served locally from the Api events (moto cannot create a RestApi from a Body).
        cfn["Resources"] = {
            k: v
            for k, v in cfn["Resources"].items()
            if not v["Type"].startswith("AWS::ApiGateway::")
            and not (v["Type"] == "AWS::Lambda::Permission" and "RolloutsApi" in json.dumps(v))
        }
        cfn.pop("Outputs", None)
        cloudformation = self.client("cloudformation")
        cloudformation.create_stack(
            StackName=STACK,
            TemplateBody=json.dumps(cfn),
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()],
            Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
        )
        status = cloudformation.describe_stacks(StackName=STACK)["Stacks"][0]["StackStatus"]
        if status != "CREATE_COMPLETE":
            raise RuntimeError(f"the local stack did not deploy: {status}")
        paginator = cloudformation.get_paginator("list_stack_resources")
        for page in paginator.paginate(StackName=STACK):
            for summary in page["StackResourceSummaries"]:
                self.physical[summary["LogicalResourceId"]] = summary["PhysicalResourceId"]

        self._register_functions(sam)
        self._create_state_machines(machines)
        self._register_routes(sam)

    @staticmethod
    def _state_machine_name(logical: str, resource: dict[str, Any]) -> str:
        """The template's Name, as CloudFormation substitutes it: the API finds a strategy's machine by this name."""
        name = resource["Properties"].get("Name")
        if not (isinstance(name, dict) and "Fn::Sub" in name):
            raise RuntimeError(f'{logical}: a state machine needs Name: !Sub "${{AWS::StackName}}-<strategy type>"')
        return str(name["Fn::Sub"]).replace("${AWS::StackName}", STACK)

    @staticmethod
    def _state_machine_arn(name: str) -> str:
        return f"arn:aws:states:{core.REGION}:{core.ACCOUNT}:stateMachine:{name}"

    def function_arn(self, logical: str) -> str:
        return f"arn:aws:lambda:{core.REGION}:{core.ACCOUNT}:function:{self.physical[logical]}"

    def _register_functions(self, sam: dict[str, Any]) -> None:
        lam = self.client("lambda")
        environment: dict[str, str] = {}
        for logical, resource in load()["Resources"].items():
            if resource["Type"] != "AWS::Serverless::Function":
                continue
            folder = resource["Properties"]["CodeUri"].strip("/").split("/")[-1]
            module = importlib.import_module(f"functions.{folder}.app")
            name = self.physical[logical]
            core.REGISTRY.handlers[name] = module.lambda_handler
            variables = lam.get_function_configuration(FunctionName=name).get("Environment", {}).get("Variables", {})
            for key, value in variables.items():
                if environment.get(key, value) != value:
                    raise RuntimeError(f"functions disagree on {key}; in one process every function shares it")
                environment[key] = value
        self.environment = environment
        self._setenv(environment)
        self._reset_caches()

    def _resolve(self, value: Any) -> str:
        if isinstance(value, dict) and "Fn::GetAtt" in value:
            logical, attribute = value["Fn::GetAtt"]
            if attribute == "Arn" and self.physical.get(logical, "").startswith("arn:"):
                return self.physical[logical]
            if attribute == "Arn":
                return self.function_arn(logical)
            raise ValueError(f"cannot resolve {value}")
        if isinstance(value, dict) and "Ref" in value:
            return self.physical[value["Ref"]]
        return str(value)

    def _create_state_machines(self, machines: dict[str, dict[str, Any]]) -> None:
        sfn = self.client("stepfunctions")
        role = self.client("iam").create_role(
            RoleName="local-state-machines",
            AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
        )["Role"]["Arn"]
        for logical, resource in machines.items():
            properties = resource["Properties"]
            definition = (ROOT / properties["DefinitionUri"]).read_text()
            for key, value in properties.get("DefinitionSubstitutions", {}).items():
                definition = definition.replace("${" + key + "}", self._resolve(value))
            leftover = re.findall(r"\$\{[A-Za-z0-9]+\}", definition)
            if leftover:
                raise RuntimeError(f"{logical}: no substitution for {leftover}")
            name = self._state_machine_name(logical, resource)
            arn = sfn.create_state_machine(name=name, definition=definition, roleArn=role)["stateMachineArn"]
            self.state_machines[logical] = arn

    def _register_routes(self, sam: dict[str, Any]) -> None:
        for logical, resource in sam["Resources"].items():
            for event in resource.get("Properties", {}).get("Events", {}).values():
                if event["Type"] != "Api":
                    continue
                path = event["Properties"]["Path"]
                pattern = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path) + "$")
                self.routes.append(Route(event["Properties"]["Method"].upper(), path, self.physical[logical], pattern))

    # -- the API, as API Gateway would call it -------------------------------------------------------------------

    def api(
        self,
        method: str,
        path: str,
        body: Any = None,
        raw_body: str | None = None,
        headers: dict[str, str] | None = None,
        identity: dict[str, str] | None = None,
    ) -> ApiResponse:
        """Call a route as API Gateway's REST proxy integration would: `path` with its query string, the caller's
        IAM `identity` as API Gateway puts it in the request context (a release tool by default)."""
        method = method.upper()
        path, _, query = path.partition("?")
        pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
        multi: dict[str, list[str]] = {}
        for name, value in pairs:
            multi.setdefault(name, []).append(value)
        for route in self.routes:
            match = route.pattern.match(path)
            if match and route.method == method:
                break
        else:
            return ApiResponse(
                403 if any(r.pattern.match(path) for r in self.routes) else 404,
                {"message": "Missing Authentication Token"},
                {},
            )
        text = raw_body if raw_body is not None else (json.dumps(body) if body is not None else None)
        event = {
            "resource": route.path,
            "path": path,
            "httpMethod": method,
            "headers": {"Content-Type": "application/json", **(headers or {})},
            "multiValueHeaders": {},
            # As API Gateway's REST proxy passes them: the last value of each name, and every value.
            "queryStringParameters": {name: values[-1] for name, values in multi.items()} or None,
            "multiValueQueryStringParameters": multi or None,
            "pathParameters": match.groupdict() or None,
            "stageVariables": None,
            "body": text,
            "isBase64Encoded": False,
            "requestContext": {
                "resourcePath": route.path,
                "httpMethod": method,
                "path": f"/v1{path}",
                "stage": "v1",
                "requestId": str(uuid.uuid4()),
                "accountId": core.ACCOUNT,
                "identity": identity
                or {"userArn": f"arn:aws:iam::{core.ACCOUNT}:user/release-tool", "sourceIp": "127.0.0.1"},
            },
        }
        if self._lambda is None:  # a client takes longer to make than a call takes to serve; clients are thread-safe
            self._lambda = self.client("lambda")
        response = self._lambda.invoke(FunctionName=route.function_name, Payload=json.dumps(event).encode())
        payload = json.loads(response["Payload"].read())
        if "FunctionError" in response:
            return ApiResponse(502, {"message": "Internal server error", "error": payload}, {})
        body_text = payload.get("body") or ""
        try:
            parsed: Any = json.loads(body_text) if body_text else None
        except ValueError:
            parsed = body_text
        return ApiResponse(int(payload["statusCode"]), parsed, dict(payload.get("headers") or {}))

    # -- helpers for scenarios and tests -------------------------------------------------------------------------

    def inject_aws_fault(self, operation: str, code: str = "ThrottlingException", times: int = 1) -> None:
        """Make the control plane's next `times` calls of `operation` (any service) fail with the AWS error `code`,
        as if the SDK's retries had run out (`sandbox.faults`)."""
        faults.install()
        faults.inject(operation, code, times)

    def inject_fault(self, operation: str, message: str, when: str = "call") -> None:
        """Make the next `operation` fail: at the call ("call") or, for UpdateEndpoint, during the update ("async":
        the new fleet never starts; "baking": a blue/green deployment fails once green serves, and rolls back).
        Operations: UpdateEndpoint, UpdateEndpointWeightsAndCapacities, CreateEndpointConfig, DescribeEndpoint,
        DescribeEndpointConfig, PutMetricAlarm and SetAlarmState (the CloudWatch calls fail with LimitExceeded)."""
        with core.REGISTRY.lock:
            core.REGISTRY.faults.setdefault(operation, []).append({"message": message, "when": when})

    def add_function(self, name: str, handler: Callable[[dict[str, Any], Any], Any]) -> str:
        """A Lambda function of the team's own (a traffic hook, say), outside the stack: `handler(event, context)` runs
        in process when it is invoked. Returns its ARN."""
        role = self.client("iam").create_role(
            RoleName=f"{name}-role"[:64],
            AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
        )["Role"]["Arn"]
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as archive:
            archive.writestr("app.py", "def lambda_handler(event, context):\n    return event\n")
        arn = self.client("lambda").create_function(
            FunctionName=name, Runtime="python3.13", Role=role, Handler="app.lambda_handler",
            Code={"ZipFile": code.getvalue()},
        )["FunctionArn"]  # fmt: skip
        core.REGISTRY.handlers[name] = handler
        return str(arn)

    def run_schedules(self, function: str | None = None) -> list[dict[str, Any]]:
        """Fire every scheduled rule of the stack once (only those calling `function`, a logical id such as
        "DeliverDecisionsFunction", when given), as EventBridge does when its time comes: each Lambda target gets a
        "Scheduled Event" and is invoked at once. Returns what each target answered.

        The virtual clock does not fire them on its own: a rule every minute would wake it 10,080 times in a
        simulated week, and every test that waits would pay for it. A test or a demo fires them when it needs to."""
        events, answers = self.client("events"), []
        for rule in events.list_rules()["Rules"]:
            if not rule.get("ScheduleExpression") or rule.get("State") != "ENABLED":
                continue
            event = {
                "version": "0",
                "id": str(uuid.uuid4()),
                "detail-type": "Scheduled Event",
                "source": "aws.events",
                "account": core.ACCOUNT,
                "time": clock.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
                "region": core.REGION,
                "resources": [rule["Arn"]],
                "detail": {},
            }
            for target in events.list_targets_by_rule(Rule=rule["Name"])["Targets"]:
                if ":lambda:" in target["Arn"] and (function is None or function in target["Arn"]):
                    response = self.client("lambda").invoke(FunctionName=target["Arn"], Payload=json.dumps(event))
                    answers.append(json.loads(response["Payload"].read() or b"null"))
        return answers

    def wait_until(self, predicate: Callable[[], T], timeout: float = WEEK) -> T | None:
        """The predicate's first true value, looked at whenever the cloud is idle; None after `timeout` simulated
        seconds."""
        result: T | None = clock.virtual().wait_until(predicate, timeout)
        return result

    def wait_for_execution(self, execution_arn: str, timeout: float = WEEK) -> dict[str, Any]:
        """The execution once it has ended; TimeoutError if it still runs after `timeout` simulated seconds."""
        sfn = self.client("stepfunctions")

        def ended() -> dict[str, Any] | None:
            execution = sfn.describe_execution(executionArn=execution_arn)
            return dict(execution) if execution["status"] != "RUNNING" else None

        execution = self.wait_until(ended, timeout)
        if execution is None:
            raise TimeoutError(f"{execution_arn} still running after {timeout} simulated seconds")
        return execution

    def history(self, execution_arn: str) -> list[dict[str, Any]]:
        sfn = self.client("stepfunctions")
        events: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"executionArn": execution_arn, "maxResults": 1000}
        while True:
            page = sfn.get_execution_history(**kwargs)
            events.extend(page["events"])
            if not page.get("nextToken"):
                return events
            kwargs["nextToken"] = page["nextToken"]

    def states_entered(self, execution_arn: str) -> list[str]:
        return [
            event["stateEnteredEventDetails"]["name"]
            for event in self.history(execution_arn)
            if event["type"].endswith("StateEntered")
        ]
