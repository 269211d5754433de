"""The operator's path (scripts/cdk.py behind `make synth|diff|deploy|destroy`): the docs' commands run as written,
offline and without credentials; mistakes stop with one line; each environment is reached by its own selector.

The make runs are full CDK CLI synths: they run as background jobs (tests/conftest.py) while other tests run."""

import json
import os
import re
import shlex
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import ROOT, BackgroundJob, background_job, scratch
from test_setup import blocking_test_tools

sys.path.insert(0, str(ROOT / "scripts"))
import cdk as make_cdk  # noqa: E402  scripts/cdk.py
import doc_pages  # noqa: E402  scripts/doc_pages.py
from own_config import offline_environment, own_copy  # noqa: E402  scripts/own_config.py

from private_eks_fargate import ConfigError  # noqa: E402

BIN = Path(sys.executable).parent
CLI = [str(BIN / "node"), str(ROOT / "node_modules" / "aws-cdk" / "bin" / "cdk")]
CREDENTIALS_ERROR = "Unable to resolve AWS account to use. It must be either configured when you define your CDK Stack, or through the environment"
NOISE = ("feature flags are not configured", "NOTICES", "Subprocess exited with error", "end-of-life", "Traceback",
         "ModuleNotFoundError", "npm warn", "npm notice")

#: one environment with account, region and zones (no lookup), one environment-agnostic; both cheap to synthesize
TWO_ENVIRONMENTS = {
    "Test": {"workloads.sample_app": False, "operations.bastion": False},
    "Prod": {"app.account": "123456789012", "app.region": "eu-west-1", "network.availability_zones": "eu-west-1a,eu-west-1b",
             "workloads.sample_app": False, "operations.bastion": False, "compliance.production": True},
}
#: the docs' command lines this module runs, as written (tests/test_docs.py: every one a test runs or a mark)
SYNTH = doc_pages.command("make synth")
DEPLOY = doc_pages.command("make deploy")
DIFF = doc_pages.command("make diff")
BOOTSTRAP = doc_pages.command("make bootstrap")
DESTROY = doc_pages.command("make destroy")
TYPO = doc_pages.command("make synth ARGS='-c netwrok.az_count=3'")
STRAY = doc_pages.command("make synth ARGS='-c cluster.name=my cluster'")
WRONG_ZONE = doc_pages.command("make synth ARGS='-c network.availability_zones=use1-az1,use1-az3'")
ONE_ENVIRONMENT = doc_pages.command("make synth ENV=prod")
SETUP_TEST = doc_pages.command("make setup-test")
CHANGE_DIFF = doc_pages.command(".venv/bin/npx cdk diff -e 'Dev/Cluster' --template deployed.json -c network.az_count=3")
CHANGE_PLAN = doc_pages.command(next(c.command for c in doc_pages.command_lines(doc_pages.ROOT / "docs" / "day-2.md")
                                     if c.command.startswith(".venv/bin/python -m private_eks_fargate.review.changeplan")))


