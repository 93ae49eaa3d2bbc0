"""The client's SigV4 signature, against an independent implementation of AWS's published algorithm, which is
itself checked against AWS's own worked example (the IAM ListUsers request of the SigV4 documentation)."""

from __future__ import annotations

import hashlib
import hmac
import urllib.parse
from datetime import UTC, datetime

import botocore.session
import pytest
from botocore.credentials import Credentials

from rollouts_cli.client import RolloutsClient

# https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html (the example's published values)
EXAMPLE_KEY, EXAMPLE_SECRET = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
EXAMPLE_SIGNATURE = "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def signature(secret: str, method: str, url: str, headers: dict[str, str], body: bytes, region: str, service: str,
              stamp: str) -> str:  # fmt: skip
    """SigV4 as AWS publishes it: canonical request, string to sign, derived key."""
    parts = urllib.parse.urlsplit(url)
    query = "&".join(
        f"{urllib.parse.quote(k, safe='-_.~')}={urllib.parse.quote(v, safe='-_.~')}"
        for k, v in sorted(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
    )
    canonical_headers = {name.lower(): " ".join(value.split()) for name, value in headers.items()}
    signed = ";".join(sorted(canonical_headers))
    request = "\n".join(
        [
            method,
            urllib.parse.quote(parts.path or "/", safe="/-_.~"),
            query,
            "".join(f"{name}:{canonical_headers[name]}\n" for name in sorted(canonical_headers)),
            signed,
            hashlib.sha256(body).hexdigest(),
        ]
    )
    scope = f"{stamp[:8]}/{region}/{service}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(request.encode()).hexdigest()])
    key = _hmac(_hmac(_hmac(_hmac(f"AWS4{secret}".encode(), stamp[:8]), region), service), "aws4_request")
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def test_the_reference_implementation_gives_the_signature_aws_publishes() -> None:
    headers = {
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
        "Host": "iam.amazonaws.com",
        "X-Amz-Date": "20150830T123600Z",
    }
    url = "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08"

    assert signature(EXAMPLE_SECRET, "GET", url, headers, b"", "us-east-1", "iam", "20150830T123600Z") == (
        EXAMPLE_SIGNATURE
    )


def test_the_client_signs_as_the_algorithm_says(monkeypatch: pytest.MonkeyPatch) -> None:
    session = botocore.session.Session()
    monkeypatch.setattr(session, "get_credentials", lambda: Credentials(EXAMPLE_KEY, EXAMPLE_SECRET))
    client = RolloutsClient("https://abc123.execute-api.eu-west-1.amazonaws.com/v1", session=session)
    url = client.api_url + "/rollouts?status=Paused&endpoint=churn-predictor"
    body = b'{"reason": "wrong model"}'

    signed = client.sign("POST", url, body, {"Content-Type": "application/json"})

    stamp = signed["X-Amz-Date"]
    assert datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC) <= datetime.now(UTC)
    authorization = signed["Authorization"]
    assert authorization.startswith(f"AWS4-HMAC-SHA256 Credential={EXAMPLE_KEY}/{stamp[:8]}/eu-west-1/execute-api/")
    names = authorization.split("SignedHeaders=")[1].split(",")[0].split(";")
    headers = {name: value for name, value in signed.items() if name.lower() in names}
    headers["Host"] = "abc123.execute-api.eu-west-1.amazonaws.com"
    expected = signature(EXAMPLE_SECRET, "POST", url, headers, body, "eu-west-1", "execute-api", stamp)
    assert authorization.endswith(f"Signature={expected}")
