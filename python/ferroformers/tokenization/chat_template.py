"""Chat templates: turn a conversation (a list of `{"role", "content"}` messages) into the prompt text a
chat model was trained on, the way transformers' `apply_chat_template` does.

A chat template is a Jinja program shipped with the tokenizer (`chat_template.jinja`, the
`additional_chat_templates/` folder, or the `chat_template` entry of `tokenizer_config.json`). Templates
come from the Hub, so they are untrusted code: they run in jinja2's immutable sandbox, and everything
they can see is first rebuilt out of plain JSON-like values.

    >>> tok = AutoTokenizer.from_pretrained("path/with/chat/template")                     # doctest: +SKIP
    >>> tok.apply_chat_template([{"role": "user", "content": "Hi"}], tokenize=False,
    ...                         add_generation_prompt=True)                                  # doctest: +SKIP
    '<|im_start|>user\\nHi<|im_end|>\\n<|im_start|>assistant\\n'

`{% generation %}...{% endgeneration %}` blocks mark the assistant's text; with
`return_assistant_tokens_mask=True` the tokens overlapping those character spans get a 1 in
`assistant_masks`.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import re
import sys
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import datetime
from pathlib import Path

from ..errors import ChatTemplateError, ChatTemplateSecurityError

logger = logging.getLogger("ferroformers")

CHAT_TEMPLATE_FILE = "chat_template.jinja"
CHAT_TEMPLATE_DIR = "additional_chat_templates"
# Oldest jinja2 without the sandbox escapes fixed up to 3.1.6 (templates are untrusted code).
MIN_JINJA_VERSION = (3, 1, 6)

# Appended to the message being continued so that its end can be found in the rendered text.
_CONTINUE_TAG = "CONTINUE_FINAL_MESSAGE_TAG "
# Fields a message's reasoning may be passed under; templates read the first one.
_REASONING_FIELDS = ("reasoning_content", "thinking", "reasoning")
# A `chat_template=` argument that looks like a template name rather than Jinja source.
_TEMPLATE_NAME = re.compile(r"[A-Za-z_][\w.-]*")
_GENERATION_TAG = re.compile(r"\{%-?\s*generation\s*-?%\}")

NO_TEMPLATE_MESSAGE = (
    "Cannot apply a chat template: this tokenizer has no chat template (tokenizer.chat_template is None) and no "
    "`chat_template=` was passed. Set one with `tokenizer.chat_template = '<Jinja template>'`, pass "
    "`chat_template='<Jinja template>'` to apply_chat_template, or add a `chat_template.jinja` file (or a "
    "`chat_template` entry in tokenizer_config.json) to the tokenizer folder. See "
    "https://huggingface.co/docs/transformers/main/en/chat_templating"
)


# -- loading and saving ------------------------------------------------------------------------
def templates_from_config(value, where: str = "tokenizer_config.json") -> str | dict[str, str] | None:
    """The `chat_template` entry of a tokenizer config as the tokenizer keeps it: a template string, a
    dict of named templates (stored as a list of `{"name", "template"}` objects), or None."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        named = dict(value)
    elif isinstance(value, (list, tuple)):
        named = {}
        for i, entry in enumerate(value):
            if not (isinstance(entry, Mapping) and {"name", "template"} <= set(entry)):
                raise ChatTemplateError(
                    f"chat_template[{i}] in {where} must be an object with 'name' and 'template' keys, got {entry!r}"
                )
            named[entry["name"]] = entry["template"]
    else:
        raise ChatTemplateError(
            f"chat_template in {where} must be a string or a list of {{'name', 'template'}} objects, "
            f"got {type(value).__name__}"
        )
    for name, template in named.items():
        if not isinstance(name, str) or not isinstance(template, str):
            raise ChatTemplateError(
                f"chat template {name!r} in {where} must be a string, got {type(template).__name__}"
            )
    return named


