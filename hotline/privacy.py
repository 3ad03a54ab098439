import re
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext_lazy

from hotline import access
from hotline.errors import AccessDenied
from hotline.models import Call, PersonalDataAccess, User


def call_reveal_phone(*, call: Call, acting_user: User, via: str, ip_address: str | None = None) -> str:
    """Show the caller's number to someone who normally sees it masked, and record that they did."""
    if not access.sees_caller(acting_user, call):
        raise AccessDenied(str(CONFIDENTIAL_NOTE))
    if access.sees_phone_in_full(acting_user):
        return call.caller_phone
    if not access.may_reveal_phone(acting_user, call):
        raise AccessDenied()
    with transaction.atomic():
        PersonalDataAccess.objects.create(
            user=acting_user, call=call, field="caller_phone", via=via, ip_address=ip_address
        )
    return call.caller_phone


def mask_phone(phone: str) -> str:
    """138****8000 for a mobile; keep the area code and last four of a landline (010****5678)."""
    digits = re.sub(r"\D", "", phone or "")
    if not digits:
        return ""
    if len(digits) <= 4:
        return "*" * len(digits)
    if len(digits) == 11 and digits.startswith("1"):
        return f"{digits[:3]}****{digits[-4:]}"
    head = 3 if digits.startswith("0") else 0
    return f"{digits[:head]}{'*' * (len(digits) - head - 4)}{digits[-4:]}" if head else f"****{digits[-4:]}"


# What a handling unit reads where a confidential caller's details would be.
CONFIDENTIAL_NOTE = gettext_lazy("保密工单：来电人信息已隐去，请通过 12345 热线中心联系市民。")
HIDDEN = gettext_lazy("（保密）")


@dataclass(frozen=True)
class CallerView:
    """A caller as one viewer may see them: pages, print, exports and the APIs render this."""

    hidden: bool  # a confidential caller this viewer may not see
    confidential: bool
    name: str
    phone: str  # in full for agents, masked for the others, empty when hidden
    address: str
    phone_in_full: bool
    note: str  # CONFIDENTIAL_NOTE when hidden


def caller_view(user, call: Call, address: str | None = None) -> CallerView:
    """The caller's name, phone and address (the order's address when given) as `user` sees them."""
    address = call.address if address is None else address
    if not access.sees_caller(user, call):
        return CallerView(True, True, "", "", "", False, str(CONFIDENTIAL_NOTE))
    full = access.sees_phone_in_full(user)
    phone = call.caller_phone if full else mask_phone(call.caller_phone)
    return CallerView(False, call.confidential, call.caller_name, phone, address, full, "")
