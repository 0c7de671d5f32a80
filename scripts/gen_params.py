"""Generate the typed keyword arguments of the endpoint methods from the OpenAPI spec.

Usage (from the repository root; the spec is never copied into the repository)::

    python scripts/gen_params.py [SPEC] [--out DIR]

``SPEC`` defaults to ``$TRIO_OPENAI_REFERENCE/openapi.yaml``; ``DIR`` to
``trio_openai/types/_generated``. It needs pyyaml and ruff (both dev dependencies).
The output is committed; ``tests/typing/test_generated.py`` re-runs this script into
a temporary folder and fails when the committed modules differ, so edit this script
(its tables below), never the generated files.

Theory of operation
-------------------
The tables :data:`KWARGS` and :data:`ALIASES` name the roots: for a JSON-body
endpoint, the request schema of ``(path, method)``, emitted as a ``TypedDict``
named ``<Service><Method>Kwargs`` whose keys are the method's keyword arguments
(``**params: Unpack[ChatCompletionCreateKwargs]`` in ``resources/``); for the
methods that keep explicit parameters (multipart uploads, list queries), single
schemas emitted as named aliases (``FilePurpose``). Everything a root reaches is
emitted once: a named component (``#/components/schemas/X``) under its own name, an
inline object under its parent's name plus the property's (``WebSearchOptions`` of
``CreateChatCompletionRequest`` is ``CreateChatCompletionRequestWebSearchOptions``).
Each root belongs to a module (``chat``, ``responses``...); a component reached from
more than one module goes to ``shared``.

The JSON Schema to Python mapping: objects with properties are ``TypedDict`` s
(``total=False``, required keys ``Required[...]``; every key ``ReadOnly[...]``: the
client never changes the caller's dicts, and read-only keys let any structurally
matching TypedDict through, such as ``trio_openai.types.chat``'s public
``ChatCompletionMessageParam`` whose ``content`` is a ``list``); maps (``additionalProperties``)
are ``dict[str, V]``; free-form objects ``dict[str, object]``; arrays
``Sequence[V]`` (the validator accepts lists and tuples); string enums ``Literal``;
``anyOf``/``oneOf`` unions; ``nullable``/``{"type": "null"}`` add ``None``;
``allOf`` merges the properties of its parts; ``$recursiveRef`` names the enclosing
component. On a ``*Kwargs`` class, every optional key also takes ``NotGiven`` (as
the official SDK's ``param: T | NotGiven = NOT_GIVEN``); the runtime drops it.

Classes come first (their annotations are never evaluated: ``from __future__ import
annotations``), then the aliases in dependency order, so the modules import at run
time without ``typing_extensions``; names used only in annotations are imported
under ``TYPE_CHECKING``. The text is formatted with ``ruff format`` (pinned), so
the output is byte-for-byte reproducible.

Adding a service: add its row to :data:`KWARGS` (JSON bodies) or its enums to
:data:`ALIASES` (explicit parameters), run the script, use the new names in the
method's signature under ``TYPE_CHECKING``, commit both.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "trio_openai" / "types" / "_generated"

Schema = dict[str, Any]
Spec = dict[str, Any]


@dataclass(frozen=True)
class Kwargs:
    """A ``TypedDict`` of a method's keyword arguments: the request body of
    ``method`` ``path`` without the keys in ``exclude`` (those the signature
    declares itself, or that the client does not send), minus those of ``base``
    (a ``Kwargs`` it extends)."""

    module: str
    name: str
    path: str
    method: str
    exclude: tuple[str, ...] = ()
    base: str | None = None
    media: str | None = None  # the request body's media type, when it has several


@dataclass(frozen=True)
class Alias:
    """One schema emitted under ``name`` (a component keeps its own name: ``None``)."""

    module: str
    name: str | None
    locate: Callable[[Spec], Schema]


def body(path: str, method: str, media: str | None = None) -> Callable[[Spec], Schema]:
    def locate(spec: Spec) -> Schema:
        content = spec["paths"][path][method]["requestBody"]["content"]
        (found,) = content.values() if media is None else (content[media],)
        schema: Schema = found["schema"]
        return schema

    return locate


def component(name: str) -> Callable[[Spec], Schema]:
    return lambda spec: {"$ref": f"#/components/schemas/{name}"}


def prop(schema: str, *names: str) -> Callable[[Spec], Schema]:
    """A property of a component; ``"[]"`` steps into an array's items."""

    def locate(spec: Spec) -> Schema:
        node: Schema = spec["components"]["schemas"][schema]
        for name in names:
            node = node["items"] if name == "[]" else node["properties"][name]
        return node

    return locate


