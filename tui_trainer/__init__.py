"""tui-trainer: watch and steer gradient descent train a linear model, in the terminal."""

# The source tree's version, for `--version` where the distribution is not installed; the same as
# pyproject.toml's [project] version (tests/cli/test_race.py holds them together).
__version__ = "0.1.0"
