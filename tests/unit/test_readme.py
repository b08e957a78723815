"""The README stays true: its two commands and every option are documented."""

from pathlib import Path

from chaos import settings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_readme_shows_both_commands():
    assert "tox -e chaos" in README
    assert "\ntox " in README or "\ntox\n" in README


def test_every_chaos_option_is_in_the_readme():
    for field in settings.fields():
        assert f"`{field.metadata['flag']}`" in README, field.name
        assert f"`{field.metadata['env']}`" in README, field.name
