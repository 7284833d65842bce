"""Where the time goes: the stack (`provpanel build`) against the plain-Python baseline.

    .venv/bin/python bench/run_bench.py [--json results.json] [--keep] [--scale LEVELS] [--only-scale]

Every measured command runs in its own subprocess (so its imports are counted), on the
bundled sample, in temporary homes that are removed at the end (unless --keep). For each:
wall time and peak memory — the sum of the RSS of the process and all its descendants,
sampled every 0.1 s with psutil (shared pages are counted once per process, so the sum
slightly overstates a tree of several processes; short peaks between samples are missed).

Then the cold build broken down: what happens before the first Dagster run (imports,
definitions, dbt parse — each measured in a fresh process), the steps of every run from the
Dagster instance's own events (STEP_START → STEP_SUCCESS), and dbt's time per model from
run_results.json.

Last, the scale section: the bundled sample (31 provinces) and the generator's prefecture
(300 units) and county (2,790 units) editions, each built cold in a fresh home: units, panel
rows, raw values, wall time and peak memory of the build, then Model 2 alone on the result,
and every build step side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil
from tabulate import tabulate

REPO_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_EDITIONS = REPO_ROOT / "data" / "editions"
PYTHON = sys.executable
PROVPANEL = str(Path(sys.executable).with_name("provpanel"))
DBT = str(Path(sys.executable).with_name("dbt"))
SAMPLE_INTERVAL_SECONDS = 0.1
COMMAND_TIMEOUT_SECONDS = 900
DBT_STEP_KEY = "provpanel_dbt_models"  # the @dbt_assets op of orchestration/defs/transform.py

# The analysis as the build runs it, on a built panel: import, read, run_all (default settings).
ANALYSIS_SNIPPET = """
import sys, time
import duckdb
from analysis import run_all
con = duckdb.connect(sys.argv[1], read_only=True)
panel = con.execute("SELECT * FROM marts.province_year_panel ORDER BY province_code, year").df()
con.close()
started = time.perf_counter()
results = run_all(panel)
print(f"run_all: {time.perf_counter() - started:.2f} s, {len(results.estimates)} estimate rows")
"""


# Model 2 alone on a built panel (the scale section): import, read, fit.
MODEL_2_SNIPPET = """
import sys, time
import duckdb
from analysis.estimate import fit_model
from analysis.specs import get_spec
con = duckdb.connect(sys.argv[1], read_only=True)
panel = con.execute("SELECT * FROM marts.province_year_panel ORDER BY province_code, year").df()
con.close()
started = time.perf_counter()
result = fit_model(panel, get_spec("2"))
print(f"model 2: {time.perf_counter() - started:.2f} s to fit, {result.nobs} rows, IC {result.params['ic']:.4f}")
"""

# The scale section: the bundled sample and the generator's larger levels
# (scripts/generate_sample.py --scale), each built cold in a fresh home.
SCALE_LEVELS = ("province", "prefecture", "county")


@dataclass
class Measurement:
    name: str
    wall_seconds: float
    peak_rss_mb: float
    returncode: int
    note: str = ""


def _tree_rss(process: psutil.Process) -> int:
    total = 0
    for member in [process, *process.children(recursive=True)]:
        try:
            total += member.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass  # a child that ended between listing and reading
    return total


def measure(name: str, command: list[str], env: dict[str, str] | None = None) -> tuple[Measurement, str]:
    """Run `command` to completion; wall time, peak RSS of its process tree, its stdout."""
    with tempfile.TemporaryFile(mode="w+", encoding="utf-8") as output:
        started = time.perf_counter()
        child = subprocess.Popen(command, env=env, cwd=REPO_ROOT, stdout=output, stderr=subprocess.STDOUT,
                                 text=True)
        watched = psutil.Process(child.pid)
        peak = 0
        while child.poll() is None:
            try:
                peak = max(peak, _tree_rss(watched))
            except psutil.NoSuchProcess:
                pass
            if time.perf_counter() - started > COMMAND_TIMEOUT_SECONDS:
                child.kill()
                break
            time.sleep(SAMPLE_INTERVAL_SECONDS)
        returncode = child.wait()
        wall = time.perf_counter() - started
        output.seek(0)
        text = output.read()
    if returncode != 0:
        print(f"  {name}: exit code {returncode}; last output:\n    "
              + "\n    ".join(text.strip().splitlines()[-15:]), file=sys.stderr)
    return Measurement(name, wall, peak / 2**20, returncode), text


def provpanel_env(home: Path, editions: Path) -> dict[str, str]:
    env = {**os.environ, "PROVPANEL_HOME": str(home), "PROVPANEL_EDITIONS": str(editions)}
    env.pop("DAGSTER_HOME", None)  # the build points Dagster at <home>/dagster itself
    return env


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- the Dagster runs of a home


def dagster_steps(home: Path) -> list[dict]:
    """Every run of the home's Dagster instance (oldest first) with its steps' durations and
    the run's start and end times (epoch seconds)."""
    from dagster import DagsterEventType, DagsterInstance

    instance = DagsterInstance.from_config(str(home / "dagster"))
    runs = []
    try:
        for run in reversed(instance.get_runs()):
            starts: dict[str, float] = {}
            steps = []
            run_start = run_end = None
            for record in instance.get_records_for_run(run.run_id, limit=100000).records:
                entry = record.event_log_entry
                event = entry.dagster_event
                if event is None:
                    continue
                kind = event.event_type
                if kind == DagsterEventType.RUN_START:
                    run_start = entry.timestamp
                elif kind in (DagsterEventType.RUN_SUCCESS, DagsterEventType.RUN_FAILURE):
                    run_end = entry.timestamp
                elif kind == DagsterEventType.STEP_START:
                    starts[event.step_key] = entry.timestamp
                elif kind in (DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE):
                    began = starts.get(event.step_key)
                    if began is not None:
                        steps.append({"step": event.step_key, "seconds": entry.timestamp - began,
                                      "start": began, "ok": kind == DagsterEventType.STEP_SUCCESS})
            runs.append({"job": run.job_name, "partition": run.tags.get("dagster/partition"),
                         "start": run_start, "end": run_end, "steps": steps})
    finally:
        instance.dispose()
    return runs


