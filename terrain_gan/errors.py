"""The one exception type that the CLI turns into a single line and exit code 2."""


class TerrainGanError(Exception):
    """A problem with the user's input: bad file, bad option, impossible request.

    The message is shown to the user as one line, so it names the problem and
    the file or option concerned; no traceback is printed for it.
    """


def fail(message: str) -> "TerrainGanError":
    """Returns an error for `raise fail(...)`, keeping call sites to one line."""
    return TerrainGanError(message)
