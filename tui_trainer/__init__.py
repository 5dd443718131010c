"""tui-trainer: watch and steer gradient descent train a linear model, in the terminal."""

# The version, in one place: pyproject.toml reads it from here (hatch's dynamic version), and
# `--version` falls back to it where the distribution is not installed.
__version__ = "0.1.0"
