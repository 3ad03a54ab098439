import pytest

from hotline.errors import AccessDenied
from hotline.intake.services import IntakeInvalid, call_intake, normalize_phone
from hotline.models import Call, DispatchRule, KnowledgeArticle
from tests.factories import division, unit
from tests.intake.conftest import intake_data
from workorders.models import OrderEvent, OrderParticipant, WorkOrder

pytestmark = pytest.mark.django_db


def _counts():
    return Call.objects.count(), WorkOrder.objects.count(), OrderEvent.objects.count()


def test_it_creates_and_dispatches_an_order_to_the_street_of_the_address(agent):
    # when
    result = call_intake(acting_user=agent, data=intake_data())
    # then
    order = result.order
    assert result.outcome == Call.Outcome.ORDER
    assert order.lead_unit.code == "110106003"  # 西罗园街道
    assert order.community.name == "洋桥北里社区"
    assert order.category.code == "010102" and order.tier.code == "T24H"  # the category's default tier
    assert "直派" in result.dispatch.reason
    call = Call.objects.get(pk=result.call.pk)
    assert call.outcome == Call.Outcome.ORDER and call.street.code == "110106003" and call.district.code == "110106"
    assert call.caller_phone == "13811012345" and call.agent == agent
    assert list(order.events.values_list("kind", flat=True)) == ["created"]


def test_it_sends_a_burst_water_main_to_the_district_water_authority_with_the_street_co_handling(agent):
    result = call_intake(acting_user=agent, data=intake_data(category="020102", description="路边水管爆裂，水漫进小区"))
    order = result.order
    assert order.lead_unit.code == "110106-water"
    roles = set(OrderParticipant.objects.filter(order=order).values_list("unit__code", "role"))
    assert ("110106003", "co") in roles and ("110106", "supervisor") in roles
    assert "水管爆裂" in result.dispatch.reason and "丰台区水务局" in result.dispatch.reason


def test_the_most_specific_rule_wins(agent):
    # given: a street-scoped rule for 西罗园 beside the city-wide one for 供水
    rule = DispatchRule.objects.create(
        category=DispatchRule.objects.get(category__code="0201", street=None).category,
        street=division("110106003"),
        target=DispatchRule.Target.UNIT,
        unit=unit("11-water-group"),
        note="西罗园供水由自来水集团直接主办",
    )
    # when: 停水 (under 供水) in 西罗园, and in 右安门
    here = call_intake(acting_user=agent, data=intake_data(category="020101", description="全楼停水一天了"))
    there = call_intake(
        acting_user=agent,
        data=intake_data(
            category="020101", description="全楼停水一天了", address="丰台区右安门外玉林小区", phone="13811019999"
        ),
    )
    # then
    assert here.order.lead_unit.code == "11-water-group" and here.dispatch.rule_id == rule.pk
    assert there.order.lead_unit.code == "110106001"
    assert "北京市自来水集团" in [u.name for u in there.dispatch.co_units]


def test_the_agents_chosen_street_wins_over_the_routing(agent):
    result = call_intake(acting_user=agent, data=intake_data(street="110106001"))
    assert result.order.lead_unit.code == "110106001"


def test_it_answers_a_consultation_directly_without_an_order(agent):
    # given
    article = KnowledgeArticle.objects.create(title="居住证办理", body="携带身份证到派出所申领。", keywords="居住证")
    # when
    result = call_intake(
        acting_user=agent,
        data=intake_data(
            request_type="consultation", category="100401", address="", action="answer", article=str(article.pk)
        ),
    )
    # then
    call = Call.objects.get(pk=result.call.pk)
    assert call.outcome == Call.Outcome.DIRECT_ANSWER
    assert call.answer == article.body and call.answer_article == article
    assert not WorkOrder.objects.exists()


def test_it_links_a_repeat_call_to_the_open_order(agent):
    first = call_intake(acting_user=agent, data=intake_data())
    result = call_intake(
        acting_user=agent, data=intake_data(phone="13900000000", action="duplicate", duplicate_of=first.order.number)
    )
    assert result.outcome == Call.Outcome.DUPLICATE
    assert WorkOrder.objects.count() == 1
    assert WorkOrder.objects.get().duplicate_count == 1
    assert Call.objects.get(pk=result.call.pk).outcome == Call.Outcome.DUPLICATE


