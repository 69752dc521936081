"""Where the cases and profiles come from: ``--root``, a checkout, the installed package's
content, and a vendor's own content folders (``--content``, a descriptor's ``content:``)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pile_interop.core.config import ContentRoot, find_root, load_profile
from pile_interop.core.errors import ConfigError, UsageError
from pile_interop.scenario.loader import CaseLibrary

ROOT = Path(__file__).resolve().parents[2]


def _content(folder: Path, case: str = "TC_003_CS") -> Path:
    """A content folder laid out as the suite's: one profile, one case."""
    (folder / "profiles" / "x").mkdir(parents=True)
    (folder / "profiles" / "x" / "one.yaml").write_text("id: x/one\n")
    (folder / "conformance" / "cs").mkdir(parents=True)
    shutil.copy(ROOT / "conformance" / "ocpp16" / "cs" / f"{case}.yaml", folder / "conformance/cs")
    return folder


def _installed(tmp_path: Path) -> Path:
    """A package folder as a wheel installs it: pile_interop/ with its _content/."""
    package = tmp_path / "site-packages" / "pile_interop"
    _content(package / "_content")
    return package


def test_an_installed_package_reads_the_content_it_carries(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    root = find_root(start=empty, package=_installed(tmp_path))
    assert root.path == tmp_path / "site-packages" / "pile_interop" / "_content"
    assert root.profile_ids() == ["x/one"]
    assert CaseLibrary(*root.case_folders).ids() == ["TC_003_CS"]


def test_a_checkout_above_the_cwd_comes_before_the_installed_content(tmp_path):
    checkout = _content(tmp_path / "checkout")
    (checkout / "src" / "pile_interop").mkdir(parents=True)
    below = checkout / "docs" / "deep"
    below.mkdir(parents=True)
    assert find_root(start=below, package=_installed(tmp_path)).path == checkout


def test_an_editable_install_reads_the_checkout_it_was_installed_from(tmp_path):
    checkout = _content(tmp_path / "checkout")
    package = checkout / "src" / "pile_interop"
    package.mkdir(parents=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert find_root(start=elsewhere, package=package).path == checkout


def test_a_vendor_repository_with_profiles_and_conformance_is_no_checkout(tmp_path):
    """Its folders are the vendor's content (``--content .``), not the suite's root."""
    vendor = _content(tmp_path / "vendor", case="TC_040_1_CS")
    root = find_root(start=vendor, package=_installed(tmp_path))
    assert root.path.name == "_content"
    assert root.extra == ()


def test_no_content_anywhere_is_a_usage_error_naming_root(tmp_path):
    package = tmp_path / "site-packages" / "pile_interop"
    package.mkdir(parents=True)
    with pytest.raises(UsageError, match=r"carries none .* pass --root"):
        find_root(start=tmp_path, package=package)


def test_an_explicit_root_must_hold_profiles_and_conformance(tmp_path):
    assert find_root(ROOT).path == ROOT
    with pytest.raises(UsageError, match=r"--root .*: no profiles/ and conformance/"):
        find_root(tmp_path)


def test_content_folders_add_their_profiles_and_cases(tmp_path):
    vendor = tmp_path / "vendor"
    (vendor / "profiles" / "acme").mkdir(parents=True)
    (vendor / "profiles" / "acme" / "smoke.yaml").write_text("id: acme/smoke\n")
    (vendor / "conformance").mkdir()
    (vendor / "conformance" / "ACME_1.yaml").write_text("id: ACME_1\n")
    root = find_root(ROOT, content=[vendor])
    assert "acme/smoke" in root.profile_ids() and "ocpp16/core-cs" in root.profile_ids()
    assert root.profile_path("acme/smoke") == vendor / "profiles/acme/smoke.yaml"
    library = CaseLibrary(*root.case_folders)
    assert library.paths["ACME_1"] == vendor / "conformance/ACME_1.yaml"
    assert "TC_001_CS" in library.ids()
    assert root.shown(library.paths["TC_001_CS"]) == "conformance/ocpp16/cs/TC_001_CS.yaml"
    assert root.shown(library.paths["ACME_1"]) == str(vendor / "conformance/ACME_1.yaml")
    # the suite's own profiles still load from the root
    assert load_profile(root.profile_path("ocpp16/core-cs")).id == "ocpp16/core-cs"


def test_a_descriptor_adds_content_folders_relative_to_itself(tmp_path):
    vendor = _content(tmp_path / "repo" / "pile", case="TC_040_1_CS")
    device = tmp_path / "repo" / "devices" / "station.yaml"
    device.parent.mkdir()
    device.write_text("role: cs\nocpp: '1.6'\ncontent: [../pile]\n")
    root = find_root(ROOT, device=device)
    assert root.extra == (vendor,)
    assert root.profile_path("x/one") == vendor / "profiles/x/one.yaml"


@pytest.mark.parametrize("where", ["option", "descriptor"])
def test_a_content_folder_without_profiles_or_conformance_is_a_usage_error(tmp_path, where):
    (tmp_path / "nothing").mkdir()
    if where == "option":
        with pytest.raises(UsageError, match=r"--content .*nothing: no profiles/ or conformance/"):
            find_root(ROOT, content=[tmp_path / "nothing"])
    else:
        device = tmp_path / "station.yaml"
        device.write_text("role: cs\nocpp: '1.6'\ncontent: [nothing]\n")
        with pytest.raises(UsageError, match=r"station.yaml: content: .*nothing: no profiles/"):
            find_root(ROOT, device=device)


def test_a_profile_or_case_defined_twice_is_named(tmp_path):
    one, two = _content(tmp_path / "one"), _content(tmp_path / "two")
    root = ContentRoot(ROOT).with_content([one, two])
    with pytest.raises(UsageError, match="profile 'x/one' is defined twice"):
        root.profile_path("x/one")
    with pytest.raises(ConfigError, match="case TC_003_CS also defined in"):
        CaseLibrary(*root.case_folders)


def test_an_unknown_profile_lists_the_known_ones_of_every_folder(tmp_path):
    root = ContentRoot(ROOT).with_content([_content(tmp_path / "v", case="TC_040_1_CS")])
    with pytest.raises(
        UsageError, match=r"unknown profile 'nope' \(known: .*ocpp16/core-cs.*x/one"
    ):
        root.profile_path("nope")


def test_a_profile_path_is_read_from_the_root_else_from_the_content_folder_that_has_it(tmp_path):
    vendor = _content(tmp_path / "vendor")
    (vendor / "fixtures" / "devices").mkdir(parents=True)
    (vendor / "fixtures" / "devices" / "acme-ref.yaml").write_text("role: cs\n")
    root = ContentRoot(ROOT).with_content([vendor])
    assert (
        root.resolve("fixtures/devices/acme-ref.yaml") == vendor / "fixtures/devices/acme-ref.yaml"
    )
    ref16 = "fixtures/devices/reference-station16.yaml"
    assert root.resolve(ref16) == ROOT / ref16
    assert root.resolve("fixtures/none.yaml") == ROOT / "fixtures/none.yaml"  # named as missing
