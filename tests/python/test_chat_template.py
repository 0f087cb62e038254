"""apply_chat_template against transformers 5.24 on copies of the shared tokenizers carrying the chat
templates of real model families (Llama-2 `[INST]`, ChatML, Llama-3.1 with tools, named templates, and
templates with `{% generation %}` blocks); plus loading, saving, the sandbox and the errors."""

# The templates below are verbatim model templates: their long lines stay as they are.
# ruff: noqa: E501

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
import os
import shutil
import types
from enum import Enum
from pathlib import Path
from typing import Any, Literal, Optional, Union

import numpy as np
import pytest
import torch
import transformers
from transformers.utils import get_json_schema as reference_json_schema

from ferroformers import AutoTokenizer, BatchEncoding, ChatTemplateError, ChatTemplateSecurityError, FerroformersError
from ferroformers.tokenization.tool_schema import ToolSchemaError, get_json_schema

transformers.logging.set_verbosity_error()

# meta-llama/Llama-2-7b-chat-hf's template (system prompt folded into the first [INST], roles checked).
LLAMA2 = (
    "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}"
    "{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}"
    "{% set system_message = false %}{% endif %}{% for message in loop_messages %}"
    "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
    "{% if loop.index0 == 0 and system_message != false %}"
    "{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}"
    "{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}"
    "{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}"
    "{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}"
)
# The same with the assistant's replies marked for return_assistant_tokens_mask.
LLAMA2_GENERATION = LLAMA2.replace(
    "{{ ' '  + content.strip() + ' ' + eos_token }}",
    "{% generation %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endgeneration %}",
)
# Qwen2-style ChatML with its default system prompt.
CHATML = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}"
    "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
