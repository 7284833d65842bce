"""The Dagster UI for real: `provpanel ui` on a built home, driven by a headless Chromium.

One server and one browser serve the module. The pages are checked in the browser; GraphQL
only confirms what a run did. Screenshots land in test-output/ui/ at the repository root.
"""

from __future__ import annotations

import re
import time

import pytest
from cli_helpers import copy_home
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait
from ui_helpers import (
    LOOPBACK_ADDRESSES,
    UI_OUTPUT_DIR,
    get_run,
    graphql,
    list_runs,
    listening_sockets,
    make_headless_chromium,
    png_size,
    run_error_summary,
    save_screenshot,
    start_ui_server,
    stop_ui_server,
    wait_until_serving,
)

from expectations.thresholds import load_thresholds
from provpanel.config import SAMPLE_EDITIONS_DIR

pytestmark = pytest.mark.browser

LOCATION = "orchestration.definitions"
PAGE_TIMEOUT = 60  # seconds for a page's data to appear
RUN_TIMEOUT = 300  # seconds for the UI-launched run to finish


@pytest.fixture(scope="module")
def ui_server(sample_build, tmp_path_factory):
    """`provpanel ui` on a home of its own: a copy of the shared sample build (never rebuilt or
    killed by other tests, so no run of it is left "started" to hold the UI's run in the queue,
    max_concurrent_runs: 1), since the UI's run writes to it."""
    for stale in UI_OUTPUT_DIR.glob("failed_*.png"):  # pictures of an earlier failure would mislead
        stale.unlink()
    home = copy_home(sample_build[0], tmp_path_factory.mktemp("ui-home") / "home")
    server = start_ui_server(home, SAMPLE_EDITIONS_DIR, home.parent / "provpanel-ui.log")
    try:
        wait_until_serving(server, timeout=120)
        yield server
    finally:
        stop_ui_server(server)


@pytest.fixture(scope="module")
def browser(ui_server, tmp_path_factory):
    # the network off: only 127.0.0.1 answers (the UI and the Data Docs must need nothing else)
    driver = make_headless_chromium(tmp_path_factory.mktemp("chromium-profile"), offline=True)
    try:
        yield driver
    finally:
        driver.quit()


def _xpath_text(text: str) -> str:
    return f"//*[normalize-space(text())='{text}']"


def wait_for_texts(driver, server, texts: list[str], what: str, timeout: float = PAGE_TIMEOUT) -> None:
    """Wait until an element whose own text is exactly each of `texts` is on the page."""
    try:
        WebDriverWait(driver, timeout, poll_frequency=0.5).until(
            lambda d: all(d.find_elements(By.XPATH, _xpath_text(t)) for t in texts))
    except TimeoutException:
        missing = [t for t in texts if not driver.find_elements(By.XPATH, _xpath_text(t))]
        shot = save_screenshot(driver, f"failed_{re.sub(r'[^a-z0-9]+', '_', what.lower())}.png")
        raise AssertionError(f"{what} ({driver.current_url}): not shown after {timeout} s: {missing}. "
                             f"Screenshot {shot}\n{server.log_tail(2000)}") from None


# The texts of `arguments[0]` that no element drawn inside the window shows: a screenshot is
# the window, so what it is checked for must be there, not only somewhere in the DOM.
NOT_IN_WINDOW = """
const wanted = arguments[0], seen = new Set();
const drawnInWindow = (element) => {
  const r = element.getBoundingClientRect(), style = getComputedStyle(element);
  return r.width > 0 && r.height > 0 && r.bottom > 0 && r.right > 0 && r.top < innerHeight
         && r.left < innerWidth && style.visibility !== 'hidden' && style.opacity !== '0';
};
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
for (let node = walker.nextNode(); node; node = walker.nextNode()) {
  const text = node.textContent.replace(/\\s+/g, ' ').trim();
  for (const t of wanted) {
    if (!seen.has(t) && text.includes(t) && node.parentElement && drawnInWindow(node.parentElement)) seen.add(t);
  }
}
return wanted.filter((t) => !seen.has(t));
"""


def screenshot_showing(driver, name: str, texts: list[str]):
    """A screenshot of the window that shows each of `texts`: each in an element drawn inside
    the window just before and just after the picture is taken (not a blank page, a spinner or
    another page of the same size in bytes)."""
    before = driver.execute_script(NOT_IN_WINDOW, texts)
    png = save_screenshot(driver, name)
    after = driver.execute_script(NOT_IN_WINDOW, texts)
    assert not before and not after, f"{png} ({driver.current_url}): not shown in the window: {before or after}"
    assert png_size(png)[0] >= 1200, f"{png}: {png_size(png)}"
    return png


