"""Gateway settings: listen address, upstreams, provider credentials, caps, cache, statuses.

Environment variable names live here.  Provider credentials come from
OTELSPEND_{ANTHROPIC,OPENAI,GEMINI}_API_KEY or from the gateway file
(OTELSPEND_GATEWAY_CONFIG / --gateway-config, TOML), which may also give per-workspace
credentials and per-workspace / per-key call caps:

    [credentials]            anthropic = "sk-ant-..."   openai = "sk-..."   gemini = "..."
    [credentials.workspace.platform]   anthropic = "sk-ant-platform-..."
    [caps]                   max_output_tokens = 8192   mode = "clamp"   max_call_usd = "2.50"
    [caps.workspace.data]    max_call_usd = "0.50"
    [caps.key.osk_ab12]      max_output_tokens = 1024   mode = "reject"
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from gateway.estimate import DEFAULT_OUTPUT_TOKENS
from gateway.leases import KEEP_WARM_S, LEASE_LIFETIME_S
from gateway.providers import anthropic, gemini, openai
from gateway.reservations import DEFAULT_RESERVATION_TTL_S

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8787
DEFAULT_CACHE_TTL_S = 3600.0
# More proxy processes let the relay use more cores; on the 2-core bench machine 2 measured
# the same as 1 (README "Performance") while holding twice the leases, so 1 by default.
DEFAULT_PROXY_PROCESSES = 1
MAX_PROXY_PROCESSES = 32
# Chosen by running the real Claude Code and Codex CLIs against a blocked budget (README,
# "Gateway"): both print the message of a 400 at once and do not retry it, where a 429 or
# 5xx is retried up to ~10 times with backoff before the user sees anything.
DEFAULT_BLOCK_STATUS = 400
PROVIDERS = {"anthropic": anthropic, "openai": openai, "gemini": gemini}
ENV_CONFIG_FILE = "OTELSPEND_GATEWAY_CONFIG"
ENV_UPSTREAM = {p: f"OTELSPEND_UPSTREAM_{p.upper()}" for p in PROVIDERS}
_NANO = Decimal(1_000_000_000)
_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


@dataclass(frozen=True, slots=True)
class CallCaps:
    """Per-call limits: output tokens (clamped or rejected) and estimated dollars."""

    max_output_tokens: int | None = None
    mode: str = "clamp"  # clamp | reject
    max_call_nanousd: int | None = None

    def __post_init__(self) -> None:
        if self.mode not in ("clamp", "reject"):
            raise ValueError(f"caps mode must be clamp or reject, got {self.mode!r}")
        if self.max_output_tokens is not None and self.max_output_tokens < 1:
            raise ValueError("caps max_output_tokens must be >= 1")

    def over(self, other: CallCaps) -> CallCaps:
        """These caps with every value `other` leaves unset taken from here."""
        return CallCaps(
            other.max_output_tokens or self.max_output_tokens,
            other.mode if other.max_output_tokens else self.mode,
            other.max_call_nanousd if other.max_call_nanousd is not None else self.max_call_nanousd,
        )


@dataclass
class GatewayConfig:
    """Everything the gateway needs; validated at construction."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    upstreams: dict[str, str] = field(default_factory=dict)
    credentials: dict[str, str] = field(default_factory=dict)
    workspace_credentials: dict[str, dict[str, str]] = field(default_factory=dict)
    caps: CallCaps = field(default_factory=CallCaps)
    workspace_caps: dict[str, CallCaps] = field(default_factory=dict)
    key_caps: dict[str, CallCaps] = field(default_factory=dict)
    default_output_tokens: int = DEFAULT_OUTPUT_TOKENS
    reservation_ttl_s: float = DEFAULT_RESERVATION_TTL_S
    # How long a lease admits calls (gateway.leases): budget edits reach a running gateway
    # within this time.
    lease_s: float = LEASE_LIFETIME_S
    # A scope that made a call this recently keeps a lease ready while idle (0: never).
    lease_keep_warm_s: float = KEEP_WARM_S
    cache: bool = False
    cache_ttl_s: float = DEFAULT_CACHE_TTL_S
    cache_redis_url: str = ""  # keep cache entries in Redis instead of the store
    block_status: int = DEFAULT_BLOCK_STATUS
    request_hint: str = ""  # appended to block messages, e.g. a link to the UI
    # Proxy processes sharing the port (SO_REUSEPORT when > 1), each with its own leases.
    proxy_processes: int = DEFAULT_PROXY_PROCESSES

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise ValueError(f"gateway port must be 0..65535, got {self.port}")
        if not 1 <= self.proxy_processes <= MAX_PROXY_PROCESSES:
            n = self.proxy_processes
            raise ValueError(f"gateway proxy_processes must be 1..{MAX_PROXY_PROCESSES}, got {n}")
        if not 0 < self.lease_s <= 60:
            raise ValueError(f"gateway lease_s must be in (0, 60] seconds, got {self.lease_s}")
        if not 0 <= self.lease_keep_warm_s <= 3600:
            warm = self.lease_keep_warm_s
            raise ValueError(f"gateway lease_keep_warm_s must be in [0, 3600] seconds, got {warm}")
        if self.default_output_tokens < 1:
            raise ValueError("default output tokens must be >= 1")
        if self.cache_redis_url and not self.cache_redis_url.startswith(_REDIS_SCHEMES):
            raise ValueError(
                f"gateway cache_redis_url must start with one of {', '.join(_REDIS_SCHEMES)}, "
                f"got {self.cache_redis_url!r}"
            )
        if not 400 <= self.block_status <= 599:
            raise ValueError("block status must be an HTTP error status (400..599)")
        unknown = set(self.upstreams) - set(PROVIDERS)
        if unknown:
            raise ValueError(f"unknown provider(s) {sorted(unknown)}; known: {sorted(PROVIDERS)}")
        for name, module in PROVIDERS.items():
            self.upstreams.setdefault(name, module.DEFAULT_UPSTREAM)
            self.upstreams[name] = self.upstreams[name].rstrip("/")

    def credential(self, provider: str, workspace: str) -> str | None:
        """The real provider key for a workspace (its own, else the gateway-wide one)."""
        own = self.workspace_credentials.get(workspace, {}).get(provider)
        return own or self.credentials.get(provider)

    def caps_for(self, workspace: str, key_prefix: str) -> CallCaps:
        """Caps of a call: key caps over workspace caps over the gateway-wide ones."""
        caps = self.caps
        if workspace in self.workspace_caps:
            caps = caps.over(self.workspace_caps[workspace])
        if key_prefix in self.key_caps:
            caps = caps.over(self.key_caps[key_prefix])
        return caps


