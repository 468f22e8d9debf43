"""Section numbers and which sequences of them are valid: 1, 2, 2.1, 2.2, 3, ..., A, A.1, B."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")

_ROMAN = {
    "I": 1,
    "II": 2,
    "III": 3,
    "IV": 4,
    "V": 5,
    "VI": 6,
    "VII": 7,
    "VIII": 8,
    "IX": 9,
    "X": 10,
    "XI": 11,
    "XII": 12,
    "XIII": 13,
    "XIV": 14,
    "XV": 15,
}


@dataclass(slots=True)
class Num:
    kind: str  # "arabic" | "alpha" | "roman"
    parts: tuple[int, ...]


def parse_number(num: str, roman_ok: bool) -> Num | None:
    num = num.rstrip(".")
    if num[0].isdigit():
        return Num("arabic", tuple(int(p) for p in num.split(".")))
    head, *rest = num.split(".")
    if roman_ok and head.upper() in _ROMAN and not rest and len(head) > 0:
        return Num("roman", (_ROMAN[head.upper()],))
    if len(head) == 1 and head.isalpha() and head.isupper():
        return Num("alpha", (ord(head) - 64, *(int(p) for p in rest)))
    return None


def start_bonus(n: Num) -> float:
    if n.kind in ("arabic", "roman"):
        if n.parts in ((1,), (0,)):
            return 0.0
        if n.parts == (1, 1):
            return -0.5
        return -3.0 - 0.2 * sum(n.parts)
    return -2.5 if n.parts == (1,) else -5.0


def transition(a: Num, b: Num) -> float | None:
    """Bonus for heading b directly following heading a; None if b cannot follow a."""
    if a.kind != b.kind:
        if b.kind == "alpha" and a.kind in ("arabic", "roman"):
            if b.parts == (1,):
                return 0.0
            if b.parts == (1, 1):
                return -0.5
            return None
        return None
    pa, pb = a.parts, b.parts
    la, lb = len(pa), len(pb)
    if lb == la + 1 and pb[:-1] == pa:
        return {1: 0.0, 0: -0.3, 2: -2.0}.get(pb[-1])
    if lb <= la and pb[:-1] == pa[: lb - 1]:
        step = pb[-1] - pa[lb - 1]
        return {1: 0.0, 2: -2.0}.get(step)
    if lb == la + 2 and pb[:la] == pa and pb[la:] == (1, 1):
        return -2.0
    return None


def best_chain(
    items: list[T], nums: list[Num], scores: list[float], window: int = 250
) -> tuple[list[T], float]:
    """The subsequence of items (in order) maximising score plus transition bonuses, and its total.

    Dynamic programming over candidates: each item may start a chain or follow any earlier item
    whose number it can succeed; `window` bounds how far back a predecessor may be.
    """
    n = len(items)
    if not n:
        return [], 0.0
    best = [0.0] * n
    prev = [-1] * n
    for j in range(n):
        best[j] = scores[j] + start_bonus(nums[j])
        for i in range(max(0, j - window), j):
            t = transition(nums[i], nums[j])
            if t is None:
                continue
            v = best[i] + t + scores[j]
            if v > best[j]:
                best[j], prev[j] = v, i
    j = max(range(n), key=lambda k: best[k])
    total = best[j]
    chain = []
    while j >= 0:
        chain.append(items[j])
        j = prev[j]
    chain.reverse()
    return chain, total
