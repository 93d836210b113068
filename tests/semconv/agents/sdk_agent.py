"""An agent with no telemetry code: the openai and anthropic SDKs, sync, async and streaming.

Run by tests/semconv/test_instrument_live.py as `otelspend-run python sdk_agent.py`.
"""

import asyncio
import os

import anthropic
import openai

BASE = os.environ["STANDIN_URL"]
MESSAGES = [{"role": "user", "content": "say hi"}]
CLAUDE = "claude-sonnet-4-5"


def sync_calls() -> None:
    """Four calls: chat, chat stream, responses (OpenAI); messages + stream (Anthropic)."""
    oa = openai.OpenAI(base_url=f"{BASE}/v1", api_key="sk-test", max_retries=0)
    print(oa.chat.completions.create(model="gpt-5.1", messages=MESSAGES).choices[0].message.content)
    stream = oa.chat.completions.create(
        model="gpt-5.1", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    )
    print("".join(c.choices[0].delta.content or "" for c in stream if c.choices))
    print(oa.responses.create(model="gpt-5.1", input="say hi").output_text)
    an = anthropic.Anthropic(base_url=BASE, api_key="sk-ant-test", max_retries=0)
    print(an.messages.create(model=CLAUDE, max_tokens=64, messages=MESSAGES).content[0].text)
    with an.messages.stream(model=CLAUDE, max_tokens=64, messages=MESSAGES) as events:
        print("".join(events.text_stream))


async def async_calls() -> None:
    """Two concurrent async calls: an OpenAI chat stream and an Anthropic message."""
    oa = openai.AsyncOpenAI(base_url=f"{BASE}/v1", api_key="sk-test", max_retries=0)
    an = anthropic.AsyncAnthropic(base_url=BASE, api_key="sk-ant-test", max_retries=0)

    async def chat_stream() -> str:
        stream = await oa.chat.completions.create(
            model="gpt-5.1", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
        )
        return "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])

    async def message() -> str:
        reply = await an.messages.create(model=CLAUDE, max_tokens=64, messages=MESSAGES)
        return reply.content[0].text

    for text in await asyncio.gather(chat_stream(), message()):
        print(text)


if __name__ == "__main__":
    sync_calls()
    asyncio.run(async_calls())
