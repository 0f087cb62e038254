"""The ferroformers exception hierarchy.

Every error the library raises on purpose derives from `FerroformersError` and, where one fits, from
the standard exception a caller would already catch (`ValueError`, `OSError`, `IndexError`). The
Rust core raises subclasses of these same classes, so `except ferroformers.TokenizerFileError`
catches a malformed `tokenizer.json` whichever layer found it.

    >>> from ferroformers.errors import TokenizationError
    >>> issubclass(TokenizationError, ValueError)
    True
"""

from __future__ import annotations


class FerroformersError(Exception):
    """Base class of every error raised by ferroformers."""


class TokenizerFileError(FerroformersError, ValueError):
    """A tokenizer file (tokenizer.json, tokenizer_config.json, vocab files) is missing or malformed."""


class TokenizerFileNotFoundError(FerroformersError, FileNotFoundError):
    """A tokenizer file does not exist at the given path."""


class TokenizerFileReadError(FerroformersError, OSError):
    """A tokenizer file exists but cannot be read (no permission, an I/O error, a folder given for a file)."""


class TokenizerFileIsADirectoryError(TokenizerFileReadError, IsADirectoryError):
    """A folder was given where a tokenizer file was expected; the message names the file to pass
    (`<folder>/tokenizer.json`) or says to load the folder with `AutoTokenizer.from_pretrained`."""


class UnsupportedComponentError(TokenizerFileError):
    """A tokenizer file names a component (normalizer, model, ...) ferroformers does not implement."""


class TokenizationError(FerroformersError, ValueError):
    """The input given to a tokenizer is not something it can encode or decode."""


class InvalidTokenIdError(TokenizationError, IndexError):
    """A token id is negative or not below the vocabulary size (with added tokens)."""


class ChatTemplateError(FerroformersError, ValueError):
    """A chat template is missing, is not valid Jinja, or failed while rendering (its `raise_exception(...)`
    calls raise this, with the template's own message)."""


class ChatTemplateSecurityError(ChatTemplateError):
    """A chat template tried to reach Python internals (`__class__`, mutating methods, ...) and the
    sandbox refused; the sandbox's own `jinja2.exceptions.SecurityError` is the `__cause__`."""


class GenerationError(FerroformersError, ValueError):
    """generate() was given settings or inputs it cannot work with."""


class HubError(FerroformersError, OSError):
    """Resolving files on the Hugging Face Hub (or its local cache) failed."""


class ModelNotFoundError(HubError):
    """A name is neither a local folder nor a repository that can be resolved (online or from the cache)."""


class ModelFileError(FerroformersError, ValueError):
    """A model file (config.json, a safetensors or pytorch_model.bin weights file) is missing, corrupt or truncated."""


class WeightShapeMismatchError(ModelFileError):
    """A checkpoint tensor has another shape than the model's parameter of the same name."""


class UnsupportedModelError(FerroformersError, ValueError):
    """A configuration names a model type, architecture or task ferroformers does not implement (or remote code)."""


class InvalidArgumentError(FerroformersError, ValueError):
    """An argument has a value the call does not take; the message lists the values it does take
    (e.g. `from_pretrained(dtype="float99")`)."""


class PipelineError(InvalidArgumentError):
    """`pipeline()` or a pipeline call was given arguments it cannot work with (no task and no model,
    no input, an unknown device, a batch size below 1)."""


class TrainerError(FerroformersError, ValueError):
    """TrainingArguments or the Trainer were given settings or data they cannot work with."""


class CheckpointNotFoundError(TrainerError, FileNotFoundError):
    """resume_from_checkpoint names no complete Trainer checkpoint (or none exists in output_dir)."""


class InvalidImageError(FerroformersError, ValueError):
    """An image cannot be used: unreadable file or bytes, an empty array, or a channel count the model does not take."""


class InvalidAudioError(FerroformersError, ValueError):
    """Audio cannot be used: unreadable file or bytes, an empty or multi-channel array, or a sampling rate that
    does not match the model's (where resampling is not done for the caller)."""


__all__ = [
    "FerroformersError",
    "TokenizerFileError",
    "TokenizerFileNotFoundError",
    "TokenizerFileReadError",
    "TokenizerFileIsADirectoryError",
    "UnsupportedComponentError",
    "TokenizationError",
    "InvalidTokenIdError",
    "ChatTemplateError",
    "ChatTemplateSecurityError",
    "GenerationError",
    "HubError",
    "ModelNotFoundError",
    "ModelFileError",
    "WeightShapeMismatchError",
    "UnsupportedModelError",
    "InvalidArgumentError",
    "PipelineError",
    "TrainerError",
    "CheckpointNotFoundError",
    "InvalidImageError",
    "InvalidAudioError",
]
