"""The replica router (hotline/config/db_router.py) against a second real database that received
the same data: the test database is copied (SQLite: the backup API; PostgreSQL: CREATE DATABASE …
TEMPLATE), as a streaming replica would hold it, then the copy is marked so that a figure read
from it can be told apart."""

import sqlite3
import uuid

import pytest
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.test import Client, override_settings
from django.urls import reverse

from assessment.rulesets import ruleset_active
from districts.models import Division, Unit
from hotline.config import db_router
from hotline.config.db_router import REPLICA_ALIAS, replica_reads
from tests.callbacks.conftest import make_order
from tests.factories import UserFactory, unit
from workorders.models import Notification, OrderState, WorkOrder

pytestmark = pytest.mark.django_db(transaction=True)

ROUTED = {
    "DATABASE_ROUTERS": ["hotline.config.db_router.ReplicaRouter"],
}
MARK = "丰台区·副本"


def _copy_database() -> dict:
    default = connections[DEFAULT_DB_ALIAS]
    cfg = dict(default.settings_dict)
    if default.vendor == "sqlite":
        name = f"{cfg['NAME']}.replica-{uuid.uuid4().hex[:6]}"
        default.close()
        src, dst = sqlite3.connect(cfg["NAME"]), sqlite3.connect(name)
        src.backup(dst)
        src.close()
        dst.close()
    else:
        name = f"{cfg['NAME']}_replica_{uuid.uuid4().hex[:6]}"
        default.close()
        with connections["default"].cursor() as c:  # reopens; terminate our other sessions (threads)
            c.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                [cfg["NAME"]],
            )
        default.close()
        import psycopg2

        admin = psycopg2.connect(
            dbname="postgres", user=cfg["USER"], password=cfg["PASSWORD"], host=cfg["HOST"], port=cfg["PORT"] or 5432
        )
        admin.autocommit = True
        with admin.cursor() as c:
            c.execute(f'CREATE DATABASE "{name}" TEMPLATE "{cfg["NAME"]}"')
        admin.close()
    cfg["NAME"] = name
    return cfg


def _drop(cfg):
    if connections[DEFAULT_DB_ALIAS].vendor == "sqlite":
        import os

        os.unlink(cfg["NAME"])
        return
    import psycopg2

    admin = psycopg2.connect(
        dbname="postgres", user=cfg["USER"], password=cfg["PASSWORD"], host=cfg["HOST"], port=cfg["PORT"] or 5432
    )
    admin.autocommit = True
    with admin.cursor() as c:
        c.execute(f'DROP DATABASE IF EXISTS "{cfg["NAME"]}"')
    admin.close()


@pytest.fixture
def replica(reference_data, agent):
    for _ in range(3):
        make_order(agent)  # three open orders in 丰台区 on the primary
    ruleset_active()  # the rule set exists before the copy (else the page would create it: a write)
    cfg = _copy_database()
    connections.settings[REPLICA_ALIAS] = cfg
    # Connect now: the test case's guard only lets through connections that are already open.
    connections[REPLICA_ALIAS].connect()
    try:
        with override_settings(**ROUTED):
            # Mark the copy: the district's name and one fewer open order than the primary.
            Division.objects.using(REPLICA_ALIAS).filter(code="110106").update(name=MARK)
            first = WorkOrder.objects.order_by("pk").first().pk
            WorkOrder.objects.using(REPLICA_ALIAS).filter(pk=first).update(state=OrderState.CLOSED)
            yield cfg
    finally:
        connections[REPLICA_ALIAS].close()
        del connections[REPLICA_ALIAS]
        del connections.settings[REPLICA_ALIAS]
        _drop(cfg)


def _fengtai(load):
    # (each row also links to its orders; the figures are what this test is about)
    return [
        {"unit": row["unit"], "open": row["open"], "overdue": row["overdue"]}
        for row in load
        if row["unit"].startswith("丰台区")
    ]


def test_a_dashboard_reads_the_replica_and_the_login_still_counts_at_once(replica):
    # This account exists only on the primary: the session and user are read there.
    city = UserFactory(role="city", unit=unit("11-center"), is_staff=True)
    client = Client()
    client.force_login(city)
    url = reverse("assessment-dashboard-data")
    middleware = "hotline.config.db_router.ReplicaReadsMiddleware"
    from django.conf import settings

    with override_settings(MIDDLEWARE=[*settings.MIDDLEWARE, middleware]):
        routed = client.get(url)
    assert routed.status_code == 200
    assert _fengtai(routed.json()["load"]) == [{"unit": MARK, "open": 2, "overdue": 0}]
    plain_client = Client()  # (a client keeps the middleware it was built with)
    plain_client.force_login(city)
    plain = plain_client.get(url)  # without the middleware: the primary
    assert _fengtai(plain.json()["load"]) == [{"unit": "丰台区", "open": 3, "overdue": 0}]
    # A page not in the list reads the primary even with the middleware on.
    with override_settings(MIDDLEWARE=[*settings.MIDDLEWARE, middleware]):
        assert client.get(reverse("order-inbox")).status_code == 200
        assert db_router._state.get() is None


def test_reads_inside_go_to_the_replica_writes_never(replica):
    center = unit("11-center")
    user = UserFactory(role="agent", unit=center)
    with replica_reads():
        assert WorkOrder.objects.exclude(state=OrderState.CLOSED).count() == 2  # the replica's
        assert Division.objects.get(code="110106").name == MARK
        Notification.objects.create(user=user, kind="test", title="只写主库")
        # after a write the request reads its own writes from the primary
        assert Notification.objects.filter(title="只写主库").exists()
        assert WorkOrder.objects.exclude(state=OrderState.CLOSED).count() == 3
    assert Notification.objects.filter(title="只写主库").count() == 1
    assert not Notification.objects.using(REPLICA_ALIAS).filter(title="只写主库").exists()


def test_a_transaction_and_the_accounts_always_read_the_primary(replica):
    with replica_reads():
        with transaction.atomic():
            assert Division.objects.get(code="110106").name == "丰台区"  # inside a transaction: primary
        assert Division.objects.get(code="110106").name == MARK  # outside: the replica again
        with transaction.atomic():
            # a locking read counts as a write: from here on this request reads the primary
            assert WorkOrder.objects.select_for_update().exclude(state=OrderState.CLOSED).count() == 3
        assert Division.objects.get(code="110106").name == "丰台区"
        new = UserFactory(role="agent", unit=unit("11-center"))
    with replica_reads():
        from hotline.models import User

        assert User.objects.filter(pk=new.pk).exists()  # accounts: primary, never the lagging copy
        assert Unit.objects.using(REPLICA_ALIAS).filter(code="11-center").exists()


def test_without_a_replica_nothing_changes(reference_data):
    assert not db_router.replica_configured()
    with replica_reads():
        assert db_router._state.get() is None
    assert db_router.ReplicaRouter().db_for_write(WorkOrder) == DEFAULT_DB_ALIAS
    assert db_router.ReplicaRouter().allow_migrate(REPLICA_ALIAS, "workorders") is False
