"""Time in the abc-char grammar: note lengths, bars that fill, and repeats that close.

Durations are whole integers of ticks (`WHOLE` a whole note), fine enough for every length the
grammar allows times any unit length, broken rhythm and tuplet: the sums stay exact without
Fractions. No event overfills a bar. A bar can always end short with a bar line that excuses it
(`||`, `:|`, ...), except the one bar that must complete a short bar before it (the judge's
"two that make one"): that one can be filled exactly when what is left of it is a multiple of
a sixteenth of the unit length (`granule`, as `/16` is a length), and the grammar lets a note,
broken rhythm or tuplet in only when what it leaves is, so no sample meets a bar it cannot
complete. The rules for short bars and final bars are the strict judge's
(`mgen.formats.abc.check`), the excuse by bar-line marks read per bar line.
"""

from __future__ import annotations

import functools
from fractions import Fraction

from mgen.plugins.tokenizers.abc_grammar_values import Trie

#: Ticks in a whole note: 2^20 (lengths to 1/16 of a 1/32 unit, broken rhythm to 1/4, with
#: room to spare) times 2520 (tuplets of 2 to 9).
WHOLE = 2**20 * 2520


def ticks(x: Fraction) -> int:
    t = x * WHOLE
    assert t.denominator == 1, x
    return int(t)


def _lengths() -> dict[str, tuple[int, int]]:
    """The length suffixes a note, rest or chord may have: multiples of the unit as
    (numerator, denominator)."""
    out = {"": (1, 1), "/": (1, 2), "//": (1, 4)}
    out |= {str(n): (n, 1) for n in [*range(1, 17), 24, 32]}
    for d in (2, 4, 8, 16):
        out[f"/{d}"] = (1, d)
        out |= {f"{n}/{d}": (n, d) for n in range(3, 16, 2)}
    out |= {f"{n}/": (n, 2) for n in range(3, 16, 2)}
    return out


LENGTHS = _lengths()
LENGTH_TRIE = Trie.of(set(LENGTHS))
#: The lengths a grace note may have (no time: any the readers take).
GRACE_LENGTHS = Trie.of({"", "/", "2", "/2", "3"})


@functools.cache
def subtree(prefix: str) -> tuple[tuple[int, int], ...]:
    """The lengths that start with `prefix`, shortest first."""
    found = {v for s, v in LENGTHS.items() if s.startswith(prefix)}
    return tuple(sorted(found, key=lambda v: v[0] / v[1]))


def granule(unit: int) -> int:
    return unit // 16


def room_ok(room: int | None, unit: int, exact: bool = True) -> bool:
    """Whether what is left of a bar (None: free meter) is not negative and, where the bar
    must be filled exactly (`exact`), can be."""
    return room is None or (room >= 0 and (not exact or room % granule(unit) == 0))


