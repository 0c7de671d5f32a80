"""The endpoint methods' typed signatures, checked by mypy and against the runtime.

* ``mypy --strict`` accepts every call in ``good_calls.py`` and rejects each call in
  :data:`BAD_CALLS`, on exactly its own line (one mypy run for both files, in a
  temporary folder, with this repository's package first on mypy's path).
* The good calls run against the embedded server: what the signatures accept, the
  client sends and the server answers.
* Each generated ``*Kwargs`` TypedDict names exactly the fields of the request
  Struct the runtime validator checks (minus the keys the method takes itself), so
  the typed signatures and the validator cannot drift apart.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, get_args

import pytest

from trio_openai.types._generated import (
    audio,
    batches,
    chat,
    completions,
    embeddings,
    images,
    moderations,
    responses,
)
from trio_openai.types.audio import SpeechCreateParams
from trio_openai.types.batches import BatchCreateParams
from trio_openai.types.chat import ChatCompletionCreateParams
from trio_openai.types.completions import CompletionCreateParams
from trio_openai.types.embeddings import EmbeddingCreateParams
from trio_openai.types.images import ImageGenerateParams
from trio_openai.types.moderations import ModerationCreateParams
from trio_openai.types.responses import ResponseCreateParams

if TYPE_CHECKING:
    import msgspec

    import trio_openai

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent

_FT = "await client.fine_tuning.jobs.create(model='m', training_file='f', "

# (what is wrong, one statement inside ``async def bad(client)``)
BAD_CALLS: list[tuple[str, str]] = [
    ("a misspelt keyword", "await chat(model='gpt-4o', messages=MSGS, temprature=0.3)"),
    ("model not a str", "await chat(model=5, messages=MSGS)"),
    ("messages a str", "await chat(model='gpt-4o', messages='hi')"),
    ("an unknown enum value", "await chat(model='o3', messages=MSGS, reasoning_effort='extreme')"),
    (
        "a stream used as a completion",
        "c: ChatCompletion = await chat(model='gpt-4o', messages=MSGS, stream=True)",
    ),
    ("a misspelt role", "await chat(model='gpt-4o', messages=[{'role': 'usr', 'content': 'Hi'}])"),
    (
        "a tool without its name",
        "await chat(model='gpt-4o', messages=MSGS, tools=[{'type': 'function', 'function': {}}])",
    ),
    (
        "an unknown response format",
        "await chat(model='gpt-4o', messages=MSGS, response_format={'type': 'json'})",
    ),
    ("temperature a str", "await chat(model='gpt-4o', messages=MSGS, temperature='hot')"),
    ("timeout a str", "await chat(model='gpt-4o', messages=MSGS, timeout='10s')"),
    (
        "a header value not a str",
        "await chat(model='gpt-4o', messages=MSGS, extra_headers={'x': 1})",
    ),
    (
        "stream= given to .stream()",
        "client.chat.completions.stream(model='gpt-4o', messages=MSGS, stream=True)",
    ),
    (
        "parse() given a format that is neither a type nor a dict",
        "await client.chat.completions.parse(model='gpt-4o', messages=MSGS,"
        " response_format='json_object')",
    ),
    ("best_of a str", "await client.completions.create(model='m', prompt='p', best_of='3')"),
    (
        "an unknown encoding",
        "await client.embeddings.create(model='m', input='x', encoding_format='hex')",
    ),
    ("an unknown vectors", "await client.embeddings.create(model='m', input='x', vectors='f64')"),
    (
        "an unknown tool choice",
        "await client.responses.create(model='gpt-4o', input='hi', tool_choice='sometimes')",
    ),
    (
        "an unknown reasoning effort",
        "await client.responses.create(model='o3', input='hi', reasoning={'effort': 'extreme'})",
    ),
    (
        "a stream used as a response",
        "r: Response = await client.responses.create(model='gpt-4o', input='hi', stream=True)",
    ),
    ("an unknown include", "await client.responses.retrieve('resp_1', include=['everything'])"),
    ("n a str", "await client.images.generate(prompt='a cat', n='2')"),
    ("image streaming", "await client.images.generate(prompt='a cat', stream=True)"),
    ("moderation input an int", "await client.moderations.create(input=5)"),
    (
        "an unknown batch endpoint",
        "await client.batches.create(input_file_id='f', endpoint='/v1/nope',"
        " completion_window='24h')",
    ),
    (
        "speed a str",
        "await client.audio.speech.create(model='tts-1', input='hi', voice='alloy', speed='fast')",
    ),
    (
        "text used as a Transcription",
        "t: Transcription = await client.audio.transcriptions.create(file=WAV, model='whisper-1',"
        " response_format='text')",
    ),
    ("an unknown file purpose", "await client.files.create(file=WAV, purpose='training')"),
    ("an unknown list order", "client.files.list(order='up')"),
    ("a misspelt per-call option", "await client.models.retrieve('gpt-4o', timeot=3)"),
    # the previous round's fixes
    (
        "base64 used as floats",
        "e: CreateEmbeddingResponse = await client.embeddings.create(model='m', input='x',"
        " encoding_format='base64')",
    ),
    (
        "float32 vectors with an encoding",
        "await client.embeddings.create(model='m', input='x', vectors='float32',"
        " encoding_format='float')",
    ),
    (
        "stream() given a str format",
        "client.chat.completions.stream(model='gpt-4o', messages=MSGS, response_format='json')",
    ),
    (
        "text_format not a type",
        "await client.responses.parse(model='m', input='hi', text_format=1)",
    ),
    (
        "a public input item with an unknown role",
        "item: ResponseInputItemParam = {'role': 'robot', 'content': 'hi'}",
    ),
    # uploads
    (
        "an unknown upload purpose",
        "await client.uploads.create(bytes=1, filename='f', mime_type='t', purpose='training')",
    ),
    (
        "upload bytes a str",
        "await client.uploads.create(bytes='1', filename='f', mime_type='t', purpose='batch')",
    ),
    ("a misspelt upload keyword", "await client.uploads.complete('u', part_ids=['p'], md_5='x')"),
    # vector stores
    (
        "an unknown chunking strategy",
        "await client.vector_stores.create(chunking_strategy={'type': 'semantic'})",
    ),
    (
        "an unknown expiry anchor",
        "await client.vector_stores.create(expires_after={'anchor': 'created_at', 'days': 1})",
    ),
    (
        "a search filter with an unknown operator",
        "client.vector_stores.search('vs', query='q',"
        " filters={'type': 'like', 'key': 'k', 'value': 'v'})",
    ),
    ("an unknown file status filter", "client.vector_stores.files.list('vs', filter='done')"),
    (
        "a misspelt vector store file keyword",
        "await client.vector_stores.files.create('vs', file_id='f', chunking='auto')",
    ),
    (
        "file attributes a list",
        "await client.vector_stores.files.create('vs', file_id='f', attributes=['a'])",
    ),
    (
        "a batch file without its id",
        "await client.vector_stores.file_batches.create('vs', files=[{'attributes': {}}])",
    ),
    # fine-tuning
    (
        "an unknown fine-tuning method",
        _FT + "method={'type': 'unsupervised'})",
    ),
    (
        "n_epochs a list",
        _FT + "hyperparameters={'n_epochs': [1]})",
    ),
    ("seed a str", _FT + "seed='7')"),
    ("checkpoints limit a str", "client.fine_tuning.jobs.checkpoints.list('ft', limit='5')"),
    # conversations
    (
        "a conversation item with an unknown role",
        "await client.conversations.create(items=[{'role': 'robot', 'content': 'hi'}])",
    ),
    (
        "an unknown item include",
        "await client.conversations.items.create('c', items=[], include=['everything'])",
    ),
    ("an unknown items order", "client.conversations.items.list('c', order='newest')"),
    # audio translations
    (
        "an unknown translation format",
        "await client.audio.translations.create(file=WAV, model='whisper-1',"
        " response_format='docx')",
    ),
    (
        "text used as a Translation",
        "tr: Translation = await client.audio.translations.create(file=WAV, model='whisper-1',"
        " response_format='text')",
    ),
    (
        "translation temperature a str",
        "await client.audio.translations.create(file=WAV, model='whisper-1', temperature='warm')",
    ),
    # image edits and variations
    ("an unknown edit quality", "await client.images.edit(image=PNG, prompt='p', quality='ultra')"),
    ("edit streaming", "await client.images.edit(image=PNG, prompt='p', stream=True)"),
    ("a misspelt edit keyword", "await client.images.edit(image=PNG, prompt='p', qualty='high')"),
    (
        "an unknown variation size",
        "await client.images.create_variation(image=PNG, size='1024x1792')",
    ),
    ("variation n a str", "await client.images.create_variation(image=PNG, n='2')"),
    # webhooks and realtime
    (
        "webhook tolerance a str",
        "client.webhooks.unwrap(b'{}', {}, secret='s', tolerance='5m')",
    ),
    ("a misspelt webhook keyword", "client.webhooks.verify_signature(b'{}', {}, secrt='s')"),
    ("a misspelt realtime keyword", "client.realtime.connect(modle='gpt-realtime')"),
    (
        "max_queued_events a str",
        "client.realtime.connect(model='m', max_queued_events='16')",
    ),
]

BAD_PRELUDE = """\
from __future__ import annotations

