"""Command line: `tui-trainer train ...` runs headless; `tui-trainer [flags]` opens the app.

Flags map onto the pydantic settings in core.config, which validate them and supply the help text,
so the CLI, the app's forms and config files share one definition. Nothing heavy (torch, Textual)
is imported until the command that needs it runs.
"""

from __future__ import annotations

import argparse
import errno
import sys
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from .exits import EXIT_BROKEN_PIPE, EXIT_INTERRUPTED, EXIT_OK, fail
from .flags import FLAG_NAMES, RACE_SHARED, RUN_FLAGS, Flag, add_run_flags
from .names import LANGUAGES

if TYPE_CHECKING:

    from .core.config import RunConfig


OUTPUT_FLAGS = ("--metrics", "--log-every", "--json", "--quiet")


class Parser(argparse.ArgumentParser):
    """argparse, but a mistake is one line on stderr and exit code 2, with a hint when we can."""

    lists_presets = False  # end --help with each algorithm's defaults (read only when asked for)

    def error(self, message: str) -> NoReturn:
        fail(f"{message} (see {self.prog} --help)")

    def format_help(self) -> str:
        if self.lists_presets:
            self.epilog = presets_text()
        return super().format_help()


def presets_text() -> str:
    """Each algorithm's defaults, as a flag left out takes them."""
    from .core.config import PRESETS

    lines = ["defaults of each algorithm (a flag given replaces its default):"]
    for algorithm, preset in PRESETS.items():
        # no weight decay is the rule's default, not worth a word; adamw's is
        settings = [f"{name.replace('_', '-')} {value:g}" for name, value in preset.defaults.items() if name != "weight_decay" or value]
        settings += [f"batch-size {preset.batch_size}", f"epochs {preset.epochs}"]
        lines.append(f"  {algorithm.value:<9} {', '.join(settings)}")
    return "\n".join(lines)


def _misplaced_output_flag(argv: list[str]) -> str | None:
    """Output flags belong to a command: `tui-trainer --json` alone is a slip worth naming."""
    if any(arg in ("train", "race", "learn", "config", "predict", "runs") for arg in argv):
        return None
    return next((arg for arg in argv if arg.split("=")[0] in OUTPUT_FLAGS), None)


def add_output_flags(parser: argparse.ArgumentParser, what: str) -> None:
    output = parser.add_argument_group("output")
    output.add_argument("--metrics", metavar="PATH", help=f"write one JSON line per logged step{what} to PATH")
    output.add_argument("--log-every", metavar="N", default=argparse.SUPPRESS, help=Flag("--log-every", "log_every").help())
    output.add_argument("--json", action="store_true", help="print the summary as one JSON object on stdout")
    output.add_argument("--quiet", action="store_true", help="no progress bar even on a terminal")


def add_config_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", metavar="FILE.toml", default=argparse.SUPPRESS,
        help="read the settings from a TOML file (tui-trainer config prints one); flags given as well override it",
    )


def _steps(value: str) -> int:
    try:
        steps = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {value!r}") from None
    if steps < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {steps}")
    return steps


