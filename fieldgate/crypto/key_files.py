"""Creating secret files: generated once, private from the first byte, never replaced."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from fieldgate.errors import ConfigurationError


def create_private_file(path: Path, content: bytes, *, what: str) -> None:
    """Write ``content`` to ``path`` (mode 0600, folder 0700) unless the file exists.

    The bytes go to a private temporary file that is hard-linked into place: the link fails
    if another process got there first (its file wins), and nobody ever sees a half-written
    file. ``what`` names the file in the error ("signing key file"); the content never
    appears in it.
    """
    directory = path.parent
    try:
        if not directory.exists():
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            directory.chmod(0o700)  # mkdir's mode is reduced by the umask
        descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=".key-", suffix=".tmp")
        try:
            with os.fdopen(descriptor, "wb") as handle:
                os.fchmod(handle.fileno(), 0o600)
                handle.write(content)
                handle.flush()
                os.fsync(handle.fileno())
            with contextlib.suppress(FileExistsError):  # another process won the race
                os.link(temporary, path)
        finally:
            os.unlink(temporary)
    except OSError:
        raise ConfigurationError(f"cannot create {what} {path}") from None
