from django.utils.translation import gettext_lazy as _

from hotline.models import Role

NAV_ITEMS = [
    (_("工单办理"), "order-inbox", {Role.STREET, Role.DEPARTMENT, Role.DISTRICT, Role.CITY}, 20),
    (_("区级督办"), "order-supervision", {Role.DISTRICT, Role.CITY}, 30),
]
