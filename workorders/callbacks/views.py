"""Pages of the callback stage. Thin: parse the form, call workorders.callbacks, show the result."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from districts.models import Division
from hotline import access, numbers
from hotline.errors import AccessDenied, DomainError
from workorders.callbacks import selectors
from workorders.callbacks.forms import (
    AnswersForm,
    AttemptForm,
    CallbackRecordForm,
    DecisionForm,
    ExclusionRequestForm,
    RevokeForm,
    SendBackForm,
)
from workorders.lifecycle import actions, attachments, callbacks, exclusions, self_evaluations
from workorders.models import Callback, ExclusionEvidence, ExclusionRequest, WorkOrder


def _form_errors(form) -> str:
    return "；".join(str(e) for errors in form.errors.values() for e in errors)


def _order_or_404(user, pk: int) -> WorkOrder:
    try:
        return selectors.callback_order(user=user, pk=pk)
    except WorkOrder.DoesNotExist:
        raise Http404 from None
    except AccessDenied:
        raise PermissionDenied from None


# --- callback queue and record ---------------------------------------------------------------------
@login_required
def callback_queue(request):
    if not access.may(request.user, access.Cap.CALL_BACK):
        raise PermissionDenied
    kind = request.GET.get("kind", "")
    kind = kind if kind in selectors.QUEUE_KINDS else ""
    district = request.GET.get("district", "")
    district = numbers.id_param(district, field="district")
    q = request.GET.get("q", "")[:40]
    orders = selectors.callback_queue(user=request.user, kind=kind, district=district, q=q)
    page = Paginator(orders, 50).get_page(numbers.page_param(request.GET.get("page")))
    now = timezone.now()
    return render(
        request,
        "callbacks/queue.html",
        {
            "page": page,
            "rows": selectors.with_due_times(page, now),
            "limit_workdays": settings.CALLBACK_LIMIT_WORKDAYS,
            "kind": kind,
            "district": district,
            "q": q,
            "districts": Division.objects.filter(level=Division.Level.DISTRICT).order_by("code"),
            "now": now,
        },
    )


def _detail_context(request, order: WorkOrder, **forms) -> dict:
    now = timezone.now()
    callback_list = list(selectors.callbacks_of(order))
    current = next((c for c in callback_list if c.round == order.round), None)
    done = current is not None and current.status in callbacks.DONE_CALLBACK
    offered = actions.permitted(order, request.user, desk=actions.CALLBACK_DESK)
    callable_now = not done and callbacks.is_callable(order, now)
    links = [
        {"link": link, "url": request.build_absolute_uri(self_evaluations.self_evaluation_url(link))}
        for link in selectors.self_evaluation_links(order)
    ]
    return {
        "order": order,
        "call": order.call,
        "phone_in_full": access.sees_phone_in_full(request.user),
        "callbacks": callback_list,
        "current": current,
        "callable": callable_now,
        "events": selectors.history(order),
        "links": links,
        "now": now,
        "closing_status": selectors.closing_status(order, now),
        "callback_due": selectors.callback_due(selectors.waiting_since_of(order)) if callable_now else None,
        "record_form": forms.get("record_form") or CallbackRecordForm(order=order),
        "attempt_form": forms.get("attempt_form") or AttemptForm(),
        "send_back_form": forms.get("send_back_form") or SendBackForm(),
        "offered": offered,
    }


@login_required
def callback_detail(request, pk: int):
    order = _order_or_404(request.user, pk)
    return render(request, "callbacks/detail.html", _detail_context(request, order))


def _run(request, pk: int, action, ok_message: str):
    try:
        result = action()
    except AccessDenied:
        raise PermissionDenied from None
    except DomainError as exc:
        messages.error(request, exc.message)
        return None
    if ok_message:
        messages.success(request, ok_message)
    return result or True


@login_required
@require_POST
def callback_attempt(request, pk: int):
    order = _order_or_404(request.user, pk)
    form = AttemptForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
    else:
        callback = _run(
            request,
            pk,
            lambda: callbacks.callback_attempt(
                order, actor=request.user, result=form.cleaned_data["result"], note=form.cleaned_data["note"]
            ),
            "",
        )
        if callback:
            if callback.status == Callback.Status.UNREACHABLE:
                messages.warning(request, _("多次联系未果，本轮回访记为“无法联系”（不计为有效回访）。"))
            else:
                messages.success(request, _("已记录回访尝试。"))
    return redirect("callback-detail", pk=pk)


@login_required
@require_POST
def callback_record(request, pk: int):
    order = _order_or_404(request.user, pk)
    form = CallbackRecordForm(request.POST, order=order)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return render(request, "callbacks/detail.html", _detail_context(request, order, record_form=form), status=400)
    callback = _run(
        request,
        pk,
        lambda: callbacks.callback_record(
            order,
            actor=request.user,
            answers=form.answers(),
            round=form.cleaned_data["round"],
            redispatch_unit=form.cleaned_data["redispatch_unit"],
        ),
        "",
    )
    conflict = callbacks.answered_by_another(callback, request.user) if callback else None
    if conflict:
        messages.error(request, conflict)
        order.refresh_from_db()
        return render(request, "callbacks/detail.html", _detail_context(request, order), status=409)
    if callback:
        order.refresh_from_db()
        if callback.round < order.round:
            messages.success(
                request,
                _("有效回访已记录：%(result)s。工单已再派件（第 %(round)s 轮）至 %(unit)s。")
                % {
                    "result": f"{callback.get_solved_display()} / {callback.get_satisfaction_display()}",
                    "round": order.round,
                    "unit": order.lead_unit.name,
                },
            )
        else:
            messages.success(request, _("有效回访已记录，工单已完成。"))
    return redirect("callback-detail", pk=pk)


@login_required
@require_POST
def callback_self_link(request, pk: int):
    order = _order_or_404(request.user, pk)
    _run(
        request,
        pk,
        lambda: self_evaluations.self_evaluation_link_create(order, actor=request.user),
        _("已生成市民自评链接，请复制后通过短信发送。"),
    )
    return redirect("callback-detail", pk=pk)


@login_required
@require_POST
def callback_send_back(request, pk: int):
    order = _order_or_404(request.user, pk)
    form = SendBackForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
    else:
        done = _run(
            request,
            pk,
            lambda: callbacks.order_send_back(order, actor=request.user, reason=form.cleaned_data["reason"]),
            _("已退回承办单位重新办理。"),
        )
        if done:
            return redirect("callback-queue")
    return redirect("callback-detail", pk=pk)


# --- citizen self-evaluation (public) ---------------------------------------------------------------
@never_cache
def self_evaluation(request, token: str):
    """Public page reached from the SMS link: the three questions, nothing else."""
    try:
        link = self_evaluations.self_evaluation_find(token)
    except self_evaluations.LinkRefused as exc:
        return render(request, "callbacks/self_evaluation.html", {"refused": exc.message}, status=410)
    form = AnswersForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            self_evaluations.self_evaluation_submit(token, answers=form.answers())
        except self_evaluations.LinkRefused as exc:
            return render(request, "callbacks/self_evaluation.html", {"refused": exc.message}, status=410)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            return render(request, "callbacks/self_evaluation.html", {"thanks": True})
    title = link.order.title[:20]
    return render(request, "callbacks/self_evaluation.html", {"form": form, "title": title})


# --- exclusions (剔除) ---------------------------------------------------------------------------------


@login_required
def exclusion_list(request):
    if not access.may(request.user, access.Cap.EXCLUSIONS):
        raise PermissionDenied
    state = request.GET.get("state", "")
    state = state if state in ExclusionRequest.State.values else ""
    page = Paginator(selectors.exclusion_list(user=request.user, state=state), 50).get_page(
        numbers.page_param(request.GET.get("page"))
    )
    return render(
        request,
        "callbacks/exclusion_list.html",
        {
            "page": page,
            "state": state,
            "states": ExclusionRequest.State.choices,
            "may_request": access.may(request.user, access.Cap.REQUEST_EXCLUSION),
        },
    )


@login_required
def exclusion_new(request):
    if not access.may(request.user, access.Cap.REQUEST_EXCLUSION):
        raise PermissionDenied
    initial = {"order": request.GET.get("order", "")[:20]}
    form = ExclusionRequestForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        order = access.visible_orders(request.user).filter(number=form.cleaned_data["order"].strip()).first()
        if order is None:
            form.add_error("order", _("未找到该工单，或您无权查看。"))
        else:
            try:
                exclusion = exclusions.exclusion_request(
                    order,
                    actor=request.user,
                    reason=form.cleaned_data["reason"],
                    explanation=form.cleaned_data["explanation"],
                    files=request.FILES.getlist("evidence"),
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("剔除申请已提交，等待区级审核。"))
                return redirect("exclusion-detail", pk=exclusion.pk)
    return render(request, "callbacks/exclusion_new.html", {"form": form}, status=400 if form.errors else 200)


def _exclusion_or_404(user, pk: int) -> ExclusionRequest:
    try:
        return selectors.exclusion_get(user=user, pk=pk)
    except ExclusionRequest.DoesNotExist:
        raise Http404 from None


@login_required
def exclusion_detail(request, pk: int):
    exclusion = _exclusion_or_404(request.user, pk)
    order = exclusion.order
    offered = actions.permitted(order, request.user, desk=actions.EXCLUSION_DESK, subject=exclusion)
    return render(
        request,
        "callbacks/exclusion_detail.html",
        {
            "exclusion": exclusion,
            "order": order,
            "events": [e for e in selectors.history(order) if e.kind.startswith("exclusion_")],
            # offered exactly as the transitions accept: the action table's rows for this request
            **{
                key: name in offered
                for key, name in (
                    ("may_decide_district", "exclusion_decide_district"),
                    ("may_decide_city", "exclusion_decide_city"),
                    ("may_revoke", "exclusion_revoke"),
                )
            },
            "decision_form": DecisionForm(),
            "revoke_form": RevokeForm(),
        },
    )


@login_required
@require_POST
def exclusion_decide(request, pk: int):
    exclusion = _exclusion_or_404(request.user, pk)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return redirect("exclusion-detail", pk=pk)
    approve = form.cleaned_data["decision"] == "approve"
    note = form.cleaned_data["note"]
    if exclusion.state == ExclusionRequest.State.PENDING_DISTRICT:
        action = lambda: exclusions.exclusion_decide_district(exclusion, actor=request.user, approve=approve, note=note)  # noqa: E731
    else:
        action = lambda: exclusions.exclusion_decide_city(exclusion, actor=request.user, approve=approve, note=note)  # noqa: E731
    _run(request, pk, action, _("审核意见已保存。"))
    return redirect("exclusion-detail", pk=pk)


@login_required
@require_POST
def exclusion_revoke(request, pk: int):
    exclusion = _exclusion_or_404(request.user, pk)
    form = RevokeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
    else:
        _run(
            request,
            pk,
            lambda: exclusions.exclusion_revoke(exclusion, actor=request.user, note=form.cleaned_data["note"]),
            _("已撤销剔除，工单重新计入考核。"),
        )
    return redirect("exclusion-detail", pk=pk)


@login_required
def exclusion_evidence(request, pk: int):
    """Evidence is served only to those who may see the request, never from MEDIA_URL."""
    evidence = (
        ExclusionEvidence.objects.filter(
            pk=pk, request__in=access.visible_exclusion_requests(request.user).values("pk")
        )
        .select_related("request")
        .first()
    )
    if evidence is None:
        raise Http404
    return attachments.file_response(evidence.file, name=evidence.name, content_type=evidence.content_type)