def open_group(driver, server, group: str) -> None:
    driver.get(f"{server.base_url}/locations/{LOCATION}/asset-groups/{group}")


def open_panel_suite_check(driver, server) -> None:
    """The panel asset's Checks tab, filtered to the blocking GX check, its detail opened."""
    driver.get(f"{server.base_url}/assets/marts/province_panel?view=checks")
    check_filter = WebDriverWait(driver, PAGE_TIMEOUT).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "input[placeholder='Filter checks']"))[0]
    check_filter.send_keys("panel_suite")
    wait_for_texts(driver, server, ["panel_suite"], "checks of province_year_panel")
    driver.find_elements(By.XPATH, _xpath_text("panel_suite"))[0].click()


def test_ui_listens_on_loopback_only(ui_server):
    sockets = listening_sockets(ui_server)
    on_port = [s for s in sockets if s[2] == ui_server.port]
    assert on_port, f"nothing of the server's process tree listens on port {ui_server.port}: {sockets}"
    assert {address for _, address, _ in on_port} <= LOOPBACK_ADDRESSES, on_port
    # No other TCP listener of dagster dev (code server, daemon) is reachable from outside either.
    exposed = [s for s in sockets if s[1] not in LOOPBACK_ADDRESSES]
    assert not exposed, f"listening on non-loopback addresses: {exposed}"


def test_asset_graph_shows_every_stage(ui_server, browser):
    # Global lineage, every group expanded the way a user does it: the graph's settings menu.
    browser.get(f"{ui_server.base_url}/asset-groups")
    groups = ["ingest", "staging", "intermediate", "panel", "analysis", "publish"]
    wait_for_texts(browser, ui_server, groups, "global lineage (collapsed groups)")
    settings = WebDriverWait(browser, PAGE_TIMEOUT).until(
        lambda d: d.find_elements(By.XPATH, "//button[not(normalize-space())][.//*[@aria-label='settings']]"))
    settings[-1].click()
    WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.XPATH, _xpath_text("Expand all groups")))[0].click()
    # Expanded, the graph is fitted to the window and its nodes are drawn small, their names cut
    # by Dagster to 18 characters: every asset's name must still be shown whole.
    WebDriverWait(browser, PAGE_TIMEOUT).until(
        lambda d: "expanded=" in d.current_url and "intermediate" in d.current_url,
        "the groups did not expand")
    ActionChains(browser).send_keys(Keys.ESCAPE).perform()  # close the menu before the picture
    WebDriverWait(browser, 10).until_not(lambda d: d.find_elements(By.XPATH, _xpath_text("Collapse all groups")),
                                         "the graph's settings menu did not close")
    # Fitted to the window, a materialized node is drawn green: wait for the statuses.
    try:
        WebDriverWait(browser, PAGE_TIMEOUT).until(
            lambda d: len(d.find_elements(By.CSS_SELECTOR, "[style*='green']")) >= 10)
    except TimeoutException:
        shot = save_screenshot(browser, "failed_expanded_graph.png")
        raise AssertionError(f"the expanded graph does not show materialized (green) assets: {shot}") from None
    time.sleep(1)  # let the zoom animation end before the picture
    names = sorted({node["assetKey"]["path"][-1]
                    for node in graphql(ui_server, "{ assetNodes { assetKey { path } } }")["assetNodes"]})
    assert len(names) >= 35, names  # every stage: ingest, lookups, dbt layers, analysis, reports
    # Dagster draws only the nodes in view (the fitted graph is wider than the window): those
    # drawn show their names whole (every name fits, tests/test_definitions.py), none cut.
    def drawn_whole(driver) -> list[str]:
        return [name for name in names if driver.find_elements(By.XPATH, _xpath_text(name))]

    try:
        WebDriverWait(browser, PAGE_TIMEOUT).until(lambda d: len(drawn_whole(d)) >= 20)
    except TimeoutException:
        shot = save_screenshot(browser, "failed_expanded_graph.png")
        raise AssertionError(f"the expanded graph shows only {drawn_whole(browser)} whole ({shot})") from None
    graph_png = screenshot_showing(browser, "asset_graph.png", drawn_whole(browser))
    # Dagster cuts a name in its middle: "int_fore…_computed"
    cut = [e.text for e in browser.find_elements(By.XPATH, "//*[contains(text(), '…')]")
           if re.fullmatch(r"[a-z0-9_]+…[a-z0-9_]+", e.text.strip())]
    assert not cut, f"names cut in the expanded graph: {cut} ({graph_png})"

    # Each group's own graph names its assets in full.
    open_group(browser, ui_server, "ingest")
    wait_for_texts(browser, ui_server, ["extract_values", "editions"], "ingest group")
    open_group(browser, ui_server, "staging")
    wait_for_texts(browser, ui_server, ["staged_values", "staged_editions", "panel_units"], "staging group")
    open_group(browser, ui_server, "intermediate")
    wait_for_texts(browser, ui_server, ["vintage_resolved", "location_quotients", "market_access"],
                   "intermediate group")
    screenshot_showing(browser, "intermediate_group.png", ["vintage_resolved", "location_quotients", "market_access"])
    open_group(browser, ui_server, "panel")
    wait_for_texts(browser, ui_server, ["province_panel"], "panel group")
    open_group(browser, ui_server, "analysis")
    wait_for_texts(browser, ui_server, ["estimates", "fit", "mediation", "comparison"], "analysis group")
    # The sample build materialized everything: each analysis node says so.
    WebDriverWait(browser, PAGE_TIMEOUT).until(
        lambda d: len(d.find_elements(By.XPATH, _xpath_text("Materialized"))) >= 4,
        "the analysis assets are not shown as materialized")
    screenshot_showing(browser, "analysis_group.png", ["estimates", "fit", "mediation", "comparison", "Materialized"])

    # The blocking Great Expectations check, on the panel asset's Checks tab.
    open_panel_suite_check(browser, ui_server)
    WebDriverWait(browser, PAGE_TIMEOUT).until(
        lambda d: "checkDetail=panel_suite" in d.current_url
        and "blocking" in d.find_element(By.TAG_NAME, "body").text
        and d.find_elements(By.XPATH, _xpath_text("Passed")),
        "panel_suite's detail does not show a blocking check that passed")
    screenshot_showing(browser, "panel_suite_check.png", ["panel_suite", "Passed"])