def query(path: str, method: str, name: str) -> Callable[[Spec], Schema]:
    def locate(spec: Spec) -> Schema:
        for param in spec["paths"][path][method].get("parameters", ()):
            if param.get("name") == name and param.get("in") == "query":
                schema: Schema = param["schema"]
                return schema
        raise KeyError(f"{method.upper()} {path} has no query parameter {name!r}")

    return locate


# -- the tables -------------------------------------------------------------------------

KWARGS: tuple[Kwargs, ...] = (
    # ``parse`` sets response_format itself; ``create`` adds it.
    Kwargs(
        "chat",
        "ChatCompletionParseKwargs",
        "/chat/completions",
        "post",
        exclude=("stream", "response_format"),
    ),
    Kwargs(
        "chat",
        "ChatCompletionCreateKwargs",
        "/chat/completions",
        "post",
        exclude=("stream",),
        base="ChatCompletionParseKwargs",
    ),
    Kwargs("completions", "CompletionCreateKwargs", "/completions", "post", exclude=("stream",)),
    # ``encoding_format`` picks the return type (an overload each), so it is explicit.
    Kwargs(
        "embeddings",
        "EmbeddingCreateKwargs",
        "/embeddings",
        "post",
        exclude=("encoding_format",),
    ),
    Kwargs("responses", "ResponseCreateKwargs", "/responses", "post", exclude=("stream",)),
    # Image streaming is refused by this client (ValidationError), so not typed.
    Kwargs(
        "images",
        "ImageGenerateKwargs",
        "/images/generations",
        "post",
        exclude=("stream", "partial_images"),
    ),
    Kwargs("moderations", "ModerationCreateKwargs", "/moderations", "post"),
    Kwargs("batches", "BatchCreateKwargs", "/batches", "post"),
    Kwargs("audio", "SpeechCreateKwargs", "/audio/speech", "post"),
    # Multipart: the files are explicit parameters (``FileInput``), so is an edit's prompt.
    Kwargs(
        "images",
        "ImageEditKwargs",
        "/images/edits",
        "post",
        exclude=("image", "mask", "prompt", "stream", "partial_images"),
        media="multipart/form-data",
    ),
    Kwargs(
        "images",
        "ImageCreateVariationKwargs",
        "/images/variations",
        "post",
        exclude=("image",),
    ),
)

