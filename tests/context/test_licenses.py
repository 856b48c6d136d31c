"""Open-source detection by licence file (§6.3): the rules, and the loader's in_open_source_repo."""

from __future__ import annotations

import pytest

from nextedit.context.licenses import LICENSE_FILE_RE, is_open_source, license_kind
from nextedit.context.project import load_project
from nextedit.schema.request import Zeta2PromptInput
from tests.context.conftest import git, write_tree
from tests.context.test_project import MODELS, STOCK, make_example

MIT = """MIT License

Copyright (c) 2024 Acme

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
"""
APACHE = (
    "                                 Apache License\n                           Version 2.0, January 2004\n"
)
ISC = (
    "Permission to use, copy, modify, and/or distribute this software for any purpose\nwith or without fee..."
)
BSD3 = (
    "Redistribution and use in source and binary forms, with or without\n"
    "modification, are permitted provided that the following conditions are met:"
)
GPL = "GNU GENERAL PUBLIC LICENSE\nVersion 3, 29 June 2007\nPermission is hereby granted ... Redistribution"


@pytest.mark.parametrize(
    "name", ["LICENSE", "LICENCE", "license.md", "LICENSE.txt", "LICENSE-MIT", "LICENSE.ISC", "LICENSE-APACHE-2.0",
             "LICENSE-BSD-3-CLAUSE", "LICENSE-APACHE"],
)  # fmt: skip
def test_licence_file_names(name: str) -> None:
    assert LICENSE_FILE_RE.match(name)


@pytest.mark.parametrize("name", ["COPYING", "LICENSE-GPL", "LICENSES", "my-LICENSE", "LICENSE.rst.bak"])
def test_other_names(name: str) -> None:
    assert not LICENSE_FILE_RE.match(name)


def test_licence_texts() -> None:
    assert license_kind(MIT) == "MIT" and license_kind(APACHE) == "Apache-2.0"
    assert license_kind(ISC) == "ISC/0BSD" and license_kind(BSD3) == "BSD"
    assert license_kind(GPL) is None and license_kind("All rights reserved.") is None
    files = {"LICENSE-MIT": MIT, "README.md": MIT}
    assert is_open_source(files, files.get)
    assert not is_open_source({"README.md": MIT}, {"README.md": MIT}.get)  # only licence files count
    assert not is_open_source({"LICENSE": GPL}, {"LICENSE": GPL}.get)


@pytest.mark.parametrize("licence", [MIT, GPL, None])
def test_loader_sets_in_open_source_repo(tmp_path, licence) -> None:  # noqa: ANN001
    files = {"inventory/stock.py": STOCK, "inventory/models.py": MODELS}
    if licence is not None:
        files["LICENSE"] = licence
    repo = write_tree(tmp_path / "repos" / "acme" / "inventory", files)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "init")
    ex = load_project(make_example(git(repo, "rev-parse", "HEAD")), tmp_path / "repos")
    assert not ex.tags, ex.tags
    assert Zeta2PromptInput.from_json(ex.prompt_inputs).in_open_source_repo is (licence is MIT)
