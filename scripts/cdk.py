#!/usr/bin/env python3
"""`make synth|diff|deploy|destroy [ENV=name] [ARGS=…]`: the project's CDK CLI on the stacks of one environment.

Runs the CDK CLI from node_modules on the venv's Node 24 with the selector of the chosen stage (``'Prod/*'``), so
the CLI checks exactly those stacks (their error annotations stop synth) and never silently selects none.
``ENV`` names an environment of ``app.environments`` (any case); the app then builds only that stage. ``ARGS``
goes to the CLI as written (``-c key=value``, ``--force``, ``--require-approval never``, …). A bad ``ENV`` or
setting stops here with one line, before the CLI starts. With ``pipeline.*`` settings, synth selects the pipeline
stack and the stages it deploys; ``make pipeline`` deploys the pipeline stack alone (docs/pipeline.md).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from private_eks_fargate.app.context import (  # noqa: E402
    PIPELINE_STACK_ID,
    environments_from_context,
    pipeline_environments,
    pipeline_mode,
)
from private_eks_fargate.settings import ConfigError  # noqa: E402

#: flags make adds per command: synth writes templates into cdk.out and prints where, not the templates; deploy adopts
#: the retained, fixed-name resources a destroyed stage left (log groups, repository) instead of stopping at
#: "already exists" (CloudFormation's ImportExistingResources; nothing to adopt: no effect)
COMMAND_FLAGS = {"synth": ["--quiet"], "diff": [], "deploy": ["--import-existing-resources"], "destroy": [], "ls": [],
                 "pipeline": []}
#: what `make synth` leaves out of the CLI's output: after the app's one-line error, the CLI's own line about it
QUIET_SYNTH = re.compile(r": Subprocess exited with error \d+$")
#: commands that touch an AWS account: one environment at a time when several are declared
ONE_ENVIRONMENT = ("diff", "deploy", "destroy")


def context_arguments(args: list[str]) -> dict[str, str]:
    """The key=value pairs of -c / --context among CLI arguments, as the CLI reads them."""
    pairs, rest = [], list(args)
    while rest:
        arg = rest.pop(0)
        if arg in ("-c", "--context") and rest:
            pairs.append(rest.pop(0))
        elif arg.startswith("--context="):
            pairs.append(arg.split("=", 1)[1])
    return dict(pair.split("=", 1) for pair in pairs if "=" in pair)


def cli_arguments(command: str, env: str, args: list[str], project_context: dict) -> list[str]:
    """What follows `cdk` for `make COMMAND ENV=env ARGS=args`; raises ConfigError with the one line to print."""
    given = context_arguments(args)
    context = {**project_context, **given, **({"app.environment": env} if env else {})}
    if command == "pipeline":
        return pipeline_arguments(env, context, given, args)
    pipeline = pipeline_mode(context)
    if pipeline is not None and command == "synth":
        # the app builds the pipeline stack and the stages it deploys, which may be fewer than the declared ones
        stages = [e.environment.name for e in pipeline_environments(context, pipeline, command_line=given)]
        return [command, *(f"{name}/*" for name in stages), PIPELINE_STACK_ID, *COMMAND_FLAGS[command], *args]
    chosen = environments_from_context(context, command_line=given)
    if command in ONE_ENVIRONMENT and len(chosen) > 1:
        names = ", ".join(e.name for e in chosen)
        raise ConfigError("ENV", f"{command} works on one environment at a time; give ENV= one of {names}")
    only = ["-c", f"app.environment={chosen[0].name}"] if env else []
    return [command, *(f"{e.name}/*" for e in chosen), *COMMAND_FLAGS[command], *only, *args]


def pipeline_arguments(env: str, context: dict, given: dict, args: list[str]) -> list[str]:
    """`make pipeline`: deploy the pipeline stack alone (the stages are the pipeline's to deploy)."""
    if env:
        raise ConfigError("ENV", "not used with make pipeline: the pipeline deploys every environment of pipeline.environments")
    pipeline = pipeline_mode(context)
    if pipeline is None:
        raise ConfigError("pipeline", "no pipeline.* settings in cdk.json or ARGS; see docs/pipeline.md for the settings")
    pipeline_environments(context, pipeline, command_line=given)
    return ["deploy", "--exclusively", PIPELINE_STACK_ID, *args]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ours, args = (argv[: argv.index("--")], argv[argv.index("--") + 1 :]) if "--" in argv else (argv, [])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog="-- ARGS: passed to the CDK CLI (make's ARGS)")
    parser.add_argument("command", choices=sorted(COMMAND_FLAGS))
    parser.add_argument("--env", default="", help="environment name (make's ENV)")
    options = parser.parse_args(ours)
    project_context = json.loads((ROOT / "cdk.json").read_text()).get("context", {})
    try:
        arguments = cli_arguments(options.command, options.env.strip(), args, project_context)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    context_file = ROOT / "cdk.context.json"
    had_context = context_file.exists()
    try:
        return run_cli(arguments[0], arguments)
    finally:
        # the CLI writes cdk.context.json after any lookup, also a failed one (then `{}`): a file to commit only
        # when it holds something
        if not had_context and context_file.exists() and json.loads(context_file.read_text() or "{}") == {}:
            context_file.unlink()


def run_cli(command: str, arguments: list[str]) -> int:
    """The pinned CDK CLI on the venv's Node; a synth's output without the CLI's echo of the app's one-line error."""
    bin_dir = Path(sys.executable).parent
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", CDK_DISABLE_CLI_TELEMETRY="true")
    cdk = [str(bin_dir / "node"), str(ROOT / "node_modules" / "aws-cdk" / "bin" / "cdk")]
    if command != "synth":
        return subprocess.run([*cdk, *arguments], cwd=ROOT, env=env).returncode  # deploy and destroy may prompt
    with subprocess.Popen([*cdk, *arguments], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True) as cli:
        for line in cli.stderr:
            if not QUIET_SYNTH.search(line.rstrip()):
                sys.stderr.write(line)
    return cli.returncode


if __name__ == "__main__":
    sys.exit(main())
