"""Environment variables the agent-side instrumentation reads (no imports: cheap to load)."""

ENV_ENDPOINT = "OTELSPEND_ENDPOINT"
ENV_KEY = "OTELSPEND_KEY"
ENV_AGENT_NAME = "OTELSPEND_AGENT_NAME"
ENV_INJECT_STREAM_USAGE = "OTELSPEND_INJECT_STREAM_USAGE"
ENV_CLIENT_CONFIG = "OTELSPEND_CLIENT_CONFIG"
# The variable the official GenAI instrumentations read for prompt/completion capture.
ENV_CAPTURE_CONTENT = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
