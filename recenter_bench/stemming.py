"""Porter's suffix stripping, steps 1a-1c only: plurals, -ed / -ing, and a final y.

M. F. Porter, "An algorithm for suffix stripping", Program 14(3), 1980. Step 1 is the part
that folds inflections ("cooks", "cooking", "cooked" -> "cook") without the derivational
steps 2-5, which also merge words of different meaning ("general", "generous" -> "gener").
"""

from __future__ import annotations

VOWELS = frozenset("aeiou")


def _consonant(word: str, i: int) -> bool:
    """Porter's consonant: not a, e, i, o, u, and y only after a vowel (or first)."""
    if word[i] in VOWELS:
        return False
    return word[i] != "y" or i == 0 or not _consonant(word, i - 1)


def _measure(stem: str) -> int:
    """m in [C](VC)^m[V]: how many vowel-consonant runs the stem has."""
    m, previous_vowel = 0, False
    for i in range(len(stem)):
        vowel = not _consonant(stem, i)
        m += previous_vowel and not vowel
        previous_vowel = vowel
    return m


def _has_vowel(stem: str) -> bool:
    return any(not _consonant(stem, i) for i in range(len(stem)))


def _ends_cvc(stem: str) -> bool:
    """*o: consonant-vowel-consonant, the last not w, x or y ("hop", not "bow")."""
    n = len(stem)
    return (
        n >= 3
        and _consonant(stem, n - 3)
        and not _consonant(stem, n - 2)
        and _consonant(stem, n - 1)
        and stem[-1] not in "wxy"
    )


def _step1b_tidy(stem: str) -> str:
    """After -ed / -ing is removed: restore an e, or undo a doubled consonant."""
    if stem.endswith(("at", "bl", "iz")):
        return stem + "e"
    if len(stem) >= 2 and stem[-1] == stem[-2] and _consonant(stem, len(stem) - 1):
        return stem if stem[-1] in "lsz" else stem[:-1]
    if _measure(stem) == 1 and _ends_cvc(stem):
        return stem + "e"
    return stem


def porter_step1(word: str) -> str:
    """A lower-case word after Porter's steps 1a, 1b and 1c (the paper's own examples).

    >>> [porter_step1(w) for w in ["caresses", "ponies", "cats", "agreed", "plastered"]]
    ['caress', 'poni', 'cat', 'agree', 'plaster']
    >>> [porter_step1(w) for w in ["motoring", "conflated", "hopping", "falling", "happy"]]
    ['motor', 'conflate', 'hop', 'fall', 'happi']
    """
    # 1a: plurals
    if word.endswith("sses") or word.endswith("ies"):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    # 1b: -eed, -ed, -ing
    if word.endswith("eed"):
        if _measure(word[:-3]) > 0:
            word = word[:-1]
    else:
        for suffix in ("ed", "ing"):
            if word.endswith(suffix) and _has_vowel(word[: -len(suffix)]):
                word = _step1b_tidy(word[: -len(suffix)])
                break
    # 1c: a final y after a vowel-bearing stem
    if word.endswith("y") and _has_vowel(word[:-1]):
        word = word[:-1] + "i"
    return word
