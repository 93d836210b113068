"""Attribute, event, span and metric names of every telemetry dialect otelspend understands."""

from __future__ import annotations

# --- OpenTelemetry GenAI semantic conventions (current) ------------------------------------
GEN_AI_PROVIDER_NAME = "gen_ai.provider.name"
GEN_AI_OPERATION_NAME = "gen_ai.operation.name"
GEN_AI_REQUEST_MODEL = "gen_ai.request.model"
GEN_AI_RESPONSE_MODEL = "gen_ai.response.model"
GEN_AI_RESPONSE_ID = "gen_ai.response.id"
GEN_AI_AGENT_NAME = "gen_ai.agent.name"
GEN_AI_CONVERSATION_ID = "gen_ai.conversation.id"
GEN_AI_USAGE_INPUT_TOKENS = "gen_ai.usage.input_tokens"
GEN_AI_USAGE_OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS = "gen_ai.usage.cache_read.input_tokens"
GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS = "gen_ai.usage.cache_creation.input_tokens"
GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS = "gen_ai.usage.cache_write.input_tokens"  # newer spelling
GEN_AI_USAGE_REASONING_OUTPUT_TOKENS = "gen_ai.usage.reasoning.output_tokens"
GEN_AI_INFERENCE_DETAILS_EVENT = "gen_ai.client.inference.operation.details"
# OpenTelemetry general attribute the GenAI semconv requires "if the operation ended in error".
ERROR_TYPE = "error.type"

# --- 1-hour cache writes (Anthropic's cache_creation.ephemeral_1h_input_tokens) -------------
# The semconv has no per-TTL split of gen_ai.usage.cache_creation.input_tokens; these
# instrumentations each report the 1-hour part of it under their own name:
# otelspend-run's httpx hooks (semconv/providers/__init__.py, CACHE_WRITE_1H_TOKENS),
CACHE_WRITE_1H_OTELSPEND = "gen_ai.usage.cache_creation.1h.input_tokens"
# the Archestra LLM proxy (archestra-ai/archestra,
# platform/backend/src/observability/tracing/attributes.ts),
CACHE_WRITE_1H_ARCHESTRA = "archestra.usage.cache_creation.1h_input_tokens"
# the Dash0 agent plugin's Claude Code spans (dash0hq/dash0-agent-plugin,
# internal/pipeline/pipeline.go, injectTurnUsage).
CACHE_WRITE_1H_DASH0 = "dash0.gen_ai.usage.cache_creation.ephemeral_1h.input_tokens"

# Operation names that describe one model call, and those that only group calls.
OP_CHAT = "chat"
OP_TEXT_COMPLETION = "text_completion"
OP_GENERATE_CONTENT = "generate_content"
OP_EMBEDDINGS = "embeddings"
OP_RESPONSES = "responses"
CALL_OPERATIONS = frozenset(
    {OP_CHAT, OP_TEXT_COMPLETION, OP_GENERATE_CONTENT, OP_EMBEDDINGS, OP_RESPONSES}
)
PARENT_OPERATIONS = frozenset(
    {"invoke_agent", "create_agent", "execute_tool", "workflow", "invoke_workflow"}
)

# --- GenAI semantic conventions (deprecated names still sent by older SDKs) -----------------
GEN_AI_SYSTEM = "gen_ai.system"
GEN_AI_USAGE_PROMPT_TOKENS = "gen_ai.usage.prompt_tokens"
GEN_AI_USAGE_COMPLETION_TOKENS = "gen_ai.usage.completion_tokens"

# --- OpenLLMetry (Traceloop) -----------------------------------------------------------------
OPENLLMETRY_CACHE_READ_INPUT_TOKENS = "gen_ai.usage.cache_read_input_tokens"
OPENLLMETRY_CACHE_CREATION_INPUT_TOKENS = "gen_ai.usage.cache_creation_input_tokens"
OPENLLMETRY_REASONING_TOKENS = "gen_ai.usage.reasoning_tokens"
OPENLLMETRY_TOTAL_TOKENS = "llm.usage.total_tokens"
OPENLLMETRY_REQUEST_TYPE = "llm.request.type"
# llm.request.type values mapped onto GenAI operation names.
OPENLLMETRY_REQUEST_TYPES = {
    "chat": OP_CHAT,
    "completion": OP_TEXT_COMPLETION,
    "embedding": OP_EMBEDDINGS,
}

# --- OpenInference (Arize Phoenix) -----------------------------------------------------------
OI_SPAN_KIND = "openinference.span.kind"
OI_KIND_LLM = "LLM"
OI_KIND_EMBEDDING = "EMBEDDING"
OI_MODEL_NAME = "llm.model_name"
OI_EMBEDDING_MODEL_NAME = "embedding.model_name"
OI_PROVIDER = "llm.provider"
OI_SYSTEM = "llm.system"
OI_PROMPT_TOKENS = "llm.token_count.prompt"
OI_COMPLETION_TOKENS = "llm.token_count.completion"
OI_CACHE_READ_TOKENS = "llm.token_count.prompt_details.cache_read"
OI_CACHE_WRITE_TOKENS = "llm.token_count.prompt_details.cache_write"
OI_REASONING_TOKENS = "llm.token_count.completion_details.reasoning"
OI_COST_TOTAL = "llm.cost.total"
OI_SESSION_ID = "session.id"

# --- OpenLIT ---------------------------------------------------------------------------------
OPENLIT_COST = "gen_ai.usage.cost"
OPENLIT_SDK_NAME = "openlit"

