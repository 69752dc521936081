"""check-log reads every format a lab records: files written by python-can's own writers from
the shared capture give the same verdicts as the capture's analyser CSV."""

from __future__ import annotations

import math
from pathlib import Path

import can
import pytest

from pile_interop.gbt27930.capture import read_capture_csv
from pile_interop.gbt27930.logcheck import check_log, check_recording
from pile_interop.gbt27930.logframe import LogFormatError, LogFrame
from pile_interop.gbt27930.recording import open_recording

from .conftest import CAPTURE

GBK_CAPTURE = Path(__file__).resolve().parents[3] / "shared/data/gbt27930/charger-capture.gbk.csv"


def verdicts(cases: list[dict]) -> dict[str, str]:
    return {c["id"]: c["verdict"] for c in cases}


@pytest.fixture(scope="module")
def frames() -> list[LogFrame]:
    return read_capture_csv(CAPTURE)


@pytest.fixture(scope="module")
def expected() -> dict[str, dict[str, str]]:
    return {sut: verdicts(check_log(CAPTURE, sut, "2015", f"gbt27930/{sut}")) for sut in SIDES}


SIDES = ("charger", "bms")


def _messages(frames: list[LogFrame], channel: int | str = 0) -> list[can.Message]:
    return [
        can.Message(
            timestamp=f.t,
            arbitration_id=f.can_id,
            is_extended_id=True,
            data=f.data,
            channel=channel,
        )
        for f in frames
    ]


def _write(writer: can.io.generic.MessageWriter, messages: list[can.Message]) -> None:
    with writer:
        for message in messages:
            writer.on_message_received(message)


WRITERS = {
    "asc": can.ASCWriter,
    "blf": can.BLFWriter,
    "trc": can.TRCWriter,
    "csv": can.CSVWriter,
    "log": can.CanutilsLogWriter,
}
FORMATS = {
    "asc": "Vector ASC",
    "blf": "Vector BLF",
    "trc": "PCAN trc",
    "csv": "python-can CSV",
    "log": "candump log",
}


@pytest.mark.parametrize("suffix", sorted(WRITERS))
def test_a_recording_written_by_python_can_gives_the_csvs_verdicts(
    tmp_path, frames, expected, suffix
):
    path = tmp_path / f"session.{suffix}"
    _write(WRITERS[suffix](path), _messages(frames))
    recording = open_recording(path)
    assert recording.format == FORMATS[suffix]
    assert sum(1 for _ in recording) == len(frames)
    for sut in SIDES:
        assert verdicts(check_log(path, sut, "2015", f"gbt27930/{sut}")) == expected[sut], sut


def test_the_gbk_export_as_the_analyser_wrote_it_reads_the_same(tmp_path, frames, expected):
    gbk = tmp_path / "charger-capture.gbk.csv"
    # the shared GBK file is exactly the UTF-8 capture encoded as GBK (checked when present)
    gbk.write_bytes(CAPTURE.read_text(encoding="utf-8").encode("gbk"))
    if GBK_CAPTURE.is_file():
        assert gbk.read_bytes() == GBK_CAPTURE.read_bytes()
    recording = open_recording(gbk)
    assert recording.encoding == "gb18030"
    assert [(f.can_id, f.data, f.t) for f in recording] == [(f.can_id, f.data, f.t) for f in frames]
    assert verdicts(check_log(gbk, "charger", "2015", "p")) == expected["charger"]


def _table(frames: list[LogFrame], sep: str, time: str) -> str:
    header = sep.join(
        ["序号", "传输方向", "时间标识", "帧ID", "帧格式", "帧类型", "数据长度", "数据(HEX)"]
    )
    rows = [header]
    for f in frames:
        stamp = f"0x{round(f.t * 10000):08x}" if time == "hex" else f"{f.t:.3f}"
        rows.append(
            sep.join(
                [
                    str(f.index),
                    "接收",
                    stamp,
                    f"0x{f.can_id:08x}",
                    "扩展帧",
                    "数据帧",
                    f"0x{len(f.data):02x}",
                    " ".join(f"{b:02x}" for b in f.data),
                ]
            )
        )
    return "\n".join(rows) + "\n"


@pytest.mark.parametrize(
    ("sep", "time", "encoding"),
    [(" ", "hex", "gbk"), ("\t", "hex", "utf-8"), (",", "seconds", "gbk"), ("  ", "hex", "utf-8")],
)
def test_usb_can_analyser_text_exports_read_the_same(
    tmp_path, frames, expected, sep, time, encoding
):
    path = tmp_path / "export.txt"
    path.write_bytes(_table(frames, sep, time).encode(encoding))
    got = list(open_recording(path))
    assert [(f.can_id, f.data) for f in got] == [(f.can_id, f.data) for f in frames]
    assert all(math.isclose(a.t, b.t, abs_tol=1e-4) for a, b in zip(got, frames, strict=True))
    assert verdicts(check_log(path, "charger", "2015", "p")) == expected["charger"]