def dbt_model_timings(run_results_path: Path) -> tuple[list[dict], float]:
    """dbt's own timing per node of the last `dbt build` (models, seeds, tests), and dbt's
    elapsed time for the whole invocation (after its start-up and manifest load)."""
    results = json.loads(run_results_path.read_text(encoding="utf-8"))
    rows = []
    for result in results["results"]:
        unique_id = result["unique_id"]
        rows.append({"node": unique_id.split(".", 2)[-1], "kind": unique_id.split(".", 1)[0],
                     "seconds": float(result["execution_time"]), "status": result["status"]})
    return rows, float(results["elapsed_time"])


# ---------------------------------------------------------------- the measurements


def measure_adding_an_edition(work: Path) -> list[Measurement]:
    """A home built with only the first sample edition (set-up), then the second copied into
    its editions folder and built: the cost of adding one edition."""
    _say("adding one edition (first a home with only the first edition) ...")
    editions = work / "editions"
    editions.mkdir()
    first, second = sorted(p.name for p in SAMPLE_EDITIONS.iterdir() if (p / "manifest.yml").is_file())[:2]
    shutil.copytree(SAMPLE_EDITIONS / first, editions / first)
    add_home = work / "home-add"
    one, _ = measure(f"build with only {first} (set-up, fresh home)", [PROVPANEL, "build"],
                     provpanel_env(add_home, editions))
    one.note = "set-up for the next line"
    measured = [one]
    shutil.copytree(SAMPLE_EDITIONS / second, editions / second)
    added, _ = measure(f"add one edition ({second}) and build", [PROVPANEL, "build"],
                       provpanel_env(add_home, editions))
    measured.append(added)
    return measured


