import pytest

from hotline.models import WorkerHeartbeat
from hotline.tasks import heartbeat
from tests.conftest import wait_for

pytestmark = [pytest.mark.integration]


def test_a_real_worker_consumes_from_the_broker_and_writes_to_the_database(live_worker):
    # given
    assert not WorkerHeartbeat.objects.exists()
    # when
    heartbeat.delay()
    # then
    row = wait_for(lambda: WorkerHeartbeat.objects.filter(name="worker").first(), log=live_worker.log)
    assert row.last_seen is not None


def test_healthz_reports_the_worker_once_it_has_run(live_worker, client):
    heartbeat.delay()
    wait_for(lambda: WorkerHeartbeat.objects.exists(), log=live_worker.log)
    body = client.get("/healthz").json()
    assert body["worker_last_seen"] is not None
