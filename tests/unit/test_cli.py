"""Bad input on the deployer's command line: a clear message and exit code 2,
before anything is built or deployed."""

import pytest

from deployer.cli import main


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["up", "--workers", "9"], "--workers must be 0..5"),
        (["tools", "kubeadm-ng"], "unknown tool(s) kubeadm-ng"),
    ],
)
def test_bad_input_exits_2_with_the_problem_named(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "bad input" in err
    assert message in err


def test_unknown_choice_is_refused_by_the_parser(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["up", "--images", "fetch"])
    assert exited.value.code == 2
    assert "invalid choice: 'fetch'" in capsys.readouterr().err
