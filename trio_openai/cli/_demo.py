"""``trio-openai demo``: a guided tour of the client, against a real API or the embedded one.

Without ``OPENAI_API_KEY`` the embedded OpenAI-compatible server starts in-process,
with simulated rate limits and injected faults, so the tour needs no network and no
key. With a key (and optionally ``--base-url`` / ``--model``) the same tour runs
against that server, cheaply (few, short requests).

The tour: one completion; a streamed answer printed as it arrives; many concurrent
requests under a bounded limit that complete despite injected 429s and 500s (retries
visible in the metrics); a stream cancelled midway with the connection pool shown
clean; a failing endpoint that opens the circuit breaker; and a Realtime session
over a WebSocket whose text deltas round-trip (the last two against the embedded
server only: they inject failures, and a Realtime session costs audio-model prices).

Text from the server (completions, request ids, error messages) is printed through
:func:`~trio_openai.jobs._terminal.printable` and never read as ``rich`` markup, so a
server cannot drive the terminal.
"""

from __future__ import annotations

import os
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any

import trio

import trio_openai
from trio_openai import BreakerPolicy, Client
from trio_openai.jobs._terminal import printable

if TYPE_CHECKING:
    import argparse

    from rich.console import Console

__all__ = ["run_demo"]

PROMPT = "In one sentence: why does structured concurrency make cancellation safe?"


def _faults() -> Any:
    from trio_openai.testing._faults import Fault, FaultPlan, FaultRule, Schedule

    return FaultPlan(
        [
            FaultRule(
                Fault.status(500),
                path="/chat/completions",
                match=lambda r: _tagged(r, "batch"),
                when=Schedule.random(0.1, seed=7),
            ),
            FaultRule(
                Fault.status(429, retry_after_ms=200, error_code="rate_limit_exceeded"),
                path="/chat/completions",
                match=lambda r: _tagged(r, "batch"),
                when=Schedule.every(15),
            ),
            FaultRule(Fault.status(503), path="/embeddings"),
        ]
    )


def _tagged(record: Any, tag: str) -> bool:
    body = getattr(record, "json", None)
    return isinstance(body, dict) and body.get("user") == tag


