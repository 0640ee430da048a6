"""The exporters' one exception type: a problem with the caller's input, told in one line.

`terrain_gan.errors.TerrainGanError` derives from it, so the `terrain-gan` command reports both the same
way (one line, exit code 2) while this package stays free of terrain_gan.
"""


class ExportError(Exception):
    """A bad heightmap, option, format or output path; the message names it in one line.

    >>> from exporters import check_formats
    >>> try:
    ...     check_formats("glb,stl")
    ... except ExportError as e:
    ...     print(e)
    unknown export format 'stl'; choose from ...
    """