# --- Resource and identity -------------------------------------------------------------------
SERVICE_NAME = "service.name"
TELEMETRY_SDK_NAME = "telemetry.sdk.name"
SESSION_ID = "session.id"
CONVERSATION_ID = "conversation.id"
EVENT_NAME = "event.name"
EVENT_TIMESTAMP = "event.timestamp"
DURATION_MS = "duration_ms"
USER_ID = "user.id"
USER_EMAIL = "user.email"
ENDUSER_ID = "enduser.id"
USER_ACCOUNT_UUID = "user.account_uuid"
# Attributes that may identify the human, in precedence order.
USER_HINT_ATTRIBUTES = (USER_ID, USER_EMAIL, ENDUSER_ID, USER_ACCOUNT_UUID)

# --- Claude Code -----------------------------------------------------------------------------
CLAUDE_CODE_AGENT = "claude-code"
CLAUDE_CODE_SERVICE = "claude-code"
CLAUDE_CODE_PREFIX = "claude_code."
CLAUDE_CODE_LLM_REQUEST_SPAN = "claude_code.llm_request"
CLAUDE_CODE_API_REQUEST_EVENT = "claude_code.api_request"
CLAUDE_CODE_API_REQUEST_SHORT = "api_request"  # the event.name attribute drops the prefix
CLAUDE_CODE_MODEL = "model"
CLAUDE_CODE_INPUT_TOKENS = "input_tokens"
CLAUDE_CODE_OUTPUT_TOKENS = "output_tokens"
CLAUDE_CODE_CACHE_READ_TOKENS = "cache_read_tokens"
CLAUDE_CODE_CACHE_CREATION_TOKENS = "cache_creation_tokens"
CLAUDE_CODE_COST_USD = "cost_usd"
CLAUDE_CODE_COST_USD_MICROS = "cost_usd_micros"
CLAUDE_CODE_SPEED = "speed"
CLAUDE_CODE_TOKEN_USAGE_METRIC = "claude_code.token.usage"
CLAUDE_CODE_COST_USAGE_METRIC = "claude_code.cost.usage"
CLAUDE_CODE_TOKEN_TYPE = "type"
CLAUDE_CODE_TYPE_INPUT = "input"
CLAUDE_CODE_TYPE_OUTPUT = "output"
CLAUDE_CODE_TYPE_CACHE_READ = "cacheRead"
CLAUDE_CODE_TYPE_CACHE_CREATION = "cacheCreation"

# --- Codex CLI -------------------------------------------------------------------------------
CODEX_AGENT = "codex"
CODEX_SERVICE_PREFIX = "codex"
CODEX_SCOPE_PREFIX = "codex_otel"
CODEX_SSE_EVENT = "codex.sse_event"
CODEX_EVENT_KIND = "event.kind"
CODEX_RESPONSE_COMPLETED = "response.completed"
CODEX_MODEL = "model"
CODEX_INPUT_TOKEN_COUNT = "input_token_count"
CODEX_OUTPUT_TOKEN_COUNT = "output_token_count"
CODEX_CACHED_TOKEN_COUNT = "cached_token_count"
CODEX_CACHE_WRITE_TOKEN_COUNT = "cache_write_token_count"
CODEX_REASONING_TOKEN_COUNT = "reasoning_token_count"
CODEX_TURN_SPAN = "session_task.turn"
# thread.id: the conversation id (a string) on the turn span, an OS thread number elsewhere.
CODEX_THREAD_ID = "thread.id"
CODEX_TURN_INPUT_TOKENS = "codex.turn.token_usage.input_tokens"
CODEX_TURN_CACHED_INPUT_TOKENS = "codex.turn.token_usage.cached_input_tokens"
CODEX_TURN_CACHE_WRITE_INPUT_TOKENS = "codex.turn.token_usage.cache_write_input_tokens"
CODEX_TURN_NON_CACHED_INPUT_TOKENS = "codex.turn.token_usage.non_cached_input_tokens"
CODEX_TURN_OUTPUT_TOKENS = "codex.turn.token_usage.output_tokens"
CODEX_TURN_REASONING_OUTPUT_TOKENS = "codex.turn.token_usage.reasoning_output_tokens"

# --- Gemini CLI ------------------------------------------------------------------------------
GEMINI_CLI_AGENT = "gemini-cli"
GEMINI_CLI_SERVICE = "gemini-cli"
GEMINI_CLI_PREFIX = "gemini_cli."
GEMINI_CLI_API_RESPONSE_EVENT = "gemini_cli.api_response"
GEMINI_CLI_MODEL = "model"
GEMINI_CLI_INPUT_TOKEN_COUNT = "input_token_count"
GEMINI_CLI_OUTPUT_TOKEN_COUNT = "output_token_count"
GEMINI_CLI_CACHED_CONTENT_TOKEN_COUNT = "cached_content_token_count"
GEMINI_CLI_THOUGHTS_TOKEN_COUNT = "thoughts_token_count"
GEMINI_CLI_TOOL_TOKEN_COUNT = "tool_token_count"
GEMINI_CLI_TOTAL_TOKEN_COUNT = "total_token_count"

# --- Canonical provider names for dialects that do not send one -----------------------------
PROVIDER_ANTHROPIC = "anthropic"
PROVIDER_OPENAI = "openai"
PROVIDER_GOOGLE = "google"

MISSING_MODEL_REASON = "missing model: set gen_ai.request.model or gen_ai.response.model"
