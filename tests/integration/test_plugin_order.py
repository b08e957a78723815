"""The chaos tier orders its tests by what they need, not by file names:
smoke first, then each stack variant's scenarios together (the default first)."""

from pathlib import Path

from tests.integration.plugin_env import run_plugin

TESTS = """
import pytest

@pytest.mark.variant("ephemeral")
def test_a_ephemeral(): pass

def test_b_default(): pass

@pytest.mark.smoke
def test_c_smoke(): pass

@pytest.mark.variant("unsafe-app")
def test_d_unsafe(): pass

@pytest.mark.variant("ephemeral")
def test_e_ephemeral(): pass

@pytest.mark.variant("default")
def test_f_default(): pass
"""


def test_smoke_first_then_grouped_by_variant(tmp_path: Path) -> None:
    (tmp_path / "test_order.py").write_text(TESTS)
    done = run_plugin(tmp_path, ["--collect-only"])
    names = [line.split("::")[1] for line in done.stdout.splitlines() if "::" in line]
    assert names == [
        "test_c_smoke",
        "test_b_default",
        "test_f_default",
        "test_a_ephemeral",
        "test_e_ephemeral",
        "test_d_unsafe",
    ], done.stdout + done.stderr


PROFILED = """
import pytest

@pytest.mark.scenario("short")
def test_short(): pass

@pytest.mark.scenario("long", extended=True)
def test_long(): pass
"""


def test_the_quick_profile_leaves_the_longer_scenarios_out_and_says_so(tmp_path: Path) -> None:
    (tmp_path / "test_profiled.py").write_text(PROFILED)
    quick = run_plugin(tmp_path, ["--collect-only"])
    names = [line.split("::")[1] for line in quick.stdout.splitlines() if "::" in line]
    assert names == ["test_short"], quick.stdout + quick.stderr
    assert "not in profile quick: long (run them with --profile full or standard)" in quick.stdout
    full = run_plugin(tmp_path, ["--collect-only", "--profile", "full"])
    names = [line.split("::")[1] for line in full.stdout.splitlines() if "::" in line]
    assert names == ["test_short", "test_long"], full.stdout + full.stderr
    assert "not in profile" not in full.stdout