async def _tour(args: argparse.Namespace, console: Console) -> int:
    from rich.markup import escape
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    key = os.environ.get("OPENAI_API_KEY")
    embedded = not key
    base_url: str | None
    api_key: str | None
    async with AsyncExitStack() as stack:
        if embedded:
            from trio_openai.testing import open_mock_server

            server = await stack.enter_async_context(
                open_mock_server(
                    faults=_faults(),
                    rate_limits={"rpm": 6000, "tpm": 2_000_000},
                    stream_interval=0.03,
                    api_key="sk-demo",
                    record_requests=False,
                )
            )
            base_url, api_key = server.base_url, "sk-demo"
            console.print(
                f"[bold]No OPENAI_API_KEY:[/bold] running against the embedded server at "
                f"{base_url} (rate limited to 6000 req/min, 10% injected 500s, some 429s)."
            )
        else:
            base_url = args.base_url or os.environ.get("OPENAI_BASE_URL") or None
            api_key = key
            console.print(
                "[bold]Using OPENAI_API_KEY[/bold] against "
                + escape(printable(base_url or "api.openai.com"))
            )
        model = args.model
        concurrent = args.requests if embedded else min(args.requests, 10)
        client = await stack.enter_async_context(
            Client(
                api_key=api_key,
                base_url=base_url,
                max_retries=4,
                # the library default: step 3's injected 500s (10%) do not open it
                breaker=BreakerPolicy(),
            )
        )
        cheap: dict[str, Any] = {"max_completion_tokens": 60}

        console.rule("1. A completion")
        completion = await client.chat.completions.create(
            model=model, messages=[{"role": "user", "content": PROMPT}], **cheap
        )
        console.print(
            printable(completion.choices[0].message.content, multiline=True), markup=False
        )
        usage = completion.usage
        console.print(
            f"[dim]request id {escape(printable(completion.request_id))}; "
            f"{usage.total_tokens if usage else '?'} tokens[/dim]"
        )

        console.rule("2. A streamed answer, printed as it arrives")
        async with client.chat.completions.stream(
            model=model,
            messages=[{"role": "user", "content": "Count from one to ten in words."}],
            stream_options={"include_usage": True},
            **cheap,
        ) as stream:
            async for text in stream.text_deltas():
                console.print(printable(text, multiline=True), end="", soft_wrap=True, markup=False)
            final = await stream.get_final_completion()
        console.print(f"\n[dim]{len(final.choices[0].message.content or '')} characters[/dim]")

        console.rule(f"3. {concurrent} concurrent requests, at most 32 at a time")
        limiter = trio.CapacityLimiter(32)
        failures: list[BaseException] = []
        with Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        ) as progress:
            task = progress.add_task("requests", total=concurrent)

            async def one(i: int) -> None:
                async with limiter:
                    try:
                        await client.chat.completions.create(
                            model=model,
                            messages=[{"role": "user", "content": f"Say the number {i}."}],
                            user="batch",
                            **cheap,
                        )
                    except trio_openai.APIError as exc:
                        failures.append(exc)
                progress.advance(task)

            async with trio.open_nursery() as nursery:
                for i in range(concurrent):
                    nursery.start_soon(one, i)
        snap = client.metrics
        table = Table(title="client.metrics", show_header=False)
        table.add_row("requests", str(snap.requests))
        table.add_row("succeeded / failed", f"{snap.successes} / {snap.failures}")
        table.add_row(
            "attempts (requests + retries)", f"{snap.attempts} = {snap.requests} + {snap.retries}"
        )
        table.add_row(
            "retries by reason",
            ", ".join(f"{k}: {v}" for k, v in sorted(snap.retries_by_reason.items())) or "none",
        )
        table.add_row(
            "latency p50 / p99 (upper bounds)",
            f"{snap.latency_quantile(0.5):g} s / {snap.latency_quantile(0.99):g} s",
        )
        table.add_row("tokens in / out", f"{snap.tokens_in} / {snap.tokens_out}")
        table.add_row("rate-limit waits (summed)", f"{snap.rate_limit_wait:.2f} s")
        table.add_row(
            "breakers",
            ", ".join(f"{origin}: {b.state.value}" for origin, b in snap.breakers.items())
            or "none",
        )
        table.add_row(
            "pool", f"open {snap.pool.open}, idle {snap.pool.idle}, borrowed {snap.pool.borrowed}"
        )
        console.print(table)
        if failures:
            console.print(f"[yellow]{len(failures)} request(s) failed after retries[/yellow]")

        console.rule("4. A stream cancelled midway")
        received = 0
        with trio.move_on_after(0.25 if embedded else 1.0):
            chunks = await client.chat.completions.create(
                model=model,
                messages=[{"role": "user", "content": "Tell a long story about a river."}],
                stream=True,
                max_completion_tokens=400,
            )
            async with chunks:
                async for _ in chunks:
                    received += 1
        pool = client.pool.statistics()
        clean = pool.borrowed == 0 and pool.open == pool.idle
        console.print(
            f"cancelled after {received} chunks; pool: borrowed {pool.borrowed}, open "
            f"{pool.open}, idle {pool.idle} -> "
            + ("[green]clean[/green]" if clean else "[red]NOT clean[/red]")
        )

        ok = clean and completion.choices and not (embedded and failures)
        if embedded:
            console.rule("5. A failing endpoint opens the circuit breaker")
            console.print("[dim]a second client: breaker opens at 60% of 5 calls failed[/dim]")
            strict = await stack.enter_async_context(
                Client(
                    api_key=api_key,
                    base_url=base_url,
                    max_retries=0,
                    breaker=BreakerPolicy(minimum_calls=5, window_size=5),
                )
            )
            outcomes: list[str] = []
            for _ in range(7):
                try:
                    await strict.embeddings.create(model="text-embedding-3-small", input="x")
                    outcomes.append("ok")
                except trio_openai.CircuitOpenError as exc:
                    outcomes.append(f"fast-fail (next probe in {exc.retry_in:.0f} s)")
                except trio_openai.InternalServerError:
                    outcomes.append("503")
            for i, text in enumerate(outcomes, 1):
                console.print(f"  call {i}: {text}")
            ok = ok and outcomes[-1].startswith("fast-fail")
            console.rule("6. A Realtime session over a WebSocket")
            ok = await realtime_round_trip(client, console) and ok
        console.rule("done" if ok else "done, with problems")
    return 0 if ok else 1


async def realtime_round_trip(client: Client, console: Console) -> bool:
    """Step 6: a Realtime session: a text turn round-trips, printed as it arrives.

    Returns whether the deltas added up to the final text of ``response.done``.
    """
    from trio_openai.types import realtime as rt

    deltas: list[str] = []
    final = ""
    async with client.realtime.connect(model="gpt-realtime") as conn:
        await conn.session.update(session={"type": "realtime", "output_modalities": ["text"]})
        await conn.conversation.item.create(
            item={
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "Say hello over a WebSocket."}],
            }
        )
        await conn.response.create()
        async for event in conn:
            if isinstance(event, rt.ResponseTextDeltaEvent):
                deltas.append(event.delta)
                console.print(printable(event.delta), end="", soft_wrap=True, markup=False)
            elif isinstance(event, rt.RealtimeErrorEvent):
                console.print(f"\nerror event: {printable(event.error.message)}", markup=False)
                return False
            elif isinstance(event, rt.ResponseDoneEvent):
                final = event.response.output_text
                usage = event.response.usage
                tokens = usage.total_tokens if usage is not None else "?"
                console.print(
                    f"\n[dim]{len(deltas)} deltas over {printable(conn.url)}; "
                    f"{tokens} tokens; closed cleanly on leaving[/dim]"
                )
                break
    return bool(deltas) and "".join(deltas) == final


def run_demo(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.markup import escape

    console = Console(highlight=False)
    try:
        return trio.run(_tour, args, console)
    except trio_openai.OpenAIError as exc:
        console.print("[red]demo failed:[/red] " + escape(printable(exc, multiline=True)))
        return 1
    except KeyboardInterrupt:
        return 130
