"""Who may see and do what: the one place that decides it.

Every list, page, export, API endpoint and task scopes its querysets through the functions here,
so that a street never sees another street's data and a rule changes in one place.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from hotline.errors import AccessDenied
from hotline.models import Call, Role, User


def role_of(user) -> str | None:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    return user.role or None


def has_role(user, *roles: str) -> bool:
    return role_of(user) in roles


def require_role(user, *roles: str) -> None:
    if not has_role(user, *roles):
        raise AccessDenied()


def can_use_admin(user) -> bool:
    # Superusers exist for the first install; day to day the admin is the city center's.
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return user.is_superuser or (user.role == Role.CITY and user.is_staff)


# --- Personal data ------------------------------------------------------------------------------
# Agents talk to the caller and call back: they work with the number in full. Everyone else sees
# it masked and may reveal it when the work needs it; each reveal is logged.
PHONE_IN_FULL_ROLES = {Role.AGENT}
PHONE_REVEAL_ROLES = {Role.STREET, Role.DEPARTMENT, Role.DISTRICT, Role.CITY}


def sees_phone_in_full(user) -> bool:
    return role_of(user) in PHONE_IN_FULL_ROLES


def may_reveal_phone(user, call: Call) -> bool:
    return role_of(user) in PHONE_REVEAL_ROLES and visible_calls(user).filter(pk=call.pk).exists()


# --- Scoping ------------------------------------------------------------------------------------
def visible_calls(user: User, queryset: QuerySet | None = None) -> QuerySet:
    """Calls the user may see: agents and the city all; a district its own district's; a street
    its own street's and those behind orders it handles; a department only those behind orders
    it handles (lead, co-handler or whistled)."""
    qs = Call.objects.all() if queryset is None else queryset
    role = role_of(user)
    if role in (Role.AGENT, Role.CITY):
        return qs
    unit = getattr(user, "unit", None)
    if unit is None or role is None:
        return qs.none()
    if role == Role.DISTRICT:
        return qs.filter(district_id=unit.division_id)
    behind_my_orders = Exists(visible_orders(user).filter(call_id=OuterRef("pk")))
    if role == Role.STREET:
        return qs.filter(Q(street_id=unit.division_id) | behind_my_orders)
    return qs.filter(behind_my_orders)


def visible_orders(user: User, queryset: QuerySet | None = None) -> QuerySet:
    """Orders the user may see: agents and the city all; a district every order in its district
    (its supervision copy); a street or department the orders it leads and those it co-handles or
    was whistled into."""
    from workorders.models import OrderParticipant, WorkOrder

    qs = WorkOrder.objects.all() if queryset is None else queryset
    role = role_of(user)
    if role in (Role.AGENT, Role.CITY):
        return qs
    unit = getattr(user, "unit", None)
    if unit is None or role is None:
        return qs.none()
    if role == Role.DISTRICT:
        return qs.filter(district_id=unit.division_id)
    participates = OrderParticipant.objects.filter(order_id=OuterRef("pk"), unit_id=unit.pk)
    return qs.filter(Q(lead_unit_id=unit.pk) | Exists(participates))


def led_orders(user: User) -> QuerySet:
    """The orders a user's inbox is about: a street or department the orders it leads; a district
    every order of its district; agents and the city all. Together with assisting_orders() this is
    visible_orders(), split in two because an OR across both would defeat the indexes."""
    from workorders.models import WorkOrder

    role = role_of(user)
    unit = getattr(user, "unit", None)
    if role in (Role.AGENT, Role.CITY):
        return WorkOrder.objects.all()
    if unit is None or role is None:
        return WorkOrder.objects.none()
    if role == Role.DISTRICT:
        return WorkOrder.objects.filter(district_id=unit.division_id)
    return WorkOrder.objects.filter(lead_unit_id=unit.pk)


def assisting_orders(user: User) -> QuerySet:
    """Orders a street or department co-handles or was whistled into, but does not lead."""
    from workorders.models import OrderParticipant, WorkOrder

    unit = getattr(user, "unit", None)
    if role_of(user) not in (Role.STREET, Role.DEPARTMENT) or unit is None:
        return WorkOrder.objects.none()
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
    return Q(pk=unit.pk)


def district_of(user: User):
    """The district division a user works in, or None for city-wide roles."""
    unit = getattr(user, "unit", None)
    if unit is None:
        return None
    return unit.division if unit.kind == "district" else unit.district


# --- Call intake --------------------------------------------------------------------------------
# Agents take calls; the city center may too (it covers the hall at peaks). Streets, districts and
# departments receive orders but never register calls, read caller histories or search for
# duplicates across the city.
TAKE_CALL_ROLES = {Role.AGENT, Role.CITY}


def may_take_calls(user) -> bool:
    return role_of(user) in TAKE_CALL_ROLES


def require_take_calls(user) -> None:
    if not may_take_calls(user):
        raise AccessDenied()


# --- Callback (回访) and exclusions (剔除) --------------------------------------------------------
# The hotline calls citizens back: agents, and the city center supervising them.
CALLBACK_ROLES = {Role.AGENT, Role.CITY}


def may_call_back(user) -> bool:
    return role_of(user) in CALLBACK_ROLES


def may_rule_requests(user, order) -> bool:
    """Returns and extensions are ruled by the manager of the order's district, or by the city."""
    role = role_of(user)
    if role == Role.CITY:
        return True
    own = getattr(user, "unit", None)
    if role != Role.DISTRICT or own is None or order.district_id is None:
        return False
    return own.division_id == order.district_id


