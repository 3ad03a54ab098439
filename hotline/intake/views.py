"""The agent's workspace (受理工作台): one form, live panels fed by the intake API."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseForbidden, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from districts.places import spell, street_choices
from hotline import access, numbers, refcache
from hotline import privacy as services
from hotline.accounts.login import client_ip
from hotline.errors import AccessDenied, DomainError
from hotline.intake import selectors, sessions, sms
from hotline.intake.services import IDEMPOTENCY_KEY_RE, Action, IntakeInvalid, call_intake, new_idempotency_key
from hotline.models import Call, Category
from workorders.lifecycle.self_evaluations import self_evaluation_url
from workorders.models import OrderParticipant, SelfEvaluationLink, UrgencyTier, WorkOrder


@login_required
def call_list(request):
    if not access.may(request.user, access.Cap.CALLS):
        raise PermissionDenied
    calls = list(access.visible_calls(request.user).select_related("street", "district", "agent", "order")[:101])
    cut_off = len(calls) > 100
    calls = calls[:100]
    for call in calls:
        call.order_or_none = getattr(call, "order", None) if hasattr(call, "order") else None
    order_ids = [c.order_or_none.pk for c in calls if c.order_or_none]
    linkable = set(access.visible_orders(request.user).filter(pk__in=order_ids).values_list("pk", flat=True))
    return render(
        request,
        "hotline/call_list.html",
        {
            "calls": calls,
            "cut_off": cut_off,
            "linkable": linkable,
            "phone_in_full": access.sees_phone_in_full(request.user),
        },
    )


@login_required
@require_POST
def call_reveal_phone(request, pk: int):
    call = get_object_or_404(access.visible_calls(request.user), pk=pk)
    try:
        phone = services.call_reveal_phone(
            call=call, acting_user=request.user, via="page", ip_address=client_ip(request)
        )
    except AccessDenied as exc:
        return HttpResponseForbidden(exc.message)
    return JsonResponse({"phone": phone})


def _category_groups():
    """[(“城乡建设 › 物业管理”, [leaf, …]), …] for one <select> with optgroups."""
    # The cached tree: parents and tiers already resolved, so .path and .default_tier never query.
    nodes = sorted(
        (c for c in refcache.categories.get()["by_id"].values() if c.is_active), key=lambda c: (c.sort, c.code)
    )
    by_parent: dict[int | None, list[Category]] = {}
    for node in nodes:
        by_parent.setdefault(node.parent_id, []).append(node)
    groups = []
    for top in by_parent.get(None, []):
        for mid in by_parent.get(top.pk, []):
            leaves = by_parent.get(mid.pk, [])
            if leaves:
                groups.append((f"{top.name} › {mid.name}", leaves))
    return groups


def _category_choices(groups) -> list[dict]:
    """The leaves for the type-to-filter picker: name, path, pinyin and initials."""
    rows = []
    for _label, leaves in groups:
        for c in leaves:
            py, ini = spell(c.name)
            rows.append({"code": c.code, "name": c.name, "path": c.path, "py": py, "ini": ini})
    return rows


def _done(request, raw_call_id: str):
    if (call_id := numbers.parse_id(raw_call_id)) is None:
        return None
    call = (
        access.visible_calls(request.user)
        .filter(pk=call_id, agent=request.user)
        .select_related("street", "community", "category", "answer_article")
        .first()
    )
    if call is None:
        return None
    order = None
    if call.outcome in (Call.Outcome.ORDER, Call.Outcome.DUPLICATE):
        if call.outcome == Call.Outcome.ORDER:
            order = WorkOrder.objects.filter(call=call).select_related("lead_unit", "tier").first()
        elif call.linked_order_id is not None:
            order = (
                access.visible_orders(request.user)
                .filter(pk=call.linked_order_id)
                .select_related("lead_unit", "tier")
                .first()
            )
        if order is not None:
            order.co_names = list(
                OrderParticipant.objects.filter(order=order, role=OrderParticipant.Role.CO_HANDLER).values_list(
                    "unit__name", flat=True
                )
            )
    return {"call": call, "order": order}


@login_required
@require_http_methods(["GET", "POST"])
def workspace(request):
    if not access.may(request.user, access.Cap.TAKE_CALLS):
        raise PermissionDenied

    errors: dict[str, list[str]] = {}
    error_codes: set[str] = set()
    data = request.POST if request.method == "POST" else {}
    status = 200
    if request.method == "POST":
        try:
            result = call_intake(acting_user=request.user, data=request.POST)
        except IntakeInvalid as exc:
            errors, status = exc.errors, 400
        except AccessDenied:
            raise PermissionDenied from None
        except DomainError as exc:
            errors, status = {"__all__": [str(exc.message)]}, 400
            error_codes.add(exc.code)
        else:
            # a second submit of the same form (double Ctrl+Enter, a retried POST) lands here too,
            # with the first one's call
            return redirect(f"{reverse('intake')}?done={result.call.pk}")
    # One key per rendered form; a form sent back with errors keeps its key (nothing was saved).
    key = data.get("idempotency_key", "") if request.method == "POST" else ""
    if not IDEMPOTENCY_KEY_RE.match(key or ""):
        key = new_idempotency_key()
    groups = _category_groups()
    context = {
        "data": data,
        "errors": errors,
        "all_errors": errors.get("__all__", []),
        "error_codes": error_codes,
        "done": _done(request, request.GET.get("done", "")) if request.method == "GET" else None,
        "category_groups": groups,
        "category_choices": _category_choices(groups),
        "tiers": UrgencyTier.objects.order_by("sort"),
        "channels": Call.Channel.choices,
        "request_types": Call.RequestType.choices,
        "actions": Action.CHOICES,
        "action": data.get("action") or Action.ORDER,
        "i18n_strings": _js_strings(),
        "today": selectors.intake_today(user=request.user),
        "streets": street_choices(),
        "idempotency_key": key,
        "session": sessions.session_info(request),
    }
    return render(request, "intake/workspace.html", context, status=status)


def _js_strings() -> dict[str, str]:
    return {
        "previousCalls": _("以往来电"),
        "openOrders": _("未办结工单"),
        "noHistory": _("没有以往来电"),
        "noCandidates": _("未能定位到街乡镇，请补充区、街道、社区或小区名称"),
        "noDuplicates": _("没有可能重复的工单"),
        "linkDuplicate": _("关联为重复诉求"),
        "answerDirectly": _("直接答复"),
        "noArticles": _("没有匹配的文章"),
        "lead": _("主办"),
        "co": _("协办"),
        "deadline": _("办结时限"),
        "duplicates": _("重复"),
        "error": _("查询失败，请重试"),
        "chooseStreet": _("同名地点在多个街乡镇，请选择一个"),
        "manual": _("手选"),
        "noPlaces": _("没有匹配的街乡镇"),
        "morePlaces": _("还有更多，请继续输入"),
        "recentCategories": _("最近使用"),
        "noCategories": _("没有匹配的分类"),
        "suggested": _("推荐分类"),
        "requestType": _("诉求类型"),
        "proposed": _(
            "可能是同一事件：工单 %s（同一地点、描述相近）。确认是同一问题请点“关联为重复诉求”，否则照常派单。"
        ),
        "placeSpot": _("同一楼栋/地点"),
        "placeCompound": _("同一小区/道路"),
        "placeStreet": _("同一街乡镇"),
        "similarity": _("相似度"),
        "chooseDuplicate": _("请在右侧“可能的重复诉求”中选择要关联的工单。"),
        "sessionWarning": _("登录将在 %s 分钟后过期。继续输入即可保持登录；已填写的内容保存在本机。"),
        "sessionExpired": _("登录已过期。已填写的内容保存在本机，重新登录后会自动恢复。"),
        "login": _("重新登录"),
        "stayLoggedIn": _("保持登录"),
        "draftRestored": _("已恢复上次未保存的内容。"),
        "discardDraft": _("清空"),
        "saving": _("正在保存…"),
        "kbDescription": _("咨询：%s"),
    }


@login_required
@require_POST
def self_evaluation_sms(request, pk: int, link_pk: int):
    """Send the self-evaluation link to the caller by SMS (queued; sent by the worker)."""
    if not access.may(request.user, access.Cap.CALL_BACK):
        raise PermissionDenied
    order = get_object_or_404(access.visible_orders(request.user).select_related("call"), pk=pk)
    link = SelfEvaluationLink.objects.filter(pk=link_pk, order=order).first()
    if link is None:
        raise Http404
    url = request.build_absolute_uri(self_evaluation_url(link))
    try:
        sms.self_evaluation_sms_queue(order=order, link_id=link.pk, url=url, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("自评链接短信已提交发送，发送结果见下方短信记录。"))
    return redirect("callback-detail", pk=order.pk)
