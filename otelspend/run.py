"""`otelspend-run [OPTIONS] COMMAND [ARGS...]`: run a Python program with its model calls reported.

Like `opentelemetry-instrument`: it sets the environment (endpoint, key, names) and puts the
directory of otelspend/_bootstrap/sitecustomize.py first on PYTHONPATH, then replaces itself
with COMMAND.  The program's Python imports that sitecustomize at start-up, which calls
semconv.instrument().  No change to the program is needed.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from semconv.agent_env import (
    ENV_AGENT_NAME,
    ENV_CAPTURE_CONTENT,
    ENV_ENDPOINT,
    ENV_INJECT_STREAM_USAGE,
    ENV_KEY,
)

BOOTSTRAP_DIR = str(Path(__file__).resolve().parent / "_bootstrap")
_EXIT_NOT_FOUND = 127


def build_parser() -> argparse.ArgumentParser:
    """The command line of otelspend-run."""
    parser = argparse.ArgumentParser(
        prog="otelspend-run",
        description="Run a Python program so that every OpenAI / Anthropic / Gemini call it "
        "makes is reported to otelspend (no code change).",
        epilog="Without --endpoint/--key the standard OTEL_EXPORTER_OTLP_ENDPOINT and "
        "OTEL_EXPORTER_OTLP_HEADERS variables (or ~/.config/otelspend/client.toml) apply.",
    )
    parser.add_argument("--endpoint", help="otelspend OTLP/HTTP endpoint, e.g. http://host:4318")
    parser.add_argument("--key", help="ingest key (prefer OTELSPEND_KEY: argv is visible to ps)")
    parser.add_argument("--service-name", help="service.name (default: the script's name)")
    parser.add_argument("--agent-name", help="gen_ai.agent.name of every call")
    parser.add_argument(
        "--capture-content", action="store_true", help="also record prompts and completions"
    )
    parser.add_argument(
        "--inject-stream-usage",
        action="store_true",
        help="ask OpenAI chat streams for usage (adds stream_options.include_usage)",
    )
    parser.add_argument("command", help="the program, e.g. python")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="its arguments")
    return parser


def child_environment(args: argparse.Namespace, env: Mapping[str, str]) -> dict[str, str]:
    """The environment COMMAND runs with."""
    out = dict(env)
    for value, name in (
        (args.endpoint, ENV_ENDPOINT),
        (args.key, ENV_KEY),
        (args.agent_name, ENV_AGENT_NAME),
    ):
        if value:
            out[name] = value
    if args.capture_content:
        out[ENV_CAPTURE_CONTENT] = "true"
    if args.inject_stream_usage:
        out[ENV_INJECT_STREAM_USAGE] = "true"
    service = args.service_name or default_service_name(args.command, args.args)
    if args.service_name or "OTEL_SERVICE_NAME" not in out:
        out["OTEL_SERVICE_NAME"] = service
    paths = [p for p in out.get("PYTHONPATH", "").split(os.pathsep) if p and p != BOOTSTRAP_DIR]
    out["PYTHONPATH"] = os.pathsep.join([BOOTSTRAP_DIR, *paths])
    return out


def default_service_name(command: str, args: Sequence[str]) -> str:
    """`python agent.py` -> "agent"; `python -m pkg.mod` -> "pkg.mod"; else the command name."""
    rest = list(args)
    if Path(command).name.startswith("python"):
        while rest and rest[0].startswith("-") and rest[0] != "-m":
            rest.pop(0)  # interpreter flags such as -u, -X dev
        if len(rest) >= 2 and rest[0] == "-m":
            return rest[1]
        if rest and rest[0].endswith(".py"):
            return Path(rest[0]).stem
    return Path(command).name


def main(argv: Sequence[str] | None = None) -> None:
    """Parse, set the environment and exec COMMAND (exit 127 when it cannot be found)."""
    args = build_parser().parse_args(argv)
    env = child_environment(args, os.environ)
    try:
        os.execvpe(args.command, [args.command, *args.args], env)
    except OSError as exc:
        print(f"otelspend-run: cannot run {args.command!r}: {exc.strerror}", file=sys.stderr)
        sys.exit(_EXIT_NOT_FOUND)
