"""Issue 12 items 3 and 6 over loopback: each node the emulator sends under the configuration
that produces it, read back through the client's models (image manifests, the account's
libraries and user lists, freeze, objects, languages, webpage numbering), and each kind refusing
a scene its page does not list, at the emulator (raw signed requests) and in the client."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from conftest import ManualClock
from test_emulator import SINGLE, Api

from benchmarks._emulator import BUCKET as PROCESS_BUCKET
from benchmarks._emulator import REGION, EmulatorProcess
from cosaudit import AuditClient, Credentials, Freeze, PollPolicy
from cosaudit.emulator import Emulator, EmulatorConfig
from cosaudit.emulator.images import png_with_text
from cosaudit.emulator.rules import RuleSet
from cosaudit.errors import InvalidInput
from cosaudit.models import Location, Result
from cosaudit.wire.scenes import KIND_SCENES

BUCKET = "examplebucket-1250000000"
FAST_POLL = PollPolicy(initial=0.01, multiplier=1.5, maximum=0.05, jitter=0.1, timeout=30)
KNOWN_IMAGE = png_with_text("a cat on a mat")
BANNED = {"token_id": "user-666", "nickname": "eve"}
STAFF = {"device_id": "user-1"}
KNIFE = {"x": 10, "y": 20, "width": 64, "height": 32, "rotate": 90}

RULES: dict[str, Any] = {
    "include_defaults": True,
    "Ads": {"block": ["acme"]},
    "libraries": [
        {
            "name": "rivals",
            "scene": "Ads",
            "suggestion": "review",
            "keywords": ["Globex"],
            "sub_label": "Competitor",
        },
        {
            "name": "known-bad",
            "scene": "Porn",
            "images": {"img-001": hashlib.sha256(KNOWN_IMAGE).hexdigest()},
        },
    ],
    "lists": [
        {"name": "banned", "type": "block", "entities": ["user-666"]},
        {"name": "staff", "type": "allow", "entities": ["user-1"]},
    ],
}
PHOTO = {  # a real photo the emulator cannot read: the manifest says what it shows
    "labels": {
        "Porn": {"hit_flag": 1, "score": 97, "category": "Sexy", "sub_label": "SexBehavior"},
        "Terrorism": {
            "hit_flag": 2,
            "objects": [{"name": "knife", "sub_label": "Knife", "location": KNIFE}],
        },
    }
}


def put(root: Path, key: str, data: bytes, manifest: Any = None) -> str:
    path = root / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    if manifest is not None:
        Path(f"{path}.cosaudit.json").write_text(json.dumps(manifest), "utf-8")
    return key


@pytest.fixture
def bucket(tmp_path: Path) -> Path:
    put(tmp_path, "images/photo.heic", b"\x00\x00\x00\x18ftypheic binary", PHOTO)
    put(tmp_path, "images/said.png", png_with_text("a quiet lake"), {"text": "buy now"})
    put(tmp_path, "images/known.png", KNOWN_IMAGE)
    put(tmp_path, "images/clean.png", png_with_text("kittens"))
    put(
        tmp_path,
        "clips/film.mp4",
        b"stand-in",
        {
            "duration_ms": 2000,
            "frames": [
                {"time_ms": 0, "text": "opening titles"},
                {"time_ms": 1000, "text": "", "labels": PHOTO["labels"]},
            ],
        },
    )
    put(
        tmp_path,
        "docs/deck.pdf",
        b"stand-in",
        {"pages": [{"text": "agenda"}, {"text": "", "labels": PHOTO["labels"]}]},
    )
    put(
        tmp_path,
        "voice/talk.mp3",
        b"stand-in",
        {
            "audio": [
                {"offset_ms": 0, "duration_ms": 2000, "text": "bonjour", "language": "fr"},
                {"offset_ms": 2000, "duration_ms": 3000, "text": "try Globex", "language": "en"},
                {"offset_ms": 5000, "duration_ms": 1000, "text": "silence"},
            ]
        },
    )
    return tmp_path


@pytest.fixture
async def emu(bucket: Path, clock: ManualClock) -> AsyncIterator[Emulator]:
    config = EmulatorConfig(bucket_dir=bucket, final_after_polls=2, clock=clock, rules=RULES)
    async with Emulator(config) as emulator:
        yield emulator


@pytest.fixture
async def client(emu: Emulator, clock: ManualClock) -> AsyncIterator[AuditClient]:
    async with AuditClient(
        bucket=BUCKET,
        region="ap-guangzhou",
        endpoint=emu.url,
        credentials=Credentials(emu.config.secret_id, emu.config.secret_key),
        poll=FAST_POLL,
        monotonic=clock,
        sleep=clock.sleep,
    ) as audit:
        yield audit


@pytest.fixture
async def site() -> AsyncIterator[str]:
    """A page with one line of text and two images, one of which has a manifest."""
    files = {
        "/page.html": (
            b"<html><body><p>Visit the casino, you moron.</p>"
            b'<img src="/clean.png"><img src="/photo.jpg"></body></html>'
        ),
        "/clean.png": png_with_text("kittens, and a casino"),
        "/photo.jpg": b"binary",
        "/photo.jpg.cosaudit.json": json.dumps(PHOTO).encode(),
    }

    async def handle(request: web.Request) -> web.Response:
        if request.path not in files:
            raise web.HTTPNotFound()
        return web.Response(body=files[request.path], content_type="text/html")

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield str(server.make_url("/page.html"))
    await server.close()


# --- item 3: images judged by their manifest, rules with libraries -----------------------------


async def test_an_image_manifest_gives_labels_sub_labels_and_objects(client: AuditClient) -> None:
    job = await client.image.moderate(object="images/photo.heic")  # the single-image GET
    assert (job.label, job.result, job.score) == ("Porn", Result.SENSITIVE, 97)
    assert (job.category, job.sub_label) == ("Sexy", "SexBehavior")
    porn = job.porn_info
    assert porn is not None and (porn.hit_flag, porn.category, porn.sub_label) == (
        1,
        "Sexy",
        "SexBehavior",
    )
    terror = job.terrorist_info  # the GET's name for the scene
    assert terror is not None and (terror.hit_flag, terror.score) == (2, 75)
    (knife,) = terror.object_results
    assert (knife.name, knife.sub_label) == ("knife", "Knife")
    assert knife.location == Location(x=10, y=20, width=64, height=32, rotate=90)


async def test_a_manifest_text_replaces_the_embedded_one(client: AuditClient) -> None:
    job = await client.image.moderate(object="images/said.png")
    assert (job.text, job.label) == ("buy now", "Ads")


async def test_an_image_in_an_image_library_answers_its_id(client: AuditClient) -> None:
    job = await client.image.moderate(object="images/known.png")
    assert (job.label, job.result) == ("Porn", Result.SENSITIVE)
    assert job.porn_info is not None
    ((hit,),) = [job.porn_info.lib_results]
    assert (hit.image_id, hit.score) == ("img-001", 100)
    clean = await client.image.moderate(object="images/clean.png")
    assert clean.porn_info is not None and clean.porn_info.lib_results == ()


async def test_a_text_library_answers_its_name_and_keywords(client: AuditClient) -> None:
    job = await client.text.moderate("Globex and ACME, and buy now")
    (section,) = job.sections
    ads = section.ads_info
    assert ads is not None and ads.hit_flag == 1  # acme blocks; the review library adds to it
    (lib,) = ads.lib_results
    assert (lib.lib_type, lib.lib_name, lib.keywords) == (2, "rivals", ("globex",))
    assert ads.keywords == ("buy now", "acme", "globex")  # the file kept the bundled lists
    assert ads.sub_label == "Competitor"  # the library's
    plain = await client.text.moderate("acme")
    assert plain.sections[0].ads_info is not None
    assert plain.sections[0].ads_info.sub_label is None  # none given: no SubLabel element


async def test_a_rules_file_loads_like_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(RULES), "utf-8")
    loaded = EmulatorConfig(rules=path).rules
    assert loaded == RuleSet.from_mapping(RULES)
    assert [lib.name for lib in loaded.libraries] == ["rivals", "known-bad"]
    assert [(a.name, a.list_type) for a in loaded.lists] == [("banned", 1), ("staff", 0)]


def test_cosaudit_emulator_loads_a_rules_file(tmp_path: Path) -> None:
    """``cosaudit emulator --rules FILE`` in its own process: the file's lists decide."""
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(RULES), "utf-8")

    async def moderate(emu: EmulatorProcess) -> Any:
        async with AuditClient(
            bucket=PROCESS_BUCKET, region=REGION, endpoint=emu.url, credentials=emu.credentials
        ) as audit:
            return await audit.text.moderate("try Globex", user_info=BANNED)

    with EmulatorProcess(extra_args=["--rules", str(path)]) as emu:
        job = asyncio.run(moderate(emu))
    assert job.list_info is not None and job.list_info.list_results[0].list_name == "banned"
    assert job.sections[0].ads_info.lib_results[0].lib_name == "rivals"


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ({"libraries": [{"name": "x", "scene": "Gambling"}]}, "libraries[0].scene"),
        ({"libraries": [{"name": "x", "scene": "Ads", "images": {"a": "abc"}}]}, "SHA-256"),
        ({"libraries": [{"name": "x", "scene": "Ads", "extra": 1}]}, "unknown field 'extra'"),
        ({"lists": [{"name": "x", "type": "grey", "entities": []}]}, "lists[0].type"),
        ({"include_defaults": "yes"}, "include_defaults"),
    ],
)
def test_bad_rules_files_are_refused_naming_the_field(rules: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        RuleSet.from_mapping(rules)


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        ({"fail": {"code": "ResourceNotSupported", "message": "corrupt"}}, "corrupt"),
        ({"labels": {"Porn": {"hit_flag": 3}}}, "labels.Porn.hit_flag must be 0, 1 or 2"),
        ({"labels": {"Gore": {}}}, "unknown scene 'Gore'"),
        ({"labels": {"Ads": {"objects": [{"name": "x", "location": {"z": 1}}]}}}, "'z'"),
        ({"txt": "typo"}, "unknown field 'txt'"),
    ],
)
async def test_an_image_manifest_can_fail_the_job_and_a_bad_one_does(
    api: Api, bucket: Path, manifest: Any, message: str
) -> None:
    key = put(bucket, "images/odd.png", png_with_text("hi"), manifest)
    reply = await api.submit("image", {"Input": {"Object": key}, "Conf": {}})
    detail = reply.tree["Response"]["JobsDetail"]
    assert (detail["State"], detail["Code"]) == ("Failed", "ResourceNotSupported")
    assert message in detail["Message"]