# ChatML in the SmolLM3 / TRL style: the assistant's content and end token are what the model generates.
CHATML_GENERATION = """{%- for message in messages %}
    {{- '<|im_start|>' + message['role'] + '\\n' }}
    {%- if message['role'] == 'assistant' %}
        {%- generation %}
        {{- message['content'] + '<|im_end|>' }}
        {%- endgeneration %}
        {{- '\\n' }}
    {%- else %}
        {{- message['content'] + '<|im_end|>\\n' }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\\n' }}
{%- endif %}
"""
# meta-llama/Llama-3.1-8B-Instruct's template (custom tools; without the builtin-tool branches).
LLAMA3_TOOLS = """{{- bos_token }}
{%- if custom_tools is defined %}
    {%- set tools = custom_tools %}
{%- endif %}
{%- if not tools_in_user_message is defined %}
    {%- set tools_in_user_message = true %}
{%- endif %}
{%- if not date_string is defined %}
    {%- set date_string = "26 Jul 2024" %}
{%- endif %}
{%- if not tools is defined %}
    {%- set tools = none %}
{%- endif %}

{#- This block extracts the system message, so we can slot it into the right place. #}
{%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content']|trim %}
    {%- set messages = messages[1:] %}
{%- else %}
    {%- set system_message = "" %}
{%- endif %}

{{- "<|start_header_id|>system<|end_header_id|>\\n\\n" }}
{%- if tools is not none %}
    {{- "Environment: ipython\\n" }}
{%- endif %}
{{- "Cutting Knowledge Date: December 2023\\n" }}
{{- "Today Date: " + date_string + "\\n\\n" }}
{%- if tools is not none and not tools_in_user_message %}
    {{- "You have access to the following functions. To call a function, please respond with JSON for a function call." }}
    {{- 'Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}.' }}
    {{- "Do not use variables.\\n\\n" }}
    {%- for t in tools %}
        {{- t | tojson(indent=4) }}
        {{- "\\n\\n" }}
    {%- endfor %}
{%- endif %}
{{- system_message }}
{{- "<|eot_id|>" }}

{%- if tools_in_user_message and not tools is none %}
    {%- if messages | length != 0 %}
        {%- set first_user_message = messages[0]['content']|trim %}
        {%- set messages = messages[1:] %}
    {%- else %}
        {{- raise_exception("Cannot put tools in the first user message when there's no first user message!") }}
{%- endif %}
    {{- '<|start_header_id|>user<|end_header_id|>\\n\\n' -}}
    {{- "Given the following functions, please respond with a JSON for a function call " }}
    {{- "with its proper arguments that best answers the given prompt.\\n\\n" }}
    {{- 'Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}.' }}
    {{- "Do not use variables.\\n\\n" }}
    {%- for t in tools %}
        {{- t | tojson(indent=4) }}
        {{- "\\n\\n" }}
    {%- endfor %}
    {{- first_user_message + "<|eot_id|>"}}
{%- endif %}

{%- for message in messages %}
    {%- if not (message.role == 'ipython' or message.role == 'tool' or 'tool_calls' in message) %}
        {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' }}
    {%- elif 'tool_calls' in message %}
        {%- if not message.tool_calls|length == 1 %}
            {{- raise_exception("This model only supports single tool-calls at once!") }}
        {%- endif %}
        {%- set tool_call = message.tool_calls[0].function %}
        {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' -}}
        {{- '{"name": "' + tool_call.name + '", ' }}
        {{- '"parameters": ' }}
        {{- tool_call.arguments | tojson }}
        {{- "}" }}
        {{- "<|eot_id|>" }}
    {%- elif message.role == "tool" or message.role == "ipython" %}
        {{- "<|start_header_id|>ipython<|end_header_id|>\\n\\n" }}
        {%- if message.content is mapping or message.content is iterable %}
            {{- message.content | tojson }}
        {%- else %}
            {{- message.content }}
        {%- endif %}
        {{- "<|eot_id|>" }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}
{%- endif %}
"""
# Llama-3 without tools, and a Command-R-like retrieval template reading `documents`.
LLAMA3_PLAIN = (
    "{{ bos_token }}{% for message in messages %}{{ '<|start_header_id|>' + message['role'] + "
    "'<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}"
)
LLAMA3_RAG = (
    "{{ bos_token }}{% if documents %}{{ '<|start_header_id|>system<|end_header_id|>\\n\\nDocuments:\\n' }}"
    "{% for doc in documents %}{{ 'Document ' + loop.index0|string + ': ' + doc['title'] + '\\n' + doc['text'] + "
    "'\\n' }}{% endfor %}{{ '<|eot_id|>' }}{% endif %}" + LLAMA3_PLAIN.removeprefix("{{ bos_token }}")
)
# Everything a template can reach: tojson options, kwargs, special tokens, the reasoning aliases, the
# namespace, dict() and loop controls.
INSPECTOR = (
    "{{ messages | tojson }}|{{ messages[-1] | tojson(indent=2) }}|"
    "{{ extra | tojson(separators=(',', ':'), sort_keys=true) }}|{{ extra | tojson(ensure_ascii=true) }}|"
    "{{ flag }}|{{ eos_token }}|{{ bos_token }}|{{ pad_token }}|{{ tools | tojson }}|{{ documents | tojson }}|"
    "{% set ns = namespace(n=0) %}{% for m in messages %}{% set ns.n = ns.n + 1 %}{% endfor %}{{ ns.n }}|"
    "{{ dict(a=1, b=[2]) | tojson }}|{{ dict.fromkeys(['x'], 0) | tojson }}|"
    "{% for m in messages %}{% if loop.index > 2 %}{% break %}{% endif %}{% if m.role == 'system' %}"
    "{% continue %}{% endif %}{{ m.role }};{% endfor %}|{{ add_generation_prompt }}"
)

LLAMA3_SPECIALS = {
    "bos_token": "<|begin_of_text|>",
    "eos_token": "<|eot_id|>",
    "pad_token": "<|finetune_right_pad_id|>",
    "additional_special_tokens": ["<|start_header_id|>", "<|end_header_id|>", "<|finetune_right_pad_id|>"],
}
CHATML_SPECIALS = {"pad_token": "<|endoftext|>", "additional_special_tokens": ["<|im_start|>", "<|im_end|>"]}

# Folder name -> (shared tokenizer it copies, tokenizer_config.json updates).
FOLDERS = {
    "llama2": ("llama-style-bpe", {"chat_template": LLAMA2, "pad_token": "<unk>"}),
    "llama2-generation": ("llama-style-bpe", {"chat_template": LLAMA2_GENERATION, "pad_token": "<unk>"}),
    "chatml": ("gpt2", {"chat_template": CHATML, **CHATML_SPECIALS}),
    "chatml-generation": ("gpt2", {"chat_template": CHATML_GENERATION, **CHATML_SPECIALS}),
    "llama3": ("gpt2", {"chat_template": LLAMA3_TOOLS, **LLAMA3_SPECIALS}),
    "llama3-named": (
        "gpt2",
        {
            "chat_template": [
                {"name": "default", "template": LLAMA3_PLAIN},
                {"name": "tool_use", "template": LLAMA3_TOOLS},
                {"name": "rag", "template": LLAMA3_RAG},
            ],
            **LLAMA3_SPECIALS,
        },
    ),
    "no-template": ("gpt2", {}),
}

