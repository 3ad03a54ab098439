import re

from django.db import transaction

from hotline import access
from hotline.errors import AccessDenied
from hotline.models import Call, PersonalDataAccess, User


def call_reveal_phone(*, call: Call, acting_user: User, via: str, ip_address: str | None = None) -> str:
    """Show the caller's number to someone who normally sees it masked, and record that they did."""
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