async def test_a_bad_frame_label_fails_the_video_job_naming_it(api: Api, bucket: Path) -> None:
    manifest = {"frames": [{"time_ms": 0, "labels": {"Porn": {"score": 101}}}]}
    key = put(bucket, "clips/bad.mp4", b"stand-in", manifest)
    request = {"Input": {"Object": key}, "Conf": {"Snapshot": {"Count": "1"}}}
    job_id = (await api.submit("video", request)).detail["JobId"]
    await api.query("video", job_id)
    detail = (await api.query("video", job_id)).detail
    assert (detail["State"], detail["Code"]) == ("Failed", "ResourceNotSupported")
    assert "frames[0].labels.Porn.score must be a whole number from 0 to 100" in detail["Message"]


# --- item 6: objects in frames and pages, languages, webpage numbering -------------------------


async def test_video_snapshots_carry_the_frame_labels_and_objects(client: AuditClient) -> None:
    job = await client.video.moderate(
        object="clips/film.mp4", snapshot_count=2, snapshot_interval=1
    )
    first, second = job.snapshots
    assert (first.label, second.label) == ("Normal", "Porn")
    assert second.porn_info is not None and second.porn_info.sub_label == "SexBehavior"
    assert second.terrorism_info is not None
    assert [o.name for o in second.terrorism_info.object_results] == ["knife"]
    assert job.sub_label == "SexBehavior"  # the job's, from its labelled scene


