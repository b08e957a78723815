"""Locust worker pods: what the manifests say (loadtests.incluster)."""

import secrets

from deployer.kind import cluster_of_nodes
from loadtests.incluster import manifests

# Generated per test run: the check is that this value appears only in the Secret.
SECRET_VALUE = secrets.token_hex(16)
ENV = {"CHAOSGATE_S3_SECRET_KEY": SECRET_VALUE, "CHAOSGATE_RUN_ID": "hpa"}


def test_the_environment_lives_in_a_secret_never_in_the_deployment():
    secret, deployment = manifests("chaosgate-helpers", "img:1", 2, "app", master=("172.18.0.1", 5557), env=ENV)
    assert secret["kind"] == "Secret" and secret["stringData"] == ENV
    assert SECRET_VALUE not in str(deployment)
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["envFrom"] == [{"secretRef": {"name": secret["metadata"]["name"]}}]
    assert "env" not in container


def test_workers_dial_the_master_and_run_the_named_locustfile():
    _, deployment = manifests("ns", "img:1", 3, "s3", master=("10.0.0.5", 40001), env=ENV)
    assert deployment["spec"]["replicas"] == 3
    args = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args[:2] == ["-f", "/srv/chaosgate/loadtests/locustfiles/s3.py"]
    assert "--worker" in args
    assert args[args.index("--master-host") + 1] == "10.0.0.5"
    assert args[args.index("--master-port") + 1] == "40001"
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["automountServiceAccountToken"] is False


def test_kind_nodes_name_their_cluster():
    nodes = [{"spec": {"providerID": "kind://docker/standin/standin-worker"}}]
    assert cluster_of_nodes(nodes) == "standin"
    assert cluster_of_nodes([{"spec": {"providerID": "aws:///eu-west-1a/i-0abc"}}]) is None
    assert cluster_of_nodes([{"spec": {}}]) is None
