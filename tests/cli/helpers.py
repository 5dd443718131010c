"""What the CLI tests share: running `tui-trainer` in this process."""

from tui_trainer.cli import main


def run_cli(capsys, *argv):
    """`tui-trainer ARGV...` in this process: (exit code, stdout, stderr)."""
    try:
        code = main(list(argv))
    except SystemExit as exit:
        code = exit.code
    out, err = capsys.readouterr()
    return code, out, err
