"""A small router for API Gateway REST proxy events (payload format 1.0): routes, error handlers, JSON responses.

API Gateway has already matched each request to one of the API's resources and methods before the function runs,
and the event says which: `resource` is the template's path (`/rollouts/{rollout_id}`), `httpMethod` the method, and
`pathParameters` the values of the path's `{names}`. The router looks that pair up among its routes, registered
with the same paths as the template's Api events, and passes the path parameters to the route; it does not match
the path again.

The API functions need a handful of routes. Powertools' `event_handler` package would do it too, but importing it
loads every resolver it has (AppSync with asyncio, all the event data classes, the OpenAPI models), which took the
API function past its cold-import target (docs/architecture.md, "Where code lives").

Usage, in the style of Powertools' resolvers:

    app = Router()

    @app.get("/rollouts/{rollout_id}")
    def get(rollout_id: str) -> dict[str, Any]: ...

    @app.exception_handler(RolloutNotFoundError)
    def not_found(error: RolloutNotFoundError) -> Response: ...

    def lambda_handler(event, context):
        return app.resolve(event, context)

Every error is answered with an `ErrorResponse` body (`rollouts.models.api`), built by `error_response`.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias, TypeVar

JSON_CONTENT_TYPE = "application/json"

_NO_BODY = object()


def _dumps(value: Any) -> str:
    """Compact JSON, as Powertools serialises what a route returns, so that response bodies stay byte for byte."""
    return json.dumps(value, separators=(",", ":"))


@dataclass(frozen=True)
class Response:
    """What a route or an exception handler answers: a status, the JSON text of the body, and extra headers."""

    status: int
    body: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, value: Any, headers: Mapping[str, str] | None = None) -> Response:
        """A response whose body is `value` serialised as compact JSON."""
        return cls(status, _dumps(value), headers or {})

    def to_proxy(self) -> dict[str, Any]:
        """The dict a Lambda proxy integration returns to API Gateway."""
        return {
            "statusCode": self.status,
            "headers": {"Content-Type": JSON_CONTENT_TYPE, **self.headers},
            "body": self.body,
            "isBase64Encoded": False,
        }


RouteResult: TypeAlias = Response | dict[str, Any] | list[Any]
"""What a route returns: a Response, or a value that is sent as JSON with status 200."""
RouteFunction = TypeVar("RouteFunction", bound=Callable[..., RouteResult])
Handled = TypeVar("Handled", bound=Exception)


def error_response(
    status: int,
    error: str,
    message: str,
    details: list[dict[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """The answer to an error: its status and headers, and an `ErrorResponse` body `{"error", "message", "details"}`,
    written the same way by every route (pydantic's compact JSON, UTF-8)."""
    # Imported on the first error: the module loads the rollout models, which feedback_api and ab_invoke need for
    # nothing else, and their cold start would pay for them.
    from rollouts.models.api import ErrorResponse

    body = ErrorResponse(error=error, message=message, details=details or [])
    return Response(status, body.model_dump_json(), headers or {})


def invalid_request(details: list[dict[str, str]]) -> Response:
    """400 InvalidRequest with one {field, reason} per problem; the message lists them as `field: reason; ...`."""
    message = "; ".join(f"{d['field']}: {d['reason']}" for d in details)
    return error_response(400, "InvalidRequest", message, details)


MAX_BODY_BYTES = 1_048_576  # a request body larger than this is answered 413 before any route reads it


class HTTPError(Exception):
    """An error with its own HTTP answer; the router sends it unless an exception handler for its class is set."""

    status = 500
    error = "InternalError"

    def __init__(
        self, message: str, details: list[dict[str, Any]] | None = None, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []
        self.headers = dict(headers or {})

    def response(self) -> Response:
        return error_response(self.status, self.error, self.message, self.details, self.headers)


class BadRequestError(HTTPError):
    """The request cannot be read: a body that is not JSON, or not valid base64 when it says it is (400)."""

    status = 400
    error = "InvalidRequest"


class PayloadTooLargeError(HTTPError):
    """The body is larger than the route takes (413); the message names the limit."""

    status = 413
    error = "PayloadTooLarge"


class NotFoundError(HTTPError):
    """No route has this resource (404)."""

    status = 404
    error = "NotFound"


class MethodNotAllowedError(HTTPError):
    """The resource has routes but not for this method (405); `Allow` lists the methods it has."""

    status = 405
    error = "MethodNotAllowed"

    def __init__(self, method: str, path: str, allowed: list[str]) -> None:
        super().__init__(
            f"{method} is not allowed on {path}; allowed: {', '.join(allowed)}", headers={"Allow": ", ".join(allowed)}
        )
        self.allowed = allowed


def _invalid_body(reason: str) -> BadRequestError:
    return BadRequestError(f"body: {reason}", [{"field": "body", "reason": reason}])


class Request:
    """The event being handled, read lazily: the body is decoded and parsed only when a route asks for it."""

    def __init__(self, event: Mapping[str, Any], context: Any) -> None:
        self.raw = event
        self.context = context
        self._json: Any = _NO_BODY

    @property
    def method(self) -> str:
        return str(self.raw.get("httpMethod") or "").upper()

    @property
    def resource(self) -> str:
        """The API's resource API Gateway matched, as the template spells it: `/rollouts/{rollout_id}`."""
        return str(self.raw.get("resource") or "")

    @property
    def path(self) -> str:
        return str(self.raw.get("path") or "/")

    @property
    def path_parameters(self) -> dict[str, str]:
        """The values of the resource's `{names}` in the request's path, as API Gateway passed them."""
        return dict(self.raw.get("pathParameters") or {})

    @property
    def query_parameters(self) -> dict[str, list[str]]:
        """The query string's parameters, each with every value it was given (API Gateway's multi-value form)."""
        multi = self.raw.get("multiValueQueryStringParameters") or {}
        if multi:
            return {str(name): [str(value) for value in values or []] for name, values in multi.items()}
        single = self.raw.get("queryStringParameters") or {}
        return {str(name): [str(value)] for name, value in single.items()}

    @property
    def headers(self) -> dict[str, str]:
        """The headers as API Gateway passed them (names in the client's case)."""
        return dict(self.raw.get("headers") or {})

    def header(self, name: str) -> str | None:
        """One header by name, whatever its case."""
        wanted = name.lower()
        return next((value for key, value in self.headers.items() if key.lower() == wanted), None)

    @property
    def request_id(self) -> str:
        """API Gateway's id of the request (`requestContext.requestId`)."""
        return str((self.raw.get("requestContext") or {}).get("requestId") or "")

    @property
    def body(self) -> str | None:
        """The body as text, decoded from base64 when API Gateway encoded it; None when the request has none."""
        body = self.raw.get("body")
        if body is None or not self.raw.get("isBase64Encoded"):
            return body if body is None else str(body)
        try:
            return base64.b64decode(body, validate=True).decode("utf-8")
        except ValueError as error:
            raise _invalid_body("not valid base64-encoded UTF-8") from error

    @property
    def json_body(self) -> Any:
        """The body parsed as JSON; None when the request has no body. A body that is not JSON is a 400."""
        if self._json is _NO_BODY:
            text = self.body
            try:
                self._json = json.loads(text) if text else None
            except json.JSONDecodeError as error:
                raise _invalid_body(f"Invalid JSON: {error}") from error
            except RecursionError as error:
                raise _invalid_body("Invalid JSON: nested deeper than the parser's recursion limit") from error
        return self._json


class Router:
    """Routes API Gateway REST proxy events by the resource and method API Gateway matched; maps exceptions to answers.

    A route is registered under a resource as the template's Api event spells it (`/rollouts/{rollout_id}`), and its
    function takes the resource's path parameters as keyword arguments. An event for a resource without routes is
    answered 404, one for a resource without a route for its method 405. The exception handler of the most specific
    class of a raised exception answers it; an exception with no handler propagates (Lambda reports it and API
    Gateway answers 502), as with Powertools.
    """

    def __init__(
        self, max_body_bytes: int = MAX_BODY_BYTES, translate: Callable[[Exception], Exception] | None = None
    ) -> None:
        """`translate` turns an exception a route raised into the one the handlers answer (an SDK's errors into
        the project's, say) before a handler is looked for."""
        self.max_body_bytes = max_body_bytes
        self._translate = translate
        self._routes: dict[tuple[str, str], Callable[..., RouteResult]] = {}
        self._handlers: dict[type[Exception], Callable[[Any], Response]] = {}
        self._current: Request | None = None

    @property
    def routes(self) -> set[tuple[str, str]]:
        """(method, resource) of every route."""
        return set(self._routes)

    @property
    def current_event(self) -> Request:
        """The request being resolved; only inside `resolve` (in a route or an exception handler)."""
        if self._current is None:
            raise RuntimeError("no request is being resolved")
        return self._current

    def route(self, method: str, resource: str) -> Callable[[RouteFunction], RouteFunction]:
        """Register a route; the function takes the resource's path parameters as keyword arguments."""
        if not resource.startswith("/"):
            raise ValueError(f"a route's resource starts with '/': {resource!r}")
        key = (method.upper(), resource)
        if key in self._routes:
            raise ValueError(f"{key[0]} {resource} has a route already")

        def register(function: RouteFunction) -> RouteFunction:
            self._routes[key] = function
            return function

        return register

    def get(self, resource: str) -> Callable[[RouteFunction], RouteFunction]:
        return self.route("GET", resource)

    def post(self, resource: str) -> Callable[[RouteFunction], RouteFunction]:
        return self.route("POST", resource)

    def put(self, resource: str) -> Callable[[RouteFunction], RouteFunction]:
        return self.route("PUT", resource)

    def delete(self, resource: str) -> Callable[[RouteFunction], RouteFunction]:
        return self.route("DELETE", resource)

    def exception_handler(
        self, kind: type[Handled]
    ) -> Callable[[Callable[[Handled], Response]], Callable[[Handled], Response]]:
        """Register the answer to exceptions of class `kind` (and its subclasses without a handler of their own)."""

        def register(function: Callable[[Handled], Response]) -> Callable[[Handled], Response]:
            self._handlers[kind] = function
            return function

        return register

    def resolve(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        """Answer one API Gateway REST proxy event with the proxy response dict."""
        request = Request(event, context)
        self._current = request
        try:
            return self._answer(request).to_proxy()
        finally:
            self._current = None

    def _answer(self, request: Request) -> Response:
        try:
            route = self._routes.get((request.method, request.resource))
            if route is None:
                raise self._no_route(request)
            size = len(request.raw.get("body") or "")
            if size > self.max_body_bytes:
                reason = f"the body is {size:,} bytes; this API takes at most {self.max_body_bytes:,}"
                raise PayloadTooLargeError(f"body: {reason}", [{"field": "body", "reason": reason}])
            result = route(**request.path_parameters)
            return result if isinstance(result, Response) else Response.json(200, result)
        except Exception as raised:
            error = self._translate(raised) if self._translate else raised
            handler = self._handler_for(error)
            if handler is not None:
                return handler(error)
            if isinstance(error, HTTPError):
                return error.response()
            if error is not raised:
                raise error from raised
            raise

    def _no_route(self, request: Request) -> HTTPError:
        allowed = sorted(method for method, resource in self._routes if resource == request.resource)
        if allowed:
            return MethodNotAllowedError(request.method, request.path, allowed)
        return NotFoundError(f"no route for {request.method} {request.path}")

    def _handler_for(self, error: Exception) -> Callable[[Any], Response] | None:
        for kind in type(error).__mro__:
            if kind in self._handlers:
                return self._handlers[kind]
        return None
