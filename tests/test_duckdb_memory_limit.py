"""DuckDB's memory limit is written once, in dbt's profile; the indicator checks' own
connection takes it from there."""

import pytest

from expectations import indicator_suite
from provpanel import config


@pytest.fixture
def profile_at(tmp_path, monkeypatch):
    def write(text: str):
        profile = tmp_path / "profiles.yml"
        profile.write_text(text, encoding="utf-8")
        monkeypatch.setattr(config, "DBT_PROFILE", profile)
        config.duckdb_memory_limit.cache_clear()
        return profile

    yield write
    config.duckdb_memory_limit.cache_clear()


def test_indicator_checks_use_the_profiles_memory_limit(profile_at):
    profile_at("provpanel:\n  outputs:\n    dev:\n      settings:\n        memory_limit: \"123MB\"\n")
    con = indicator_suite._connect()
    limit = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    assert limit in {"123.0 MB", "117.3 MiB"}, limit  # DuckDB prints the limit in its own units


def test_a_profile_without_a_memory_limit_is_named(profile_at):
    profile = profile_at("provpanel:\n  outputs:\n    dev:\n      settings: {}\n")
    with pytest.raises(ValueError, match=rf"{profile}.*memory_limit expected"):
        config.duckdb_memory_limit()
