import re


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