def load_config(
    path: str | None, env: Mapping[str, str] | None = None, **flags: Any
) -> GatewayConfig:
    """Flags over environment over the gateway file (None flags are unset)."""
    env = os.environ if env is None else env
    path = path or env.get(ENV_CONFIG_FILE)
    data = _read(path) if path else {}
    creds = data.get("credentials", {})
    base = {p: str(creds[p]) for p in PROVIDERS if isinstance(creds.get(p), str)}
    base.update(
        {p: env[m.CREDENTIAL_ENV] for p, m in PROVIDERS.items() if env.get(m.CREDENTIAL_ENV)}
    )
    upstreams = {p: env[v] for p, v in ENV_UPSTREAM.items() if env.get(v)}
    upstreams.update({p: u for p, u in (flags.pop("upstreams", None) or {}).items() if u})
    caps = data.get("caps", {})
    cfg = GatewayConfig(
        upstreams=upstreams,
        credentials=base,
        workspace_credentials={
            ws: {p: str(v) for p, v in table.items()}
            for ws, table in creds.get("workspace", {}).items()
        },
        caps=_caps(caps),
        workspace_caps={k: _caps(v) for k, v in caps.get("workspace", {}).items()},
        key_caps={k: _caps(v) for k, v in caps.get("key", {}).items()},
        **{k: v for k, v in {**_scalars(data), **flags}.items() if v is not None},
    )
    return cfg


def _read(path: str) -> dict[str, Any]:
    try:
        return tomllib.loads(Path(path).read_text())
    except FileNotFoundError:
        raise ValueError(f"gateway config file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"gateway config file {path} is not valid TOML: {exc}") from None


def _scalars(data: Mapping[str, Any]) -> dict[str, Any]:
    names = (
        "default_output_tokens", "reservation_ttl_s", "lease_s", "lease_keep_warm_s", "cache",
        "cache_ttl_s", "cache_redis_url", "block_status", "proxy_processes",
    )  # fmt: skip
    return {k: data[k] for k in names if k in data}


def _caps(table: Mapping[str, Any]) -> CallCaps:
    usd = table.get("max_call_usd")
    try:
        nano = None if usd is None else int(Decimal(str(usd)) * _NANO)
    except InvalidOperation:
        raise ValueError(f"caps max_call_usd must be a number, got {usd!r}") from None
    return CallCaps(table.get("max_output_tokens"), str(table.get("mode", "clamp")), nano)
