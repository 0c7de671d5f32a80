"""Deterministic content for the mock server: words, vectors, JSON, images, audio.

Theory of operation: every generated value is a pure function of the server's
``seed`` and of the request (the prompt, the choice index, the schema path), hashed
with BLAKE2b, SHAKE-256 or CRC-32. Same request, same seed, same answer: a test can
assert on content, and a benchmark measures the client, not the generator.

- text: 6 to 17 words from a 64-word vocabulary (:func:`reply_tokens`), each word one
  "token" with its leading space; token counts elsewhere are characters / 4
  (:func:`count_tokens`), as OpenAI's rule of thumb;
- logprobs: fixed small negative numbers per token and rank (:func:`token_logprob`);
- JSON for a schema: :class:`SchemaFaker` (structured outputs, tool arguments);
- embeddings: unit vectors, exact in float32 (:func:`unit_vector`);
- images and audio: tiny valid PNG and WAV files (:func:`png_file`, :func:`wav_file`).

Rules kept: no clock, no global randomness, no I/O; the costly generators are
cached (``lru_cache``) per argument tuple.

Options rejected: real image or audio encoders (the tests need valid files, not
pictures); ``pattern`` in schemas (generating strings for a regex is a project of
its own).
"""

from __future__ import annotations

import hashlib
import math
import struct
import zlib
from functools import lru_cache
from typing import Any, Final
from urllib.parse import unquote

__all__ = [
    "VOCAB",
    "SchemaFaker",
    "count_tokens",
    "digest",
    "unit_vector",
    "logprob",
    "png_file",
    "reply_tokens",
    "split_text",
    "text_of",
    "token_logprob",
    "wav_file",
]

VOCAB: Final = (
    "the", "quick", "answer", "is", "mock", "data", "from", "a", "small", "server",
    "that", "streams", "tokens", "with", "care", "and", "clear", "results", "for", "every",
    "test", "bright", "river", "stone", "cloud", "green", "light", "paper", "signal",
    "garden", "number", "story", "window", "music", "ocean", "forest", "city", "road",
    "bridge", "field", "morning", "evening", "friend", "idea", "plan", "note", "point",
    "line", "shape", "color", "sound", "space", "time", "world", "system", "part", "place",
    "week", "day", "year", "way", "hand", "calm", "fast",
)  # fmt: skip
assert len(VOCAB) == 64


def digest(*parts: object) -> bytes:
    return hashlib.blake2b("\x00".join(map(str, parts)).encode(), digest_size=32).digest()


@lru_cache(maxsize=8192)
def reply_tokens(seed: int, index: int, prompt: str) -> tuple[str, ...]:
    """The reply to *prompt*: 6 to 17 tokens (words with their leading space, then ".")."""
    h = digest(seed, index, prompt)
    count = 5 + h[0] % 12
    words = [VOCAB[b & 63] for b in h[1 : 1 + count]]
    return (words[0].capitalize(), *(" " + w for w in words[1:]), ".")


def count_tokens(text: str) -> int:
    return max(1, (len(text) + 3) // 4)


def split_text(text: str, size: int = 8) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def logprob(token: str, position: int, rank: int) -> float:
    base = (zlib.crc32(f"{position}\x00{token}".encode()) % 1000) / 4000.0
    return -round(base + rank * 1.5, 6)


def token_logprob(token: str, position: int, top: int) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "token": token,
        "logprob": logprob(token, position, 0),
        "bytes": list(token.encode()),
        "top_logprobs": [],
    }
    alternatives: list[dict[str, Any]] = []
    for rank in range(top):
        alt = token if rank == 0 else " " + VOCAB[(zlib.crc32(token.encode()) + rank) & 63]
        alternatives.append(
            {"token": alt, "logprob": logprob(token, position, rank), "bytes": list(alt.encode())}
        )
    entry["top_logprobs"] = alternatives
    return entry


