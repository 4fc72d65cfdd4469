"""Set-based phrase lookup: find alias n-grams in many distinct texts with numpy.

How it works, once per batch of DISTINCT texts:

1. Texts are cut on whitespace (``str.split``); the chunks of all texts are flattened and
   factorized, so only the DISTINCT chunks go through the tokenizer regex
   (:class:`~vivier.tagging.normalize.Tokenizer`) and through Python (accent stripping,
   case-folding, plural folding, mapping to the alias vocabulary, 0 = unknown word).
2. The per-chunk items are expanded back to one item array for all texts with numpy.
3. Aliases form a trie over vocabulary ids. Level n extends the surviving (n-1)-gram prefixes
   by the next token with one vectorised ``searchsorted`` on (node, token) pairs, so n-grams of
   any length are looked up without building strings, and words outside the vocabulary cost
   nothing after step 2.
4. Matches are filtered by the alias rules (standalone / exact case), then a match contained in
   a longer match of the same phrase is dropped ("Java Script" is JavaScript, not Java).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from vivier.tagging.normalize import Tokenizer, fold_token, is_separator, strip_accents


@dataclass(frozen=True)
class Entry:
    """A phrase to find: its folded ``key``, the ``target`` it names and its rules."""

    key: str
    target: str
    text: str
    standalone_only: bool = False
    case_sensitive: bool = False


@dataclass
class Matches:
    """Matches in a batch of distinct texts, one row per (text, target), first occurrence kept."""

    text: np.ndarray  # position of the text in the batch
    target: np.ndarray  # index into PhraseIndex.targets
    entry: np.ndarray  # index into PhraseIndex.entries
    start: np.ndarray  # token position of the match inside its text
    length: np.ndarray  # number of tokens

    def __len__(self) -> int:
        return len(self.text)


_SENTINEL = "\x01"  # not whitespace for str.split, never a token character


def _chunks(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Whitespace chunks of all texts: (codes into distinct chunks, distinct chunks, text of each).

    One ``str.split`` over all texts joined by a sentinel chunk is several times faster than a
    split per text; newlines and tabs become "|" phrase separators first.
    """
    big = f" {_SENTINEL} ".join(texts)
    if big.count(_SENTINEL) != max(len(texts) - 1, 0):
        big = f" {_SENTINEL} ".join(t.replace(_SENTINEL, " ") for t in texts)
    for ch in ("\n", "\r", "\t", "\u2028", "\u2029"):
        if ch in big:
            big = big.replace(ch, " | ")
    flat = np.array(big.split(), dtype=object)
    del big
    if len(flat) == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, np.empty(0, dtype=object), empty
    codes, uniques = pd.factorize(flat)
    del flat
    codes = codes.astype(np.int64, copy=False)
    uniques = np.asarray(uniques, dtype=object)
    hits = [i for i, u in enumerate(uniques) if u == _SENTINEL]
    if hits:
        is_sentinel = codes == hits[0]
        text = np.cumsum(is_sentinel)[~is_sentinel]
        codes = codes[~is_sentinel]
    else:
        text = np.zeros(len(codes), dtype=np.int64)
    return codes, uniques, text


def _no_matches() -> Matches:
    empty = np.empty(0, dtype=np.int64)
    return Matches(empty, empty, empty, empty, empty)


