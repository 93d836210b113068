"""A LangChain tool-calling agent with no telemetry code (ChatOpenAI over the openai SDK).

Run by tests/semconv/test_instrument_live.py under otelspend-run.  The model asks for the
tool, the loop runs it and sends the result back, the model answers; then a streamed summary.
"""

import os

from langchain_core.messages import BaseMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI

BASE = os.environ["STANDIN_URL"] + "/v1"


@tool
def lookup_weather(city: str) -> str:
    """Return the weather in a city."""
    return f"sunny in {city}"


def run_agent(question: str) -> list[BaseMessage]:
    """The classic agent loop: call the model until it stops asking for tools."""
    model = ChatOpenAI(model="gpt-5.1", base_url=BASE, api_key="sk-test", max_retries=0)
    llm = model.bind_tools([lookup_weather])
    messages: list[BaseMessage] = [HumanMessage(question)]
    for _ in range(5):
        reply = llm.invoke(messages)
        messages.append(reply)
        if not reply.tool_calls:
            break
        for call in reply.tool_calls:
            result = lookup_weather.invoke(call["args"])
            print(result)
            messages.append(ToolMessage(result, tool_call_id=call["id"]))
    return messages


if __name__ == "__main__":
    transcript = run_agent("What is the weather in Paris?")
    print(transcript[-1].content)
    summarizer = ChatOpenAI(
        model="gpt-5.1", base_url=BASE, api_key="sk-test", max_retries=0, stream_usage=True
    )
    print("".join(str(chunk.content) for chunk in summarizer.stream("Summarize the weather.")))
