"""The one stylesheet stays well formed: a block left open (a lost "}" in a merge) silently puts
every later rule inside it, e.g. inside a media query for large screens only."""

import re
from pathlib import Path

STYLESHEET = Path(__file__).resolve().parents[1] / "static" / "css" / "steward.css"


def test_every_block_of_the_stylesheet_is_closed():
    text = re.sub(r"/\*.*?\*/", "", STYLESHEET.read_text(), flags=re.S)
    depth, unclosed = 0, []
    for number, line in enumerate(text.split("\n"), 1):
        for char in line:
            if char == "{":
                depth += 1
                unclosed.append(number)
            elif char == "}":
                assert depth > 0, f"a closing brace without its block on line {number}"
                depth -= 1
                unclosed.pop()
    assert not unclosed, f"blocks opened on lines {unclosed} are never closed"
