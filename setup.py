"""The build: ``pyproject.toml`` holds the whole configuration; this only adds the suite's
content to the wheel.

The repository keeps ``conformance/``, ``profiles/`` and ``fixtures/`` at its top (cases,
certification profiles, device descriptors); a wheel carries them as the package data
``pile_interop/_content/``, where :func:`pile_interop.core.config.find_root` finds them when no
checkout is at hand. An editable install (``tox``, ``pip install -e .``) copies nothing: it reads
them from the checkout it was installed from.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

#: the top-level folders a wheel carries, below ``pile_interop/_content/``
CONTENT = ("conformance", "profiles", "fixtures")


class BuildPyWithContent(build_py):
    """``build_py`` that also copies :data:`CONTENT` into the built package."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        here = Path(__file__).resolve().parent
        target = Path(self.build_lib) / "pile_interop" / "_content"
        for name in CONTENT:
            self.copy_tree(str(here / name), str(target / name))


setup(cmdclass={"build_py": BuildPyWithContent})