ALIASES: tuple[Alias, ...] = (
    Alias("shared", "ListOrder", query("/chat/completions", "get", "order")),
    Alias("shared", None, component("Metadata")),
    Alias("files", "FilePurpose", prop("CreateFileRequest", "purpose")),
    Alias("files", None, component("FileExpirationAfter")),
    Alias("audio", "TranscriptionModel", prop("CreateTranscriptionRequest", "model")),
    Alias("audio", None, component("AudioResponseFormat")),
    Alias("audio", None, component("TranscriptionInclude")),
    Alias(
        "audio",
        "TimestampGranularity",
        prop("CreateTranscriptionRequest", "timestamp_granularities", "[]"),
    ),
    Alias("responses", None, component("IncludeEnum")),
    # ``conversations.create`` / ``conversations.items.create`` take Responses input items.
    Alias("responses", None, component("InputItem")),
    Alias(
        "audio", "TranslationResponseFormat", prop("CreateTranslationRequest", "response_format")
    ),
    Alias("uploads", "UploadPurpose", prop("CreateUploadRequest", "purpose")),
    Alias("vector_stores", None, component("VectorStoreExpirationAfter")),
    Alias("vector_stores", None, component("ChunkingStrategyRequestParam")),
    Alias("vector_stores", None, component("VectorStoreFileAttributes")),
    Alias(
        "vector_stores",
        "VectorStoreSearchFilters",
        prop("VectorStoreSearchRequest", "filters"),
    ),
    Alias(
        "vector_stores",
        "VectorStoreSearchRankingOptions",
        prop("VectorStoreSearchRequest", "ranking_options"),
    ),
    Alias(
        "vector_stores",
        "VectorStoreFileBatchFile",
        prop("CreateVectorStoreFileBatchRequest", "files", "[]"),
    ),
    Alias(
        "vector_stores",
        "VectorStoreFileStatusFilter",
        query("/vector_stores/{vector_store_id}/files", "get", "filter"),
    ),
    Alias(
        "fine_tuning",
        "FineTuningHyperparameters",
        prop("CreateFineTuningJobRequest", "hyperparameters"),
    ),
    Alias(
        "fine_tuning",
        "FineTuningIntegration",
        prop("CreateFineTuningJobRequest", "integrations", "[]"),
    ),
    Alias("fine_tuning", None, component("FineTuneMethod")),
)

# -- rendering ---------------------------------------------------------------------------

_REF = "#/components/schemas/"
_JSON_TYPES = {"string", "integer", "number", "boolean", "array", "object", "null"}
_SCALARS = {"string": "str", "integer": "int", "number": "float", "boolean": "bool"}


def camel(text: str) -> str:
    words = re.split(r"[^0-9A-Za-z]+", text)
    out = "".join(w[:1].upper() + w[1:] for w in words if w)
    return out if out[:1].isalpha() else f"X{out}"


def first_sentence(text: str | None) -> str | None:
    if not text:
        return None
    paragraph = text.strip().split("\n\n")[0].replace("\n", " ").strip()
    match = re.match(r"(.+?[.!?])(\s|$)", paragraph)
    sentence = match.group(1) if match else paragraph
    sentence = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", sentence)  # [text](link) -> text
    sentence = re.sub(r"\s+", " ", sentence)
    return sentence.replace("\\", "\\\\").replace('"""', "'''").strip() or None


@dataclass
class Named:
    """A name to emit: a TypedDict (``fields`` set) or an alias (``alias`` set)."""

    name: str
    module: str
    doc: str | None = None
    fields: list[tuple[str, str, bool]] | None = None  # (key, annotation, required)
    base: str | None = None
    alias: str | None = None
    refs: set[str] = field(default_factory=set)  # generated names it mentions
    kwargs: bool = False  # a method's keyword arguments (its keys are not read-only)


