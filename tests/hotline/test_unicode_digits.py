"""Ids, pages, counts and codes are ASCII digits (hotline.numbers): "²", "①", "١٢٣", "１٢٣", 30 digits
or 1e400 in any of them is a 400 or a 404 for every role that reaches it — never a 5xx, never another
id than the one sent ("١٢٣" is not order 123) — and changes nothing. Digits in free text stay text.

The sweep walks every URL pattern of the project (new endpoints are covered without a change here):
each id in a path is replaced by the bad values; each request parameter a view reads (found by
sending it an empty request and watching which parameters it looks up) that names a number is sent
the bad values, as a query, a form and a JSON body."""

# ruff: noqa: F811 — the intake and order fixtures are imported from their conftest modules
from __future__ import annotations

import json
import os
import re
from contextlib import contextmanager

import pytest
from django.apps import apps
from django.core.cache import cache
from django.http import QueryDict
from django.urls import URLPattern, URLResolver, get_resolver

from hotline import numbers
from hotline.intake.open311 import hash_key
from hotline.models import ApiClient, Call
from tests.factories import UserFactory, login_to_admin, unit
from tests.intake.conftest import _fresh_reference_caches, intake_data, intake_reference  # noqa: F401
from tests.workorders.conftest import category, make_order  # noqa: F401
from workorders.lifecycle import handling
from workorders.models import OrderState, WorkOrder

ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
BAD_TEXT = ["²", "①", "١٢٣", "１２３", "1" * 30, "1e400"]
# Parameters that carry an id, a page, a count or a numeric code, wherever a view reads them.
NUMBER_NAME_RE = re.compile(
    r"^(page|pk|id|ids|.*_id|.*_ids|order|orders|unit|district|street|community|section|member|owner|days|"
    r"snapshot|lead_unit|reroute_unit|duplicate_of|category_id|call|link|article)$"
)
# Parameters that are ids or pages wherever they appear: a bad one is refused (400/404), never
# answered as if absent. (district, street, community are division codes in some lists, matched
# as text: a code that is no code finds nothing.)
STRICT_NAMES = {"page", "snapshot", "orders", "lead_unit", "duplicate_of", "reroute_unit", "article"}
# Nothing to learn from these, and some end the session. A phone reveal and a token are written
# whatever else the request carries.
SKIP_PATHS = re.compile(
    r"^(admin/(?!2fa/)|logout/|i18n/|api/v1/schema|api/v1/docs|live/stream|login/|e/|.*reveal-phone|.*token/)"
)
# Path parameters that are not numbers: filled with a value the view accepts.
PATH_FILLERS = {"fmt": "json", "format": "json", "scope": "streets", "action": "sign", "decision": "accept"}


