"""The ``ferroformers`` command line: ``ferroformers tokenize | generate | pipeline | bench``.

Each subcommand lives in its own module of this package, which exposes ``add_parser(subparsers)``
(its flags, with help) and ``run(args) -> int`` (the exit status). This module only dispatches and turns
the errors a user can cause into one line on stderr and an exit status, never a traceback:

- 0: done; 1: the command failed (a missing file, a bad model folder, a tokenizer error ...);
- 2: the command line itself is wrong (argparse's convention: unknown flag, missing argument, bad value);
- 130: interrupted with Ctrl-C (whatever was finished is kept; ``tokenize`` resumes from it).

    $ ferroformers tokenize --tokenizer ../shared/tokenizers/gpt2 --input ../shared/corpus/en.txt --output out/
    $ ferroformers generate --model path/to/gpt2 --prompt "Hello" --max-new-tokens 20 --stream
    $ echo '"I love this"' | ferroformers pipeline text-classification --model path/to/classifier
    $ ferroformers bench --quick
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# each is a module of this package, of the same name, that defines add_parser() and run()
SUBCOMMANDS = ("tokenize", "generate", "pipeline", "bench")


class CliError(Exception):
    """A failure to report as one line on stderr with exit status 1 (or ``status``)."""

    def __init__(self, message: str, status: int = 1):
        super().__init__(message)
        self.status = status


def build_parser() -> argparse.ArgumentParser:
    from ferroformers import __version__

    parser = argparse.ArgumentParser(
        prog="ferroformers",
        description="Rust-accelerated, Hugging Face-compatible transformers: tokenize corpora, generate text, "
        "run pipelines, measure speed.",
    )
    parser.add_argument("--version", action="version", version=f"ferroformers {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name in SUBCOMMANDS:
        module = importlib.import_module(f"{__name__}.{name}")
        sub = module.add_parser(subparsers)
        sub.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ferroformers`` console script (and ``python -m ferroformers``)."""
    parser = build_parser()
    args = parser.parse_args(argv)  # exits with 2 and argparse's message on a bad command line
    command = args.command
    try:
        return int(args._run(args) or 0)
    except KeyboardInterrupt:
        print(f"ferroformers {command}: interrupted", file=sys.stderr)
        return 130
    except CliError as err:
        print(f"ferroformers {command}: error: {err}", file=sys.stderr)
        return err.status
    except BrokenPipeError:  # `ferroformers pipeline ... | head`: the reader left, nothing to report
        return 0
    except (OSError, ValueError, TypeError, LookupError) as err:
        # Library errors (FerroformersError derives from these standard bases) and missing files:
        # the message says what was wrong; the exception's type helps to search the docs.
        print(f"ferroformers {command}: error: {type(err).__name__}: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