async def test_document_pages_carry_the_page_labels_and_objects(client: AuditClient) -> None:
    job = await client.document.moderate(object="docs/deck.pdf")
    agenda, photo = job.pages
    assert (agenda.label, photo.label, photo.suggestion) == ("Normal", "Porn", Result.SENSITIVE)
    assert photo.terrorism_info is not None
    (knife,) = photo.terrorism_info.object_results
    assert knife.location is not None and knife.location.rotate == 90


async def test_audio_languages_and_library_hits(client: AuditClient) -> None:
    job = await client.audio.moderate(object="voice/talk.mp3")
    fr, en, silent = job.sections
    assert [(r.label, r.score, r.start_time, r.end_time) for r in fr.language_results] == [
        ("fr", 100, 0, 2000)
    ]
    assert [r.label for r in en.language_results] == ["en"]
    assert silent.language_results == ()  # the manifest names none
    assert [(r.label, r.start_time) for r in job.language_results] == [("fr", 0), ("en", 2000)]
    assert en.ads_info is not None and en.ads_info.hit_flag == 2  # the review library
    (lib,) = en.ads_info.lib_results
    assert (lib.lib_name, lib.keywords) == ("rivals", ("globex",))


async def test_webpage_numbers_its_parts_and_judges_images_by_image_scenes(
    client: AuditClient, site: str
) -> None:
    job = await client.webpage.moderate(site)
    assert job.text_results is not None and job.image_results is not None
    (text,) = job.text_results.results
    assert (text.result, text.suggestion, text.page_number, text.sheet_number) == (
        Result.SENSITIVE,
        Result.SENSITIVE,
        1,
        1,
    )
    assert text.illegal_info is not None and text.abuse_info is not None
    clean, photo = job.image_results.results
    assert [(i.page_number, i.sheet_number) for i in (clean, photo)] == [(2, 1), (3, 1)]
    # images default to the image scenes: no Illegal/Abuse even though the image says "casino"
    assert set(clean.scenes) == {"Porn", "Terrorism", "Politics", "Ads"}
    assert clean.suggestion == Result.NORMAL
    assert photo.label == "Porn" and photo.terrorism_info is not None
    assert [o.name for o in photo.terrorism_info.object_results] == ["knife"]
    assert job.page_count == 3
    assert set(job.scenes) == {"Porn", "Ads", "Illegal", "Abuse", "Terrorism", "Politics"}


