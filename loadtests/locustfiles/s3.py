"""Load straight to MinIO over S3 (no gateway): puts of every size class
(large ones as multipart uploads), overwrites, deletes and reads, every put
and delete recorded in the ledger.

Host is the MinIO endpoint (http://host:port); credentials and bucket come from
CHAOSGATE_S3_ACCESS_KEY, CHAOSGATE_S3_SECRET_KEY and CHAOSGATE_S3_BUCKET; the
load's shape from the variables in loadtests/locustfiles/common.py.
"""

from __future__ import annotations

from locust import User, between, task

from loadtests.locustfiles.common import LoadSettings, S3Ops
from loadtests.locustfiles.link import ProcessLedger
from loadtests.traffic import Traffic

SETTINGS = LoadSettings.from_env()
LEDGER = ProcessLedger()
TRAFFIC = Traffic(SETTINGS.shape, SETTINGS.run_id)


class S3User(User):
    wait_time = between(0.02, 0.1)

    def on_start(self) -> None:
        assert self.host, "--host must be the MinIO endpoint"
        self.ops = S3Ops(self.environment, self.host, LEDGER, SETTINGS.timeout, "{key}")

    @task
    def step(self) -> None:
        action = TRAFFIC.next()
        if action.kind == "read":
            self.ops.read(action.key, TRAFFIC.pool)
            return
        if action.kind == "delete":
            write = self.ops.delete(action.key, action.size_class)
        else:
            write = self.ops.put(action, TRAFFIC.pool)
        TRAFFIC.pool.settle(action, write.outcome, write.sha256)
