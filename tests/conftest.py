import pytest
from django.core.management import call_command

from tests.factories import UserFactory, unit


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The real Beijing divisions and departments, loaded once into the test database."""
    with django_db_blocker.unblock():
        call_command("load_divisions", verbosity=0, stdout=open("/dev/null", "w"))
        from hotline.demo import CENTER_CODE
        from districts.models import Unit

        Unit.objects.get_or_create(code=CENTER_CODE, defaults={"name": "北京市民热线服务中心", "kind": "center"})


@pytest.fixture
def agent(db):
    return UserFactory(role="agent", unit=unit("11-center"))


@pytest.fixture
def city_admin(db):
    return UserFactory(role="city", unit=unit("11-center"), is_staff=True)


@pytest.fixture
def xiluoyuan_handler(db):
    return UserFactory(role="street", unit=unit("110106003"))  # 丰台区西罗园街道


@pytest.fixture
def youanmen_handler(db):
    return UserFactory(role="street", unit=unit("110106001"))  # 丰台区右安门街道


@pytest.fixture
def fengtai_manager(db):
    return UserFactory(role="district", unit=unit("110106"))


@pytest.fixture
def haidian_manager(db):
    return UserFactory(role="district", unit=unit("110108"))


@pytest.fixture
def water_dept_handler(db):
    return UserFactory(role="department", unit=unit("110106-water"))