SYSTEM = {"role": "system", "content": "You are a terse assistant. Réponds brièvement."}
CHAT = [
    SYSTEM,
    {"role": "user", "content": "What is the capital of France? 🇫🇷"},
    {"role": "assistant", "content": "  Paris.  "},
    {"role": "user", "content": "And of Japan — 日本?"},
]
ASSISTANT_LAST = [*CHAT, {"role": "assistant", "content": "Tokyo is the capital of"}]
SHORT = [{"role": "user", "content": "Hi!"}]
PAIR = [{"role": "user", "content": "Hi!"}, {"role": "assistant", "content": "Hello, how can I help?"}]
BATCH = [CHAT, SHORT, ASSISTANT_LAST]

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_current_temperature",
        "description": "Get the current temperature at a location.",
        "parameters": {
            "type": "object",
            "properties": {
                "location": {"type": "string", "description": 'The location, as "City, Country"'},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["location"],
        },
    },
}
TOOL_CALL_CHAT = [
    {"role": "system", "content": "You call tools."},
    {"role": "user", "content": "How warm is it in Zürich?"},
    {
        "role": "assistant",
        "tool_calls": [
            {
                "type": "function",
                "function": {"name": "get_current_temperature", "arguments": {"location": "Zürich, Switzerland"}},
            }
        ],
    },
    {"role": "tool", "content": "22.5"},
    {"role": "tool", "content": {"temperature": 22.5, "unit": "celsius"}},
]
DOCUMENTS = [
    {"title": "Tokyo", "text": "Tokyo is the capital of Japan."},
    {"title": "Paris", "text": "Paris est la capitale de la France."},
]


def get_current_temperature(location: str, unit: Optional[Literal["celsius", "fahrenheit"]] = None) -> float:  # noqa: UP045
    """
    Get the current temperature at a location.

    Args:
        location: The location to get the temperature for, in the format
            "City, Country".
        unit: The unit to return the temperature in.

    Returns:
        The current temperature at the specified location, as a float.
    """
    return 22.5


def get_current_wind_speed(location: str) -> float:
    """Get the current wind speed in km/h at a given location.

    Args:
        location (str): The location to get the wind speed for (choices: ["Paris, France", "Tokyo, Japan"])
    """
    return 6.0


class Unit(Enum):
    CELSIUS = "celsius"
    KELVIN = 1


class Point:
    pass


