"""Errors a person can fix. Their text is shown as it is: one line, no traceback."""


class TrainerError(Exception):
    """Base of every error caused by input the person gave (settings, files, devices)."""


class ConfigError(TrainerError):
    """A setting is out of range or does not fit the others."""


class DataError(TrainerError):
    """The data cannot be loaded: the message names the file, row and column."""


class DeviceError(TrainerError):
    """The requested device is not available on this machine."""