# --- the URL map ------------------------------------------------------------------------------
def _patterns(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from _patterns(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern)


_PARAM_RE = re.compile(r"<(?:(\w+):)?(\w+)>|\(\?P<(\w+)>[^)]*\)")


def _route(pattern: str) -> tuple[str, tuple[str, ...]] | None:
    """A fillable path template ("orders/{pk}/") and its parameter names, or None when the pattern
    is a format-suffix duplicate or otherwise not a plain path."""
    if "(?P<format>" in pattern or "<drf_format_suffix" in pattern or SKIP_PATHS.match(pattern.lstrip("^")):
        return None
    names: list[str] = []

    def fill(match):
        name = match.group(2) or match.group(3)
        names.append(name)
        return "{" + name + "}"

    template = _PARAM_RE.sub(fill, pattern).replace("^", "").replace("$", "").replace("\\.", ".")
    if re.search(r"[\\()\[\]?*+]", template):
        return None
    return "/" + template, tuple(names)


ROUTES = sorted({r for p in _patterns() if (r := _route(p))}, key=lambda r: r[0])


def _path(template: str, names: tuple[str, ...], ids: dict, bad: str | None = None, bad_name: str | None = None) -> str:
    values = {n: PATH_FILLERS.get(n, ids.get(n, ids["pk"])) for n in names}
    if bad_name:
        values[bad_name] = bad
    return template.format(**values)


# --- what a view reads --------------------------------------------------------------------------
@contextmanager
def _watch_parameters():
    """The names a view looks up in the parameters it was sent (request.GET of a GET, request.POST
    of a POST; also through forms and DRF)."""
    seen: set[str] = set()
    originals = {name: getattr(QueryDict, name) for name in ("get", "__getitem__", "getlist", "__contains__")}

    def watching(original):
        def method(self, key, *args, **kwargs):
            if "_probe" in self.keys():  # the probe's own parameters, not another request's
                seen.add(key)
            return original(self, key, *args, **kwargs)

        return method

    for name, original in originals.items():
        setattr(QueryDict, name, watching(original))
    try:
        yield seen
    finally:
        for name, original in originals.items():
            setattr(QueryDict, name, original)


def _fingerprint() -> dict:
    """Rows per table of our apps, and every order's and call's state: what a refused request must
    leave as it was."""
    rows = {
        model._meta.label: model.objects.count()
        for label in ("hotline", "workorders", "assessment", "districts")
        for model in apps.get_app_config(label).get_models()
    }
    orders = WorkOrder.objects.order_by("pk")
    rows["orders"] = list(orders.values_list("pk", "state", "lead_unit_id", "section_id", "assignee_id"))
    rows["calls"] = list(Call.objects.order_by("pk").values_list("pk", "description", "address"))
    return rows


# --- the actors ---------------------------------------------------------------------------------
ROLES = ["anonymous", "agent", "street", "district", "department", "city"]


@pytest.fixture
def world(intake_reference, make_order, agent, xiluoyuan_handler, fengtai_manager, water_dept_handler, city_admin):
    order = handling.order_sign(make_order(), actor=xiluoyuan_handler)
    api_user = UserFactory(role="agent", unit=unit("11-center"), username="open311-probe")
    key = "probe-311-key-0123456789"
    ApiClient.objects.create(name="探测应用", key_prefix=key[:10], key_hash=hash_key(key), acting_user=api_user)
    users = {
        "agent": agent,
        "street": xiluoyuan_handler,
        "district": fengtai_manager,
        "department": water_dept_handler,
        "city": city_admin,
    }
    ids = {"pk": order.pk, "unit_id": order.lead_unit_id, "link_pk": 1, "evidence_id": 1, "code": "010102"}
    return {"order": order, "users": users, "ids": ids, "api_key": key}


def _client_for(client, world, role):
    client.raise_request_exception = False  # a 500 is an answer to report, not an exception
    if role == "city":
        login_to_admin(client, world["users"]["city"])
    elif role != "anonymous":
        client.force_login(world["users"][role])
    return client


def _bad_values(order_pk: int) -> list[str]:
    # besides the brief's values: the order's own id in other scripts, which int() would accept
    return [*BAD_TEXT, str(order_pk).translate(ARABIC_INDIC), str(order_pk).translate(FULLWIDTH)]


def _send(client, method: str, path: str, params: dict | None = None, *, as_json: bool = False):
    cache.clear()  # rate counters: the sweep sends far more than a person would
    if method == "GET":
        return client.get(path, params or {})
    if as_json:
        return client.post(path, json.dumps(params or {}), content_type="application/json")
    return client.post(path, params or {})


def _raw_json(client, path: str, name: str, literal: str):
    cache.clear()
    return client.post(path, f'{{"{name}": {literal}}}', content_type="application/json")


# --- the sweep ----------------------------------------------------------------------------------
# The sweep is long (every route × every value): it runs for the roles whose pages differ most (no
# login, a street, a district, the city), once per database, not again under the fixed-clock run.
SWEEP_ROLES = ["anonymous", "street", "district", "city"]


@pytest.mark.skipif(bool(os.environ.get("HOTLINE_TEST_CLOCK")), reason="parsing does not depend on the clock")
@pytest.mark.parametrize("role", SWEEP_ROLES)
def test_no_number_parameter_anywhere_answers_5xx_or_changes_anything(client, world, role):
    # given: which number parameters each view reads, as this role
    client = _client_for(client, world, role)
    ids = world["ids"]
    bad_values = _bad_values(world["order"].pk)
    reads = []
    for template, names in ROUTES:
        path = _path(template, names, ids)
        for method in ("GET", "POST"):
            with _watch_parameters() as seen:
                _send(client, method, path, {"_probe": "1", "api_key": world["api_key"]})
            names_read = sorted(n for n in seen if isinstance(n, str) and NUMBER_NAME_RE.match(n))
            reads += [(method, path, name) for name in names_read]
    before = _fingerprint()
    failures = []

    def check(response, what, *, strict):
        status = response.status_code
        if status >= 500 or (strict and status not in (400, 404) and status < 300):
            failures.append(f"{what} → {status}")

    # when: an id in the path is not ASCII digits (the path converter is one rule for every route:
    # a superscript and the real order id in another script stand for all the bad values here)
    path_values = [BAD_TEXT[0], str(world["order"].pk).translate(ARABIC_INDIC)]
    for template, names in ROUTES:
        for name in (n for n in names if n not in PATH_FILLERS):
            for bad in path_values:
                path = _path(template, names, ids, bad, name)
                for method in ("GET", "POST"):
                    check(_send(client, method, path), f"{method} {path}", strict=True)
    # when: a number parameter the view reads is not ASCII digits
    for method, path, name in reads:
        strict = name in STRICT_NAMES
        for bad in bad_values:
            params = {name: bad, "api_key": world["api_key"]}
            check(_send(client, method, path, params), f"{method} {path} {name}={bad}", strict=strict)
            if method == "POST" and path.startswith("/api/"):
                response = _send(client, method, path, params, as_json=True)
                check(response, f"POST json {path} {name}={bad}", strict=strict)
        if method == "POST" and path.startswith("/api/"):
            for literal in ("1e400", "1" * 30, '"' + "1" * 30 + '"'):
                check(_raw_json(client, path, name, literal), f"POST json {path} {name}={literal}", strict=strict)

    # then
    assert not failures, "\n".join(failures)
    assert _fingerprint() == before


# --- the shapes the issue names, one by one --------------------------------------------------------
@pytest.mark.parametrize("bad", BAD_TEXT)
def test_open311_page_without_login_is_a_400(client, world, bad):
    response = client.get("/open311/v2/requests.json", {"service_request_id": "x", "page": bad})
    assert response.status_code == 400
    assert response.json()[0]["code"] == 400


@pytest.mark.parametrize("bad", BAD_TEXT)
def test_intake_duplicate_of_is_a_400_and_no_call_is_made(intake_reference, client, world, bad):
    client.force_login(world["users"]["agent"])
    before = _fingerprint()
    body = intake_data(action="duplicate", duplicate_of=bad)
    response = client.post("/api/v1/intake/", json.dumps(body), content_type="application/json")
    assert response.status_code == 400, response.content
    assert _fingerprint() == before


@pytest.mark.parametrize("bad", BAD_TEXT)
def test_bulk_sign_of_bad_ids_signs_nothing(client, make_order, xiluoyuan_handler, bad):
    # given
    order = make_order()
    client.force_login(xiluoyuan_handler)
    # when: what is not an id selects nothing (the order's own id in Arabic-Indic digits neither)
    for value in (bad, str(order.pk).translate(ARABIC_INDIC)):
        response = client.post("/orders/bulk/sign/", {"orders": value}, HTTP_ACCEPT_LANGUAGE="en", follow=True)
        # then
        assert response.status_code == 200
        assert "Select the orders to sign first." in response.content.decode()
    order.refresh_from_db()
    assert order.state == OrderState.DISPATCHED


def test_an_order_id_in_arabic_indic_digits_is_not_that_order(client, world):
    order = world["order"]
    client.force_login(world["users"]["street"])
    assert client.get(f"/api/v1/orders/{order.pk}/").status_code == 200
    assert client.get(f"/api/v1/orders/{str(order.pk).translate(ARABIC_INDIC)}/").status_code == 404
    assert client.get(f"/api/v1/orders/{str(order.pk).translate(FULLWIDTH)}/").status_code == 404


def test_a_description_of_25_digits_is_text(intake_reference, client, agent):
    client.force_login(agent)
    digits = "1234567890123456789012345"
    body = intake_data(description=digits, address="丰台区洋桥北里" + "1" * 25)
    response = client.post("/api/v1/intake/", json.dumps(body), content_type="application/json")
    assert response.status_code == 201, response.content
    assert Call.objects.filter(description=digits).exists()


def test_parse_id_takes_ascii_digits_within_the_id_range_only():
    assert numbers.parse_id("42") == 42
    assert numbers.parse_id(" 42 ") == 42
    assert numbers.parse_id(42) == 42
    for bad in ["²", "①", "١٢٣", "１２３", "1" * 19, "1e400", "-1", "0", "+1", "", True, 1.0, None, 10**18]:
        assert numbers.parse_id(bad) is None, bad
    assert numbers.parse_id("9" * 18) == 10**18 - 1
