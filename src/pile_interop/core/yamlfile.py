"""Load YAML configuration checked against a JSON Schema, with errors that name file and line."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from pile_interop.core.errors import ConfigError

log = logging.getLogger(__name__)


@cache
def schema_validator(package: str, name: str) -> Draft202012Validator:
    """The validator for the JSON Schema ``name`` shipped in ``package``."""
    text = resources.files(package).joinpath(name).read_text(encoding="utf-8")
    schema = json.loads(text)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _node_at(node: yaml.Node | None, path: Iterable[Any]) -> yaml.Node | None:
    """The YAML node at a JSON path, as deep as the path can be followed."""
    for key in path:
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if key_node.value == key:
                    node = value_node
                    break
            else:
                return node
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int):
            if key >= len(node.value):
                return node
            node = node.value[key]
        else:
            return node
    return node


def line_of(node: yaml.Node | None, path: Iterable[Any]) -> int | None:
    """1-based line of the value at ``path`` in a composed YAML document."""
    found = _node_at(node, path)
    return found.start_mark.line + 1 if found is not None else None


def _describe(error: ValidationError) -> str:
    where = ".".join(str(p) for p in error.absolute_path)
    return f"{where}: {error.message}" if where else error.message


class YamlDocument:
    """One YAML document: its data plus the node tree, to map paths back to lines."""

    def __init__(self, path: Path, data: Any, root: yaml.Node | None) -> None:
        self.path = path
        self.data = data
        self.root = root

    def line(self, *path: Any) -> int | None:
        return line_of(self.root, path)

    def error(self, message: str, *path: Any) -> ConfigError:
        return ConfigError(self.path, message, self.line(*path))

    def validate(self, validator: Draft202012Validator, what: str) -> None:
        error = best_match(validator.iter_errors(self.data))
        if error is not None:
            raise ConfigError(
                self.path, f"invalid {what}: {_describe(error)}", self.line(*error.absolute_path)
            )


def read_yaml(path: str | Path, *, text: str | None = None) -> YamlDocument:
    """Read one YAML document; any problem becomes a :class:`ConfigError` naming file and line."""
    path = Path(path)
    if text is None:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(path, "no such file") from None
        except IsADirectoryError:
            raise ConfigError(path, "is a directory, expected a YAML file") from None
        except UnicodeDecodeError as exc:
            raise ConfigError(path, f"not UTF-8 text ({exc.reason})") from None
        except OSError as exc:
            raise ConfigError(path, f"cannot read: {exc.strerror}") from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "malformed YAML"
        raise ConfigError(path, f"malformed YAML: {problem}", line) from None
    except yaml.YAMLError as exc:
        raise ConfigError(path, f"malformed YAML: {exc}") from None
    except (ValueError, TypeError, RecursionError) as exc:
        # e.g. a timestamp PyYAML cannot build, or pathological nesting
        raise ConfigError(path, f"malformed YAML: {exc}") from None
    return YamlDocument(path, data, root)


def load_checked(
    path: str | Path, package: str, schema: str, what: str, *, text: str | None = None
) -> YamlDocument:
    """Read ``path`` and check it against the JSON Schema ``schema`` of ``package``."""
    doc = read_yaml(path, text=text)
    doc.validate(schema_validator(package, schema), what)
    return doc