def test_a_usb_can_tool_export_with_system_time_and_x_bar_data_reads_the_same(
    tmp_path, frames, expected
):
    header = "序号\t传输方向\t系统时间\t时间标识\t帧ID\t帧格式\t帧类型\t数据长度\t数据(HEX)"
    rows = [
        f"{f.index}\t接收\t17:20:13.342\t0x{round(f.t * 10000):08X}\t0x{f.can_id:08X}"
        f"\t扩展帧\t数据帧\t0x{len(f.data):02X}\tx| {f.data.hex(' ').upper()}"
        for f in frames
    ]
    path = tmp_path / "usbcan.txt"
    path.write_bytes(("\n".join([header, *rows]) + "\n").encode("gbk"))
    got = list(open_recording(path))
    assert [(f.can_id, f.data) for f in got] == [(f.can_id, f.data) for f in frames]
    assert got[1].t == pytest.approx(frames[1].t, abs=1e-4)  # 时间标识, not 系统时间
    assert verdicts(check_log(path, "charger", "2015", "p")) == expected["charger"]


def test_plain_candump_with_time_stamps_reads_the_same(tmp_path, frames, expected):
    path = tmp_path / "plain.txt"
    path.write_text(
        "".join(
            f"({f.t:.6f})  can0  {f.can_id:08X}   [{len(f.data)}]  {f.data.hex(' ').upper()}\n"
            for f in frames
        )
    )
    assert open_recording(path).format == "candump (plain)"
    assert verdicts(check_log(path, "charger", "2015", "p")) == expected["charger"]


def test_plain_candump_without_time_stamps_judges_no_period(tmp_path, frames):
    path = tmp_path / "plain.txt"
    path.write_text(
        "".join(
            f"  can0  {f.can_id:08X}   [{len(f.data)}]  {f.data.hex(' ').upper()}\n" for f in frames
        )
    )
    checked = check_recording(path, "charger", "2015", "p")
    periods = [c for c in checked.cases if c["id"].endswith(".period")]
    assert periods and {c["verdict"] for c in periods} == {"na"}
    assert all("no usable time stamps" in c["reason"] for c in periods)
    assert checked.recording["span_s"] is None
    formats = [c for c in checked.cases if c["id"].endswith(".format")]
    assert {c["verdict"] for c in formats} == {"pass"}


def test_the_channel_filter_keeps_one_channel_of_an_asc(tmp_path, frames, expected):
    noise = [
        can.Message(timestamp=f.t, arbitration_id=0x18FF0102, data=b"\x00" * 8, channel=1)
        for f in frames[::3]
    ]
    merged = sorted(_messages(frames, channel=0) + noise, key=lambda m: m.timestamp)
    path = tmp_path / "two.asc"
    _write(can.ASCWriter(path), merged)
    assert verdicts(check_log(path, "charger", "2015", "p", channel="1")) == expected["charger"]
    both = check_recording(path, "charger", "2015", "p")
    frames_case = next(c for c in both.cases if c["id"] == "log:frames")
    assert frames_case["verdict"] == "pass"
    assert "not part of the conversation" in frames_case["steps"][0]["observed"]
    with pytest.raises(LogFormatError, match=r"no frame on channel 7 \(channels: 1, 2\)"):
        check_log(path, "charger", "2015", "p", channel="7")
    # an analyser table has no channel column: the reason says so, not an empty list
    with pytest.raises(LogFormatError, match=r"no frame on channel 7 \(it names no channel\)"):
        check_log(CAPTURE, "charger", "2015", "p", channel="7")


def test_can_fd_lines_of_an_asc_are_read(tmp_path, frames, expected):
    messages = _messages(frames)
    for m in messages[::2]:
        m.is_fd = True
    path = tmp_path / "fd.asc"
    _write(can.ASCWriter(path), messages)
    assert "CANFD" in path.read_text()
    assert verdicts(check_log(path, "charger", "2015", "p")) == expected["charger"]


# -- what cannot be read -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("", "empty file"),
        ("hello world\nthis is no recording\n", r"line 1: not a recording .*tried candump log"),
        (
            "(1.0) can0 1826F456#010100\n(1.1) can0 1826F4",
            r"line 2: read as candump log: not a candump log line",
        ),
        ("(1.0) can0 1826F456#010100\n(1.1) can0 1826F456#01010", r"line 2: .*bad data"),
        (
            "  can0  1826F456   [3]  01 01 00\n  can0  1826F456   [3]  01 01\n",
            r"line 2: read as candump \(plain\): \[3\] but 2 data bytes",
        ),
        (
            "序号,帧ID,时间标识,长度,数据(Hex)\n0,0x1826F456,54:16.5,3,01 01 00\n1,0x1826F4",
            r"line 3: read as analyser table: .*truncated",
        ),
    ],
)
def test_an_unreadable_file_names_the_line_and_the_format_tried(tmp_path, content, match):
    path = tmp_path / "bad.log"
    path.write_text(content)
    with pytest.raises(LogFormatError, match=match):
        check_log(path, "charger", "2015", "p")


def test_a_truncated_asc_line_is_refused(tmp_path, frames):
    path = tmp_path / "cut.asc"
    _write(can.ASCWriter(path), _messages(frames[:20]))
    lines = path.read_text().splitlines()
    last = max(i for i, line in enumerate(lines) if "Rx" in line)
    lines[last] = lines[last][: lines[last].rindex(" ")]
    path.write_text("\n".join(lines[: last + 1]) + "\n")
    with pytest.raises(LogFormatError, match=rf"line {last + 1}: read as Vector ASC: "):
        check_log(path, "charger", "2015", "p")


def test_a_truncated_blf_is_refused(tmp_path, frames):
    path = tmp_path / "cut.blf"
    _write(can.BLFWriter(path), _messages(frames))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 300])
    with pytest.raises(LogFormatError, match=r"read as Vector BLF: .*truncated"):
        check_log(path, "charger", "2015", "p")
