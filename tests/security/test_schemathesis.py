"""Every operation of the OpenAPI schema (drf-spectacular), driven by schemathesis as three roles:
no answer may be a 5xx, and every documented answer must match its schema. Bounded: a few
examples per operation and role (the suite's other tests cover behaviour)."""

import json

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, Phase
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from hotline.accounts.tokens import token_create
from tests.factories import UserFactory, unit

ROLES = {
    "agent": ("agent", "11-center"),
    "street": ("street", "110106003"),
    "city": ("city", "11-center"),
}
EXAMPLES = 4


def _load_schema():
    # the schema exactly as /api/v1/schema/ serves it, generated in-process (no login needed)
    document = SchemaGenerator().get_schema(request=None, public=True)
    loaded = schemathesis.openapi.from_dict(json.loads(OpenApiJsonRenderer().render(document)))
    loaded.app = get_wsgi_application()
    return loaded


schema = _load_schema()


@pytest.fixture
def tokens(db, make_order):
    # as Django's test client does: the request's end must not close the test's connection
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    make_order()  # something to find behind the ids
    yield {
        name: token_create(user=UserFactory(role=role, unit=unit(code), is_staff=role == "city"))
        for name, (role, code) in ROLES.items()
    }
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
@hypothesis_settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_no_operation_answers_5xx_or_outside_its_schema(case, tokens):
    for token in tokens.values():
        case.call_and_validate(
            headers={"Authorization": f"Token {token}"},
            checks=[not_a_server_error, response_schema_conformance, content_type_conformance],
        )
