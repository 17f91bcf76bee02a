"""The API's limits: rate limits per API key (429) and the request body size (413), each named in the answer."""

from __future__ import annotations

import time
from collections.abc import Callable

from flask import Flask, current_app, g, request
from flask_smorest import Api, abort
from werkzeug.exceptions import RequestEntityTooLarge

from ..ratelimit import TokenBuckets, parse_rate, retry_after

RATE_LIMITS = "connector.rate_limits"


class RateLimits:
    """The app's buckets: one set for ingest (`POST /events`, `/events/batch`), one for the rest of the API."""

    def __init__(self, ingest: TokenBuckets | None, api: TokenBuckets | None, clock: Callable[[], float] = time.monotonic):
        self.ingest = ingest
        self.api = api
        self.clock = clock  # tests put a fake clock here

    def check(self) -> None:
        # Each proxy lookup (request, g) costs about 2 µs here: take the objects once.
        account = getattr(g._get_current_object(), "account", None)
        if account is None:
            return  # not an authenticated API call (health, docs): nothing to count against
        key = account.key_prefix
        req = request._get_current_object()
        ingest = req.method == "POST" and req.blueprint == "events"
        buckets = self.ingest if ingest else self.api
        if buckets is None:
            return
        wait = buckets.take(key, self.clock())
        if wait:
            seconds = retry_after(wait)
            setting = "CONNECTOR_RATE_LIMIT_INGEST" if ingest else "CONNECTOR_RATE_LIMIT_API"
            abort(
                429,
                message=f"rate limit of {buckets.rate.text} per API key exceeded ({setting}); retry after {seconds} s",
                headers={"Retry-After": str(seconds)},
            )


def init_limits(app: Flask, api: Api) -> None:
    """A 413 that names the limit; after authentication, count the request against its key.

    With both rate limits off nothing runs per request.
    """

    def too_large(error: RequestEntityTooLarge):
        most = current_app.config["MAX_CONTENT_LENGTH"]
        error.data = {"message": f"request body over {most} bytes, the limit (CONNECTOR_MAX_CONTENT_LENGTH)"}  # type: ignore[attr-defined]
        return api.handle_http_exception(error)

    app.register_error_handler(RequestEntityTooLarge, too_large)
    ingest = parse_rate(app.config["RATE_LIMIT_INGEST"], "CONNECTOR_RATE_LIMIT_INGEST")
    rest = parse_rate(app.config["RATE_LIMIT_API"], "CONNECTOR_RATE_LIMIT_API")
    if ingest is None and rest is None:
        return
    limits = RateLimits(ingest and TokenBuckets(ingest), rest and TokenBuckets(rest))
    app.extensions[RATE_LIMITS] = limits
    app.before_request(limits.check)
