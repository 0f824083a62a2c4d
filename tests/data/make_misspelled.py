#!/usr/bin/env python3
"""Generate banking77_train_misspelled.csv from banking77_train.csv.

Every query gets exactly one misspelled word where possible; the category and
the row order are unchanged. Misspellings are real-world ones taken from the
codespell dictionary (codespell_lib/data/dictionary.txt, which maps
``misspelling->correction``), inverted to ``correction -> [misspellings]``.

Choice per query, deterministic (one random.Random(seed) stream, rows in file
order):

  tier "dict"       a word of 5+ letters (not an all-caps acronym) that has a
                    codespell misspelling; one such occurrence is chosen at
                    random and replaced by one of its misspellings, chosen at
                    random.
  tier "dict-short" otherwise, another word that has a codespell
                    misspelling: a 5+ letter all-caps/mixed-case word, else a
                    4-letter word, else 3 letters, else 1-2 letters.
  tier "swap"       otherwise, a keyboard typo: two adjacent *inner* letters of
                    a 5+ letter word are swapped (first and last letter kept).
  tier "swap-short" otherwise, the same on a 4-letter word.
  tier "unchanged"  otherwise (no usable word); the query is copied as is.

The case of the first letter of the replaced word is kept (all-caps words stay
all caps). Only unambiguous dictionary entries are used (lines without a comma,
i.e. a single correction, which codespell itself would auto-fix); entries
whose correction is several words are skipped.

Uses only the standard library. The dictionary comes from an installed
codespell (``pip install codespell``), or from --dictionary PATH. Results
depend on the dictionary version: the committed file was made with
codespell 2.4.3 and seed 77.

Usage:
    python3 tests/data/make_misspelled.py            # defaults below
    python3 tests/data/make_misspelled.py --check    # verify the committed file
"""

from __future__ import annotations

import argparse
import csv
import importlib.metadata
import importlib.util
import io
import os
import random
import re
import sys
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_INPUT = os.path.join(HERE, "banking77_train.csv")
DEFAULT_OUTPUT = os.path.join(HERE, "banking77_train_misspelled.csv")
DEFAULT_SEED = 77
MIN_LONG = 5

# A word: letters, optionally with inner apostrophes (hasn't, I'm), not glued
# to other letters, digits or apostrophes.
WORD_RE = re.compile(r"(?<![A-Za-z0-9'])[A-Za-z]+(?:'[A-Za-z]+)*(?![A-Za-z0-9])")
ENTRY_WORD_RE = re.compile(r"^[a-z]+(?:'[a-z]+)*$")


def codespell_dictionary_path() -> str:
    spec = importlib.util.find_spec("codespell_lib")
    if spec is None or not spec.submodule_search_locations:
        sys.exit(
            "codespell is not installed: run `pip install codespell`, "
            "or pass --dictionary PATH/TO/dictionary.txt"
        )
    path = os.path.join(list(spec.submodule_search_locations)[0], "data", "dictionary.txt")
    if not os.path.isfile(path):
        sys.exit(f"codespell dictionary not found at {path}")
    return path


def codespell_version() -> str:
    try:
        return importlib.metadata.version("codespell")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def load_inverted_dictionary(path: str) -> dict[str, list[str]]:
    """correction -> sorted misspellings, from unambiguous single-word entries."""
    inverted: dict[str, set[str]] = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or "->" not in line:
                continue
            wrong, right = line.split("->", 1)
            wrong, right = wrong.strip().lower(), right.strip().lower()
            if "," in right:  # several candidate corrections and/or a reason
                continue
            if not ENTRY_WORD_RE.match(wrong) or not ENTRY_WORD_RE.match(right):
                continue
            if wrong == right:
                continue
            inverted.setdefault(right, set()).add(wrong)
    return {k: sorted(v) for k, v in inverted.items()}


def is_acronym(word: str) -> bool:
    return len(word) > 1 and word.isupper()


def is_plain(word: str) -> bool:
    """lower case, or Capitalised; not an acronym or mixed case (iPhone)."""
    rest = word[1:]
    return rest == rest.lower() and not is_acronym(word)


def match_case(template: str, word: str) -> str:
    if is_acronym(template):
        return word.upper()
    if template[0].isupper():
        return word[0].upper() + word[1:]
    return word[0].lower() + word[1:]


