"""Tile claims: runs sharing a world folder split its tiles instead of each making every one.

A run makes a tile only while it holds the tile's claim, an exclusive `flock` on `.tiles/X_Z.lock`,
and only if the tile is still unfinished once the claim is held (another run may have made it since
the plan was read). A tile claimed by another run is left for later; when nothing else is left, the
run waits for those claims: each is released when its tile's files are written, or by the kernel when
its holder dies (kill -9 included), and then the waiting run makes whatever is still missing. Tiles
are pure functions of the world and their coordinates, so the folder ends the same byte for byte
whichever run made which tile.
"""

from __future__ import annotations

from terrain_gan import fileio
from terrain_gan.world import manifest as wm
from terrain_gan.world.tile_job import TileJob

MINE, DONE, BUSY = "mine", "done", "busy"


class Claims:
    """The claims one run holds on the tiles of its world folder."""

    def __init__(self, job: TileJob):
        self.job = job
        self._held: dict[tuple[int, int], fileio.FileLock] = {}

    def take(self, x: int, z: int, *, wait: bool) -> str:
        """MINE: claimed and still to make; DONE: finished by someone (not held); BUSY: held by another run."""
        key = (x, z)
        if key not in self._held:
            lock = fileio.FileLock(self.job.out / wm.RECORDS / f"{x}_{z}.lock")
            if not lock.acquire(wait=wait):
                return BUSY
            self._held[key] = lock
        record = wm.read_record(self.job.out, self.job.world_digest, x, z)
        if wm.is_finished(self.job.out, record, self.job.formats):
            self.release(x, z)
            return DONE
        return MINE

    def release(self, x: int, z: int) -> None:
        lock = self._held.pop((x, z), None)
        if lock is not None:
            lock.release()

    def close(self) -> None:
        for key in list(self._held):
            self.release(*key)


def folder_lock(out) -> fileio.FileLock:
    """The lock held while reading every record and writing manifest.json and overview.png from them,
    so that the last run to write them has seen every other run's tiles."""
    return fileio.FileLock(out / wm.RECORDS / "folder.lock")
