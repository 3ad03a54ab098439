"""Pages of the handling capability. Thin: scope through selectors/access, validate with the
action forms, call the transitions (the same path as the API)."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from districts.models import Division, Section, Unit
from hotline import access, numbers
from hotline.errors import AccessDenied, DomainError
from hotline.models import User
from hotline.pagination import CappedPaginator
from hotline.privacy import caller_view, mask_phone
from hotline.web import errors
from workorders.handling import selectors as handling_selectors
from workorders.handling import services
from workorders.handling.forms import InboxFilterForm, SectionForm
from workorders.lifecycle import actions as order_actions
from workorders.lifecycle import attachments
from workorders.lifecycle.machinery import EVENT_LABELS, routable_units
from workorders.models import OrderAttachment, OrderRequest, SavedFilter, Whistle
from workorders.notifications import selectors as notifications_selectors

PAGE_SIZE = 25


def _require(user, capability: str):
    if not access.may(user, capability):
        raise PermissionDenied


def _inbox_filters(request):
    """The inbox form and its valid filters (the page and its refresh counts read the same)."""
    form = InboxFilterForm(request.GET or None, user=request.user)
    return form, (form.cleaned_data if form.is_valid() else {})


def _inbox_context(request):
    form, filters = _inbox_filters(request)
    tab = handling_selectors.inbox_tab(request.GET.get("tab"), user=request.user)
    now = timezone.now()
    counts = handling_selectors.inbox_counts(request.user, filters=filters, now=now)
    orders = handling_selectors.inbox_orders(
        request.user, tab=tab, filters=filters, sort=filters.get("sort") or "deadline", now=now
    )
    # already counted with the tabs (capped for the closed tab): no second COUNT(*)
    counted = counts.get(tab, 0) + (1 if tab in counts["capped"] else 0)
    paginator = CappedPaginator(orders, PAGE_SIZE, known_count=counted)
    page = paginator.get_page(numbers.page_param(request.GET.get("page")))
    rows = [(o, handling_selectors.clock_of(o, now, user=request.user)) for o in page.object_list]
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("partial", None)
    tab_query = query.copy()
    tab_query.pop("tab", None)
    return {
        "form": form,
        "tab": tab,
        "tabs": [
            (name, label, counts.get(name, 0), name in counts["capped"]) for name, label in handling_selectors.TABS
        ],
        "page": page,
        "rows": rows,
        "query": query.urlencode(),
        "tab_query": tab_query.urlencode(),
        "now": now,
        "is_center": access.is_unit_center(request.user),
        "show_owner": access.is_unit_center(request.user) or access.section_of(request.user) is not None,
        # the panel above the list: not part of the 15-second partial refresh
        "internal_load": [] if request.GET.get("partial") else handling_selectors.internal_load(request.user, now=now),
        "saved_filters": SavedFilter.objects.filter(user=request.user),
        "bulk_sign": tab == "to_sign" and "sign" in order_actions.bulk_actions(request.user),
        "full_path": request.get_full_path(),
    }


@login_required
@require_GET
def inbox(request):
    _require(request.user, access.Cap.ORDERS)
    context = _inbox_context(request)
    if request.GET.get("partial"):
        return render(request, "workorders/_inbox_body.html", context)
    return render(request, "workorders/inbox.html", context)


@login_required
@require_GET
def poll(request):
    """A small JSON the inbox asks on a live update (or every ~15 s while the live stream is down):
    the tab counts under the same filters as the list on screen, and unread notifications."""
    _require(request.user, access.Cap.ORDERS)
    _form, filters = _inbox_filters(request)
    return JsonResponse(
        {
            "counts": handling_selectors.inbox_counts(request.user, filters=filters),
            "unread": notifications_selectors.unread_count(request.user),
        }
    )


# An order's history is listed in the order its events were written: each is inserted under the
# order's row lock, so ids follow the real sequence, while `at` comes from a clock read before the
# lock was taken (a return asked 2 ms "before" the signing it followed). Never sort it by `at`.
HISTORY_ORDER = ("id",)


def _detail_context(request, order, *, bound: dict | None = None, error: str = ""):
    bound = bound or {}
    user = request.user
    actions = handling_selectors.available_actions(order, request.user)
    forms = {name: bound.get(name) or services.action_form(name, order) for name in actions}
    events = list(order.events.select_related("actor", "actor_unit").order_by(*HISTORY_ORDER))
    files = {}
    for att in OrderAttachment.objects.filter(order=order).order_by("id"):
        files.setdefault(att.event_id, []).append(att)
    history = [(e, EVENT_LABELS.get(e.kind, e.kind), files.get(e.pk, [])) for e in events]
    return {
        "order": order,
        "clock": handling_selectors.clock_of(order, user=user),
        "proposal": handling_selectors.pending_proposal(order),
        "history": history,
        "participants": order.participants.select_related("unit").order_by("role", "unit__code"),
        "whistles": Whistle.objects.filter(order=order).select_related("to_unit", "created_by", "reported_by"),
        "requests": OrderRequest.objects.filter(order=order).select_related(
            "requested_by", "decided_by", "reroute_unit"
        ),
        "assignments": order.assignments.select_related("section", "assignee", "assigned_by").order_by("assigned_at"),
        "actions": [(name, order_actions.ACTIONS[name].label, forms[name]) for name in actions],
        "waiting": order_actions.waiting(order, user),
        "error": error,
        "phone_in_full": access.sees_phone_in_full(user),
        "masked_phone": mask_phone(order.call.caller_phone),
        "may_reveal": access.may_reveal_phone(user, order.call) and bool(order.call.caller_phone),
        "caller": caller_view(user, order.call, order.address),
        "related": handling_selectors.related_orders(order, user),
        "whistle_mine": Whistle.objects.filter(order=order, to_unit_id=user.unit_id, state=Whistle.State.OPEN).first()
        if user.unit_id
        else None,
    }


@login_required
def order_detail(request, pk: int):
    order = handling_selectors.order_for(request.user, pk)
    if order is None:
        number = handling_selectors.moved_away(request.user, pk)
        if number is None:
            raise Http404
        message = _("工单 %(n)s 已不在您的办理范围内（已转派、改派或被中心收回）。") % {"n": number}
        return errors.page(request, 404, _("工单已转出"), message, back=(reverse("order-inbox"), _("返回工单列表")))
    return render(request, "workorders/detail.html", _detail_context(request, order))


@login_required
@require_GET
def order_print(request, pk: int):
    """The order on paper: header, the caller masked as this viewer sees it, history, attachments."""
    order = handling_selectors.order_for(request.user, pk)
    if order is None:
        raise Http404
    events = list(order.events.select_related("actor", "actor_unit").order_by(*HISTORY_ORDER))
    attached = list(OrderAttachment.objects.filter(order=order).order_by("id"))
    files = {}
    for att in attached:
        files.setdefault(att.event_id, []).append(att)
    return render(
        request,
        "workorders/print.html",
        {
            "order": order,
            "history": [(e, EVENT_LABELS.get(e.kind, e.kind), files.get(e.pk, [])) for e in events],
            "attachments": attached,
            "phone_in_full": access.sees_phone_in_full(request.user),
            "masked_phone": mask_phone(order.call.caller_phone),
            "caller": caller_view(request.user, order.call, order.address),
        },
    )


@login_required
@require_POST
def order_action(request, pk: int, action: str):
    order = handling_selectors.order_for(request.user, pk)
    if order is None or action not in order_actions.ORDER_ACTIONS:
        raise Http404
    form = services.action_form(action, order, data=request.POST)
    if form.is_valid():
        try:
            services.order_perform(
                order=order,
                action=action,
                acting_user=request.user,
                form=form,
                files=request.FILES.getlist(f"{action}-files"),
            )
        except DomainError as exc:
            status = 403 if isinstance(exc, AccessDenied) else 400
            order = handling_selectors.order_for(request.user, pk) or order
            context = _detail_context(request, order, bound={action: form}, error=str(exc.message))
            return render(request, "workorders/detail.html", context, status=status)
        messages.success(request, _("已完成：%(action)s") % {"action": order_actions.ACTIONS[action].label})
        if handling_selectors.order_for(request.user, pk) is None:
            # e.g. a return that re-routed the order out of this user's sight
            return redirect("order-inbox")
        return redirect("order-detail", pk=pk)
    context = _detail_context(request, order, bound={action: form}, error=_("请检查填写的内容。"))
    return render(request, "workorders/detail.html", context, status=400)


@login_required
@require_GET
def attachment_download(request, pk: int):
    att = get_object_or_404(
        OrderAttachment.objects.filter(order__in=access.visible_orders(request.user).values("pk")), pk=pk
    )
    return attachments.file_response(att.file, name=att.name, content_type=att.content_type)


@login_required
@require_GET
def supervision(request):
    _require(request.user, access.Cap.SUPERVISE)
    districts = Division.objects.filter(level=Division.Level.DISTRICT).order_by("code")
    try:
        district = access.supervised_district(request.user)  # None: the city, which picks a district
    except AccessDenied:
        raise PermissionDenied from None
    city_wide = district is None
    if city_wide:
        code = request.GET.get("district") or "110106"
        # Division codes are digits; anything else (a NUL byte would fail on PostgreSQL) is ignored.
        district = (districts.filter(code=code).first() if numbers.ascii_digits(code) else None) or districts.first()
    if district is None:
        raise Http404
    now = timezone.now()
    data = handling_selectors.supervision(district.pk, now=now, city=city_wide)
    return render(
        request,
        "workorders/supervision.html",
        {
            **data,
            "district": district,
            "districts": districts if city_wide else [],
            "overdue": [(o, handling_selectors.clock_of(o, now)) for o in data["overdue"]],
            "due_soon": [(o, handling_selectors.clock_of(o, now)) for o in data["due_soon"]],
            "reroute_units": routable_units().filter(district_id=district.pk),
            "full_path": request.get_full_path(),
        },
    )


# --- the unit's internal sections and scorecard (二次派单) -----------------------------------------
def _require_center(user):
    if not access.may(user, access.Cap.DISPATCH_INTERNAL):
        raise PermissionDenied


@login_required
def sections(request):
    """The center's settings page: its sections and community committees, and who is in which."""
    _require_center(request.user)
    error = ""
    form = SectionForm(prefix="new")
    if request.method == "POST":
        op = request.POST.get("op")
        try:
            if op == "add":
                form = SectionForm(request.POST, prefix="new")
                if form.is_valid():
                    services.section_save(actor=request.user, cleaned=form.cleaned_data)
                    messages.success(request, _("已保存"))
                    return redirect("order-sections")
                error = _("请检查填写的内容。")
            elif op == "edit":
                section = access.visible_sections(request.user).filter(pk=_int(request.POST.get("section"))).first()
                if section is None:
                    raise Http404
                edit = SectionForm(request.POST, prefix=f"s{section.pk}")
                if not edit.is_valid():
                    raise DomainError(_("请检查填写的内容。"), code="invalid")
                services.section_save(actor=request.user, cleaned=edit.cleaned_data, section=section)
                messages.success(request, _("已保存"))
                return redirect("order-sections")
            elif op == "import":
                n = services.import_communities(actor=request.user)
                messages.success(request, _("已导入 %(n)s 个社区/村") % {"n": n})
                return redirect("order-sections")
            elif op == "member":
                member = User.objects.filter(pk=_int(request.POST.get("member")), unit_id=request.user.unit_id).first()
                if member is None:
                    raise Http404
                raw = request.POST.get("section") or ""
                section = None
                if raw:
                    section = Section.objects.filter(pk=_int(raw)).first()
                    if section is None:
                        raise DomainError(_("科室/社区不存在。"), code="invalid_section")
                services.set_membership(actor=request.user, member=member, section=section)
                messages.success(request, _("已保存"))
                return redirect("order-sections")
            else:
                error = _("未知操作。")
        except DomainError as exc:
            error = str(exc.message)
    rows = access.visible_sections(request.user).order_by("kind", "sort", "name")
    counts = dict(
        User.objects.filter(unit_id=request.user.unit_id, section__isnull=False, is_active=True)
        .values_list("section_id")
        .annotate(n=Count("pk"))
    )
    section_rows = [(sec, SectionForm(instance=sec, prefix=f"s{sec.pk}"), counts.get(sec.pk, 0)) for sec in rows]
    members = User.objects.filter(unit_id=request.user.unit_id, is_active=True).select_related("section")
    return render(
        request,
        "workorders/sections.html",
        {
            "form": form,
            "section_rows": section_rows,
            "members": members.order_by("section__name", "username"),
            "active_sections": [sec for sec in rows if sec.is_active],
            "error": error,
            "is_street": request.user.unit.kind == "street",
        },
        status=400 if error else 200,
    )


