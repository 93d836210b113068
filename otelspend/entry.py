"""The `otelspend` console script: `otelspend hook claude-code` skips the full CLI's imports.

The hook runs before every Claude Code prompt and must answer in well under 100 ms; the full
CLI (click, SQLAlchemy, the pipeline) takes far longer just to import.  Anything the fast path
does not understand (`--help`, a typo) goes to the click command, which does the same thing.
"""

import sys


def main() -> None:
    """Route to the hook fast path or to otelspend.cli.main."""
    argv = sys.argv[1:]
    if argv[:2] == ["hook", "claude-code"]:
        from otelspend.budget_hook import fast_main

        code = fast_main(argv[2:])
        if code is not None:
            sys.exit(code)
    from otelspend.cli import main as cli_main

    cli_main()
