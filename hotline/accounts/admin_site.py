from django import forms
from django.contrib import admin
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext_lazy as _

from hotline.access import can_use_admin
from hotline.accounts import twofactor
from hotline.accounts.login import ThrottledAdminLoginForm, client_ip
from hotline.errors import DomainError


class SecondFactorForm(forms.Form):
    code = forms.CharField(
        label=_("验证码"),
        max_length=100,  # longer input is still a wrong code, counted by twofactor.verify
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True, "size": 8}
        ),
    )


class HotlineAdminSite(admin.AdminSite):
    site_header = _("12345 接诉即办 · 系统管理")
    site_title = _("12345 系统管理")
    login_form = ThrottledAdminLoginForm  # the one login throttle (hotline.accounts.login)

    def has_permission(self, request) -> bool:
        # The admin edits city-wide reference data (categories, rules, aliases, accounts, API keys):
        # only the city center's administrators may enter, whatever their staff flag says, and only
        # once this session has passed the second factor (hotline.twofactor).

        return can_use_admin(request.user) and twofactor.passed(request)

    def login(self, request, extra_context=None):
        # A city administrator who is logged in but has not passed the second factor is sent there,
        # not shown the login form again.

        if request.method == "GET" and can_use_admin(request.user) and not twofactor.passed(request):
            target = reverse("admin:second_factor", current_app=self.name)
            return HttpResponseRedirect(f"{target}?{urlencode({'next': request.GET.get('next', '')})}")
        return super().login(request, extra_context)

    def get_urls(self):
        return [path("2fa/", self.second_factor, name="second_factor"), *super().get_urls()]

    def second_factor(self, request):
        """Enter the authenticator app's current code; the first time, enrol it (secret shown)."""

        if not (can_use_admin(request.user) or twofactor.needed_for(request.user)):
            return HttpResponseRedirect(reverse("admin:login", current_app=self.name))
        next_url = request.POST.get("next") or request.GET.get("next") or ""
        if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
            next_url = ""
        next_url = next_url or reverse("admin:index", current_app=self.name)
        if twofactor.passed(request):
            return HttpResponseRedirect(next_url)
        factor = twofactor.factor_for(request.user)
        form = SecondFactorForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                ok = twofactor.verify(user=request.user, code=form.cleaned_data["code"], ip_address=client_ip(request))
            except DomainError as exc:
                form.add_error("code", str(exc.message))
            else:
                if ok:
                    request.session.cycle_key()  # a new session id for the elevated session
                    request.session[twofactor.SESSION_KEY] = request.user.pk
                    return HttpResponseRedirect(next_url)
                form.add_error("code", _("验证码不正确或已用过，请输入验证器应用中当前的 6 位数字。"))
        context = {
            **self.each_context(request),
            # nothing of the admin before the code: no model list, no sidebar
            "available_apps": [],
            "is_nav_sidebar_enabled": False,
            "title": _("二次验证"),
            "form": form,
            "next": next_url,
            "enrolling": factor.confirmed_at is None,
            "secret": " ".join(factor.secret[i : i + 4] for i in range(0, len(factor.secret), 4)),
            "uri": twofactor.provisioning_uri(factor),
        }
        return render(request, "admin/second_factor.html", context)