class Generator:
    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.schemas: dict[str, Schema] = spec["components"]["schemas"]
        self.emitted: dict[str, Named] = {}
        self.order: list[str] = []
        self.owner: dict[str, str] = {}  # component -> module
        self.taken: set[str] = set()
        self.component_names = {re.sub(r"[^0-9A-Za-z_]", "", n) for n in self.schemas}

    # -- module assignment ----------------------------------------------------------------

    def reach(self, schema: Any, acc: set[str]) -> set[str]:
        """The components ``schema`` refers to, transitively."""
        if isinstance(schema, dict):
            ref = schema.get("$ref")
            if isinstance(ref, str) and ref.startswith(_REF):
                name = ref[len(_REF) :]
                if name not in acc:
                    acc.add(name)
                    self.reach(self.schemas[name], acc)
            for value in schema.values():
                self.reach(value, acc)
        elif isinstance(schema, list):
            for value in schema:
                self.reach(value, acc)
        return acc

    def assign(self, roots: list[tuple[str, Schema]]) -> None:
        users: dict[str, set[str]] = {}
        for module, schema in roots:
            for name in self.reach(schema, set()):
                users.setdefault(name, set()).add(module)
        for name, modules in users.items():
            self.owner[name] = next(iter(modules)) if len(modules) == 1 else "shared"

    # -- schema helpers ---------------------------------------------------------------------

    def deref(self, schema: Schema) -> Schema:
        while "$ref" in schema:
            schema = self.schemas[schema["$ref"][len(_REF) :]]
        return schema

    def merged(self, schema: Schema) -> tuple[dict[str, Schema], set[str]]:
        """Properties and required keys of an object schema, ``allOf`` parts merged
        in order (a later part's property replaces an earlier one's)."""
        schema = self.deref(schema)
        props: dict[str, Schema] = {}
        required: set[str] = set()
        for part in schema.get("allOf", ()):
            p, r = self.merged(part)
            props.update(p)
            required |= r
        props.update(schema.get("properties", {}))
        required |= set(schema.get("required", ()))
        return props, required

    def is_object(self, schema: Schema) -> bool:
        schema = self.deref(schema)
        return bool(schema.get("properties")) or (
            "allOf" in schema and all(self.is_object(part) for part in schema["allOf"])
        )

    def fresh(self, name: str) -> str:
        """``name`` for an inline object, unless a component or another object has it
        (an alias component's own object, ``Prompt = PromptObject | None``)."""
        candidates = [name, f"{name}Object", *(f"{name}Object{n}" for n in range(2, 100))]
        for candidate in candidates:
            if candidate not in self.taken and candidate not in self.component_names:
                self.taken.add(candidate)
                return candidate
        raise SystemExit(f"no free name for {name}")

    # -- emission -----------------------------------------------------------------------------

    def pyname(self, name: str) -> str:
        """The Python name of component ``name`` (``Error-2`` is ``Error2``)."""
        found = re.sub(r"[^0-9A-Za-z_]", "", name)
        if found != name and found in self.schemas:
            raise SystemExit(f"component {name!r} would be written as {found!r}, which exists")
        return found

    def component(self, ref: str) -> str:
        """Emit component ``ref`` (once); return the name to write."""
        name = self.pyname(ref)
        if name in self.emitted or name in self.taken:
            return name
        self.taken.add(name)
        module = self.owner[ref]
        schema = self.schemas[ref]
        named = Named(name, module, doc=first_sentence(schema.get("description")))
        self.emitted[name] = named
        if self.is_object(schema):
            self.fill_class(named, schema, name, required_marks=True)
        else:
            named.alias = self.render(schema, name, module, name, named.refs)
        self.order.append(name)
        return name

    def fill_class(
        self,
        named: Named,
        schema: Schema,
        recursive: str,
        *,
        required_marks: bool,
        exclude: tuple[str, ...] = (),
        not_given: bool = False,
        skip: set[str] | None = None,
    ) -> None:
        props, required = self.merged(schema)
        fields: list[tuple[str, str, bool]] = []
        for key, sub in props.items():
            if key in exclude or (skip and key in skip):
                continue
            if not key.isidentifier():
                raise SystemExit(f"{named.name}: property {key!r} is not an identifier")
            hint = (recursive if not_given else named.name) + camel(key)
            annotation = self.render(sub, hint, named.module, recursive, named.refs)
            is_required = key in required
            if not_given and not is_required:
                annotation = self.union([annotation, "NotGiven"], {})
            fields.append((key, annotation, is_required and required_marks))
        named.fields = sorted(fields, key=lambda f: f[0] not in required)

    def render(self, schema: Any, hint: str, module: str, recursive: str, refs: set[str]) -> str:
        """The annotation of ``schema``; inline objects are emitted as ``hint``."""
        if not isinstance(schema, dict) or not schema:
            return "object"
        if "$ref" in schema:
            name = self.component(schema["$ref"][len(_REF) :])
            refs.add(name)
            return self.nullable(name, schema)
        if "$recursiveRef" in schema:
            refs.add(recursive)
            return recursive
        if "const" in schema:
            return self.nullable(f"Literal[{self.literal(schema['const'])}]", schema)
        if "enum" in schema:
            values = [v for v in schema["enum"] if v is not None]
            text = f"Literal[{', '.join(self.literal(v) for v in values)}]"
            return self.union([text, "None"] if None in schema["enum"] else [text], schema)
        if schema.get("properties") or ("allOf" in schema and self.is_object(schema)):
            name = self.fresh(hint)
            named = Named(name, module, doc=first_sentence(schema.get("description")))
            self.emitted[name] = named
            self.fill_class(named, schema, recursive, required_marks=True)
            self.order.append(name)
            refs.add(name)
            return self.nullable(name, schema)
        variants = schema.get("anyOf") or schema.get("oneOf")
        if variants:
            alone = sum(not _is_null(v) for v in variants) == 1
            parts = [
                self.render(
                    v, hint if alone else self.variant_hint(hint, v, i), module, recursive, refs
                )
                for i, v in enumerate(variants)
            ]
            return self.union(parts, schema)
        if "allOf" in schema:
            parts = schema["allOf"]
            if len(parts) == 1:
                return self.nullable(self.render(parts[0], hint, module, recursive, refs), schema)
            raise SystemExit(f"{hint}: allOf of non-objects is not supported")
        kinds = schema.get("type")
        if isinstance(kinds, list):
            parts = [
                self.render({**schema, "type": k}, hint, module, recursive, refs) for k in kinds
            ]
            return self.union(parts, schema)
        if kinds in _SCALARS:
            if kinds == "string" and schema.get("format") == "binary":
                return self.nullable("FileInput", schema)
            return self.nullable(_SCALARS[kinds], schema)
        if kinds == "null":
            return "None"
        if kinds == "array":
            item = self.render(schema.get("items", {}), hint + "Item", module, recursive, refs)
            return self.nullable(f"Sequence[{item}]", schema)
        if kinds == "object" or kinds is None:
            extra = schema.get("additionalProperties")
            if isinstance(extra, dict) and extra:
                value = self.render(extra, hint + "Value", module, recursive, refs)
                return self.nullable(f"dict[str, {value}]", schema)
            return self.nullable("dict[str, object]", schema)
        raise SystemExit(f"{hint}: unsupported schema {schema!r}")

    def variant_hint(self, hint: str, variant: Any, index: int) -> str:
        if not isinstance(variant, dict):
            return f"{hint}Variant{index}"
        title = variant.get("title")
        if isinstance(title, str) and title.strip().lower() not in _JSON_TYPES:
            return hint + camel(title)
        for sub in variant.get("properties", {}).values():
            values = sub.get("enum") if isinstance(sub, dict) else None
            if isinstance(values, list) and len(values) == 1 and isinstance(values[0], str):
                return hint + camel(values[0])
        return f"{hint}Variant{index}"

    @staticmethod
    def literal(value: object) -> str:
        if isinstance(value, str):
            return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if isinstance(value, int):  # bool too
            return repr(value)
        raise SystemExit(f"unsupported enum value {value!r}")

    def nullable(self, text: str, schema: Schema) -> str:
        return f"{text} | None" if schema.get("nullable") is True else text

    def union(self, parts: list[str], schema: Schema) -> str:
        flat: list[str] = []
        for part in parts:
            for piece in split_union(part):
                if piece not in flat:
                    flat.append(piece)
        if schema.get("nullable") is True and "None" not in flat:
            flat.append("None")
        if "None" in flat:  # None last, as people write it
            flat.remove("None")
            flat.append("None")
        return " | ".join(flat)

    # -- roots ----------------------------------------------------------------------------------

    def kwargs(self, spec_row: Kwargs) -> None:
        schema = body(spec_row.path, spec_row.method, spec_row.media)(self.spec)
        self.taken.add(spec_row.name)
        named = Named(
            spec_row.name,
            spec_row.module,
            doc=f"The keyword arguments of ``{spec_row.method.upper()} {spec_row.path}``.",
            base=spec_row.base,
            kwargs=True,
        )
        skip: set[str] = set()
        if spec_row.base:
            skip = {key for key, _, _ in self.emitted[spec_row.base].fields or ()}
            named.refs.add(spec_row.base)
        recursive = self.pyname(schema["$ref"][len(_REF) :]) if "$ref" in schema else spec_row.name
        self.emitted[spec_row.name] = named
        self.fill_class(
            named,
            schema,
            recursive,
            required_marks=True,
            exclude=spec_row.exclude,
            not_given=True,
            skip=skip,
        )
        self.order.append(spec_row.name)

    def alias(self, row: Alias) -> None:
        schema = row.locate(self.spec)
        if row.name is None:
            self.component(schema["$ref"][len(_REF) :])
            return
        self.taken.add(row.name)
        named = Named(row.name, row.module, doc=first_sentence(schema.get("description")))
        self.emitted[row.name] = named
        named.alias = self.render(schema, row.name, row.module, row.name, named.refs)
        self.order.append(row.name)

    def run(self) -> dict[str, str]:
        roots = [(k.module, body(k.path, k.method, k.media)(self.spec)) for k in KWARGS]
        roots += [(a.module, a.locate(self.spec)) for a in ALIASES]
        self.assign(roots)
        for k in KWARGS:
            self.kwargs(k)
        for a in ALIASES:
            self.alias(a)
        modules = sorted({n.module for n in self.emitted.values()})
        return {module: self.module_text(module) for module in modules}

    # -- module text -------------------------------------------------------------------------------

    def module_text(self, module: str) -> str:
        names = [self.emitted[n] for n in self.order if self.emitted[n].module == module]
        classes = [n for n in names if n.fields is not None]
        aliases = self.alias_order([n for n in names if n.alias is not None])
        runtime: set[str] = set()  # other modules' names needed at import time
        typing_only: set[str] = set()
        for n in aliases:
            runtime |= {r for r in n.refs if self.emitted[r].module != module}
        for n in classes:
            typing_only |= {r for r in n.refs if self.emitted[r].module != module}
            if n.base and self.emitted[n.base].module != module:
                runtime.add(n.base)
        typing_only -= runtime
        body_text = "\n\n".join(
            [self.class_text(n) for n in classes] + [self.alias_text(n) for n in aliases]
        )
        alias_text = "\n".join(n.alias or "" for n in aliases)
        class_text = "\n".join(a for n in classes for _, a, _ in n.fields or ())
        typing_names = ["Literal"] if "Literal[" in alias_text else []
        if aliases:
            typing_names.append("TypeAlias")
        if typing_only or classes:
            typing_names.insert(0, "TYPE_CHECKING")
        if classes:
            typing_names.append("TypedDict")
        if "Literal[" in class_text and "Literal" not in typing_names:
            typing_names.append("Literal")
        typing_names.sort(key=lambda s: (s != "TYPE_CHECKING", s))
        lines = [
            f'"""{MODULE_DOCS.get(module, "Generated request types.")}',
            "",
            "Generated by ``scripts/gen_params.py`` from the OpenAPI spec: do not edit.",
            '"""',
            "",
            "from __future__ import annotations",
            "",
        ]
        stdlib: list[str] = []
        if "Sequence[" in body_text:
            stdlib.append("from collections.abc import Sequence")
        stdlib.append(f"from typing import {', '.join(typing_names)}")
        lines += stdlib
        if runtime:
            lines += ["", *self.import_lines(runtime, module)]
        checking: list[str] = []
        extensions = []
        if any(n.fields and not n.kwargs for n in classes):
            extensions.append("ReadOnly")
        if any(req for n in classes for _, _, req in n.fields or ()):
            extensions.append("Required")
        if extensions:
            checking.append(f"from typing_extensions import {', '.join(extensions)}")
        firsts: list[str] = []
        if "NotGiven" in class_text:
            firsts.append("from ..._types import NotGiven")
        if re.search(r"\bFileInput\b", body_text):
            firsts.append("from ..._multipart import FileInput")
        firsts += self.import_lines(typing_only, module)
        if checking or firsts:
            lines += ["", "if TYPE_CHECKING:"]
            lines += [f"    {line}" for line in checking]
            if checking and firsts:
                lines.append("")
            lines += [f"    {line}" for line in sorted(firsts, key=import_key)]
        exported = sorted(n.name for n in names if not n.name.startswith("_"))
        lines += ["", "__all__ = [", *[f'    "{name}",' for name in exported], "]", ""]
        return "\n".join(lines) + "\n\n" + body_text + "\n"

    def import_lines(self, names: set[str], module: str) -> list[str]:
        by_module: dict[str, list[str]] = {}
        for name in names:
            by_module.setdefault(self.emitted[name].module, []).append(name)
        return [
            f"from .{other} import {', '.join(sorted(found))}"
            for other, found in sorted(by_module.items())
        ]

    def alias_order(self, aliases: list[Named]) -> list[Named]:
        """Aliases after the aliases they mention (their right side runs at import)."""
        by_name = {n.name: n for n in aliases}
        done: list[Named] = []
        seen: set[str] = set()

        def visit(n: Named, stack: tuple[str, ...]) -> None:
            if n.name in seen:
                return
            if n.name in stack:
                raise SystemExit(f"alias cycle: {' -> '.join((*stack, n.name))}")
            for ref in sorted(n.refs):
                if ref in by_name:
                    visit(by_name[ref], (*stack, n.name))
            seen.add(n.name)
            done.append(n)

        for n in aliases:
            visit(n, ())
        return done

    @staticmethod
    def doc_lines(doc: str | None, indent: str) -> list[str]:
        if not doc:
            return []
        wrapped = textwrap.wrap(doc, width=92 - len(indent), break_on_hyphens=False)
        if len(wrapped) == 1:
            return [f'{indent}"""{wrapped[0]}"""']
        return [f'{indent}"""{wrapped[0]}', *(indent + w for w in wrapped[1:]), f'{indent}"""']

    def class_text(self, n: Named) -> str:
        base = n.base or "TypedDict"
        lines = [f"class {n.name}({base}, total=False):"]
        lines += self.doc_lines(n.doc, "    ")
        if n.doc and n.fields:
            lines.append("")
        for key, annotation, required in n.fields or ():
            if not n.kwargs:
                annotation = f"ReadOnly[{annotation}]"
            lines.append(f"    {key}: {f'Required[{annotation}]' if required else annotation}")
        if not n.doc and not n.fields:
            lines.append("    pass")
        return "\n".join(lines) + "\n"

    def alias_text(self, n: Named) -> str:
        lines = [f"{n.name}: TypeAlias = {n.alias}"]
        lines += self.doc_lines(n.doc, "")
        return "\n".join(lines) + "\n"