def outside_make(environ) -> dict[str, str]:
    """`environ` without what an outer make (`make test`) passes down: a nested make would print "Entering
    directory" lines as if a user had typed the command inside a make."""
    return {k: v for k, v in environ.items() if k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS", "MAKEOVERRIDES")}


def offline_env(home: Path, output_in_home: bool = True) -> dict[str, str]:
    """A user's shell without AWS (scripts/own_config.py), with no test tool importable and a ~/.cdk.json that sends
    the CLI's output into HOME (the command line stays as the docs write it; `output_in_home=False` for a run in a
    copy of the project, whose cdk.out/ the docs name)."""
    env = offline_environment(home)
    if output_in_home:
        (home / ".cdk.json").write_text(json.dumps({"output": str(home / "cdk.out")}))
    return env | {"PYTHONPATH": blocking_test_tools(home / "block")}


@dataclass
class MakeRun:
    home: Path
    args: list[str]
    result: subprocess.CompletedProcess | None
    #: what make would run before the target (a venv older than its requirements): then nothing was run
    setup_pending: list[str]
    #: the project's cdk.context.json before the run (None: there was none)
    context_before: str | None = None


def documented_output(run: MakeRun, command: str) -> list[str]:
    """What the run printed that the docs show after `command`: stderr without make's own last line."""
    lines = run.result.stderr.splitlines()
    assert lines[-1].startswith("make: *** [Makefile:"), run.result.stderr
    assert lines[:-1] == doc_pages.output_after(command).splitlines()
    return lines[:-1]


def make_run(name: str, command: list[str] | str) -> MakeRun:
    """`command` as make's argv, or as a line a user types into a shell (then bash runs it, quotes and all)."""
    home = scratch(f"make-{name}-")
    argv = shlex.split(command) if isinstance(command, str) else command
    dry = subprocess.run(["make", "-n", *argv[1:]], cwd=ROOT, env=outside_make(os.environ), capture_output=True,
                         text=True, timeout=60)
    pending = [line for line in dry.stdout.splitlines() if "scripts/cdk.py" not in line]
    if pending or not command:
        return MakeRun(home, argv, None, pending)  # make would set the venv up first: the test says so instead
    context_file = ROOT / "cdk.context.json"
    before = context_file.read_text() if context_file.exists() else None
    result = subprocess.run(["bash", "-c", command] if isinstance(command, str) else command, cwd=ROOT,
                            env=offline_env(home), stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=900)
    return MakeRun(home, argv, result, pending, before)


@background_job
def make_deploy() -> MakeRun:
    return make_run("deploy", DEPLOY)


@background_job
def make_synth_one_environment() -> tuple[Path, subprocess.CompletedProcess]:
    """docs/configuration.md's environments example in cdk.json, then its `make synth ENV=prod`."""
    project = own_copy(ROOT, scratch("copy-environments-"), doc_pages.configuration_example())
    result = subprocess.run(["bash", "-c", ONE_ENVIRONMENT], cwd=project, env=offline_env(scratch("home-environments-")),
                            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=900)
    return project, result


@background_job
def make_synth_environments() -> MakeRun:
    return make_run("environments", ["make", "synth", f"ARGS=-c 'app.environments={json.dumps(TWO_ENVIRONMENTS)}'"])


def finished(job: BackgroundJob) -> MakeRun:
    run = job.result()
    assert not run.setup_pending, f"the venv is older than its requirements; run `make setup` first ({run.setup_pending[0]})"
    assert run.result is not None, f"no command for {job.work.__name__}"
    return run


def listed(assembly: Path, selector: str) -> list[str]:
    """`cdk ls SELECTOR` on an assembly that is already synthesized (no second synth)."""
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}", CDK_DISABLE_CLI_TELEMETRY="true")
    result = subprocess.run([*CLI, "ls", selector, "--app", str(assembly)], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


@pytest.mark.background
def test_the_readme_deploy_command_synthesizes_and_then_needs_aws_credentials():
    run = finished(make_deploy)
    assert run.args == ["make", "deploy"]
    result = run.result
    assert result.returncode != 0
    lines = result.stderr.splitlines()
    # the app ran (the venv's Python and Node, with the machine's PATH only) and wrote templates and the report ...
    assert f"review report: {run.home / 'cdk.out' / 'review' / 'REVIEW.md'}" in lines
    assert sorted(p.name for p in (run.home / "cdk.out" / "assembly-Dev").glob("*.template.json")) == [
        "DevClusterB99C09D9.template.json", "DevEndpoints777981B5.template.json", "DevNetwork50E7350E.template.json"]
    # ... and then the CLI needed an AWS account, which only credentials give; nothing else (no warning of the synth)
    assert [line for line in lines[1:-1] if line and not re.fullmatch(r"✨  Synthesis time: \d+\.\d+s", line)] == [CREDENTIALS_ERROR]
    assert lines[-1].startswith("make: *** [Makefile:")
    assert not [line for line in lines if any(noise in line for noise in NOISE)]


@pytest.mark.background
def test_the_stage_stacks_are_reached_by_the_documented_selector_and_not_by_all():
    assembly = finished(make_deploy).home / "cdk.out"
    # the synth behind every CLI command writes the review report and diagram
    assert (assembly / "review" / "REVIEW.md").is_file() and (assembly / "review" / "architecture.svg").is_file()
    assert listed(assembly, "Dev/*") == ["Dev/Network (Dev-Network)", "Dev/Endpoints (Dev-Endpoints)", "Dev/Cluster (Dev-Cluster)"]
    # `--all` selects no stack inside a stage (DESIGN-NOTES §1): it fails while selecting, before any AWS call
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}", CDK_DISABLE_CLI_TELEMETRY="true")
    everything = subprocess.run([*CLI, "deploy", "--all", "--app", str(assembly)], env=env, capture_output=True,
                                text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert everything.returncode != 0
    assert "No stack found in the main cloud assembly" in everything.stderr


@pytest.mark.background
def test_the_environments_example_without_credentials_stops_at_the_ami_lookup_with_the_documented_line():
    project, result = make_synth_one_environment.result()
    assert result.returncode != 0
    run = MakeRun(project, shlex.split(ONE_ENVIRONMENT), result, [])
    (line,) = documented_output(run, ONE_ENVIRONMENT)
    key = re.fullmatch(r"error: (ssm:account=222222222222:parameterName=\S+:region=eu-west-1): .*", line).group(1)
    assert line == (
        f"error: {key}: lookup failed (Need to perform AWS calls for account 222222222222, but no credentials have "
        "been configured); give AWS credentials for that account, set operations.bastion_ami, or commit a "
        "cdk.context.json that holds this key (written by a synth with credentials)"
    )
    assert not (project / "cdk.out" / "review").exists()  # no report of placeholder zones
    # the CLI writes cdk.context.json after a lookup, even a failed one ({}); make leaves the project as it was
    assert not (project / "cdk.context.json").exists()


@pytest.mark.background
def test_two_environments_synthesize_two_stages_each_reached_by_its_own_selector():
    run = finished(make_synth_environments)
    result = run.result
    assert result.returncode == 0, result.stderr
    assembly = run.home / "cdk.out"
    assert listed(assembly, "Test/*") == ["Test/Network (Test-Network)", "Test/Endpoints (Test-Endpoints)", "Test/Cluster (Test-Cluster)"]
    assert listed(assembly, "Prod/*") == ["Prod/Network (Prod-Network)", "Prod/Endpoints (Prod-Endpoints)", "Prod/Cluster (Prod-Cluster)"]
    manifest = json.loads((assembly / "manifest.json").read_text())
    assert manifest.get("missing", []) == []  # Prod has an account and region, and its zones come from configuration
    prod = json.loads((assembly / "assembly-Prod" / "manifest.json").read_text())["artifacts"]
    assert {a["environment"] for a in prod.values() if a["type"] == "aws:cloudformation:stack"} == {"aws://123456789012/eu-west-1"}
    test = json.loads((assembly / "assembly-Test" / "manifest.json").read_text())["artifacts"]
    assert {a["environment"] for a in test.values() if a["type"] == "aws:cloudformation:stack"} == {"aws://unknown-account/unknown-region"}


@background_job
def synth_and_change_plan() -> tuple[Path, dict[str, subprocess.CompletedProcess]]:
    """The README's `make synth`, then docs/day-2.md's offline change check against its templates (the deployed
    template: what `aws cloudformation get-template` returns for the stage `make synth` built), in a copy of the
    project, each line as written."""
    project = own_copy(ROOT, scratch("copy-change-plan-"))
    # the test tools importable: the change plan reads cfn-lint's schemas (make setup-test, as the page says)
    env = {k: v for k, v in offline_env(scratch("home-change-plan-"), output_in_home=False).items() if k != "PYTHONPATH"}
    runs = {}
    deployed = "cp cdk.out/assembly-Dev/DevClusterB99C09D9.template.json deployed.json"  # what get-template returns
    for line in (SYNTH, SETUP_TEST, deployed, CHANGE_DIFF, CHANGE_PLAN):
        runs[line] = subprocess.run(["bash", "-c", line], cwd=project, env=env, stdin=subprocess.DEVNULL,
                                    capture_output=True, text=True, timeout=900)
        if runs[line].returncode:
            break
    return project, runs


@pytest.mark.background
def test_make_synth_prints_what_the_user_needs_and_no_cli_noise():
    project, runs = synth_and_change_plan.result()
    result = runs[SYNTH]
    assert result.returncode == 0, result.stderr
    assert [line for line in result.stderr.splitlines() if line.strip()] == [
        "review report: cdk.out/review/REVIEW.md",
        f"Successfully synthesized to {project / 'cdk.out'}",
        "Supply a stack id (Dev/Network, Dev/Endpoints, Dev/Cluster) to display its template.",
    ]
    assert result.stdout == ""
    assert (project / "cdk.out" / "review" / "REVIEW.md").is_file()


@pytest.mark.background
def test_the_documented_change_check_runs_offline_and_names_the_replaced_profiles():
    project, runs = synth_and_change_plan.result()
    assert list(runs) and all(run.returncode == 0 for run in runs.values()), {k: r.stderr[-2000:] for k, r in runs.items()}
    diff = runs[CHANGE_DIFF]
    # the CLI compared against the file, not the account: no credentials were asked for
    assert "Unable to resolve AWS account" not in diff.stderr + diff.stdout
    replaced = [line for line in (diff.stderr + diff.stdout).splitlines() if "replace" in line]
    assert replaced and all("AWS::EKS::FargateProfile" in line for line in replaced if "[-/+]" in line or "[+/-]" in line), replaced
    plan = runs[CHANGE_PLAN].stdout.splitlines()
    assert plan
    replacements = sorted(line.split()[1] for line in plan if line.startswith("replace"))
    # a third zone replaces both Fargate profiles (their subnets are create-only): the change table's row
    assert len(replacements) == 2 and all("Profile" in name for name in replacements), plan
    assert not [line for line in plan if "COLLISION" in line]


PROJECT = json.loads((ROOT / "cdk.json").read_text())["context"]
WITH_ENVIRONMENTS = PROJECT | {"app.environments": TWO_ENVIRONMENTS}


@pytest.mark.parametrize(
    "command, env, args, context, expected",
    [
        ("synth", "", [], PROJECT, ["synth", "Dev/*", "--quiet"]),
        ("deploy", "", [], PROJECT, ["deploy", "Dev/*", "--import-existing-resources"]),
        ("deploy", "dev", ["--force"], PROJECT, ["deploy", "Dev/*", "--import-existing-resources", "-c", "app.environment=Dev", "--force"]),
        ("destroy", "", ["-c", "app.stage=Blue"], PROJECT, ["destroy", "Blue/*", "-c", "app.stage=Blue"]),
        ("synth", "", [], WITH_ENVIRONMENTS, ["synth", "Test/*", "Prod/*", "--quiet"]),
        ("deploy", "prod", [], WITH_ENVIRONMENTS, ["deploy", "Prod/*", "--import-existing-resources", "-c", "app.environment=Prod"]),
        ("diff", "TEST", ["--context", "network.az_count=3"], WITH_ENVIRONMENTS,
         ["diff", "Test/*", "-c", "app.environment=Test", "--context", "network.az_count=3"]),
    ],
)
def test_make_targets_select_the_chosen_environment_s_stage(command, env, args, context, expected):
    assert make_cdk.cli_arguments(command, env, args, context) == expected


@pytest.mark.parametrize(
    "command, env, args, message",
    [
        ("deploy", "", [], "ENV: deploy works on one environment at a time; give ENV= one of Test, Prod"),
        ("destroy", "", [], "ENV: destroy works on one environment at a time; give ENV= one of Test, Prod"),
        ("deploy", "staging", [], "app.environment: 'staging' is not an environment of this app (environments: Test, Prod)"),
        ("synth", "", ["-c", "workloads.sample_ap=false"], "workloads.sample_ap: unknown setting; did you mean workloads.sample_app?"),
    ],
)
def test_make_target_mistakes_stop_before_the_cli_starts(command, env, args, message):
    with pytest.raises(ConfigError) as error:
        make_cdk.cli_arguments(command, env, args, WITH_ENVIRONMENTS)
    assert str(error.value) == message


def test_context_arguments_are_read_as_the_cli_reads_them():
    args = ["-c", "a.b=1", "--context", "c.d=x=y", "--context=e.f=[1]", "--force", "-o", "out"]
    assert make_cdk.context_arguments(args) == {"a.b": "1", "c.d": "x=y", "e.f": "[1]"}


def test_cdk_json_starts_the_app_with_the_venv_python_not_the_machine_s():
    assert json.loads((ROOT / "cdk.json").read_text())["app"] == ".venv/bin/python app.py"


def test_the_docs_python_examples_compile_and_import_what_the_package_exports():
    """They run as written in `make compat` (lowest and newest aws-cdk-lib); here, cheaply: no name they import is
    missing from the package."""
    import ast
    import re

    import private_eks_fargate

    examples = doc_pages.python_examples()
    assert len(examples) == 3
    for example in examples:
        imports = [n for n in ast.walk(ast.parse(example)) if isinstance(n, ast.ImportFrom) and n.module == "private_eks_fargate"]
        assert imports
        for name in (alias.name for node in imports for alias in node.names):
            assert hasattr(private_eks_fargate, name), name


# --- settings that cannot be mistyped, quiet one-line CLI paths (issue 18) --------------------------------------------

JSON_ON_THE_COMMAND_LINE = "make synth ARGS='-c cluster.app_profiles="
JSON_LINE = doc_pages.command(next(c.command for c in doc_pages.command_lines() if c.command.startswith(JSON_ON_THE_COMMAND_LINE)))


def without_terminal_codes(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text).replace("\r", "")


def in_a_terminal(command: str, home: Path, env: dict[str, str]) -> tuple[subprocess.CompletedProcess, list[bytes]]:
    """`command` in a terminal (`script` gives it one), every HTTPS request going to a local proxy that refuses it:
    (the finished run with the terminal's text, the first bytes of each request the proxy saw)."""
    proxy = socket.create_server(("127.0.0.1", 0))
    proxy.settimeout(600)
    requests: list[bytes] = []

    def refuse() -> None:
        try:
            while True:
                connection, _ = proxy.accept()
                requests.append(connection.recv(200))
                connection.close()
        except OSError:
            pass

    threading.Thread(target=refuse, daemon=True).start()
    environment = env | {"HTTPS_PROXY": f"http://127.0.0.1:{proxy.getsockname()[1]}", "TERM": "xterm"}
    try:
        result = subprocess.run(["script", "-qec", command, "/dev/null"], cwd=ROOT, env=environment,
                                stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=900)
    finally:
        proxy.close()
    return result, requests


@background_job
def make_synth_with_json_in_a_terminal() -> tuple[Path, subprocess.CompletedProcess, list[bytes]]:
    """The docs' line as a user types it into a terminal's shell (`script` gives the terminal and runs the shell)."""
    home = scratch("make-json-")
    return home, *in_a_terminal(JSON_LINE, home, offline_env(home))


@pytest.mark.background
def test_the_documented_json_form_passes_through_make_as_written_and_quietly_in_a_terminal():
    home, result, requests = make_synth_with_json_in_a_terminal.result()
    assert result.returncode == 0, result.stdout
    assert without_terminal_codes(result.stdout).splitlines() == [
        f"review report: {home / 'cdk.out' / 'review' / 'REVIEW.md'}",
        f"Successfully synthesized to {home / 'cdk.out'}",
        "Supply a stack id (Dev/Network, Dev/Endpoints, Dev/Cluster) to display its template.",
    ]
    given = json.loads(JSON_LINE.removeprefix(JSON_ON_THE_COMMAND_LINE).removesuffix("'"))
    (template,) = (home / "cdk.out").rglob("DevCluster*.template.json")
    profiles = [r["Properties"] for r in json.loads(template.read_text())["Resources"].values()
                if r["Type"] == "AWS::EKS::FargateProfile"]
    selected = sorted(sel["Namespace"] for p in profiles for sel in p["Selectors"] if sel["Namespace"] != "kube-system")
    assert len(given) == 2 and selected == sorted(profile["namespace"] for profile in given)
    # no upgrade banner: the pinned CLI did not ask npm for a newer version (CDK_DISABLE_VERSION_CHECK) ...
    assert requests == []
    # ... which it does in a terminal without it (through the proxy)
    home = scratch("cli-terminal-")
    _, requests = in_a_terminal(f"{CLI[0]} {CLI[1]} context", home, offline_env(home) | {"PATH": f"{BIN}:/usr/bin:/bin"})
    assert [r.split(b"\r\n")[0] for r in requests][:1] == [b"CONNECT registry.npmjs.org:443 HTTP/1.1"]


def test_a_stray_word_in_args_stops_make_with_one_line_naming_it():
    run = make_run("stray", STRAY)
    assert not run.setup_pending, run.setup_pending
    assert documented_output(run, STRAY)[0] == (
        "error: ARGS: 'cluster' (after '-c cluster.name=my') is neither an option of cdk synth nor an option's value; "
        "the CLI would take it for a stack name. A value with spaces goes in quotes inside ARGS, e.g. "
        "ARGS=\"-c 'cluster.name=my cluster'\"")
    assert len(run.result.stderr.splitlines()) == 2 and run.result.returncode != 0


def test_a_zone_eks_refuses_stops_make_synth_with_the_documented_line():
    run = make_run("wrong-zone", WRONG_ZONE)
    assert not run.setup_pending, run.setup_pending
    assert run.result.returncode != 0
    assert documented_output(run, WRONG_ZONE) == [
        "error: network.availability_zones: 'use1-az3' is a zone of us-east-1 where EKS does not accept control-plane "
        "subnets (EKS User Guide); use other zones of us-east-1, e.g. use1-az1,use1-az2"]


@pytest.mark.parametrize(
    "raw, words",
    [
        ('-c cluster.app_profiles=[{"namespace": "a"}, {"namespace": "b"}] --force',
         ["-c", 'cluster.app_profiles=[{"namespace": "a"}, {"namespace": "b"}]', "--force"]),
        ("-c 'app.environments={\"Test\": {}}' -c a.b=1", ["-c", 'app.environments={"Test": {}}', "-c", "a.b=1"]),
        ("--require-approval never --profile 'my profile'", ["--require-approval", "never", "--profile", "my profile"]),
        ("", []),
    ],
)
def test_args_split_as_a_shell_splits_them_and_json_values_as_written(raw, words):
    assert make_cdk.split_args(raw) == words


@pytest.mark.parametrize(
    "raw, message",
    [
        ("-c cluster.pod_security_levels={custom-space: baseline}",
         "cluster.pod_security_levels: '{custom-space: baseline}' is not valid JSON; give an object such as "
         '{"legacy-app": "baseline"}'),
        ('-c compliance.tags={"owner": "a"', 'compliance.tags: \'{"owner": "a"\' is not valid JSON; give an object such as '
         '{"owner": "team-a"}'),
        ("-c 'cluster.name=x", "ARGS: \"'cluster.name=x\": No closing quotation (a quote opened and not closed)"),
    ],
)
def test_args_that_cannot_be_split_stop_with_the_setting_s_own_example(raw, message):
    with pytest.raises(ConfigError) as error:
        make_cdk.split_args(raw)
    assert str(error.value) == message


@pytest.mark.parametrize(
    "command, args, stray",
    [
        ("synth", ["-c", "app.stage=my", "stage"], [("stage", "-c app.stage=my")]),
        ("deploy", ["--force", "Dev/Network"], [("Dev/Network", "--force")]),
        ("deploy", ["--require-approval", "never", "-e"], []),
        ("destroy", ["-f", "--concurrency", "2", "--no-execute"], []),
        ("diff", ["--context-lines", "3", "-c", "a.b=c d"], []),
        ("synth", ["--", "x"], [("--", ""), ("x", "--")]),
    ],
)
def test_stray_words_are_those_neither_an_option_nor_its_value_for_the_pinned_cli(command, args, stray):
    assert make_cdk.stray_words(command, args) == stray


@background_job
def make_diff() -> MakeRun:
    return make_run("diff", DIFF)


@background_job
def make_destroy_forced() -> MakeRun:
    return make_run("destroy-forced", ["make", "destroy", "ARGS=--force"])


@background_job
def make_bootstrap() -> MakeRun:
    return make_run("bootstrap", BOOTSTRAP)


@pytest.mark.background
def test_make_diff_offline_prints_the_credentials_error_once():
    run = finished(make_diff)
    assert run.result.stderr.splitlines()[:-1] == [f"review report: {run.home / 'cdk.out' / 'review' / 'REVIEW.md'}",
                                                  CREDENTIALS_ERROR]
    assert run.result.stderr.splitlines()[-1].startswith("make: *** [Makefile:") and run.result.stdout == ""


def test_make_destroy_without_a_terminal_says_so_in_one_line_before_anything_runs():
    run = make_run("destroy", DESTROY)
    assert not run.setup_pending, run.setup_pending
    lines = run.result.stderr.splitlines()
    assert lines[0] == ("error: destroy asks before it deletes the stacks and there is no terminal to answer on; run it "
                        "in a terminal, or give ARGS=--force to delete without asking")
    assert len(lines) == 2 and lines[1].startswith("make: *** [Makefile:")
    assert not (run.home / "cdk.out").exists()  # nothing synthesized


@pytest.mark.background
def test_make_destroy_forced_offline_prints_one_error_line():
    run = finished(make_destroy_forced)
    assert run.result.stderr.splitlines()[:-1] == [
        f"review report: {run.home / 'cdk.out' / 'review' / 'REVIEW.md'}",
        "Dev/Cluster (Dev-Cluster): destroying... [1/3]",
        f"❌  Dev/Cluster (Dev-Cluster): destroy failed UnresolvedAccount: {CREDENTIALS_ERROR}",
    ]


@pytest.mark.background
def test_make_bootstrap_offline_prints_one_line():
    run = finished(make_bootstrap)
    assert run.result.stderr.splitlines()[:-1] == [f"review report: {run.home / 'cdk.out' / 'review' / 'REVIEW.md'}",
                                                  CREDENTIALS_ERROR]


#: what `cdk bootstrap aws://123456789012/eu-west-1` printed offline (CLI 2.1148.1): the error with a Node stack trace
#: and the error object, then the error again
BOOTSTRAP_OFFLINE = """\
 ⏳  Bootstrapping environment aws://123456789012/eu-west-1...
 ❌  Environment aws://123456789012/eu-west-1 failed bootstrapping: NoCredentials: Need to perform AWS calls for account 123456789012, but no credentials have been configured
    at SdkProvider.forEnvironment (/work/wt18/node_modules/aws-cdk/lib/index.js:303375:17)
    at async BootstrapStack.lookup (/work/wt18/node_modules/aws-cdk/lib/index.js:116100:22)
    at async Bootstrapper.modernBootstrap (/work/wt18/node_modules/aws-cdk/lib/index.js:116375:25)
    at async /work/wt18/node_modules/aws-cdk/lib/index.js:324258:29 {
  type: 'authentication',
  source: 'user',
  cause: undefined
}
Need to perform AWS calls for account 123456789012, but no credentials have been configured
"""


def test_cli_messages_lose_the_stack_trace_and_the_repeated_error():
    assert list(make_cdk.messages(BOOTSTRAP_OFFLINE.splitlines(keepends=True))) == BOOTSTRAP_OFFLINE.splitlines(keepends=True)[:2]
    # a line that repeats an earlier one is kept when more follows (a diff's repeated headers)
    lines = ["Stack A\n", "Resources\n", "Stack B\n", "Resources\n", "done\n"]
    assert list(make_cdk.messages(lines)) == lines
