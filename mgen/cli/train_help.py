"""`mgen train --help` states the tokenizers' training defaults, read from their recipes.

An option's help names a recipe field as `{recipe.FIELD}` (dataset, time_budget, seq_len,
batching, split_by); `RecipeHelp` fills it in from the built-in tokenizers' recipes when the
help is shown, so the help cannot go stale. Only then: `mgen --help` builds every command's
options and must not import the tokenizers.
"""

from __future__ import annotations

import re
from typing import Any

import click
from typer.core import TyperCommand

FIELD = re.compile(r"\{recipe\.(\w+)\}")

#: How each recipe value reads in the help.
SHOWN = {
    "dataset": lambda v: v or "none (--data needed)",
    "time_budget": lambda v: f"{v / 60:g} min",
    "split_by": {"file": "whole files", "piece": "single pieces"}.get,
}


class RecipeHelp(TyperCommand):
    """A typer command whose option help may name recipe fields (filled in when shown)."""

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        recipes = builtin_recipes()
        for param in self.params:
            text = getattr(param, "help", None)
            if text and FIELD.search(text):
                filled = FIELD.sub(lambda m: stated(recipes, m.group(1)), text)
                param.help = filled  # type: ignore[attr-defined]
        super().format_help(ctx, formatter)


def builtin_recipes() -> dict[str, Any]:
    """Each built-in tokenizer's name -> its recipe (a plugin's own: `mgen plugins`)."""
    from mgen import api

    return api.recipes()


def stated(recipes: dict[str, Any], field: str) -> str:
    """One recipe field over the tokenizers, grouped by value: "64 for abc-char and kern; 63
    for midi-notes"."""
    show = SHOWN.get(field, str)
    groups: dict[str, list[str]] = {}
    for name, recipe in sorted(recipes.items()):
        groups.setdefault(str(show(getattr(recipe, field))), []).append(name)
    if not groups:
        return "see `mgen plugins`"
    return "; ".join(f"{value} for {_names(names)}" for value, names in groups.items())


def _names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
