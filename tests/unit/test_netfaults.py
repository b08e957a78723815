"""The packet filters a partition sets and takes away (chaos.netfaults)."""

import pytest

from chaos import netfaults


def test_both_ways_drops_each_peer_in_and_out_through_own_chains() -> None:
    commands = netfaults.rules("both", ["10.244.1.5", "10.244.2.7"])
    assert ["-N", "CHAOSGATE-PART-IN"] in commands
    assert ["-A", "CHAOSGATE-PART-IN", "-s", "10.244.1.5", "-j", "DROP"] in commands
    assert ["-A", "CHAOSGATE-PART-IN", "-s", "10.244.2.7", "-j", "DROP"] in commands
    assert ["-A", "CHAOSGATE-PART-OUT", "-d", "10.244.2.7", "-j", "DROP"] in commands
    assert ["-I", "INPUT", "1", "-j", "CHAOSGATE-PART-IN"] in commands
    assert ["-I", "OUTPUT", "1", "-j", "CHAOSGATE-PART-OUT"] in commands
    # The chain is made and filled before traffic is sent through it.
    assert commands.index(["-N", "CHAOSGATE-PART-IN"]) < commands.index(["-I", "INPUT", "1", "-j", "CHAOSGATE-PART-IN"])


def test_one_way_only_loses_the_pods_own_packets() -> None:
    commands = netfaults.rules("outbound", ["10.244.1.5"])
    assert all("INPUT" not in c and "CHAOSGATE-PART-IN" not in c for c in commands)
    assert ["-A", "CHAOSGATE-PART-OUT", "-d", "10.244.1.5", "-j", "DROP"] in commands


def test_undo_removes_what_the_direction_added() -> None:
    both = netfaults.undo_rules("both")
    assert ["-D", "INPUT", "-j", "CHAOSGATE-PART-IN"] in both
    assert ["-X", "CHAOSGATE-PART-OUT"] in both
    assert all("CHAOSGATE-PART-IN" not in c for c in netfaults.undo_rules("outbound"))


def test_an_unknown_direction_is_refused() -> None:
    with pytest.raises(ValueError, match="direction"):
        netfaults.rules("sideways", ["10.244.1.5"])
