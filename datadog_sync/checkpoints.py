"""Destination-state checkpoints while ``sync`` applies its plan, written without holding up its requests.

A checkpoint copies the mapping of each type's entries when it is due and writes that copy in a worker thread: the
event loop goes on sending and answering requests while the file is encoded, written and fsynced, which took longer
than a 20 ms request at 1,000 AWS accounts, so every checkpoint used to delay the serialized write behind it. Each
entry is encoded whole while the thread holds the interpreter lock, so it is written as it was before or after
anything the loop does meanwhile, never half-changed; the loop's thread takes its turns between pieces.
Checkpoints never overlap, and :meth:`Checkpoints.close` waits for the one being written, so the run's final save
is always the last write of the state, also when the run is interrupted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from datadog_sync.context import RunContext


class Checkpoints:
    def __init__(self, ctx: RunContext, types: Iterable[str]):
        self._ctx = ctx
        self._types = sorted(types)
        self._writing: asyncio.Future[None] | None = None

    async def save(self) -> None:
        """Write a checkpoint of the state as it is now (after the one being written, if any) and wait for it.
        Raises what the write raised (:class:`~datadog_sync.state.StateFileError` for a file that cannot be
        written). A cancelled caller stops waiting; the write goes on, and :meth:`close` waits for it."""
        while self._writing is not None and not self._writing.done():
            await asyncio.wait([self._writing])  # unlike awaiting it, never cancels the write
        destination = self._ctx.state.destination
        snapshot = {rtype: dict(destination.get(rtype) or {}) for rtype in self._types}
        writing = self._writing = asyncio.ensure_future(
            asyncio.to_thread(self._ctx.state.dump, "destination", self._types, snapshot=snapshot)
        )
        await asyncio.wait([writing])
        writing.result()

    async def close(self) -> None:
        """Wait for the checkpoint being written, if any: whoever started it has its error."""
        writing = self._writing
        if writing is not None:
            await asyncio.wait([writing])
            if not writing.cancelled():
                writing.exception()  # retrieved: reported to the caller of save, or to nobody when it was cancelled
