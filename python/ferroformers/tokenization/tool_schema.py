"""Python functions as tool descriptions: `get_json_schema(func)` builds the JSON schema chat templates
expect for a tool from the function's type hints and its Google-style docstring, as transformers'
`get_json_schema` does.

    >>> def multiply(x: float, y: float = 2.0):
    ...     '''Multiply two numbers.
    ...
    ...     Args:
    ...         x: The first number
    ...         y: The second number
    ...     '''
    >>> get_json_schema(multiply)["function"]["parameters"]["required"]
    ['x']
"""

from __future__ import annotations

import inspect
import json
import re
import types
from enum import Enum
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from ..errors import ChatTemplateError


class ToolSchemaError(ChatTemplateError):
    """A function cannot be described as a tool: a missing or unsupported type hint, or a missing
    docstring or argument description."""


# Python values that can appear in a JSON schema "enum", with their JSON type names.
_JSON_SCALARS = {int: "integer", float: "number", str: "string", bool: "boolean", type(None): "null"}
_PLAIN_TYPES = {
    int: "integer",
    float: "number",
    str: "string",
    bool: "boolean",
    type(None): "null",
    list: "array",
    tuple: "array",
    dict: "object",
}
# Media types transformers also maps (checked by name, so neither library has to be imported).
_MEDIA_TYPES = {("PIL.Image", "Image"): "image", ("torch", "Tensor"): "audio"}
_SECTION = re.compile(r"^\s*(Args|Returns|Raises):\s*$")
_ARGUMENT = re.compile(r"(\w+)(?:[ \t]*\([^()\n]*\))?:\s*(.*)")
_CHOICES = re.compile(r"\(choices:\s*(.*?)\)\s*$", re.IGNORECASE)


def _enum_schema(values: list) -> dict:
    # "type" names each JSON type of the values once, in order of first appearance.
    kinds = list(dict.fromkeys(_JSON_SCALARS[type(v)] for v in values))
    return {"type": kinds[0] if len(kinds) == 1 else kinds, "enum": values}


def type_hint_schema(hint) -> dict:
    """The JSON schema of one type hint (basic types, Enum classes, Literal, Optional/Union, list,
    tuple, dict). Custom classes are refused rather than guessed at."""
    origin, args = get_origin(hint), get_args(hint)
    if origin is None:
        if isinstance(hint, type) and issubclass(hint, Enum):
            values = [member.value for member in hint]
            if not values:
                raise ToolSchemaError(f"The Enum {hint.__name__} has no members, so no value could ever match it.")
            if any(type(v) not in _JSON_SCALARS for v in values):
                raise ToolSchemaError(
                    f"The Enum {hint.__name__} has member values that cannot be written as JSON scalars.\n"
                    f"Values: {values}\nEnum member values must be int, float, str, bool or None."
                )
            return _enum_schema(values)
        if hint is Any:
            return {}
        if hint in _PLAIN_TYPES:
            return {"type": _PLAIN_TYPES[hint]}
        media = _MEDIA_TYPES.get((getattr(hint, "__module__", None), getattr(hint, "__name__", None)))
        if media is not None:
            return {"type": media}
        raise ToolSchemaError(
            f"Couldn't convert the type hint {hint!r} to a JSON schema, likely because it is a custom class or "
            "object. Supported type hints are basic types like int, float, str and bool, Enum classes, "
            "typing.Literal, and list, tuple, dict and Union types containing those. For anything more complex, "
            "write the tool's JSON schema by hand and pass that instead of the function."
        )
    if origin is Union or origin is getattr(types, "UnionType", Union):  # Optional[X], X | Y (3.10+)
        options = [type_hint_schema(a) for a in args if a is not type(None)]
        if len(options) == 1:
            schema = options[0]
        elif all(o.keys() == {"type"} and isinstance(o["type"], str) for o in options):
            # Plain types merge into a type list; ones with more detail (items, enum) need anyOf.
            names = sorted({o["type"] for o in options})
            schema = {"type": names[0] if len(names) == 1 else names}
        else:
            schema = {"anyOf": options}
        if type(None) in args:
            schema["nullable"] = True
        return schema
    if origin is Literal and args:
        if any(type(a) not in _JSON_SCALARS for a in args):
            raise ToolSchemaError("Only the valid python literals can be listed in typing.Literal.")
        return _enum_schema(list(args))
    if origin is list:
        return {"type": "array", "items": type_hint_schema(args[0])} if args else {"type": "array"}
    if origin is tuple:
        if not args:
            return {"type": "array"}
        if len(args) == 1:
            raise ToolSchemaError(
                f"The type hint {str(hint).replace('typing.', '')} is a Tuple with a single element; use a list[] "
                "type if it can hold more than one element, or the element type itself."
            )
        if ... in args:
            raise ToolSchemaError("'...' in Tuple type hints is not supported: use list[] for variable-length inputs.")
        return {"type": "array", "prefixItems": [type_hint_schema(a) for a in args]}
    if origin is dict:
        # JSON object keys are always strings; only the value type can be described.
        schema = {"type": "object"}
        if len(args) == 2:
            schema["additionalProperties"] = type_hint_schema(args[1])
        return schema
    raise ToolSchemaError(f"Couldn't parse the type hint {hint!r}, likely due to a custom class or object.")


