"""Type stubs of the compiled module `ferroformers._core` (the PyO3 bindings of the Rust core)."""

from collections.abc import Sequence
from os import PathLike
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

__version__: str

TextInput = str
PreTokenizedInput = Sequence[str]
InputItem = str | tuple[str, str] | list[str] | tuple[Sequence[str], Sequence[str]]

def set_num_threads(n: int) -> None: ...
def get_num_threads() -> int: ...

class AddedToken:
    def __init__(
        self,
        content: str,
        single_word: bool = False,
        lstrip: bool = False,
        rstrip: bool = False,
        normalized: bool | None = None,
        special: bool = False,
    ) -> None: ...
    @property
    def content(self) -> str: ...
    @property
    def single_word(self) -> bool: ...
    @property
    def lstrip(self) -> bool: ...
    @property
    def rstrip(self) -> bool: ...
    @property
    def normalized(self) -> bool: ...
    @property
    def special(self) -> bool: ...

class Encoding:
    @property
    def ids(self) -> list[int]: ...
    @property
    def type_ids(self) -> list[int]: ...
    @property
    def tokens(self) -> list[str]: ...
    @property
    def offsets(self) -> list[tuple[int, int]]: ...
    @property
    def attention_mask(self) -> list[int]: ...
    @property
    def special_tokens_mask(self) -> list[int]: ...
    @property
    def word_ids(self) -> list[int | None]: ...
    @property
    def words(self) -> list[int | None]: ...
    @property
    def sequence_ids(self) -> list[int | None]: ...
    @property
    def n_sequences(self) -> int: ...
    @property
    def overflowing(self) -> list[Encoding]: ...
    def char_to_token(self, char_pos: int, sequence_index: int = 0) -> int | None: ...
    def word_to_tokens(self, word_index: int, sequence_index: int = 0) -> tuple[int, int] | None: ...
    def __len__(self) -> int: ...

class Tokenizer:
    """A Hugging Face `tokenizer.json` tokenizer (drop-in for `tokenizers.Tokenizer`). Threads may share one,
    and one of them may change its padding, truncation or added tokens while others encode: each call sees
    one whole configuration (the Rust tokenizer sits behind a read-write lock). Token ids of any size are
    accepted by `decode` / `id_to_token`; one outside the vocabulary is an `InvalidTokenIdError` / None."""

    @staticmethod
    def from_file(path: str | PathLike[str]) -> Tokenizer: ...
    @staticmethod
    def from_str(json: str, exact_scores: bool = False) -> Tokenizer: ...
    @staticmethod
    def from_buffer(buffer: bytes) -> Tokenizer: ...
    @staticmethod
    def from_wordpiece_vocab(
        vocab_file: str | PathLike[str],
        lowercase: bool = True,
        strip_accents: bool | None = None,
        tokenize_chinese_chars: bool = True,
        clean_text: bool = True,
        unk_token: str = "[UNK]",
        sep_token: str = "[SEP]",
        cls_token: str = "[CLS]",
        pad_token: str = "[PAD]",
        mask_token: str = "[MASK]",
        wordpieces_prefix: str = "##",
    ) -> Tokenizer: ...
    @staticmethod
    def from_bpe_files(
        vocab_file: str | PathLike[str],
        merges_file: str | PathLike[str],
        add_prefix_space: bool = False,
        special_tokens: list[str] | None = None,
    ) -> Tokenizer: ...
    def to_str(self, pretty: bool = False) -> str: ...
    def save(self, path: str | PathLike[str], pretty: bool = True) -> None: ...
    def __reduce__(self) -> tuple[Any, tuple[str]]: ...
    def encode(
        self,
        sequence: TextInput | PreTokenizedInput,
        pair: TextInput | PreTokenizedInput | None = None,
        is_pretokenized: bool = False,
        add_special_tokens: bool = True,
    ) -> Encoding: ...
    def encode_batch(
        self, input: Sequence[InputItem], is_pretokenized: bool = False, add_special_tokens: bool = True
    ) -> list[Encoding]: ...
    def encode_batch_fast(
        self, input: Sequence[InputItem], is_pretokenized: bool = False, add_special_tokens: bool = True
    ) -> list[Encoding]: ...
    def encode_batch_arrays(
        self,
        input: Sequence[InputItem],
        is_pretokenized: bool = False,
        add_special_tokens: bool = True,
        fields: Sequence[str] | None = None,
    ) -> dict[str, npt.NDArray[np.int64]]: ...
    def encode_batch_flat(
        self, input: Sequence[InputItem], is_pretokenized: bool = False, add_special_tokens: bool = True
    ) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.int64]]:
        """Every item's ids in one flat uint32 array, and int64 offsets (one more than items): item `i`'s ids
        are `ids[offsets[i]:offsets[i + 1]]`. Truncation applies, padding does not; no `Encoding` objects.

        >>> tok = Tokenizer.from_file("gpt2/tokenizer.json")
        >>> ids, offsets = tok.encode_batch_flat(["Hello world", "Hi"])
        >>> [ids[a:b].tolist() for a, b in zip(offsets[:-1], offsets[1:])]
        [[15496, 995], [17250]]
        """
    def decode(self, ids: Sequence[int], skip_special_tokens: bool = True) -> str: ...
    def decode_batch(self, sequences: Sequence[Sequence[int]], skip_special_tokens: bool = True) -> list[str]: ...
    def decode_tokens(self, tokens: Sequence[str]) -> str: ...
    def token_to_id(self, token: str) -> int | None: ...
    def id_to_token(self, id: int) -> str | None: ...
    def get_vocab(self, with_added_tokens: bool = True) -> dict[str, int]: ...
    def get_vocab_size(self, with_added_tokens: bool = True) -> int: ...
    def get_added_tokens_decoder(self) -> dict[int, AddedToken]: ...
    def add_tokens(self, tokens: Sequence[str | AddedToken]) -> int: ...
    def add_special_tokens(self, tokens: Sequence[str | AddedToken]) -> int: ...
    def num_special_tokens_to_add(self, is_pair: bool) -> int: ...
    encode_special_tokens: bool
    def enable_padding(
        self,
        direction: Literal["left", "right"] = "right",
        pad_id: int = 0,
        pad_type_id: int = 0,
        pad_token: str = "[PAD]",
        length: int | None = None,
        pad_to_multiple_of: int | None = None,
    ) -> None: ...
    def no_padding(self) -> None: ...
    @property
    def padding(self) -> dict[str, Any] | None: ...
    def enable_truncation(
        self,
        max_length: int,
        stride: int = 0,
        strategy: Literal["longest_first", "only_first", "only_second"] = "longest_first",
        direction: Literal["left", "right"] = "right",
    ) -> None: ...
    def no_truncation(self) -> None: ...
    @property
    def truncation(self) -> dict[str, Any] | None: ...

