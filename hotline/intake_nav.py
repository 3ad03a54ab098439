from django.utils.translation import gettext_lazy as _

from hotline.models import Role

NAV_ITEMS = [
    (_("受理来电"), "intake", {Role.AGENT, Role.CITY}, 10),
]
