"""One tokenizer shared by threads and processes gives the results it gives serially.

- 8 threads share one `PreTrainedTokenizerFast` and one low-level Rust `Tokenizer` and mix `encode`,
  `encode_batch`, `__call__` with a different padding/truncation per call, and `decode`: 10,000 calls,
  each compared with the serial answer. The Rust tokenizer keeps padding and truncation as state, so
  `__call__` holds a per-tokenizer lock from setting them to the end of its encode: another thread's
  call never sees them (without the lock: wrong padding, or "RuntimeError: Already borrowed").
- One thread reconfigures a shared low-level `Tokenizer` (padding, truncation, added tokens) while 4 threads
  encode with it: each call sees one whole configuration, never "Already borrowed" (the Rust tokenizer sits
  behind a read-write lock in the binding).
- After the Rust thread pool has been used, `os.fork()` gives a child that still encodes (no deadlock
  on a lock or pool held at fork time).
- A tokenizer and a model pickled into `spawn` processes give the same outputs there.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import random
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import torch
import transformers

import ferroformers as ff

THREADS = 8
CALLS_PER_THREAD = 1250


def _call(tok, raw, kind: str, payload):
    """One call of the mix on the shared tokenizers, its result as plain comparable values."""
    if kind == "encode":
        encoding = raw.encode(payload)
        return encoding.ids, encoding.offsets, tok.encode(payload)
    if kind == "encode_batch":
        return [(e.ids, e.attention_mask) for e in raw.encode_batch(payload)]
    if kind == "call":
        texts, options = payload
        return {k: list(v) for k, v in tok(texts, **options).items()}
    if kind == "decode":
        return raw.decode(payload), tok.decode(payload)
    raise AssertionError(kind)


def _workload(texts: list[str], seed: int) -> list[tuple[str, object]]:
    rng = random.Random(seed)
    paddings = [
        dict(padding=True),
        dict(padding="max_length", max_length=24, truncation=True),
        dict(truncation=True, max_length=7),
        dict(padding=True, pad_to_multiple_of=8),
        dict(),
    ]
    calls = []
    for _ in range(CALLS_PER_THREAD):
        kind = rng.choice(["encode", "encode_batch", "call", "decode"])
        if kind == "encode":
            calls.append((kind, rng.choice(texts)))
        elif kind == "encode_batch":
            calls.append((kind, rng.sample(texts, rng.randint(1, 6))))
        elif kind == "call":
            calls.append((kind, (rng.sample(texts, rng.randint(1, 4)), rng.choice(paddings))))
        else:
            calls.append((kind, [rng.randrange(50257) for _ in range(rng.randint(0, 40))]))
    return calls


@pytest.fixture(scope="module")
def gpt2_tok(tokenizers_dir):
    tok = ff.AutoTokenizer.from_pretrained(tokenizers_dir / "gpt2")
    tok.pad_token = tok.eos_token
    return tok


def test_threads_sharing_one_tokenizer_equal_serial(gpt2_tok, tokenizers_dir, corpus_texts):
    raw = ff.Tokenizer.from_file(str(tokenizers_dir / "gpt2" / "tokenizer.json"))
    texts = [t[:300] for t in corpus_texts("en", 60)] + ["", " ", "héllo wörld 👋", "a" * 500]
    workloads = [_workload(texts, seed) for seed in range(THREADS)]
    expected = [[_call(gpt2_tok, raw, kind, payload) for kind, payload in work] for work in workloads]

    barrier = threading.Barrier(THREADS)

    def run(work):
        barrier.wait()  # start together so the calls really overlap
        return [_call(gpt2_tok, raw, kind, payload) for kind, payload in work]

    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(run, workloads))
    assert sum(len(w) for w in workloads) == THREADS * CALLS_PER_THREAD
    for got, want in zip(results, expected):
        assert got == want


RECONFIGURING_ENCODERS = 4
CALLS_PER_ENCODER = 400


def test_reconfiguring_the_rust_tokenizer_while_threads_encode(tokenizers_dir, corpus_texts):
    """One thread switches padding and truncation on and off and adds tokens while 4 threads encode with
    the same low-level `Tokenizer`: no "Already borrowed", and each call sees one whole configuration (its
    result is the serial result of one of the four)."""
    raw = ff.Tokenizer.from_file(str(tokenizers_dir / "gpt2" / "tokenizer.json"))
    texts = [t[:200] for t in corpus_texts("en", 40)]
    batches = [texts[i : i + 3] for i in range(0, len(texts), 3)]
    configurations = [
        (padding, truncation)
        for padding in (None, dict(pad_id=50256, pad_token="<|endoftext|>", length=64))
        for truncation in (None, dict(max_length=9))
    ]

    def configure(padding, truncation):
        if padding:
            raw.enable_padding(**padding)
        else:
            raw.no_padding()
        if truncation:
            raw.enable_truncation(**truncation)
        else:
            raw.no_truncation()

    def encode(batch):
        return [(e.ids, e.attention_mask) for e in raw.encode_batch(batch)]

    expected = []
    for padding, truncation in configurations:
        configure(padding, truncation)
        expected.append([encode(b) for b in batches])
    configure(None, None)

    done = threading.Event()

    def reconfigure() -> int:
        changes = 0
        while not done.is_set():
            configure(*configurations[changes % len(configurations)])
            # tokens no text contains: the ids of the texts stay the same
            raw.add_tokens([f"<never-seen-{changes}>"])
            changes += 1
        return changes

    def run(seed: int) -> int:
        rng = random.Random(seed)
        mismatches = 0
        for _ in range(CALLS_PER_ENCODER):
            i = rng.randrange(len(batches))
            if encode(batches[i]) not in [answers[i] for answers in expected]:
                mismatches += 1
        return mismatches

    with ThreadPoolExecutor(RECONFIGURING_ENCODERS + 1) as pool:
        changer = pool.submit(reconfigure)
        mismatches = list(pool.map(run, range(RECONFIGURING_ENCODERS)))
        done.set()
        changes = changer.result()
    assert mismatches == [0] * RECONFIGURING_ENCODERS
    assert changes > 0 and raw.token_to_id(f"<never-seen-{changes - 1}>") is not None


def _encode_in_child(path: str, texts: list[str], queue) -> None:
    tok = ff.Tokenizer.from_file(path)
    queue.put([e.ids for e in tok.encode_batch(texts)])


def test_encode_after_fork_following_parallel_use(tokenizers_dir, corpus_texts):
    path = str(tokenizers_dir / "gpt2" / "tokenizer.json")
    tok = ff.Tokenizer.from_file(path)
    texts = corpus_texts("en", 200)
    expected = [e.ids for e in tok.encode_batch(texts)]  # the Rust thread pool is now running

    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: encode with the inherited tokenizer, report, and leave without cleanup
        status = 1
        try:
            os.close(read)
            same = [e.ids for e in tok.encode_batch(texts)] == expected
            single = tok.encode(texts[0]).ids == expected[0]
            os.write(write, b"ok" if same and single else b"different")
            status = 0
        finally:
            os._exit(status)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        message = pipe.read()
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    assert message == b"ok"

    # and in a fork-context pool, the way multiprocessing users meet it
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_encode_in_child, args=(path, texts[:20], queue))
    child.start()
    assert queue.get(timeout=60) == expected[:20]
    child.join(60)
    assert child.exitcode == 0


def _outputs_in_spawned_process(payload: bytes, texts: list[str]):
    tok, model = pickle.loads(payload)
    batch = tok(texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        logits = model(**batch).logits
    return [tok.backend_tokenizer.encode(t).ids for t in texts], logits, model.state_dict()


def test_tokenizer_and_model_survive_pickling_into_spawn(tmp_path, tokenizers_dir):
    folder = tmp_path / "gpt2"
    torch.manual_seed(3)
    transformers.GPT2LMHeadModel(
        transformers.GPT2Config(vocab_size=50257, n_embd=16, n_layer=1, n_head=2, n_positions=64)
    ).save_pretrained(folder)
    tok = ff.AutoTokenizer.from_pretrained(tokenizers_dir / "gpt2")
    tok.pad_token = tok.eos_token
    model = ff.AutoModelForCausalLM.from_pretrained(folder)
    texts = ["Hello world", "Pickled across processes, the same answers."]

    tok(texts, padding=True)  # the tokenizer now holds its backend lock (not picklable) and padding state
    payload = pickle.dumps((tok, model))
    here = _outputs_in_spawned_process(payload, texts)
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        there = pool.apply(_outputs_in_spawned_process, (payload, texts))
    assert here[0] == there[0]
    # The weights arrive bit for bit; the logits may differ in the last bits, because the spawned process runs
    # torch with its own thread count (another summation order in the matmuls) when the suite changed ours.
    assert here[2].keys() == there[2].keys()
    assert all(torch.equal(here[2][name], there[2][name]) for name in here[2])
    torch.testing.assert_close(here[1], there[1], rtol=0, atol=1e-6)
