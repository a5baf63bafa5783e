"""Fuzzing the response path: random and mutated XML must give a model or a typed error.

Two levels. Pure: ``xmlcodec.parse`` then ``structure`` for every job model, on random trees and
bytes (raising only ``XMLError``/``ModelError``), many examples. Over loopback HTTP: every
documented sample in ``tests/fixtures`` (for every kind the client has), mutated (truncated,
bytes flipped, nodes swapped, deleted, duplicated, given the wrong type) and served by a
scripted server; the client's own call must return the kind's model or raise a
``CosAuditError`` — never ``KeyError``, ``AttributeError``, ``TypeError``, ``RecursionError``…
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import attrs
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cosaudit.models as models
from cosaudit import AuditClient, Credentials, RetryPolicy
from cosaudit.errors import CosAuditError, MalformedResponse
from cosaudit.models import ModelError, structure
from cosaudit.models._convert import is_model, xml_name
from cosaudit.wire.xmlcodec import XMLError, build, parse

FIXTURES = Path(__file__).parent / "fixtures"
# The client attribute of each kind and the model it answers with (fixtures are named after
# the kind: text_query_001.xml).
KIND_MODELS: dict[str, type[Any]] = {
    "text": models.TextJob,
    "image": models.ImageJob,
    "webpage": models.WebpageJob,
    "video": models.VideoJob,
    "audio": models.AudioJob,
    "document": models.DocumentJob,
    "live": models.LiveJob,
    "virus": models.VirusJob,
}
# Every job model, including any added after this test was written.
JOB_MODELS = sorted(
    (
        getattr(models, name)
        for name in models.__all__
        if name.endswith("Job") and is_model(getattr(models, name))
    ),
    key=lambda cls: cls.__name__,
)


def _all_models() -> list[type[Any]]:
    return [getattr(models, n) for n in models.__all__ if is_model(getattr(models, n, None))]


# Element names the models know, so random trees hit real fields, plus some they do not.
KNOWN_NAMES = sorted(
    {xml_name(a) for cls in _all_models() for a in attrs.fields(cls) if a.name != "raw"}
)

# --- strategies -----------------------------------------------------------------------------------

names = st.sampled_from([*KNOWN_NAMES, "Unknown", "x", "Job_Id", "JOBID", "jobid"])
awkward = st.sampled_from(
    [
        "",
        " ",
        "0",
        "1",
        "-1",
        "2",
        "100",
        "1.5",
        "1e309",
        "NaN",
        "-inf",
        "99999999999999999999999",
        "true",
        "false",
        "Success",
        "Failed",
        "Auditing",
        "Porn,Ads",
        "2021-08-07T12:12:12+0800",
        "2021-13-45T99:99:99+08:00",
        "\u202e",
        "a" * 300,
    ]
)
leaves = st.one_of(st.none(), awkward, st.text(st.characters(codec="utf-8"), max_size=12))
trees = st.recursive(
    leaves,
    lambda children: st.one_of(
        st.dictionaries(names, children, max_size=6),
        st.lists(children, min_size=2, max_size=4),
    ),
    max_leaves=16,
)
mappings = st.dictionaries(names, trees, max_size=6)


@given(model=st.sampled_from(JOB_MODELS), tree=mappings)
def test_structure_gives_a_model_or_a_model_error(model: type[Any], tree: dict[str, Any]) -> None:
    try:
        job = structure(model, tree)
    except ModelError:
        return
    assert isinstance(job, model)
    repr(job)  # and what comes out can be shown
    assert job.raw is tree


@given(body=st.binary(max_size=400))
def test_parse_of_random_bytes_gives_a_tree_or_an_xml_error(body: bytes) -> None:
    try:
        tree = parse(body)
    except XMLError:
        return
    assert isinstance(tree, dict)


# --- the fixtures and how to mutate them ---------------------------------------------------------


def _response_fixtures() -> list[Path]:
    return sorted(
        path
        for path in FIXTURES.glob("*.xml")
        if path.name.split("_")[0] in KIND_MODELS and "request" not in path.name
    )


SAMPLES = {path.name: path.read_bytes() for path in _response_fixtures()}


def _is_skeleton(body: bytes) -> bool:
    """A page's field-by-field skeleton, with an empty JobId: the client refuses it, typed."""
    root = next(iter(parse(body).values()))
    detail = root.get("JobsDetail", root) if isinstance(root, dict) else None
    return isinstance(detail, dict) and not detail.get("JobId")


SKELETONS = {name for name, body in SAMPLES.items() if _is_skeleton(body)}