def text_of(content: Any) -> str:
    """The text of a message content: a string, or the text parts of a list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts: list[str] = []
        for part in content:
            if isinstance(part, dict):
                text = part.get("text")
                if isinstance(text, str):
                    texts.append(text)
            elif isinstance(part, str):
                texts.append(part)
        return " ".join(texts)
    return ""


_FORMATS: Final = {
    "date-time": "2024-01-01T00:00:00Z",
    "date": "2024-01-01",
    "time": "12:00:00",
    "duration": "P1D",
    "email": "user@example.com",
    "idn-email": "user@example.com",
    "hostname": "example.com",
    "ipv4": "192.0.2.1",
    "ipv6": "2001:db8::1",
    "uri": "https://example.com/resource",
    "url": "https://example.com/resource",
    "uri-reference": "https://example.com/resource",
    "iri": "https://example.com/resource",
}


class SchemaFaker:
    """Build a deterministic value that is valid for a JSON Schema.

    Supports ``type`` (also lists, with ``"null"``), ``nullable``, ``enum``, ``const``,
    ``properties``/``required``/``additionalProperties``, ``items``/``prefixItems``
    with ``minItems``/``maxItems``, ``anyOf``/``oneOf``/``allOf``, ``$ref`` into
    ``$defs``/``definitions`` (any JSON pointer into the root), string ``format``s,
    ``minLength``/``maxLength`` and numeric bounds. ``pattern`` is not honoured.
    Recursive schemas end: past a depth, only required properties and minimum item
    counts are generated, and nullable branches become null.
    """

    _DEEP = 6
    _LIMIT = 40

    def __init__(self, root: Any, key: str) -> None:
        self.root = root
        self.key = key

    def _h(self, path: str) -> int:
        return zlib.crc32(f"{self.key}\x00{path}".encode())

    def _resolve(self, ref: str) -> Any:
        if not ref.startswith("#"):
            return {}
        node: Any = self.root
        for raw in ref[1:].split("/"):
            if not raw:
                continue
            part = unquote(raw).replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                return {}
        return node

    def value(self, schema: Any, path: str = "$", depth: int = 0) -> Any:
        if not isinstance(schema, dict) or depth > self._LIMIT:
            return None if schema is False else self._string({}, path)
        ref = schema.get("$ref")
        if isinstance(ref, str):
            target = self._resolve(ref)
            rest = {k: v for k, v in schema.items() if k != "$ref"}
            merged = {**target, **rest} if rest and isinstance(target, dict) else target
            return self.value(merged, path, depth + 1)
        if "const" in schema:
            return schema["const"]
        enum = schema.get("enum")
        if isinstance(enum, list) and enum:
            return enum[self._h(path) % len(enum)]
        deep = depth > self._DEEP
        for key in ("anyOf", "oneOf"):
            options = schema.get(key)
            if isinstance(options, list) and options:
                nulls = [o for o in options if isinstance(o, dict) and o.get("type") == "null"]
                others = [o for o in options if not (isinstance(o, dict) and o in nulls)]
                if (deep and nulls) or not others:
                    return None
                return self.value(others[0], path, depth + 1)
        all_of = schema.get("allOf")
        if isinstance(all_of, list) and all_of:
            return self.value(self._merge(schema, all_of), path, depth + 1)
        kind = schema.get("type")
        if isinstance(kind, list):
            real = [k for k in kind if k != "null"]
            if not real or (deep and "null" in kind):
                return None
            kind = real[0]
        if deep and schema.get("nullable") is True:
            return None
        if kind is None:
            if "properties" in schema or "additionalProperties" in schema:
                kind = "object"
            elif "items" in schema or "prefixItems" in schema:
                kind = "array"
            else:
                kind = "string"
        if kind == "object":
            return self._object(schema, path, depth, deep)
        if kind == "array":
            return self._array(schema, path, depth, deep)
        if kind == "integer":
            return self._integer(schema, path)
        if kind == "number":
            return self._number(schema, path)
        if kind == "boolean":
            return self._h(path) % 2 == 0
        if kind == "null":
            return None
        return self._string(schema, path)

    def _merge(self, schema: dict[str, Any], parts: list[Any]) -> dict[str, Any]:
        merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
        properties: dict[str, Any] = dict(merged.get("properties") or {})
        required: list[Any] = list(merged.get("required") or [])
        for part in parts:
            if isinstance(part, dict) and isinstance(part.get("$ref"), str):
                part = self._resolve(part["$ref"])
            if not isinstance(part, dict):
                continue
            properties.update(part.get("properties") or {})
            required += [r for r in part.get("required") or [] if r not in required]
            for k, v in part.items():
                if k not in ("properties", "required"):
                    merged.setdefault(k, v)
        if properties:
            merged["properties"] = properties
        if required:
            merged["required"] = required
        return merged

    def _object(self, schema: dict[str, Any], path: str, depth: int, deep: bool) -> Any:
        props = schema.get("properties")
        props = props if isinstance(props, dict) else {}
        required = schema.get("required")
        required = required if isinstance(required, list) else []
        names = [n for n in props if not deep or n in required]
        out: dict[str, Any] = {n: self.value(props[n], f"{path}.{n}", depth + 1) for n in names}
        for name in required:
            if isinstance(name, str) and name not in out:
                out[name] = self._string({}, f"{path}.{name}")
        extra = schema.get("additionalProperties")
        if not props and isinstance(extra, dict) and not deep:
            out["key"] = self.value(extra, f"{path}.key", depth + 1)
        return out

    def _array(self, schema: dict[str, Any], path: str, depth: int, deep: bool) -> Any:
        lo = schema.get("minItems")
        lo = lo if isinstance(lo, int) else 0
        hi = schema.get("maxItems")
        count = max(lo, 0 if deep else 2)
        if isinstance(hi, int):
            count = min(count, hi)
        prefix = schema.get("prefixItems")
        prefix = prefix if isinstance(prefix, list) else []
        items = schema.get("items", {})
        out: list[Any] = []
        for i in range(max(count, len(prefix) if not deep else 0)):
            sub = prefix[i] if i < len(prefix) else items
            if sub is False:
                break
            out.append(self.value(sub, f"{path}[{i}]", depth + 1))
        return out

    def _integer(self, schema: dict[str, Any], path: str) -> int:
        lo, hi = self._bounds(schema, integer=True)
        h = self._h(path)
        if lo is not None and hi is not None:
            value = int(lo) + h % (int(hi) - int(lo) + 1) if hi >= lo else int(lo)
        elif lo is not None:
            value = int(lo) + h % 10
        elif hi is not None:
            value = int(hi) - h % 10
        else:
            value = h % 100
        step = schema.get("multipleOf")
        if isinstance(step, int) and step > 0 and value % step:
            value += step - value % step
            if hi is not None and value > hi:
                value -= step
        return value

    def _number(self, schema: dict[str, Any], path: str) -> float:
        lo, hi = self._bounds(schema, integer=False)
        frac = (self._h(path) % 10000) / 10000.0
        if lo is not None and hi is not None:
            value = round(lo + (hi - lo) * frac, 4) if hi > lo else float(lo)
        elif lo is not None:
            value = round(lo + 10 * frac, 4)
        elif hi is not None:
            value = round(hi - 10 * frac, 4)
        else:
            return round(100 * frac, 2)
        # Rounding must not step outside the bounds.
        if lo is not None and value < lo:
            value = float(lo)
        if hi is not None and value > hi:
            value = float(hi)
        return value

    @staticmethod
    def _bounds(schema: dict[str, Any], *, integer: bool) -> tuple[float | None, float | None]:
        def num(name: str) -> float | None:
            v = schema.get(name)
            return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None

        lo, hi = num("minimum"), num("maximum")
        xlo, xhi = num("exclusiveMinimum"), num("exclusiveMaximum")
        step = 1.0 if integer else 1e-3
        if xlo is not None:
            lo = xlo + step if lo is None else max(lo, xlo + step)
        if xhi is not None:
            hi = xhi - step if hi is None else min(hi, xhi - step)
        if integer:
            lo = math.ceil(lo) if lo is not None else None
            hi = math.floor(hi) if hi is not None else None
        return lo, hi

    def _string(self, schema: dict[str, Any], path: str) -> str:
        fmt = schema.get("format")
        h = self._h(path)
        if fmt == "uuid":
            raw = digest(self.key, path)[:16].hex()
            text = f"{raw[:8]}-{raw[8:12]}-4{raw[13:16]}-8{raw[17:20]}-{raw[20:32]}"
        elif isinstance(fmt, str) and fmt in _FORMATS:
            text = _FORMATS[fmt]
        else:
            text = f"{VOCAB[h & 63]} {VOCAB[(h >> 6) & 63]}"
        lo = schema.get("minLength")
        hi = schema.get("maxLength")
        if isinstance(lo, int) and len(text) < lo:
            text += "x" * (lo - len(text))
        if isinstance(hi, int) and len(text) > hi:
            text = text[:hi]
        return text


@lru_cache(maxsize=2048)
def unit_vector(seed: int, text: str, dims: int) -> tuple[tuple[float, ...], bytes]:
    """A deterministic unit vector for *text*: (float32-exact values, packed ``<f4``)."""
    raw = hashlib.shake_256(f"{seed}\x00{text}".encode()).digest(dims * 2)
    ints = struct.unpack(f"<{dims}H", raw)
    values = [(x - 32767.5) / 32767.5 for x in ints]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    packed = struct.pack(f"<{dims}f", *(v / norm for v in values))
    return struct.unpack(f"<{dims}f", packed), packed


def png_file(rgb: tuple[int, int, int], size: int = 8) -> bytes:
    """A tiny valid PNG: a *size* x *size* square of one color."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(tag + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)

    row = b"\x00" + bytes(rgb) * size
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * size))
        + chunk(b"IEND", b"")
    )


def wav_file(seconds: float, key: bytes, rate: int = 24000) -> bytes:
    """A valid mono 16-bit PCM WAV file with a quiet deterministic tone."""
    count = max(1, int(seconds * rate))
    pitch = 220 + key[0] * 2
    samples = struct.pack(
        f"<{count}h",
        *(int(3000 * math.sin(2 * math.pi * pitch * i / rate)) for i in range(count)),
    )
    head = b"RIFF" + struct.pack("<I", 36 + len(samples)) + b"WAVE"
    fmt = b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
    return head + fmt + b"data" + struct.pack("<I", len(samples)) + samples
