"""Property: no body, however absurd, gets a 5xx from any intake route (hypothesis).

Every generated body is correctly signed for its route (Standard Webhooks for /webhooks/generic,
Zendesk's HMAC, Jira's X-Hub-Signature, the Freshdesk and YouTrack tokens, an API key for
/intake/tickets), so it gets past the signature check into parsing, validation and storage, and is
posted over real HTTP on loopback to the real app (SQLite, and PostgreSQL when it is running). The
bodies: the providers' documented payloads with one field replaced by anything (wrong types, deep
nesting, huge numbers, NaN, odd unicode including NUL and lone surrogates), random JSON, raw
fragments, random bytes; delivery ids and Idempotency-Keys of any length. Afterwards every ticket
that was accepted is still there, unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.settings import Settings
from tests.integration.conftest import serve_in_thread
from tests.integration.test_bad_input_http import ROUTES, VALID, Sender, jira_issue, snapshot
from tests.integration.test_webhooks_providers import settings_for
from tests.integration.test_writeback_e2e import pg_url as pg_url  # the fixture: a throwaway schema
from tests.unit.test_webhook_providers import ADF_DOC, JIRA_ISSUE_CREATED, ZENDESK_EVENT

pytestmark = pytest.mark.integration
EXAMPLES = {"sqlite": 500, "postgresql": 400}
PLACEHOLDER = "__HYPOTHESIS_VALUE__"

# ---- strategies ----------------------------------------------------------------------------------

# any code point: NUL, other control characters, lone surrogates (json.dumps writes them as \u escapes)
any_text = st.text(alphabet=st.characters(exclude_categories=[]), max_size=40)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | any_text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(any_text, children, max_size=4),
    max_leaves=12,
)


def _nested(n: int, kind: str) -> bytes:
    return b"[" * n + b"]" * n if kind == "[" else b'{"a": ' * n + b"0" + b"}" * n


# raw JSON text a serializer would never write: deep nesting, huge numbers, non-JSON constants
absurd_fragments = st.one_of(
    st.builds(_nested, st.integers(1, 12_000), st.sampled_from("[{")),
    st.integers(1, 6000).map(lambda n: b"9" * n),
    st.integers(1, 6000).map(lambda n: b"-0." + b"1" * n),
    st.sampled_from([b"1e999", b"-1e400", b"NaN", b"Infinity", b"-Infinity", b"1E+308", b"5e-324"]),
    st.sampled_from([b'"\\u0000"', b'"\\ud800"', b'"\\udfff\\ud800"', b'"a\\u0000\\ud83d"']),
)
fragments = st.one_of(json_values.map(lambda v: json.dumps(v).encode()), absurd_fragments)


def _paths(value: object, prefix: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """Every path to a value inside a payload (dict keys and list indexes), the root excluded."""
    out: list[tuple[object, ...]] = []
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else []
    for key, child in items:
        out.append((*prefix, key))
        out.extend(_paths(child, (*prefix, key)))
    return out


def _replace(payload: Any, path: tuple[object, ...], fragment: bytes) -> bytes:
    """The payload's JSON with the value at `path` replaced by the raw `fragment`."""
    copy = json.loads(json.dumps(payload))
    node = copy
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = PLACEHOLDER
    return json.dumps(copy).replace(json.dumps(PLACEHOLDER), fragment.decode("utf-8", "surrogatepass"), 1).encode()


# what a route's mutations start from: its documented payload, and the other shapes it takes
_DATE = {"type": "date", "attrs": {"timestamp": "1711113600000"}}
_ADF = {**ADF_DOC, "content": [*ADF_DOC["content"], {"type": "paragraph", "content": [_DATE]}]}
BASES: dict[str, list[dict[str, Any]]] = {route: [VALID[route]] for route in ROUTES}
BASES["zendesk"].append(ZENDESK_EVENT)
BASES["jira"].append(jira_issue(fields={**JIRA_ISSUE_CREATED["issue"]["fields"], "description": _ADF}))


@st.composite
def mutated(draw: st.DrawFn, route: str) -> bytes:
    """A valid payload of the route with one field (at any depth) replaced by anything."""
    payload = draw(st.sampled_from(BASES[route]))
    path = draw(st.sampled_from(_paths(payload)))
    return _replace(payload, path, draw(fragments))


