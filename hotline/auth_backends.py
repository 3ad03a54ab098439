from django.contrib.auth.backends import ModelBackend

from hotline.models import Role


class RoleBackend(ModelBackend):
    """Model permissions follow the role: the city center's administrators maintain every piece of
    reference data in the admin; other roles get only what is granted to them explicitly."""

    def _is_city_admin(self, user_obj) -> bool:
        return bool(user_obj.is_active and user_obj.is_staff and getattr(user_obj, "role", "") == Role.CITY)

    def has_perm(self, user_obj, perm, obj=None):
        return self._is_city_admin(user_obj) or super().has_perm(user_obj, perm, obj)

    def has_module_perms(self, user_obj, app_label):
        return self._is_city_admin(user_obj) or super().has_module_perms(user_obj, app_label)
