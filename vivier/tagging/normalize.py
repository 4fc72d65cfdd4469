"""Text normalisation shared by the skill tagger, the job-family keywords and the ESCO importer.

The same functions turn taxonomy aliases and candidate texts into the same keys, so that
"COMPTABILITÉ", "comptabilite" and "Comptabilités" all become ``comptabilite``.

Tokens keep ``+``, ``#`` and inner dots ("C++", "C#", ".NET", "Node.js" survive), while a
word-boundary regex (``\\b``) would never match those: ``+``, ``#`` and ``.`` are not word
characters, so ``\\bC\\+\\+\\b`` needs a word character after the last ``+``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

# Texts are first cut on whitespace into space-free chunks (``str.split``, fast and C-level);
# each DISTINCT chunk is then split by one regex into tokens and separators. Characters that
# end a phrase (a list item, a cell, a clause): ambiguous aliases only count when they make up
# a whole phrase. Newlines and tabs end a phrase too (turned into "|" before the split); so do
# a chunk made only of dashes (" - " between words) and a dot not followed by a word character
# ("Java. Then", "etc."), while "Node.js" keeps its dot.
SEPARATOR_CHARS = "|,;/\n\r\t\u2022\u00b7()[]{}:!?.-\u2013\u2014"
SEPARATOR_PATTERN = r"[|,;/\n\r\t\u2022\u00b7()\[\]{}:!?]|\.(?![\w\u0300-\u036f])"
_DASH_CHUNK = re.compile(r"[-\u2013\u2014]+")
_WHITESPACE_SEPARATORS = str.maketrans({"\n": " | ", "\r": " | ", "\t": " | ", "\u2028": " | ", "\u2029": " | "})

# A token: an optional leading dot (".NET"), a word character, then word characters, "+", "#"
# and dots followed by a word character ("Node.js", "ASP.NET"; the dot ending "Java." is not
# kept). Combining accents (decomposed input) are part of the word. Compared with ``\b``
# boundaries, a token never starts or ends next to another token character, so "Java" is not
# inside "JavaScript" and "C" is not inside "C++" or "C#".
TOKEN_PATTERN = r"\.?[\w\u0300-\u036f](?:[\w\u0300-\u036f+#]|\.(?=\w))*"

_SEPARATOR_CHARS = re.compile(SEPARATOR_PATTERN)

_COMBINING = re.compile(r"[\u0300-\u036f]")


def strip_accents(text: str) -> str:
    """NFKD-decompose and drop combining marks: "Comptabilité" -> "Comptabilite" (case kept)."""
    decomposed = unicodedata.normalize("NFKD", text)
    if decomposed.isascii():
        return decomposed
    return _COMBINING.sub("", decomposed)


@lru_cache(maxsize=200_000)
def fold_token(token: str) -> str:
    """Case-fold, strip accents and fold simple plurals and feminine forms of ONE token.

    The folding is deliberately simple and applied identically to aliases and texts, so it only
    has to be consistent, not linguistically right: "databases" -> "database", "technologies" ->
    "technology", "réseaux" -> "reseau", "développeuse" -> "developpeur", "directrice" ->
    "directeur", "infirmières" -> "infirmier", "Entwicklerin" -> "entwickler". Short tokens
    ("aws", "ios", "js"), tokens with digits or symbols ("node.js", "b2b") and endings in
    -ss/-us/-is ("business", "campus", "anglais", "redis") keep their "s".
    """
    tok = strip_accents(token).casefold()
    if not tok.isalpha():  # "node.js", "c++", "b2b", "k8s" are never folded
        return tok
    n = len(tok)
    if n > 4 and tok.endswith("ies"):
        tok = tok[:-3] + "y"
    elif n > 4 and tok.endswith("eaux"):
        tok = tok[:-1]
    elif n > 3 and tok[-1] == "s" and not tok.endswith(("ss", "us", "is")):
        tok = tok[:-1]
    n = len(tok)
    if n > 8 and tok.endswith("erinnen"):  # German feminine plural
        return tok[:-5]
    if n > 6 and tok.endswith("erin"):  # German feminine
        return tok[:-2]
    if n > 5 and tok.endswith("euse"):  # French feminine
        return tok[:-4] + "eur"
    if n > 6 and tok.endswith("trice"):
        return tok[:-5] + "teur"
    if n > 5 and tok.endswith("iere"):
        return tok[:-4] + "ier"
    if n > 5 and tok.endswith("ee"):  # "chargée" -> "charge", "employee" -> "employe"
        return tok[:-1]
    return tok


def has_separator(text: str) -> bool:
    """True when an alias contains a phrase separator and must be treated as a compound."""
    return bool(_SEPARATOR_CHARS.search(text))


def split_chunks(text: str) -> list[str]:
    """Whitespace split, newlines and tabs kept as "|" separators."""
    if "\n" in text or "\t" in text or "\r" in text or "\u2028" in text or "\u2029" in text:
        text = text.translate(_WHITESPACE_SEPARATORS)
    return text.split()


def is_separator(item: str) -> bool:
    """True for the separators among the items of :meth:`Tokenizer.chunk_items` (one character each)."""
    return len(item) == 1 and item in SEPARATOR_CHARS


class Tokenizer:
    """Cuts texts into tokens and phrase separators.

    ``compounds`` are aliases chunks containing a separator ("CI/CD", "PL/SQL", "A/B"); they are
    matched first, as one token, case-insensitively (give them without accents too), and only
    when not glued to other token characters.
    """

    def __init__(self, compounds: Iterable[str] = ()):
        comps = sorted({c.strip() for c in compounds if c and c.strip()}, key=lambda c: (-len(c), c))
        self.compounds = tuple(comps)
        parts = []
        if comps:
            alternation = "|".join(re.escape(c) for c in comps)
            # Same boundaries as tokens: no token character just before or after the compound.
            parts.append(rf"(?<![\w+#.])(?i:{alternation})(?![\w+#])")
        parts.append(TOKEN_PATTERN)
        parts.append(SEPARATOR_PATTERN)
        self.regex = re.compile("|".join(parts))
        self._findall = self.regex.findall

    def chunk_items(self, chunk: str) -> list[str]:
        """Tokens and separators of one space-free chunk, in order (case and accents kept)."""
        if _DASH_CHUNK.fullmatch(chunk):
            return ["-"]
        return self._findall(chunk)

    def items(self, text: str) -> list[str]:
        """Tokens and separators of a whole text, in order."""
        out: list[str] = []
        for chunk in split_chunks(text):
            out.extend(self.chunk_items(chunk))
        return out

    def phrases(self, text: str) -> list[list[str]]:
        """Raw tokens (case and accents kept) grouped by phrase; empty phrases dropped."""
        out: list[list[str]] = [[]]
        for item in self.items(text):
            if is_separator(item):
                if out[-1]:
                    out.append([])
            else:
                out[-1].append(item)
        return [p for p in out if p]

    def key(self, text: str) -> str:
        """Lookup key of an alias or keyword: its folded tokens joined by single spaces."""
        return " ".join(fold_token(t) for phrase in self.phrases(text) for t in phrase)
