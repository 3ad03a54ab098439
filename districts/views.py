"""The city center's review of aliases learned from agents (别名审核)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from districts.alias_proposals import pending_proposals, proposal_decide
from hotline import access
from hotline.errors import DomainError


@login_required
def alias_proposals(request):
    if not access.may(request.user, access.Cap.REVIEW_ALIASES):
        raise PermissionDenied
    rows, cut_off = pending_proposals(request.user)
    return render(request, "districts/alias_proposals.html", {"proposals": rows, "cut_off": cut_off})


@login_required
@require_POST
def alias_proposal_decide(request, pk: int, decision: str):
    if not access.may(request.user, access.Cap.REVIEW_ALIASES):
        raise PermissionDenied
    if decision not in ("accept", "reject"):
        messages.error(request, _("未知的操作。"))
        return redirect("alias-proposals")
    try:
        proposal = proposal_decide(proposal_id=pk, user=request.user, accept=decision == "accept")
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        if decision == "accept":
            messages.success(
                request, _("已采纳：“%(name)s” → %(place)s") % {"name": proposal.name, "place": proposal.division.name}
            )
        else:
            messages.info(request, _("已驳回：“%(name)s”") % {"name": proposal.name})
    return redirect("alias-proposals")
