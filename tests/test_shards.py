"""Shards: the spec, the stable split by item id, and shard runs over one input against the
emulator, counted on the emulator's side."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from conftest import client_for

from cosaudit import AuditClient, Credentials, InvalidInput
from cosaudit.bulk import Shard, item_id, shard_journal
from cosaudit.emulator import Emulator, EmulatorConfig

IDS = [f"item-{i}" for i in range(3000)]
# Shards of item-0 .. item-11 among 5: sha256 of the id, first 8 bytes big-endian, mod 5. A
# change here would send every resumed shard's items elsewhere.
PINNED = "120341120421"


def test_specs_parse_and_print() -> None:
    assert Shard.parse("1/3") == Shard(1, 3) and str(Shard(1, 3)) == "1/3"
    assert Shard.parse(" 0/1 ") == Shard(0, 1)
    assert Shard.parse("auto/4", {"JOB_COMPLETION_INDEX": "3"}) == Shard(3, 4)


@pytest.mark.parametrize(
    ("spec", "environ", "message"),
    [
        ("3/3", {}, r"shard index 3 is not in 0\.\.2"),
        ("-1/3", {}, r"shard index -1 is not in 0\.\.2"),
        ("0/0", {}, "number of shards must be >= 1"),
        ("auto/3", {}, "JOB_COMPLETION_INDEX .* is not set"),
        ("auto/3", {"JOB_COMPLETION_INDEX": "5"}, r"shard index 5 is not in 0\.\.2"),
        ("auto/3", {"JOB_COMPLETION_INDEX": "x"}, "not a whole number"),
        ("1", {}, "give 'I/N' or 'auto/N'"),
        ("a/b", {}, "not a whole number"),
        ("/3", {}, "give 'I/N' or 'auto/N'"),
    ],
)
def test_bad_specs_say_what_is_wrong(spec: str, environ: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as caught:
        Shard.parse(spec, environ)
    assert caught.value.field == "shard"


def test_auto_reads_the_environment_when_parsed_not_at_import(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("JOB_COMPLETION_INDEX", "2")
    assert Shard.parse("auto/3") == Shard(2, 3)
    monkeypatch.setenv("JOB_COMPLETION_INDEX", "0")
    assert Shard.parse("auto/3") == Shard(0, 3)


def test_the_split_is_a_partition_and_even() -> None:
    shards = [Shard(i, 3) for i in range(3)]
    owners = Counter(sum(shard.owns(ident) for shard in shards) for ident in IDS)
    assert owners == {1: len(IDS)}  # every id in exactly one shard
    sizes = [sum(shard.owns(ident) for ident in IDS) for shard in shards]
    assert all(900 <= size <= 1100 for size in sizes), sizes
    assert all(Shard(0, 1).owns(ident) for ident in IDS[:10])


def test_the_split_is_the_same_in_any_process() -> None:
    """sha256, not hash(): a fresh interpreter with another hash seed splits alike."""
    here = "".join(str(next(i for i in range(5) if Shard(i, 5).owns(x))) for x in IDS[:200])
    code = (
        "from cosaudit.bulk import Shard\n"
        "ids = [f'item-{i}' for i in range(200)]\n"
        "print(''.join(str(next(i for i in range(5) if Shard(i, 5).owns(x))) for x in ids))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "12345", "PATH": ""},
    )
    assert done.stdout.strip() == here
    # Pinned: the same ids land in the same shards in every release (a resume depends on it).
    assert here[:12] == PINNED


def test_each_shard_has_its_own_journal_path(tmp_path: Path) -> None:
    journal = tmp_path / "run.jsonl"
    paths = {shard_journal(journal, Shard(i, 3)) for i in range(3)}
    assert paths == {tmp_path / f"run.shard-{i}-of-3.jsonl" for i in range(3)}
    assert shard_journal("out/run", Shard(0, 2)) == Path("out/run.shard-0-of-2")


async def test_three_shards_over_one_input_take_each_item_once(tmp_path: Path) -> None:
    items = [{"content": f"post {i}", "data_id": f"p{i}"} for i in range(90)]
    async with Emulator(EmulatorConfig()) as emu, client_for(emu) as client:
        taken: list[set[str]] = []
        for index in range(3):
            shard = Shard(index, 3)
            run = client.moderate_many(
                iter(items),
                kind="text",
                shard=f"{index}/3",
                journal=shard_journal(tmp_path / "run.jsonl", shard),
            )
            async with run:
                taken.append({result.id async for result in run})
            assert run.summary.items == len(taken[-1]) > 0  # only its own items counted
        # And a rerun of shard 1 resumes from its journal: nothing submitted again.
        rerun = client.moderate_many(
            iter(items),
            kind="text",
            shard=Shard(1, 3),
            journal=shard_journal(tmp_path / "run.jsonl", Shard(1, 3)),
        )
        async with rerun:
            assert [result async for result in rerun] == []
        assert rerun.summary.skipped == len(taken[1])
    ids = [item_id(item) for item in items]
    assert set().union(*taken) == set(ids)
    assert sum(len(part) for part in taken) == len(ids)  # no item in two shards
    assert emu.stats.submits["text"] == len(ids)


def test_a_bad_shard_option_fails_at_once() -> None:
    client = AuditClient(
        bucket="examplebucket-1250000000", region="ap-guangzhou", credentials=Credentials("a", "b")
    )
    with pytest.raises(InvalidInput, match="shard index 4"):
        client.moderate_many(["a"], kind="text", shard="4/2")
    with pytest.raises(InvalidInput, match="shard"):
        client.moderate_many(["a"], kind="text", shard=3)  # type: ignore[typeddict-item]
