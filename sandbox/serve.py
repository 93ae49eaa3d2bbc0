"""The local cloud over HTTP: the rollouts API on http://127.0.0.1:<port>/v1, as API Gateway would serve it.

`make serve` (`python -m sandbox.serve`) starts a local cloud with the demo's endpoint (`churn-predictor`, model
`churn-xgb-v1` on variant `v1`, candidate `churn-xgb-v2` beside it) taking healthy traffic, and serves the API until
Ctrl-C, so that the `rollouts` CLI or any HTTP client can be tried with no AWS account:

    make serve                      # prints the URL
    export ROLLOUTS_API_URL=http://127.0.0.1:8080/v1
    rollouts start -f examples/canary.yaml --wait

A request reaches the same handlers as through API Gateway: the REST proxy event of `LocalCloud.api`, with the
caller's identity taken from its SigV4 `Authorization` header (the access key; the signature is not checked). A
request without one gets API Gateway's 403 for IAM-authorised APIs. Simulated time runs `--time-scale` real seconds
per simulated second (default: a simulated minute each real second, the demo's pace).
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import signal
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sandbox.cloud import LocalCloud
from sandbox.dataplane import DataPlane, ModelBehaviour
from sandbox.moto_ext import core
from sandbox.scenarios import BASELINE_MODEL, CANDIDATE_MODEL, DEMO_TIME_SCALE, ENDPOINT, create_endpoint

STAGE = "/v1"
MAX_BODY = 10 * 1024 * 1024  # API Gateway's payload limit
CHALLENGER_MODEL = "churn-xgb-v3"  # a second candidate, for a rollout after one is promoted
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/")


class Api:
    """Turns HTTP requests into `LocalCloud.api` calls; set `cloud` once the local cloud runs."""

    def __init__(self) -> None:
        self.cloud: LocalCloud | None = None

    def handle(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        path = target.split("?", 1)[0]
        if self.cloud is None:
            return _json(503, {"message": "the local cloud is starting"})
        if path != STAGE and not path.startswith(STAGE + "/"):
            return _json(403, {"message": "Missing Authentication Token"})
        authorization = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        key = _CREDENTIAL.search(authorization)
        if not authorization.startswith("AWS4-HMAC-SHA256 ") or key is None:
            return _json(403, {"message": "Missing Authentication Token"})
        identity = {
            "accessKey": key.group(1),
            "userArn": f"arn:aws:iam::{core.ACCOUNT}:user/{key.group(1)}",
            "sourceIp": "127.0.0.1",
        }
        text = body.decode("utf-8", errors="replace") if body else None
        response = self.cloud.api(
            method, target[len(STAGE) :] or "/", raw_body=text, headers=headers, identity=identity
        )
        payload = response.body if isinstance(response.body, str) else json.dumps(response.body)
        return response.status, {"Content-Type": "application/json", **response.headers}, payload.encode("utf-8")


def _json(status: int, body: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/json"}, json.dumps(body).encode("utf-8")


def _handler(api: Api) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self._answer(*_json(413, {"message": "Request Too Long"}))
                return
            body = self.rfile.read(length) if length else b""
            try:
                answer = api.handle(self.command, self.path, dict(self.headers.items()), body)
            except Exception as error:  # the served cloud stays up; the caller sees API Gateway's 502
                answer = _json(502, {"message": "Internal server error", "error": repr(error)})
            self._answer(*answer)

        def _answer(self, status: int, headers: dict[str, str], body: bytes) -> None:
            self.send_response(status)
            for name, value in headers.items():
                if name.lower() not in ("content-length", "connection"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def __getattr__(self, name: str) -> Any:
            # Every method reaches the routes (do_GET, do_QUERY, ...), which answer one that a resource lacks as API
            # Gateway does (403), not with http.server's 501.
            if name.startswith("do_"):
                return self._serve
            raise AttributeError(name)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


def serve(port: int, time_scale: float | None, out: Callable[[str], None] = print) -> None:
    """Serve until interrupted (Ctrl-C or SIGTERM)."""
    api = Api()
    server = ThreadingHTTPServer(("127.0.0.1", port), _handler(api))
    # Started before the local cloud's clock: a thread the clock did not adopt waits in real time, as a server must.
    threading.Thread(target=server.serve_forever, name="http", daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}{STAGE}"
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    cloud = LocalCloud(time_scale=time_scale, endpoint_update_seconds=120)
    try:
        with cloud:
            create_endpoint(cloud, more_models=(CHALLENGER_MODEL,))
            healthy = ModelBehaviour(error_rate=0.0002)
            models = (BASELINE_MODEL, CANDIDATE_MODEL, CHALLENGER_MODEL)
            plane = DataPlane(cloud, ENDPOINT, dict.fromkeys(models, healthy)).start()
            api.cloud = cloud
            out(f"Rollouts API (local cloud): {url}")
            out(f"  export ROLLOUTS_API_URL={url}")
            out(
                f"  endpoint '{ENDPOINT}' serves '{BASELINE_MODEL}' on variant 'v1'; models '{CANDIDATE_MODEL}' and "
                f"'{CHALLENGER_MODEL}' are ready to roll out"
            )
            out("  Ctrl-C stops it")
            try:
                while True:
                    time.sleep(60)  # simulated seconds: the clock moves on while this thread waits
            except KeyboardInterrupt:
                out("stopping")
            finally:
                api.cloud = None
                plane.stop()
    finally:
        server.shutdown()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.serve", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8080, help="0 picks a free port (default 8080)")
    parser.add_argument(
        "--time-scale",
        type=float,
        default=DEMO_TIME_SCALE,
        help="real seconds per simulated second (default 1/60: a simulated minute each second)",
    )
    args = parser.parse_args(argv)
    logging.getLogger("moto").setLevel(logging.CRITICAL)  # moto's notes on the resources it does not create
    serve(args.port, args.time_scale, lambda line: print(line, flush=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
