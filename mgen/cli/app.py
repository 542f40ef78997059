"""The `mgen` command. This is the one place where library errors become messages and exit codes."""

from __future__ import annotations

# OMP_WAIT_POLICY=PASSIVE is set in mgen/__init__.py, which runs before this module.
import typer
from typer.core import TyperGroup

from mgen.cli.common import APP_SETTINGS
from mgen.core.contracts.errors import MgenError


class _Group(TyperGroup):
    """Turns any MgenError raised by a command into one line on stderr and its exit code."""

    def invoke(self, ctx: typer.Context):
        try:
            return super().invoke(ctx)
        except MgenError as e:
            typer.echo(f"Error: {e}", err=True)
            ctx.exit(e.exit_code)
        except KeyboardInterrupt:
            typer.echo("interrupted", err=True)
            ctx.exit(130)


app = typer.Typer(
    cls=_Group,
    name="mgen",
    help="Generate symbolic music (ABC, **kern, MIDI) with recurrent networks.",
    **APP_SETTINGS,
)


def _version(value: bool) -> None:
    if value:
        from mgen import __version__

        typer.echo(f"mgen {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Generate symbolic music (ABC, **kern, MIDI) with recurrent networks."""


def _register() -> None:
    from mgen.cli import bench, data, export, models, play, plugins, render, sample, serve, train
    from mgen.cli import eval as eval_cmd
    from mgen.cli.train_help import RecipeHelp

    app.command("train", cls=RecipeHelp)(train.train)  # its help states the recipes
    app.command("sample")(sample.sample)
    app.command("eval")(eval_cmd.eval_command)
    app.command("render")(render.render)
    app.command("plugins")(plugins.plugins)
    app.command("models")(models.models)
    app.command("export")(export.export)
    app.command("bench")(bench.bench)
    app.command("serve")(serve.serve)
    app.command("play")(play.play)
    app.add_typer(data.app, name="data")


_register()


def main() -> None:
    app()
