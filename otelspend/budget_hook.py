"""`otelspend hook claude-code`: a Claude Code UserPromptSubmit hook that enforces hard budgets.

Claude Code runs it before each prompt with the hook's JSON on stdin and the environment of
its settings' `env` block.  It asks GET /v1/budget/check on the otelspend receiver with the
same key and endpoint the telemetry uses (OTEL_EXPORTER_OTLP_ENDPOINT / _HEADERS), or with
--url/--key (OTELSPEND_BUDGET_URL / OTELSPEND_KEY).  Hook contract (Claude Code hooks
reference): exit 0 lets the prompt through; exit 2 blocks it, erases it, and shows stderr to
the user.  When the server cannot answer, the prompt is allowed with a warning shown to the
user (JSON `systemMessage` on stdout; plain stdout would be added to the model's context)
unless --fail-closed (OTELSPEND_HOOK_FAIL_CLOSED=1) is set.

Stdlib only, and nothing imported that the check does not need: it runs before every prompt
and must answer in well under 100 ms (`otelspend.entry` routes here without loading the CLI).
"""

from __future__ import annotations

import json
import os
import sys

# typing, dataclasses and urllib cost more to import than the whole check (mypy still reads
# the names below: it treats any TYPE_CHECKING as True).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import IO, Any

CHECK_PATH = "/v1/budget/check"
AGENT = "claude-code"
DEFAULT_TIMEOUT_S = 3.0
EXIT_ALLOW, EXIT_CONFIG_ERROR, EXIT_BLOCK = 0, 1, 2
_SIGNAL_SUFFIXES = ("/v1/traces", "/v1/logs", "/v1/metrics")
_TRUE = frozenset({"1", "true", "yes", "on"})


class HookOptions:
    """Where to ask, with which key, and what to do when nobody answers."""

    __slots__ = ("fail_closed", "key", "timeout_s", "url")

    def __init__(
        self, url: str, key: str, fail_closed: bool = False, timeout_s: float = DEFAULT_TIMEOUT_S
    ) -> None:
        self.url = url
        self.key = key
        self.fail_closed = fail_closed
        self.timeout_s = timeout_s


def parse_args(argv: Sequence[str], env: Mapping[str, str]) -> HookOptions | None:
    """Options from flags and environment; None for anything unexpected (e.g. --help)."""
    flags: dict[str, str] = {}
    fail_closed = env.get("OTELSPEND_HOOK_FAIL_CLOSED", "").strip().lower() in _TRUE
    items = list(argv)
    while items:
        arg = items.pop(0)
        name, eq, value = arg.partition("=")
        if name == "--fail-closed" and not eq:
            fail_closed = True
        elif name == "--fail-open" and not eq:
            fail_closed = False
        elif name in ("--url", "--key", "--timeout"):
            if not eq:
                if not items:
                    return None
                value = items.pop(0)
            flags[name] = value
        else:
            return None
    try:
        timeout = float(flags.get("--timeout") or env.get("OTELSPEND_HOOK_TIMEOUT") or 0)
    except ValueError:
        return None
    url = flags.get("--url") or env.get("OTELSPEND_BUDGET_URL") or check_url(env)
    key = flags.get("--key") or env.get("OTELSPEND_KEY") or key_from_headers(env)
    return HookOptions(url, key, fail_closed, timeout if timeout > 0 else DEFAULT_TIMEOUT_S)


def check_url(env: Mapping[str, str]) -> str:
    """The budget-check URL on the receiver the telemetry goes to (default 127.0.0.1:4318)."""
    base = env.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip()
    if not base:
        for signal in ("LOGS", "TRACES", "METRICS"):
            base = env.get(f"OTEL_EXPORTER_OTLP_{signal}_ENDPOINT", "").strip()
            if base:
                break
    base = (base or "http://127.0.0.1:4318").rstrip("/")
    for suffix in _SIGNAL_SUFFIXES:
        base = base.removesuffix(suffix)
    return base + CHECK_PATH


def key_from_headers(env: Mapping[str, str]) -> str:
    """The bearer key in OTEL_EXPORTER_OTLP_HEADERS ('k=v,k2=v2', values percent-encoded)."""
    for name in ("OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_LOGS_HEADERS"):
        for pair in env.get(name, "").split(","):
            header, _, value = pair.partition("=")
            if header.strip().lower() == "authorization":
                scheme, _, token = _unquote(value).strip().partition(" ")
                if scheme.lower() == "bearer" and token.strip():
                    return token.strip()
    return ""


def _unquote(text: str) -> str:
    """Percent-decoding (the OTLP headers variable encodes values; '%20' for the space)."""
    if "%" not in text:
        return text
    out, i = bytearray(), 0
    raw = text.encode()
    while i < len(raw):
        if raw[i] == 0x25 and i + 2 < len(raw) and _is_hex(raw[i + 1 : i + 3]):
            out += bytes.fromhex(raw[i + 1 : i + 3].decode())
            i += 3
        else:
            out.append(raw[i])
            i += 1
    return out.decode("utf-8", "replace")


def _is_hex(pair: bytes) -> bool:
    return len(pair) == 2 and all(c in b"0123456789abcdefABCDEF" for c in pair)