@st.composite
def with_extras(draw: st.DrawFn, route: str) -> bytes:
    """A valid payload of the route with extra members of any value (ignored fields must stay harmless)."""
    base = json.dumps(VALID[route]).encode()
    extras = draw(st.lists(st.tuples(any_text, fragments), min_size=1, max_size=3))
    members = b"".join(b", " + json.dumps(k).encode() + b": " + v for k, v in extras)
    return base[:-1] + members + b"}"


# the fields ids come from (stored in VARCHAR columns, part of delivery ids): where odd text hurts most
ID_PATHS: dict[str, list[tuple[object, ...]]] = {
    "generic": [("external_id",)],
    "intake": [("external_id",)],
    "zendesk": [("ticket_id",), ("delivery_id",)],
    "jira": [("issue", "key"), ("issue", "id")],
    "freshdesk": [("ticket_id",)],
    "youtrack": [("id",), ("idReadable",)],
}
odd_ids = st.one_of(
    st.text(alphabet=st.characters(exclude_categories=[]), min_size=1, max_size=300),
    st.text(alphabet="\x00\ud800\udfffa\u00e9\U0001f600", min_size=1, max_size=8),
    st.integers(200, 300).map(lambda n: "7" * n),
).map(lambda v: json.dumps(v).encode())


@st.composite
def odd_id(draw: st.DrawFn, route: str) -> bytes:
    """A valid payload of the route with an id field replaced by odd text or anything else."""
    return _replace(VALID[route], draw(st.sampled_from(ID_PATHS[route])), draw(odd_ids | fragments))


def bodies(route: str) -> st.SearchStrategy[bytes]:
    return st.one_of(
        mutated(route),
        mutated(route),  # twice as likely: it reaches the deepest code
        odd_id(route),
        st.sampled_from(BASES[route]).map(lambda v: json.dumps(v).encode()),  # as documented: stored
        with_extras(route),
        json_values.map(lambda v: json.dumps(v).encode()),
        absurd_fragments,
        st.binary(max_size=200),
    )


# delivery ids / Idempotency-Keys: none, short, or far longer than the 255-character column
header_text = st.characters(min_codepoint=0x21, max_codepoint=0x7E)
delivery_ids = st.one_of(
    st.none(),
    st.text(alphabet=header_text, min_size=1, max_size=40),
    st.text(alphabet=header_text, min_size=250, max_size=400),
)


@st.composite
def requests(draw: st.DrawFn) -> tuple[str, bytes, str | None]:
    route = draw(st.sampled_from(ROUTES))
    return route, draw(bodies(route)), draw(delivery_ids)


# ---- the property --------------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, Settings]:
    url = f"sqlite:///{tmp_path / 'triage.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    return request.param, settings_for(tmp_path, database_url=url)


@pytest.fixture
def service(backend: tuple[str, Settings]) -> Iterator[tuple[str, Settings, httpx.Client]]:
    name, app_settings = backend
    with serve_in_thread(app_settings) as url, httpx.Client(base_url=url, timeout=60) as client:
        yield name, app_settings, client


def test_no_intake_body_gets_a_5xx(service: tuple[str, Settings, httpx.Client]) -> None:
    name, app_settings, client = service
    sender = Sender(client, app_settings)
    accepted: dict[str, Any] = {}

    @settings(
        max_examples=EXAMPLES[name],
        deadline=None,
        database=None,  # no .hypothesis/ directory in the repository
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
    )
    @given(requests())
    def post_anything(request: tuple[str, bytes, str | None]) -> None:
        route, body, delivery = request
        r = sender.post(route, body, delivery=delivery)
        assert r.status_code < 500, (route, r.status_code, r.text[:500], body[:300])
        assert r.status_code in (200, 202, 400, 413, 422), (route, r.status_code, r.text[:500])  # never 401
        answer = r.json()
        if r.status_code >= 400:
            assert answer["error"] and answer["detail"], answer
        elif r.status_code == 202:
            accepted[answer["ticket_id"]] = route

    post_anything()

    # nothing accepted was lost or changed by what came after it
    stored = snapshot(app_settings)
    assert set(accepted) <= set(stored)
    headers = {"authorization": "Bearer test-api-key"}
    for ticket_id in accepted:
        got = client.get(f"/tickets/{ticket_id}", headers=headers)
        assert got.status_code == 200 and got.json()["status"] == "received", got.text