# --- generation (rust/python/src/generation.rs) -------------------------------------------------

def set_seed(seed: int) -> None:
    """Reseed the process-wide source from which generators without a `seed` draw theirs."""

class Generator:
    """The per-step work of `generate()`: logits processors, warpers, token choice, beam search.

    Pass the `batch_size` prompts unexpanded; each becomes `max(num_beams, num_return_sequences)`
    rows, repeated in place like `repeat_interleave`. Expand the model inputs the same way and give
    `step` the last-position logits of all `rows` rows.

        >>> g = Generator(1, 5, np.array([[1, 2]]), max_length=4, eos_token_ids=[0])
        >>> g.step(np.zeros((1, 5), np.float32))["next_tokens"]
        array([0])
    """

    def __init__(
        self,
        batch_size: int,
        vocab_size: int,
        prompt_ids: npt.NDArray[np.int64],
        *,
        max_length: int,
        do_sample: bool = False,
        num_beams: int = 1,
        num_return_sequences: int = 1,
        temperature: float = 1.0,
        top_k: int | None = None,
        top_p: float | None = None,
        min_p: float | None = None,
        typical_p: float | None = None,
        repetition_penalty: float | None = None,
        no_repeat_ngram_size: int | None = None,
        bad_words_ids: Sequence[Sequence[int]] | None = None,
        suppress_tokens: Sequence[int] | None = None,
        min_length: int = 0,
        min_new_tokens: int | None = None,
        eos_token_ids: int | Sequence[int] | None = None,
        pad_token_id: int | None = None,
        length_penalty: float = 1.0,
        early_stopping: bool | Literal["never"] | None = None,
        seed: int | None = None,
        output_scores: bool = False,
        attention_mask: npt.NDArray[np.int64] | None = None,
    ) -> None: ...
    @property
    def rows(self) -> int: ...
    @property
    def vocab_size(self) -> int: ...
    @property
    def prompt_length(self) -> int: ...
    @property
    def done(self) -> bool: ...
    def step(self, logits: npt.NDArray[np.float32]) -> dict[str, Any]:
        """`next_tokens` (rows,), `beam_indices` (rows,), `done`, and `scores` (rows, vocab) when
        `output_scores`."""
    def stop_rows(self, stopped: Sequence[bool]) -> bool: ...
    def finalize(self) -> dict[str, npt.NDArray[Any]]:
        """`sequences` (batch_size * num_return_sequences, length) and, for beam search,
        `sequences_scores`."""
    def process(
        self,
        logits: npt.NDArray[np.float32],
        input_ids: npt.NDArray[np.int64],
        attention_mask: npt.NDArray[np.int64] | None = None,
    ) -> npt.NDArray[np.float32]: ...

# --- dropout masks (rust/python/src/random.rs) --------------------------------------------------

def fill_dropout_mask(out: npt.NDArray[np.float32], p: float, seed: int) -> None:
    """Overwrite the C-contiguous float32 array `out` with a dropout mask: each element `1 / (1 - p)`
    with probability `1 - p`, else `0.0` (p in [0, 1), seed in [0, 2**64)).

    Filled in parallel with the GIL released; the values depend on `(seed, p)` and each element's
    position only, not on the thread count. `ferroformers.models.dropout` passes a torch tensor's
    `.numpy()` view and draws `seed` from torch's CPU generator.

        >>> mask = np.empty(4, np.float32)
        >>> fill_dropout_mask(mask, 0.0, 0)
        >>> mask
        array([1., 1., 1., 1.], dtype=float32)
    """
