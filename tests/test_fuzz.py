"""Schemathesis against /openapi.json with a valid key: no 5xx, every answer as documented.

Bounded and derandomized, so CI runs the same few hundred cases every time; a longer run
by hand: `schemathesis run http://127.0.0.1:8000/openapi.json -H "Authorization: Bearer KEY"`.
"""

import tempfile

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi import checks

from connector import create_app
from connector.services import accounts, utcnow

_app = create_app(
    {
        "TESTING": True,
        "DATABASE_URL": f"sqlite:///{tempfile.mkdtemp(prefix='connector-fuzz-')}/fuzz.sqlite",
        "DISPATCHER": False,
    }
)
with _app.extensions["connector.db"].session() as _session:
    _, KEY = accounts.create_account(_session, "fuzz", utcnow())
    _session.commit()

schema = schemathesis.openapi.from_wsgi("/openapi.json", _app)

CHECKS = [
    schemathesis.checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
]


@schema.parametrize()
@settings(
    max_examples=12,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_answers_as_documented(case):
    case.call_and_validate(headers={"Authorization": f"Bearer {KEY}"}, checks=CHECKS)
