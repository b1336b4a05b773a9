"""Build the addon's README.rst from its readme/ fragments, as OCA's
oca-gen-addon-readme does (DESCRIPTION, CONFIGURE, USAGE, ROADMAP,
CONTRIBUTORS). The fragments are plain Markdown paragraphs and lists; the
few inline forms they use are turned into reStructuredText.

    python tools/readme_rst.py          # write vita_subscriptions/README.rst
    python tools/readme_rst.py --check  # fail if it is not up to date (lint)
"""

import ast
import pathlib
import re
import sys

ADDON = pathlib.Path(__file__).resolve().parent.parent / "vita_subscriptions"
SECTIONS = [
    ("DESCRIPTION.md", None),
    ("CONFIGURE.md", "Configuration"),
    ("USAGE.md", "Usage"),
    ("ROADMAP.md", "Known issues / Roadmap"),
    ("CONTRIBUTORS.md", "Contributors"),
]


def to_rst(markdown):
    text = re.sub(r"\[([^\]]+)\]\(([^)]+)\)", r"`\1 <\2>`_", markdown)  # links
    text = re.sub(r"(?<!`)`([^`]+)`(?!`)", r"``\1``", text)  # inline code
    return text.strip() + "\n"


def heading(title, char):
    return f"{title}\n{char * len(title)}\n\n"


def build():
    manifest = ast.literal_eval((ADDON / "__manifest__.py").read_text())
    name = manifest["name"]
    parts = ["=" * len(name) + "\n" + name + "\n" + "=" * len(name) + "\n\n"]
    badge = manifest["license"].replace("-", "--")  # shields.io escapes a dash by doubling it
    parts.append(f".. |license| image:: https://img.shields.io/badge/licence-{badge}-blue.png\n")
    parts.append(f"   :alt: License: {manifest['license']}\n\n|license|\n\n")
    parts.append(f"{manifest['summary']}.\n\n.. contents::\n   :local:\n\n")
    for filename, title in SECTIONS:
        path = ADDON / "readme" / filename
        if not path.exists():
            continue
        if title:
            parts.append(heading(title, "="))
        parts.append(to_rst(path.read_text()) + "\n")
    parts.append(heading("Credits", "="))
    parts.append(heading("Authors", "~") + f"* {manifest['author']}\n")
    return "".join(parts)


def main():
    target = ADDON / "README.rst"
    text = build()
    if "--check" in sys.argv[1:]:
        if not target.exists() or target.read_text() != text:
            sys.exit("vita_subscriptions/README.rst is not up to date: run python tools/readme_rst.py")
        return
    target.write_text(text)


if __name__ == "__main__":
    main()