def ask(options: HookOptions, agent: str = AGENT) -> dict[str, Any]:
    """GET the check; raises OSError / ValueError when there is no usable answer."""
    scheme, host, port, path = split_url(options.url)
    target = f"{path}{'&' if '?' in path else '?'}agent={agent}"
    headers = {"Host": host if port in (80, 443) else f"{host}:{port}", "Connection": "close"}
    if options.key:
        headers["Authorization"] = f"Bearer {options.key}"
    if scheme == "https":
        status, body = _https_get(host, port, target, headers, options.timeout_s)
    else:
        status, body = _http_get(host, port, target, headers, options.timeout_s)
    if status == 401:
        raise ValueError("the otelspend key was refused (missing, unknown or revoked)")
    if status != 200:
        raise ValueError(f"budget check answered HTTP {status}")
    answer = json.loads(body)
    if not isinstance(answer, dict) or not isinstance(answer.get("allow"), bool):
        raise ValueError("budget check answer has no 'allow'")
    return answer


def split_url(url: str) -> tuple[str, str, int, str]:
    """'http://h:4318/v1/budget/check' -> ('http', 'h', 4318, '/v1/budget/check')."""
    scheme, sep, rest = url.partition("://")
    scheme = scheme.lower()
    if not sep or scheme not in ("http", "https"):
        raise ValueError(f"budget check URL must be http(s)://host[:port]/path, got {url!r}")
    netloc, slash, path = rest.partition("/")
    host, port_text = netloc, ""
    if netloc.startswith("["):  # IPv6 literal
        host, _, tail = netloc[1:].partition("]")
        port_text = tail.removeprefix(":")
    elif ":" in netloc:
        host, _, port_text = netloc.rpartition(":")
    if not host or (port_text and not port_text.isdigit()):
        raise ValueError(f"budget check URL has no usable host/port: {url!r}")
    port = int(port_text) if port_text else (443 if scheme == "https" else 80)
    return scheme, host, port, slash + path if slash else CHECK_PATH


def _http_get(
    host: str, port: int, target: str, headers: dict[str, str], timeout_s: float
) -> tuple[int, bytes]:
    """A minimal HTTP/1.1 GET over a socket: http.client would double the hook's start-up."""
    import socket

    lines = [f"GET {target} HTTP/1.1", *(f"{k}: {v}" for k, v in headers.items()), "", ""]
    with socket.create_connection((host, port), timeout=timeout_s) as sock:
        sock.sendall("\r\n".join(lines).encode("latin-1"))
        chunks = []
        while True:
            data = sock.recv(65536)
            if not data:
                break
            chunks.append(data)
    return parse_response(b"".join(chunks))


def parse_response(raw: bytes) -> tuple[int, bytes]:
    """(status, body) of a complete HTTP/1.x response (Content-Length, chunked or to EOF)."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ", 2) if sep else []
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/") or not parts[1].isdigit():
        raise ValueError("budget check answer is not HTTP")
    fields = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        fields[name.strip().lower()] = value.strip()
    if fields.get(b"transfer-encoding", b"").lower() == b"chunked":
        body = _dechunk(body)
    elif fields.get(b"content-length", b"").isdigit():
        body = body[: int(fields[b"content-length"])]
    return int(parts[1]), body


def _dechunk(data: bytes) -> bytes:
    out = []
    while data:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0].strip() or b"0", 16)
        if size == 0:
            break
        out.append(data[:size])
        data = data[size + 2 :]
    return b"".join(out)


def _https_get(
    host: str, port: int, target: str, headers: dict[str, str], timeout_s: float
) -> tuple[int, bytes]:
    """GET over TLS with the system's trust store (http.client is worth it for TLS)."""
    import http.client

    conn = http.client.HTTPSConnection(host, port, timeout=timeout_s)
    try:
        conn.request("GET", target, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def run(options: HookOptions, stdin: IO[str], stdout: IO[str], stderr: IO[str]) -> int:
    """Decide for one prompt; returns the exit code Claude Code acts on."""
    _read_hook_input(stdin)
    try:
        answer = ask(options)
    except (OSError, ValueError) as exc:
        return _unanswered(options, str(exc) or type(exc).__name__, stdout, stderr)
    if answer["allow"]:
        return EXIT_ALLOW
    message = str(answer.get("message") or "otelspend: a hard budget is used up")
    print(message, file=stderr)
    return EXIT_BLOCK


def _unanswered(options: HookOptions, reason: str, stdout: IO[str], stderr: IO[str]) -> int:
    if options.fail_closed:
        print(f"otelspend: prompt blocked: the budget check failed ({reason})", file=stderr)
        return EXIT_BLOCK
    warning = f"otelspend: budget check unavailable ({reason}); prompt allowed"
    print(json.dumps({"systemMessage": warning}), file=stdout)
    print(warning, file=stderr)
    return EXIT_ALLOW


def _read_hook_input(stdin: IO[str]) -> dict[str, Any]:
    """Consume the hook's JSON (Claude Code writes it and may wait for us to read it)."""
    try:
        data = json.loads(stdin.read() or "{}")
    except (ValueError, OSError):
        return {}
    return data if isinstance(data, dict) else {}


def fast_main(argv: Sequence[str]) -> int | None:
    """The `otelspend hook claude-code` fast path; None = let the full CLI show --help."""
    if "--help" in argv or "-h" in argv:
        return None
    options = parse_args(argv, os.environ)
    if options is None:
        # Exit 2 would block every prompt over a typo in the settings: 1 is Claude Code's
        # "non-blocking error", shown to the user while the prompt goes through.
        print(f"otelspend hook claude-code: unusable arguments {list(argv)}", file=sys.stderr)
        return EXIT_CONFIG_ERROR
    return run(options, sys.stdin, sys.stdout, sys.stderr)