def write_folder(root: Path, source: Path, updates: dict) -> Path:
    shutil.copytree(source, root)
    config_file = root / "tokenizer_config.json"
    config = json.loads(config_file.read_text(encoding="utf-8"))
    config.update(updates)
    config_file.write_text(json.dumps(config, ensure_ascii=False), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def folders(tmp_path_factory, tokenizers_dir) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("chat")
    return {name: write_folder(base / name, tokenizers_dir / src, updates) for name, (src, updates) in FOLDERS.items()}


@pytest.fixture(scope="module")
def load(folders):
    """`load(name)` -> (ours, transformers') tokenizers of a folder, loaded once."""
    cache = {}

    def get(name: str):
        if name not in cache:
            path = folders[name]
            cache[name] = (AutoTokenizer.from_pretrained(path), transformers.AutoTokenizer.from_pretrained(str(path)))
        return cache[name]

    return get


def assert_same(ours, theirs):
    """Equal outputs: strings, id lists, and BatchEncodings with the same fields, tensor types and values."""
    if isinstance(theirs, transformers.BatchEncoding):
        assert isinstance(ours, BatchEncoding)
        assert sorted(ours.keys()) == sorted(theirs.keys())
        for key in theirs:
            assert_same(ours[key], theirs[key])
    elif isinstance(theirs, torch.Tensor):
        assert isinstance(ours, torch.Tensor) and ours.dtype == theirs.dtype
        assert ours.tolist() == theirs.tolist()
    elif isinstance(theirs, np.ndarray):
        assert isinstance(ours, np.ndarray) and ours.dtype == theirs.dtype
        assert ours.tolist() == theirs.tolist()
    else:
        assert type(ours) is type(theirs)
        assert ours == theirs


def both(load, name: str, conversation, **kwargs):
    ours, theirs = load(name)
    return ours.apply_chat_template(conversation, **kwargs), theirs.apply_chat_template(conversation, **kwargs)


CASES = [
    # name, conversation, keywords
    ("chatml", CHAT, {"tokenize": False}),
    ("chatml", SHORT, {"tokenize": False, "add_generation_prompt": True}),
    ("chatml", CHAT, {}),
    ("chatml", CHAT, {"add_generation_prompt": True, "return_dict": False}),
    ("chatml", ASSISTANT_LAST, {"continue_final_message": True, "tokenize": False}),
    ("chatml", ASSISTANT_LAST, {"continue_final_message": True, "return_tensors": "pt"}),
    ("chatml", CHAT, {"return_tensors": "pt"}),
    ("chatml", CHAT, {"return_tensors": "np"}),
    ("chatml", BATCH, {"tokenize": False, "add_generation_prompt": True}),
    ("chatml", BATCH, {"padding": True}),
    ("chatml", BATCH, {"padding": True, "return_tensors": "pt"}),
    ("chatml", BATCH, {"padding": "max_length", "max_length": 90, "return_tensors": "np"}),
    ("chatml", CHAT, {"truncation": True, "max_length": 12}),
    ("chatml", BATCH, {"truncation": True, "max_length": 20, "padding": True, "return_tensors": "pt"}),
    ("chatml", BATCH, {"padding": True, "tokenizer_kwargs": {"padding_side": "left", "return_attention_mask": False}}),
    ("llama2", CHAT, {"tokenize": False}),
    ("llama2", CHAT[1:], {"tokenize": False}),
    ("llama2", ASSISTANT_LAST, {"continue_final_message": True, "tokenize": False}),
    ("llama2", ASSISTANT_LAST, {"continue_final_message": True, "return_dict": False}),
    ("llama2", BATCH, {"padding": True, "return_tensors": "pt"}),
    ("llama2", BATCH, {"padding": True, "truncation": True, "max_length": 16}),
    ("llama3", CHAT, {"tokenize": False, "add_generation_prompt": True}),
    ("llama3", CHAT, {"tools": [WEATHER_TOOL], "add_generation_prompt": True, "tokenize": False}),
    ("llama3", CHAT, {"tools": [WEATHER_TOOL], "tools_in_user_message": False, "date_string": "1 Jan 2025"}),
    ("llama3", TOOL_CALL_CHAT, {"tools": [WEATHER_TOOL], "tokenize": False, "add_generation_prompt": True}),
    ("llama3", TOOL_CALL_CHAT, {"tools": [WEATHER_TOOL], "return_tensors": "pt"}),
    ("llama3", CHAT, {"tools": [get_current_temperature, get_current_wind_speed], "tokenize": False}),
    ("llama3", [CHAT, TOOL_CALL_CHAT], {"tools": [WEATHER_TOOL], "padding": True, "return_tensors": "np"}),
    ("llama3-named", CHAT, {"tokenize": False}),
    ("llama3-named", CHAT, {"tokenize": False, "tools": [WEATHER_TOOL]}),
    ("llama3-named", CHAT, {"tokenize": False, "chat_template": "rag", "documents": DOCUMENTS}),
    ("llama3-named", CHAT, {"chat_template": "tool_use", "add_generation_prompt": True, "return_tensors": "pt"}),
    ("llama3-named", CHAT, {"chat_template": CHATML, "tokenize": False}),
]


@pytest.mark.parametrize(("name", "conversation", "kwargs"), CASES)
def test_same_as_transformers(load, name, conversation, kwargs):
    ours, theirs = both(load, name, conversation, **kwargs)
    assert_same(ours, theirs)


MASK_CASES = [
    ("chatml-generation", CHAT, {}),
    ("chatml-generation", CHAT, {"return_tensors": "pt"}),
    ("chatml-generation", BATCH, {"padding": True}),
    ("chatml-generation", BATCH, {"padding": True, "return_tensors": "np", "add_generation_prompt": True}),
    ("chatml-generation", [CHAT, PAIR], {"truncation": True, "max_length": 24, "padding": True}),
    (
        "chatml-generation",
        [CHAT, PAIR],
        {"truncation": True, "max_length": 30, "padding": True, "tokenizer_kwargs": {"padding_side": "left"}},
    ),
    ("llama2-generation", [CHAT, PAIR, ASSISTANT_LAST], {"padding": True, "return_tensors": "pt"}),
    ("llama2-generation", PAIR, {}),
    ("chatml", CHAT, {}),  # no {% generation %}: an all-zero mask (and a warning)
]


@pytest.mark.parametrize(("name", "conversation", "kwargs"), MASK_CASES)
def test_assistant_tokens_mask(load, name, conversation, kwargs):
    ours, theirs = both(load, name, conversation, return_assistant_tokens_mask=True, **kwargs)
    assert_same(ours, theirs)
    masks = ours["assistant_masks"]
    if name != "chatml":
        assert np.asarray(masks).sum() > 0  # the assistant's tokens are really marked


def test_mask_with_left_truncation(folders):
    """A generation span cut by left truncation keeps its remaining tokens marked."""
    path = folders["chatml-generation"]
    ours = AutoTokenizer.from_pretrained(path, truncation_side="left")
    theirs = transformers.AutoTokenizer.from_pretrained(str(path), truncation_side="left")
    for max_length in (5, 12, 30):
        kwargs = dict(return_assistant_tokens_mask=True, truncation=True, max_length=max_length)
        out = ours.apply_chat_template(ASSISTANT_LAST, **kwargs)
        assert_same(out, theirs.apply_chat_template(ASSISTANT_LAST, **kwargs))
        assert 0 < sum(out["assistant_masks"]) < max_length


def test_mask_marks_tokens_straddling_a_span(load):
    """A token that starts before a generation block and ends inside it ("Bott" of "Bot" + "tle") is marked."""
    template = (
        "{% for m in messages %}{% if m.role == 'assistant' %}{{ 'Bot' }}{% generation %}{{ m.content }}"
        "{% endgeneration %}{{ '!' }}{% else %}{{ m.content }}{% endif %}{% endfor %}"
    )
    chat = [{"role": "user", "content": "Order a"}, {"role": "assistant", "content": "tle of wine"}]
    ours, theirs = both(load, "chatml", chat, chat_template=template, return_assistant_tokens_mask=True)
    assert_same(ours, theirs)
    assert ours["assistant_masks"] == [0, 0, 1, 1, 1, 1, 0]


def test_mask_marks_exactly_the_assistant_text(load):
    ours, _ = load("chatml-generation")
    out = ours.apply_chat_template(PAIR, return_assistant_tokens_mask=True)
    marked = [i for i, m in zip(out["input_ids"], out["assistant_masks"]) if m]
    assert ours.decode(marked) == "Hello, how can I help?<|im_end|>"


@dataclasses.dataclass
class Message:
    role: str
    content: str | None
    tool_calls: list | None = None


class Mood(str, Enum):
    HAPPY = "happy"


def test_what_templates_see(load):
    """Message objects, None fields, rich values, reasoning aliases, kwargs over special tokens, tojson."""
    conversation = [
        Message("system", "Sois bref."),
        {"role": "user", "content": "Ça va? 😀", "tool_calls": None, "score": np.float32(0.5), "n": np.int64(3)},
        {
            "role": "assistant",
            "content": "Oui.",
            "reasoning": "The user asks how I am.",
            "mood": Mood.HAPPY,
            "image": np.zeros((2, 2)),
            "flags": (True, np.bool_(False)),
        },
    ]
    kwargs = dict(
        chat_template=INSPECTOR,
        tokenize=False,
        extra={"b": [1, 2], "a": "ü", "t": ("x", 1.5)},
        flag=True,
        bos_token="<override>",
        tools=[WEATHER_TOOL],
        documents=DOCUMENTS,
        add_generation_prompt=True,
    )
    ours, theirs = both(load, "chatml", conversation, **kwargs)
    assert ours == theirs
    assert "<override>" in ours and '"thinking": "The user asks how I am."' in ours and "<ndarray>" in ours


def test_reasoning_continuation(load):
    template = (
        "{% for m in messages %}<{{ m.role }}>{% if m.reasoning_content %}[{{ m.reasoning_content }}]"
        "{% endif %}{{ m.content }}</{{ m.role }}>\n{% endfor %}"
    )
    chat = [*PAIR[:1], {"role": "assistant", "content": "", "thinking": "Let me think  "}]
    for field in ("reasoning_content", "thinking"):
        ours, theirs = both(load, "chatml", chat, chat_template=template, continue_final_message=field, tokenize=False)
        assert ours == theirs and ours.endswith("[Let me think  ")


def test_strftime_now(load):
    ours, theirs = both(load, "chatml", SHORT, chat_template="{{ strftime_now('%Y') }}", tokenize=False)
    assert ours == theirs == str(datetime.datetime.now().year)


def test_tool_schemas_from_functions():
    def everything(
        a: int,
        b: Optional[float],  # noqa: UP045 (typing.Optional is what is tested)
        c: Union[int, str],  # noqa: UP007
        d: list[int],
        e: dict[str, float],
        f: tuple[int, str],
        g: Unit,
        h: Literal["x", 2, True] = "x",
        i: Union[list[int], str, None] = None,  # noqa: UP007
        m: int | float | None = None,
        j: Any = None,
        k: bool = False,
    ) -> list[str]:
        """Does everything.

        Spans two lines.

        Args:
            a: An integer.
            b (float): A float
                on two lines.
            c: An int
            or a string.
            d: Some ints.
            e: A mapping.
            f: A pair.
            g: A unit.
            h: A literal (choices: ["x", 2, true])
            i: A list or a string.
            j: Anything.
            k: A flag.
            m: A number, or nothing.

        Returns:
            Some strings.
        """

    class Thermometer:
        def read(self, room: str) -> float:
            """Read the temperature.

            Args:
                room: Which room.
            """

    for func in (get_current_temperature, get_current_wind_speed, everything, Thermometer().read):
        assert get_json_schema(func) == reference_json_schema(func)


def test_tool_schema_errors():
    def no_doc(x: int):
        pass

    def no_hint(x):
        """Doc.

        Args:
            x: The x.
        """

    def undocumented(x: int, y: int):
        """Doc.

        Args:
            x: The x.
        """

    def custom(p: Point):
        """Doc.

        Args:
            p: A point.
        """

    for func, message in [
        (no_doc, "no docstring"),
        (no_hint, "missing a type hint"),
        (undocumented, "no description for the argument 'y'"),
        (custom, "custom class"),
    ]:
        with pytest.raises(ToolSchemaError, match=message) as caught:
            get_json_schema(func)
        assert isinstance(caught.value, ValueError) and isinstance(caught.value, FerroformersError)


def test_chat_template_files(tmp_path, tokenizers_dir, load):
    """chat_template.jinja and additional_chat_templates/*.jinja replace the config's entry."""
    folder = write_folder(tmp_path / "tok", tokenizers_dir / "gpt2", {"chat_template": CHATML, **LLAMA3_SPECIALS})
    (folder / "chat_template.jinja").write_text(LLAMA3_PLAIN, encoding="utf-8")
    (folder / "additional_chat_templates").mkdir()
    (folder / "additional_chat_templates" / "tool_use.jinja").write_text(LLAMA3_TOOLS, encoding="utf-8")
    (folder / "additional_chat_templates" / "rag.jinja").write_text(LLAMA3_RAG, encoding="utf-8")
    ours = AutoTokenizer.from_pretrained(folder)
    theirs = transformers.AutoTokenizer.from_pretrained(str(folder))
    assert ours.chat_template == theirs.chat_template
    assert set(ours.chat_template) == {"default", "tool_use", "rag"}
    for kwargs in ({}, {"tools": [WEATHER_TOOL]}, {"chat_template": "rag", "documents": DOCUMENTS}):
        assert_same(ours.apply_chat_template(CHAT, **kwargs), theirs.apply_chat_template(CHAT, **kwargs))

    # Only chat_template.jinja: a single template string.
    shutil.rmtree(folder / "additional_chat_templates")
    ours = AutoTokenizer.from_pretrained(folder)
    assert ours.chat_template == transformers.AutoTokenizer.from_pretrained(str(folder)).chat_template == LLAMA3_PLAIN


def test_save_pretrained_writes_templates(load, tmp_path):
    for name in ("chatml", "llama3-named"):
        ours, theirs = load(name)
        target = tmp_path / name
        files = ours.save_pretrained(target)
        config = json.loads((target / "tokenizer_config.json").read_text(encoding="utf-8"))
        assert "chat_template" not in config
        assert str(target / "chat_template.jinja") in files
        if name == "llama3-named":
            assert sorted(p.name for p in (target / "additional_chat_templates").iterdir()) == [
                "rag.jinja",
                "tool_use.jinja",
            ]
        again = AutoTokenizer.from_pretrained(target)
        reference = transformers.AutoTokenizer.from_pretrained(str(target))
        assert again.chat_template == reference.chat_template == theirs.chat_template
        kwargs = {"tools": [WEATHER_TOOL], "add_generation_prompt": True}
        assert_same(again.apply_chat_template(CHAT, **kwargs), theirs.apply_chat_template(CHAT, **kwargs))


def test_save_pretrained_refuses_template_names_that_escape(load, tmp_path):
    ours = AutoTokenizer.from_pretrained(_folder(load, "chatml"))
    ours.chat_template = {"default": CHATML, "../evil": "x"}
    with pytest.raises(ChatTemplateError, match="Invalid chat template name"):
        ours.save_pretrained(tmp_path / "out")
    assert not (tmp_path / "evil.jinja").exists()


def _folder(load, name):
    return Path(load(name)[0].name_or_path)


def test_set_and_get_template(load):
    ours, theirs = load("no-template")
    ours.chat_template = theirs.chat_template = CHATML
    assert_same(ours.apply_chat_template(CHAT), theirs.apply_chat_template(CHAT))
    assert ours.get_chat_template() == CHATML
    ours.chat_template = theirs.chat_template = None
    named, _ = load("llama3-named")
    assert named.get_chat_template(tools=[WEATHER_TOOL]) == LLAMA3_TOOLS
    assert named.get_chat_template("rag") == LLAMA3_RAG
    assert named.get_chat_template() == LLAMA3_PLAIN
    assert AutoTokenizer.from_pretrained(_folder(load, "chatml"), chat_template=LLAMA2).chat_template == LLAMA2


def write_snapshot(hub: Path, repo_id: str, commit: str, source: Path) -> None:
    """A hub cache entry laid out as huggingface_hub writes it (blobs, snapshot symlinks, refs/main)."""
    repo = hub / ("models--" + repo_id.replace("/", "--"))
    (repo / "blobs").mkdir(parents=True)
    snapshot = repo / "snapshots" / commit
    for file in sorted(p for p in source.rglob("*") if p.is_file()):
        data = file.read_bytes()
        blob = repo / "blobs" / hashlib.sha256(data).hexdigest()
        blob.write_bytes(data)
        link = snapshot / file.relative_to(source)
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(blob, link.parent))
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)


