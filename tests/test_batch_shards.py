"""``cosaudit batch --shard``: three shard processes over one input against one emulator, counted
on the emulator's side; and the options' errors."""

from __future__ import annotations

import asyncio
import io
from collections import Counter
from pathlib import Path

import pytest
from test_batch import BUCKET, REGION, batch, lines, write_jsonl

from cosaudit.batch import main as batch_main
from cosaudit.emulator import Emulator, EmulatorConfig


async def test_three_shard_processes_split_one_input(tmp_path: Path) -> None:
    rows = [{"kind": "text", "content": f"post {i}", "data_id": f"p-{i}"} for i in range(60)]
    source = write_jsonl(tmp_path / "in.jsonl", rows)
    async with Emulator(EmulatorConfig()) as emulator:
        env = {
            "TENCENTCLOUD_SECRET_ID": emulator.config.secret_id,
            "TENCENTCLOUD_SECRET_KEY": emulator.config.secret_key,
        }
        where = ("--endpoint", emulator.url, "--bucket", BUCKET, "--region", REGION)
        runs = await asyncio.gather(
            *(
                batch(source, "-o", tmp_path / f"out-{i}.jsonl", *where, "--shard", f"{i}/3",
                      "--rate", "100", env=env)
                for i in range(3)
            )
        )  # fmt: skip
        for status, err in runs:
            assert status == 0, err
        submitted = Counter(
            emulator.jobs[job_id].request["Input"]["DataId"] for job_id in emulator.jobs
        )
    shards = [{r["data_id"] for r in lines(tmp_path / f"out-{i}.jsonl")} for i in range(3)]
    ids = {row["data_id"] for row in rows}
    assert set().union(*shards) == ids  # the union is the input
    assert sum(len(shard) for shard in shards) == len(ids)  # no item in two shards
    assert all(shards)  # each shard took some
    assert submitted == Counter(ids)  # nothing submitted twice


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (("--shard", "3/3"), "--shard: shard index 3 is not in 0..2"),
        (("--shard", "0/0"), "--shard: the number of shards must be >= 1"),
        (("--shard", "auto/3"), "JOB_COMPLETION_INDEX"),
        (("--rate", "0"), "--rate: must be a number above 0"),
        (("--rate", "fast"), "--rate: give a number of submissions per second or 'adaptive'"),
    ],
)
def test_bad_rate_or_shard_is_a_usage_error(
    tmp_path: Path,
    options: tuple[str, ...],
    message: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("JOB_COMPLETION_INDEX", raising=False)
    source = write_jsonl(tmp_path / "in.jsonl", [{"kind": "text", "content": "hi"}])
    out = tmp_path / "out.jsonl"
    err = io.StringIO()  # in-process: the check fails before any event loop or emulator
    try:
        status = batch_main([str(source), "-o", str(out), "--emulator", *options], err=err)
    except SystemExit as exited:  # argparse's own errors
        status = exited.code  # type: ignore[assignment]
    assert status == 2
    assert message in err.getvalue() + capsys.readouterr().err
    assert not out.exists()


def test_auto_takes_its_index_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [{"kind": "text", "content": f"post {i}", "data_id": f"p-{i}"} for i in range(20)]
    source = write_jsonl(tmp_path / "in.jsonl", rows)
    taken = []
    for index in ("0", "1"):
        monkeypatch.setenv("JOB_COMPLETION_INDEX", index)
        out = tmp_path / f"out-{index}.jsonl"
        status = batch_main(
            [str(source), "-o", str(out), "--emulator", "--shard", "auto/2"], err=io.StringIO()
        )
        assert status == 0
        taken.append({r["data_id"] for r in lines(out)})
    assert taken[0].isdisjoint(taken[1]) and taken[0] | taken[1] == {r["data_id"] for r in rows}


async def test_resuming_a_shard_with_another_spec_is_refused(tmp_path: Path) -> None:
    rows = [{"kind": "text", "content": f"post {i}", "data_id": f"p-{i}"} for i in range(40)]
    source = write_jsonl(tmp_path / "in.jsonl", rows)
    out = tmp_path / "s0.jsonl"
    run = (source, "-o", out, "--emulator", "--job-duration", "0", "--quiet")
    status, err = await batch(*run, "--shard", "0/2")
    assert status == 0, err
    before = out.read_bytes()
    # 0/3 (or no --shard) would take items shards 1/3 and 2/3 take too: submitted twice.
    status, err = await batch(*run, "--shard", "0/3", "--resume")
    assert status == 2
    assert "records a run with --shard 0/2, not with --shard 0/3" in err
    status, err = await batch(*run, "--resume")
    assert status == 2 and "with --shard 0/2, not without --shard" in err
    assert out.read_bytes() == before  # nothing run
    status, err = await batch(*run, "--shard", "0/2", "--resume")
    assert status == 0, err