def may_request_exclusion(user, order) -> bool:
    """Only the lead unit of the order (a street or department handler) asks for it to be excluded."""
    return role_of(user) in (Role.STREET, Role.DEPARTMENT) and user.unit_id == order.lead_unit_id


def may_decide_exclusion_for_district(user, order) -> bool:
    unit = getattr(user, "unit", None)
    return role_of(user) == Role.DISTRICT and unit is not None and unit.division_id == order.district_id


def may_decide_exclusion_for_city(user) -> bool:
    return role_of(user) == Role.CITY


def visible_exclusion_requests(user: User, queryset: QuerySet | None = None) -> QuerySet:
    """Exclusion requests the user may see: agents and the city all; a district those on orders in
    its district; a street or department those its own unit filed."""
    from workorders.models import ExclusionRequest

    qs = ExclusionRequest.objects.all() if queryset is None else queryset
    role = role_of(user)
    if role in (Role.AGENT, Role.CITY):
        return qs
    unit = getattr(user, "unit", None)
    if unit is None or role is None:
        return qs.none()
    if role == Role.DISTRICT:
        return qs.filter(order__district_id=unit.division_id)
    return qs.filter(unit_id=unit.pk)


# --- Assessment: rankings and scorecards -------------------------------------------------------
# Which ranking tables a role sees is decided by ranking_scope (below); a street or department
# sees its own scorecard only.
def may_view_unit_figures(user: User, unit) -> bool:
    role = role_of(user)
    if role == Role.CITY:
        return True
    own = getattr(user, "unit", None)
    if own is None or role is None or role == Role.AGENT:
        return False
    if role == Role.DISTRICT:
        return unit.pk == own.pk or (unit.district_id is not None and unit.district_id == own.division_id)
    return unit.pk == own.pk


def visible_topics(user: User, queryset: QuerySet) -> QuerySet:
    """每月一题: the city sees every topic; everyone else the city-wide ones and their own
    district's (another district's topic would show them only empty figures)."""
    if role_of(user) in (Role.CITY, Role.AGENT):
        return queryset
    district = district_of(user)
    if district is None:
        return queryset.filter(district__isnull=True)
    return queryset.filter(Q(district__isnull=True) | Q(district=district))


# Asks for the whole city's table where a district would otherwise be the default.
RANKING_CITYWIDE = "city"


def supervised_district(user: User):
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


def ranking_scope(user: User, *, scope: str, district: str | None = None):
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
    from django.http import Http404
    from django.utils.translation import gettext

    from districts.models import Division
    from hotline.errors import DomainError

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