def _is_null(schema: object) -> bool:
    return isinstance(schema, dict) and schema.get("type") == "null"


def split_union(text: str) -> Iterator[str]:
    """The top-level ``|`` members of an annotation."""
    depth, start = 0, 0
    in_string = False
    for i, ch in enumerate(text):
        if ch == '"' and (i == 0 or text[i - 1] != "\\"):
            in_string = not in_string
        elif in_string:
            continue
        elif ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        elif ch == "|" and depth == 0:
            yield text[start:i].strip()
            start = i + 1
    yield text[start:].strip()


def import_key(line: str) -> tuple[int, str]:
    # ruff's isort order: parents (``...``) before siblings (``.``)
    module = line.split()[1]
    return (-(len(module) - len(module.lstrip("."))), module)


MODULE_DOCS = {
    "shared": "Request types used by more than one service.",
    "chat": "The keyword arguments of ``client.chat.completions`` (``create``, ``parse``).",
    "completions": "The keyword arguments of ``client.completions.create``.",
    "embeddings": "The keyword arguments of ``client.embeddings.create``.",
    "responses": "The keyword arguments of ``client.responses.create``, and the input,"
    "\ntool and option shapes it takes.",
    "images": "The keyword arguments of ``client.images`` (``generate``, ``edit``,"
    "\n``create_variation``).",
    "moderations": "The keyword arguments of ``client.moderations.create``.",
    "batches": "The keyword arguments of ``client.batches.create``.",
    "audio": "The arguments of ``client.audio`` (``speech``, ``transcriptions``,"
    "\n``translations``).",
    "files": "The arguments of ``client.files.create``.",
    "uploads": "The arguments of ``client.uploads.create``.",
    "vector_stores": "The arguments of ``client.vector_stores`` (with ``files``,"
    "\n``file_batches`` and ``search``).",
    "fine_tuning": "The arguments of ``client.fine_tuning.jobs.create``.",
}