def _parameters_schema(func) -> dict:
    hints = get_type_hints(func)
    parameters = inspect.signature(func).parameters
    name = getattr(func, "__name__", "operation")
    # An unannotated first `self` / `cls` is the receiver of a method, not a tool argument.
    first = next(iter(parameters), None)
    receiver = first if first in ("self", "cls") and parameters[first].annotation is inspect.Parameter.empty else None
    required = []
    for param in parameters.values():
        if param.name == receiver:
            continue
        if param.annotation is inspect.Parameter.empty:
            raise ToolSchemaError(f"Argument {param.name} is missing a type hint in function {name}")
        if param.default is inspect.Parameter.empty:
            required.append(param.name)
    properties = {}
    for arg, hint in hints.items():
        if arg == receiver:
            continue
        if arg == "return":
            # The model never produces the return value: an odd return hint should not block the tool.
            try:
                properties[arg] = type_hint_schema(hint)
            except ToolSchemaError:
                pass
        else:
            properties[arg] = type_hint_schema(hint)
    schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema


def parse_google_docstring(docstring: str) -> tuple[str, dict[str, str], str | None]:
    """(description, {argument: description}, returns description) of a Google-style docstring."""
    lines = docstring.strip().split("\n")
    sections: dict[str, list[str]] = {"": []}
    current = ""
    for line in lines:
        header = _SECTION.match(line)
        if header and header.group(1) not in sections:
            current = header.group(1)
            sections[current] = []
        else:
            sections[current].append(line)
    description = "\n".join(sections[""]).strip()
    returns = "\n".join(sections["Returns"]).strip() if "Returns" in sections else None
    arguments: dict[str, str] = {}
    if "Args" in sections:
        # An argument is a `name:` or `name (type):` line; deeper-indented lines, and lines at its
        # indentation that do not look like `name:`, continue its description.
        name, indent, words = None, 0, []
        for line in sections["Args"]:
            if not line.strip():
                continue
            depth = len(line) - len(line.lstrip(" \t"))
            match = _ARGUMENT.fullmatch(line.strip())
            if match and (name is None or depth <= indent):
                if name is not None:
                    arguments[name] = " ".join(w for w in words if w)
                name, indent, words = match.group(1), depth, [match.group(2).strip()]
            elif name is not None:
                words.append(line.strip())
        if name is not None:
            arguments[name] = " ".join(w for w in words if w)
    return description, arguments, returns


def get_json_schema(func) -> dict:
    """The `{"type": "function", "function": {...}}` tool description of `func`.

    Every argument needs a type hint and a description in the docstring's `Args:` section; a description
    ending in `(choices: [...])` (a JSON list) adds an `enum`. `self`/`cls` of methods are skipped."""
    name = getattr(func, "__name__", "operation")
    doc = inspect.getdoc(func)
    if not doc:
        raise ToolSchemaError(f"Cannot generate JSON schema for {name} because it has no docstring!")
    description, argument_docs, returns_doc = parse_google_docstring(doc)
    parameters = _parameters_schema(func)
    returns = parameters["properties"].pop("return", None)
    if returns is not None and returns_doc is not None:
        returns["description"] = returns_doc
    for arg, schema in parameters["properties"].items():
        if arg not in argument_docs:
            raise ToolSchemaError(
                f"Cannot generate JSON schema for {name} because the docstring has no description for the "
                f"argument '{arg}'"
            )
        text = argument_docs[arg]
        choices = _CHOICES.search(text)
        if choices:
            schema["enum"] = [c.strip() if isinstance(c, str) else c for c in json.loads(choices.group(1))]
            text = text[: choices.start()].strip()
        schema["description"] = text
    function = {"name": name, "description": description, "parameters": parameters}
    if returns is not None:
        function["return"] = returns
    return {"type": "function", "function": function}
