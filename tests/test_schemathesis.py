"""Property-based API test: schemathesis drives every operation the served OpenAPI document
(``/v1/swagger.json``) describes, over real HTTP against the live API with real conductors.

Two checks, and no exclusions: no answer is a 5xx (``not_a_server_error``) and every answer
matches the schema the document declares for its status code, error answers included
(``response_schema_conformance``). Each operation gets schema-valid (positive) and
schema-breaking (negative) requests; path parameters are either generated or name resources
that exist (a node, a port, a live conductor, a driver), so operations get past their 404s.

The operations are driven through ``APIOperation.as_strategy`` rather than
``schemathesis.pytest.from_fixture``: the lazy loader needs the live server's URL at
collection time otherwise, and it sets ``Item._nodeid``, which pytest 9 no longer has.
Failures are collected for every operation and reported together.

CI-bounded and deterministic: :data:`MAX_EXAMPLES` per operation and mode, derandomized
generation, no example database, no deadline (the live system shares two cores).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.helpers import create_node
from tests.secure_api import PASSWORDS
from tests.services import LiveAPI

MAX_EXAMPLES = 100
#: Fewer per operation through ``http_basic``: the three users triple the requests.
AUTH_EXAMPLES = 15
CHECKS = [not_a_server_error, response_schema_conformance]


def _node_uuids(api: LiveAPI) -> set[str]:
    return {n["uuid"] for n in api.get("/v1/nodes", params={"fields": "uuid"}).json()["nodes"]}


@pytest.fixture
def known(system: dict[str, Any], api: LiveAPI) -> Iterator[dict[str, list[str]]]:
    """Values of each path parameter that name existing resources (fresh for each run: the
    deletions at the end of a run remove them). The nodes a run creates (some in conductor
    groups nobody serves) are deleted afterwards, so later tests' listings do not see them."""
    existing = _node_uuids(api)
    node = create_node(api)
    mac = ":".join(["52", "54", *(node["uuid"][i : i + 2] for i in (0, 2, 4, 6))])
    port = api.post("/v1/ports", json={"address": mac, "node_uuid": node["uuid"]})
    assert port.status_code == 201, port.text
    conductors = [c["hostname"] for c in api.get("/v1/conductors").json()["conductors"]]
    yield {
        "ident": [node["name"], node["uuid"]],
        "uuid": [port.json()["uuid"]],
        "hostname": conductors,
        "name": ["fake-hardware"],
    }
    for uuid in _node_uuids(api) - existing:
        api.delete(f"/v1/nodes/{uuid}")


def _towards_success(case: Any, pick: int, known: dict[str, list[str]]) -> Any:
    """Point a generated request at things that exist, so that it can get past its 404s
    and unknown-driver 400s: path parameters, the driver of a new node, the node of a new
    port, and JSON Patch paths (moved under ``/extra``)."""
    for name in case.path_parameters or {}:
        if known.get(name):
            case.path_parameters[name] = known[name][pick % len(known[name])]
    body = case.body
    if isinstance(body, dict) and case.operation.path == "/nodes":
        body["driver"] = "fake-hardware"
    elif isinstance(body, dict) and case.operation.path == "/ports":
        body["node_uuid"] = known["ident"][1]
    elif isinstance(body, list):
        for op in body:
            for key in ("path", "from"):
                if isinstance(op, dict) and isinstance(op.get(key), str):
                    op[key] = "/extra/" + op[key].lstrip("/")
    return case


def _exercise(
    operation: Any,
    mode: GenerationMode,
    known: dict[str, list[str]],
    statuses: Counter[int],
    examples: int = MAX_EXAMPLES,
    auth: tuple[str, str] | None = None,
) -> None:
    """Send up to ``examples`` requests to ``operation`` (as ``auth``), checking each answer."""
    generated = operation.as_strategy(mode)
    steered = st.tuples(generated, st.integers(0, 7)).map(
        lambda drawn: _towards_success(drawn[0], drawn[1], known)
    )

    @given(case=st.one_of(generated, steered))
    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        extra = {} if auth is None else {"auth": auth}
        statuses[case.call_and_validate(checks=CHECKS, **extra).status_code] += 1

    try:
        run()
    except Unsatisfiable:
        # Negative mode: nothing in the operation can break the schema on the wire (its only
        # inputs are string path parameters), so there is no negative request to send.
        assert mode is GenerationMode.NEGATIVE, operation.label


def _run_all(
    api: LiveAPI,
    mode: GenerationMode,
    known: dict[str, list[str]],
    examples: int = MAX_EXAMPLES,
    auth: tuple[str, str] | None = None,
) -> Counter[int]:
    """Every operation, each failing one reported; returns the statuses seen."""
    schema = schemathesis.openapi.from_url(f"{api.url}/v1/swagger.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 27, [op.label for op in operations]
    failures: list[str] = []
    statuses: Counter[int] = Counter()
    # Deletions last, so the other operations still find the node and the port.
    for operation in sorted(operations, key=lambda op: op.method.upper() == "DELETE"):
        try:
            _exercise(operation, mode, known, statuses, examples, auth)
        except Exception as exc:  # every failing operation is reported, not only the first
            failures.append(f"{operation.label}: {exc}")
    print(f"{mode}: {sum(statuses.values())} requests, statuses {sorted(statuses.items())}")
    assert not failures, "\n\n".join(failures)
    return statuses


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_answers_conform_to_the_openapi_document(
    api: LiveAPI, known: dict[str, list[str]], mode: GenerationMode
) -> None:
    statuses = _run_all(api, mode, known)
    if mode is GenerationMode.POSITIVE:  # the steering reached the successful paths
        assert {200, 201, 202, 204} <= set(statuses), statuses


@pytest.mark.parametrize("user", ["admin", "reader", "nobody"])
def test_authenticated_answers_conform_to_the_openapi_document(
    secure_api: LiveAPI, known: dict[str, list[str]], user: str
) -> None:
    """The same checks through ``http_basic``, as an admin, a reader (403 on writes, masked
    answers) and a user in no role (403 everywhere): every 401/403/409 is declared."""
    statuses = _run_all(
        secure_api, GenerationMode.POSITIVE, known, AUTH_EXAMPLES, (user, PASSWORDS[user])
    )
    if user == "nobody":
        assert set(statuses) <= {403, 200}, statuses  # 200: the public version documents
    else:
        assert 200 in statuses and (user == "admin" or 403 in statuses), statuses
