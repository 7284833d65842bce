"""One definition per setting (provpanel/settings.py), reaching every asset from the launchpad,
the CLI and the environment alike, refused with the allowed values when wrong, and recorded
in the snapshot's analysis.settings and the outputs' first line."""

from __future__ import annotations

import inspect

import duckdb
import pytest
import yaml
from cli_helpers import copy_home, run_provpanel, run_provpanel_in_process

from provpanel.config import DBT_PROJECT_DIR, REPO_ROOT, SAMPLE_EDITIONS_DIR, Paths
from provpanel.settings import (
    ANALYSIS,
    PANEL,
    SETTINGS,
    SETTINGS_BY_NAME,
    Setting,
    SettingError,
    resolve_settings,
    settings_markdown_table,
)


def _other_value(setting: Setting) -> object:
    """An allowed value that is not the default."""
    if setting.kind is tuple:
        return tuple(setting.default)[:1] or ("ic",)
    if setting.default in setting.keywords:  # panel_end_year: 'latest' by default
        return 2019
    if setting.choices:
        return next(choice for choice in setting.choices if choice != setting.default)
    if setting.kind is float:
        return setting.default / 2
    return setting.default - 3 if setting.maximum is not None else setting.default + 7


def _not_allowed(setting: Setting) -> str:
    if setting.kind is tuple:
        return "ic;drop"
    return "no_such_value" if setting.kind is str else str(setting.minimum - 1)


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.name)
def test_env_cli_flag_and_launchpad_each_change_every_setting(setting):
    from orchestration.settings_resource import ProvpanelSettings
    from provpanel.cli import _setting_flags, build_parser

    value = _other_value(setting)
    assert resolve_settings(environ={}).values[setting.name] == setting.default
    assert resolve_settings(environ={}).sources[setting.name] == "default"

    from_env = resolve_settings(environ={setting.env_var: setting.text(value)})
    assert (from_env.values[setting.name], from_env.sources[setting.name]) == (value, "env")

    args = build_parser().parse_args(["build", setting.cli_flag, setting.text(value)])
    from_flag = resolve_settings(_setting_flags(args), explicit_source="cli",
                                 environ={setting.env_var: setting.text(setting.default)})
    assert (from_flag.values[setting.name], from_flag.sources[setting.name]) == (value, "cli")

    # the launchpad's run config sets the resource's field; it beats the environment too
    resource = ProvpanelSettings(**{setting.name: value})
    from_launchpad = resource.resolve({})
    assert (from_launchpad.values[setting.name], from_launchpad.sources[setting.name]) == (value, "launchpad")
    assert resource.resolve({"provpanel/launched_by": "cli"}).sources[setting.name] == "cli"


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.name)
def test_a_value_not_allowed_is_refused_with_the_allowed_values(setting):
    from orchestration.settings_resource import ProvpanelSettings

    bad = _not_allowed(setting)
    with pytest.raises(SettingError) as from_env:
        resolve_settings(environ={setting.env_var: bad})
    message = str(from_env.value)
    assert setting.name in message and setting.env_var in message and repr(bad) in message
    assert setting.allowed() in message
    with pytest.raises(SettingError, match=f"flag {setting.cli_flag}"):
        resolve_settings({setting.name: bad}, explicit_source="cli", environ={})
    field_value = bad if setting.kind is str or setting.keywords else setting.kind(bad)
    with pytest.raises(SettingError, match=f"resources.settings.config.{setting.name}"):
        ProvpanelSettings(**{setting.name: field_value}).resolve({})


def test_allowed_values_are_stated_in_words():
    assert SETTINGS_BY_NAME["lq_reference"].allowed() == "one of panel, all_provinces, national"
    assert SETTINGS_BY_NAME["panel_end_year"].parse("latest") == "latest"
    assert SETTINGS_BY_NAME["panel_end_year"].parse(" 2019 ") == 2019
    with pytest.raises(SettingError, match="an integer from 1949 to 2100 or 'latest'"):
        SETTINGS_BY_NAME["panel_end_year"].parse("2019.5")
    with pytest.raises(SettingError, match="unknown setting.*se_typ"):
        resolve_settings({"se_typ": "robust"}, environ={})
    with pytest.raises(SettingError, match="end year must not come before the start year"):
        resolve_settings(environ={"PROVPANEL_PANEL_START_YEAR": "2010", "PROVPANEL_PANEL_END_YEAR": "2005"})


def test_a_list_setting_takes_words_from_text_or_a_list():
    """What a setting like a list of terms would be: one Setting(...) line."""
    terms = Setting("wild_bootstrap_terms", tuple, ("ic",), ANALYSIS, "terms", choices=("ic", "ic2", "cx"))
    assert terms.parse(" ic, ic2 ") == ("ic", "ic2") == terms.parse(["ic", "ic2"])
    assert terms.text(("ic", "ic2")) == "ic,ic2"
    with pytest.raises(SettingError, match="'ic,zz' is not allowed; expected a comma-separated list of ic, ic2, cx"):
        terms.parse("ic,zz")


