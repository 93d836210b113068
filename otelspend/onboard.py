"""What `otelspend onboard` writes: each coding CLI's own config file, pointing it at otelspend.

Pure functions from an OnboardSpec (client, server, key, identity, gateway mode) to file
contents; otelspend/onboard_bundle.py writes them.  Shapes:

- Claude Code `managed-settings.json`: an `env` block (telemetry on, OTLP exporters, endpoint,
  `Authorization=Bearer <key>` header, OTEL_RESOURCE_ATTRIBUTES with workspace/team; via the
  gateway ANTHROPIC_BASE_URL + ANTHROPIC_AUTH_TOKEN = the key) and a UserPromptSubmit hook
  running `otelspend hook claude-code` (the budget check).
- Codex `config.toml`: `[otel]` exporter (logs) and trace_exporter with the key in headers;
  via the gateway a `[model_providers.otelspend]` with the key as bearer token.
- Gemini CLI `settings.json` (telemetry block) and `.env` (OTEL_EXPORTER_OTLP_HEADERS, which
  Gemini CLI reads only from the environment; via the gateway GOOGLE_GEMINI_BASE_URL and
  GEMINI_API_KEY = the key).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import quote

CLIENTS = ("claude-code", "codex", "gemini")
DEFAULT_GATEWAY_URL = "http://127.0.0.1:8787"
GATEWAY_PATHS = {"claude-code": "/anthropic", "codex": "/openai/v1", "gemini": "/gemini"}
DEFAULT_HOOK_COMMAND = "otelspend hook claude-code"
BUDGET_CHECK_PATH = "/v1/budget/check"  # collector_processor.budget_check (not imported: light)
HOOK_TIMEOUT_S = 10  # Claude Code kills a slower hook; ours answers in well under a second
_EXPORT_INTERVAL_MS = "10000"  # Claude Code's default metric interval is 60 s: too coarse


@dataclass(frozen=True, slots=True)
class Identity:
    """Who a bundle is for (one row of users.csv)."""

    user: str
    workspace: str
    email: str = ""
    team: str = ""


@dataclass(frozen=True, slots=True)
class OnboardSpec:
    """Everything one client's files depend on."""

    client: str
    server: str  # otelspend OTLP/HTTP base URL, e.g. https://otelspend.example.com:4318
    key: str
    identity: Identity | None = None
    via_gateway: bool = False
    gateway_url: str = DEFAULT_GATEWAY_URL
    hook_command: str = DEFAULT_HOOK_COMMAND
    hook: bool = True

    def __post_init__(self) -> None:
        if self.client not in CLIENTS:
            raise ValueError(f"unknown client {self.client!r}; use one of {', '.join(CLIENTS)}")
        for name in ("server", "gateway_url"):
            url = getattr(self, name)
            if not url.startswith(("http://", "https://")) or url.rstrip("/") != url.strip():
                raise ValueError(f"{name} must be an http(s):// URL without a trailing slash")
        if not self.key.strip() or any(c in self.key for c in ' ,"\n\r'):
            raise ValueError("the key must be a single token (as printed by `keys create`)")

    @property
    def gateway_base(self) -> str:
        """The base URL the client's model calls go to in gateway mode."""
        return self.gateway_url + GATEWAY_PATHS[self.client]


@dataclass(frozen=True, slots=True)
class BundleFile:
    """One file of a bundle; every file here carries the key, so all are written 0600."""

    name: str
    content: str
    installs_to: tuple[tuple[str, str], ...]  # (platform, path) pairs for the INSTALL notes


def bundle_files(spec: OnboardSpec) -> list[BundleFile]:
    """The files of one client for one user."""
    if spec.client == "claude-code":
        text = json.dumps(claude_code_settings(spec), indent=2) + "\n"
        return [BundleFile("managed-settings.json", text, CLAUDE_CODE_PATHS)]
    if spec.client == "codex":
        return [BundleFile("config.toml", codex_config(spec), CODEX_PATHS)]
    settings = json.dumps(gemini_settings(spec), indent=2) + "\n"
    return [
        BundleFile("settings.json", settings, GEMINI_SETTINGS_PATHS),
        BundleFile(".env", gemini_env(spec), GEMINI_ENV_PATHS),
    ]


CLAUDE_CODE_PATHS = (
    ("macOS", "/Library/Application Support/ClaudeCode/managed-settings.json"),
    ("Linux", "/etc/claude-code/managed-settings.json"),
    ("Windows", r"C:\Program Files\ClaudeCode\managed-settings.json"),
)
CODEX_PATHS = (
    ("macOS", "~/.codex/config.toml (or $CODEX_HOME/config.toml)"),
    ("Linux", "~/.codex/config.toml (or $CODEX_HOME/config.toml)"),
    ("Windows", r"%USERPROFILE%\.codex\config.toml"),
)
GEMINI_SETTINGS_PATHS = (
    ("macOS", "/Library/Application Support/GeminiCli/settings.json"),
    ("Linux", "/etc/gemini-cli/settings.json"),
    ("Windows", r"C:\ProgramData\gemini-cli\settings.json"),
)
GEMINI_ENV_PATHS = (
    ("macOS", "~/.gemini/.env"),
    ("Linux", "~/.gemini/.env"),
    ("Windows", r"%USERPROFILE%\.gemini\.env"),
)


def auth_header(key: str) -> str:
    """The OTEL_EXPORTER_OTLP_HEADERS value carrying the key."""
    return f"Authorization=Bearer {key}"


