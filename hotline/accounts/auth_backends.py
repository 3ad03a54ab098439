from django.contrib.auth.backends import ModelBackend

from hotline import access


class RoleBackend(ModelBackend):
    """Model permissions follow the role: the city center's administrators maintain every piece of
    reference data in the admin; other roles get only what is granted to them explicitly."""

    def has_perm(self, user_obj, perm, obj=None):
        return access.can_use_admin(user_obj) or super().has_perm(user_obj, perm, obj)

    def has_module_perms(self, user_obj, app_label):
        return access.can_use_admin(user_obj) or super().has_module_perms(user_obj, app_label)