def test_build_refuses_a_bad_flag_or_variable_before_any_work(tmp_path):
    home = tmp_path / "home"
    completed = run_provpanel(["build", "--lq-reference", "nation"], home=home, timeout=60)
    assert completed.returncode == 2
    assert ("setting lq_reference (flag --lq-reference): 'nation' is not allowed; "
            "expected one of panel, all_provinces, national") in completed.stderr
    completed = run_provpanel(["build"], home=home, timeout=60, extra_env={"PROVPANEL_SE_TYPE": "clustered"})
    assert completed.returncode == 2
    assert "setting se_type (environment variable PROVPANEL_SE_TYPE): 'clustered'" in completed.stderr
    assert "wild_cluster_bootstrap" in completed.stderr and "Traceback" not in completed.stderr
    assert not home.exists()  # nothing was started


def test_the_defaults_are_the_ones_the_analysis_and_dbt_take_alone():
    """A setting's default is the default of what it sets: run_all's keyword, dbt's var."""
    from analysis import run_all

    parameters = inspect.signature(run_all).parameters
    for setting in SETTINGS:
        if setting.stage == ANALYSIS:
            assert parameters[setting.name].default == setting.default, setting.name
    from provpanel.config import dbt_vars
    from provpanel.settings import default_values

    # dbt has no default of its own (one default: provpanel.settings); a run is given them all
    project_vars = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))["vars"]
    given = dbt_vars(default_values(PANEL))
    for setting in SETTINGS:
        if setting.stage == PANEL:
            assert setting.name not in project_vars, setting.name
            assert str(given[setting.name]) == str(setting.default), setting.name


def test_readme_lists_every_setting():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert settings_markdown_table() in readme
    for setting in SETTINGS:
        assert f"`{setting.env_var}`" in readme and f"`{setting.cli_flag}`" in readme


def test_every_setting_is_in_the_build_fingerprint(tmp_path):
    from provpanel.build_state import build_fingerprint

    paths = Paths(home=tmp_path, editions=SAMPLE_EDITIONS_DIR)
    default = build_fingerprint(paths, resolve_settings(environ={}))
    assert build_fingerprint(paths, resolve_settings(environ={})) == default
    # a value given as a flag equal to the default is no change
    assert build_fingerprint(paths, resolve_settings({"se_type": "cluster"}, environ={})) == default
    for setting in SETTINGS:
        changed = resolve_settings({setting.name: _other_value(setting)}, environ={})
        assert build_fingerprint(paths, changed) != default, setting.name


# ---------------------------------------------------------------- end to end (two runs)


def _snapshot(home, sql):
    from provpanel.publish import published_path

    con = duckdb.connect(str(published_path(home)), read_only=True)
    try:
        return con.execute(sql).df()
    finally:
        con.close()


def _settings_table(home) -> dict[str, tuple[str, str]]:
    frame = _snapshot(home, "SELECT setting, value, source FROM analysis.settings")
    return {row.setting: (row.value, row.source) for row in frame.itertuples()}


@pytest.fixture(scope="module")
def cli_build(sample_build, tmp_path_factory):
    """`provpanel build --break-year 2016` with PROVPANEL_BOOTSTRAP_REPS=99 in the environment, on
    a copy of the sample build (the editions are stored already: the settings make the build
    run the panel, checks and analysis again)."""
    home = copy_home(sample_build[0], tmp_path_factory.mktemp("settings-home") / "home")
    completed = run_provpanel_in_process(["build", "--break-year", "2016"], home=home,
                              extra_env={"PROVPANEL_BOOTSTRAP_REPS": "99"})
    assert completed.returncode == 0, f"STDOUT:\n{completed.stdout}\nSTDERR:\n{completed.stderr}"
    return home, completed


def test_cli_flag_and_environment_reach_the_analysis_and_are_recorded(cli_build):
    home, completed = cli_build
    recorded = _settings_table(home)
    assert set(recorded) == set(SETTINGS_BY_NAME)
    assert recorded["break_year"] == ("2016", "cli")
    assert recorded["bootstrap_reps"] == ("99", "env")
    assert recorded["lq_reference"] == ("panel", "default")
    assert recorded["se_type"] == ("cluster", "default")
    terms = set(_snapshot(home, "SELECT DISTINCT term FROM analysis.estimates").term)
    assert "ic_x_p2016" in terms and "ic_x_p2018" not in terms
    # each output starts with the settings line; the build prints it above the table
    line = "settings: vintage_policy=latest, panel_start_year=2001"
    # CSV has no comment line most readers accept: the CSV tables' settings are settings.txt
    for name in ("table_1.md", "table_1.tex", "table_1.html", "settings.txt"):
        first = (home / "outputs" / name).read_text(encoding="utf-8").splitlines()[0]
        assert line in first and "break_year=2016 (cli)" in first and "bootstrap_reps=99 (env)" in first, name
    assert "break_year=2016 (cli)" in completed.stdout
    import pandas as pd

    table = pd.read_csv(home / "outputs" / "table_1.csv")
    assert list(table.columns)[:3] == ["row", "Model 1", "Model 2"]


