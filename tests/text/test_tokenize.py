import random

import pytest

from nextedit.text.tokenize import comparison_units, tokenize


@pytest.mark.parametrize(
    "text, expected",
    [
        ("myHTTPServer __private_value foo__bar", "my|HTTP|Server| |__|private|_|value| |foo|__|bar"),
        ("XMLHttpRequest Version2Update", "XML|Http|Request| |Version2|Update"),
        ("snake_case_name", "snake|_|case|_|name"),
        ("ABC", "ABC"),
        ("getX", "get|X"),
        ("x1y2Z", "x1y2|Z"),
    ],
)
def test_identifier_splitting_vectors(text, expected):
    assert "|".join(tokenize(text)) == expected


def test_whitespace_newlines_and_operators():
    assert tokenize("a >>>= b::c->d\r\n\n  x...y") == [
        "a", " ", ">>>=", " ", "b", "::", "c", "->", "d", "\r\n\n", "  ", "x", "...", "y",
    ]  # fmt: skip
    # Greedy longest operator, else single characters.
    assert tokenize("a?.b??=c") == ["a", "?.", "b", "??=", "c"]
    assert tokenize("(){};") == ["(", ")", "{", "}", ";"]
    assert tokenize("x /* y */ // z") == ["x", " ", "/*", " ", "y", " ", "*/", " ", "//", " ", "z"]
    # Tabs are whitespace, not newlines; newline runs mix \r and \n.
    assert tokenize("\t \n\r\n") == ["\t ", "\n\r\n"]


def test_unicode_identifiers():
    assert tokenize("größe = naïveValue") == ["größe", " ", "=", " ", "naïve", "Value"]


def test_comparison_units_rejoin_identifiers():
    assert comparison_units("myHTTPServer __private_value foo__bar+=1") == [
        "myHTTPServer", " ", "__private_value", " ", "foo__bar", "+=", "1",
    ]  # fmt: skip


def test_tokens_concatenate_back_and_units_are_rejoined_tokens():
    rng = random.Random(5)
    alphabet = "aZ_09 \t\n\r+-=<>.:?/*(){}é"
    for _ in range(500):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        toks = tokenize(text)
        assert "".join(toks) == text
        assert all(toks)
        units = comparison_units(text)
        assert "".join(units) == text
        # Units never split inside an identifier run, tokens refine units.
        joined: list[str] = []
        for t in toks:
            ident = t[0].isalnum() or t[0] == "_"
            if ident and joined and (joined[-1][-1].isalnum() or joined[-1][-1] == "_"):
                joined[-1] += t
            else:
                joined.append(t)
        assert joined == units
