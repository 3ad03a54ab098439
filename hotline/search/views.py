"""The global search page (top bar). The top bar's form POSTs, so a phone number typed there never
appears in a URL (access logs, proxies, browser history); a GET with ?q= works too, for links."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from hotline import access
from hotline.accounts.login import client_ip
from hotline.search.selectors import MAX_QUERY, search_orders


@login_required
@require_http_methods(["GET", "POST"])
def search(request):
    if not access.may(request.user, access.Cap.SEARCH):
        raise PermissionDenied
    source = request.POST if request.method == "POST" else request.GET
    raw = source.get("q", "")
    raw = raw if isinstance(raw, str) else ""
    result = None
    if raw or request.method == "POST":
        result = search_orders(
            user=request.user, raw_query=raw[: MAX_QUERY * 4], via="search", ip_address=client_ip(request)
        )
    return render(request, "search/results.html", {"result": result, "query": result.query if result else ""})