def run_main_measurements(work: Path, *, add_edition: bool = True) -> tuple[list[Measurement], dict]:
    measurements: list[Measurement] = []
    home = work / "home-cold"
    _say("cold build ...")
    started_epoch = time.time()
    cold, cold_output = measure("cold `provpanel build` (fresh home, dbt parse included)",
                                [PROVPANEL, "build"], provpanel_env(home, SAMPLE_EDITIONS))
    finished_epoch = time.time()
    measurements.append(cold)
    run_results = home / "dbt" / "target" / "run_results.json"
    dbt_rows, dbt_elapsed = dbt_model_timings(run_results) if run_results.exists() else ([], float("nan"))

    _say("re-run with nothing changed ...")
    rerun, rerun_output = measure("re-run, nothing changed", [PROVPANEL, "build"], provpanel_env(home, SAMPLE_EDITIONS))
    if "nothing changed" not in rerun_output:
        rerun.note = "did work: an input changed between the two runs (other engineers editing code?)"
    measurements.append(rerun)

    if add_edition:
        measurements.extend(measure_adding_an_edition(work))

    _say("analysis alone ...")
    analysis, analysis_output = measure(
        "analysis alone (`analysis.run_all`, default bootstrap)",
        [PYTHON, "-c", ANALYSIS_SNIPPET, str(home / "warehouse.duckdb")],
    )
    analysis.note = next((line for line in analysis_output.splitlines() if line.startswith("run_all:")), "")
    measurements.append(analysis)

    _say("baseline script ...")
    baseline, baseline_output = measure("baseline script (bench/baseline_panel.py)",
                                        [PYTHON, str(REPO_ROOT / "bench" / "baseline_panel.py")])
    measurements.append(baseline)

    context = {"home": home, "cold_started": started_epoch, "cold_finished": finished_epoch,
               "dbt_rows": dbt_rows, "dbt_elapsed": dbt_elapsed, "cold_output": cold_output,
               "baseline_output": baseline_output}
    return measurements, context


# The start-up work of a cold `provpanel build`, timed step by step in one fresh process on a
# fresh home (so the new Dagster storage is included; the dbt manifest is made once per
# content of the dbt project, so a parse shows here only after the project changed).
PRE_RUN_SNIPPET = """
import json, time
marks = [("start", time.perf_counter())]
def mark(name):
    marks.append((name, time.perf_counter()))
from provpanel.config import get_paths
from provpanel.build_state import build_fingerprint
paths = get_paths()
build_fingerprint(paths)
mark("provpanel imports + build fingerprint (checksums of editions and code)")
from provpanel.dagster_env import prepare_dagster_home
prepare_dagster_home(paths)
import dagster
mark("import dagster")
import dagster_dbt
mark("import dagster_dbt")
from orchestration.dbt_manifest import prepared_manifest
prepared_manifest()
mark("the project's manifest (dbt parse only if the dbt project changed)")
from orchestration.definitions import defs
mark("rest of orchestration.definitions (manifest now current)")
from dagster import DagsterInstance
from provpanel.editions import list_editions
instance = DagsterInstance.get()
instance.add_dynamic_partitions("editions", list_editions(paths.editions))
mark("new Dagster instance storage + partitions")
defs.resolve_job_def("ingest_edition")
mark("resolve the ingest job")
defs.resolve_job_def("build_panel")
mark("resolve the build_panel job (dbt asset graph)")
instance.dispose()
steps = [(name, end - start) for (_, start), (name, end) in zip(marks, marks[1:])]
print("PRE_RUN " + json.dumps(steps))
"""


