#!/usr/bin/env python3
"""`make synth|diff|deploy|destroy|bootstrap|pipeline [ENV=name] [ARGS=…]`: the project's CDK CLI on the stacks of
one environment.

Runs the CDK CLI from node_modules on the venv's Node 24 with the selector of the chosen stage (``'Prod/*'``), so
the CLI checks exactly those stacks (their error annotations stop synth) and never silently selects none.
``ENV`` names an environment of ``app.environments`` (any case); the app then builds only that stage. ``ARGS``
goes to the CLI (``-c key=value``, ``--force``, ``--require-approval never``, …), read from the environment as make
passes it, not through make's shell: words split as a shell splits them, except that a ``-c`` value starting with
``{`` or ``[`` is one JSON value, quotes and spaces included, as cdk.json writes it. A bad ``ENV``, setting or
word in ``ARGS`` stops here with one line, before the CLI starts; so does ``destroy`` without a terminal to ask on.
With ``pipeline.*`` settings, synth selects the pipeline stack and the stages it deploys; ``make pipeline`` deploys
the pipeline stack alone (docs/pipeline.md).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Iterable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from private_eks_fargate.app.context import (  # noqa: E402
    PIPELINE_STACK_ID,
    environments_from_context,
    parse_context,
    pipeline_environments,
    pipeline_mode,
)
from private_eks_fargate.settings import ConfigError  # noqa: E402

#: flags make adds per command: synth writes templates into cdk.out and prints where, not the templates; deploy adopts
#: the retained, fixed-name resources a destroyed stage left (log groups, repository) instead of stopping at
#: "already exists" (CloudFormation's ImportExistingResources; nothing to adopt: no effect)
COMMAND_FLAGS = {"synth": ["--quiet"], "diff": [], "deploy": ["--import-existing-resources"], "destroy": [], "ls": [],
                 "bootstrap": [], "pipeline": []}
#: what the CLI's output leaves out: after the app's one-line error, the CLI's own line about it
QUIET_SYNTH = re.compile(r": Subprocess exited with error \d+$")
#: a Node stack trace under an error (bootstrap prints one), and the error object's properties after it
STACK_FRAME = re.compile(r"^\s+at \S.*(\)|:\d+:\d+)( \{)?$")
#: commands that touch an AWS account: one environment at a time when several are declared
ONE_ENVIRONMENT = ("diff", "deploy", "destroy")
#: commands that act on the environments of the stage's stacks, not on stacks (no stage selector)
ON_ENVIRONMENTS = ("bootstrap",)
#: the pinned CLI's own description of its options (type and aliases of each, per command)
CLI_OPTIONS = ROOT / "node_modules" / "aws-cdk" / "lib" / "cli" / "cli-type-registry.json"
NO_TERMINAL = ("destroy asks before it deletes the stacks and there is no terminal to answer on; run it in a terminal, "
               "or give ARGS=--force to delete without asking")
_JSON_VALUE = re.compile(r"(?P<key>[A-Za-z][\w.-]*)=(?=[\[{])")


def split_args(raw: str) -> list[str]:
    """make's ARGS as words: as a POSIX shell splits them, except a key=value whose value starts with { or [, which is
    one word up to the end of that JSON value (quotes and spaces as in cdk.json); raises ConfigError naming the
    problem."""
    words, pos, decoder = [], 0, json.JSONDecoder()
    while True:
        while pos < len(raw) and raw[pos].isspace():
            pos += 1
        if pos == len(raw):
            return words
        json_word = _JSON_VALUE.match(raw, pos)
        if json_word:
            try:
                _, end = decoder.raw_decode(raw, json_word.end())
            except json.JSONDecodeError:
                # what follows is not JSON: the setting's parser says so, with its own example
                parse_context({json_word["key"]: raw[json_word.end():].strip()})
                raise ConfigError("ARGS", f"{raw[json_word.end():]!r} is not valid JSON") from None
            if end == len(raw) or raw[end].isspace():
                words.append(raw[pos:end])
                pos = end
                continue
        lexer = shlex.shlex(io.StringIO(raw[pos:]), posix=True)
        lexer.whitespace_split, lexer.commenters = True, ""
        try:
            word = lexer.get_token()
        except ValueError as error:
            raise ConfigError("ARGS", f"{raw[pos:]!r}: {error} (a quote opened and not closed)") from None
        words.append(word)
        pos += lexer.instream.tell()


def cli_options(command: str) -> dict[str, str]:
    """Every option name and alias of `cdk COMMAND` (kebab case) -> its type, from the pinned CLI."""
    registry = json.loads(CLI_OPTIONS.read_text())
    options = {**registry["globalOptions"], **registry["commands"][command].get("options", {})}
    types = {}
    for name, option in options.items():
        aliases = option.get("alias", [])
        for alias in [name, *([aliases] if isinstance(aliases, str) else aliases)]:
            types[alias] = option.get("type", "string")
    return types


def stray_words(command: str, args: list[str]) -> list[tuple[str, str]]:
    """(word, what precedes it) for each word of `args` that is neither an option of `cdk COMMAND` nor an option's
    value: the CLI would take it for a stack name (and, after the stage's selector, ignore it)."""
    types, stray, i = cli_options(command), [], 0
    while i < len(args):
        word = args[i]
        name = re.sub(r"[A-Z]", lambda m: "-" + m.group().lower(), word.lstrip("-").split("=", 1)[0])
        if word == "--" or not word.startswith("-") or word == "-":
            stray.append((word, " ".join(args[max(0, i - 2):i])))
        elif "=" not in word and (word.startswith("--") or len(name) == 1):
            kind = types.get(name, types.get(name.removeprefix("no-"), "string"))
            if kind == "boolean":
                i += 1 if i + 1 < len(args) and args[i + 1] in ("true", "false") else 0
            else:
                i += 1  # its value (an option the CLI does not list: the word after it, as the CLI reads it)
        i += 1
    return stray


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
    cli_command = "deploy" if command == "pipeline" else command
    stray = stray_words(cli_command, args)
    if stray:
        word, after = stray[0]
        where = f" (after '{after}')" if after else ""
        raise ConfigError(
            "ARGS", f"{word!r}{where} is neither an option of cdk {cli_command} nor an option's value; the CLI would take "
            f"it for a stack name. A value with spaces goes in quotes inside ARGS, e.g. ARGS=\"-c 'cluster.name=my cluster'\""
        )
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
    selectors = [] if command in ON_ENVIRONMENTS else [f"{e.name}/*" for e in chosen]
    return [command, *selectors, *COMMAND_FLAGS[command], *only, *args]


def asks_without_a_terminal(command: str, args: list[str]) -> bool:
    """`cdk destroy` asks on the terminal (stdout) unless forced; without one, the CLI refuses with two lines."""
    return command == "destroy" and not sys.stdout.isatty() and not {"--force", "-f", "--force=true"} & set(args)


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
    ours, given = (argv[: argv.index("--")], argv[argv.index("--") + 1 :]) if "--" in argv else (argv, None)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     epilog="-- ARGS…: the CDK CLI's arguments as words (default: make's ARGS from the environment)")
    parser.add_argument("command", choices=sorted(COMMAND_FLAGS))
    parser.add_argument("--env", default="", help="environment name (make's ENV)")
    options = parser.parse_args(ours)
    project_context = json.loads((ROOT / "cdk.json").read_text()).get("context", {})
    try:
        args = given if given is not None else split_args(os.environ.get("ARGS", ""))
        arguments = cli_arguments(options.command, options.env.strip(), args, project_context)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if asks_without_a_terminal(options.command, args):
        print(f"error: {NO_TERMINAL}", file=sys.stderr)
        return 1
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
    """The pinned CDK CLI on the venv's Node, without its check for a newer CLI (the version is pinned), and its
    messages (stderr) without repeats and stack traces; deploy's pass as they are (its progress rewrites lines)."""
    bin_dir = Path(sys.executable).parent
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", CDK_DISABLE_CLI_TELEMETRY="true",
               CDK_DISABLE_VERSION_CHECK="true")
    cdk = [str(bin_dir / "node"), str(ROOT / "node_modules" / "aws-cdk" / "bin" / "cdk")]
    if command == "deploy":
        return subprocess.run([*cdk, *arguments], cwd=ROOT, env=env).returncode
    # stdin and stdout stay the terminal's: destroy asks its question there
    with subprocess.Popen([*cdk, *arguments], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True) as cli:
        for line in messages(cli.stderr):
            sys.stderr.write(line)
            sys.stderr.flush()
    return cli.returncode


def messages(lines: Iterable[str]) -> Iterable[str]:
    """The CLI's messages as a person needs them: no echo of the app's own one-line error, no Node stack trace, and no
    closing line that repeats an error already printed (the CLI prints an action's error, then again on exit). A
    line is held only while it repeats an earlier one: it goes out when more follows."""
    seen: list[str] = []
    held: str | None = None
    in_trace = False
    for line in lines:
        text = line.rstrip()
        if in_trace:
            in_trace = text != "}" and (STACK_FRAME.match(text) is not None or text.startswith("  ") or text.endswith("{"))
            if in_trace or text == "}":
                continue
        if STACK_FRAME.match(text):
            in_trace = True
            continue
        if QUIET_SYNTH.search(text):
            continue
        if held is not None:
            yield held
            held = None
        if text and any(earlier == text or earlier.endswith(f": {text}") for earlier in seen):
            held = line
            continue
        seen.append(text)
        yield line


if __name__ == "__main__":
    sys.exit(main())