def letters(word: str) -> int:
    return sum(c.isalpha() for c in word)


def swap_positions(word: str) -> list[int]:
    """i such that word[i], word[i+1] are inner letters that differ."""
    return [
        i
        for i in range(1, len(word) - 2)
        if word[i].isalpha() and word[i + 1].isalpha() and word[i].lower() != word[i + 1].lower()
    ]


def misspell(text: str, inverted: dict[str, list[str]], rng: random.Random):
    """Return (new_text, tier, original_word, new_word)."""
    tokens = [(m.start(), m.end(), m.group()) for m in WORD_RE.finditer(text)]

    known = [t for t in tokens if t[2].lower() in inverted]
    dict_long = [t for t in known if letters(t[2]) >= MIN_LONG and is_plain(t[2])]
    # Shorter words only when no 5+ letter word qualifies, longest band first
    # (5+ letter acronyms/shouting, then 4, then 3, then 1-2 letters).
    dict_short = []
    for lo, hi in ((MIN_LONG, 10**6), (4, 4), (3, 3), (1, 2)):
        dict_short = [t for t in known if lo <= letters(t[2]) <= hi]
        if dict_short:
            break
    swap_long = [t for t in tokens if t[2].isalpha() and len(t[2]) >= MIN_LONG and swap_positions(t[2])]
    swap_four = [t for t in tokens if t[2].isalpha() and len(t[2]) == 4 and swap_positions(t[2])]

    for tier, cands in (("dict", dict_long), ("dict-short", dict_short)):
        if cands:
            start, end, word = rng.choice(cands)
            new = match_case(word, rng.choice(inverted[word.lower()]))
            return text[:start] + new + text[end:], tier, word, new
    for tier, cands in (("swap", swap_long), ("swap-short", swap_four)):
        if cands:
            start, end, word = rng.choice(cands)
            i = rng.choice(swap_positions(word))
            new = word[:i] + word[i + 1] + word[i] + word[i + 2:]
            return text[:start] + new + text[end:], tier, word, new
    return text, "unchanged", "", ""


def generate(input_path: str, dictionary_path: str, seed: int):
    inverted = load_inverted_dictionary(dictionary_path)
    with open(input_path, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    if header != ["text", "category"]:
        sys.exit(f"unexpected header {header!r}")
    rng = random.Random(seed)
    out_rows = [header]
    tiers: Counter[str] = Counter()
    changes = []
    for text, category in body:
        new_text, tier, old, new = misspell(text, inverted, rng)
        tiers[tier] += 1
        changes.append((text, new_text, tier, old, new))
        out_rows.append([new_text, category])
    buf = io.StringIO(newline="")
    # Same dialect as the source file: QUOTE_MINIMAL, CRLF line endings.
    csv.writer(buf, lineterminator="\r\n").writerows(out_rows)
    return buf.getvalue(), tiers, changes, len(inverted)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--input", default=DEFAULT_INPUT)
    ap.add_argument("--output", default=DEFAULT_OUTPUT)
    ap.add_argument("--dictionary", help="codespell dictionary.txt (default: the installed codespell's)")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--check", action="store_true", help="do not write; exit 1 if --output differs")
    ap.add_argument("--examples", type=int, default=0, help="print N example changes")
    args = ap.parse_args()

    dictionary_path = args.dictionary or codespell_dictionary_path()
    data, tiers, changes, n_words = generate(args.input, dictionary_path, args.seed)

    print(f"dictionary: {dictionary_path} (codespell {codespell_version()}), "
          f"{n_words} words with an unambiguous misspelling; seed {args.seed}")
    print(f"rows: {sum(tiers.values())}; " + ", ".join(f"{k}: {tiers[k]}" for k in
          ("dict", "dict-short", "swap", "swap-short", "unchanged")))
    if args.examples:
        step = max(1, len(changes) // args.examples)
        for text, new_text, tier, old, new in changes[::step][: args.examples]:
            print(f"  [{tier}] {old!r} -> {new!r}\n    {text!r}\n    {new_text!r}")

    if args.check:
        with open(args.output, encoding="utf-8", newline="") as f:
            same = f.read() == data
        print("up to date" if same else f"{args.output} differs from a fresh run")
        sys.exit(0 if same else 1)
    with open(args.output, "w", encoding="utf-8", newline="") as f:
        f.write(data)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
