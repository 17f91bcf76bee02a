"""What the per-key rate limit adds to a request: Flask's before-request step with and without it.

    python bench/ratelimit_overhead.py

With both limits off the check is not installed, so it adds nothing; this
measures the cost when one is on (best of several repeats, in microseconds).
"""

import os
import sys
import tempfile
import timeit

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from flask import g  # noqa: E402

from connector import create_app  # noqa: E402
from connector.api.limits import RATE_LIMITS  # noqa: E402
from connector.services.accounts import AccountView  # noqa: E402


def best(fn, number: int = 50_000, repeat: int = 7) -> float:
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number * 1e6


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "DATABASE_URL": f"sqlite:///{os.path.join(tmp, 'c.sqlite')}",
                "DISPATCHER": False,
                "RATE_LIMIT_INGEST": "1000000000/second",
                "RATE_LIMIT_API": "1000000000/second",
            }
        )
        check = app.extensions[RATE_LIMITS].check
        with app.test_request_context("/api/v1/events", method="POST"):
            g.account = AccountView(1, "bench", None, "abcdefghijkl")  # type: ignore[arg-type]
            installed = app.before_request_funcs[None]
            app.before_request_funcs[None] = [check]
            with_check = best(app.preprocess_request)
            app.before_request_funcs[None] = []
            without = best(app.preprocess_request)
            app.before_request_funcs[None] = installed
            alone = best(check)
        app.extensions["connector.db"].dispose()
    print(f"rate-limit check alone: {alone:.2f} µs")
    print(f"before-request step: {with_check:.2f} µs with the check, {without:.2f} µs without: +{with_check - without:.2f} µs")


if __name__ == "__main__":
    main()
