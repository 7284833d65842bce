"""The one error type for bad input: it names the file, the place in it and what was expected.

Readers raise `ExtractError` for every expected problem with a download or a manifest, so the
CLI and Dagster can print one line instead of a traceback.
"""

from __future__ import annotations


class ExtractError(Exception):
    """Bad input: `file` and `where` locate it, `expected`/`found` say what is wrong."""

    def __init__(self, file: object, where: str, expected: str, found: object) -> None:
        self.file = str(file)
        self.where = where
        self.expected = expected
        self.found = found if isinstance(found, str) else repr(found)
        super().__init__(str(self))

    def __str__(self) -> str:
        message = f"{self.file}: {self.where}: expected {self.expected}, found {self.found}"
        # One line, whatever the cell held (quoted notes can span lines).
        return message.replace("\r\n", " ").replace("\n", " ").replace("\r", " ")

    def __reduce__(self):  # keep the error picklable across Dagster processes
        return (type(self), (self.file, self.where, self.expected, self.found))


class ManifestError(ExtractError):
    """A problem in an edition's manifest.yml (or the folder it describes)."""


class ManifestProblems(ManifestError):
    """Several problems of one manifest, found in one pass: one ManifestError a line. Its own
    file, where, expected and found are the first problem's (callers that show one keep working)."""

    def __init__(self, problems: list[ManifestError]) -> None:
        self.problems = list(problems)
        first = self.problems[0]
        super().__init__(first.file, first.where, first.expected, first.found)

    def __str__(self) -> str:
        return "\n".join(ExtractError.__str__(problem) for problem in self.problems)

    def __reduce__(self):
        return (type(self), (self.problems,))
