import factory
from django.utils import timezone

from districts.models import Division, Unit
from hotline.models import Call, User

PASSWORD = "correct-horse-battery"


def unit(code: str) -> Unit:
    return Unit.objects.get(code=code)


def division(code: str) -> Division:
    return Division.objects.get(code=code)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    last_name = "测"
    first_name = factory.Sequence(lambda n: f"试{n}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class CallFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Call

    caller_phone = factory.Sequence(lambda n: f"139{n:08d}")
    request_type = Call.RequestType.COMPLAINT
    address = "丰台区洋桥北里12号楼"
    description = "楼道电梯停运"
    street = factory.LazyFunction(lambda: division("110106003"))
    district = factory.LazyAttribute(lambda o: o.street.district if o.street else None)
    received_at = factory.LazyFunction(timezone.now)


def login_to_admin(client, user) -> None:
    """Log in and mark the session as past the admin's second factor (tests of other admin
    features; tests/hotline/test_admin_second_factor.py goes through the real code entry)."""
    from hotline.accounts import twofactor

    client.force_login(user)
    session = client.session
    session[twofactor.SESSION_KEY] = user.pk
    session.save()
