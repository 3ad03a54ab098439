from django.utils.translation import gettext_lazy as _

from hotline.models import Role

NAV_ITEMS = [
    (_("考核排名"), "assessment-index", {Role.STREET, Role.DEPARTMENT, Role.DISTRICT, Role.CITY}, 60),
    (_("考核看板"), "assessment-dashboard", {Role.DISTRICT, Role.CITY}, 61),
    (_("主动治理"), "assessment-governance", {Role.DISTRICT, Role.CITY}, 62),
]
