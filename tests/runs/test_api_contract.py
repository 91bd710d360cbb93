"""What the API answers about an executed run (steps with outputs, metrics, logs, table
previews, per-class curves) conforms to its OpenAPI schema, the one the canvas's types come
from. The fuzz run checks the same of every endpoint, but its runs never execute."""
from __future__ import annotations

import pytest
import schemathesis
import yaml
from django.core.wsgi import get_wsgi_application
from rest_framework.authtoken.models import Token
from schemathesis.checks import response_schema_conformance

from designer.runs import execution, services
from designer.samples import SAMPLES_DIR

pytestmark = pytest.mark.django_db

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())


def test_an_executed_runs_answers_match_the_schema(user, store_dirs, in_test_transaction):
    document = yaml.safe_load((SAMPLES_DIR / "iris-multiclass.yaml").read_text())
    run = services.run_submit(user=user, document=document)
    execution.run_execute(run=run)
    assert run.status == "completed"
    headers = {"Authorization": f"Token {Token.objects.create(user=user).key}"}
    step = {"run_id": str(run.pk), "node": "score"}
    answers = [
        ("/api/runs/", {}, {"status": "completed"}),
        ("/api/runs/{id}/", {"id": str(run.pk)}, {}),
        ("/api/runs/{run_id}/steps/{node}/logs/", step, {}),
        ("/api/runs/{run_id}/steps/{node}/metrics/", {**step, "node": "evaluate"}, {}),
        ("/api/runs/{run_id}/steps/{node}/outputs/{port}/preview/", {**step, "port": "dataset"}, {"sort": "-class"}),
        ("/api/runs/{run_id}/steps/{node}/outputs/{port}/class-curves/", {**step, "port": "dataset"}, {}),
    ]
    for path, path_parameters, query in answers:
        case = schema[path]["GET"].Case(path_parameters=path_parameters, query=query)
        response = case.call(headers=headers)
        assert response.status_code == 200, (path, response.text)
        case.validate_response(response, checks=[response_schema_conformance], headers=headers)
