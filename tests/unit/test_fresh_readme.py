"""The fresh-machine run (tox -e fresh) takes the README's lines as written."""

from tests.fresh import readme, run


def test_the_fresh_script_is_the_readme_s_install_block_and_tox() -> None:
    text = readme.README.read_text()
    script = readme.script(text, "/fresh/source.bundle", ("tox",)).splitlines()
    install = readme.install_lines(text)
    assert install, "README has no install block"
    assert script[0] == "set -euxo pipefail"
    assert script[-1] == "tox"
    clone = "git clone /fresh/source.bundle chaosgate"  # the commit under test, not the URL
    assert script[1:-1] == [clone if readme.CLONE.match(line) else line for line in install]
    assert "cd chaosgate" in script
    assert readme.run_lines(text) == ["tox -e chaos", "tox"]


def test_the_chaos_tier_runs_as_written_and_must_stop_naming_host_setup_then_resolve_its_tools() -> None:
    text = readme.README.read_text()
    lines = run.newcomer_script(text, ("tox", run.CHAOS)).splitlines()
    assert lines.index("tox") < lines.index(f"{run.CHAOS} 2>&1 | tee /tmp/chaos.out")
    assert "grep -q 'deployer host-setup' /tmp/chaos.out" in "\n".join(lines)
    assert lines[-1] == ".tox/chaos/bin/python -m deployer tools kind kubectl helm minio"
    assert run.newcomer_script(text, ("tox",)) == readme.script(text, "/fresh/source.bundle", ("tox",))