def templates_from_files(default_file: Path | None, named_files: dict[str, Path]) -> str | dict[str, str] | None:
    """Templates read from `chat_template.jinja` (the default) and `additional_chat_templates/<name>.jinja`.

    A lone default is returned as a string, anything else as a dict; None when there are no files (the
    files, when present, replace the config's `chat_template` entirely, as transformers does)."""
    templates = {}
    if default_file is not None:
        templates["default"] = default_file.read_text(encoding="utf-8")
    for name, path in named_files.items():
        templates[name] = path.read_text(encoding="utf-8")
    if not templates:
        return None
    if list(templates) == ["default"]:
        return templates["default"]
    return templates


def save_chat_templates(folder: Path, templates: str | dict[str, str] | None) -> list[str]:
    """Write templates as transformers 5 does: the default one to `chat_template.jinja`, the others
    to `additional_chat_templates/<name>.jinja`. Returns the paths written."""
    if templates is None:
        return []
    if isinstance(templates, str):
        templates = {"default": templates}
    named_dir = folder / CHAT_TEMPLATE_DIR
    paths = {}
    for name in templates:
        if name == "default":
            paths[name] = folder / CHAT_TEMPLATE_FILE
            continue
        paths[name] = named_dir / f"{name}.jinja"
        # The name is a dict key from an untrusted config: it must not climb out of the folder.
        if paths[name].resolve().parent != named_dir.resolve():
            raise ChatTemplateError(f"Invalid chat template name {name!r}: it must be a plain file name")
    for name, path in paths.items():
        path.parent.mkdir(exist_ok=True)
        path.write_text(templates[name], encoding="utf-8")
    return [str(path) for path in paths.values()]


def select_template(templates: str | dict[str, str] | None, requested: str | None, tools) -> str:
    """The Jinja source to render: `requested` (a template name or Jinja source), else the tokenizer's
    template -- for a dict of named templates, "tool_use" when tools are given, else "default"."""
    if isinstance(templates, dict):
        if requested is not None and requested in templates:
            return templates[requested]
        if requested is None:
            if tools is not None and "tool_use" in templates:
                return templates["tool_use"]
            if "default" in templates:
                return templates["default"]
            raise ChatTemplateError(
                "This tokenizer has several chat templates and none is named 'default': pass the name of the "
                f"one to use as `chat_template=` (available: {sorted(templates)}) or the Jinja source of a template."
            )
    elif requested is None:
        if templates is None:
            raise ChatTemplateError(NO_TEMPLATE_MESSAGE)
        return templates
    # A bare name that names no template would otherwise render as its own literal text.
    if _TEMPLATE_NAME.fullmatch(requested):
        names = sorted(templates) if isinstance(templates, dict) else []
        raise ChatTemplateError(
            f"chat_template={requested!r} names no template of this tokenizer "
            f"(named templates: {names if names else 'none'}); pass one of those names or the Jinja source "
            "of a template."
        )
    return requested


# -- the sandbox -------------------------------------------------------------------------------
class _SpanRecorder:
    """Collects the character spans of `{% generation %}` blocks during one render."""

    def __init__(self):
        self.length = 0  # characters of output the template has produced so far
        self.spans: list[tuple[int, int]] = []


_ACTIVE_RECORDER: ContextVar[_SpanRecorder | None] = ContextVar("chat_template_span_recorder", default=None)


