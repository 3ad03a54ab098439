from django.utils.translation import gettext_lazy as _

from hotline.models import Role

NAV_ITEMS = [
    (_("回访"), "callback-queue", {Role.AGENT, Role.CITY}, 40),
    (_("剔除审核"), "exclusion-list", {Role.STREET, Role.DEPARTMENT, Role.DISTRICT, Role.CITY}, 60),
]
