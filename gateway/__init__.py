"""The enforcing proxy: OpenAI/Anthropic/Gemini-compatible, hard budgets before the call."""