def _paths(tree: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every node of a tree as a path of keys/indexes from the root."""
    found: list[tuple[Any, ...]] = []
    if isinstance(tree, dict):
        for key, value in tree.items():
            found.append((*prefix, key))
            found += _paths(value, (*prefix, key))
    elif isinstance(tree, list):
        for index, value in enumerate(tree):
            found.append((*prefix, index))
            found += _paths(value, (*prefix, index))
    return found


def _get(tree: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        tree = tree[step]
    return tree


def _set(tree: Any, path: tuple[Any, ...], value: Any) -> None:
    _get(tree, path[:-1])[path[-1]] = value


WRONG_TYPES: list[Any] = [None, "", "abc", "-1", "1e309", {"X": "1"}, ["1", {"Y": "2"}], "a" * 500]


def mutate(body: bytes, how: str, rng: random.Random) -> bytes:
    """One mutation of a sample, chosen by ``how`` and placed by ``rng``."""
    if how == "truncate":
        return body[: rng.randrange(len(body))]
    if how == "flip":
        data = bytearray(body)
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        return bytes(data)
    tree = parse(body)
    ((root, children),) = tree.items()
    paths = [p for p in _paths(children) if not isinstance(p[-1], int) or how != "delete"]
    if not paths:
        return body
    target = rng.choice(paths)
    if how == "swap":
        other = rng.choice(paths)
        if target[: len(other)] != other and other[: len(target)] != target:
            first, second = _get(children, target), _get(children, other)
            _set(children, target, second)
            _set(children, other, first)
    elif how == "delete":
        del _get(children, target[:-1])[target[-1]]
    elif how == "duplicate":
        value = _get(children, target)
        _set(children, target, [value, value])
    elif how == "retype":
        _set(children, target, rng.choice(WRONG_TYPES))
    elif how == "insert":
        parent = _get(children, target)
        if isinstance(parent, dict):
            parent[rng.choice(KNOWN_NAMES)] = rng.choice(WRONG_TYPES)
    return build(root, children or {})


MUTATIONS = ["truncate", "flip", "swap", "delete", "duplicate", "retype", "insert"]


@given(
    sample=st.sampled_from(sorted(SAMPLES)),
    how=st.sampled_from(MUTATIONS),
    seed=st.integers(0, 2**32),
    model=st.sampled_from(JOB_MODELS),
)
# Scaled from the profile (60 by default, 5,000 with HYPOTHESIS_PROFILE=fuzz).
@settings(max_examples=5 * settings.default.max_examples)
def test_mutated_samples_parse_and_structure_or_fail_typed(
    sample: str, how: str, seed: int, model: type[Any]
) -> None:
    body = mutate(SAMPLES[sample], how, random.Random(seed))
    try:
        tree = parse(body)
    except XMLError:
        return
    for root in tree.values():
        details = root.get("JobsDetail", root) if isinstance(root, dict) else root
        for item in details if isinstance(details, list) else [details]:
            if isinstance(item, dict):
                with contextlib.suppress(ModelError):
                    assert isinstance(structure(model, item), model)


# --- over loopback HTTP, through the client's own calls -------------------------------------------


class Script:
    def __init__(self) -> None:
        self.body = b""

    async def handle(self, request: web.Request) -> web.Response:
        await request.read()
        return web.Response(
            body=self.body, headers={"x-ci-request-id": "fuzz"}, content_type="application/xml"
        )


@pytest.fixture
async def scripted() -> AsyncIterator[tuple[Script, AuditClient]]:
    script = Script()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", script.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    client = AuditClient(
        bucket="examplebucket-1250000000",
        region="ap-guangzhou",
        endpoint=f"http://127.0.0.1:{server.port}",
        credentials=Credentials("AKIDfuzz", "fuzz-key"),
        retry=RetryPolicy(attempts=1),
    )
    async with client:
        yield script, client
    await server.close()


def _call_for(sample: str) -> tuple[Callable[[AuditClient], Awaitable[Any]], type[Any]]:
    """The client call that reads an answer like ``sample``, and the model it returns."""
    kind = sample.split("_")[0]
    body = SAMPLES[sample]
    if next(iter(parse(body))) == "RecognitionResult":
        return (lambda c: c.image.moderate(object="a.jpg", raise_on_failure=False)), models.ImageJob
    if kind == "text" and "sync" in sample:
        return (lambda c: c.text.moderate("hello", raise_on_failure=False)), models.TextJob
    return (lambda c: getattr(c, kind).get("st1")), KIND_MODELS[kind]


@settings(
    max_examples=2 * settings.default.max_examples,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    sample=st.sampled_from(sorted(SAMPLES)),
    how=st.sampled_from([*MUTATIONS, "none"]),
    seed=st.integers(0, 2**32),
)
async def test_the_client_answers_mutated_samples_with_a_model_or_a_typed_error(
    scripted: tuple[Script, AuditClient], sample: str, how: str, seed: int
) -> None:
    script, client = scripted
    body = SAMPLES[sample]
    script.body = body if how == "none" else mutate(body, how, random.Random(seed))
    call, model = _call_for(sample)
    try:
        result = await call(client)
    except CosAuditError:
        # Skeleton samples have an empty JobId: typed MalformedResponse, by design.
        assert how != "none" or sample in SKELETONS, f"the unmutated {sample} must parse"
        return
    assert isinstance(result, model)
    repr(result)


@pytest.mark.parametrize("sample", sorted(SAMPLES))
async def test_every_sample_reads_through_the_client(
    scripted: tuple[Script, AuditClient], sample: str
) -> None:
    script, client = scripted
    script.body = SAMPLES[sample]
    call, model = _call_for(sample)
    if sample in SKELETONS:
        with pytest.raises(MalformedResponse, match="JobId"):
            await call(client)
    else:
        assert isinstance(await call(client), model)