def test_hub_id_in_offline_cache(tmp_path, tokenizers_dir, monkeypatch):
    folder = write_folder(tmp_path / "src", tokenizers_dir / "gpt2", LLAMA3_SPECIALS)
    (folder / "chat_template.jinja").write_text(LLAMA3_PLAIN, encoding="utf-8")
    (folder / "additional_chat_templates").mkdir()
    (folder / "additional_chat_templates" / "tool_use.jinja").write_text(LLAMA3_TOOLS, encoding="utf-8")
    home = tmp_path / "hf_home"
    write_snapshot(home / "hub", "org/chat", "c" * 40, folder)
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    from_hub = AutoTokenizer.from_pretrained("org/chat")
    assert from_hub.chat_template == {"default": LLAMA3_PLAIN, "tool_use": LLAMA3_TOOLS}
    reference = transformers.AutoTokenizer.from_pretrained(str(folder))
    kwargs = {"tools": [WEATHER_TOOL], "return_tensors": "pt"}
    assert_same(from_hub.apply_chat_template(CHAT, **kwargs), reference.apply_chat_template(CHAT, **kwargs))


def test_listing_templates_online_falls_back_to_the_cache(tmp_path, monkeypatch):
    """Online, named templates are listed on the Hub; when it cannot be reached, in the cached snapshot."""
    import huggingface_hub

    from ferroformers import hub

    source = tmp_path / "src"
    (source / "additional_chat_templates").mkdir(parents=True)
    (source / "additional_chat_templates" / "rag.jinja").write_text(LLAMA3_RAG, encoding="utf-8")
    write_snapshot(tmp_path / "cache", "org/chat", "d" * 40, source)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    listed = []

    class ListingApi:
        def list_repo_tree(self, repo_id, path_in_repo, revision=None, token=None, recursive=False):
            listed.append((repo_id, path_in_repo, recursive))
            names = ["tool_use.jinja", "notes.md", "rag.jinja"]
            return iter(types.SimpleNamespace(path=f"{path_in_repo}/{n}") for n in names)

    class UnreachableApi:
        def list_repo_tree(self, *args, **kwargs):
            raise hub._http_transport_errors()[0]("no network")  # what huggingface_hub's client raises

    monkeypatch.setattr(huggingface_hub, "HfApi", ListingApi)
    found = hub.list_folder("org/chat", "additional_chat_templates", ".jinja", cache_dir=tmp_path / "cache")
    assert found == ["additional_chat_templates/rag.jinja", "additional_chat_templates/tool_use.jinja"]
    assert listed == [("org/chat", "additional_chat_templates", False)]
    monkeypatch.setattr(huggingface_hub, "HfApi", UnreachableApi)
    found = hub.list_folder("org/chat", "additional_chat_templates", ".jinja", cache_dir=tmp_path / "cache")
    assert found == ["additional_chat_templates/rag.jinja"]
    assert hub.list_folder("org/other", "additional_chat_templates", ".jinja", cache_dir=tmp_path / "cache") == []


