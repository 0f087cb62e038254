"""`ferroformers tokenize` throughput beside the library's own batch paths, on the same documents, in one run.

For each tokenizer and corpus, the documents are the corpus' paragraphs (``--txt-split paragraph``) and three
paths tokenize them all, with the tokenizer's own settings (no special tokens, no truncation, no padding):

- ``encode_batch_fast ids``: ``Tokenizer.encode_batch_fast(docs)`` then ``[e.ids for e in encodings]``, the
  ids as Python lists (what code written against Hugging Face ``tokenizers`` does);
- ``encode_batch_flat``: ``Tokenizer.encode_batch_flat(docs)``, the ids as one flat NumPy array plus offsets,
  which is what the command calls;
- ``tokenize command``: ``ferroformers.cli.main(["tokenize", ...])`` in this process, into a new temporary
  folder each time: loading the tokenizer with ``AutoTokenizer``, reading the file, tokenizing, and writing
  and fsyncing the shards and manifest. Its "load" column is the ``AutoTokenizer.from_pretrained`` part of it,
  a fixed cost that weighs on corpora this small.

The library paths get the documents already in memory, and no file is read or written. Every figure is MB of
the documents' UTF-8 text per second, the best of ``--repeat`` runs, each path and repeat alternating; the
command's shards are checked to hold exactly the library's ids before any figure is printed.

    python benches/bench_cli_tokenize.py                       # en and zh corpora, gpt2 and bert-uncased: ~2 min
    python benches/bench_cli_tokenize.py --threads 1 --tokenizers gpt2 --corpus ../shared/corpus/de.txt
    python benches/bench_cli_tokenize.py --quick               # 256 kB of each corpus, one run: seconds
"""

from __future__ import annotations

import argparse
import contextlib
import io
import itertools
import tempfile
import time
from pathlib import Path

import ferroformers
from ferroformers.cli import main as cli_main
from ferroformers.cli.tokenize import load_documents, read_manifest

REPO = Path(__file__).resolve().parents[1]
QUICK_BYTES = 256 * 1024


def paragraphs(path: Path) -> list[str]:
    """The documents ``--txt-split paragraph`` makes of the corpus: the runs of lines that are not blank
    (a blank line is empty or has only spaces and tabs)."""
    lines = path.read_text(encoding="utf-8").split("\n")
    runs = itertools.groupby(lines, key=lambda line: bool(line.strip(" \t")))
    return ["\n".join(run) for not_blank, run in runs if not_blank]


def seconds(run) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def measure(tokenizer: Path, corpus: Path, repeat: int, threads: int | None, scratch: Path) -> dict[str, float]:
    docs = paragraphs(corpus)
    mb = sum(len(d.encode("utf-8")) for d in docs) / 1e6
    start = time.perf_counter()
    backend = ferroformers.AutoTokenizer.from_pretrained(tokenizer).backend_tokenizer
    load = time.perf_counter() - start

    def fast_ids():
        return [e.ids for e in backend.encode_batch_fast(docs, add_special_tokens=False)]

    def flat():
        return backend.encode_batch_flat(docs, add_special_tokens=False)

    def command():
        out = Path(tempfile.mkdtemp(dir=scratch))
        args = ["tokenize", "--tokenizer", str(tokenizer), "--input", str(corpus), "--output", str(out)]
        args += ["--txt-split", "paragraph"] + (["--workers", str(threads)] if threads else [])
        with contextlib.redirect_stderr(io.StringIO()) as log:
            status = cli_main(args)
        if status != 0:
            raise RuntimeError(f"ferroformers tokenize failed ({status}): {log.getvalue()}")
        return out

    # Agreement first: the command's shards hold the library's ids, document for document.
    expected = fast_ids()
    ids, offsets = flat()
    if [ids[a:b].tolist() for a, b in zip(offsets[:-1], offsets[1:])] != expected:
        raise AssertionError(f"{tokenizer.name} / {corpus.name}: encode_batch_flat differs from encode_batch_fast")
    out = command()
    if [d.tolist() for d in load_documents(out)] != expected:
        raise AssertionError(f"{tokenizer.name} / {corpus.name}: the command's ids differ from the library's")
    if abs(read_manifest(out)["bytes"] / 1e6 - mb) > 1e-9:
        raise AssertionError("the command read other documents than the paragraphs")

    best = {"fast": float("inf"), "flat": float("inf"), "command": float("inf")}
    for _ in range(repeat):  # alternate the paths, so that a busy moment of the machine does not hit one alone
        for name, run in (("fast", fast_ids), ("flat", flat), ("command", command)):
            best[name] = min(best[name], seconds(run))
    return {"mb": mb, "docs": len(docs), "load": load, **{k: mb / v for k, v in best.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    parser.add_argument("--tokenizers", default="gpt2,bert-uncased", help="comma-separated names under shared/")
    parser.add_argument("--corpus", type=Path, action="append", help="corpus file(s) (default: en.txt and zh.txt)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, help="threads of the Rust pool (default: all cores)")
    parser.add_argument("--quick", action="store_true", help=f"the first {QUICK_BYTES // 1024} kB of each corpus, once")
    args = parser.parse_args()

    corpora = args.corpus or [args.shared / "corpus" / "en.txt", args.shared / "corpus" / "zh.txt"]
    repeat = 1 if args.quick else args.repeat
    if args.threads:
        ferroformers.set_num_threads(args.threads)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        for i, corpus in enumerate(corpora):
            if args.quick:  # cut at a paragraph break, so the cut corpus is paragraphs too
                head = corpus.read_bytes()[:QUICK_BYTES].decode("utf-8", "ignore").rsplit("\n\n", 1)[0]
                corpus_path = scratch / f"{i}-{corpus.name}"
                corpus_path.write_text(head + "\n", encoding="utf-8")
            else:
                corpus_path = corpus
            for name in args.tokenizers.split(","):
                result = measure(args.shared / "tokenizers" / name, corpus_path, repeat, args.threads, scratch)
                rows.append((name, corpus.name, result))

    print(
        f"`ferroformers tokenize` beside the library's batch paths: {ferroformers.get_num_threads()} threads, "
        f"best of {repeat}, MB/s of UTF-8 text (documents = paragraphs){' (--quick)' if args.quick else ''}\n"
    )
    print(
        "| tokenizer | corpus | MB | documents | encode_batch_fast ids | encode_batch_flat | tokenize command "
        "| command / fast | command / flat | load |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, corpus, r in rows:
        print(
            f"| {name} | {corpus} | {r['mb']:.2f} | {r['docs']:,} | {r['fast']:.2f} | {r['flat']:.2f} "
            f"| {r['command']:.2f} | {r['command'] / r['fast']:.2f}x | {r['command'] / r['flat']:.2f}x "
            f"| {r['load']:.2f} s |"
        )


if __name__ == "__main__":
    main()
