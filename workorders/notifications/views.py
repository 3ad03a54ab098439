from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from workorders.notifications import selectors, services


@login_required
def notification_list(request):
    if request.method == "POST":
        services.notifications_mark_read(acting_user=request.user)
        return redirect("notification-list")
    items = selectors.visible_notifications(request.user).select_related("order")[:200]
    return render(request, "workorders/notifications.html", {"items": items})


@login_required
@require_POST
def notification_open(request, pk: int):
    note = get_object_or_404(selectors.visible_notifications(request.user), pk=pk)
    services.notifications_mark_read(acting_user=request.user, ids=[note.pk])
    return redirect(note.url or "notification-list")