def run_startup_probes(work: Path) -> tuple[list[Measurement], list[tuple[str, float]]]:
    """What a build pays before its first run: the build's own pre-run sequence split into
    parts (one fresh process, fresh home), then single imports and dbt parse alone."""
    env = provpanel_env(work / "home-probe", SAMPLE_EDITIONS)
    _say("probe: the build's pre-run sequence ...")
    sequence, output = measure("pre-run sequence of a cold build (fresh process, fresh home)",
                               [PYTHON, "-c", PRE_RUN_SNIPPET], env)
    line = next((text for text in output.splitlines() if text.startswith("PRE_RUN ")), None)
    pre_run = [tuple(item) for item in json.loads(line[len("PRE_RUN "):])] if line else []
    probes = [
        ("python start-up alone", [PYTHON, "-c", "pass"], env),
        ("import dagster", [PYTHON, "-c", "import dagster"], env),
        ("import dagster_dbt", [PYTHON, "-c", "import dagster_dbt"], env),
        ("import dbt.cli.main (what the dbt subprocess pays first)", [PYTHON, "-c", "import dbt.cli.main"], env),
        ("dbt parse alone (fresh target folder)",
         [DBT, "parse", "--project-dir", str(REPO_ROOT / "dbt_project"),
          "--profiles-dir", str(REPO_ROOT / "dbt_project"), "--quiet",
          "--vars", subprocess.run([PYTHON, "-m", "provpanel.config"], capture_output=True, text=True,
                                   check=True, env=env).stdout.strip()],
         {**env, "DBT_TARGET_PATH": str(work / "parse-target"), "DBT_LOG_PATH": str(work / "parse-logs"),
          "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "PROVPANEL_WAREHOUSE": str(work / "parse.duckdb")}),
        ("import great_expectations", [PYTHON, "-c", "import great_expectations"], env),
        ("import linearmodels", [PYTHON, "-c", "import linearmodels"], env),
    ]
    measured = [sequence]
    for name, command, probe_env in probes:
        _say(f"probe: {name} ...")
        measured.append(measure(name, command, probe_env)[0])
    return measured, pre_run


def run_scale(work: Path, levels: tuple[str, ...]) -> list[dict]:
    """For each level: generate its editions (not for the bundled sample), a cold build in a
    fresh home, the rows it produced, and Model 2 alone on the result."""
    out = []
    for level in levels:
        folder = work / f"scale-{level}"
        row: dict = {"level": level}
        if level == "province":
            editions, env_extra = SAMPLE_EDITIONS, {}
        else:
            _say(f"scale: generating the {level} editions ...")
            generated, _ = measure(f"generate {level}", [PYTHON, str(REPO_ROOT / "scripts" / "generate_sample.py"),
                                                          "--scale", level, "--out", str(folder)])
            row["generate_s"] = generated.wall_seconds
            editions, env_extra = folder / "editions", {"PROVPANEL_GEOGRAPHY": str(folder / "geography")}
        home = folder / "home"
        env = {**provpanel_env(home, editions), **env_extra}
        _say(f"scale: cold build at {level} level ...")
        build, _ = measure(f"cold build, {level}", [PROVPANEL, "build", "--quiet"], env)
        row.update(build_s=build.wall_seconds, build_rss_mb=build.peak_rss_mb, build_status=build.returncode,
                   input_mb=sum(p.stat().st_size for p in editions.rglob("*") if p.is_file()) / 2**20)
        warehouse = home / "warehouse.duckdb"
        if build.returncode == 0 and warehouse.exists():
            import duckdb

            with duckdb.connect(str(warehouse), read_only=True) as con:
                row["units"] = con.execute(
                    "select count(distinct province_code) from marts.province_year_panel").fetchone()[0]
                row["panel_rows"] = con.execute("select count(*) from marts.province_year_panel").fetchone()[0]
                row["raw_values"] = con.execute("select count(*) from raw.extract_values").fetchone()[0]
            row["phases"] = {step["step"] if run["job"] != "ingest_edition" else f"ingest {run['partition']}":
                             step["seconds"] for run in dagster_steps(home) for step in run["steps"]}
            _say(f"scale: Model 2 at {level} level ...")
            model, output = measure(f"Model 2, {level}", [PYTHON, "-c", MODEL_2_SNIPPET, str(warehouse)])
            row.update(model2_s=model.wall_seconds, model2_rss_mb=model.peak_rss_mb,
                       model2_note=next((line for line in output.splitlines() if line.startswith("model 2:")), ""))
        out.append(row)
        shutil.rmtree(folder, ignore_errors=True)  # a county home is ~0.5 GB
    return out


def scale_table(rows: list[dict]) -> str:
    def figure(row: dict, key: str, fmt: str = "{:.1f}") -> str:
        return fmt.format(row[key]) if key in row else "–"

    table = [[row["level"], figure(row, "units", "{:,}"), figure(row, "panel_rows", "{:,}"),
              figure(row, "raw_values", "{:,}"), figure(row, "input_mb"), figure(row, "build_s"),
              figure(row, "build_rss_mb", "{:.0f}"), figure(row, "model2_s"), figure(row, "model2_rss_mb", "{:.0f}"),
              "ok" if row["build_status"] == 0 else f"build exit {row['build_status']}"] for row in rows]
    return tabulate(table, headers=["level", "units", "panel rows", "raw values", "input MB", "cold build s",
                                    "build peak RSS MB", "Model 2 s", "Model 2 peak RSS MB", "status"],
                    tablefmt="github")


def scale_phase_table(rows: list[dict]) -> str:
    """The steps of each level's build side by side: where the growth goes."""
    steps: list[str] = []
    for row in rows:
        steps += [step for step in row.get("phases", {}) if step not in steps]
    table = [[step, *[f"{row['phases'][step]:.1f}" if step in row.get("phases", {}) else "–" for row in rows]]
             for step in steps]
    return tabulate(table, headers=["step (seconds)", *[row["level"] for row in rows]], tablefmt="github")


# ---------------------------------------------------------------- the report


def _ratio(value: float, reference: float) -> str:
    return f"{value / reference:.1f}×" if reference > 0 else "n/a"


def summary_table(measurements: list[Measurement]) -> str:
    baseline = measurements[-1]
    rows = [[m.name, f"{m.wall_seconds:.1f}", _ratio(m.wall_seconds, baseline.wall_seconds),
             f"{m.peak_rss_mb:.0f}", _ratio(m.peak_rss_mb, baseline.peak_rss_mb),
             "ok" if m.returncode == 0 else f"exit {m.returncode}", m.note] for m in measurements]
    return tabulate(rows, headers=["what", "wall s", "× baseline", "peak RSS MB", "× baseline", "status", "note"],
                    tablefmt="github")


def phase_table(runs: list[dict], cold_started: float, cold_finished: float) -> str:
    rows = []
    previous_end = cold_started
    for run in runs:
        label = run["job"] + (f"[{run['partition']}]" if run["partition"] else "")
        if run["start"] is not None:
            rows.append([f"(outside runs, before {label})", f"{run['start'] - previous_end:.1f}"])
        for step in sorted(run["steps"], key=lambda item: item["start"]):
            rows.append([f"{label} · {step['step']}" + ("" if step["ok"] else " (FAILED)"), f"{step['seconds']:.1f}"])
        if run["start"] is not None and run["end"] is not None:
            in_steps = sum(step["seconds"] for step in run["steps"])
            rows.append([f"{label} · run overhead (run time − steps)", f"{run['end'] - run['start'] - in_steps:.1f}"])
            previous_end = run["end"]
    rows.append(["(after the last run: record, report)", f"{cold_finished - previous_end:.1f}"])
    rows.append(["total wall time of the cold build", f"{cold_finished - cold_started:.1f}"])
    return tabulate(rows, headers=["phase of the cold build", "seconds"], tablefmt="github")


def pre_run_table(pre_run: list[tuple[str, float]]) -> str:
    rows = [[name, f"{seconds:.1f}"] for name, seconds in pre_run]
    rows.append(["sum", f"{sum(seconds for _, seconds in pre_run):.1f}"])
    return tabulate(rows, headers=["start-up work of a cold build (one after another)", "seconds"],
                    tablefmt="github")


def probe_table(probes: list[Measurement]) -> str:
    rows = [[p.name, f"{p.wall_seconds:.1f}", f"{p.peak_rss_mb:.0f}",
             "ok" if p.returncode == 0 else f"exit {p.returncode}"] for p in probes]
    return tabulate(rows, headers=["before the first run (fresh process each)", "wall s", "peak RSS MB", "status"],
                    tablefmt="github")


def dbt_table(dbt_rows: list[dict], dbt_elapsed: float, dbt_step_seconds: float, top: int = 12) -> str:
    models = sorted((row for row in dbt_rows if row["kind"] in ("model", "seed")),
                    key=lambda row: row["seconds"], reverse=True)
    tests = [row for row in dbt_rows if row["kind"] == "test"]
    unit_tests = [row for row in dbt_rows if row["kind"] == "unit_test"]
    rows = [[row["kind"], row["node"], f"{row['seconds']:.2f}"] for row in models[:top]]
    rest = models[top:]
    if rest:
        rows.append(["model/seed", f"({len(rest)} more)", f"{sum(r['seconds'] for r in rest):.2f}"])
    rows.append(["test", f"({len(tests)} data tests)", f"{sum(r['seconds'] for r in tests):.2f}"])
    rows.append(["unit_test", f"({len(unit_tests)} dbt unit tests)", f"{sum(r['seconds'] for r in unit_tests):.2f}"])
    rows.append(["", "sum of dbt's node timings (1 thread)", f"{sum(r['seconds'] for r in dbt_rows):.2f}"])
    rows.append(["", "dbt's elapsed_time for the invocation", f"{dbt_elapsed:.2f}"])
    rows.append(["", "the Dagster dbt step (STEP_START → STEP_SUCCESS)", f"{dbt_step_seconds:.2f}"])
    rows.append(["", "step − dbt elapsed: dbt start-up, manifest load, dagster-dbt events",
                 f"{dbt_step_seconds - dbt_elapsed:.2f}"])
    return tabulate(rows, headers=["kind", "dbt node (run_results.json)", "seconds"], tablefmt="github")


def machine_line() -> str:
    load = os.getloadavg()
    memory = psutil.virtual_memory()
    return (f"machine: {os.cpu_count()} CPUs, {memory.total / 2**30:.1f} GiB RAM "
            f"({memory.available / 2**30:.1f} GiB available), load average "
            f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    parser.add_argument("--skip-add-edition", action="store_true",
                        help="skip the two builds of the adding-an-edition case (saves about 40 %% of the time)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary homes (their path is printed)")
    parser.add_argument("--scale", default=",".join(SCALE_LEVELS),
                        help="levels of the scale section, comma-separated, from "
                        f"{', '.join(SCALE_LEVELS)} (default: all; '' to skip it)")
    parser.add_argument("--only-scale", action="store_true", help="run the scale section alone")
    args = parser.parse_args(argv)
    levels = tuple(level for level in args.scale.split(",") if level)
    unknown = [level for level in levels if level not in SCALE_LEVELS]
    if unknown:
        parser.error(f"--scale: unknown level(s) {', '.join(unknown)}; expected {', '.join(SCALE_LEVELS)}")

    work = Path(tempfile.mkdtemp(prefix="provpanel-bench-"))
    load_before = machine_line()
    try:
        if args.only_scale:
            scale_rows = run_scale(work, levels)
            print(f"\n## provpanel bench, scale section ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})\n")
            print(f"{load_before} (at the start)\n{machine_line()} (at the end)\n")
            print(scale_table(scale_rows))
            print()
            print(scale_phase_table(scale_rows))
            if args.json:
                args.json.write_text(json.dumps({"scale": scale_rows}, indent=2), encoding="utf-8")
            return 0 if all(row["build_status"] == 0 for row in scale_rows) else 1
        measurements, context = run_main_measurements(work, add_edition=not args.skip_add_edition)
        probes, pre_run = run_startup_probes(work)
        runs = dagster_steps(context["home"])
        scale_rows = run_scale(work, levels) if levels else []
        load_after = machine_line()
        print(f"\n## provpanel bench ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})\n")
        print(f"{load_before} (at the start)\n{load_after} (at the end)\n")
        print(summary_table(measurements))
        print("\n### The cold build, phase by phase (from the Dagster instance's events)\n")
        print(phase_table(runs, context["cold_started"], context["cold_finished"]))
        print("\n### Before the first run: start-up costs measured in fresh processes\n")
        print(pre_run_table(pre_run))
        print()
        print(probe_table(probes))
        print("\n### Inside the dbt step: dbt's own timing per node\n")
        dbt_step = sum(step["seconds"] for run in runs for step in run["steps"]
                       if step["step"] == DBT_STEP_KEY)
        print(dbt_table(context["dbt_rows"], context["dbt_elapsed"], dbt_step))
        if scale_rows:
            print("\n### Scale: the same pipeline on larger panels (cold builds, fresh homes)\n")
            print(scale_table(scale_rows))
            print()
            print(scale_phase_table(scale_rows))
        print("\n### Baseline output\n")
        print("```\n" + context["baseline_output"].strip() + "\n```")
        if args.json:
            args.json.write_text(json.dumps({
                "machine_before": load_before, "machine_after": load_after,
                "measurements": [asdict(m) for m in measurements],
                "startup_probes": [asdict(p) for p in probes], "pre_run": pre_run,
                "runs": runs, "cold_started": context["cold_started"], "cold_finished": context["cold_finished"],
                "dbt_nodes": context["dbt_rows"], "dbt_elapsed": context["dbt_elapsed"],
                "scale": scale_rows,
            }, indent=2), encoding="utf-8")
        failed = [m.name for m in [*measurements, *probes] if m.returncode != 0]
        failed += [f"scale build {row['level']}" for row in scale_rows if row["build_status"] != 0]
        if failed:
            print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
            return 1
        return 0
    finally:
        if args.keep:
            print(f"\ntemporary homes kept in {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
