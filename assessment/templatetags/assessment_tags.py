from decimal import Decimal

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from assessment import rulesets
from assessment.models import Scope
from assessment.snapshots import selectors
from hotline import access
from hotline.errors import AccessDenied

register = template.Library()


@register.filter
def pct(value):
    """0.725 → 72.50%"""
    return "—" if value is None else f"{value * 100:.2f}%"


@register.filter
def score(value):
    return "—" if value is None else f"{value:.2f}"


@register.filter
def movement(value):
    if value is None:
        return mark_safe('<span class="muted">—</span>')
    if value > 0:
        return format_html('<span class="move-up" title="{}">▲{}</span>', _("上升"), value)
    if value < 0:
        return format_html('<span class="move-down" title="{}">▼{}</span>', _("下降"), -value)
    return format_html('<span class="muted" title="{}">＝</span>', _("持平"))


@register.simple_tag
def drill(snapshot, unit_id, scope, measure):
    """The URL of the orders behind one figure."""
    query = urlencode({"snapshot": snapshot.pk, "unit": unit_id, "scope": scope, "measure": measure})
    return f"{reverse('assessment-orders')}?{query}"


@register.simple_tag(takes_context=True)
def street_table(context) -> str:
    """Which streets table the viewer's ranking tab leads to, as access.ranking_scope decides it:
    "citywide" (whoever oversees the whole city), "own_district" (a district manager's own), "" (none).
    Cached on the request: every assessment page's tabs ask."""
    request = context["request"]
    if not hasattr(request, "_street_table"):
        try:
            _scope, district = access.ranking_scope(request.user, scope=Scope.STREET)
        except AccessDenied:
            request._street_table = ""
        else:
            request._street_table = "citywide" if district is None else "own_district"
    return request._street_table


@register.inclusion_tag("assessment/_home_panel.html", takes_context=True)
def assessment_home_panel(context):
    """The home page's panel: one's own figures, and for a supervisor the table it oversees — the
    districts for whoever oversees the whole city, the top five and the bottom of a district's own
    streets for its manager (the table its ranking page, export and API serve by default)."""
    request = context["request"]
    user = request.user
    if not access.may(user, access.Cap.ASSESSMENT):
        # e.g. a member of a street's section: the unit's figures are the center's (no dead links)
        return {"allowed": False}
    period = rulesets.current_period()
    snapshot = selectors.published_snapshot(period, with_stats=False)
    data = {
        "allowed": True,
        "caps": context.get("caps", {}),
        "period": period,
        "snapshot": snapshot,
        "rows": [],
        "rows_citywide": False,
        "row": None,
        "unit": user.unit,
    }
    if snapshot is None:
        return data
    if access.may(user, access.Cap.ASSESSMENT_MANAGE):
        try:
            district = access.supervised_district(user)
        except AccessDenied:
            return data  # a manager's account without a district: no table rather than a broken home page
        if district is None:
            data["rows"] = list(selectors.ranking_rows(snapshot, scope=Scope.DISTRICT)[:16])
            data["rows_citywide"] = True
            return data
        rows = list(selectors.ranking_for(user, scope=Scope.STREET).rows(snapshot))
        data["rows"] = rows[:5] + [r for r in rows[5:] if r.bottom_in_district]
    if user.unit is not None:
        data["row"] = row = selectors.unit_row(snapshot, user.unit)
        # a district's own row is in the districts table, ranked citywide only
        data["own_ranked_citywide"] = row is not None and row.scope == Scope.DISTRICT
    return data


@register.filter
def plain(value):
    """A rule number as people write it: Decimal("0.9000") → 0.9, Decimal("1.0000") → 1."""

    if not isinstance(value, Decimal):
        return value
    text = format(value.normalize(), "f")
    return text


CAUSE_LABELS = {
    "exclusion_approved": gettext_lazy("剔除获批"),
    "exclusion_revoked": gettext_lazy("剔除被撤销"),
    "callback_corrected": gettext_lazy("回访已更正"),
    "reassigned": gettext_lazy("考核单位改变"),
    "rule_changed": gettext_lazy("规则版本不同"),
    "rank_shift": gettext_lazy("本单位计数未变，名次随其他单位变化"),
    "no_membership": gettext_lazy("冻结结果早于考核事实，未保存计入明细，无法逐条说明原因"),
}


@register.filter
def cause_label(kind: str) -> str:
    """A recomputation difference's cause, by its kind (snapshots.services.CAUSE_KINDS)."""
    return str(CAUSE_LABELS.get(kind, kind))


@register.simple_tag
def cause_fact_url(cause: dict) -> str:
    """The fact a cause names, in the admin's read-only view of facts."""
    model = "exclusionfact" if cause.get("fact_kind") == "exclusion" else "callbackfact"
    return reverse(f"admin:assessment_{model}_change", args=[cause["fact_id"]])


@register.filter
def query_pairs(querydict) -> list:
    """The (name, value) pairs of a query string. A template's `request.GET.items` would look up a
    parameter named "items" first (`?items=x` made every assessment page a 500)."""
    return [(key, value) for key in querydict for value in querydict.getlist(key)]