def _int(value) -> int | None:
    return numbers.parse_id(value)


@login_required
@require_GET
def scorecard(request):
    """The internal scorecard per section/community for the unit's daily analysis meeting."""
    _require_center(request.user)
    days = _int(request.GET.get("days")) or 30
    days = min(max(days, 1), 366)
    since = timezone.now() - timedelta(days=days)
    return render(
        request,
        "workorders/scorecard.html",
        {"rows": handling_selectors.internal_scorecard(request.user, since=since), "days": days},
    )


# --- actions in bulk, saved filters -------------------------------------------------------------
def _report(request, outcomes) -> None:
    """One message for what succeeded, one per refusal with its reason."""
    done = [o.label for o in outcomes if o.ok]
    if done:
        messages.success(request, _("已完成 %(n)s 项：%(items)s") % {"n": len(done), "items": "、".join(done)})
    for o in outcomes:
        if not o.ok:
            messages.error(request, _("未完成：%(item)s — %(why)s") % {"item": o.label, "why": o.message})


def _ids(values) -> list[int]:
    # what is not an id ("x", "²", "١٢٣") selects nothing; the rest is acted on and reported
    return [pk for value in values[:200] if (pk := numbers.parse_id(value)) is not None]


@login_required
@require_POST
def bulk_sign(request):
    """签收 several orders from the inbox at once (each through the sign transition)."""
    _require(request.user, access.Cap.HANDLE)
    ids = _ids(request.POST.getlist("orders"))
    if not ids:
        messages.error(request, _("请先勾选要签收的工单。"))
    else:
        _report(request, services.bulk_sign(actor=request.user, order_ids=ids))
    return redirect(_safe_back(request, "order-inbox"))


