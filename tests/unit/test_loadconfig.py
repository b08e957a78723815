"""The Locust boundary as one dataclass: what the harness writes is what the locustfiles read."""

import pytest

from chaos.slo import PROFILES
from kernel.errors import BadInputError
from loadtests.config import AppContract, LoadConfig, env_name

APP = AppContract(
    write_method="PUT",
    write_path="/objects/{key}",
    ack_status=(200, 201),
    digest_header="X-Content-SHA256",
    read_path="/objects/{key}",
    delete_path="",
    stored_as="gw/{key}",
)


def test_a_config_survives_the_process_boundary():
    config = LoadConfig(
        run_id="pod-kill",
        ledger_dir="/runs/x/pod-kill/ledger",
        **PROFILES["quick"].load_shape(),
        s3_endpoint="http://127.0.0.1:9000",
        s3_access_key="access",
        s3_secret_key="secret",
        s3_bucket="chaosgate",
        app=APP,
    )
    env = config.to_env()
    assert all(name.startswith("CHAOSGATE_") for name in env)
    assert env[env_name("app_ack_status")] == "200,201"
    assert "CHAOSGATE_APP_DELETE_PATH" not in env, "empty fields stay out: the locustfiles' defaults apply"
    assert LoadConfig.from_env(env) == config


def test_without_an_app_the_s3_locustfile_gets_no_contract():
    env = LoadConfig(run_id="r", s3_bucket="b").to_env()
    assert not any(name.startswith("CHAOSGATE_APP_") for name in env)
    assert LoadConfig.from_env(env).app is None


def test_workers_get_a_share_of_the_budget_and_no_ledger_folder():
    workers = LoadConfig(ledger_dir="/l", bytes_per_s=1000.0).for_workers(4)
    assert (workers.ledger_dir, workers.bytes_per_s) == ("", 250.0)


@pytest.mark.parametrize(
    ("env", "said"),
    [
        ({"CHAOSGATE_READ_RATIO": "lots"}, "CHAOSGATE_READ_RATIO must be a number"),
        ({"CHAOSGATE_DELETE_RATIO": "1.5"}, "CHAOSGATE_DELETE_RATIO must be within [0, 1]"),
        (
            {"CHAOSGATE_OVERWRITE_RATIO": "0.6", "CHAOSGATE_DELETE_RATIO": "0.5"},
            "CHAOSGATE_OVERWRITE_RATIO + CHAOSGATE_DELETE_RATIO must be < 1",
        ),
    ],
)
def test_bad_input_names_the_variable(env, said):
    with pytest.raises(BadInputError, match=said.replace("[", r"\[").replace("]", r"\]").replace("+", r"\+")):
        LoadConfig.from_env(env)
