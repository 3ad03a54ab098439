"""Who may see and do what: the one place that decides it.

Every list, page, export, API endpoint and task scopes its querysets through the functions here,
so that a street never sees another street's data and a rule changes in one place.
"""

from __future__ import annotations

from typing import TypeAlias, TypeVar

from django.contrib.auth.models import AnonymousUser
from django.db.models import Exists, Model, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext

from districts.models import Division, Section, Unit
from hotline.errors import AccessDenied, DomainError
from hotline.models import Call, Role, User
from workorders.models import ExclusionRequest, OrderParticipant, WorkOrder

# Whoever asks: a signed-in user, the anonymous visitor of a public page, or nobody at all (the
# citizen answering through a self-evaluation link). Only an active, signed-in user has a role.
Viewer: TypeAlias = User | AnonymousUser | None
_M = TypeVar("_M", bound=Model)


def signed_in(user: Viewer) -> User | None:
    """The user, if signed in and active; None for anyone else."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    return user


def role_of(user: Viewer) -> str | None:
    account = signed_in(user)
    if account is None:
        return None
    return account.role or None


def has_role(user: Viewer, *roles: str) -> bool:
    return role_of(user) in roles


def require_role(user: Viewer, *roles: str) -> None:
    if not has_role(user, *roles):
        raise AccessDenied()


def can_use_admin(user: Viewer) -> bool:
    # Superusers exist for the first install; day to day the admin is the city center's.
    account = signed_in(user)
    if account is None:
        return False
    return account.is_superuser or (account.role == Role.CITY and account.is_staff)


# --- Role gates: which roles may use which capability ------------------------------------------
# The one table. Navigation shows an entry exactly when the page behind it lets the user in; page
# views call require(), API views use the matching permission class (hotline.web.api.gate); what a
# role then sees inside a capability is decided by the scoping functions further down.
class Cap:
    TAKE_CALLS = "take_calls"  # the agent's workspace, intake API, caller history, duplicates
    CALLS = "calls"  # the call list and call API (scoped: a street its own calls)
    ORDERS = "orders"  # the inbox, the order page and the orders API (scoped by unit)
    SUPERVISE = "supervise"  # the district's supervision page
    CALL_BACK = "call_back"  # the callback queue and callbacks (回访)
    EXCLUSIONS = "exclusions"  # exclusion requests: list, detail, decisions (scoped)
    REQUEST_EXCLUSION = "request_exclusion"  # filing one (the lead unit's handler)
    ASSESSMENT = "assessment"  # rankings, scorecards and the orders behind a figure (scoped)
    ASSESSMENT_MANAGE = "assessment_manage"  # snapshots, rule sets, dashboards, governance, reports
    RULE_ASSESSMENT = "rule_assessment"  # publish rule sets, freeze/recompute, pick 每月一题
    HANDLE = "handle"  # act on an order as its lead unit, co-handler or whistled unit (by unit)
    ANSWER_WHISTLE = "answer_whistle"  # report (报到) when whistled in
    REVIEW_ALIASES = "review_aliases"  # accept/reject aliases learned from agents' hand-chosen places
    SEARCH = "search"  # the global search in the top bar (results scoped by visible_orders)
    # 二次派单: the center of a street/department assigns orders inside the unit and keeps its
    # sections; which user is the center (no section) is decided by is_unit_center() below.
    DISPATCH_INTERNAL = "dispatch_internal"
    FORECASTS = "forecasts"  # 未诉先办: expected orders per week (scoped by forecast_area)
    STAFFING = "staffing"  # the center's calls per half hour and the seats they need
    # 并单: the city center merges any open orders of one incident, a lead unit's center its own
    # (see workorders/lifecycle/merging.py); only the city undoes a merge.
    MERGE = "merge"
    UNDO_MERGE = "undo_merge"


ALL_ROLES = frozenset({Role.AGENT, Role.STREET, Role.DEPARTMENT, Role.DISTRICT, Role.CITY})
GATES: dict[str, frozenset[str]] = {
    # Agents take calls; the city center may too (it covers the hall at peaks). Streets, districts
    # and departments receive orders but never register calls or search caller histories.
    Cap.TAKE_CALLS: frozenset({Role.AGENT, Role.CITY}),
    Cap.CALLS: frozenset({Role.AGENT, Role.STREET, Role.DISTRICT, Role.CITY}),
    # Agents look orders up (caller history, callbacks); everyone else handles or supervises them.
    Cap.ORDERS: ALL_ROLES,
    Cap.SUPERVISE: frozenset({Role.DISTRICT, Role.CITY}),
    # The hotline calls citizens back: agents, and the city center supervising them.
    Cap.CALL_BACK: frozenset({Role.AGENT, Role.CITY}),
    Cap.EXCLUSIONS: ALL_ROLES,
    Cap.REQUEST_EXCLUSION: frozenset({Role.STREET, Role.DEPARTMENT}),
    Cap.ASSESSMENT: frozenset({Role.STREET, Role.DEPARTMENT, Role.DISTRICT, Role.CITY}),
    Cap.ASSESSMENT_MANAGE: frozenset({Role.DISTRICT, Role.CITY}),
    Cap.RULE_ASSESSMENT: frozenset({Role.CITY}),
    # A district office may lead an order itself (orders routed to the district); the city center
    # and agents never handle.
    Cap.HANDLE: frozenset({Role.STREET, Role.DEPARTMENT, Role.DISTRICT}),
    Cap.ANSWER_WHISTLE: frozenset({Role.STREET, Role.DEPARTMENT}),
    # Place names are reference data for the whole city: the city center curates them.
    Cap.REVIEW_ALIASES: frozenset({Role.CITY}),
    Cap.SEARCH: ALL_ROLES,
    Cap.DISPATCH_INTERNAL: frozenset({Role.STREET, Role.DEPARTMENT}),
    Cap.FORECASTS: frozenset({Role.STREET, Role.DISTRICT, Role.CITY}),
    Cap.STAFFING: frozenset({Role.CITY}),
    Cap.MERGE: frozenset({Role.CITY, Role.STREET, Role.DEPARTMENT, Role.DISTRICT}),
    Cap.UNDO_MERGE: frozenset({Role.CITY}),
}


# What only a unit's center does: a member of one of its sections works on the orders assigned to
# it, and neither sees the unit's figures nor files exclusions or answers whistles for the unit.
CENTER_ONLY = frozenset({Cap.ASSESSMENT, Cap.REQUEST_EXCLUSION, Cap.ANSWER_WHISTLE, Cap.FORECASTS})


def may(user: Viewer, capability: str) -> bool:
    if capability == Cap.DISPATCH_INTERNAL:
        return is_unit_center(user)
    if capability in CENTER_ONLY and section_of(user) is not None:
        return False
    return role_of(user) in GATES[capability]


# --- Inside a unit (二次派单) -------------------------------------------------------------------
# A street or department user with a section (科室 or community committee) is a member of that
# sub-unit: they see the unit's orders assigned to their sub-unit or to them, and nothing else of
# the unit. A user of the unit without a section is the unit's center: everything of the unit.
SUB_UNIT_ROLES = (Role.STREET, Role.DEPARTMENT)


def section_of(user: Viewer) -> int | None:
    """The section id a user is a member of, or None (the center, or any other role)."""
    account = signed_in(user)
    if account is None or role_of(account) not in SUB_UNIT_ROLES:
        return None
    return account.section_id


def is_unit_center(user: Viewer) -> bool:
    return role_of(user) in SUB_UNIT_ROLES and getattr(user, "unit_id", None) is not None and section_of(user) is None


def member_orders_q(user: User) -> Q:
    """A sub-unit member's share of the unit's orders: assigned to their section or to them."""
    return Q(lead_unit_id=user.unit_id) & (Q(section_id=section_of(user)) | Q(assignee_id=user.pk))


def owns_order(user: Viewer, order: WorkOrder) -> bool:
    """The user is a member of the sub-unit (or the person) the order is assigned to now."""
    account, section = signed_in(user), section_of(user)
    if account is None or section is None or order.lead_unit_id != account.unit_id:
        return False
    return order.section_id == section or order.assignee_id == account.pk


def require(user: Viewer, capability: str) -> None:
    if not may(user, capability):
        raise AccessDenied()


# --- Live updates: which change topics an open page may hear (hotline/live) ---------------------
def live_topics(user: Viewer) -> list[str]:
    """Topics of the live channel a user may subscribe to: always their own (unread badge); a
    street or department its unit's inbox; a district manager its unit and its district (the
    supervision copy of every order there); agents and the city the city-wide figures (their inbox
    is every order, the today counter the whole hall). None for an inactive or unassigned account."""
    from hotline.live.signals import CITY, district_topic, unit_topic, user_topic

    account = signed_in(user)
    role = role_of(account)
    if account is None or role is None:
        return []
    topics = [user_topic(account.pk)]
    if role in (Role.AGENT, Role.CITY):
        return [*topics, CITY]
    unit = account.unit
    if unit is None:
        return []
    if (section := section_of(account)) is not None:
        # a section member's lists hold only the section's orders: so do their events
        from hotline.live.signals import section_topic

        return [*topics, section_topic(section)]
    topics.append(unit_topic(unit.pk))
    if role == Role.DISTRICT and unit.division_id:
        topics.append(district_topic(unit.division_id))
    return topics


# --- Personal data ------------------------------------------------------------------------------
# Agents talk to the caller and call back: they work with the number in full. Everyone else sees
# it masked and may reveal it when the work needs it; each reveal is logged.
PHONE_IN_FULL_ROLES = {Role.AGENT}
PHONE_REVEAL_ROLES = {Role.STREET, Role.DEPARTMENT, Role.DISTRICT, Role.CITY}


def sees_phone_in_full(user: Viewer) -> bool:
    return role_of(user) in PHONE_IN_FULL_ROLES


def may_reveal_phone(user: User, call: Call) -> bool:
    return (
        role_of(user) in PHONE_REVEAL_ROLES
        and sees_caller(user, call)
        and visible_calls(user).filter(pk=call.pk).exists()
    )


# 保密工单: a caller who asked for confidentiality is known only to the hotline. Handling units
# (streets, departments, districts) see neither name, phone nor address, on any page, export,
# notification or API, and contact the caller through the center. THE rule: everything that shows
# a caller asks sees_caller (hotline.privacy.caller_view builds what a viewer sees from it).
CALLER_OF_CONFIDENTIAL_ROLES = frozenset({Role.AGENT, Role.CITY})


def sees_confidential_callers(user: Viewer) -> bool:
    return role_of(user) in CALLER_OF_CONFIDENTIAL_ROLES


def sees_caller(user: Viewer, call: Call | None) -> bool:
    """May this user see who the caller is (name, phone, address) on this call?"""
    return call is None or not call.confidential or sees_confidential_callers(user)


def caller_hidden_q(user: Viewer, prefix: str = "") -> Q:
    """The calls (or, with prefix "call__", the orders) whose caller this user may not see: for
    searches that must not match a hidden name, phone or address."""
    if sees_confidential_callers(user):
        return Q(pk__in=[])
    return Q(**{f"{prefix}confidential": True})


# --- Scoping ------------------------------------------------------------------------------------
def visible_calls(user: User, queryset: QuerySet[Call] | None = None) -> QuerySet[Call]:
    """Calls the user may see: agents and the city all; a department only those behind orders it
    handles (lead, co-handler or whistled). Access follows the order: a street or district sees a
    call behind an order only while it sees that order (an order returned and re-routed elsewhere
    takes the caller's details with it), and the calls of its own area that became no order
    (answered directly, duplicates)."""
    qs = Call.objects.all() if queryset is None else queryset
    role = role_of(user)
    if role in (Role.AGENT, Role.CITY):
        return qs
    unit = getattr(user, "unit", None)
    if unit is None or role is None:
        return qs.none()
    behind_my_orders = Exists(visible_orders(user).filter(call_id=OuterRef("pk")))
    if section_of(user) is not None:
        return qs.filter(behind_my_orders)
    without_order = ~Exists(WorkOrder.objects.filter(call_id=OuterRef("pk")))
    if role == Role.DISTRICT:
        return qs.filter(Q(district_id=unit.division_id) & (without_order | behind_my_orders))
    if role == Role.STREET:
        return qs.filter((Q(street_id=unit.division_id) & without_order) | behind_my_orders)
    return qs.filter(behind_my_orders)


def visible_orders(user: User, queryset: QuerySet[WorkOrder] | None = None) -> QuerySet[WorkOrder]:
    """Orders the user may see: agents and the city all; a district every order in its district
    (its supervision copy); a street or department the orders it leads and those it co-handles or
    was whistled into."""

    qs = WorkOrder.objects.all() if queryset is None else queryset
    role = role_of(user)
    if role in (Role.AGENT, Role.CITY):
        return qs
    unit = getattr(user, "unit", None)
    if unit is None or role is None:
        return qs.none()
    if role == Role.DISTRICT:
        return qs.filter(district_id=unit.division_id)
    if section_of(user) is not None:
        return qs.filter(member_orders_q(user))
    participates = OrderParticipant.objects.filter(order_id=OuterRef("pk"), unit_id=unit.pk)
    return qs.filter(Q(lead_unit_id=unit.pk) | Exists(participates))


def led_orders(user: User) -> QuerySet[WorkOrder]:
    """The orders a user's inbox is about: a street or department the orders it leads; a district
    every order of its district; agents and the city all. Together with assisting_orders() this is
    visible_orders(), split in two because an OR across both would defeat the indexes."""

    role = role_of(user)
    unit = getattr(user, "unit", None)
    if role in (Role.AGENT, Role.CITY):
        return WorkOrder.objects.all()
    if unit is None or role is None:
        return WorkOrder.objects.none()
    if role == Role.DISTRICT:
        return WorkOrder.objects.filter(district_id=unit.division_id)
    if section_of(user) is not None:
        return WorkOrder.objects.filter(member_orders_q(user))
    return WorkOrder.objects.filter(lead_unit_id=unit.pk)


def assisting_orders(user: User) -> QuerySet[WorkOrder]:
    """Orders a street or department co-handles or was whistled into, but does not lead."""

    unit = getattr(user, "unit", None)
    if role_of(user) not in (Role.STREET, Role.DEPARTMENT) or unit is None or section_of(user) is not None:
        return WorkOrder.objects.none()  # co-handling and whistles are the center's
    ids = OrderParticipant.objects.filter(
        unit_id=unit.pk, role__in=[OrderParticipant.Role.CO_HANDLER, OrderParticipant.Role.WHISTLED]
    ).values("order_id")
    return WorkOrder.objects.filter(pk__in=ids).exclude(lead_unit_id=unit.pk)


def visible_units_q(user: User) -> Q:
    """Units whose internal figures the user may see (used by dashboards and rankings)."""
    role = role_of(user)
    if role in (Role.AGENT, Role.CITY):
        return Q()
    unit = user.unit
    if unit is None or role is None:
        return Q(pk__in=[])
    if role == Role.DISTRICT:
        return Q(district_id=unit.division_id) | Q(pk=unit.pk)
    if section_of(user) is not None:
        return Q(pk__in=[])
    return Q(pk=unit.pk)


def district_of(user: User) -> Division | None:
    """The district division a user works in, or None for city-wide roles."""
    unit: Unit | None = getattr(user, "unit", None)
    if unit is None:
        return None
    return unit.division if unit.kind == "district" else unit.district


# --- Callback (回访) and exclusions (剔除) --------------------------------------------------------
def may_rule_requests(user: Viewer, order: WorkOrder) -> bool:
    """Returns and extensions are ruled by the manager of the order's district, or by the city."""
    role = role_of(user)
    if role == Role.CITY:
        return True
    own: Unit | None = getattr(user, "unit", None)
    if role != Role.DISTRICT or own is None or order.district_id is None:
        return False
    return own.division_id == order.district_id


def may_request_exclusion(user: User, order: WorkOrder) -> bool:
    """Only the lead unit's center (a street or department handler) asks for it to be excluded."""
    return may(user, Cap.REQUEST_EXCLUSION) and user.unit_id == order.lead_unit_id and section_of(user) is None


def may_decide_exclusion_for_district(user: Viewer, order: WorkOrder) -> bool:
    unit: Unit | None = getattr(user, "unit", None)
    return role_of(user) == Role.DISTRICT and unit is not None and unit.division_id == order.district_id


def may_decide_exclusion_for_city(user: Viewer) -> bool:
    return role_of(user) == Role.CITY


def visible_exclusion_requests(
    user: User, queryset: QuerySet[ExclusionRequest] | None = None
) -> QuerySet[ExclusionRequest]:
    """Exclusion requests the user may see: agents and the city all; a district those on orders in
    its district; a street or department those its own unit filed."""

    qs = ExclusionRequest.objects.all() if queryset is None else queryset
    role = role_of(user)
    if role in (Role.AGENT, Role.CITY):
        return qs
    unit = getattr(user, "unit", None)
    if unit is None or role is None:
        return qs.none()
    if role == Role.DISTRICT:
        return qs.filter(order__district_id=unit.division_id)
    if section_of(user) is not None:
        return qs.filter(unit_id=unit.pk, order__in=visible_orders(user).values("pk"))
    return qs.filter(unit_id=unit.pk)


# --- Assessment: rankings and scorecards -------------------------------------------------------
# Which ranking tables a role sees is decided by ranking_scope (below); a street or department
# sees its own scorecard only.
def may_view_unit_figures(user: User, unit: Unit) -> bool:
    role = role_of(user)
    if role == Role.CITY:
        return True
    if section_of(user) is not None:
        return False  # the unit's figures and the orders behind them are the center's
    own: Unit | None = getattr(user, "unit", None)
    if own is None or role is None or role == Role.AGENT:
        return False
    if role == Role.DISTRICT:
        return unit.pk == own.pk or (unit.district_id is not None and unit.district_id == own.division_id)
    return unit.pk == own.pk


def visible_topics(user: User, queryset: QuerySet[_M]) -> QuerySet[_M]:
    """每月一题: the city sees every topic; everyone else the city-wide ones and their own
    district's (another district's topic would show them only empty figures)."""
    if role_of(user) in (Role.CITY, Role.AGENT):
        return queryset
    district = district_of(user)
    if district is None:
        return queryset.filter(district__isnull=True)
    return queryset.filter(Q(district__isnull=True) | Q(district=district))


def visible_alerts(user: User, queryset: QuerySet[_M]) -> QuerySet[_M]:
    """Surge alerts: the city sees all; a district manager its own district's; nobody else any."""
    try:
        district = supervised_district(user)
    except AccessDenied:
        return queryset.none()
    return queryset if district is None else queryset.filter(district=district)


def forecast_area(user: User) -> tuple[int | None, int | None]:
    """Whose forecasts a user sees, as (district id, street id): (None, None) for the city, the
    district for its manager, the street (and its district) for a street's center. Refused otherwise."""
    if not may(user, Cap.FORECASTS):
        raise AccessDenied()
    role = role_of(user)
    if role == Role.CITY:
        return None, None
    unit: Unit | None = getattr(user, "unit", None)
    if unit is None or unit.division_id is None:
        raise AccessDenied()
    if role == Role.DISTRICT:
        return unit.division_id, None
    if unit.district_id is None:
        raise AccessDenied()
    return unit.district_id, unit.division_id


# Asks for the whole city's table where a district would otherwise be the default.
RANKING_CITYWIDE = "city"


def supervisor_of(district_unit: Unit | None = None) -> User:
    """An unsaved supervisor of the whole city (None) or of a district (its district unit), for work
    done on behalf of that scope (the governance lists refreshed by beat) through the scoping here."""
    if district_unit is None:
        return User(role=Role.CITY)
    return User(role=Role.DISTRICT, unit=district_unit)


def supervised_district(user: User) -> Division | None:
    """What a supervisor oversees: None for the city (the whole city), the district for a district
    manager. Anyone else — and a district account without a district, which must never fall back to
    the city's figures — is refused."""
    role = role_of(user)
    if role == Role.CITY:
        return None
    district = district_of(user) if role == Role.DISTRICT else None
    if district is None:
        raise AccessDenied()
    return district


def ranking_scope(user: User, *, scope: str, district: str | None = None) -> tuple[str, Division | None]:
    """Which ranking table a request gets, decided here for the pages, the exports and the API alike:
    `(scope, district)` — the snapshot rows of `scope` ("street", "district" or "department"), either
    of one district (a Division; they are then ranked within it) or of the whole city (None).

    `district` is what the request names: a district code, RANKING_CITYWIDE, or nothing for the
    user's default. The city sees every table: streets and departments of the whole city (its
    default) or of any one district, and the districts. A district manager sees its own district's
    streets and departments (its default, and the only district it may name) and the city-published
    table of the districts. The districts table is always the whole city's. Nobody else sees a
    ranking: a street or department has its own scorecard. Raises AccessDenied, DomainError for an
    unknown scope, Http404 for an unknown district code (looked up only once the role may see some
    ranking)."""

    if scope not in ("street", "district", "department"):
        raise DomainError(gettext("范围只能是 street、district 或 department。"), code="invalid_scope")
    own = supervised_district(user)  # None: the city
    if scope == "district":
        return scope, None
    if not district:
        return scope, own
    if district == RANKING_CITYWIDE:
        if own is not None:
            if scope == "street":
                raise AccessDenied(gettext("全市街乡镇排名仅市级可见。"))
            raise AccessDenied()
        return scope, None
    division = Division.objects.filter(code=district, level=Division.Level.DISTRICT).first()
    if division is None:
        raise Http404
    if own is not None and division.pk != own.pk:
        raise AccessDenied()
    return scope, division


def visible_sections(user: User, queryset: QuerySet[Section] | None = None) -> QuerySet[Section]:
    """Sections of the user's own unit: all for the center, their own for a member."""
    qs = Section.objects.all() if queryset is None else queryset
    unit_id = getattr(user, "unit_id", None)
    if role_of(user) not in SUB_UNIT_ROLES or unit_id is None:
        return qs.none()
    qs = qs.filter(unit_id=unit_id)
    section = section_of(user)
    return qs if section is None else qs.filter(pk=section)