INIT_DOC = '''"""Request types generated from the OpenAPI spec, for type checkers.

One module per service (``chat``, ``responses``...) and ``shared`` for what several
use. The endpoint methods in :mod:`trio_openai.resources` name them under
``TYPE_CHECKING`` only (``**params: Unpack[ChatCompletionCreateKwargs]``), so importing
the client never loads them; the runtime validator (the request Structs in
:mod:`trio_openai.types`) checks the values.

Generated by ``scripts/gen_params.py`` from the OpenAPI spec: do not edit. Rerun it
with ``python scripts/gen_params.py [path/to/openapi.yaml]``.
"""
'''


def ruff_format(folder: Path) -> None:
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        raise SystemExit("ruff is needed to format the output (pip install ruff)")
    config = str(REPO / "pyproject.toml")
    subprocess.run(
        [ruff, "check", "--quiet", "--fix", "--select", "I", "--config", config, str(folder)],
        check=True,
    )
    subprocess.run([ruff, "format", "--quiet", "--config", config, str(folder)], check=True)


def load_spec(path: Path) -> Spec:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open("rb") as f:
        spec: Spec = yaml.load(f, Loader=loader)
    return spec


def generate(spec_path: Path, out: Path) -> list[Path]:
    """Write the modules into ``out`` (created; stale ``.py`` files removed)."""
    texts = Generator(load_spec(spec_path)).run()
    with tempfile.TemporaryDirectory() as tmp:
        staging = Path(tmp)
        (staging / "__init__.py").write_text(INIT_DOC)
        for module, text in texts.items():
            (staging / f"{module}.py").write_text(text)
        ruff_format(staging)
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for old in out.glob("*.py"):
            if not (staging / old.name).exists():
                old.unlink()
        for new in sorted(staging.glob("*.py")):
            target = out / new.name
            target.write_bytes(new.read_bytes())
            written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    reference = os.environ.get("TRIO_OPENAI_REFERENCE")
    parser.add_argument(
        "spec",
        nargs="?",
        type=Path,
        default=Path(reference) / "openapi.yaml" if reference else None,
        help="openapi.yaml (default: $TRIO_OPENAI_REFERENCE/openapi.yaml)",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    args = parser.parse_args(argv)
    if args.spec is None:
        parser.error("give the spec's path or set TRIO_OPENAI_REFERENCE")
    for path in generate(args.spec, args.out):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