@login_required
@require_POST
def approvals_decide(request):
    """Rule on returns, extensions and exclusions from the approvals list: one (inline) or several."""
    _require(request.user, access.Cap.SUPERVISE)
    items = [str(i)[:20] for i in request.POST.getlist("items")][:200]
    decision = request.POST.get("decision")
    ruling = (request.POST.get("ruling") or "").strip()
    if not items or decision not in ("accept", "reject"):
        messages.error(request, _("请勾选申请并选择同意或驳回。"))
        return redirect(_safe_back(request, "order-supervision"))
    if decision == "reject" and not ruling:
        # approving needs no words; a refusal tells the unit why (checked before any item is touched)
        messages.error(request, _("驳回时请填写审批意见。"))
        return redirect(_safe_back(request, "order-supervision"))
    reroute = None
    if _int(request.POST.get("reroute_unit")):
        reroute = Unit.objects.filter(pk=_int(request.POST.get("reroute_unit"))).first()
    outcomes = services.decide_approvals(
        actor=request.user, items=items, accept=decision == "accept", ruling=ruling, reroute_unit=reroute
    )
    _report(request, outcomes)
    return redirect(_safe_back(request, "order-supervision"))


def _safe_back(request, default: str) -> str:
    """Back to the list the form was posted from (same site only)."""
    back = request.POST.get("next") or ""
    if back.startswith("/") and not back.startswith("//") and url_has_allowed_host_and_scheme(back, None):
        return back
    return reverse(default)


@login_required
@require_POST
def saved_filter_save(request):
    _require(request.user, access.Cap.ORDERS)
    name = (request.POST.get("name") or "").strip()[:40]
    query = (request.POST.get("query") or "").strip()
    query = "&".join(p for p in query.split("&") if not p.startswith(("page=", "partial=")))[:500]
    if not name:
        messages.error(request, _("请填写常用筛选的名称。"))
    elif (
        SavedFilter.objects.filter(user=request.user).count() >= 20
        and not SavedFilter.objects.filter(user=request.user, name=name).exists()
    ):
        messages.error(request, _("常用筛选最多 20 个，请先删除不用的。"))
    else:
        SavedFilter.objects.update_or_create(user=request.user, name=name, defaults={"query": query})
        messages.success(request, _("已保存常用筛选“%(n)s”") % {"n": name})
    return redirect(f"{reverse('order-inbox')}?{query}")


@login_required
@require_POST
def saved_filter_delete(request, pk: int):
    _require(request.user, access.Cap.ORDERS)
    get_object_or_404(SavedFilter, pk=pk, user=request.user).delete()
    return redirect("order-inbox")