async def test_webpage_images_take_only_the_image_scenes_asked_for(
    client: AuditClient, site: str
) -> None:
    job = await client.webpage.moderate(site, detect_type="Illegal,Porn")
    assert job.image_results is not None and job.text_results is not None
    assert {scene for i in job.image_results.results for scene in i.scenes} == {"Porn"}
    assert set(job.text_results.results[0].scenes) == {"Illegal", "Porn"}


# --- item 6: ListInfo and ForbidState ----------------------------------------------------------


async def test_a_blocked_user_is_listed_and_blocked(client: AuditClient) -> None:
    job = await client.text.moderate("a sunny day", user_info=BANNED)
    assert job.list_info is not None
    assert [(r.list_type, r.list_name, r.entity) for r in job.list_info.list_results] == [
        (1, "banned", "user-666")
    ]
    # the list decided, not the content: Result 1, the content's Label, clean scenes
    assert (job.result, job.label, job.forbid_state) == (Result.SENSITIVE, "Normal", 0)
    assert job.sections[0].result == Result.NORMAL


async def test_an_allowed_user_passes(client: AuditClient) -> None:
    job = await client.text.moderate("buy now", user_info=STAFF)
    assert job.list_info is not None
    assert [(r.list_type, r.list_name) for r in job.list_info.list_results] == [(0, "staff")]
    assert (job.result, job.label) == (Result.NORMAL, "Normal")
    assert job.ads_info is not None and job.ads_info.hit_flag == 1  # the content is as it was
    unlisted = await client.text.moderate("buy now", user_info={"token_id": "someone"})
    assert (unlisted.list_info, unlisted.result) == (None, Result.SENSITIVE)