def test_run_config_from_the_launchpad_reaches_the_check_and_the_analysis(cli_build, monkeypatch):
    """What the launchpad sends: the build_panel job with resources.settings.config, on the
    Dagster instance of the home the CLI built; the panel check and the analysis of that run
    follow it, and the snapshot records it."""
    from dagster import DagsterInstance

    from expectations.panel_suite import (
        build_panel_suite,
        load_thresholds,
        prepare_panel_frame,
        validate_panel,
    )
    from orchestration.build_runner import _first_failure
    from provpanel.build_state import last_build, unchanged_since_last_build
    from provpanel.config import get_paths
    from provpanel.dagster_env import prepare_dagster_home

    home, _ = cli_build
    ic_before = _snapshot(home, "SELECT province_code, year, ic FROM marts.province_year_panel ORDER BY 1, 2")
    for name in ("DAGSTER_HOME", "PROVPANEL_HOME", "PROVPANEL_EDITIONS", "PROVPANEL_WAREHOUSE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PROVPANEL_HOME", str(home))
    monkeypatch.setenv("PROVPANEL_EDITIONS", str(SAMPLE_EDITIONS_DIR))
    monkeypatch.setenv("PROVPANEL_BOOTSTRAP_REPS", "99")
    prepare_dagster_home(get_paths())
    recorded_fingerprint = last_build(get_paths())["fingerprint"]
    assert unchanged_since_last_build(get_paths(), recorded_fingerprint) is not None
    from orchestration.definitions import defs

    job = defs.resolve_job_def("build_panel")
    with DagsterInstance.get() as instance:
        result = job.execute_in_process(
            instance=instance, raise_on_error=False,
            run_config={"resources": {"settings": {"config": {"lq_reference": "all_provinces", "se_type": "robust"}}}},
        )
    assert result.success, _first_failure(result)

    # the check validated the panel as dbt built it, with the reference of all 31 provinces
    evaluations = [e.event_specific_data for e in result.all_events
                   if e.event_type_value == "ASSET_CHECK_EVALUATION"
                   and e.event_specific_data.check_name == "panel_suite"]
    assert len(evaluations) == 1 and evaluations[0].passed
    metadata = evaluations[0].metadata
    assert metadata["lq_reference"].value == "all_provinces"
    panel = _snapshot(home, "SELECT * FROM marts.province_year_panel")
    thresholds = load_thresholds()["panel"]
    frame = prepare_panel_frame(panel, thresholds)
    all_provinces = len(build_panel_suite(frame, thresholds, lq_reference="all_provinces").expectations)
    assert metadata["expectations"].value == all_provinces
    # the panel-sum identity (GDP-weighted mean LQ = 1) does not hold for another reference: a
    # check that took the reference from the environment (panel) would have stopped this run
    as_if_from_environment = validate_panel(panel, lq_reference="panel")
    assert not as_if_from_environment.success
    assert {f.column for f in as_if_from_environment.failures} == {"ic_gdp_weighted_mean", "ic2_gdp_weighted_mean"}

    # dbt built the panel with it: the location quotients changed
    ic_after = _snapshot(home, "SELECT province_code, year, ic FROM marts.province_year_panel ORDER BY 1, 2")
    assert (ic_after.ic - ic_before.ic).abs().max() > 1e-6

    # the analysis used it, and the run's other settings came from the environment / defaults
    assert set(_snapshot(home, "SELECT DISTINCT se_type FROM analysis.estimates").se_type) == {"robust"}
    terms = set(_snapshot(home, "SELECT DISTINCT term FROM analysis.estimates").term)
    assert "ic_x_p2018" in terms  # the CLI's --break-year was for its own run only
    recorded = _settings_table(home)
    assert recorded["lq_reference"] == ("all_provinces", "launchpad")
    assert recorded["se_type"] == ("robust", "launchpad")
    assert recorded["break_year"] == ("2018", "default")
    assert recorded["bootstrap_reps"] == ("99", "env")
    run_ids = set(_snapshot(home, "SELECT DISTINCT run_id FROM analysis.settings").run_id)
    assert run_ids == {result.run_id}
    first = (home / "outputs" / "table_1.md").read_text(encoding="utf-8").splitlines()[0]
    assert "lq_reference=all_provinces (launchpad)" in first and "se_type=robust (launchpad)" in first
    # the snapshot is no longer the CLI build's: its next `provpanel build` does the work again
    assert unchanged_since_last_build(get_paths(), recorded_fingerprint) is None