def _run_row_status(driver, run_id: str) -> str | None:
    """The status shown in the Runs page's row of run_id, or None if the row is not there."""
    rows = driver.find_elements(
        By.XPATH, f"//a[@href='/runs/{run_id}']/ancestor::div[contains(@class,'cellBox')]/parent::div")
    try:
        lines = rows[0].text.splitlines() if rows else []
    except StaleElementReferenceException:
        return None
    statuses = {"Queued", "Starting", "Started", "Success", "Failure", "Canceled", "Canceling"}
    return next((line for line in lines if line in statuses), None)


LAUNCH_DIALOG_BUTTON = ("//div[contains(@class,'dialog')]//button[normalize-space()='Materialize' "
                        "or normalize-space()='Launch run' or normalize-space()='Confirm']")


def launched_toast(driver):
    """The "Launched run ..." toast; confirms a launch dialog first if Dagster shows one."""
    toasts = driver.find_elements(By.XPATH, "//*[starts-with(normalize-space(.), 'Launched run ')]")
    if toasts:
        return toasts
    for button in driver.find_elements(By.XPATH, LAUNCH_DIALOG_BUTTON):
        button.click()
    return None


def test_materialize_analysis_from_ui(ui_server, browser):
    runs = list_runs(ui_server)
    runs_before = {run["runId"] for run in runs}
    assert runs_before, "the build's runs should be listed"
    # A run left "started" would hold the UI's run in the queue (max_concurrent_runs: 1).
    assert all(run["status"] == "SUCCESS" for run in runs), [(r["runId"][:8], r["status"]) for r in runs]

    open_group(browser, ui_server, "analysis")
    wait_for_texts(browser, ui_server, ["estimates", "Materialize all"], "analysis group")
    WebDriverWait(browser, PAGE_TIMEOUT).until(
        lambda d: len(d.find_elements(By.XPATH, _xpath_text("Materialized"))) >= 4)
    browser.find_element(By.XPATH, "//button[normalize-space()='Materialize all']").click()
    # The multi-asset needs no config, so Dagster launches straight away and says so in a toast;
    # should a launch dialog appear instead, confirm it.
    toast = WebDriverWait(browser, PAGE_TIMEOUT).until(launched_toast)
    toast_text = toast[-1].text
    match = re.search(r"Launched run ([0-9a-f]{8})", toast_text)
    assert match, f"unexpected launch message: {toast_text!r}"

    new_runs = [run for run in list_runs(ui_server) if run["runId"] not in runs_before]
    assert len(new_runs) == 1, f"expected one new run, got {new_runs}"
    run_id = new_runs[0]["runId"]
    assert run_id.startswith(match.group(1)), (run_id, toast_text)

    # The Runs page, reloaded now and then, shows the run until it is finished.
    browser.get(f"{ui_server.base_url}/runs")
    last_load = [time.monotonic()]

    def finished_status(driver):
        status = _run_row_status(driver, run_id)
        if status in {"Success", "Failure", "Canceled"}:
            return status
        if time.monotonic() - last_load[0] > 10:
            driver.refresh()
            last_load[0] = time.monotonic()
        return None

    try:
        status = WebDriverWait(browser, RUN_TIMEOUT, poll_frequency=1).until(finished_status)
    except TimeoutException:
        save_screenshot(browser, "failed_runs_page.png")
        unfinished = [(r["runId"][:8], r["jobName"], r["status"]) for r in list_runs(ui_server)
                      if r["status"] in ("QUEUED", "NOT_STARTED", "STARTING", "STARTED", "CANCELING")]
        raise AssertionError(f"run {run_id} not finished on the Runs page after {RUN_TIMEOUT} s "
                             f"(GraphQL: {get_run(ui_server, run_id)['status']}; unfinished runs in this "
                             f"home: {unfinished})\n{ui_server.log_tail()}") from None
    screenshot_showing(browser, "runs_page.png", [run_id[:8], "Success"])
    run = get_run(ui_server, run_id)
    assert status == "Success", (f"run {run_id} shows {status} in the UI, {run['status']} in GraphQL:\n"
                                 f"{run_error_summary(run)}\n{ui_server.log_tail()}")

    # The run's own page, as a user would open it from the list.
    browser.get(f"{ui_server.base_url}/runs/{run_id}")
    WebDriverWait(browser, PAGE_TIMEOUT).until(
        lambda d: d.find_elements(By.XPATH, _xpath_text("Success"))
        and "Succeeded (1)" in d.find_element(By.TAG_NAME, "body").text,
        f"the page of run {run_id} does not show its success")
    screenshot_showing(browser, "run_succeeded.png", [run_id[:8], "Success"])

    # GraphQL confirms: launched from the UI (not by `provpanel build`), succeeded, and
    # materialized the analysis tables.
    tags = {tag["key"]: tag["value"] for tag in run["tags"]}
    assert run["status"] == "SUCCESS", run_error_summary(run)
    assert tags.get("dagster/from_ui") == "true", tags
    materialized = {"/".join(m["assetKey"]["path"]) for m in run["assetMaterializations"]}
    assert {"analysis/estimates", "analysis/fit", "analysis/mediation", "analysis/comparison"} <= materialized, \
        materialized