@functools.cache
def _environment():
    """The sandboxed Jinja environment every chat template is compiled in (built once, on first use)."""
    import jinja2
    from jinja2 import nodes
    from jinja2.ext import Extension, loopcontrols
    from jinja2.sandbox import ImmutableSandboxedEnvironment
    from jinja2.utils import Namespace

    version = tuple(int(p) for p in re.findall(r"\d+", jinja2.__version__)[:3])
    if version < MIN_JINJA_VERSION:
        raise ImportError(
            f"Chat templates need jinja2>=3.1.6 (older versions have sandbox escapes); found {jinja2.__version__}. "
            "Upgrade it with `pip install -U jinja2`."
        )

    class GenerationBlock(Extension):
        """`{% generation %}body{% endgeneration %}`: renders the body and, while a recorder is active,
        records where in the output it lands."""

        tags = {"generation"}

        def parse(self, parser):
            lineno = next(parser.stream).lineno
            body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
            return nodes.CallBlock(self.call_method("_render_and_record"), [], [], body).set_lineno(lineno)

        def _render_and_record(self, caller):
            text = caller()
            recorder = _ACTIVE_RECORDER.get()
            if recorder is not None:
                # Everything rendered before this block has already been handed to the recorder: the
                # block's output starts right there.
                recorder.spans.append((recorder.length, recorder.length + len(text)))
            return text

    class SafeNamespace(Namespace):
        """`namespace(...)` that refuses underscore names (a way to reach a namespace's internals)."""

        def __init__(*args, **kwargs):  # same calling trick as Namespace, so `namespace(self=1)` works
            self, args = args[0], args[1:]
            attributes = dict(*args, **kwargs)
            for name in attributes:
                SafeNamespace._check(name)
            Namespace.__init__(self, attributes)

        def __setitem__(self, name, value):
            SafeNamespace._check(name)
            Namespace.__setitem__(self, name, value)

        @staticmethod
        def _check(name):
            if isinstance(name, str) and name.startswith("_"):
                raise ChatTemplateSecurityError(
                    f"A chat template may not set underscore-prefixed attributes on a namespace (got {name!r})."
                )

    class DictConstructor:
        """The template's `dict`: builds dicts, but is not the `dict` type, whose unbound methods
        (`dict.update(obj, ...)`) would mutate objects behind the immutable sandbox's back."""

        def __call__(self, *args, **kwargs):
            return dict(*args, **kwargs)

        def fromkeys(self, *args, **kwargs):
            return dict.fromkeys(*args, **kwargs)

    def raise_exception(message):
        raise ChatTemplateError(message)

    def strftime_now(format):
        return datetime.now().strftime(format)

    def tojson(value, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        # Jinja's own tojson escapes HTML characters and only takes `indent`; templates expect plain JSON.
        return json.dumps(value, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    env = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=[GenerationBlock, loopcontrols]
    )
    env.filters["tojson"] = tojson
    env.globals.update(
        raise_exception=raise_exception, strftime_now=strftime_now, dict=DictConstructor(), namespace=SafeNamespace
    )
    return env


@functools.lru_cache(maxsize=64)
def compile_template(source: str):
    """The compiled template of `source` (cached: the same few templates are rendered over and over)."""
    import jinja2

    env = _environment()
    try:
        return env.from_string(source)
    except jinja2.TemplateSyntaxError as err:
        raise ChatTemplateError(f"The chat template is not valid Jinja (line {err.lineno}): {err.message}") from err


def _render(template, context: dict, record_spans: bool) -> tuple[str, list[tuple[int, int]]]:
    import jinja2

    try:
        if not record_spans:
            return template.render(**context), []
        recorder = _SpanRecorder()
        reset = _ACTIVE_RECORDER.set(recorder)
        try:
            pieces = []
            for piece in template.generate(**context):
                pieces.append(piece)
                recorder.length += len(piece)
        finally:
            _ACTIVE_RECORDER.reset(reset)
        return "".join(pieces), recorder.spans
    except jinja2.exceptions.SecurityError as err:
        raise ChatTemplateSecurityError(
            f"The chat template tried something the sandbox forbids: {err}. Chat templates may not reach Python "
            "internals or modify their inputs."
        ) from err
    except jinja2.TemplateError as err:
        raise ChatTemplateError(f"Rendering the chat template failed: {err}") from err


# -- what templates see ------------------------------------------------------------------------
def _objects_to_dicts(value):
    """Message objects (dataclasses, pydantic models like the OpenAI SDK's) -> dicts, recursively."""
    if isinstance(value, Mapping):
        return {key: _objects_to_dicts(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_objects_to_dicts(item) for item in value]
    if isinstance(value, tuple):
        return tuple(_objects_to_dicts(item) for item in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _objects_to_dicts(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if callable(getattr(value, "model_dump", None)):
        return _objects_to_dicts(value.model_dump())
    return value


def normalize_messages(conversation) -> list[dict]:
    """A conversation as a list of dicts, without the keys whose value is None (APIs send
    `content=None` / `tool_calls=None`, which templates handle as missing but would render as "None")."""
    messages = _objects_to_dicts(getattr(conversation, "messages", conversation))
    if not isinstance(messages, (list, tuple)):
        raise TypeError(
            "A conversation must be a list of messages (dicts with 'role' and 'content'), or a list of such "
            f"lists for a batch; got {type(messages).__name__}"
        )
    normalized = []
    for message in messages:
        if not isinstance(message, dict):
            raise TypeError(f"Chat messages should be dicts, dataclasses or pydantic models, but got {message!r}.")
        normalized.append({key: value for key, value in message.items() if value is not None})
    return normalized


def template_data(value):
    """`value` rebuilt from plain JSON-like types (str, int, float, bool, None, dict, list, tuple).

    Rich objects carry methods the sandbox does not know to be dangerous (some write files), so anything
    else becomes an inert placeholder naming its type ("<ndarray>"); templates only test media keys for
    presence, so this does not change what they render. Subclasses of str/int/float (enums, numpy
    scalars) are cut back to the base type for the same reason."""
    if value is None or type(value) in (str, int, float, bool):
        return value
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, int):
        return int.__int__(value)
    if isinstance(value, float):
        return float.__float__(value)
    if isinstance(value, Mapping):
        return {template_data(key): template_data(item) for key, item in value.items()}
    if isinstance(value, list):
        return [template_data(item) for item in value]
    if isinstance(value, tuple):
        return tuple(template_data(item) for item in value)
    numpy = sys.modules.get("numpy")  # a numpy scalar implies numpy is loaded
    if numpy is not None and isinstance(value, numpy.generic):
        return template_data(value.item())  # np.bool_(False) must stay falsy, not become a placeholder
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: template_data(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if callable(getattr(value, "model_dump", None)):
        return template_data(value.model_dump())
    return f"<{type(value).__name__}>"


def _alias_reasoning(messages: list) -> list:
    """Give a message's reasoning both under `reasoning_content` (what most templates read) and
    `thinking` (gpt-oss templates), whichever of the known names the caller used."""
    aliased = []
    for message in messages:
        reasoning = next((message[k] for k in _REASONING_FIELDS if message.get(k) is not None), None)
        if reasoning is not None:
            message = {"thinking": reasoning, **message, "reasoning_content": reasoning}
        aliased.append(message)
    return aliased


def tool_schemas(tools) -> list | None:
    """Tools as JSON schemas: dicts pass through, functions become schemas from their signature and
    Google-style docstring."""
    if tools is None:
        return None
    if isinstance(tools, (str, Mapping)) or not hasattr(tools, "__iter__"):
        raise TypeError(f"tools must be a list of JSON-schema dicts or functions, got {type(tools).__name__}")
    import inspect

    from .tool_schema import get_json_schema

    schemas = []
    for tool in tools:
        if isinstance(tool, dict):
            schemas.append(tool)
        elif inspect.isfunction(tool) or inspect.ismethod(tool):
            schemas.append(get_json_schema(tool))
        else:
            raise ChatTemplateError(
                f"Tools should either be a JSON schema (dict), or a function with type hints and a Google-style "
                f"docstring that can be converted to one; got {type(tool).__name__}."
            )
    return schemas


# -- rendering ---------------------------------------------------------------------------------
def _mark_final_message(messages: list, field: str, source: str):
    """Tag the end of the final message's `field` so it can be found after rendering; returns the
    original text being continued."""
    final = messages[-1].get(field)
    if final is None:
        raise ChatTemplateError(f'continue_final_message is set but the final message has no "{field}" to continue!')
    fields = [field]
    if field in _REASONING_FIELDS:
        # Reasoning is passed under several names: tag every copy, whichever one the template reads.
        fields = [name for name in _REASONING_FIELDS if messages[-1].get(name) == final]
    if not any(name in source for name in fields):
        raise ChatTemplateError(
            f'continue_final_message is set to "{field}" but this is not an accepted field in the chat_template'
        )
    if isinstance(final, (list, tuple)):
        # Content blocks: continue the last block that has text.
        for block in reversed(final):
            if isinstance(block, dict) and "text" in block:
                text = block["text"]
                block["text"] = text + _CONTINUE_TAG
                return text
        raise ChatTemplateError(
            "continue_final_message is set but we could not find any text to continue in the final message!"
        )
    for name in fields:
        messages[-1][name] = messages[-1][name] + _CONTINUE_TAG
    return final


def _cut_after_final_message(rendered: str, final: str) -> str:
    """The rendered text up to the end of the continued message (dropping what the template adds after it)."""
    tag = _CONTINUE_TAG.strip()
    if final.strip() not in rendered or tag not in rendered:
        raise ChatTemplateError(
            "continue_final_message is set but the final message does not appear in the chat after applying the "
            "chat template! This can happen if the chat template deletes portions of the final message. Please "
            "verify the chat template and final message in your chat to ensure they are compatible."
            f"Final message to continue: {final.strip()}\nRendered chat:\n{rendered}"
        )
    at = rendered.rindex(tag)
    if rendered[at : at + len(_CONTINUE_TAG)] == _CONTINUE_TAG:
        return rendered[:at]  # the template kept the spacing after the message
    # The template trimmed trailing spacing (and the tag's space with it): trim the message's end too.
    return rendered[:at].rstrip()


def render_conversations(
    source: str,
    conversations: list[list[dict]],
    *,
    tools=None,
    documents=None,
    add_generation_prompt: bool = False,
    continue_final_message: bool | str = False,
    record_generation_spans: bool = False,
    template_kwargs: dict | None = None,
) -> tuple[list[str], list[list[tuple[int, int]]]]:
    """Render each conversation with the template `source`; also returns, per conversation, the
    character spans of its `{% generation %}` blocks (empty lists unless `record_generation_spans`)."""
    if record_generation_spans and not _GENERATION_TAG.search(source):
        _warn_once("return_assistant_tokens_mask==True but chat template does not contain `{% generation %}` keyword.")
    template = compile_template(source)
    schemas = template_data(tool_schemas(tools))
    if documents is not None:
        for document in documents:
            if not isinstance(document, dict):
                raise TypeError("Documents should be a list of dicts with 'title' and 'text' keys!")
    documents = template_data(documents)
    extra = template_data(dict(template_kwargs or {}))
    if "messages" in extra:
        raise TypeError("`messages` is the conversation itself: it cannot also be passed as a template keyword")
    field = continue_final_message if isinstance(continue_final_message, str) else "content"

    texts, spans = [], []
    for conversation in conversations:
        messages = template_data(conversation)  # a fresh copy: the edits below never touch the caller's
        for message in messages:
            if not isinstance(message, dict):
                raise TypeError(f"Chat messages should be dicts, dataclasses or pydantic models, but got {message!r}.")
        messages = _alias_reasoning(messages)
        final = None
        if continue_final_message:
            if not messages:
                raise ChatTemplateError("continue_final_message is set but the conversation is empty!")
            final = _mark_final_message(messages, field, source)
        context = {
            **extra,
            "messages": messages,
            "tools": schemas,
            "documents": documents,
            "add_generation_prompt": add_generation_prompt,
        }
        text, blocks = _render(template, context, record_generation_spans)
        if final is not None:
            text = _cut_after_final_message(text, final)
        texts.append(text)
        spans.append(blocks)
    return texts, spans


_warned: set[str] = set()


def _warn_once(message: str) -> None:
    if message not in _warned:
        _warned.add(message)
        logger.warning(message)


def assistant_mask(offsets, spans: list[tuple[int, int]]) -> list[int]:
    """1 for each token whose characters overlap a `{% generation %}` span, else 0.

    Overlap rather than containment, so a span cut by truncation keeps its remaining tokens. Spans and
    offsets are both in text order, so one pass over the tokens suffices. Padding has (0, 0) offsets and
    overlaps nothing."""
    mask = [0] * len(offsets)
    span = 0
    for i, (start, end) in enumerate(offsets):
        while span < len(spans) and start >= spans[span][1]:
            span += 1
        if span == len(spans):
            break
        if end > spans[span][0]:
            mask[i] = 1
    return mask


# -- apply_chat_template -----------------------------------------------------------------------
def apply_chat_template(
    tokenizer,
    conversation,
    *,
    tools=None,
    documents=None,
    chat_template: str | None = None,
    add_generation_prompt: bool = False,
    continue_final_message: bool | str = False,
    tokenize: bool = True,
    sanitize_control_tokens: bool = False,
    padding=False,
    truncation=False,
    max_length: int | None = None,
    return_tensors=None,
    return_dict: bool = True,
    return_assistant_tokens_mask: bool = False,
    tokenizer_kwargs: dict | None = None,
    template_kwargs: dict | None = None,
):
    """`PreTrainedTokenizerFast.apply_chat_template` (see there)."""
    if not tokenize:
        return_dict = False  # only the tokenizer's output is a dict
    if return_assistant_tokens_mask and not (return_dict and tokenize):
        raise ValueError("`return_assistant_tokens_mask=True` requires `return_dict=True` and `tokenize=True`")
    if sanitize_control_tokens:
        raise ChatTemplateError(
            "sanitize_control_tokens=True is not supported by ferroformers yet: it needs encoding user text "
            "without matching added tokens. Validate control tokens in the messages yourself, or leave it False."
        )
    source = select_template(tokenizer.chat_template, chat_template, tools)

    if isinstance(conversation, (list, tuple)) and len(conversation) == 0:
        raise ChatTemplateError("Cannot apply chat template to an empty conversation. Provide at least one message.")
    is_batched = isinstance(conversation, (list, tuple)) and (
        isinstance(conversation[0], (list, tuple)) or hasattr(conversation[0], "messages")
    )
    conversations = [normalize_messages(c) for c in (conversation if is_batched else [conversation])]

    if continue_final_message:
        if add_generation_prompt:
            raise ChatTemplateError(
                "continue_final_message and add_generation_prompt are not compatible. Use continue_final_message "
                "when you want the model to continue the final message, and add_generation_prompt when you want "
                "to add a header that will prompt it to start a new assistant message instead."
            )
        if return_assistant_tokens_mask:
            raise ChatTemplateError("continue_final_message is not compatible with return_assistant_tokens_mask.")

    texts, spans = render_conversations(
        source,
        conversations,
        tools=tools,
        documents=documents,
        add_generation_prompt=add_generation_prompt,
        continue_final_message=continue_final_message,
        record_generation_spans=return_assistant_tokens_mask,
        # Templates see the special tokens (bos_token, ...); the caller's keywords win over them.
        template_kwargs={**tokenizer.special_tokens_map, **(template_kwargs or {})},
    )
    rendered = texts if is_batched else texts[0]
    if not tokenize:
        return rendered

    # The template writes the special tokens itself: the tokenizer must not add its own.
    encoded = tokenizer(
        rendered,
        padding=padding,
        truncation=truncation,
        max_length=max_length,
        add_special_tokens=False,
        return_tensors=return_tensors,
        **(tokenizer_kwargs or {}),
    )
    if not return_dict:
        return encoded["input_ids"]
    if return_assistant_tokens_mask:
        masks = [assistant_mask(e.offsets, s) for e, s in zip(encoded.encodings, spans)]
        encoded["assistant_masks"] = masks if (is_batched or return_tensors) else masks[0]
        if return_tensors:
            encoded.convert_to_tensors(tensor_type=return_tensors)
    return encoded
