"""Every bound on what a client may ask of `mgen serve`, and the request shapes that apply them.

A value out of bounds is refused with HTTP 422 and a message naming the field and its limit;
a body over `max_body_bytes` with 413; an upload of a type the model does not read with 415.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

MAX_LENGTH = 2000  # new tokens per sample
MAX_SAMPLES = 8  # samples per request
MAX_PRIMER_CHARS = 20_000  # a primer's text (a long sample continued fits)
MAX_UPLOAD_BYTES = 1 << 20  # a primer file
MAX_SEED = 2**31 - 1
MAX_PHRASE_NOTES = 512  # notes of a phrase played along (mgen.core.sampling.phrase's limit)
PhraseNote = Annotated[list[float], Field(min_length=3, max_length=4)]


@dataclass(frozen=True)
class Limits:
    """The bounds one server enforces (the page reads them from /api/options)."""

    max_length: int = MAX_LENGTH
    max_samples: int = MAX_SAMPLES
    max_primer_chars: int = MAX_PRIMER_CHARS
    max_upload_bytes: int = MAX_UPLOAD_BYTES
    max_body_bytes: int = MAX_UPLOAD_BYTES + 64 * 1024  # an upload and its form fields
    workers: int = 1  # generations at once (each uses every core torch is given)
    max_waiting: int = 64  # requests queued behind them; more are refused with 503
    # Seconds a client has to send its whole body (1 MiB at 64 KiB/s); a request that declares
    # more than it sends is answered 408 then, not held open for as long as the client likes.
    body_seconds: float = 16.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class GenerateRequest(BaseModel):
    """POST /api/generate: what to sample, from which listed model."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(max_length=200, description="A name from GET /api/models.")
    decoder: str | None = Field(
        None,
        max_length=50,
        description="A decoder plugin's name; none: the model's chosen decoding (measured, "
        "for the shipped models), else temperature.",
    )
    temperature: float | None = Field(None, gt=0, le=5)
    top_k: int | None = Field(None, ge=1, le=1000)
    top_p: float | None = Field(None, gt=0, le=1)
    length: int = Field(300, ge=1, le=MAX_LENGTH, description="New tokens per sample.")
    num_samples: int = Field(2, ge=1, le=MAX_SAMPLES)
    seed: int = Field(0, ge=0, le=MAX_SEED)
    grammar: bool = Field(
        True, description="Sample only what the format's grammar allows (where it has one)."
    )
    primer: str = Field(
        "", max_length=MAX_PRIMER_CHARS, description="Text to continue (never a file name)."
    )
    instruments: str = Field(
        "",
        max_length=500,
        description='The tracks to write, e.g. "violin,violin,viola,cello" (General MIDI names, '
        'program numbers, "drums"), for a model whose tokenizer names its instruments; "": '
        "the model's choice.",
    )
    key: str = Field(
        "",
        max_length=40,
        description='A key, e.g. "D minor" (a model trained '
        'with controls: its "controls" in GET /api/models); "": the model\'s choice.',
    )
    meter: str = Field("", max_length=20, description='A meter, e.g. 6/8; "": any.')
    tempo: str = Field("", max_length=20, description="Quarter notes a minute, e.g. 120 (its "
                       "band); \"\": any.")  # fmt: skip
    phrase: list[PhraseNote] = Field(
        default_factory=list,
        max_length=MAX_PHRASE_NOTES,
        description="Play along (a MIDI model): notes played, [pitch, start s, end s, "
        "velocity], continued at the tempo they were played; instead of a primer.",
    )


def field_message(error: dict[str, Any]) -> str:
    """One pydantic error as `field: what is wrong` (e.g. `length: must be <= 2000`)."""
    where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path"))
    ctx = error.get("ctx") or {}
    kind = error.get("type", "")
    bounds = {"less_than_equal": "<= {le}", "greater_than_equal": ">= {ge}",
              "greater_than": "> {gt}", "less_than": "< {lt}"}  # fmt: skip
    if kind in bounds:
        text = "must be " + bounds[kind].format(**ctx)
    elif kind == "string_too_long":
        text = f"too long: at most {ctx.get('max_length')} characters"
    elif kind == "json_invalid":
        return "request body is not valid JSON"
    elif kind == "extra_forbidden":
        text = "is not a setting of this request"
    else:
        text = str(error.get("msg", "is invalid")).lower()
    return f"{where or 'request'}: {text}"