def resource_attributes(identity: Identity | None) -> str:
    """OTEL_RESOURCE_ATTRIBUTES naming workspace, team and email (values percent-encoded)."""
    if identity is None:
        return ""
    pairs = [
        ("otelspend.workspace", identity.workspace),
        ("team.id", identity.team),
        ("user.email", identity.email),
    ]
    return ",".join(f"{k}={quote(v, safe='@.-_')}" for k, v in pairs if v)


def claude_code_settings(spec: OnboardSpec) -> dict[str, object]:
    """Claude Code managed settings: telemetry env, optional gateway, the budget hook."""
    # No CLAUDE_CODE_ENHANCED_TELEMETRY_BETA: its llm_request span duplicates the
    # api_request log event, and the two are matched on a timestamp that can differ by a few
    # ms (see the README), so a call could be billed twice.  The log event is complete.
    env = {
        "CLAUDE_CODE_ENABLE_TELEMETRY": "1",
        "OTEL_METRICS_EXPORTER": "otlp",
        "OTEL_LOGS_EXPORTER": "otlp",
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_EXPORTER_OTLP_ENDPOINT": spec.server,
        "OTEL_EXPORTER_OTLP_HEADERS": auth_header(spec.key),
        "OTEL_METRIC_EXPORT_INTERVAL": _EXPORT_INTERVAL_MS,
        "OTEL_LOGS_EXPORT_INTERVAL": "5000",
    }
    attributes = resource_attributes(spec.identity)
    if attributes:
        env["OTEL_RESOURCE_ATTRIBUTES"] = attributes
    if spec.via_gateway:
        env["ANTHROPIC_BASE_URL"] = spec.gateway_base
        env["ANTHROPIC_AUTH_TOKEN"] = spec.key  # sent as Authorization: Bearer <key>
    settings: dict[str, object] = {"env": env}
    if spec.hook:
        # Claude Code strips OTEL_* from a hook's environment but passes the rest of this
        # block, so the hook gets its endpoint and key under names of its own.
        env["OTELSPEND_BUDGET_URL"] = spec.server + BUDGET_CHECK_PATH
        env["OTELSPEND_KEY"] = spec.key
        command = {"type": "command", "command": spec.hook_command, "timeout": HOOK_TIMEOUT_S}
        settings["hooks"] = {"UserPromptSubmit": [{"hooks": [command]}]}
    return settings


def codex_config(spec: OnboardSpec) -> str:
    """Codex config.toml: [otel] log and trace exporters; a gateway provider when asked."""
    who = (
        f" for {spec.identity.user} (workspace {spec.identity.workspace})" if spec.identity else ""
    )
    lines = [
        f"# Written by `otelspend onboard codex`{who}. Contains an otelspend key: keep private."
    ]
    if spec.via_gateway:
        lines += ['model_provider = "otelspend"', ""]
    headers = f'headers = {{ "Authorization" = {_toml(f"Bearer {spec.key}")} }}'
    lines += ["[otel]", "log_user_prompt = false"]
    if spec.identity:
        lines.append(f"environment = {_toml(spec.identity.workspace)}")
    for name, signal in (("exporter", "logs"), ("trace_exporter", "traces")):
        endpoint = _toml(f"{spec.server}/v1/{signal}")
        exporter = f'endpoint = {endpoint}, protocol = "binary", {headers}'
        lines.append(f"{name} = {{ otlp-http = {{ {exporter} }} }}")
    if spec.via_gateway:
        lines += [
            "",
            "[model_providers.otelspend]",
            'name = "otelspend gateway"',
            f"base_url = {_toml(spec.gateway_base)}",
            'wire_api = "responses"',
            f"experimental_bearer_token = {_toml(spec.key)}",
        ]
    return "\n".join(lines) + "\n"


def gemini_settings(spec: OnboardSpec) -> dict[str, object]:
    """Gemini CLI system settings: telemetry over OTLP/HTTP to otelspend, prompts not logged."""
    telemetry = {
        "enabled": True,
        "target": "local",
        "otlpEndpoint": spec.server,
        "otlpProtocol": "http",
        "logPrompts": False,
    }
    if not spec.via_gateway:
        return {"telemetry": telemetry}
    # The gateway takes the otelspend key as a Gemini API key; without an explicit auth type
    # a custom base URL selects "gateway" auth, which headless runs refuse.
    return {"telemetry": telemetry, "security": {"auth": {"selectedType": "gemini-api-key"}}}


def gemini_env(spec: OnboardSpec) -> str:
    """~/.gemini/.env: the key header (and the gateway) that settings.json cannot carry."""
    values = {"OTEL_EXPORTER_OTLP_HEADERS": auth_header(spec.key)}
    attributes = resource_attributes(spec.identity)
    if attributes:
        values["OTEL_RESOURCE_ATTRIBUTES"] = attributes
    if spec.via_gateway:
        values["GOOGLE_GEMINI_BASE_URL"] = spec.gateway_base
        values["GEMINI_API_KEY"] = spec.key
    lines = ["# Written by `otelspend onboard gemini`. Contains an otelspend key: keep private."]
    lines += [f"{name}={json.dumps(value)}" for name, value in values.items()]
    return "\n".join(lines) + "\n"


def _toml(text: str) -> str:
    """A TOML basic string (JSON string escaping is valid TOML for these values)."""
    return json.dumps(text)
