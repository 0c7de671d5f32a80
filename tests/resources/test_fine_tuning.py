"""``client.fine_tuning.jobs``: create, retrieve, list, events, checkpoints, cancel,
pause and resume, through the embedded server (whose jobs move on a test's clock)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
import trio
import trio.testing

import trio_openai
from trio_openai.testing import open_mock_server
from trio_openai.types.fine_tuning import FineTuningJobCheckpoint, FineTuningJobEvent

if TYPE_CHECKING:
    from trio_openai.testing import MockOpenAIServer

EXAMPLES = b"".join(
    json.dumps(
        {"messages": [{"role": "user", "content": f"Q{i}"}, {"role": "assistant", "content": "A"}]}
    ).encode()
    + b"\n"
    for i in range(10)
)


async def test_fine_tuning_job_round_trip(
    server: MockOpenAIServer, client: trio_openai.Client
) -> None:
    training = await client.files.create(file=("train.jsonl", EXAMPLES), purpose="fine-tune")
    jobs = client.fine_tuning.jobs
    job = await jobs.create(
        model="gpt-4o-mini-2024-07-18",
        training_file=training.id,
        suffix="pets",
        method={"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 2}}},
        metadata={"run": "1"},
    )
    assert (job.object, job.status, job.training_file) == (
        "fine_tuning.job",
        "validating_files",
        training.id,
    )
    assert server.requests[-1].json == {
        "model": "gpt-4o-mini-2024-07-18",
        "training_file": training.id,
        "metadata": {"run": "1"},
        "method": {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 2}}},
        "suffix": "pets",
    }
    done = await jobs.retrieve(job.id)  # batch_delay 0: done at once
    assert done.status == "succeeded"
    assert done.fine_tuned_model is not None and done.fine_tuned_model.startswith(
        "ft:gpt-4o-mini-2024-07-18:mock-org:pets:"
    )
    assert done.hyperparameters is not None and done.hyperparameters.n_epochs == 2
    assert done.trained_tokens and done.result_files
    # The new model is served: it lists, and chat accepts it.
    assert (await client.models.retrieve(done.fine_tuned_model)).id == done.fine_tuned_model
    reply = await client.chat.completions.create(
        model=done.fine_tuned_model, messages=[{"role": "user", "content": "hi"}]
    )
    assert reply.model == done.fine_tuned_model

    events = [e async for e in jobs.list_events(job.id, limit=2)]
    assert all(isinstance(e, FineTuningJobEvent) for e in events)
    assert events[0].message == "The job has successfully completed"
    assert events[-1].message.startswith("Validating training file")
    checkpoints = [c async for c in jobs.checkpoints.list(job.id)]
    assert all(isinstance(c, FineTuningJobCheckpoint) for c in checkpoints)
    assert [c.step_number for c in checkpoints] == [20, 10]  # newest first, one per epoch
    assert checkpoints[0].fine_tuned_model_checkpoint.endswith(":ckpt-step-20")

    other = await jobs.create(model="gpt-4o-mini-2024-07-18", training_file=training.id)
    assert [j.id async for j in jobs.list(limit=1)] == [other.id, job.id]
    assert [j.id async for j in jobs.list(metadata={"run": "1"})] == [job.id]
    assert server.requests[-1].query_string == "metadata%5Brun%5D=1"
    with pytest.raises(trio_openai.BadRequestError, match="cannot be cancelled"):
        await jobs.cancel(job.id)


async def test_a_job_moves_with_the_clock_and_pauses(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # each stage: 10 virtual s
    async with (
        open_mock_server(batch_delay=10) as server,
        trio_openai.Client(api_key="sk-test", base_url=server.base_url) as c,
    ):
        jobs = c.fine_tuning.jobs
        training = await c.files.create(file=("t.jsonl", EXAMPLES), purpose="fine-tune")
        job = await jobs.create(model="gpt-4o-mini", training_file=training.id)
        await trio.sleep(10)
        assert (await jobs.retrieve(job.id)).status == "queued"
        await trio.sleep(10)
        assert (await jobs.retrieve(job.id)).status == "running"
        assert (await jobs.pause(job.id)).status == "paused"
        await trio.sleep(100)
        assert (await jobs.retrieve(job.id)).status == "paused"
        assert (await jobs.resume(job.id)).status == "running"
        await trio.sleep(10)
        assert (await jobs.retrieve(job.id)).status == "succeeded"
        other = await jobs.create(model="gpt-4o-mini", training_file=training.id)
        cancelled = await jobs.cancel(other.id)
        assert cancelled.status == "cancelled" and cancelled.finished_at is not None
        await trio.sleep(100)
        assert (await jobs.retrieve(other.id)).status == "cancelled"


async def test_an_invalid_training_file_fails_the_job(client: trio_openai.Client) -> None:
    bad = await client.files.create(file=("t.jsonl", b'{"text": "no"}\n'), purpose="fine-tune")
    job = await client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=bad.id)
    failed = await client.fine_tuning.jobs.retrieve(job.id)
    assert failed.status == "failed"
    assert failed.error is not None
    assert (failed.error.code, failed.error.param) == ("invalid_training_file", "training_file")


async def test_bad_job_arguments_are_refused_before_sending(
    server: MockOpenAIServer, client: trio_openai.Client
) -> None:
    with pytest.raises(trio_openai.ValidationError) as info:
        await client.fine_tuning.jobs.create(
            model="gpt-4o-mini",
            training_file="file-1",
            suffix="x" * 65,
            seed=-1,
            method={"type": "dpo", "dpo": {"hyperparameters": {"beta": 3}}},
        )
    assert {p.field for p in info.value.problems} == {
        "suffix",
        "seed",
        "method.dpo.hyperparameters.beta",
    }
    with pytest.raises(trio_openai.ValidationError, match="fine_tuning_job_id"):
        await client.fine_tuning.jobs.retrieve("")
    assert server.requests == []
    with pytest.raises(trio_openai.NotFoundError, match="model_not_found|does not exist"):
        await client.fine_tuning.jobs.create(model="no-such-model", training_file="file-1")