def build_parser() -> Parser:
    parser = Parser(
        prog="tui-trainer",
        description="Watch and steer gradient descent train a linear model. "
        "With no command, opens the app with these settings preloaded.",
    )
    parser.add_argument("--version", action="version", version=f"tui-trainer {version()}")
    add_config_flag(parser)
    add_run_flags(parser)
    parser.add_argument("--lang", choices=LANGUAGES, default="en", help="language of the Learn view's explanations")
    app_folder = parser.add_argument_group("run folder (the app)")
    app_folder.add_argument(
        "--save", metavar="DIR", default=argparse.SUPPRESS, help="keep the first run started in the folder DIR, up to date"
    )
    app_folder.add_argument(
        "--resume", metavar="DIR", default=argparse.SUPPRESS, help="open the run saved in DIR, paused at its step, its chart rebuilt"
    )
    app_folder.add_argument(
        "--checkpoint-every", metavar="N", type=_steps, default=argparse.SUPPRESS, help="steps between checkpoints (default: every 30 s)"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    train = commands.add_parser(
        "train", help="train headless and print a summary", description="Train headless.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    train.lists_presets = True
    add_config_flag(train)
    add_run_flags(train)
    add_output_flags(train, "")
    folder = train.add_argument_group("run folder")
    folder.add_argument(
        "--save", metavar="DIR", help="keep the run in the folder DIR: config.toml, metrics.jsonl, summary.json and checkpoint.pt"
    )
    folder.add_argument(
        "--resume", metavar="DIR",
        help="continue the run saved in DIR exactly where it stopped; --epochs and --max-steps given are totals for the whole run",
    )
    folder.add_argument(
        "--checkpoint-every", metavar="N", type=_steps,
        help="steps between checkpoints (default: every 30 s); the last is always written at the end and on an interrupt",
    )
    race = commands.add_parser(
        "race",
        help="race several optimizers on the same problem and print a table",
        description="Race optimizers: same data, same start, same batches, side by side.",
    )
    race.add_argument(
        "--entries", required=True, metavar="SPEC",
        help="algorithms separated by commas, each with :setting=value pairs, "
        "e.g. bgd,sgd,adam:lr=0.1,momentum:lr=0.05:momentum=0.9",
    )
    add_config_flag(race)
    add_run_flags(race, shared_only=True)
    add_output_flags(race, " (each line names its entry)")
    add_learn_parser(commands)
    race.add_argument_group("run folder").add_argument(
        "--save", metavar="DIR",
        help="keep the race in the folder DIR: config.toml (the shared settings), metrics.jsonl, summary.json and checkpoint.pt",
    )
    config = commands.add_parser(
        "config",
        help="print the settings as a commented TOML file (the defaults, or those the flags give)",
        description="Print every setting as a commented TOML file that --config reads: the defaults, "
        "with the flags given (and --config FILE) applied. Redirect it to a file to start from.",
    )
    add_config_flag(config)
    add_run_flags(config)
    config.add_argument("--log-every", metavar="N", default=argparse.SUPPRESS, help=Flag("--log-every", "log_every").help())
    predict = commands.add_parser(
        "predict", help="apply a saved run's model to new rows of a CSV file",
        description="Apply the model saved in a run folder to the rows of a CSV file (its features found by column name, "
        "standardized as the run standardized them); every row is written back with a prediction column.",
    )
    predict.add_argument("--run", metavar="DIR", required=True, help="the run folder (train --save DIR)")
    predict.add_argument(
        "--data", metavar="FILE.csv", required=True, help="rows with the run's feature columns (others are passed through)"
    )
    predict.add_argument("--out", metavar="FILE.csv", help="write the rows here (default: standard output)")
    runs = commands.add_parser("runs", help="a table of the run folders under ROOT", description="List the run folders under ROOT.")
    runs.add_argument("root", metavar="ROOT", nargs="?", help="where to look (default: runs/)")
    from .serve import add_serve_parser

    add_serve_parser(commands)  # stdlib only: the web server is imported when serving
    return parser


def add_learn_parser(commands: argparse._SubParsersAction) -> None:
    from .core.lesson_texts import LESSON_NAMES  # stdlib only

    learn = commands.add_parser(
        "learn", help="run one of the autograd lab's lessons headless and print it",
        description="Run an autograd lesson on the run's own model and first batch (the settings flags choose them) "
        "and print the code, what torch printed or raised, and why. Without --lesson: the list of lessons.",
    )
    learn.add_argument("--lesson", choices=LESSON_NAMES, metavar="NAME", help=f"one of: {', '.join(LESSON_NAMES)}")
    learn.add_argument("--json", action="store_true", help="print the lesson as one JSON object on stdout")
    # SUPPRESS: `tui-trainer --lang zh learn` keeps the zh given before the command
    learn.add_argument("--lang", choices=LANGUAGES, default=argparse.SUPPRESS, help="language of the explanations")
    add_run_flags(learn)


NAMES = {**FLAG_NAMES, "log_every": "--log-every"}


def flag_values(args: argparse.Namespace) -> dict[str, Any]:
    """The settings the flags given set, nested as RunConfig takes them."""
    values: dict[str, Any] = {}
    for flag in (*RUN_FLAGS, Flag("--log-every", "log_every")):
        if hasattr(args, flag.dest):
            value = getattr(args, flag.dest)
            section, _, field = flag.path.rpartition(".")
            (values.setdefault(section, {}) if section else values)[field] = value
    return values


def config_from_args(args: argparse.Namespace) -> RunConfig:
    """Settings from --config and the flags given; a bad value exits 2 with one line naming it."""
    from .core.config_file import run_config
    from .core.errors import ConfigError

    try:
        return run_config(getattr(args, "config", None), flag_values(args), NAMES)
    except ConfigError as error:
        fail(str(error))


def _train(args: argparse.Namespace) -> int:
    """`tui-trainer train`, with its run folder: a new one (--save) or one to continue (--resume)."""
    from .core.errors import ConfigError
    from .core.run_folder import RunFolder
    from .headless import train

    if args.checkpoint_every is not None and not (args.save or args.resume):
        fail("--checkpoint-every needs a run folder: --save DIR (or --resume DIR)")
    folder: RunFolder | None = None
    try:
        if args.resume is not None:
            if args.save is not None:
                fail(f"--resume {args.resume} keeps saving into that folder: leave out --save")
            if hasattr(args, "config"):
                fail(f"--resume {args.resume} reads the run's own settings: leave out --config")
            folder = RunFolder.existing(args.resume)
            config = folder.resumed_config(flag_values(args), NAMES)
        else:
            config = config_from_args(args)
            folder = RunFolder.create(args.save, config) if args.save is not None else None
    except ConfigError as error:
        fail(str(error))
    return train(
        config, metrics=args.metrics, as_json=args.json, quiet=args.quiet,
        folder=folder, resume=args.resume is not None, checkpoint_every=args.checkpoint_every,
    )


def version() -> str:
    """The installed distribution's version (the one pip knows), else the source tree's."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("tui-trainer")
    except PackageNotFoundError:
        from . import __version__

        return __version__


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(sys.argv[1:] if argv is None else argv)
    except KeyboardInterrupt:  # Ctrl-C while the settings are still being read: nothing started yet
        print("tui-trainer: interrupted before training started", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `tui-trainer race ... | head`: the reader has gone, as it meant to
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except OSError as error:
        if error.errno != errno.EIO:
            raise
        _silence_stdout(sys.stderr)  # the terminal hung up (SIGHUP) as the summary printed: no one to tell
        return EXIT_INTERRUPTED


def _silence_stdout(*more: TextIO) -> None:
    """Point stdout (and `more`) at /dev/null, so the flush at exit does not fail all over again."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    for stream in (sys.stdout, *more):
        os.dup2(devnull, stream.fileno())
    os.close(devnull)


def _main(argv: list[str]) -> int:
    if not argv:  # nothing to parse or check: open the app before loading the settings models
        return _open_app(None)
    misplaced = _misplaced_output_flag(argv)
    if misplaced:
        fail(f"{misplaced.split('=')[0]} goes with a command: tui-trainer train {misplaced.split('=')[0]} ... (or race)")
    args, leftovers = build_parser().parse_known_args(argv)
    if leftovers:
        command = f"tui-trainer {args.command}" if args.command else "tui-trainer"
        hint = "; an entry takes its own settings, e.g. --entries adam:lr=0.1" if args.command == "race" else ""
        fail(f"unrecognized arguments: {' '.join(leftovers)}{hint} (see {command} --help)")
    if args.command == "learn" and args.lesson is None:
        from .learn import list_lessons

        return list_lessons(args.lang, args.json)
    if args.command == "learn":
        from .learn import learn

        return learn(config_from_args(args), args.lesson, args.lang, args.json)
    if args.command == "train":
        return _train(args)
    if args.command == "runs":
        from .runs import list_runs

        return list_runs(args.root)
    if args.command == "predict":
        from .predict import predict

        return predict(args.run, args.data, args.out)
    config = config_from_args(args)
    if args.command == "config":
        from .core.config_file import dump_config

        print(dump_config(config), end="")
        return EXIT_OK
    if args.command == "serve":
        from .serve import serve

        return serve(args)
    if args.command == "race":
        from .headless import race

        flags = {flag.path: flag for flag in RUN_FLAGS}
        shared = {path.rpartition(".")[2]: getattr(args, flags[path].dest) for path in RACE_SHARED if hasattr(args, flags[path].dest)}
        folder = None
        if args.save is not None:
            from .core.errors import ConfigError
            from .core.run_folder import RunFolder

            try:
                folder = RunFolder.create(args.save, config, f"tui-trainer race of {args.entries}: the settings its entries share")
            except ConfigError as error:
                fail(str(error))
        return race(config, args.entries, shared, metrics=args.metrics, as_json=args.json, quiet=args.quiet, folder=folder)
    save, resume = getattr(args, "save", None), getattr(args, "resume", None)
    if save is not None or resume is not None:
        from .core.errors import ConfigError
        from .core.run_folder import RunFolder

        try:
            if resume is not None:
                if save is not None or hasattr(args, "config"):
                    fail(f"--resume {resume} keeps its own folder and settings: leave out --save and --config")
                config = RunFolder.existing(resume).resumed_config(flag_values(args), NAMES)
            elif save is not None:
                RunFolder.check_new(save)
        except ConfigError as error:
            fail(str(error))
    return _open_app(config, args.lang, save=save, resume=resume, checkpoint_every=getattr(args, "checkpoint_every", None))


def _open_app(
    config: RunConfig | None, lang: str = "en", *, save: str | None = None, resume: str | None = None, checkpoint_every: int | None = None
) -> int:
    from .app.app import TrainerApp

    app = TrainerApp(config, lang=lang, save=save, resume=resume, checkpoint_every=checkpoint_every)
    try:
        app.run()
    except Exception as error:  # Textual has restored the terminal: one line, never exit 0
        if app.hung_up:
            return EXIT_INTERRUPTED  # the terminal is gone: no one to tell
        print(f"tui-trainer: the app stopped: {type(error).__name__}: {error}", file=sys.stderr)
        return 1  # what Python gives an uncaught exception
    if app.hung_up:
        return EXIT_INTERRUPTED
    if app.return_code:  # an exception inside the app ends it with a code (Textual printed the trace)
        print(f"tui-trainer: the app stopped with an error (exit {app.return_code})", file=sys.stderr)
        return app.return_code if app.return_code > 0 else 1
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