Submit = Callable[[AuditClient], Awaitable[Any]]
EVERY_KIND: dict[str, Submit] = {
    "image": lambda c: c.image.moderate(object="images/clean.png", user_info=BANNED),
    "text": lambda c: c.text.moderate("hello", user_info=BANNED),
    "video": lambda c: c.video.moderate(
        object="clips/film.mp4", snapshot_count=2, user_info=BANNED
    ),
    "audio": lambda c: c.audio.moderate(object="voice/talk.mp3", user_info=BANNED),
    "document": lambda c: c.document.moderate(object="docs/deck.pdf", user_info=BANNED),
}


@pytest.mark.parametrize("kind", sorted(EVERY_KIND))
async def test_every_kind_answers_list_info_and_forbid_state(
    client: AuditClient, kind: str
) -> None:
    job = await EVERY_KIND[kind](client)
    assert job.list_info is not None and job.list_info.list_results[0].entity == "user-666"
    assert (job.verdict, job.forbid_state) == (Result.SENSITIVE, 0)


async def test_a_live_stream_answers_list_info_while_it_runs(
    client: AuditClient, bucket: Path, clock: ManualClock
) -> None:
    stream = {"duration_ms": 5000, "frames": [{"time_ms": 0, "text": "hello"}]}
    put(bucket, "live/room1.cosaudit.json", json.dumps(stream).encode())
    submitted = await client.live.submit(
        "rtmp://127.0.0.1/live/room1", biz_type="b81d45f94b91a683255e9a9506f45a11", user_info=BANNED
    )
    assert submitted.job_id is not None
    clock.advance(1)
    job = await client.live.get(submitted.job_id)
    assert job.list_info is not None and job.list_info.list_results[0].entity == "user-666"
    assert (job.result, job.forbid_state) == (Result.SENSITIVE, 0)
    await client.live.cancel(submitted.job_id)


async def test_webpage_answers_list_info(client: AuditClient, site: str) -> None:
    job = await client.webpage.moderate(site, user_info=STAFF)
    assert job.list_info is not None and job.list_info.list_results[0].list_name == "staff"
    assert (job.suggestion, job.label, job.forbid_state) == (Result.NORMAL, "Normal", 0)


async def test_virus_jobs_answer_neither(client: AuditClient, bucket: Path) -> None:
    put(bucket, "files/a.txt", b"fine")
    job = await client.virus.moderate(object="files/a.txt")
    assert job.raw["JobId"] == job.job_id  # the answer's JobsDetail
    assert "ForbidState" not in job.raw and "ListInfo" not in job.raw


@pytest.mark.parametrize(("threshold", "frozen"), [(90, 1), (97, 1), (98, 0)])
async def test_freeze_sets_forbid_state_when_the_score_reaches_it(
    client: AuditClient, threshold: int, frozen: int
) -> None:
    (submitted,) = await client.image.submit_batch(
        ["images/photo.heic"], freeze=Freeze(porn_score=threshold)
    )
    assert submitted.job_id is not None
    job = await client.image.wait(submitted.job_id)
    assert (job.porn_info.score if job.porn_info else None, job.forbid_state) == (97, frozen)


async def test_freeze_ignores_scenes_that_did_not_hit(client: AuditClient) -> None:
    job = await client.document.moderate(object="docs/deck.pdf", freeze=Freeze(ads_score=0))
    assert job.forbid_state == 0


