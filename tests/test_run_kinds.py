"""The registry of runner kinds: system files are checked against the fields each kind
declares, an unknown kind is one line naming the known ones, and `recenter run --help` lists
what is in the systems folder and the registry."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from recenter_bench.cli import main
from recenter_bench.errors import UserError
from recenter_bench.run import kinds as kinds_module
from recenter_bench.run.kinds import get_kind, kinds, register_kind
from recenter_bench.run.systems import COMMON_FIELDS, FIELDS, SYSTEMS_DIR, load_system

SHIPPED = sorted(SYSTEMS_DIR.glob("*.yaml"))


def _system(tmp_path: Path, text: str) -> str:
    path = tmp_path / "mine.yaml"
    path.write_text(text)
    return str(path)


def test_every_shipped_system_names_a_registered_kind_and_its_fields() -> None:
    for path in SHIPPED:
        data = yaml.safe_load(path.read_text())
        kind = get_kind(data["kind"])
        assert set(data) - set(COMMON_FIELDS) <= set(kind.fields), path
        system = load_system(path.stem)
        assert system.metadata_type == kind.metadata_type
        assert bool(system.trained_on) == kind.fitted


def test_every_declared_field_has_a_check() -> None:
    for kind in kinds().values():
        assert set(kind.fields) <= set(FIELDS), kind.name


def test_an_unknown_kind_is_one_line_naming_the_known_ones(tmp_path: Path, capsys) -> None:
    path = _system(tmp_path, "kind: bm52\nstage: pairing\ndescription: mine\n")
    out = tmp_path / "acme__x" / "v1"
    assert main(["run", "pairing", "--system", path, "--out", str(out)]) == 1
    err = capsys.readouterr().err
    known = ", ".join(sorted(kinds()))
    assert err == f"error: {path}:1: kind: unknown kind 'bm52' (known: {known})\n"
    assert {"bm25", "llm-judge", "embedding-classifier", "embedding-similarity"} <= set(kinds())
    assert not out.exists()


def test_a_field_of_another_kind_is_refused(tmp_path: Path) -> None:
    path = _system(tmp_path, "kind: bm25\nstage: pairing\ndescription: mine\nprefixes: ['a']\n")
    with pytest.raises(UserError, match=r"mine.yaml:4: prefixes: not a field of a bm25 system$"):
        load_system(path)


def test_a_registered_kind_is_usable_from_a_system_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kinds_module, "_REGISTRY", dict(kinds_module._REGISTRY))
    register_kind(
        "my-kind",
        fields=("seed",),
        extra="run",
        metadata_type="retrieval",
        fitted=True,
        summary="a test kind",
    )(lambda *args: None)
    system = load_system(
        _system(tmp_path, "kind: my-kind\nstage: pairing\ndescription: m\nseed: 3\n")
    )
    assert system.get("seed") == 3 and system.trained_on == ["train"]
    with pytest.raises(UserError, match="not a field of a my-kind system"):
        load_system(_system(tmp_path, "kind: my-kind\nstage: pairing\ndescription: m\nepochs: 3\n"))


def test_run_help_lists_the_systems_folder_and_the_registry(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    printed = capsys.readouterr().out
    for path in SHIPPED:
        kind = yaml.safe_load(path.read_text())["kind"]
        assert f"  {path.stem} [{kind}, extra: {get_kind(kind).extra}]" in printed
    for name, kind in kinds().items():
        assert f"  {name}: {kind.summary}" in " ".join(printed.split("\n      "))
