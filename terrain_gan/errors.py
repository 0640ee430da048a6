"""The one exception type that the CLI turns into a single line and exit code 2."""

from exporters.errors import ExportError


class TerrainGanError(ExportError):
    """A problem with the user's input: bad file, bad option, impossible request.

    The message is shown to the user as one line, so it names the problem and
    the file or option concerned; no traceback is printed for it. It is an
    `exporters.ExportError`, the exporters' own type, so `except ExportError`
    catches a failure from either package.
    """



class Interrupted(KeyboardInterrupt):
    """A run stopped by SIGINT or SIGTERM after saving its state; the message says where.

    A KeyboardInterrupt, so `except Exception` lets it through; the `terrain-gan` command prints the
    message as one line and exits with 128 + the signal number (130 for Ctrl-C, 143 for SIGTERM).
    """

    def __init__(self, message: str, signum: int):
        super().__init__(message)
        self.signum = signum