# --- item 6: each kind takes only its page's scenes --------------------------------------------

REFUSED = [
    ("image", "Illegal"),
    ("image", "Abuse"),
    ("text", "Teenager"),
    ("video", "Illegal"),
    ("audio", "Abuse"),
    ("document", "Teenager"),
    ("webpage", "Teenager"),
]


def _request(kind: str, scenes: str) -> dict[str, Any]:
    conf: dict[str, Any] = {"DetectType": scenes}
    if kind == "video":
        conf["Snapshot"] = {"Count": "1"}
    source = {
        "image": {"Object": "images/clean.png"},
        "text": {"Content": "aGk="},
        "video": {"Object": "clips/film.mp4"},
        "audio": {"Object": "voice/talk.mp3"},
        "document": {"Object": "docs/deck.pdf"},
        "webpage": {"Url": "http://127.0.0.1:9/page.html"},
    }[kind]
    return {"Input": source, "Conf": conf}


@pytest.fixture
async def api(emu: Emulator) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        yield Api(emu, session)


@pytest.mark.parametrize(("kind", "scene"), REFUSED)
async def test_the_emulator_refuses_a_scene_the_kind_does_not_take(
    api: Api, kind: str, scene: str
) -> None:
    reply = await api.submit(kind, _request(kind, f"Porn,{scene}"))
    assert (reply.status, reply.error["Code"]) == (400, "InvalidArgument")
    assert f"DetectType {scene} is not a scene of {kind}" in reply.error["Message"]


@pytest.mark.parametrize("kind", ["image", "text", "video", "audio", "document", "webpage"])
async def test_the_emulator_takes_every_scene_the_kind_lists(api: Api, kind: str) -> None:
    reply = await api.submit(kind, _request(kind, ",".join(KIND_SCENES[kind])))
    assert reply.status == 200, reply.body


async def test_the_single_image_get_and_live_refuse_too(api: Api) -> None:
    get = await api.call(
        "GET", "/images/clean.png", params={"ci-process": SINGLE, "detect-type": "porn,abuse"}
    )
    assert (get.status, get.error["Code"]) == (400, "InvalidArgument")
    live = await api.call(
        "POST",
        "/video/auditing",
        body=(
            b"<Request><Type>live_video</Type><Input><Url>rtmp://h/live/a</Url></Input>"
            b"<Conf><BizType>b81d45f94b91a683255e9a9506f45a11</BizType>"
            b"<DetectType>Illegal</DetectType></Conf></Request>"
        ),
    )
    assert (live.status, live.error["Code"]) == (400, "InvalidArgument")


CLIENT_REFUSED: dict[str, Submit] = {
    "image": lambda c: c.image.moderate(object="a.png", detect_type="Porn,Illegal"),
    "image GET": lambda c: c.image.submit(object="a.png", detect_type=["abuse"]),
    "image batch": lambda c: c.image.moderate_batch(["a.png"], detect_type="Abuse"),
    "text": lambda c: c.text.moderate("hi", detect_type="Teenager"),
    "video": lambda c: c.video.submit(object="a.mp4", snapshot_count=1, detect_type="Illegal"),
    "audio": lambda c: c.audio.submit(object="a.mp3", detect_type="Abuse"),
    "document": lambda c: c.document.submit(object="a.pdf", detect_type="Teenager"),
    "webpage": lambda c: c.webpage.submit("http://127.0.0.1/", detect_type="Teenager"),
}


@pytest.mark.parametrize("call", sorted(CLIENT_REFUSED))
async def test_the_client_refuses_them_before_sending(
    emu: Emulator, client: AuditClient, call: str
) -> None:
    before = sum(emu.stats.requests.values())
    with pytest.raises(InvalidInput, match="does not take"):
        await CLIENT_REFUSED[call](client)
    assert sum(emu.stats.requests.values()) == before
