"""CPU cost of the client's per-request work, without any network.

Measures, per call, the pieces every request goes through: signing, building a request body,
parsing a response body, and structuring it into a model. The ratio line compares our whole
path with the floor of this stack (xmltodict parsing alone).

    python -m benchmarks.hot_path [--repeat 7] [--number 2000]
"""

from __future__ import annotations

import argparse
import statistics
import timeit
from collections.abc import Callable

import xmltodict

from cosaudit import xmlcodec
from cosaudit.models import TextJob, structure
from cosaudit.signing import Signer

RESPONSE = (
    b"<Response><JobsDetail><JobId>st78925397b9de11eba532525400946f76</JobId>"
    b"<State>Success</State><CreationTime>2021-05-21T10:44:32+08:00</CreationTime>"
    b"<Content>5L2g5aW9</Content><SectionCount>1</SectionCount><Label>Ads</Label>"
    b"<Result>1</Result><PornInfo><HitFlag>0</HitFlag><Count>0</Count></PornInfo>"
    b"<AdsInfo><HitFlag>1</HitFlag><Count>1</Count></AdsInfo>"
    b"<IllegalInfo><HitFlag>0</HitFlag><Count>0</Count></IllegalInfo>"
    b"<AbuseInfo><HitFlag>0</HitFlag><Count>0</Count></AbuseInfo>"
    b"<Section><StartByte>0</StartByte><Label>Ads</Label><Result>1</Result>"
    b"<PornInfo><HitFlag>0</HitFlag><Score>0</Score><Keywords/></PornInfo>"
    b"<AdsInfo><HitFlag>1</HitFlag><Score>90</Score><Keywords>buy now</Keywords></AdsInfo>"
    b"<IllegalInfo><HitFlag>0</HitFlag><Score>0</Score><Keywords/></IllegalInfo>"
    b"<AbuseInfo><HitFlag>0</HitFlag><Score>0</Score><Keywords/></AbuseInfo></Section>"
    b"</JobsDetail><RequestId>NjE4OWQ1MjlfMjQ4OGY3XzYzYzhf</RequestId></Response>"
)
HEADERS = {
    "Host": "examplebucket-1250000000.ci.ap-guangzhou.myqcloud.com",
    "Content-Type": "application/xml",
    "Content-Length": "195",
}
REQUEST = {"Input": {"Content": "YnV5IG5vdw==", "DataId": "id-1"}, "Conf": {"BizType": "abc"}}


def _sign() -> None:
    Signer().sign("AKID", "key", "POST", "/text/auditing", {}, HEADERS, 1_700_000_000)


def _build() -> None:
    xmlcodec.build("Request", REQUEST)


def _parse() -> None:
    xmlcodec.parse(RESPONSE)


def _model() -> None:
    structure(TextJob, xmlcodec.parse(RESPONSE)["Response"]["JobsDetail"])


def _floor() -> None:
    xmltodict.parse(RESPONSE)


def _all() -> None:
    _sign()
    _build()
    _model()


CASES: dict[str, Callable[[], None]] = {
    "sign": _sign,
    "build body": _build,
    "parse (guarded)": _parse,
    "parse + model": _model,
    "xmltodict floor": _floor,
    "whole path": _all,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--number", type=int, default=2000)
    args = parser.parse_args()
    medians: dict[str, float] = {}
    print(f"{'step':<18} {'median µs/call':>15} {'min µs/call':>12}")
    for name, fn in CASES.items():
        runs = timeit.repeat(fn, repeat=args.repeat, number=args.number)
        per_call = [run / args.number * 1e6 for run in runs]
        medians[name] = statistics.median(per_call)
        print(f"{name:<18} {medians[name]:>15.1f} {min(per_call):>12.1f}")
    ratio = medians["whole path"] / medians["xmltodict floor"]
    print(f"\nratio: whole client path / xmltodict parse alone = {ratio:.2f}x")


if __name__ == "__main__":
    main()