def _body_text(driver) -> str:
    try:
        return driver.find_element(By.TAG_NAME, "body").text
    except StaleElementReferenceException:
        return ""


def wait_for_body(driver, server, texts: list[str], what: str, png: str, timeout: float = PAGE_TIMEOUT) -> None:
    """Wait until the page's text contains each of `texts` (anywhere, e.g. in a table cell)."""
    try:
        WebDriverWait(driver, timeout, poll_frequency=0.5).until(
            lambda d: all(t in _body_text(d) for t in texts))
    except TimeoutException:
        missing = [t for t in texts if t not in _body_text(driver)]
        shot = save_screenshot(driver, f"failed_{png}")
        raise AssertionError(f"{what} ({driver.current_url}): not shown after {timeout} s: {missing}. "
                             f"Screenshot {shot}\n{server.log_tail(2000)}") from None


def _warehouse_rows(server, sql: str) -> list[tuple]:
    import duckdb

    with duckdb.connect(str(server.home / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_analysis_headline_shows_without_a_click(ui_server, browser):
    # IC in Models 1 and 2 as the warehouse has them: coefficient, SE, N
    rows = _warehouse_rows(ui_server, """
        SELECT e.model_id, e.estimate, e.std_error, coalesce(e.stars, ''), f.nobs
        FROM analysis.estimates e JOIN analysis.fit f USING (model_id)
        WHERE e.term = 'ic' AND e.model_id IN ('1', '2') ORDER BY e.model_id""")
    assert [r[0] for r in rows] == ["1", "2"], rows
    expected = [text for _, estimate, se, stars, _ in rows for text in (f"{estimate:.3f}{stars}", f"{se:.3f}")]
    browser.get(f"{ui_server.base_url}/assets/analysis/estimates")
    wait_for_body(browser, ui_server, ["headline", "R² within", *expected, str(rows[0][4])],
                  "the analysis headline on the estimates asset", "analysis_metadata.png")
    # the tables are Dagster tables with named columns, not a Markdown dump
    assert "key_terms" in _body_text(browser)
    assert "[Show Markdown]" not in _body_text(browser).split("key_terms")[0], \
        "the headline sits behind a click"
    screenshot_showing(browser, "analysis_metadata.png", ["headline", *expected])


# what every plot must do on the page: be loaded, drawn at its own size, nowhere in a dialog,
# and fit its column whole (no scrolling sideways) once scrolled to
PLOT_PLACEMENT = """
const img = arguments[0];
img.scrollIntoView({block: 'start', inline: 'nearest'});
const cut = [];
for (let box = img.parentElement; box; box = box.parentElement) {
  box.scrollLeft = 0;  // as the page opens: a plot reached only by scrolling sideways is cut off
  const style = getComputedStyle(box);
  if (box.getAttribute('role') === 'dialog') { cut.push('inside a dialog'); }
  if (/auto|scroll|hidden/.test(style.overflowX)) {
    const frame = box.getBoundingClientRect(), r = img.getBoundingClientRect();
    if (r.left < frame.left - 1 || r.right > frame.left + box.clientWidth + 1) {
      cut.push(`cut by ${box.tagName}.${box.className}: ${r.left}-${r.right} in ${frame.left}-${frame.left + box.clientWidth}`);
    }
  }
}
const r = img.getBoundingClientRect();
return {alt: img.alt, natural: [img.naturalWidth, img.naturalHeight], shown: [r.width, r.height],
        top: r.top, left: r.left, right: r.right, viewport: [innerWidth, innerHeight], cut: cut};
"""


def _plots_shown_in_place(ui_server, browser, asset: str, expected: set[str], screenshot: set[str]) -> None:
    """Every image in `expected` (by its alt text) is loaded on the asset's page without a click,
    drawn at its own size, not in a dialog, inside the viewport once scrolled to, not cut."""
    browser.get(f"{ui_server.base_url}/assets/{asset}")

    def loaded_plots(driver):
        images = driver.find_elements(By.CSS_SELECTOR, "img[src^='/logs/provpanel_images/']")
        loaded = [i for i in images if driver.execute_script("return arguments[0].complete", i)]
        return loaded if {i.get_attribute("alt") for i in loaded} >= expected else None

    try:
        images = WebDriverWait(browser, PAGE_TIMEOUT, poll_frequency=0.5).until(loaded_plots)
    except TimeoutException:
        shot = save_screenshot(browser, f"failed_plots_{asset.replace('/', '_')}.png")
        raise AssertionError(f"the page of {asset} shows no plot of {sorted(expected)} ({shot})\n"
                             f"{ui_server.log_tail(2000)}") from None
    assert not browser.find_elements(By.CSS_SELECTOR, "[role='dialog']"), "a dialog is open"
    for image in images:
        placed = browser.execute_script(PLOT_PLACEMENT, image)
        assert placed["natural"][0] > 0 and placed["shown"] == placed["natural"], placed  # drawn, at its size
        assert 0 <= placed["left"] < placed["right"] <= placed["viewport"][0], placed
        assert 0 <= placed["top"] < placed["viewport"][1], placed  # in the viewport once scrolled to
        assert not placed["cut"], placed
        if placed["alt"] in screenshot:  # the picture of the plot in place, checked above
            save_screenshot(browser, f"{asset.split('/')[0]}_plot_{placed['alt'].replace(' ', '_')}.png")


def test_plots_show_on_the_analysis_page_without_a_click(ui_server, browser):
    outputs = ui_server.home / "outputs"
    expected = {p.stem for p in outputs.glob("*.png")
                if not p.name.endswith(".narrow.png") and p.stem != "coverage_heatmap"}
    assert {"key_terms_vs_published", "coefficients_vs_published", "mediation_paths", "ic_tu_by_region"} <= expected
    _plots_shown_in_place(ui_server, browser, "analysis/estimates", expected,
                          {"key_terms_vs_published", "ic_tu_by_region"})


def test_the_coverage_heat_map_shows_on_its_page_without_a_click(ui_server, browser):
    _plots_shown_in_place(ui_server, browser, "reports/coverage", {"coverage heat map"}, {"coverage heat map"})


LAUNCH_CHECK = """mutation Launch($params: ExecutionParams!) { launchPipelineExecution(executionParams: $params) {
  __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message }
  ... on InvalidSubsetError { message } ... on PipelineNotFoundError { message } } }"""


def _run_check(server, asset_path: list[str], check: str) -> dict:
    """Launch one asset check (what the check's Execute button does) and wait for its run."""
    params = {"selector": {"repositoryLocationName": LOCATION, "repositoryName": "__repository__",
                           "pipelineName": "__ASSET_JOB", "assetSelection": [],
                           "assetCheckSelection": [{"assetKey": {"path": asset_path}, "name": check}]},
              "mode": "default", "executionMetadata": {"tags": []}}
    launched = graphql(server, LAUNCH_CHECK, {"params": params})["launchPipelineExecution"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]
    deadline = time.monotonic() + RUN_TIMEOUT
    while time.monotonic() < deadline:
        run = get_run(server, run_id)
        if run["status"] in ("SUCCESS", "FAILURE", "CANCELED"):
            return run
        time.sleep(2)
    raise AssertionError(f"check run {run_id} not finished after {RUN_TIMEOUT} s\n{server.log_tail()}")


def test_check_descriptions_failed_check_and_offline_data_docs(ui_server, browser):
    """Last in the module: it corrupts one panel value so that the panel suite fails."""
    # a dbt test's check says what it guards
    browser.get(f"{ui_server.base_url}/assets/marts/availability?view=checks")
    # (the first check is selected: its description under "About")
    wait_for_body(browser, ui_server, ["of variable_availability; a failing row names its column"],
                  "the description of a dbt test's check", "dbt_check_descriptions.png")
    save_screenshot(browser, "dbt_check_descriptions.png")

    # TU beyond its bound for Guangdong 2010; the panel suite, run as in the UI, fails
    tu_max = load_thresholds()["panel"]["tu_max"]
    import duckdb

    with duckdb.connect(str(ui_server.home / "warehouse.duckdb")) as con:
        con.execute("UPDATE marts.province_year_panel SET tu = ? WHERE province_code = '44' AND year = 2010",
                    [tu_max * 10])
    run = _run_check(ui_server, ["marts", "province_panel"], "panel_suite")
    # a blocking check that fails fails its run, and says which check it was
    assert run["status"] == "FAILURE", run_error_summary(run)
    assert "blocking asset check failed" in run_error_summary(run) and "panel_suite" in run_error_summary(run)

    open_panel_suite_check(browser, ui_server)
    bound = f"0 <= value <= {tu_max:g}"
    wait_for_body(browser, ui_server, ["Great Expectations suite on the panel", "Failed",
                                       "expect_column_values_to_be_between", bound,
                                       f"tu={tu_max * 10:g}, province_code=44, year=2010", "data_docs_page"],
                  "the failed panel suite with its failing row and bound", "failed_check.png")
    screenshot_showing(browser, "failed_check.png", ["panel_suite", "Failed"])

    # the check's Data Docs page, with the network off: styled tables, the failing expectation
    docs = ui_server.home / "outputs" / "data_docs"
    pages = sorted((docs / "validations" / "province_year_panel").rglob("*.html"), key=lambda p: p.stat().st_mtime)
    assert pages, f"no Data Docs page under {docs}"
    browser.get(pages[-1].as_uri())
    WebDriverWait(browser, PAGE_TIMEOUT).until(lambda d: d.find_elements(By.CSS_SELECTOR, "table td"))
    text = _body_text(browser)
    assert "province_year_panel" in text and "tu" in text and "Failed" in text, text[:2000]
    cell = browser.find_elements(By.CSS_SELECTOR, "table td")[0]
    assert cell.is_displayed()
    # our stylesheet applied (no CDN reached): bordered cells in a collapsed table
    assert cell.value_of_css_property("border-top-style") == "solid"
    assert browser.find_elements(By.CSS_SELECTOR, "table")[0].value_of_css_property("border-collapse") == "collapse"
    screenshot_showing(browser, "data_docs_validation.png", ["province_year_panel", "Failed"])
    browser.get((docs / "index.html").as_uri())
    WebDriverWait(browser, PAGE_TIMEOUT).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#provpanel-validation-pages a"))
    links = browser.find_elements(By.CSS_SELECTOR, "#provpanel-validation-pages a")
    assert "province_year_panel" in {link.text for link in links}, [link.text for link in links]
    assert all(link.is_displayed() for link in links)
    assert "FAILED" in _body_text(browser)
    screenshot_showing(browser, "data_docs_index.png", ["province_year_panel", "FAILED"])
