"""Sample exports shaped like the providers' documented responses.

Anthropic Admin API (GET /v1/organizations/cost_report, /usage_report/messages): pages of
{data: [{starting_at, ending_at, results}], has_more, next_page}, RFC 3339 UTC buckets, cost
`amount` a decimal string in cents.  OpenAI (GET /v1/organization/costs, /usage/completions):
{object: "page", data: [{object: "bucket", start_time, end_time, results}], has_more,
next_page}, Unix-second buckets, cost `amount: {value, currency}` in dollars.
"""

from __future__ import annotations

import json
from typing import Any

WS_PLATFORM = "wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ"
WS_RESEARCH = "wrkspc_01Rk5wF8g2Q3ZyTnVbH6cXmP"
KEY_CI = "apikey_01Rj2N8SVvo6BePZj99NhmiT"
SONNET = "claude-sonnet-4-5-20250929"
NOV2, NOV3, NOV4, NOV5 = (f"2026-11-0{d}T00:00:00Z" for d in (2, 3, 4, 5))
NOV2_UNIX = 1_793_577_600
DAY_S = 86_400


def _cost(amount: str, token_type: str | None, ws: str | None, **over: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "amount": amount,
        "currency": "USD",
        "workspace_id": ws,
        "description": f"Claude Sonnet 4.5 Usage - {token_type or 'web search'}",
        "cost_type": "tokens" if token_type else "web_search",
        "model": SONNET if token_type else None,
        "service_tier": "standard" if token_type else None,
        "token_type": token_type,
        "context_window": "0-200k" if token_type else None,
        "inference_geo": "global" if token_type else None,
    }
    item.update(over)
    return item


def anthropic_cost_pages() -> list[dict[str, Any]]:
    """Two pages, grouped by workspace and description; Nov 4 reported empty."""
    page1 = {
        "data": [
            {
                "starting_at": NOV2,
                "ending_at": NOV3,
                "results": [
                    _cost("300.00", "uncached_input_tokens", WS_PLATFORM),  # $3.00
                    _cost("1500.00", "output_tokens", WS_PLATFORM),  # $15.00
                    _cost("30.000", "cache_read_input_tokens", WS_PLATFORM),  # $0.30
                    _cost("37.5", "cache_creation.ephemeral_5m_input_tokens", WS_PLATFORM),
                    _cost("25.00", None, None),  # web search, default workspace: $0.25
                ],
            },
            {
                "starting_at": NOV3,
                "ending_at": NOV4,
                "results": [_cost("123.78912", "uncached_input_tokens", WS_RESEARCH)],
            },
        ],
        "has_more": True,
        "next_page": "page_MjAyNi0xMS0wNFQwMDowMDowMFo=",
    }
    page2 = {
        "data": [{"starting_at": NOV4, "ending_at": NOV5, "results": []}],
        "has_more": False,
        "next_page": None,
    }
    return [page1, page2]


def anthropic_usage_page() -> dict[str, Any]:
    """Nov 2 usage grouped by workspace, API key and model (matches the cost page)."""

    def row(ws: str | None, key: str | None, uncached: int, out: int, **kw: Any) -> dict[str, Any]:
        return {
            "uncached_input_tokens": uncached,
            "cache_creation": {
                "ephemeral_1h_input_tokens": kw.get("c1h", 0),
                "ephemeral_5m_input_tokens": kw.get("c5m", 0),
            },
            "cache_read_input_tokens": kw.get("read", 0),
            "output_tokens": out,
            "server_tool_use": {"web_search_requests": kw.get("search", 0)},
            "api_key_id": key,
            "workspace_id": ws,
            "model": SONNET,
            "service_tier": "standard",
            "context_window": "0-200k",
        }

    return {
        "data": [
            {
                "starting_at": NOV2,
                "ending_at": NOV3,
                "results": [
                    row(WS_PLATFORM, KEY_CI, 600_000, 700_000, read=1_000_000, c5m=100_000),
                    row(WS_PLATFORM, None, 400_000, 300_000),
                    row(None, None, 0, 0, search=25),
                ],
            }
        ],
        "has_more": False,
        "next_page": None,
    }


def openai_cost_pages() -> list[dict[str, Any]]:
    """Costs grouped by project and line item, one bucket per page (limit=1)."""

    def result(value: Any, line_item: str | None, project: str | None) -> dict[str, Any]:
        return {
            "object": "organization.costs.result",
            "amount": {"value": value, "currency": "usd"},
            "line_item": line_item,
            "project_id": project,
            "organization_id": "org-9dKk6QpGf3dEdN7cXyZ1aB2c",
        }

    def page(day: int, results: list[dict[str, Any]], more: bool) -> dict[str, Any]:
        start = NOV2_UNIX + day * DAY_S
        return {
            "object": "page",
            "data": [
                {
                    "object": "bucket",
                    "start_time": start,
                    "end_time": start + DAY_S,
                    "results": results,
                }
            ],
            "has_more": more,
            "next_page": "AAAAAGdGxdEiJdKOAAAAAGcqsYA=" if more else None,
        }

    return [
        page(
            0,
            [
                result(0.06, "gpt-4o-2024-08-06, input", "proj_abc"),
                result(0.12, "gpt-4o-2024-08-06, output", "proj_abc"),
            ],
            True,
        ),
        page(
            1,
            [
                result("0.8958740000000000", "gpt-4o-2024-08-06, cached input", "proj_abc"),
                result(0.01, "web search tool calls", None),
            ],
            False,
        ),
    ]


def openai_usage_page() -> dict[str, Any]:
    """Completions usage grouped by project, API key and model (input INCLUDES cached)."""
    return {
        "object": "page",
        "data": [
            {
                "object": "bucket",
                "start_time": NOV2_UNIX,
                "end_time": NOV2_UNIX + DAY_S,
                "results": [
                    {
                        "object": "organization.usage.completions.result",
                        "input_tokens": 1000,
                        "output_tokens": 500,
                        "input_cached_tokens": 800,
                        "input_audio_tokens": 0,
                        "output_audio_tokens": 0,
                        "num_model_requests": 5,
                        "project_id": "proj_abc",
                        "user_id": None,
                        "api_key_id": "key_abc",
                        "model": "gpt-4o-2024-08-06",
                        "batch": False,
                        "service_tier": "default",
                    }
                ],
            }
        ],
        "has_more": False,
        "next_page": None,
    }


def as_list(pages: list[dict[str, Any]]) -> str:
    """A JSON list of pages (what a paginating script saves)."""
    return json.dumps(pages)


def as_jsonl(pages: list[dict[str, Any]]) -> str:
    """JSON lines, one page per line (what `curl ... >> file` leaves)."""
    return "\n".join(json.dumps(p) for p in pages) + "\n"


CSV_EXPORT = """Date,Provider,Model,Workspace,Cost,Input_Tokens,Output_Tokens,Cache_Read_Tokens
2026-11-02,anthropic,claude-sonnet-4-5,platform,"$1,234.56",1000000,200000,0
2026-11-02,openai,gpt-4o,proj_abc,0.18,,,
2026-11-03T23:30:00-05:00,anthropic,claude-sonnet-4-5,platform,10,,,
"""
