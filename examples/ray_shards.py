"""Shards on Ray: one async actor per shard, each awaiting the same bulk runner.

Each actor runs ``client.moderate_many(items, shard="I/N", journal=..., rate=quota/N)`` on its
own event loop (an async actor's methods run there). Every actor is handed the whole input and
takes only the items whose id hashes to its shard, so the shards never overlap and a shard
rerun with its journal resumes where it stopped. The service's quota is the account's, shared
by all shards: each gets the quota divided by N.

    pip install ray cosaudit
    python examples/ray_shards.py                 # 4 shards against the embedded emulator
    python examples/ray_shards.py --shards 8 --items 2000 --quota 400

Against the embedded emulator (itself an async actor, limited to ``--quota`` text requests/s),
it prints each shard's summary and checks, from the emulator's own count, that every item was
submitted exactly once. For the real service, build the client from your bucket, region and
keys instead (``AuditClient(bucket=..., region=..., credentials=Credentials.from_env())``).
"""

from __future__ import annotations

import argparse
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import ray

from cosaudit import AuditClient, Credentials
from cosaudit.bulk import Shard, shard_journal

BUCKET = "examplebucket-1250000000"
REGION = "ap-guangzhou"


@ray.remote
class EmulatorActor:
    """The embedded emulator, serving from this actor's event loop."""

    async def start(self, quota: float) -> dict[str, str]:
        from cosaudit.emulator import Emulator, EmulatorConfig

        self.config = EmulatorConfig(qps={"text": quota})
        self.emulator = Emulator(self.config)
        await self.emulator.__aenter__()
        return {
            "url": self.emulator.url,
            "secret_id": self.config.secret_id,
            "secret_key": self.config.secret_key,
        }

    async def submissions(self) -> dict[str, int]:
        """Jobs the emulator accepted, by DataId."""
        jobs = self.emulator.jobs
        return dict(Counter(jobs[job_id].request["Input"]["DataId"] for job_id in jobs))

    async def throttled(self) -> int:
        return self.emulator.stats.throttled["text"]

    async def stop(self) -> None:
        await self.emulator.__aexit__(None, None, None)


@ray.remote
class ShardActor:
    """One shard of the input: the bulk runner, awaited on this actor's event loop."""

    def __init__(self, shard: str, journal: str, rate: float, service: dict[str, str]) -> None:
        self.shard = Shard.parse(shard)
        self.journal = journal
        self.rate = rate
        self.service = service

    async def run(self, items: list[dict[str, str]]) -> dict[str, Any]:
        async with AuditClient(
            bucket=BUCKET,
            region=REGION,
            endpoint=self.service["url"],
            credentials=Credentials(self.service["secret_id"], self.service["secret_key"]),
        ) as client:
            ids: list[str] = []
            run = client.moderate_many(
                items, kind="text", shard=self.shard, journal=self.journal, rate=self.rate
            )
            async with run:
                async for result in run:
                    if result.ok:
                        ids.append(result.id)
        summary = run.summary
        return {
            "shard": str(self.shard),
            "ids": ids,
            "succeeded": summary.succeeded,
            "elapsed": summary.elapsed,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description="cosaudit shards on Ray")
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--items", type=int, default=400)
    parser.add_argument("--quota", type=float, default=200.0, help="the account's requests/s")
    args = parser.parse_args()
    items = [{"content": f"post number {i}", "data_id": f"post-{i}"} for i in range(args.items)]

    ray.init(include_dashboard=False, logging_level="ERROR")
    emulator = EmulatorActor.remote()  # type: ignore[attr-defined]
    service = ray.get(emulator.start.remote(args.quota))
    rate = args.quota / args.shards  # the quota is shared: each shard gets its part
    with tempfile.TemporaryDirectory() as folder:
        journal = Path(folder) / "run.jsonl"
        actors = [
            ShardActor.remote(  # type: ignore[attr-defined]
                f"{i}/{args.shards}",
                str(shard_journal(journal, Shard(i, args.shards))),
                rate,
                service,
            )
            for i in range(args.shards)
        ]
        outcomes = ray.get([actor.run.remote(items) for actor in actors])
    submitted = ray.get(emulator.submissions.remote())
    throttled = ray.get(emulator.throttled.remote())
    ray.get(emulator.stop.remote())
    ray.shutdown()

    for outcome in outcomes:
        print(
            f"shard {outcome['shard']}: {len(outcome['ids'])} items, "
            f"{outcome['succeeded']} succeeded in {outcome['elapsed']:.1f}s at {rate:g}/s"
        )
    taken = [set(outcome["ids"]) for outcome in outcomes]
    every = {item["data_id"] for item in items}
    assert set().union(*taken) == every, "an item no shard took"
    assert sum(map(len, taken)) == len(every), "an item in two shards"
    assert submitted == dict.fromkeys(every, 1), "an item submitted twice"
    print(
        f"{len(every)} items over {args.shards} shards: each in exactly one shard, each "
        f"submitted once (emulator's count); {throttled} SlowDown at a quota of {args.quota:g}/s"
    )


if __name__ == "__main__":
    main()
