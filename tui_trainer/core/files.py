"""The files the tool reads and writes, checked before they are touched.

Reading: only regular files (a FIFO would block forever, /dev/zero is an endless line), and none
bigger than the memory that could hold them. Writing (metrics): never through a symbolic link we
did not expect, never onto a file the run reads, never into a FIFO; and a write that fails keeps
every complete line before it and says why, instead of a traceback and a half line.

Standard library only: the app checks theme files with it before its first frame.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from .errors import DataError


class FileProblem(DataError):
    """A file the run needs cannot be used; the message says which and why."""


def available_memory() -> int | None:
    """Bytes of memory the kernel says a new allocation can have (MemAvailable), if it says."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def size_in_words(size: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def check_memory(needed: float, what: str) -> None:
    """Refuse, in words, a step that would need more memory than is available."""
    available = available_memory()
    if available is not None and needed > available:
        raise DataError(f"{what} needs about {size_in_words(needed)}, more than the {size_in_words(available)} of memory available")


def readable_file(name: str, *, memory_factor: float = 1.0) -> Path:
    """The path of a regular file that can be read whole: `~` expanded, special files and files
    too big for memory refused. `memory_factor` is memory needed per byte of file."""
    path = Path(name).expanduser()
    try:
        info = path.stat()
    except FileNotFoundError:
        raise FileProblem(f"{name}: no such file") from None
    except OSError as error:  # a name too long, a folder we may not enter, a link loop
        raise FileProblem(f"{name}: cannot be read ({error.strerror or error})") from None
    if stat.S_ISDIR(info.st_mode):
        raise FileProblem(f"{name}: is a folder, not a file")
    if not stat.S_ISREG(info.st_mode):
        raise FileProblem(f"{name}: is {_kind(info.st_mode)}, not a regular file; copy the data into a file first")
    check_memory(info.st_size * memory_factor, f"{name} ({size_in_words(info.st_size)})")
    return path


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


class OutputFile:
    """A file of lines written a buffer at a time. A write that fails (disk full, /dev/full, a
    file system gone read-only) cuts the file back to its last complete line, records why in
    `error`, calls `on_failure` once (to stop the run) and ignores what comes after."""

    BUFFER = 1 << 16

    def __init__(self, name: str, fd: int, on_failure: Callable[[], None] | None = None, *, start: int = 0) -> None:
        self.name = name
        self.fd: int | None = fd
        self.on_failure = on_failure
        self.error: str | None = None
        self._pending: list[bytes] = []
        self._pending_bytes = 0
        self._complete = start  # bytes of complete lines on disk (an appended file's own included)

    @property
    def closed(self) -> bool:
        return self.fd is None

    def write(self, text: str) -> None:
        if self.error is not None or self.fd is None:
            return
        data = text.encode()
        self._pending.append(data)
        self._pending_bytes += len(data)
        if self._pending_bytes >= self.BUFFER:
            self.flush()

    def flush(self) -> None:
        if self.error is not None or self.fd is None or not self._pending:
            return
        data = b"".join(self._pending)
        self._pending, self._pending_bytes = [], 0
        written = 0
        try:
            while written < len(data):
                written += os.write(self.fd, data[written:])
        except OSError as error:
            self._failed(error, data[:written])
            return
        self._complete += len(data) if data.endswith(b"\n") else data.rfind(b"\n") + 1

    def _failed(self, error: OSError, written: bytes) -> None:
        keep = self._complete + written.rfind(b"\n") + 1  # up to the last whole line that got out
        if self.fd is not None:
            with contextlib.suppress(OSError):  # a device such as /dev/full has nothing to cut
                os.ftruncate(self.fd, keep)
        self.error = f"cannot write {self.name} ({error.strerror or error})"
        if self.on_failure is not None:
            self.on_failure()

    def sync(self) -> None:
        """Everything written so far is on the disk (flushed, then fsync): a run folder's metrics
        reach the disk before the checkpoint that counts their steps."""
        self.flush()
        if self.error is None and self.fd is not None:
            try:
                os.fsync(self.fd)
            except OSError as error:
                if error.errno != errno.EINVAL:  # a pipe or a device cannot be synced: nothing to keep
                    self._failed(error, b"")

    def close(self) -> None:
        if self.fd is None:
            return
        self.flush()
        fd, self.fd = self.fd, None
        try:
            os.close(fd)
        except OSError as error:  # NFS and some file systems report a failed write only here
            if self.error is None:
                self.error = f"cannot write {self.name} ({error.strerror or error})"


def open_output(
    name: str, inputs: Iterable[str | Path] = (), on_failure: Callable[[], None] | None = None, *, append: bool = False
) -> OutputFile:
    """Open `name` for writing (or, with `append`, for adding lines to its end), or raise
    FileProblem saying why not: an empty name, a folder, a FIFO or socket, a symbolic link (it
    could point anywhere: name the file itself), or a file that is one of `inputs` (the run would
    overwrite its own data)."""
    if not name.strip():
        raise FileProblem("needs a file name (it was empty)")
    path = Path(name).expanduser()
    try:
        info = path.lstat()
    except FileNotFoundError:
        info = None
    except OSError as error:
        raise FileProblem(f"cannot write {name} ({error.strerror or error})") from None
    if info is not None:
        if stat.S_ISLNK(info.st_mode):
            raise FileProblem(f"{name}: is a symbolic link; name the file it points to, if that is what you mean")
        if stat.S_ISDIR(info.st_mode):
            raise FileProblem(f"{name}: is a folder; name a file in it")
        if stat.S_ISFIFO(info.st_mode) or stat.S_ISSOCK(info.st_mode):
            raise FileProblem(f"{name}: is {_kind(info.st_mode)}, not a regular file")
        for source in inputs:
            try:
                if os.path.samefile(path, Path(source).expanduser()):
                    raise FileProblem(f"{name}: is the file the run reads ({source}); writing it would destroy the data")
            except OSError:
                continue  # an input that is not a file (synthetic data) cannot be the same file
    # O_NOFOLLOW: a link planted between the check and the open is refused, not followed
    flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK  # a FIFO: refused, not waited on
    flags |= os.O_APPEND if append else os.O_TRUNC
    try:
        fd = os.open(path, flags, 0o644)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise FileProblem(f"{name}: is a symbolic link; name the file it points to, if that is what you mean") from None
        raise FileProblem(f"cannot write {name} ({error.strerror or error})") from None
    return OutputFile(name, fd, on_failure, start=os.fstat(fd).st_size if append else 0)


TEMP_SUFFIX = ".tmp"


def write_atomically(path: Path, data: bytes) -> None:
    """Replace `path` with `data` so that a reader, or a process killed at any moment (kill -9,
    power loss), sees either the old file whole or the new one whole: the bytes go to a temporary
    file in the same folder, are flushed and fsynced, and only then renamed over `path` (rename
    is atomic within a file system); the folder is synced so the rename itself lasts. Raises
    OSError; the temporary file is removed on failure."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TEMP_SUFFIX)
    try:
        os.fchmod(fd, 0o644)  # as open_output makes its files (mkstemp makes them private)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    sync_folder(path.parent)


def sync_folder(folder: Path) -> None:
    """fsync a folder, so the names created or renamed in it last (where the system allows it)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def remove_leftover_temporaries(folder: Path) -> None:
    """Temporary files of writes a kill cut short (see write_atomically): never read, removed."""
    for leftover in folder.glob(f".*{TEMP_SUFFIX}"):
        with contextlib.suppress(OSError):
            leftover.unlink()
