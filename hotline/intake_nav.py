from django.utils.translation import gettext_lazy as _

from hotline.access import TAKE_CALL_ROLES

NAV_ITEMS = [
    (_("受理来电"), "intake", TAKE_CALL_ROLES, 10),
]