def test_an_explicit_tier_overrides_the_default(agent):
    result = call_intake(acting_user=agent, data=intake_data(tier="T2H"))
    assert result.order.tier.code == "T2H"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"phone": "12345"}, "phone"),
        ({"phone": "2345678901234"}, "phone"),
        ({"phone": ""}, "phone"),
        ({"category": "9999"}, "category"),
        ({"category": "0101"}, "category"),  # not a leaf
        ({"category": ""}, "category"),
        ({"address": ""}, "address"),
        ({"address": "火星基地七号舱"}, "address"),
        ({"address": "<b>丰台区洋桥北里</b>"}, "address"),
        ({"caller_name": "<script>alert(1)</script>"}, "caller_name"),
        ({"caller_name": "张" * 51}, "caller_name"),
        ({"description": ""}, "description"),
        ({"description": "漏" * 2001}, "description"),
        ({"tier": "T99"}, "tier"),
        ({"street": "999999999"}, "street"),
        ({"request_type": "gossip"}, "request_type"),
        ({"action": "answer", "answer": ""}, "answer"),
        ({"action": "duplicate", "duplicate_of": "20990101000001"}, "duplicate_of"),
        ({"action": "answer", "article": "999999"}, "article"),
    ],
)
def test_bad_input_gets_a_field_message_and_saves_nothing(agent, overrides, field):
    # given
    before = _counts()
    # when
    with pytest.raises(IntakeInvalid) as exc:
        call_intake(acting_user=agent, data=intake_data(**overrides))
    # then
    assert field in exc.value.errors, exc.value.errors
    assert all(exc.value.errors[field])
    assert _counts() == before


def test_a_caller_without_a_number_is_accepted_when_said_so(agent):
    result = call_intake(acting_user=agent, data=intake_data(phone="", no_number="1"))
    assert Call.objects.get(pk=result.call.pk).caller_phone == ""


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("138 1101 2345", "13811012345"),
        ("+8613811012345", "13811012345"),
        ("010-12345678", "01012345678"),
        ("01063521234", "01063521234"),
        ("0571-8765432", "05718765432"),
        ("63521234", "01063521234"),
    ],
)
def test_it_normalises_mainland_numbers(raw, normal):
    assert normalize_phone(raw) == normal


@pytest.mark.parametrize("raw", ["12812345678", "1381101234", "010-1234", "00000000", "abc"])
def test_it_rejects_what_is_not_a_phone_number(raw):
    with pytest.raises(ValueError):
        normalize_phone(raw)


@pytest.mark.parametrize("actor", ["xiluoyuan_handler", "fengtai_manager", "water_dept_handler"])
def test_only_agents_and_the_city_take_calls(request, actor):
    user = request.getfixturevalue(actor)
    before = _counts()
    with pytest.raises(AccessDenied):
        call_intake(acting_user=user, data=intake_data())
    assert _counts() == before


def test_the_city_may_take_a_call(city_admin):
    assert call_intake(acting_user=city_admin, data=intake_data()).order is not None


def test_a_failure_inside_order_creation_rolls_the_call_back(agent):
    # given: a catalogue line that points at a unit which cannot handle orders (the center itself),
    # so order_create refuses after the call row was already inserted in the transaction
    from hotline.errors import DomainError
    from hotline.models import Category

    DispatchRule.objects.create(
        category=Category.objects.get(code="010102"), target=DispatchRule.Target.UNIT, unit=unit("11-center")
    )
    before = _counts()
    # when
    with pytest.raises(DomainError):
        call_intake(acting_user=agent, data=intake_data())
    # then
    assert _counts() == before


def test_a_name_in_two_districts_is_not_guessed(agent):
    # given: 小黄庄社区 exists in 东城 (和平里街道) and 朝阳 (和平街街道)
    before = _counts()
    # when
    with pytest.raises(IntakeInvalid) as exc:
        call_intake(acting_user=agent, data=intake_data(address="小黄庄社区3号楼"))
    # then: the agent is asked to choose, with both places named
    message = exc.value.errors["street"][0]
    assert "和平里街道" in message and "和平街街道" in message
    assert _counts() == before
    # and once the district is said, it goes through
    result = call_intake(acting_user=agent, data=intake_data(address="朝阳区小黄庄社区3号楼"))
    assert result.order.lead_unit.name == "和平街街道"