import trio_openai
from trio_openai.types import Transcription
from trio_openai.types.audio import Translation
from trio_openai.types.chat import ChatCompletion, ChatCompletionMessageParam
from trio_openai.types.embeddings import CreateEmbeddingResponse
from trio_openai.types.responses import Response, ResponseInputItemParam

MSGS: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Hi"}]
WAV = ("hi.wav", b"RIFF....WAVEfmt ")
PNG = ("cat.png", b"\\x89PNG")


async def bad(client: trio_openai.Client) -> None:
    chat = client.chat.completions.create
"""

_ERROR = re.compile(r"^(?P<file>[\w.]+\.py):(?P<line>\d+): error: (?P<message>.*)$")


def test_mypy_accepts_good_calls_and_rejects_each_bad_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mypy import api

    shutil.copy(HERE / "good_calls.py", tmp_path / "good_calls.py")
    first = BAD_PRELUDE.count("\n") + 1
    body = "".join(f"    {statement}  # {why}\n" for why, statement in BAD_CALLS)
    (tmp_path / "bad_calls.py").write_text(BAD_PRELUDE + body)
    expected = {first + i: why for i, (why, _) in enumerate(BAD_CALLS)}

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MYPYPATH", str(REPO))  # this checkout, not an installed copy
    stdout, stderr, _ = api.run(
        [
            "--strict",
            "--config-file",
            str(REPO / "pyproject.toml"),
            "--cache-dir",
            str(tmp_path / ".mypy_cache"),
            "--no-error-summary",
            "--hide-error-context",
            "good_calls.py",
            "bad_calls.py",
        ]
    )
    assert stderr == ""
    errors = [m.groupdict() for line in stdout.splitlines() if (m := _ERROR.match(line))]
    assert [e for e in errors if e["file"] != "bad_calls.py"] == [], stdout
    flagged = {int(e["line"]) for e in errors if e["file"] == "bad_calls.py"}
    report = "\n".join(f"{e['file']}:{e['line']}: {e['message'][:160]}" for e in errors)
    missed = {line: why for line, why in expected.items() if line not in flagged}
    assert missed == {}, f"mypy accepted: {missed}\n{report}"
    assert flagged == set(expected), report


async def test_good_calls_run_against_the_embedded_server(client: trio_openai.Client) -> None:
    spec = importlib.util.spec_from_file_location("good_calls", HERE / "good_calls.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    await module.run(client)


# (generated TypedDict, request Struct, keys the method declares itself or refuses)
KWARGS_AND_STRUCTS = [
    (chat.ChatCompletionCreateKwargs, ChatCompletionCreateParams, {"stream"}),
    (chat.ChatCompletionParseKwargs, ChatCompletionCreateParams, {"stream", "response_format"}),
    (completions.CompletionCreateKwargs, CompletionCreateParams, {"stream"}),
    (embeddings.EmbeddingCreateKwargs, EmbeddingCreateParams, {"encoding_format"}),
    (responses.ResponseCreateKwargs, ResponseCreateParams, {"stream"}),
    (images.ImageGenerateKwargs, ImageGenerateParams, {"stream", "partial_images"}),
    (moderations.ModerationCreateKwargs, ModerationCreateParams, set()),
    (batches.BatchCreateKwargs, BatchCreateParams, set()),
    (audio.SpeechCreateKwargs, SpeechCreateParams, set()),
]


@pytest.mark.parametrize(
    ("kwargs", "struct", "own"),
    KWARGS_AND_STRUCTS,
    ids=[kwargs.__name__ for kwargs, _, _ in KWARGS_AND_STRUCTS],
)
def test_typed_keywords_are_the_validated_fields(
    kwargs: type, struct: type[msgspec.Struct], own: set[str]
) -> None:
    typed = set(kwargs.__annotations__)
    assert typed.isdisjoint(own)
    assert typed | own == set(struct.__struct_fields__)


def test_the_client_never_imports_the_generated_types() -> None:
    # They are for type checkers: the services name them under TYPE_CHECKING only.
    code = (
        "import sys, pkgutil, importlib, trio_openai, trio_openai.resources as r\n"
        "for m in pkgutil.walk_packages(r.__path__, 'trio_openai.resources.'):\n"
        "    importlib.import_module(m.name)\n"
        "trio_openai.Client(api_key='sk-test').chat.completions\n"
        "print([m for m in sys.modules if m.startswith('trio_openai.types._generated')])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_typed_enums_of_explicit_parameters_are_the_checked_ones() -> None:
    # Multipart and query parameters keep explicit signatures (their bodies read them
    # by name); their generated Literal types must allow what the run-time checks do.
    from trio_openai.resources.audio import transcriptions as transcriptions_service
    from trio_openai.resources.files import FILE_PURPOSES
    from trio_openai.types._generated import files, shared

    assert set(get_args(files.FilePurpose)) == FILE_PURPOSES
    assert set(get_args(audio.AudioResponseFormat)) == transcriptions_service._FORMATS
    assert set(get_args(audio.TimestampGranularity)) == {"word", "segment"}
    assert set(get_args(shared.ListOrder)) == {"asc", "desc"}
