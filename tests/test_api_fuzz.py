"""Schemathesis against /api/schema/, for the pipelines, runs and datasets APIs: whatever
it sends, valid by the schema or not, the answer is never a 5xx.

Requests go in-process to Django's WSGI handler, inside the test's transaction. Bounded
(20 examples per operation, positive and negative) so that it stays a unit-test-time run.
"""
from __future__ import annotations

import io

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token

from designer.datasets import services as dataset_services
from designer.pipelines import services
from designer.runs import services as run_services
from schemathesis.checks import not_a_server_error, response_schema_conformance, status_code_conformance

from .pipelines.conftest import document

RUN_DOCUMENT = {
    "format": "atelier/pipeline@1", "name": "fuzzed",
    "nodes": {"typed": {"module": "enter_data_manually", "params": {"data": "x,y\n1,2\n"}}},
}
OPERATIONS = r"^/api/(pipelines|modules|auth|runs|datasets|compute)/"


@pytest.fixture
def token(django_user_model) -> Token:
    user = django_user_model.objects.create_user("fuzz", password="fuzz-password-1")
    return Token.objects.create(user=user)


# Loaded at collection: serving the schema needs no database. (A fixture-loaded schema,
# `schemathesis.pytest.from_fixture`, does not work with pytest 9 in schemathesis 4.32.)
def structured_4xx(ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case) -> None:
    """Every 4xx says what went wrong in the API's one error shape."""
    if 400 <= response.status_code < 500:
        errors = response.json()["errors"]
        assert errors and all(isinstance(e["code"], str) and isinstance(e["message"], str) for e in errors), errors


schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application()).include(
    path_regex=OPERATIONS
)


@schema.parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_makes_a_server_error(case, token, in_test_transaction):
    # Aim at objects that exist (and are the caller's), so that bodies reach the services;
    # other ids are the permission tests' business. Runs are recorded, never executed: their
    # dispatch waits for a commit that the test's transaction never makes.
    if case.path.startswith("/api/pipelines/{id}"):
        case.path_parameters["id"] = services.pipeline_create(user=token.user, document=document()).pk
    elif case.path.startswith("/api/runs/{"):
        run = run_services.run_submit(user=token.user, document=RUN_DOCUMENT)
        key = "id" if "id" in case.path_parameters else "run_id"
        case.path_parameters[key] = str(run.pk)
        if "node" in case.path_parameters and case.path_parameters["node"] not in RUN_DOCUMENT["nodes"]:
            case.path_parameters["node"] = "typed"
    elif case.path.startswith("/api/datasets/{id}"):
        version = dataset_services.dataset_upload(user=token.user, file=io.BytesIO(b"a,b\n1,2\n"), filename="t.csv")
        case.path_parameters["id"] = version.dataset_id
    case.call_and_validate(
        headers={"Authorization": f"Token {token.key}"},
        checks=[not_a_server_error, structured_4xx, response_schema_conformance, status_code_conformance],
    )