# -- errors ------------------------------------------------------------------------------------
def test_no_template(load):
    ours, theirs = load("no-template")
    with pytest.raises(ValueError):
        theirs.apply_chat_template(CHAT)
    with pytest.raises(ChatTemplateError, match=r"tokenizer\.chat_template = ") as caught:
        ours.apply_chat_template(CHAT)
    assert isinstance(caught.value, ValueError)


def test_empty_conversation(load):
    ours, _ = load("chatml")
    for empty in ([], ()):
        with pytest.raises(ChatTemplateError, match="empty conversation"):
            ours.apply_chat_template(empty)
    with pytest.raises(ChatTemplateError, match="conversation is empty"):
        ours.apply_chat_template([[]], continue_final_message=True)


def test_raise_exception_in_template(load):
    ours, theirs = load("llama2")
    wrong_order = [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]
    with pytest.raises(Exception, match="Conversation roles must alternate"):
        theirs.apply_chat_template(wrong_order)
    with pytest.raises(ChatTemplateError, match=r"^Conversation roles must alternate") as caught:
        ours.apply_chat_template(wrong_order)
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, FerroformersError)


@pytest.mark.parametrize(
    "template",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ messages.append({'role': 'x'}) }}",
        "{{ messages[0].update({'role': 'x'}) }}",
        "{{ (messages | first).clear() }}",
        "{% set ns = namespace(_hidden=1) %}",
        "{% set ns = namespace() %}{% set ns._hidden = 1 %}",
        "{{ raise_exception.__globals__['os'] }}",
    ],
)
def test_sandbox_refuses_python_internals(load, template):
    ours, _ = load("chatml")
    messages = [{"role": "user", "content": "hi"}]
    with pytest.raises(ChatTemplateSecurityError):
        ours.apply_chat_template(messages, chat_template=template, tokenize=False)
    assert messages == [{"role": "user", "content": "hi"}]


