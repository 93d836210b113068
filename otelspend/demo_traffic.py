"""The demo's synthetic sessions: realistic sizes, timings and token mixes per agent."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from otelspend import demo_payloads as p
from otelspend.demo_payloads import Batch, Usage

NS_PER_S = 1_000_000_000
MODELS = {
    "claude-code": (
        ("claude-sonnet-4-5", 0.72),
        ("claude-opus-4-1", 0.1),
        ("claude-haiku-4-5", 0.18),
    ),
    "codex": (("gpt-5.1-codex", 0.8), ("gpt-5-codex", 0.2)),
    "gemini-cli": (("gemini-2.5-pro", 0.6), ("gemini-2.5-flash", 0.4)),
}
TOOLS = {
    "claude-code": ("Read", "Edit", "Bash", "Grep", "Glob", "Write"),
    "codex": ("exec_command", "apply_patch", "read_file"),
    "gemini-cli": ("read_file", "replace", "run_shell_command", "glob"),
}
ROOTS = {
    "claude-code": "claude_code.interaction",
    "codex": "session_task.turn",
    "gemini-cli": "gemini_cli.user_prompt",
}  # noqa: E501
BOT_MODELS = (
    ("gpt-4.1-mini", "openai", 0.85),
    ("acme-coder-7b", "acme", 0.15),
)  # the 2nd: unpriced


class Traffic:
    """Builds sessions into per-(key, agent) batches; the demo flushes them to the server."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.pending: dict[tuple[str, str], Batch] = {}
        self._to_evaluate: list[tuple[bytes, bytes, int]] = []

    def _batch(self, key: str, agent: str) -> Batch:
        return self.pending.setdefault((key, agent), Batch(agent))

    def _id(self, n: int) -> bytes:
        return self.rng.getrandbits(8 * n).to_bytes(n, "big")

    def _usage(self, model: str, context: int, heavy: bool = False) -> Usage:
        r = self.rng
        out = r.randint(150, 2500) * (2 if heavy else 1)
        return Usage(
            model,
            r.randint(300, 4000),
            context,
            r.choice((0, 0, r.randint(500, 9000))),
            out,
            r.randint(0, out // 2) if "gemini" in model or "codex" in model else 0,
        )

    def session(self, key: str, agent: str, start: datetime, *, heavy: bool = False) -> None:
        """One working session: a few prompts (traces), each a loop of model calls and tools."""
        r = self.rng
        session = f"{r.getrandbits(64):016x}-{r.getrandbits(32):08x}"
        models, weights = zip(*MODELS[agent], strict=True)
        model = "claude-opus-4-1" if heavy else r.choices(models, weights)[0]
        t = int(start.timestamp() * NS_PER_S)
        for _ in range(r.randint(2, 6)):
            t = self._trace(key, agent, session, model, t, heavy) + r.randint(30, 600) * NS_PER_S

    def _trace(self, key: str, agent: str, session: str, model: str, t0: int, heavy: bool) -> int:
        r, batch = self.rng, self._batch(key, agent)
        trace, root, t = self._id(16), self._id(8), t0
        context = r.randint(8_000, 30_000)
        for _ in range(r.randint(2, 10)):
            call_id, dur = self._id(8), r.randint(2, 25) * NS_PER_S
            u = self._usage(model, context, heavy)
            self._call(batch, agent, (trace, call_id, root), (t, t + dur), u, session)
            t += dur
            for _ in range(r.randint(0, 2)):
                tool, tdur = r.choice(TOOLS[agent]), r.randint(1, 20) * NS_PER_S
                error = (
                    "exit status 1"
                    if tool in ("Bash", "exec_command", "run_shell_command") and r.random() < 0.12
                    else ""
                )  # noqa: E501
                attrs = {"tool_name": tool, "session.id": session}
                batch.spans.append(
                    p.span(
                        (trace, self._id(8), root),
                        f"{ROOTS[agent].split('.')[0]}.tool {tool}",
                        (t, t + tdur),
                        attrs,
                        error=error,
                    )
                )  # noqa: E501
                t += tdur
            context = min(180_000, context + r.randint(2_000, 12_000))
        root_attrs = {"session.id": session, "thread.id": session, "interaction.sequence": 1}
        batch.spans.append(p.span((trace, root, b""), ROOTS[agent], (t0, t), root_attrs))
        if agent == "claude-code" and r.random() < 0.18:
            self._to_evaluate.append((trace, root, t))
        return t

    def _call(
        self,
        batch: Batch,
        agent: str,
        ids: tuple[bytes, bytes, bytes],
        t: tuple[int, int],
        u: Usage,
        session: str,
    ) -> None:  # noqa: E501
        if agent == "claude-code":
            batch.spans.append(p.claude_call(ids, t, u, session))
        elif agent == "codex":
            batch.spans.append(p.span(ids, "handle_responses", t, {"model_family": "gpt-5"}))
            batch.logs.append(p.codex_log(ids[:2], t[1], u, session))
        else:
            batch.spans.append(p.span(ids, "gemini_cli.api_request", t, {"model": u.model}))
            batch.logs.append(p.gemini_log(ids[:2], t[1], u, session))

    def bot_conversation(self, key: str, start: datetime) -> None:
        """The support bot: invoke_agent → chat calls and tools, evaluated at the end."""
        r, batch = self.rng, self._batch(key, "support-bot")
        trace, root, t0 = self._id(16), self._id(8), int(start.timestamp() * NS_PER_S)
        model, provider, _ = r.choices(BOT_MODELS, [m[2] for m in BOT_MODELS])[0]
        t = t0
        for _ in range(r.randint(2, 6)):
            dur = r.randint(1, 6) * NS_PER_S
            u = Usage(model, r.randint(800, 6000), r.randint(0, 4000), 0, r.randint(100, 900))
            batch.spans.append(p.genai_call((trace, self._id(8), root), (t, t + dur), u, provider))
            t += dur
            if r.random() < 0.6:
                attrs = {
                    "gen_ai.operation.name": "execute_tool",
                    "gen_ai.tool.name": "lookup_order",
                }
                batch.spans.append(
                    p.span(
                        (trace, self._id(8), root),
                        "execute_tool lookup_order",
                        (t, t + NS_PER_S),
                        attrs,
                    )
                )  # noqa: E501
                t += NS_PER_S
        ok = r.random() < 0.75
        event = p.evaluation(
            t,
            "resolution",
            "pass" if ok else "fail",
            0.9 if ok else 0.2,
            "customer issue resolved" if ok else "escalated to a human",
        )
        attrs = {
            "gen_ai.operation.name": "invoke_agent",
            "gen_ai.agent.name": "support-bot",
            "gen_ai.conversation.id": f"conv-{r.getrandbits(48):012x}",
        }  # noqa: E501
        batch.spans.append(
            p.span((trace, root, b""), "invoke_agent support-bot", (t0, t), attrs, events=[event])
        )  # noqa: E501

    def evaluations(self, key: str) -> None:
        """A CI evaluator's verdicts on some Claude Code prompts (log events, trace context)."""
        batch = self._batch(key, "evaluator")
        for trace, root, at in self._to_evaluate:
            ok = self.rng.random() < 0.7
            attrs = {
                "gen_ai.evaluation.name": "task_success",
                "gen_ai.evaluation.score.label": "pass" if ok else "fail",
                "gen_ai.evaluation.score.value": 1.0 if ok else 0.0,
                "gen_ai.evaluation.explanation": "tests pass" if ok else "tests still failing",
            }
            batch.logs.append(
                p.log((trace, root), at + NS_PER_S, "gen_ai.evaluation.result", attrs)
            )
        self._to_evaluate.clear()

    def runaway(self, key: str, now: datetime) -> None:
        """A Claude Code session that loops: 15 calm minutes, then a burst of Opus calls."""
        batch, r = self._batch(key, "claude-code"), self.rng
        session = f"runaway-{r.getrandbits(48):012x}"
        trace, root = self._id(16), self._id(8)
        t0 = int((now - timedelta(minutes=17)).timestamp()) // 60 * 60 * NS_PER_S
        for minute in range(15):  # about $0.10 a minute
            t = t0 + minute * 60 * NS_PER_S
            u = Usage("claude-sonnet-4-5", 2000, 20_000, 1000, 800)
            p_ids = (trace, self._id(8), root)
            batch.spans.append(p.claude_call(p_ids, (t, t + 20 * NS_PER_S), u, session))
        burst = t0 + 16 * 60 * NS_PER_S
        for i in range(45):  # the loop: ~$15 in one minute
            t = burst + i * NS_PER_S
            u = Usage("claude-opus-4-1", 3000, 150_000, 4000, 1500)
            batch.spans.append(
                p.claude_call((trace, self._id(8), root), (t, t + NS_PER_S), u, session)
            )
        attrs = {"session.id": session, "interaction.sequence": 1}
        batch.spans.append(
            p.span(
                (trace, root, b""), "claude_code.interaction", (t0, burst + 46 * NS_PER_S), attrs
            )
        )  # noqa: E501

    def encode_spans(self, batch: Batch) -> bytes:
        """The batch's spans as one export request."""
        return p.encode_traces(batch.agent, batch.spans)

    def encode_logs(self, batch: Batch) -> bytes:
        """The batch's logs as one export request."""
        return p.encode_logs(batch.agent, batch.logs)
