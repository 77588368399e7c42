"""The memory checkpointer (tests, `soni chat` without a file), able to prune its history."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from langgraph.checkpoint.memory import InMemorySaver


class PrunableMemorySaver(InMemorySaver):
    async def akeep_newest(self, thread_id: str, keep: int) -> int:
        """See `soni.runtime.history.Prunable`. Blobs are keyed by channel and version and
        shared, like PostgreSQL's: only those no kept checkpoint names go."""
        deleted = 0
        for ns, checkpoints in self.storage.get(thread_id, {}).items():
            newest = sorted(checkpoints, reverse=True)
            kept, doomed = newest[:keep], newest[keep:]
            if not doomed:
                continue
            garbage = self._versions(checkpoints, doomed) - self._versions(checkpoints, kept)
            for checkpoint_id in doomed:
                del checkpoints[checkpoint_id]
                self.writes.pop((thread_id, ns, checkpoint_id), None)
            for channel, version in garbage:
                self.blobs.pop((thread_id, ns, channel, version), None)
            for checkpoint_id in kept:
                checkpoint, metadata, parent = checkpoints[checkpoint_id]
                if parent in doomed:
                    checkpoints[checkpoint_id] = (checkpoint, metadata, None)
            deleted += len(doomed)
        return deleted

    def _versions(self, checkpoints: dict[str, Any], ids: Iterable[str]) -> set[tuple[str, Any]]:
        """The (channel, version) pairs the checkpoints `ids` name."""
        return {
            (channel, version)
            for checkpoint_id in ids
            for channel, version in self.serde.loads_typed(checkpoints[checkpoint_id][0])[
                "channel_versions"
            ].items()
        }