def test_dict_global_cannot_mutate(load):
    ours, _ = load("chatml")
    messages = [{"role": "user", "content": "hi"}]
    template = "{{ dict.update(messages[0], {'role': 'x'}) }}{{ messages[0].role }}"
    with pytest.raises(ChatTemplateError):
        ours.apply_chat_template(messages, chat_template=template, tokenize=False)
    assert messages == [{"role": "user", "content": "hi"}]


def test_bad_arguments(load):
    ours, _ = load("chatml")
    named = AutoTokenizer.from_pretrained(_folder(load, "llama3-named"))
    cases = [
        (dict(continue_final_message=True, add_generation_prompt=True), ChatTemplateError, "not compatible"),
        (dict(tokenize=False, return_assistant_tokens_mask=True), ValueError, "requires `return_dict=True`"),
        (dict(return_dict=False, return_assistant_tokens_mask=True), ValueError, "requires `return_dict=True`"),
        (dict(chat_template="{% for m in messages %}"), ChatTemplateError, "not valid Jinja"),
        (dict(chat_template="tool_use"), ChatTemplateError, "names no template"),
        (dict(tools=[42]), ChatTemplateError, "Tools should either be"),
        (dict(tools=WEATHER_TOOL), TypeError, "tools must be a list"),
        (dict(documents=["just text"]), TypeError, "Documents should be a list of dicts"),
        (dict(messages=[]), TypeError, "cannot also be passed"),
        (dict(sanitize_control_tokens=True), ChatTemplateError, "not supported"),
    ]
    for kwargs, error, message in cases:
        with pytest.raises(error, match=message):
            ours.apply_chat_template(CHAT, **kwargs)
    with pytest.raises(TypeError, match="should be dicts"):
        ours.apply_chat_template(["hello"])
    with pytest.raises(TypeError, match="must be a list of messages"):
        ours.apply_chat_template("hello")
    with pytest.raises(ChatTemplateError, match="does not appear in the chat"):
        ours.apply_chat_template(
            ASSISTANT_LAST, chat_template="{{ messages[0].content }}CONTINUE", continue_final_message=True
        )
    with pytest.raises(ChatTemplateError, match='no "reasoning_content" to continue'):
        ours.apply_chat_template(ASSISTANT_LAST, continue_final_message="reasoning_content")
    named.chat_template = {"tool_use": LLAMA3_TOOLS, "rag": LLAMA3_RAG}
    with pytest.raises(ChatTemplateError, match=r"none is named 'default'.*\['rag', 'tool_use'\]"):
        named.apply_chat_template(CHAT)
    named.chat_template = {"default": LLAMA3_PLAIN}
    with pytest.raises(
        ChatTemplateError, match=r"names no template of this tokenizer \(named templates: \['default'\]"
    ):
        named.apply_chat_template(CHAT, chat_template="rag")


def test_bad_template_entry_in_config(tmp_path, tokenizers_dir):
    folder = write_folder(tmp_path / "tok", tokenizers_dir / "gpt2", {"chat_template": [{"template": CHATML}]})
    with pytest.raises(ChatTemplateError, match=r"chat_template\[0\] .* 'name' and 'template'"):
        AutoTokenizer.from_pretrained(folder)
