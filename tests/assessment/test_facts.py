"""Assessment facts through the real transitions: one immutable fact per callback round, exclusion
facts, frozen membership, the causes of a recomputation's differences (issue 13).

The month worked by hand (rule set: calendar months, default weights 0.1 / 0.5 / 0.4, basic 0.9,
each round's valid callback counts in the period of its callback time — the documented default):

西罗园街道 (110106003), October 2026, round-1 callbacks:
  A  5 Oct  contacted  resolved    satisfied
  B  8 Oct  contacted  resolved    basic
  C 12 Oct  contacted  unresolved  unsatisfied  → re-dispatched (round 2) to 西罗园, called back
                                                  3 Nov: contacted, resolved, satisfied
  D 20 Oct  not contacted resolved satisfied    → exclusion approved 25 Oct (before the freeze),
                                                  revoked 10 Nov (after the freeze)
  E 28 Oct  not contacted resolved satisfied
右安门街道 (110106001): F 15 Oct contacted resolved satisfied (an unrelated street).

October frozen on 6 Nov (D excluded): counted A B C E
  valid 4, contacted 3 (A B C) → 75 %; resolved 3 (A B E) → 75 %;
  satisfaction (2 satisfied A E + 0.9 × 1 basic B) / 4 = 72.5 %;
  composite 100 × (0.1 × 0.75 + 0.5 × 0.75 + 0.4 × 0.725) = 74.00; excluded 1, total 5.
October recomputed on 11 Nov (D counts again): valid 5, contacted 3/5 = 60 %, resolved 4/5 = 80 %,
  satisfaction (3 + 0.9) / 5 = 78 %, composite 100 × (0.06 + 0.4 + 0.312) = 77.20, excluded 0.
  The only difference: the revocation of D's exclusion (西罗园's row and 丰台's district row);
  右安门 (100.00, 1st) is unchanged and does not appear.
November: C's round-2 callback counts: 西罗园 valid 1, composite 100.00; October keeps C's round-1
  answer (unsatisfied) in the frozen figures, the frozen drill-down and the recomputation.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from assessment import facts, rulesets
from assessment.models import CallbackFact, ExclusionFact, FactImmutable, Scope, Snapshot, SnapshotRow
from assessment.snapshots import selectors, services
from hotline.errors import DomainError
from tests.callbacks.conftest import close, make_order
from tests.factories import unit
from workorders.lifecycle import callbacks, exclusions
from workorders.lifecycle.callbacks import Answers
from workorders.models import WorkOrder

pytestmark = pytest.mark.django_db
BJ = ZoneInfo("Asia/Shanghai")
XILUOYUAN, YOUANMEN, FENGTAI = "110106003", "110106001", "110106"


def bj(*args) -> datetime:
    return datetime(*args, tzinfo=BJ)


def answered(order, at, *, contacted=True, solved="resolved", satisfaction="satisfied", actor, comment=""):
    close(order, at=at.replace(hour=9))
    return callbacks.callback_record(
        order.pk, actor=actor, answers=Answers(contacted, solved, satisfaction, comment), now=at
    )


@pytest.fixture
def month(agent, city_admin, xiluoyuan_handler, fengtai_manager):
    rulesets.ruleset_publish(acting_user=city_admin, period_start_day=1, min_valid_callbacks=1, bottom_n=1)
    orders = {}
    for key, day, street in [("A", 5, XILUOYUAN), ("B", 8, XILUOYUAN), ("C", 12, XILUOYUAN)]:
        orders[key] = make_order(agent, street_code=street, now=bj(2026, 10, day - 3))
    orders["D"] = make_order(agent, now=bj(2026, 10, 17))
    orders["E"] = make_order(agent, now=bj(2026, 10, 25))
    orders["F"] = make_order(agent, street_code=YOUANMEN, now=bj(2026, 10, 12))
    answered(orders["A"], bj(2026, 10, 5, 15), actor=agent)
    answered(orders["B"], bj(2026, 10, 8, 15), satisfaction="basic", actor=agent)
    answered(
        orders["C"],
        bj(2026, 10, 12, 15),
        solved="unresolved",
        satisfaction="unsatisfied",
        actor=agent,
        comment="还是漏水",
    )
    answered(orders["D"], bj(2026, 10, 20, 15), contacted=False, actor=agent)
    answered(orders["E"], bj(2026, 10, 28, 15), contacted=False, actor=agent, comment="没人联系我")
    answered(orders["F"], bj(2026, 10, 15, 15), actor=agent)
    request = exclusions.exclusion_request(
        orders["D"],
        actor=xiluoyuan_handler,
        reason="malicious",
        explanation="恶意重复来电",
        files=[],
        now=bj(2026, 10, 22),
    )
    exclusions.exclusion_decide_district(request, actor=fengtai_manager, approve=True, now=bj(2026, 10, 23))
    exclusions.exclusion_decide_city(request, actor=city_admin, approve=True, now=bj(2026, 10, 25))
    # C's round 2 (re-dispatched to 西罗园), closed again and answered on 3 November.
    c = WorkOrder.objects.get(pk=orders["C"].pk)
    assert c.round == 2
    answered(c, bj(2026, 11, 3, 15), actor=agent)
    return {"orders": orders, "request": request}


def row(snapshot, code, scope=Scope.STREET):
    return SnapshotRow.objects.get(snapshot=snapshot, scope=scope, unit__code=code)


def behind(user, snapshot, code, measure, scope=Scope.STREET):
    return list(selectors.orders_behind(user, snapshot=snapshot, unit=unit(code), scope=scope, measure=measure))


def test_the_month_worked_by_hand(month, city_admin, client):
    orders, request = month["orders"], month["request"]
    # one fact per round; C has two, its round-1 fact unchanged by round 2
    c_facts = list(
        CallbackFact.objects.filter(order=orders["C"])
        .order_by("round")
        .values_list("round", "satisfaction", "solved", "callback_at")
    )
    assert [(r, s, v) for r, s, v, _at in c_facts] == [(1, "unsatisfied", "unresolved"), (2, "satisfied", "resolved")]

    # October frozen on 6 November
    frozen = services.snapshot_freeze(period="2026-10", now=bj(2026, 11, 6))
    x = row(frozen, XILUOYUAN)
    assert (x.total_orders, x.valid, x.contacted, x.resolved, x.satisfied, x.basic, x.unsatisfied, x.excluded) == (
        5,
        4,
        3,
        3,
        2,
        1,
        1,
        1,
    )
    assert (x.response_rate, x.resolution_rate, x.satisfaction_rate, x.composite) == pytest.approx(
        (0.75, 0.75, 0.725, 74.00)
    )
    frozen_counts = list(SnapshotRow.objects.filter(snapshot=frozen).order_by("id").values())
    drill_before = {
        m: [(f.order_id, f.round, f.satisfaction) for f in behind(city_admin, frozen, XILUOYUAN, m)]
        for m in ("valid", "unsatisfied", "excluded", "total")
    }
    assert drill_before["unsatisfied"] == [(orders["C"].pk, 1, "unsatisfied")]
    assert [o for o, _r, _s in drill_before["excluded"]] == [orders["D"].pk]

    # the exclusion revoked after the freeze: a fact of its own pointing at the approval
    exclusions.exclusion_revoke(request, actor=city_admin, note="复核：非恶意来电", now=bj(2026, 11, 10))
    approval = ExclusionFact.objects.get(order=orders["D"], kind="approved")
    revocation = ExclusionFact.objects.get(order=orders["D"], kind="revoked")
    assert revocation.revokes == approval and revocation.at == bj(2026, 11, 10)

    # the frozen figures and the frozen drill-down are unchanged …
    assert list(SnapshotRow.objects.filter(snapshot=frozen).order_by("id").values()) == frozen_counts
    drill_after = {
        m: [(f.order_id, f.round, f.satisfaction) for f in behind(city_admin, frozen, XILUOYUAN, m)]
        for m in drill_before
    }
    assert drill_after == drill_before
    # … and the drill-down says that D's current state differs (its exclusion was revoked)
    [d] = behind(city_admin, frozen, XILUOYUAN, "excluded")
    assert selectors.differs_now(d) == ["exclusion"]
    assert all(selectors.differs_now(f) == [] for f in behind(city_admin, frozen, XILUOYUAN, "valid"))
    page = client_as(client, city_admin).get(
        "/assessment/orders/", {"snapshot": frozen.pk, "unit": unit(XILUOYUAN).pk, "measure": "total"}
    )
    html = page.content.decode()
    assert page.status_code == 200 and "剔除已撤销" in html and "还是漏水" in html and "没人联系我" in html

    # October recomputed: exactly the revocation is the difference
    recomputed = services.snapshot_recompute(
        period="2026-10", acting_user=city_admin, label="撤销剔除后重算", now=bj(2026, 11, 11)
    )
    y = row(recomputed, XILUOYUAN)
    assert (y.valid, y.contacted, y.resolved, y.satisfied, y.basic, y.unsatisfied, y.excluded) == (5, 3, 4, 3, 1, 1, 0)
    assert (y.response_rate, y.resolution_rate, y.satisfaction_rate, y.composite) == pytest.approx(
        (0.6, 0.8, 0.78, 77.20)
    )
    changed = {(d["scope"], d["unit_id"]) for d in recomputed.differences}
    assert changed == {(Scope.STREET, unit(XILUOYUAN).pk), (Scope.DISTRICT, unit(FENGTAI).pk)}
    causes = [c for d in recomputed.differences for c in d["causes"]]
    assert {(c["kind"], c["fact_kind"], c["fact_id"], c["order_id"]) for c in causes} == {
        ("exclusion_revoked", "exclusion", revocation.pk, orders["D"].pk)
    }
    detail = client.get(f"/assessment/snapshots/{recomputed.pk}/")
    assert detail.status_code == 200 and "剔除被撤销" in detail.content.decode()
    assert f"/admin/assessment/exclusionfact/{revocation.pk}/change/" in detail.content.decode()

    # November counts C's round-2 callback; October keeps its round-1 answer
    november = services.snapshot_compute_provisional(period="2026-11", now=bj(2026, 11, 12))
    n = row(november, XILUOYUAN)
    assert (n.valid, n.satisfied, n.composite) == (1, 1, 100.0)
    assert [(f.order_id, f.round) for f in behind(city_admin, november, XILUOYUAN, "valid")] == [(orders["C"].pk, 2)]
    assert (y.unsatisfied, row(frozen, XILUOYUAN).unsatisfied) == (1, 1)


def client_as(client, user):
    client.force_login(user)
    return client


def test_a_recomputation_equal_to_the_frozen_result_says_so(month, city_admin, client):
    services.snapshot_freeze(period="2026-10", now=bj(2026, 11, 6))
    again = services.snapshot_recompute(period="2026-10", acting_user=city_admin, label="复核", now=bj(2026, 11, 7))
    assert again.differences == []
    page = client_as(client, city_admin).get(f"/assessment/snapshots/{again.pk}/")
    assert "重算结果与冻结结果完全一致" in page.content.decode()


def test_a_corrected_callback_and_a_reassignment_are_causes_linking_the_new_fact(month, city_admin):
    frozen = services.snapshot_freeze(period="2026-10", now=bj(2026, 11, 6))
    fact_b = CallbackFact.objects.get(order=month["orders"]["B"])
    # when: the city moves B to 右安门 (re-assigned) with a reason
    new = facts.correct(fact_b, acting_user=city_admin, reason="实为右安门辖区", assessed_unit_id=unit(YOUANMEN).pk)
    recomputed = services.snapshot_recompute(
        period="2026-10", acting_user=city_admin, label="更正", now=bj(2026, 11, 8)
    )
    # then: 西罗园 and 右安门 differ, each naming the correction and the re-assignment of B's new fact
    by_unit = {d["unit_id"]: d for d in recomputed.differences if d["scope"] == Scope.STREET}
    for code in (XILUOYUAN, YOUANMEN):
        kinds = {(c["kind"], c["fact_id"]) for c in by_unit[unit(code).pk]["causes"]}
        assert kinds == {("callback_corrected", new.pk), ("reassigned", new.pk)}
    # the old fact is untouched and no longer current; the frozen drill-down still lists it, marked
    fact_b.refresh_from_db()
    assert fact_b.assessed_unit_id == unit(XILUOYUAN).pk and new.supersedes_id == fact_b.pk
    listed = {f.pk: f for f in behind(city_admin, frozen, XILUOYUAN, "valid")}
    assert selectors.differs_now(listed[fact_b.pk]) == ["corrected"]


# --- facts never move -----------------------------------------------------------------------------
def test_facts_cannot_be_changed_or_deleted_and_a_correction_needs_a_reason(month, city_admin):
    fact = CallbackFact.objects.filter(order=month["orders"]["A"]).get()
    fact.satisfaction = "unsatisfied"
    with pytest.raises(FactImmutable):
        fact.save()
    with pytest.raises(FactImmutable):
        fact.delete()
    with pytest.raises(FactImmutable):
        CallbackFact.objects.filter(pk=fact.pk).update(satisfaction="basic")
    with pytest.raises(FactImmutable):
        CallbackFact.objects.filter(pk=fact.pk).delete()
    with pytest.raises(FactImmutable):
        ExclusionFact.objects.all().delete()
    with pytest.raises(DomainError):
        facts.correct(fact, acting_user=city_admin, reason="  ", satisfaction="basic")
    assert CallbackFact.objects.get(pk=fact.pk).satisfaction == "satisfied"
    assert CallbackFact.objects.filter(supersedes=fact).count() == 0


def test_the_admin_shows_facts_read_only(month, city_admin, client):
    from hotline.accounts import twofactor

    client.force_login(city_admin)
    session = client.session
    session[twofactor.SESSION_KEY] = city_admin.pk
    session.save()
    fact = CallbackFact.objects.filter(order=month["orders"]["A"]).get()
    url = f"/admin/assessment/callbackfact/{fact.pk}/change/"
    assert client.get(url).status_code == 200  # view only
    client.post(url, {"satisfaction": "unsatisfied", "round": 1})
    assert client.post(f"/admin/assessment/callbackfact/{fact.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.get("/admin/assessment/callbackfact/add/").status_code == 403
    assert CallbackFact.objects.get(pk=fact.pk).satisfaction == "satisfied"
    excl = ExclusionFact.objects.first()
    assert client.post(f"/admin/assessment/exclusionfact/{excl.pk}/delete/", {"post": "yes"}).status_code == 403
    assert ExclusionFact.objects.filter(pk=excl.pk).exists()


def test_saving_a_round_twice_makes_one_fact(agent):
    order = close(make_order(agent))
    for _ in range(2):
        callbacks.callback_record(order.pk, actor=agent, answers=Answers(True, "resolved", "satisfied"), round=1)
    assert CallbackFact.objects.filter(order=order).count() == 1


def test_an_unreachable_callback_is_a_fact_that_is_not_valid(agent, settings):
    settings.CALLBACK_MAX_FAILED_ATTEMPTS, settings.CALLBACK_UNREACHABLE_MIN_DAYS = 2, 2
    order = close(make_order(agent, now=bj(2026, 10, 1)), at=bj(2026, 10, 2))
    callbacks.callback_attempt(order.pk, actor=agent, result="no_answer", now=bj(2026, 10, 3, 10))
    callbacks.callback_attempt(order.pk, actor=agent, result="no_answer", now=bj(2026, 10, 4, 10))
    fact = CallbackFact.objects.get(order=order)
    assert (fact.valid, fact.invalid_reason, fact.round) == (False, "unreachable", 1)


def test_first_valid_counting_leaves_a_later_round_out(month, city_admin):
    rulesets.ruleset_publish(acting_user=city_admin, counting="first_valid")
    november = services.snapshot_compute_provisional(period="2026-11", now=bj(2026, 11, 12))
    assert (
        SnapshotRow.objects.filter(snapshot=november, scope=Scope.STREET, unit__code=XILUOYUAN, valid__gt=0).count()
        == 0
    )
    assert Snapshot.objects.filter(pk=november.pk, ruleset__counting="first_valid").exists()


def test_the_frozen_drill_down_is_scoped_and_ordered_by_what_cost_points(month, city_admin, xiluoyuan_handler, client):
    frozen = services.snapshot_freeze(period="2026-10", now=bj(2026, 11, 6))
    orders = month["orders"]
    # 西罗园's own handler: its facts, except D — now led by nobody else, still its own order
    mine = selectors.orders_behind(
        xiluoyuan_handler,
        snapshot=frozen,
        unit=unit(XILUOYUAN),
        scope=Scope.STREET,
        measure="valid",
        focus="satisfaction",
    )
    assert [f.order_id for f in mine[0:10]][:1] == [orders["C"].pk]  # the unsatisfied one first
    assert mine.count() == 4
    # the page, with the satisfaction focus, for the city
    client.force_login(city_admin)
    resp = client.get(
        "/assessment/orders/",
        {"snapshot": frozen.pk, "unit": unit(XILUOYUAN).pk, "measure": "valid", "focus": "satisfaction"},
    )
    assert resp.status_code == 200 and resp.context["count"] == 4
    assert resp.context["page"].object_list[0].order_id == orders["C"].pk
    # an export of the frozen figure lists the same four
    csv = b"".join(
        client.get(
            "/assessment/orders.csv", {"snapshot": frozen.pk, "unit": unit(XILUOYUAN).pk, "measure": "valid"}
        ).streaming_content
    ).decode()
    assert all(orders[k].number in csv for k in "ABCE") and orders["D"].number not in csv