class PhraseIndex:
    """A trie of alias keys over a token vocabulary, queried in bulk."""

    def __init__(self, entries: Sequence[Entry], tokenizer: Tokenizer):
        self.tokenizer = tokenizer
        self.entries: list[Entry] = list(entries)
        self.targets: list[str] = list(dict.fromkeys(e.target for e in self.entries))
        target_pos = {t: i for i, t in enumerate(self.targets)}
        self.vocab: dict[str, int] = {}
        children: dict[tuple[int, int], int] = {}
        terminal: list[int] = [-1]
        for ei, e in enumerate(self.entries):
            node = 0
            for tok in e.key.split(" "):
                vid = self.vocab.setdefault(tok, len(self.vocab) + 1)
                nxt = children.get((node, vid))
                if nxt is None:
                    nxt = len(terminal)
                    children[(node, vid)] = nxt
                    terminal.append(-1)
                node = nxt
            if terminal[node] != -1:
                raise ValueError(f"duplicate key {e.key!r} ({self.entries[terminal[node]].target} / {e.target})")
            terminal[node] = ei
        self.base = len(self.vocab) + 1
        pairs = np.array([p * self.base + v for (p, v) in children], dtype=np.int64)
        kids = np.array(list(children.values()), dtype=np.int64)
        order = np.argsort(pairs, kind="stable")
        self._pair_keys = pairs[order]
        self._pair_child = kids[order]
        # Children of the root by vocabulary id: level 1 is a plain array lookup.
        self._root_child = np.full(self.base, -1, dtype=np.int64)
        for (parent, vid), child in children.items():
            if parent == 0:
                self._root_child[vid] = child
        self._terminal = np.array(terminal, dtype=np.int64)
        self._entry_target = np.array([target_pos[e.target] for e in self.entries], dtype=np.int64)
        self._entry_standalone = np.array([e.standalone_only for e in self.entries], dtype=bool)
        self._entry_case = np.array([e.case_sensitive for e in self.entries], dtype=bool)
        # Exact-case form of case-sensitive aliases: accent-stripped raw tokens.
        self._entry_raw: dict[int, tuple[str, ...]] = {
            i: tuple(strip_accents(t) for ph in tokenizer.phrases(e.text) for t in ph)
            for i, e in enumerate(self.entries)
            if e.case_sensitive
        }
        self.max_len = max((len(e.key.split(" ")) for e in self.entries), default=0)

    # ------------------------------------------------------------------
    def _child(self, nodes: np.ndarray, vids: np.ndarray) -> np.ndarray:
        """Child node for each (node, vocabulary id) pair, -1 when the trie has none."""
        if len(self._pair_keys) == 0:
            return np.full(len(nodes), -1, dtype=np.int64)
        keys = nodes * self.base + vids
        idx = np.searchsorted(self._pair_keys, keys)
        idx_c = np.minimum(idx, len(self._pair_keys) - 1)
        found = self._pair_keys[idx_c] == keys
        return np.where(found, self._pair_child[idx_c], -1)

    def match(self, texts: Sequence[str]) -> Matches:
        """Find the entries in each text (texts should be distinct; each is processed once)."""
        n_texts = len(texts)
        # 1. Whitespace chunks of every text, flattened; only distinct chunks are tokenised.
        chunk_codes, chunk_uniques, chunk_text = _chunks(texts)
        if len(chunk_codes) == 0 or not self.entries:
            return _no_matches()

        # 2. Items (tokens and separators) of each distinct chunk, mapped to vocabulary ids.
        chunk_items = self.tokenizer.chunk_items
        vocab_get = self.vocab.get
        item_raw: list[str] = []
        uniq_len = np.empty(len(chunk_uniques), dtype=np.int64)
        for i, chunk in enumerate(chunk_uniques):
            items = chunk_items(chunk)
            uniq_len[i] = len(items)
            item_raw.extend(items)
        item_sep = np.fromiter((is_separator(x) for x in item_raw), dtype=bool, count=len(item_raw))
        item_vid = np.fromiter(
            (0 if sep else vocab_get(fold_token(x), 0) for x, sep in zip(item_raw, item_sep, strict=True)),
            dtype=np.int64,
            count=len(item_raw),
        )
        uniq_start = np.cumsum(uniq_len) - uniq_len

        # 3. Expand to the item sequence of all texts (positions into item_raw).
        occ_len = uniq_len[chunk_codes]
        total = int(occ_len.sum())
        if total == 0:
            return _no_matches()
        occ_first = np.cumsum(occ_len) - occ_len
        item_idx = np.repeat(uniq_start[chunk_codes] - occ_first, occ_len) + np.arange(total)
        vid = item_vid[item_idx]
        is_sep = item_sep[item_idx]
        lengths = np.bincount(chunk_text, weights=occ_len, minlength=n_texts).astype(np.int64)
        offsets = np.cumsum(lengths) - lengths
        text_start = np.zeros(total, dtype=bool)
        text_start[offsets[lengths > 0]] = True
        phrase = np.cumsum(is_sep | text_start)
        # Words per phrase (separators excluded): a match is "standalone" when it covers them all.
        phrase_words = np.bincount(phrase, weights=(~is_sep).astype(np.float64)).astype(np.int64)

        # Level 1 then longer n-grams, following the trie.
        starts = np.flatnonzero(vid > 0)
        nodes = self._root_child[vid[starts]]
        keep = nodes >= 0
        starts, nodes = starts[keep], nodes[keep]
        m_start, m_len, m_entry = [], [], []
        n = 1
        while len(starts):
            term = self._terminal[nodes]
            hit = term >= 0
            if hit.any():
                m_start.append(starts[hit])
                m_len.append(np.full(int(hit.sum()), n, dtype=np.int64))
                m_entry.append(term[hit])
            if n >= self.max_len:
                break
            nxt = starts + n
            ok = nxt < total
            starts, nodes, nxt = starts[ok], nodes[ok], nxt[ok]
            ok = (vid[nxt] > 0) & (phrase[nxt] == phrase[starts])
            starts, nodes, nxt = starts[ok], nodes[ok], nxt[ok]
            nodes = self._child(nodes, vid[nxt])
            ok = nodes >= 0
            starts, nodes = starts[ok], nodes[ok]
            n += 1
        if not m_start:
            return _no_matches()
        start = np.concatenate(m_start)
        length = np.concatenate(m_len)
        entry = np.concatenate(m_entry)

        # Rules of ambiguous aliases: the whole phrase, or the exact case (either suffices).
        standalone_rule = self._entry_standalone[entry]
        case_rule = self._entry_case[entry]
        restricted = standalone_rule | case_rule
        if restricted.any():
            ok = ~restricted
            is_whole = length == phrase_words[phrase[start]]
            ok |= standalone_rule & is_whole
            cs = np.flatnonzero(case_rule & ~ok)
            if len(cs):
                for i in cs:
                    s, ln = int(start[i]), int(length[i])
                    raw = tuple(strip_accents(item_raw[j]) for j in item_idx[s : s + ln])
                    ok[i] = raw == self._entry_raw[int(entry[i])]
            start, length, entry = start[ok], length[ok], entry[ok]
            if len(start) == 0:
                return _no_matches()

        # Longest match wins: sorted by start then longest first, a match whose end does not go
        # past the furthest end seen so far lies inside an earlier, longer match. Matches of
        # earlier phrases end before this phrase starts, so they never suppress it.
        order = np.lexsort((-length, start))
        start, length, entry = start[order], length[order], entry[order]
        end = start + length
        prev_max = np.concatenate(([-1], np.maximum.accumulate(end)[:-1]))
        keep = end > prev_max
        start, length, entry = start[keep], length[keep], entry[keep]

        text_idx = np.searchsorted(offsets, start, side="right") - 1
        # Zero-length texts share their offset with the next text: searchsorted(side=right)
        # lands on the last text with that offset, which is the non-empty one.
        target = self._entry_target[entry]
        # One row per (text, target), first occurrence: start is already sorted.
        pair = text_idx * len(self.targets) + target
        _, first = np.unique(pair, return_index=True)
        first.sort()
        return Matches(
            text=text_idx[first],
            target=target[first],
            entry=entry[first],
            start=start[first] - offsets[text_idx[first]],
            length=length[first],
        )