@functools.lru_cache(maxsize=1 << 16)
def fills(room: int | None, unit: int, count: int, q: int, p: int, exact: bool = True) -> bool:
    """Whether `count` more notes of a tuplet (each times q/p) can end within the bar (and
    leave it fillable where it must be filled exactly): `count` equal notes of one allowed
    length is the witness looked for."""
    if room is None or count == 0:
        return room_ok(room, unit, exact)
    for n, d in subtree(""):
        total = count * (unit * n // d) * q
        if total % p == 0 and room_ok(room - total // p, unit, exact):
            return True
    return False


def dur(length: str, unit: int) -> int:
    """The ticks of a length suffix at a unit length of `unit` ticks."""
    n, d = LENGTHS[length]
    return unit * n // d


#: A factor as (numerator, denominator): broken rhythm's, kept off Fractions for speed.
Factor = tuple[int, int]
#: The event after a broken rhythm: its factor, and the ticks it must have before that factor
#: (its tuplet's applied): the event's before it (abc2midi refuses `A2>B`).
Broken = tuple[int, int, int]
#: (ticks left in the bar or None, unit ticks, broken rhythm, tuplet, past the bar's end,
#: a rest may run past it, the bar must be filled exactly): what decides the lengths an
#: event may have.
Context = tuple[int | None, int, "Broken | None", tuple[int, int, int] | None, bool, bool, bool]


def fits(ctx: Context, written: int, rest: bool) -> bool:
    """Whether an event of `written` ticks may come: within the bar (a bar that must be
    filled exactly left fillable), or a rest past its end where a line end will close it."""
    room, unit, broken, tup, over, overflow, exact = ctx
    if broken is not None and (written if tup is None else written * tup[1] // tup[2]) != broken[2]:
        return False  # the event after a broken rhythm is as long as the one before
    if room is None:
        return True
    if over:
        return rest
    d = written if broken is None else scaled(written, broken)
    if tup is not None:
        left, q, p = tup
        d = d * q // p
        return d <= room and fills(room - d, unit, left - 1, q, p, exact)
    return room_ok(room - d, unit, exact) or (rest and overflow and d > room)


@functools.lru_cache(maxsize=1 << 16)
def length_options(prefix: str, ctx: Context, rest: bool, free: bool = False) -> tuple[str, bool]:
    """(the characters that may extend a length `prefix`, whether it may end here) for an
    event in `ctx` (`free`: any length, for a chord's later notes)."""
    unit = ctx[1]

    def ok(v: tuple[int, int]) -> bool:
        return free or fits(ctx, unit * v[0] // v[1], rest)

    nxt = "".join(c for c in LENGTH_TRIE.next.get(prefix, "") if any(map(ok, subtree(prefix + c))))
    return nxt, prefix in LENGTHS and ok(LENGTHS[prefix])


@functools.cache
def broken_factors(sign: str) -> tuple[Factor, Factor]:
    """(what the note before gains, as a factor of its length; the note after's factor) for
    `>`, `>>`, `<`, `<<`, as the judge: `A>B` is A times 3/2 (gains 1/2), B times 1/2."""
    n = 2 ** len(sign)
    if sign[0] == ">":
        return (n - 1, n), (1, n)
    return (1 - n, n), (2 * n - 1, n)


def scaled(d: int, f: Factor) -> int:
    return d * f[0] // f[1]


def tuplet_q(p: int, meter: int | None) -> int:
    """The judge's default q of a tuplet `(p` in a meter of `meter` ticks (its numerator as
    a reduced fraction: 6/8 is 3/4, not compound)."""
    if p in (2, 4, 8):
        return 3
    if p in (3, 6):
        return 2
    top = None if meter is None else Fraction(meter, WHOLE).numerator
    compound = top is not None and top % 3 == 0 and top > 3
    return 3 if compound else 2


# -- bar lines ----------------------------------------------------------------------------

#: Bar-line tokens the grammar writes (each one token to the judge's lexer).
BARS = {"|", "||", "|]", "|:", ":|", "::", ":||", "||:", ":||:", ":|]", "[|", "[|]", "[|]|]",
        "[|]:", ":[|]|]", "|||", "|1", "|2", ":|2", ":|[2", "|[1", "[1", "[2", "||1"}  # fmt: skip
BAR_TRIE = Trie.of(BARS)


def excuses(marks: str) -> bool:
    """Bar-line text that lets a bar beside it be short: a repeat sign, a variant ending, a
    thick or double bar line."""
    return any(c in marks for c in ":[]") or "||" in marks or any(map(str.isdigit, marks))


def opening(marks: str) -> str:
    """The bar lines before a bar, as far as the short-bar rule reads them: "X" when they
    excuse it, else "|" when they end with one (a second `|` makes `||`), else ""."""
    return "X" if excuses(marks) else ("|" if marks.endswith("|") else "")


@functools.cache
def repeat_parts(token: str) -> tuple[bool, int, bool, bool]:
    """(ends a repeat, the variant ending it opens (0: none), starts a repeat, a double or
    thick bar line that closes a second ending)."""
    ends = token.startswith(":")
    starts = token.endswith(":")
    number = next((int(c) for c in token if c.isdigit()), 0)
    double = "||" in token or "]" in token
    return ends, number, starts, double


#: Repeat state: (a `|:` is open, the variant ending we are in (0, 1, 2), a second ending is
#: due (after the first ending's `:|`), the second ending holds a note yet).
Repeats = tuple[bool, int, bool, bool]
NO_REPEATS: Repeats = (False, 0, False, True)


@functools.lru_cache(maxsize=4096)
def repeat(state: Repeats, token: str) -> Repeats | None:
    """The repeat state after a bar-line token, None where it would unbalance the repeats:
    a `|:` is closed by a `:|` (a `:|` may also repeat from the start), a first ending by `:|`
    and then, at once, a second ending that holds a note and ends at a double or thick bar
    line (or a new `|:`)."""
    ends, number, starts, double = repeat_parts(token)
    opened, ending, second, noted = state
    if second and number != 2:
        return None
    if ends:
        if ending == 2:
            return None
        second, opened, ending = ending == 1, False, 0
    if number == 1:
        if ending or second:
            return None
        ending = 1
    elif number == 2:
        if not second:
            return None
        second, ending, noted = False, 2, False
    closes = starts or (double and not ends and not number)  # ends a second ending
    if closes and ending and (ending == 1 or not noted or (starts and opened)):
        return None
    if starts:
        if opened or second:
            return None
        opened, ending = True, 0
    elif closes:
        ending = 0
    return opened, ending, second, noted


def repeats_closed(state: Repeats) -> bool:
    """No `|:` open, no ending open (abc2midi wants a second ending closed by `||`, `|]`)."""
    opened, ending, second, _ = state
    return not (opened or ending or second)
