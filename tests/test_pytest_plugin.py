"""The pytest plugin and :func:`cosaudit.testing.emulated`, as a user's project sees them.

``user_project/`` is a small web service with its tests, which use only the plugin's fixtures
(the example in the README). It is run with ``pytester`` under pytest-asyncio (auto mode) and
under anyio, with a per-test and a per-session emulator; this suite's own fixtures
(``emulator``, ``clock``...) live on beside the plugin's.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cosaudit.emulator import Emulator
from cosaudit.emulator.images import png_with_text
from cosaudit.testing import Emulated, emulated

USER_PROJECT = Path(__file__).parent / "user_project"


def _project(pytester: pytest.Pytester, *, ini: str = "") -> None:
    for source in USER_PROJECT.glob("*.py"):
        pytester.makepyfile(**{source.stem: source.read_text()})
    pytester.makeini(f"[pytest]\nfilterwarnings = error\n{ini}")


def test_user_project_under_pytest_asyncio_auto_mode(pytester: pytest.Pytester) -> None:
    """With the project's own ``pytest.ini`` (the README's), as a newcomer copies it."""
    own = (USER_PROJECT / "pytest.ini").read_text().split("[pytest]\n", 1)[1]
    _project(pytester, ini=own)
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:anyio")
    result.assert_outcomes(passed=3)


def _marked(pytester: pytest.Pytester, marker: str) -> None:
    source = (USER_PROJECT / "test_comments.py").read_text()
    pytester.makepyfile(test_comments=f"import pytest\npytestmark = pytest.mark.{marker}\n{source}")


def test_user_project_under_pytest_asyncio_strict_mode(pytester: pytest.Pytester) -> None:
    """Strict mode, pytest-asyncio's default: only its own fixtures run on its loop."""
    _project(pytester, ini="asyncio_mode = strict\nasyncio_default_fixture_loop_scope = function")
    _marked(pytester, "asyncio")
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:anyio")
    result.assert_outcomes(passed=3)


@pytest.mark.parametrize("asyncio_plugin", ["off", "strict"])
def test_user_project_under_anyio(pytester: pytest.Pytester, asyncio_plugin: str) -> None:
    if asyncio_plugin == "off":
        _project(pytester)
        off = ["-p", "no:asyncio"]
    else:
        _project(
            pytester, ini="asyncio_mode = strict\nasyncio_default_fixture_loop_scope = function"
        )
        off = []
    _marked(pytester, "anyio")
    result = pytester.runpytest("-p", "no:cacheprovider", *off)
    result.assert_outcomes(passed=3)


_SCOPE_PROBE = """
import pytest

SEEN = []

@pytest.mark.parametrize("n", [1, 2])
def test_emulator(cos_emulator, n):
    SEEN.append(cos_emulator.url)
    assert cos_emulator.bucket_dir.is_dir()

def test_scope(request):
    shared = request.config.getini("cosaudit_emulator_scope") == "session"
    assert len(set(SEEN)) == (1 if shared else 2)

@pytest.mark.cos_emulator(final_after_polls=3, bucket="mine")
def test_marker_settings(cos_emulator):
    config = cos_emulator.emulator.config
    assert (config.final_after_polls, config.full_bucket) == (3, "mine-1250000000")
"""


@pytest.mark.parametrize("scope", ["function", "session"])
def test_per_test_or_per_session(pytester: pytest.Pytester, scope: str) -> None:
    pytester.makepyfile(test_probe=_SCOPE_PROBE)
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "-p", "no:asyncio", "-o", f"cosaudit_emulator_scope={scope}"
    )
    if scope == "function":
        result.assert_outcomes(passed=4)
    else:  # a shared emulator cannot take one test's settings: that test errors, saying why
        result.assert_outcomes(passed=3, errors=1)
        result.stdout.fnmatch_lines(["*mark.cos_emulator needs an emulator per test*"])


def test_a_bad_scope_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_probe="def test_x(cos_emulator): pass\n")
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "-p", "no:asyncio", "-o", "cosaudit_emulator_scope=module"
    )
    assert "cosaudit_emulator_scope must be function or session" in result.stdout.str() + (
        result.stderr.str()
    )


def test_the_plugin_fixture_serves_synchronous_code(cos_emulator: Emulated) -> None:
    """From its own thread: a test with no event loop (the official SDK's) reaches it."""
    from qcloud_cos import CosConfig, CosS3Client

    (cos_emulator.bucket_dir / "ads.png").write_bytes(png_with_text("buy now"))
    port = int(cos_emulator.url.rsplit(":", 1)[1])
    key = cos_emulator.credentials
    sdk = CosS3Client(
        CosConfig(
            Region="ap-guangzhou",
            SecretId=key.secret_id,
            SecretKey=key.secret_key,
            IP="127.0.0.1",
            Port=port,
            Scheme="http",
        ),
        retry=0,
    )
    answer = sdk.get_object_sensitive_content_recognition(Bucket=cos_emulator.bucket, Key="ads.png")
    assert answer["Label"] == "Ads"
    assert [(r.method, r.path, r.status) for r in cos_emulator.requests] == [
        ("GET", "/ads.png", 200)
    ]


async def test_plugin_fixtures_live_beside_this_suites_own(
    emulator: Emulator, cos_emulator: Emulated, cosaudit_client: object
) -> None:
    assert emulator.url != cos_emulator.url


async def test_emulated_for_other_runners() -> None:
    async with emulated(job_duration=10) as cos:
        (cos.bucket_dir / "note.txt").write_text("you are an idiot")
        async with cos.client() as client:
            job = await client.text.submit(object="note.txt")
            assert not (await client.text.get(job.job_id)).is_final
            cos.clock.advance(10)
            done = await client.text.get(job.job_id)
            assert (done.is_final, done.label) == (True, "Abuse")
        folder = cos.bucket_dir
    assert not folder.exists()  # the temporary bucket folder is gone


def test_the_readme_shows_the_user_project_as_tested() -> None:
    readme = (USER_PROJECT.parents[1] / "README.md").read_text("utf-8")
    for name in ("comments.py", "test_comments.py"):
        body = (USER_PROJECT / name).read_text().split('"""', 2)[2].lstrip("\n")
        assert f"# {name}\n{body}```" in readme, f"the README's {name} differs from the tested one"
    ini = (USER_PROJECT / "pytest.ini").read_text()
    assert f"```ini\n{ini}```" in readme, "the README's pytest.ini differs from the tested one"


def test_the_user_project_needs_its_pytest_ini(pytester: pytest.Pytester) -> None:
    """Without auto mode (strict is pytest-asyncio's default) the unmarked tests are refused."""
    _project(pytester, ini="asyncio_default_fixture_loop_scope = function")
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:anyio")
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*async def functions are not natively supported*"])
